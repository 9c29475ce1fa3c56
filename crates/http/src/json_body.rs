//! `JsonBody<T>`: a JSON request body read under the configured size limit, with errors in the
//! request's dialect (actix's own `Json` extractor answers in plain text).
//!
//! Every body is also checked for repeated object keys, at any depth, before it is parsed:
//! `{"role": "viewer", "role": "owner"}` means one thing to serde_json (the last value), another
//! to a proxy or a WAF that read the first, so it is refused as malformed (400, the dialect's
//! code for broken JSON) instead of silently resolved. Handlers that read a body otherwise
//! (`RawBody`: the YAML import, the telemetry test) go through [`parse_json`] or
//! [`reject_duplicate_keys`] too.

use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::{header, StatusCode};
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::StreamExt;
use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::json;

use crate::auth::state;
use crate::error::{ApiError, Dialect};

pub(crate) struct JsonBody<T>(pub T);

pub(crate) fn too_large(dialect: Dialect, limit: usize) -> ApiError {
    ApiError::new(
        dialect,
        StatusCode::PAYLOAD_TOO_LARGE,
        "PAYLOAD_TOO_LARGE",
        format!("Request body exceeds the limit of {limit} bytes"),
    )
    .with_details(json!({ "limitBytes": limit }))
}

/// Classifies a serde_json failure: broken JSON is 400 `INVALID_JSON` with its position; an
/// unexpected field is 400 `UNKNOWN_FIELD`; a well-formed value of the wrong shape is 422
/// `VALIDATION_ERROR`. Both of the latter list the field in `fields: [{field, message}]` (as
/// every validation error does), found from `doc`, the body, when the caller has it: a missing
/// or unknown field by the name serde gives under the object it belongs to, a wrong value by
/// the key it sits under (json_field_path.rs). The position stays in `line` and `column`.
pub(crate) fn parse_error(dialect: Dialect, e: &serde_json::Error, doc: Option<&[u8]>) -> ApiError {
    use serde_json::error::Category;
    let text = e.to_string();
    // serde_json appends " at line L column C" when it has a position.
    let message = match text.rfind(" at line ") {
        Some(at) if e.line() > 0 => &text[..at],
        _ => text.as_str(),
    };
    let offset = doc
        .and_then(|d| crate::json_field_path::byte_offset(d, e.line(), e.column()).map(|o| (d, o)));
    let named = |name: &str| match offset {
        Some((d, o)) => crate::json_field_path::member_path(d, o, name),
        None => name.to_owned(),
    };
    let with_field = |error: ApiError, field: String, field_message: &str| {
        error.with_details(json!({
            "line": e.line(),
            "column": e.column(),
            "fields": [{ "field": field, "message": field_message }],
        }))
    };
    match e.classify() {
        Category::Data => {
            if let Some(name) = serde_named_field(message, "unknown field `") {
                let error =
                    ApiError::new(dialect, StatusCode::BAD_REQUEST, "UNKNOWN_FIELD", message);
                return with_field(error, named(name), "is not a field of this request");
            }
            let error = ApiError::new(
                dialect,
                StatusCode::UNPROCESSABLE_ENTITY,
                "VALIDATION_ERROR",
                message,
            );
            match serde_named_field(message, "missing field `") {
                Some(name) => with_field(error, named(name), "is required"),
                None => {
                    let field = offset
                        .map(|(d, o)| crate::json_field_path::value_path(d, o))
                        .unwrap_or_default();
                    with_field(error, field, message)
                }
            }
        }
        Category::Syntax | Category::Eof | Category::Io => ApiError::new(
            dialect,
            StatusCode::BAD_REQUEST,
            "INVALID_JSON",
            format!("Malformed JSON: {e}"),
        )
        .with_details(json!({ "line": e.line(), "column": e.column() })),
    }
}

/// The field serde names in its fixed message forms ("missing field `x`", "unknown field `x`,
/// expected ..."); there is no structured form.
fn serde_named_field<'m>(message: &'m str, prefix: &str) -> Option<&'m str> {
    let rest = message.strip_prefix(prefix)?;
    rest.find('`').map(|end| &rest[..end])
}

/// Parses a JSON body: refused with 400 when an object repeats a key (see the module docs),
/// then deserialized with [`parse_error`]'s classification of failures.
pub(crate) fn parse_json<T: DeserializeOwned>(
    dialect: Dialect,
    bytes: &[u8],
) -> Result<T, ApiError> {
    reject_duplicate_keys(dialect, bytes)?;
    // Every request body of every API is a JSON object. serde would otherwise fill a struct from
    // an array (`[null, null]`), accepting a body no client meant.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        // Broken JSON is reported as such; valid JSON of another type as a type error.
        if let Err(e) = serde_json::from_slice::<serde_json::Value>(bytes) {
            return Err(parse_error(dialect, &e, Some(bytes)));
        }
        if let Err(e) = serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(bytes)
        {
            return Err(parse_error(dialect, &e, Some(bytes)));
        }
    }
    serde_json::from_slice::<T>(bytes).map_err(|e| parse_error(dialect, &e, Some(bytes)))
}

