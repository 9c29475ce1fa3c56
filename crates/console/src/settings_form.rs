//! A settings section as an HTML form: its fields read from the section's JSON Schema (the one
//! the API publishes at `/v2/accounts/settings/schema/{section}`), and a posted form turned
//! back into the section's document for the service's write.
//!
//! The schema is the one list of what a section holds, its types, ranges and closed sets, so
//! the form cannot drift from what the API accepts: a boolean is a checkbox, a number an input
//! with the schema's range as `min`/`max`, a closed set a select (or boxes to tick for a list
//! of them), a free list a textarea with one entry per line, a list of objects a group of
//! fields per item plus one empty item to add. Form names are the service's field paths
//! (`api_access.max_api_keys`, `cost_alerts[0].period`), so its field errors land beside the
//! field they name.
//!
//! Parsing the form only turns text into JSON values (a number's digits into a number, a line
//! per entry into a list); every rule about the values is the service's. Secrets are
//! write-only: an empty secret input is left out of the document, and a field left out of a
//! section write keeps its value (merge-patch semantics; a registry sent without its token
//! keeps the stored one of the same registry).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// What kind of input a field is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    Bool,
    /// A whole number in the schema's range; `nullable`: empty means none.
    Integer {
        min: Option<f64>,
        max: Option<f64>,
        nullable: bool,
    },
    /// Any number in the schema's range (amounts, hours); `nullable`: empty means none.
    Number {
        min: Option<f64>,
        max: Option<f64>,
        nullable: bool,
    },
    /// One of a closed set; `nullable`: "none" is a choice.
    Choice {
        options: Vec<String>,
        nullable: bool,
    },
    /// Free text; `nullable`: empty means none. `max`: the page's `maxlength`, the schema's
    /// `maxLength` but never above [`TEXT_MAX`], the bound the post is checked against, so
    /// the page never lets a browser send what the form refuses.
    Text {
        max: usize,
        nullable: bool,
    },
    /// Write-only: never shown, empty keeps the stored one.
    Secret,
    /// A list of free text entries, one per line.
    Lines {
        max_items: usize,
    },
    /// A list drawn from a closed set: boxes to tick.
    Picks {
        options: Vec<String>,
    },
    /// A list of objects: these fields per item.
    Items {
        max_items: usize,
        fields: Vec<Field>,
    },
}

/// One input: its path below its parent and its kind.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Field {
    pub path: String,
    pub kind: Kind,
}

/// A nullable object (a payment method): its fields each offer "none", and all of them empty
/// means the object is none.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Group {
    pub path: String,
}

/// The form of a section: its inputs, in the schema's order, and its nullable objects.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Form {
    pub fields: Vec<Field>,
    pub groups: Vec<Group>,
}

/// Longest text accepted in one input, whatever the schema states (its longest free text).
pub(crate) const TEXT_MAX: usize = 2048;

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn is_secret(any_of: &[Value]) -> bool {
    any_of
        .iter()
        .any(|s| s.pointer("/properties/configured/const") == Some(&Value::Bool(true)))
}

impl Form {
    /// The form of a section's JSON Schema.
    pub(crate) fn of_schema(schema: &Value) -> Self {
        let mut form = Form::default();
        let mut fields = Vec::new();
        form.walk(schema, "", false, &mut fields);
        form.fields = fields;
        form
    }

