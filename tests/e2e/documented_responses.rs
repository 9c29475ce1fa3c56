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
        let mut response = &op["responses"][status.to_string()];
        if response.is_null() {
            response = &op["responses"]["default"];
        }
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