/// 400 with the dialect's malformed-JSON code (`INVALID_JSON`) when an object of the document
/// repeats a key. Broken JSON passes: the caller's own parse reports it, with its position.
pub(crate) fn reject_duplicate_keys(dialect: Dialect, bytes: &[u8]) -> Result<(), ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match first_duplicate_key(&mut de) {
        Some((dup, e)) => Err(duplicate_key_error(
            dialect,
            "INVALID_JSON",
            "JSON",
            &dup,
            Some((e.line(), e.column())),
        )),
        None => Ok(()),
    }
}

/// The YAML form of [`reject_duplicate_keys`] (400 `INVALID_YAML`), for bodies that may be YAML.
pub(crate) fn reject_duplicate_yaml_keys(dialect: Dialect, text: &str) -> Result<(), ApiError> {
    match first_duplicate_key(yaml_serde::Deserializer::from_str(text)) {
        Some((dup, _)) => Err(duplicate_key_error(
            dialect,
            "INVALID_YAML",
            "YAML",
            &dup,
            None,
        )),
        None => Ok(()),
    }
}

/// The longest key echoed back in a duplicate-key error.
const MAX_ECHOED_KEY_CHARS: usize = 100;

fn duplicate_key_error(
    dialect: Dialect,
    code: &'static str,
    format: &str,
    dup: &DuplicateKey,
    position: Option<(usize, usize)>,
) -> ApiError {
    let key: String = if dup.key.chars().count() > MAX_ECHOED_KEY_CHARS {
        dup.key
            .chars()
            .take(MAX_ECHOED_KEY_CHARS)
            .chain(['…'])
            .collect()
    } else {
        dup.key.clone()
    };
    let quoted = serde_json::to_string(&key).unwrap_or_default();
    let within = if dup.object.is_empty() {
        "the top-level object".to_owned()
    } else {
        format!("the object at {}", dup.object)
    };
    let mut details = json!({ "duplicateKey": key, "object": dup.object });
    if let Some((line, column)) = position.filter(|(line, _)| *line > 0) {
        details["line"] = json!(line);
        details["column"] = json!(column);
    }
    ApiError::new(
        dialect,
        StatusCode::BAD_REQUEST,
        code,
        format!("Malformed {format}: duplicate key {quoted} in {within}"),
    )
    .with_details(details)
}

/// A key an object of the document repeats (keys compare after unescaping, so `"a"` and
/// `"\u0061"` are the same key).
#[derive(Debug, Clone, PartialEq, Eq)]
struct DuplicateKey {
    key: String,
    /// JSON Pointer (RFC 6901) of the object holding it; empty for the top level.
    object: String,
}

/// Walks the whole document once and reports its first repeated key, with the error that
/// stopped the walk (for its position). `None` when there is none, or when the document is
/// malformed before one is found (the caller's parse reports that).
fn first_duplicate_key<'de, D: de::Deserializer<'de>>(de: D) -> Option<(DuplicateKey, D::Error)> {
    let state = RefCell::new(Walked::default());
    let result = Walk { state: &state }.deserialize(de);
    let found = state.into_inner().duplicate;
    match (result, found) {
        (Err(e), Some(dup)) => Some((dup, e)),
        _ => None,
    }
}

#[derive(Default)]
struct Walked {
    /// Where the walk is: the keys and indexes from the root.
    path: Vec<String>,
    duplicate: Option<DuplicateKey>,
}

fn pointer(path: &[String]) -> String {
    path.iter()
        .map(|seg| format!("/{}", seg.replace('~', "~0").replace('/', "~1")))
        .collect()
}

#[derive(Clone, Copy)]
struct Walk<'a> {
    state: &'a RefCell<Walked>,
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_i128<E: de::Error>(self, _: i128) -> Result<(), E> {
        Ok(())
    }

    fn visit_u128<E: de::Error>(self, _: u128) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_some<D: de::Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_any(self)
    }

    fn visit_newtype_struct<D: de::Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_any(self)
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<(), A::Error> {
        // YAML tags (`!tag value`) arrive as enums: walk the tagged value.
        use de::VariantAccess;
        let (de::IgnoredAny, variant) = data.variant()?;
        variant.newtype_variant_seed(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0usize;
        loop {
            self.state.borrow_mut().path.push(index.to_string());
            let more = seq.next_element_seed(self)?;
            self.state.borrow_mut().path.pop();
            if more.is_none() {
                return Ok(());
            }
            index += 1;
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen: HashSet<String> = HashSet::new();
        while let Some(key) = map.next_key_seed(KeyText)? {
            if seen.contains(&key) {
                let mut state = self.state.borrow_mut();
                let object = pointer(&state.path);
                state.duplicate = Some(DuplicateKey { key, object });
                return Err(de::Error::custom("duplicate object key"));
            }
            self.state.borrow_mut().path.push(key.clone());
            seen.insert(key);
            map.next_value_seed(self)?;
            self.state.borrow_mut().path.pop();
        }
        Ok(())
    }
}

/// An object key as text: JSON keys are strings; YAML keys may also be scalars (`1`, `true`,
/// `null`), which become the same strings as in the JSON value the document turns into.
struct KeyText;

impl<'de> DeserializeSeed<'de> for KeyText {
    type Value = String;

    fn deserialize<D: de::Deserializer<'de>>(self, de: D) -> Result<String, D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KeyText {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_unit<E: de::Error>(self) -> Result<String, E> {
        Ok("null".to_owned())
    }
}