    fn walk(&mut self, schema: &Value, path: &str, optional: bool, out: &mut Vec<Field>) {
        if let Some(any_of) = schema.get("anyOf").and_then(Value::as_array) {
            if is_secret(any_of) {
                out.push(Field {
                    path: path.to_owned(),
                    kind: Kind::Secret,
                });
                return;
            }
            let nullable = any_of.iter().any(|s| s["type"] == "null");
            if let Some(inner) = any_of.iter().find(|s| s["type"] != "null") {
                if inner["type"] == "object" {
                    // A nullable object: its fields, each with "none", and none when all are.
                    self.groups.push(Group {
                        path: path.to_owned(),
                    });
                    self.walk(inner, path, true, out);
                } else {
                    self.leaf(inner, path, nullable || optional, out);
                }
            }
            return;
        }
        if schema["type"] == "object" {
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                for (key, sub) in props {
                    self.walk(sub, &join(path, key), optional, out);
                }
            }
            return;
        }
        self.leaf(schema, path, optional, out);
    }

    fn leaf(&mut self, schema: &Value, path: &str, nullable: bool, out: &mut Vec<Field>) {
        let kind = match schema["type"].as_str() {
            Some("boolean") => Kind::Bool,
            Some("integer") => Kind::Integer {
                min: schema["minimum"].as_f64(),
                max: schema["maximum"].as_f64(),
                nullable,
            },
            Some("number") => Kind::Number {
                min: schema["minimum"]
                    .as_f64()
                    .or(schema["exclusiveMinimum"].as_f64()),
                max: schema["maximum"].as_f64(),
                nullable,
            },
            Some("array") => {
                let max_items = schema["maxItems"]
                    .as_u64()
                    .and_then(|n| usize::try_from(n).ok())
                    .unwrap_or(100);
                let items = &schema["items"];
                if items["type"] == "object" {
                    let mut inner = Form::default();
                    let mut fields = Vec::new();
                    inner.walk(items, "", false, &mut fields);
                    Kind::Items { max_items, fields }
                } else if items.get("enum").is_some() {
                    Kind::Picks {
                        options: strings(items.get("enum")),
                    }
                } else {
                    Kind::Lines { max_items }
                }
            }
            _ if schema.get("enum").is_some() => Kind::Choice {
                options: strings(schema.get("enum")),
                nullable,
            },
            _ => Kind::Text {
                max: schema["maxLength"]
                    .as_u64()
                    .and_then(|m| usize::try_from(m).ok())
                    .map_or(TEXT_MAX, |m| m.min(TEXT_MAX)),
                nullable,
            },
        };
        out.push(Field {
            path: path.to_owned(),
            kind,
        });
    }
}

/// A posted form: each field's values, in the order posted.
pub(crate) type Posted = BTreeMap<String, Vec<String>>;

/// Why a posted form cannot become a document: the message for the whole form, or per field.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Unreadable {
    pub form: Option<String>,
    pub fields: BTreeMap<String, String>,
}

/// The posted pairs by name; the fields that may repeat are the boxes of a list.
pub(crate) fn collect(pairs: Vec<(String, String)>, max_pairs: usize) -> Result<Posted, String> {
    if pairs.len() > max_pairs {
        return Err("The form has more fields than this page has. Nothing was changed.".into());
    }
    let mut posted = Posted::new();
    for (name, value) in pairs {
        posted.entry(name).or_default().push(value);
    }
    Ok(posted)
}

/// The value of a field at `path` in `doc` (dotted, with `[i]` for list items).
pub(crate) fn value_at<'v>(doc: &'v Value, path: &str) -> Option<&'v Value> {
    let mut at = doc;
    for part in path.split('.') {
        let (key, index) = match part.split_once('[') {
            Some((key, rest)) => (key, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        at = at.get(key)?;
        if let Some(i) = index {
            at = at.get(i)?;
        }
    }
    Some(at)
}

/// Puts `value` at the dotted `path` of `doc`, making the objects on the way.
pub(crate) fn set(doc: &mut Map<String, Value>, path: &str, value: Value) {
    match path.split_once('.') {
        Some((head, rest)) => {
            let child = doc
                .entry(head.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if !child.is_object() {
                *child = Value::Object(Map::new());
            }
            if let Value::Object(map) = child {
                set(map, rest, value);
            }
        }
        None => {
            doc.insert(path.to_owned(), value);
        }
    }
}

/// A number as typed: its digits as JSON (whole numbers stay whole).
fn number(text: &str, whole: bool) -> Option<Value> {
    let text = text.trim();
    if text.is_empty()
        || !text
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        return None;
    }
    let n: serde_json::Number = serde_json::from_str(text).ok()?;
    if whole && !(n.is_u64() || n.is_i64()) {
        return None;
    }
    Some(Value::Number(n))
}

impl Form {
    /// Every name the form posts, at most: what a posted form may hold.
    pub(crate) fn max_pairs(&self) -> usize {
        fn count(fields: &[Field]) -> usize {
            fields
                .iter()
                .map(|f| match &f.kind {
                    Kind::Picks { options } => options.len(),
                    Kind::Items { max_items, fields } => (max_items + 1) * count(fields),
                    _ => 1,
                })
                .sum()
        }
        // The form's own fields besides the section's: token, version, the values it was
        // drawn from, and a spare.
        count(&self.fields) + 4
    }

    /// The section's document as posted. Every field of the form is in it, except secrets
    /// left empty (kept); a malformed value is a field error and no document.
    pub(crate) fn document(&self, posted: &Posted) -> Result<Value, Unreadable> {
        let mut out = Map::new();
        let mut bad = Unreadable::default();
        for field in &self.fields {
            if let Some(v) = read(field, &field.path, posted, &mut bad) {
                set(&mut out, &field.path, v);
            }
        }
        for group in &self.groups {
            let all_empty = value_at(&Value::Object(out.clone()), &group.path)
                .and_then(Value::as_object)
                .is_some_and(|m| m.values().all(Value::is_null));
            if all_empty {
                set(&mut out, &group.path, Value::Null);
            }
        }
        if bad.fields.is_empty() && bad.form.is_none() {
            Ok(Value::Object(out))
        } else {
            Err(bad)
        }
    }
}

/// The one value of `name`; a second one is a malformed form.
fn one<'p>(posted: &'p Posted, name: &str, bad: &mut Unreadable) -> Option<&'p str> {
    match posted.get(name).map(Vec::as_slice) {
        None | Some([]) => None,
        Some([v]) => Some(v.as_str()),
        Some(_) => {
            bad.form = Some(format!(
                "The field {name} was sent twice. Nothing was changed."
            ));
            None
        }
    }
}

