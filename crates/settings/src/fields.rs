//! Reading a JSON document field by field while collecting *every* problem, so one response can
//! name each failing field (serde stops at the first). Parsers are the domain's own `parse`
//! constructors; this module only walks the document and records paths.

use serde_json::{Map, Value};
use tenantry_security::{PolicyQuantity, WriteRange};

use crate::SettingsError;

/// One invalid field: its dotted path, what is wrong, and (when the set is closed) what is allowed.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    /// The field's dotted path in the document (`security.session_timeout_minutes`).
    pub field: String,
    /// What is wrong, as a sentence end ("must be between 5 and 1440").
    pub message: String,
    /// The accepted values, for a closed set.
    pub allowed: Option<Value>,
}

/// What a document reader found wrong.
///
/// A reader made [`Fields::over`] the stored value (as the dialect renders it) checks a dialect's
/// write range only on the fields a write changes: a value equal to what the dialect shows for
/// the stored one is unchanged, and an unchanged value is never refused. Another dialect with a
/// wider range may have stored it, and a client that sends back what it read must succeed
/// (decision 0018, laws 1 and 2).
#[derive(Debug, Default)]
pub struct Fields {
    /// Every invalid value found so far.
    pub errors: Vec<FieldError>,
    /// The dotted paths of every unknown field found so far.
    pub unknown: Vec<String>,
    baseline: Value,
}

pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

static NULL: Value = Value::Null;

impl Fields {
    /// A reader of a write over `baseline`, the stored value as this dialect renders it.
    pub fn over(baseline: Value) -> Self {
        Self {
            baseline,
            ..Self::default()
        }
    }

    /// True when `value` equals the baseline at the dotted `field` path: the write leaves it
    /// as it is.
    pub fn unchanged(&self, field: &str, value: Option<&Value>) -> bool {
        let Some(value) = value else { return false };
        let mut at = &self.baseline;
        for part in field.split('.') {
            match at.get(part) {
                Some(next) => at = next,
                None => return false,
            }
        }
        at == value
    }

    /// What the reader found, as the error every API reports it with, in the API documents'
    /// precedence: unknown fields, then invalid allowlist entries (`invalid_ips`), then other
    /// invalid values; otherwise the value read.
    pub fn finish<T>(self, invalid_ips: Vec<String>, value: Option<T>) -> Result<T, SettingsError> {
        crate::service::check(self, invalid_ips, value)
    }

    /// True when nothing was found wrong so far.
    pub fn is_clean(&self) -> bool {
        self.errors.is_empty() && self.unknown.is_empty()
    }