/// A request body read under the size limit, with its media type (lowercase, no parameters).
pub(crate) struct RawBody {
    pub bytes: web::Bytes,
    pub media_type: Option<String>,
}

impl FromRequest for RawBody {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let read = RawBody::read(req, payload);
        let req = req.clone();
        Box::pin(async move {
            match read.await {
                Ok(body) => Ok(body),
                Err(e) => Err(crate::auth::authentication_first(&req, e).await),
            }
        })
    }
}

impl RawBody {
    /// Reads the body under the size limit; errors are the caller's to order after
    /// authentication.
    fn read(
        req: &HttpRequest,
        payload: &mut Payload,
    ) -> Pin<Box<dyn Future<Output = Result<Self, ApiError>>>> {
        let dialect = Dialect::of(req);
        let limit = state(req, dialect).map(|s| s.config.body_limit);
        let media_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|ct| {
                ct.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            });
        let declared_len = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            let limit = limit?;
            if declared_len.is_some_and(|n| n > limit) {
                return Err(too_large(dialect, limit));
            }
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                // The transport's own wording ("payload reached EOF before completing: None")
                // is no message for a client; the kind of fault is enough.
                let chunk = chunk.map_err(|e| {
                    let reason = match e {
                        actix_web::error::PayloadError::Incomplete(_) => {
                            "the body ended before its declared length or final chunk"
                        }
                        actix_web::error::PayloadError::EncodingCorrupted => {
                            "the body's content encoding is corrupt"
                        }
                        actix_web::error::PayloadError::Overflow => "the body is too large",
                        _ => "the body could not be read",
                    };
                    ApiError::new(dialect, StatusCode::BAD_REQUEST, "INVALID_REQUEST", reason)
                        .with_details(serde_json::json!({ "field": "body" }))
                })?;
                if body.len() + chunk.len() > limit {
                    return Err(too_large(dialect, limit));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(RawBody {
                bytes: body.freeze(),
                media_type,
            })
        })
    }
}

pub(crate) fn is_json(media_type: &str) -> bool {
    media_type == "application/json" || media_type.ends_with("+json")
}