/// The value of `field` posted under `name`: `None` leaves it out of the document.
fn read(field: &Field, name: &str, posted: &Posted, bad: &mut Unreadable) -> Option<Value> {
    let text = || one(posted, name, &mut Unreadable::default()).unwrap_or("");
    if posted.get(name).is_some_and(|v| v.len() > 1) && !matches!(field.kind, Kind::Picks { .. }) {
        bad.form = Some(format!(
            "The field {name} was sent twice. Nothing was changed."
        ));
        return None;
    }
    match &field.kind {
        Kind::Bool => Some(Value::Bool(posted.contains_key(name))),
        Kind::Integer { nullable, .. } | Kind::Number { nullable, .. } => {
            let whole = matches!(field.kind, Kind::Integer { .. });
            if *nullable && text().trim().is_empty() {
                return Some(Value::Null);
            }
            match number(text(), whole) {
                Some(v) => Some(v),
                None => {
                    bad.fields.insert(
                        name.to_owned(),
                        if whole {
                            "Enter a whole number.".into()
                        } else {
                            "Enter a number (digits, with a point for decimals).".into()
                        },
                    );
                    None
                }
            }
        }
        Kind::Choice { nullable, .. } | Kind::Text { nullable, .. } => {
            let t = text();
            Some(if t.is_empty() && *nullable {
                Value::Null
            } else {
                Value::String(t.to_owned())
            })
        }
        Kind::Secret => {
            let t = text();
            (!t.is_empty()).then(|| Value::String(t.to_owned()))
        }
        Kind::Lines { .. } => Some(Value::Array(
            text()
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(|l| Value::String(l.to_owned()))
                .collect(),
        )),
        Kind::Picks { .. } => Some(Value::Array(
            posted
                .get(name)
                .into_iter()
                .flatten()
                .map(|v| Value::String(v.clone()))
                .collect(),
        )),
        Kind::Items { max_items, fields } => {
            let mut items = Vec::new();
            // Rendered items plus one empty one to add: any index the form posts text for.
            for i in 0..=*max_items {
                let prefix = format!("{name}[{i}]");
                let texts = fields
                    .iter()
                    .filter(|f| !matches!(f.kind, Kind::Bool))
                    .filter_map(|f| posted.get(&join(&prefix, &f.path)))
                    .collect::<Vec<_>>();
                if texts.is_empty() {
                    continue;
                }
                let ticked = fields.iter().any(|f| {
                    matches!(f.kind, Kind::Bool) && posted.contains_key(&join(&prefix, &f.path))
                });
                // An item whose inputs are all empty is the spare one, or one cleared to go.
                if !ticked
                    && texts
                        .iter()
                        .flat_map(|v| v.iter())
                        .all(|v| v.trim().is_empty())
                {
                    continue;
                }
                let mut item = Map::new();
                for f in fields {
                    if let Some(v) = read(f, &join(&prefix, &f.path), posted, bad) {
                        set(&mut item, &f.path, v);
                    }
                }
                items.push(Value::Object(item));
            }
            Some(Value::Array(items))
        }
    }
}