    /// Records that `field` (a dotted path) is invalid, and why.
    pub fn error(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError {
            field: field.into(),
            message: message.into(),
            allowed: None,
        });
    }

    /// Records that `field` is not one of the `allowed` values.
    pub fn error_allowed(
        &mut self,
        field: impl Into<String>,
        message: impl Into<String>,
        allowed: Value,
    ) {
        self.errors.push(FieldError {
            field: field.into(),
            message: message.into(),
            allowed: Some(allowed),
        });
    }

    /// The object at `path`, recording keys outside `known` as unknown fields.
    pub fn object<'v>(
        &mut self,
        value: &'v Value,
        path: &str,
        known: &[&str],
    ) -> Option<&'v Map<String, Value>> {
        match value {
            Value::Object(map) => {
                for key in map.keys() {
                    if !known.contains(&key.as_str()) {
                        self.unknown.push(join(path, key));
                    }
                }
                Some(map)
            }
            _ => {
                self.error(path, "must be an object");
                None
            }
        }
    }

    /// The object under `key` (an empty object reads as all-defaults when absent).
    pub fn child<'v>(
        &mut self,
        map: &'v Map<String, Value>,
        key: &str,
        path: &str,
        known: &[&str],
    ) -> Option<&'v Map<String, Value>> {
        self.object(map.get(key).unwrap_or(&NULL), &join(path, key), known)
    }

    /// The required boolean under `key`; anything else (absent included) is recorded as an error.
    pub fn bool(&mut self, map: &Map<String, Value>, key: &str, path: &str) -> Option<bool> {
        match map.get(key) {
            Some(Value::Bool(b)) => Some(*b),
            _ => {
                self.error(join(path, key), "must be true or false");
                None
            }
        }
    }

    /// A required string parsed by `parse`.
    pub fn parse<T>(
        &mut self,
        map: &Map<String, Value>,
        key: &str,
        path: &str,
        parse: impl Fn(&str) -> Result<T, String>,
        allowed: Option<&[&str]>,
    ) -> Option<T> {
        let field = join(path, key);
        match map.get(key) {
            Some(Value::String(s)) => match parse(s) {
                Ok(v) => Some(v),
                Err(message) => {
                    self.push(field, message, allowed);
                    None
                }
            },
            _ => {
                self.push(field, "must be a string".into(), allowed);
                None
            }
        }
    }

    /// A nullable string parsed by `parse`: `Some(None)` for null or absent.
    pub fn parse_opt<T>(
        &mut self,
        map: &Map<String, Value>,
        key: &str,
        path: &str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Option<Option<T>> {
        match map.get(key) {
            None | Some(Value::Null) => Some(None),
            Some(_) => self.parse(map, key, path, parse, None).map(Some),
        }
    }

    /// A free-text nullable string of at most `max` characters (trimmed; empty reads as null).
    pub fn text_opt(
        &mut self,
        map: &Map<String, Value>,
        key: &str,
        path: &str,
        max: usize,
    ) -> Option<Option<String>> {
        self.parse_opt(map, key, path, |s| {
            let s = s.trim();
            if s.chars().count() > max {
                Err(format!("must be at most {max} characters"))
            } else if s.chars().any(char::is_control) {
                Err("must not contain control characters".into())
            } else {
                Ok(s.to_owned())
            }
        })
        .map(|o| o.filter(|s| !s.is_empty()))
    }

    /// An integer in `min..=max` (or unchanged: see [`Fields::over`]). A value of another JSON
    /// type is a type error, a number outside the range a range error.
    pub fn integer(
        &mut self,
        map: &Map<String, Value>,
        key: &str,
        path: &str,
        min: u32,
        max: u32,
    ) -> Option<u32> {
        let field = join(path, key);
        let value = map.get(key);
        let n = value
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok());
        match n {
            Some(n) if (min..=max).contains(&n) || self.unchanged(&field, value) => Some(n),
            _ if !value.is_some_and(Value::is_number) => {
                self.type_error(field, value, "an integer", f64::from(min), f64::from(max));
                None
            }
            _ => {
                self.range(field, f64::from(min), f64::from(max), "an integer");
                None
            }
        }
    }

    /// A policy quantity `Q`: an integer in the API's `write` range (or unchanged: see
    /// [`Fields::over`]), refused with the same message as [`Fields::integer`]. An unchanged
    /// value still has to lie in `Q`'s domain range, which the stored value always does.
    pub fn quantity<Q: PolicyQuantity>(
        &mut self,
        map: &Map<String, Value>,
        key: &str,
        path: &str,
        write: WriteRange<Q>,
    ) -> Option<Q> {
        let n = self.integer(map, key, path, write.min(), write.max())?;
        match Q::try_new(n) {
            Ok(q) => Some(q),
            Err(_) => {
                self.range_of(join(path, key), write);
                None
            }
        }
    }

    /// Records that the value at `field` lies outside the API's `write` range of a quantity.
    pub(crate) fn range_of<Q: PolicyQuantity>(&mut self, field: String, write: WriteRange<Q>) {
        self.range(
            field,
            f64::from(write.min()),
            f64::from(write.max()),
            "an integer",
        );
    }

    /// A number in `min..=max` (finite; or unchanged: see [`Fields::over`]).
    pub fn number(
        &mut self,
        map: &Map<String, Value>,
        key: &str,
        path: &str,
        min: f64,
        max: f64,
    ) -> Option<f64> {
        let field = join(path, key);
        let value = map.get(key);
        match value.and_then(Value::as_f64) {
            Some(n) if n.is_finite() && n >= min && n <= max => Some(n),
            Some(n) if n.is_finite() && self.unchanged(&field, value) => Some(n),
            _ if !value.is_some_and(Value::is_number) => {
                self.type_error(field, value, "a number", min, max);
                None
            }
            _ => {
                self.range(field, min, max, "a number");
                None
            }
        }
    }

    /// A missing value, or one of the wrong JSON type, where a number belongs.
    pub fn type_error(
        &mut self,
        field: String,
        value: Option<&Value>,
        what: &str,
        min: f64,
        max: f64,
    ) {
        let message = match value {
            None | Some(Value::Null) => format!("is required: {what} between {min} and {max}"),
            Some(_) => format!("must be {what} (a JSON number), not a {}", json_type(value)),
        };
        self.errors.push(FieldError {
            field,
            message,
            allowed: Some(serde_json::json!({ "type": "number", "minimum": min, "maximum": max })),
        });
    }

    /// A nullable amount of money strictly greater than zero and at most `max`, read exactly
    /// from the number's decimal digits (at most six after the point).
    pub fn money_opt(
        &mut self,
        map: &Map<String, Value>,
        key: &str,
        path: &str,
        max: tenantry_billing::Money,
    ) -> Option<Option<tenantry_billing::Money>> {
        let field = join(path, key);
        let refuse = |f: &mut Self, message: String| {
            f.errors.push(FieldError {
                field: field.clone(),
                message,
                allowed: Some(
                    serde_json::json!({ "exclusiveMinimum": 0, "maximum": max.to_string() }),
                ),
            });
            None
        };
        match map.get(key) {
            None | Some(Value::Null) => Some(None),
            Some(Value::Number(n)) => match tenantry_billing::Money::parse(&n.to_string()) {
                Ok(m) if m > tenantry_billing::Money::ZERO && m <= max => Some(Some(m)),
                Ok(_) => refuse(self, format!("must be greater than 0 and at most {max}")),
                Err(e) => refuse(self, format!("{e}")),
            },
            Some(other) => refuse(
                self,
                format!(
                    "must be an amount (a JSON number), not a {}",
                    json_type(Some(other))
                ),
            ),
        }
    }

    /// An array of at most `max` items, each read by `item`.
    pub fn array<T>(
        &mut self,
        map: &Map<String, Value>,
        key: &str,
        path: &str,
        max: usize,
        mut item: impl FnMut(&mut Self, &Value, &str) -> Option<T>,
    ) -> Option<Vec<T>> {
        let field = join(path, key);
        match map.get(key) {
            Some(Value::Array(items)) if items.len() <= max => {
                let mut out = Vec::with_capacity(items.len());
                let mut ok = true;
                for (i, v) in items.iter().enumerate() {
                    match item(self, v, &format!("{field}[{i}]")) {
                        Some(x) => out.push(x),
                        None => ok = false,
                    }
                }
                ok.then_some(out)
            }
            Some(Value::Array(_)) => {
                self.error(field, format!("must have at most {max} items"));
                None
            }
            None | Some(Value::Null) => Some(Vec::new()),
            Some(_) => {
                self.error(field, "must be an array");
                None
            }
        }
    }

    /// Records that the value at `field` lies outside `min..=max`.
    pub(crate) fn range(&mut self, field: String, min: f64, max: f64, what: &str) {
        self.errors.push(FieldError {
            field,
            message: format!("must be {what} between {min} and {max}"),
            allowed: Some(serde_json::json!({ "minimum": min, "maximum": max })),
        });
    }

    fn push(&mut self, field: String, message: String, allowed: Option<&[&str]>) {
        self.errors.push(FieldError {
            field,
            message,
            allowed: allowed.map(|a| serde_json::json!(a)),
        });
    }
}