pub(crate) fn is_yaml(media_type: &str) -> bool {
    matches!(
        media_type,
        "application/yaml" | "application/x-yaml" | "text/yaml" | "text/x-yaml"
    )
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let dialect = Dialect::of(req);
        let raw = RawBody::read(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let parsed = async {
                let raw = raw.await?;
                // No Content-Type: accept, as curl users often forget it and the body says JSON.
                if raw.media_type.as_deref().is_some_and(|m| !is_json(m)) {
                    return Err(ApiError::new(
                        dialect,
                        StatusCode::UNSUPPORTED_MEDIA_TYPE,
                        "UNSUPPORTED_MEDIA_TYPE",
                        "Send the body as application/json",
                    ));
                }
                parse_json::<T>(dialect, &raw.bytes).map(JsonBody)
            };
            match parsed.await {
                Ok(body) => Ok(body),
                Err(e) => Err(crate::auth::authentication_first(&req, e).await),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::Value;

    const DIALECTS: [Dialect; 4] = [Dialect::V2, Dialect::Api, Dialect::Catalog, Dialect::Tenant];

    fn duplicate(body: &str) -> Option<DuplicateKey> {
        let mut de = serde_json::Deserializer::from_slice(body.as_bytes());
        first_duplicate_key(&mut de).map(|(dup, _)| dup)
    }

    fn dup(key: &str, object: &str) -> Option<DuplicateKey> {
        Some(DuplicateKey {
            key: key.to_owned(),
            object: object.to_owned(),
        })
    }

    #[test]
    fn repeated_keys_are_found_at_any_depth() {
        assert_eq!(duplicate(r#"{"a": 1, "a": 2}"#), dup("a", ""));
        assert_eq!(
            duplicate(r#"{"x": {"y": [0, {"role": "viewer", "role": "owner"}]}}"#),
            dup("role", "/x/y/1")
        );
        assert_eq!(
            duplicate(r#"[{"a": 1}, {"a": 1, "b": {"c/d": {"k": 1, "k": 1}}}]"#),
            dup("k", "/1/b/c~1d")
        );
        // Keys compare after unescaping.
        assert_eq!(duplicate(r#"{"a": 1, "\u0061": 2}"#), dup("a", ""));
        // The same key in different objects, or as a value, is fine.
        for ok in [
            r#"{"a": {"a": {"a": 1}}, "b": {"a": 2}}"#,
            r#"[{"a": 1}, {"a": 2}]"#,
            r#"{"a": "a", "b": ["a", "a"]}"#,
            r#"{}"#,
            r#"[]"#,
            r#""text""#,
            r#"{"n": 1e400, "big": 18446744073709551616, "neg": -1}"#,
        ] {
            assert_eq!(duplicate(ok), None, "{ok}");
        }
    }

    #[test]
    fn broken_json_is_left_to_the_parse_that_reports_it() {
        for broken in [r#"{"a": 1,"#, r#"{"a": 1 "b": 2}"#, "nope", ""] {
            assert_eq!(duplicate(broken), None, "{broken}");
        }
        let e = parse_json::<Value>(Dialect::V2, br#"{"a": 1,"#).expect_err("broken");
        assert_eq!(
            (e.status, e.code),
            (StatusCode::BAD_REQUEST, "INVALID_JSON")
        );
        // Deeper than serde_json's recursion limit: still a syntax error, not a stack overflow.
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let e = parse_json::<Value>(Dialect::V2, deep.as_bytes()).expect_err("too deep");
        assert_eq!(e.code, "INVALID_JSON");
    }

    #[test]
    fn a_duplicate_is_refused_as_malformed_json_in_every_dialect() {
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Typed {
            role: String,
        }
        let body = br#"{"settings": {"theme": "dark", "theme": "light"}}"#;
        for dialect in DIALECTS {
            let e = parse_json::<Value>(dialect, body).expect_err("duplicate");
            assert_eq!(e.status, StatusCode::BAD_REQUEST);
            assert_eq!(e.code, "INVALID_JSON");
            assert!(
                e.message.contains(r#"duplicate key "theme""#),
                "{}",
                e.message
            );
            assert!(e.message.contains("/settings"), "{}", e.message);
            let details = e.details.as_deref().expect("details");
            assert_eq!(details["duplicateKey"], "theme");
            assert_eq!(details["object"], "/settings");
            assert_eq!(details["line"], 1);
            // Typed bodies too (serde would have called it a 422 `duplicate field`).
            let e = parse_json::<Typed>(dialect, br#"{"role": "viewer", "role": "owner"}"#)
                .expect_err("duplicate");
            assert_eq!(
                (e.status, e.code),
                (StatusCode::BAD_REQUEST, "INVALID_JSON")
            );
        }
        assert_eq!(
            parse_json::<Value>(Dialect::V2, br#"{"a": {"b": 1}, "b": 2}"#).ok(),
            Some(json!({"a": {"b": 1}, "b": 2}))
        );
    }

    #[test]
    fn long_keys_are_shortened_in_the_error() {
        let key = "k".repeat(5_000);
        let body = format!(r#"{{"{key}": 1, "{key}": 2}}"#);
        let e = parse_json::<Value>(Dialect::Api, body.as_bytes()).expect_err("duplicate");
        assert!(e.message.chars().count() < 300, "{}", e.message);
    }

    #[test]
    fn yaml_documents_are_checked_too() {
        let e = reject_duplicate_yaml_keys(
            Dialect::V2,
            "settings:\n  preferences:\n    theme: dark\n    theme: light\n",
        )
        .expect_err("duplicate");
        assert_eq!(
            (e.status, e.code),
            (StatusCode::BAD_REQUEST, "INVALID_YAML")
        );
        assert!(e.message.contains(r#""theme""#), "{}", e.message);
        assert_eq!(
            e.details.as_deref().map(|d| d["object"].clone()),
            Some(json!("/settings/preferences"))
        );
        // `1` and `"1"` are the same key once the document is JSON.
        assert!(reject_duplicate_yaml_keys(Dialect::V2, "a:\n  1: x\n  '1': y\n").is_err());
        for ok in [
            "settings:\n  preferences:\n    theme: dark\n",
            "a: [1, 2]\nb: {a: 1}\n",
            "a: !tagged {b: 1}\n",
            "not: [valid",
        ] {
            assert!(reject_duplicate_yaml_keys(Dialect::V2, ok).is_ok(), "{ok}");
        }
        assert!(reject_duplicate_yaml_keys(Dialect::V2, "a: !tagged {b: 1, b: 2}\n").is_err());
    }
}