/// The text of a value as an input shows it.
pub(crate) fn shown(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| shown(Some(v)))
            .collect::<Vec<_>>()
            .join("\n"),
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use tenantry_settings::Section;

    fn form(section: Section) -> Form {
        Form::of_schema(&tenantry_settings::schema::section_schema(section))
    }

    fn kind(form: &Form, path: &str) -> Kind {
        form.fields
            .iter()
            .find(|f| f.path == path)
            .unwrap_or_else(|| panic!("{path} in {form:?}"))
            .kind
            .clone()
    }

    fn posted(pairs: &[(&str, &str)]) -> Posted {
        collect(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            1000,
        )
        .expect("pairs")
    }

    #[test]
    fn schema_kinds_become_inputs() {
        let security = form(Section::Security);
        assert_eq!(kind(&security, "two_factor.enabled"), Kind::Bool);
        assert_eq!(
            kind(&security, "api_access.max_api_keys"),
            Kind::Integer {
                min: Some(f64::from(tenantry_security::ApiKeyLimit::MIN)),
                max: Some(f64::from(tenantry_security::ApiKeyLimit::MAX)),
                nullable: false,
            }
        );
        assert_eq!(
            kind(&security, "api_access.ip_whitelist"),
            Kind::Lines { max_items: 1000 }
        );
        let notifications = form(Section::Notifications);
        assert_eq!(kind(&notifications, "webhook.secret"), Kind::Secret);
        assert_eq!(kind(&notifications, "slack.webhook_url"), Kind::Secret);
        assert!(matches!(
            kind(&notifications, "webhook.events"),
            Kind::Picks { .. }
        ));
        let billing = form(Section::Billing);
        assert!(matches!(
            kind(&billing, "cost_alerts"),
            Kind::Items { max_items: 20, .. }
        ));
        assert!(matches!(
            kind(&billing, "payment_method.brand"),
            Kind::Choice { nullable: true, .. }
        ));
        assert_eq!(
            billing.groups,
            vec![Group {
                path: "payment_method".into()
            }]
        );
    }

    #[test]
    fn a_posted_form_becomes_the_document() {
        let billing = form(Section::Billing);
        let doc = billing
            .document(&posted(&[
                ("currency", "EUR"),
                ("timezone", "UTC"),
                ("payment_method.type", ""),
                ("payment_method.last_four", ""),
                ("payment_method.expires", ""),
                ("payment_method.brand", ""),
                ("billing_address.name", "Ada"),
                ("auto_recharge.threshold", "10.25"),
                ("auto_recharge.amount", "100"),
                ("cost_alerts[0].threshold", "5"),
                ("cost_alerts[0].period", "daily"),
                ("cost_alerts[0].enabled", "on"),
                ("cost_alerts[1].threshold", ""),
                ("cost_alerts[1].period", ""),
            ]))
            .expect("document");
        assert_eq!(doc["payment_method"], Value::Null);
        assert_eq!(doc["billing_address"]["name"], "Ada");
        assert_eq!(doc["billing_address"]["city"], Value::Null);
        assert_eq!(doc["auto_recharge"]["enabled"], false);
        assert_eq!(doc["auto_recharge"]["threshold"], json!(10.25));
        assert_eq!(doc["auto_recharge"]["amount"], json!(100));
        assert_eq!(
            doc["cost_alerts"],
            json!([{ "threshold": 5, "period": "daily", "enabled": true }])
        );
    }

    #[test]
    fn empty_secrets_are_left_out_and_malformed_numbers_refused() {
        let notifications = form(Section::Notifications);
        let doc = notifications
            .document(&posted(&[
                ("webhook.secret", ""),
                ("slack.webhook_url", ""),
            ]))
            .expect("document");
        assert!(doc["webhook"].get("secret").is_none());
        assert!(doc["slack"].get("webhook_url").is_none());
        let security = form(Section::Security);
        let bad = security
            .document(&posted(&[
                ("api_access.max_api_keys", "1e3"),
                ("session.timeout", "abc"),
            ]))
            .expect_err("refused");
        assert!(bad.fields.contains_key("api_access.max_api_keys"));
        assert!(bad.fields.contains_key("session.timeout"));
        let twice = security
            .document(&posted(&[
                ("api_access.max_api_keys", "3"),
                ("api_access.max_api_keys", "4"),
            ]))
            .expect_err("refused");
        assert!(twice.form.is_some());
    }

    #[test]
    fn values_are_found_by_their_field_path() {
        let doc = json!({ "a": { "b": [ { "c": 1 } ] } });
        assert_eq!(value_at(&doc, "a.b[0].c"), Some(&json!(1)));
        assert_eq!(value_at(&doc, "a.b[1].c"), None);
        assert_eq!(shown(Some(&json!(["x", "y"]))), "x\ny");
    }
}