/// The JSON type of a value, as an error message names it.
pub fn json_type(value: Option<&Value>) -> &'static str {
    match value {
        None | Some(Value::Null) => "null",
        Some(Value::Bool(_)) => "boolean",
        Some(Value::Number(_)) => "number",
        Some(Value::String(_)) => "string",
        Some(Value::Array(_)) => "array",
        Some(Value::Object(_)) => "object",
    }
}

/// JSON merge patch (RFC 7396): objects merge recursively, `null` clears, anything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                if value.is_null() {
                    // The account settings API reads `null` as "clear a nullable field", so the key stays, as null;
                    // the section parser decides whether null is allowed there.
                    target.insert(key.clone(), Value::Null);
                } else {
                    merge_patch(target.entry(key.clone()).or_insert(Value::Null), value);
                }
            }
        }
        (target, patch) => *target = patch.clone(),
    }
}

/// How secret fields are shown when a section is rendered.
pub enum SecretView<'a> {
    /// Public reads: `{"configured": true}` when set, `null` when not.
    Configured,
    /// Internal, for merging a patch into the current document: the sealed value travels as
    /// `{"$sealed": "..."}` so an absent field keeps it without ever decrypting it.
    Sealed,
    /// Export with secrets, for admins only: the decrypted plaintext.
    Plain(&'a dyn Fn(&tenantry_security::Sealed) -> Value),
}

impl SecretView<'_> {
    /// A secret field's value in this view: `null` when unset, else as the variant says.
    pub fn show(&self, secret: &Option<tenantry_security::Sealed>) -> Value {
        match (self, secret) {
            (_, None) => Value::Null,
            (SecretView::Configured, Some(_)) => serde_json::json!({ "configured": true }),
            (SecretView::Sealed, Some(s)) => serde_json::json!({ SEALED_MARKER: s.as_str() }),
            (SecretView::Plain(open), Some(s)) => open(s),
        }
    }
}

