//! Answers checked against the OpenAPI document: the status must be one the operation lists,
//! and a JSON body must validate against the schema documented for that status (formats
//! asserted). Used wherever a test already sends real requests (the authorization matrix sends
//! every operation as ten kinds of caller), so the document cannot drift from the server.

use std::collections::HashMap;

use serde_json::{json, Value};

pub struct DocumentedResponses {
    doc: Value,
    validators: HashMap<String, jsonschema::Validator>,
    /// Answers seen: (operation, status), to report what was covered.
    pub checked: std::collections::BTreeSet<(String, u16)>,
}

impl DocumentedResponses {
    pub fn new(doc: Value) -> Self {
        Self {
            doc,
            validators: HashMap::new(),
            checked: Default::default(),
        }
    }

    /// `Err` with what differs from the document; `method` upper-case, `template` the
    /// document's path.
    pub fn check(
        &mut self,
        method: &str,
        template: &str,
        status: u16,
        content_type: &str,
        body: &str,
    ) -> Result<(), String> {
        let op = &self.doc["paths"][template][method.to_lowercase()];
        if op.is_null() {
            return Err(format!("{method} {template} is not in the document"));
        }
        let response = &op["responses"][status.to_string()];
        if response.is_null() {
            return Err(format!(
                "{method} {template} answered {status}, which the document does not list: {}",
                &body[..body.len().min(200)]
            ));
        }
        self.checked
            .insert((format!("{method} {template}"), status));
        if body.is_empty() || !content_type.contains("json") {
            return Ok(());
        }
        let media = content_type.split(';').next().unwrap_or("").trim();
        let Some(schema) = response["content"][media]["schema"].as_object() else {
            return Err(format!(
                "{method} {template} {status}: answered {media}, which the document does not list"
            ));
        };
        let instance: Value = serde_json::from_str(body)
            .map_err(|e| format!("{method} {template} {status}: not JSON ({e}): {body}"))?;
        let key = format!("{method} {template} {status} {media}");
        if !self.validators.contains_key(&key) {
            // The schema sits in a copy of the document so that its `$ref`s resolve.
            let mut root = json!({ "components": self.doc["components"].clone() });
            for (k, v) in schema {
                root[k] = v.clone();
            }
            let validator = jsonschema::draft202012::options()
                .should_validate_formats(true)
                .build(&root)
                .map_err(|e| format!("{key}: schema does not compile: {e}"))?;
            self.validators.insert(key.clone(), validator);
        }
        let validator = &self.validators[&key];
        let errors: Vec<String> = validator
            .iter_errors(&instance)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{key}: the body does not match the documented schema: {}\nbody: {}",
                errors.join("; "),
                &body[..body.len().min(600)]
            ))
        }
    }
}

/// Examples for the OpenAPI document, from real answers: per operation the request body of its
/// first success and the first answer of each status. Credentials in them are replaced by
/// same-shaped placeholders and the test server's address by a public-looking one.
#[derive(Default)]
pub struct RecordedExamples {
    entries: std::collections::BTreeMap<String, Value>,
}

impl RecordedExamples {
    pub fn record(&mut self, operation: &str, request: Option<&Value>, status: u16, body: &str) {
        // Documents of their own (this document, a JSON Schema) would make poor examples, and
        // the document would grow by itself each time it is recorded.
        if operation == "GET /openapi.json" || operation.contains("/schema/") {
            return;
        }
        let Ok(answer) = serde_json::from_str::<Value>(body) else {
            return;
        };
        let entry = self
            .entries
            .entry(operation.to_owned())
            .or_insert_with(|| json!({ "responses": {} }));
        if (200..300).contains(&status) && entry.get("request").is_none() {
            if let Some(request) = request {
                entry["request"] = scrubbed(request.clone());
            }
        }
        let responses = entry["responses"].as_object_mut().expect("responses");
        responses
            .entry(status.to_string())
            .or_insert_with(|| scrubbed(answer));
    }

    pub fn write(&self, path: &std::path::Path) {
        let mut text = serde_json::to_string_pretty(&self.entries).expect("json");
        text.push('\n');
        std::fs::write(path, text).expect("write examples");
    }
}

fn scrubbed(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, scrubbed(v))).collect())
        }
        // Two items show a list's shape.
        Value::Array(items) => Value::Array(items.into_iter().take(2).map(scrubbed).collect()),
        Value::String(s) => Value::String(scrubbed_text(&s)),
        other => other,
    }
}

fn scrubbed_text(s: &str) -> String {
    const PLACEHOLDERS: [(&str, &str); 4] = [
        (
            "tnt_live_",
            "tnt_live_01hqxyz0000000000000000000_EXAMPLEexampleEXAMPLEexampleEXAMPLEexample0",
        ),
        (
            "tnt_ses_",
            "tnt_ses_01hqxyz0000000000000000000_EXAMPLEexampleEXAMPLEexampleEXAMPLEexample0",
        ),
        (
            "tnt_op_",
            "tnt_op_EXAMPLEexampleEXAMPLEexampleEXAMPLEexample00",
        ),
        ("whsec_", "whsec_EXAMPLEexampleEXAMPLEexample00000000"),
    ];
    for (prefix, placeholder) in PLACEHOLDERS {
        if s.starts_with(prefix) {
            return placeholder.to_owned();
        }
    }
    match s.find("http://127.0.0.1:") {
        Some(at) => {
            let rest = &s[at + "http://127.0.0.1:".len()..];
            let path = rest.find('/').map_or("", |i| &rest[i..]);
            format!("{}https://tenantry.example.com{path}", &s[..at])
        }
        None => s.to_owned(),
    }
}
