//! Field-level differences between two documents, for audit entries and history. Sealed
//! secrets never appear: a changed secret shows as `"[secret]"` on both sides.

use serde_json::{json, Value};

const MASK: &str = "[secret]";

fn is_secret_key(key: &str) -> bool {
    key.ends_with("_sealed")
}

/// Every leaf that differs, as `{"path", "before", "after"}` (arrays compared whole).
pub fn diff(before: &Value, after: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    walk("", before, after, false, &mut out);
    out
}

fn walk(path: &str, before: &Value, after: &Value, secret: bool, out: &mut Vec<Value>) {
    match (before, after) {
        (Value::Object(b), Value::Object(a)) if !secret => {
            let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let p = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                walk(
                    &p,
                    b.get(key).unwrap_or(&Value::Null),
                    a.get(key).unwrap_or(&Value::Null),
                    is_secret_key(key),
                    out,
                );
            }
        }
        _ if before == after => {}
        _ if secret => out.push(json!({
            "path": path,
            "before": if before.is_null() { Value::Null } else { json!(MASK) },
            "after": if after.is_null() { Value::Null } else { json!(MASK) },
        })),
        // Arrays (and anything else) are compared whole, with sealed values masked inside.
        _ => out.push(json!({ "path": path, "before": mask(before), "after": mask(after) })),
    }
}

/// `value` with every `*_sealed` field replaced by the mask.
fn mask(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if is_secret_key(k) && !v.is_null() {
                        json!(MASK)
                    } else {
                        mask(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(mask).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_changed_leaves_and_masks_secrets() {
        let before = json!({"a": {"x": 1, "y": 2}, "token_sealed": "v1.k.AAA", "list": [1]});
        let after = json!({"a": {"x": 1, "y": 3}, "token_sealed": "v1.k.BBB", "list": [1, 2]});
        let d = diff(&before, &after);
        assert_eq!(
            d,
            vec![
                json!({"path": "a.y", "before": 2, "after": 3}),
                json!({"path": "list", "before": [1], "after": [1, 2]}),
                json!({"path": "token_sealed", "before": "[secret]", "after": "[secret]"}),
            ]
        );
        assert!(!serde_json::to_string(&d).expect("json").contains("AAA"));
    }

    #[test]
    fn secrets_inside_arrays_are_masked() {
        let before = json!({"regs": [{"url": "a", "token_sealed": "v1.k.AAA"}]});
        let after = json!({"regs": [{"url": "a", "token_sealed": "v1.k.BBB"}]});
        let d = serde_json::to_string(&diff(&before, &after)).expect("json");
        assert!(!d.contains("AAA") && !d.contains("BBB"), "{d}");
        assert!(d.contains("[secret]"));
    }

    #[test]
    fn identical_documents_have_no_diff() {
        let v = json!({"a": [1, {"b": null}]});
        assert!(diff(&v, &v).is_empty());
    }
}