/// The key marking a still-sealed secret inside a document being merged.
pub const SEALED_MARKER: &str = "$sealed";

/// Seals new plaintext secrets found while reading a document.
pub type Sealer<'a> = &'a dyn Fn(&str) -> tenantry_security::Sealed;

impl Fields {
    /// A secret field: kept when it still carries the sealed marker, sealed when it is new
    /// plaintext (1–1024 characters), cleared when null.
    pub fn secret(
        &mut self,
        map: &Map<String, Value>,
        key: &str,
        path: &str,
        seal: Sealer<'_>,
    ) -> Option<Option<tenantry_security::Sealed>> {
        let field = join(path, key);
        match map.get(key) {
            None | Some(Value::Null) => Some(None),
            Some(Value::String(s)) if !s.is_empty() && s.chars().count() <= 1024 => {
                Some(Some(seal(s)))
            }
            Some(Value::Object(o)) if o.len() == 1 => match o.get(SEALED_MARKER) {
                Some(Value::String(s)) => {
                    Some(Some(tenantry_security::Sealed::from_stored(s.clone())))
                }
                _ => {
                    self.error(field, "must be a string");
                    None
                }
            },
            Some(_) => {
                self.error(
                    field,
                    "must be a non-empty string of at most 1024 characters",
                );
                None
            }
        }
    }
}

/// Replaces every `{"configured": true}` in `incoming` (how exports without secrets show a set
/// secret) with the sealed value at the same place in `current` (rendered with
/// `SecretView::Sealed`), so re-importing such an export keeps the secrets it could not carry.
pub fn keep_configured_secrets(incoming: &mut Value, current: &Value) {
    match incoming {
        Value::Object(map)
            if map.len() == 1
                && map.get("configured") == Some(&Value::Bool(true))
                && current.get(SEALED_MARKER).is_some() =>
        {
            *incoming = current.clone();
        }
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                if let Some(cur) = current.get(key) {
                    keep_configured_secrets(value, cur);
                }
            }
        }
        // Not into arrays: a position is not an identity (a reordered list would swap
        // secrets). Lists with secrets match their items by identity themselves.
        _ => {}
    }
}

/// Replaces each `{"configured": true}` left in `incoming` (outside lists, which match their
/// items themselves) with `null` and returns the dotted paths it unset. The object holding such
/// a secret is switched off (`enabled: false`) when it was on: a channel or integration without
/// its credential must not run (a webhook would go out unsigned, an integration would fail).
pub fn unset_configured_secrets(incoming: &mut Value, path: &str) -> Vec<String> {
    let mut unset = Vec::new();
    if let Value::Object(map) = incoming {
        let mut own = false;
        for (key, value) in map.iter_mut() {
            let is_marker = matches!(value, Value::Object(m)
                if m.len() == 1 && m.get("configured") == Some(&Value::Bool(true)));
            if is_marker {
                *value = Value::Null;
                unset.push(join(path, key));
                own = true;
            } else {
                unset.extend(unset_configured_secrets(value, &join(path, key)));
            }
        }
        if own && map.get("enabled") == Some(&Value::Bool(true)) {
            map.insert("enabled".into(), Value::Bool(false));
        }
    }
    unset
}

/// True when a client-supplied document tries to smuggle a sealed marker (only the server
/// produces those, while merging).
pub fn contains_sealed_marker(value: &Value) -> bool {
    match value {
        Value::Object(map) => {
            map.contains_key(SEALED_MARKER) || map.values().any(contains_sealed_marker)
        }
        Value::Array(items) => items.iter().any(contains_sealed_marker),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_keeps_absent_replaces_present_and_nulls_explicitly() {
        let mut doc = json!({"a": {"x": 1, "y": 2}, "b": [1, 2], "c": "keep"});
        merge_patch(&mut doc, &json!({"a": {"y": 3}, "b": [9], "c": null}));
        assert_eq!(doc, json!({"a": {"x": 1, "y": 3}, "b": [9], "c": null}));
    }

    #[test]
    fn every_problem_is_collected() {
        let doc = json!({"n": 0, "s": 5, "extra": true});
        let mut f = Fields::default();
        let map = f.object(&doc, "", &["n", "s"]).expect("object");
        assert_eq!(f.integer(map, "n", "", 1, 10), None);
        assert_eq!(f.parse(map, "s", "", |s| Ok(s.to_owned()), None), None);
        assert_eq!(f.errors.len(), 2);
        assert_eq!(f.unknown, ["extra"]);
        assert_eq!(f.errors[0].field, "n");
    }
}
