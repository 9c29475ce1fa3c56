//! The field a position in a JSON document falls in, so a body that is well-formed JSON but of
//! the wrong shape is answered with the field it is wrong in (`fields: [{field, message}]`), not
//! only a line and column. serde_json reports where deserialization stopped and, for missing
//! and unknown fields, the field's name, but never the path to it; this recovers the path from
//! the document and the position.

/// The byte offset of serde_json's 1-based `line` and `column` (0 when it has none).
pub(crate) fn byte_offset(doc: &[u8], line: usize, column: usize) -> Option<usize> {
    if line == 0 {
        return None;
    }
    let line_start = if line == 1 {
        0
    } else {
        doc.iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .nth(line - 2)
            .map(|(i, _)| i + 1)?
    };
    Some((line_start + column.saturating_sub(1)).min(doc.len()))
}

enum Frame {
    /// `key`: the last key read; `awaiting_key`: a `"` now opens a key.
    Object {
        key: Option<String>,
        awaiting_key: bool,
    },
    Array {
        index: usize,
    },
}

/// The containers enclosing `offset` (a byte offset into a syntactically valid document), each
/// with the key or index that `offset` lies under, outermost first.
fn frames_at(doc: &[u8], offset: usize) -> Vec<Frame> {
    let mut stack: Vec<Frame> = Vec::new();
    let mut in_string = false;
    let mut escaped = false;
    let mut key: Option<Vec<u8>> = None;
    for &b in doc.iter().take(offset) {
        if in_string {
            if escaped {
                escaped = false;
                if let Some(k) = key.as_mut() {
                    k.push(b);
                }
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
                if let (Some(k), Some(Frame::Object { key: current, .. })) =
                    (key.take(), stack.last_mut())
                {
                    *current = Some(String::from_utf8_lossy(&k).into_owned());
                }
            } else if let Some(k) = key.as_mut() {
                k.push(b);
            }
            continue;
        }
        match (b, stack.last_mut()) {
            (b'"', Some(Frame::Object { awaiting_key, .. })) if *awaiting_key => {
                *awaiting_key = false;
                in_string = true;
                key = Some(Vec::new());
            }
            (b'"', _) => in_string = true,
            (b'{', _) => stack.push(Frame::Object {
                key: None,
                awaiting_key: true,
            }),
            (b'[', _) => stack.push(Frame::Array { index: 0 }),
            (b'}' | b']', _) => {
                stack.pop();
            }
            (b',', Some(Frame::Array { index })) => *index += 1,
            (b',', Some(Frame::Object { awaiting_key, .. })) => *awaiting_key = true,
            _ => {}
        }
    }
    stack
}

fn segment(frame: &Frame) -> Option<String> {
    match frame {
        Frame::Object { key, .. } => key.clone(),
        Frame::Array { index } => Some(index.to_string()),
    }
}

/// The dotted path (`security.api_access.ip_whitelist`, array elements by index:
/// `channels.0.url`) of the value at `offset`; empty for the document itself.
pub(crate) fn value_path(doc: &[u8], offset: usize) -> String {
    frames_at(doc, offset)
        .iter()
        .filter_map(segment)
        .collect::<Vec<_>>()
        .join(".")
}

/// The dotted path of the object that `offset` lies in, for a field serde names itself (a
/// missing or an unknown one): `name` under that object's path.
pub(crate) fn member_path(doc: &[u8], offset: usize, name: &str) -> String {
    let frames = frames_at(doc, offset);
    let mut path: Vec<String> = match frames.split_last() {
        Some((_, outer)) => outer.iter().filter_map(segment).collect(),
        None => Vec::new(),
    };
    path.push(name.to_owned());
    path.join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The path at serde_json's reported position for a document that fails as `T`.
    fn reported<T: serde::de::DeserializeOwned + std::fmt::Debug>(doc: &str) -> (String, String) {
        let e = serde_json::from_str::<T>(doc).expect_err("must fail");
        let offset = byte_offset(doc.as_bytes(), e.line(), e.column()).expect("position");
        (
            value_path(doc.as_bytes(), offset),
            member_path(doc.as_bytes(), offset, "x"),
        )
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        n: u32,
        s: Option<String>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        label: Option<String>,
        inner: Option<Inner>,
        list: Option<Vec<Inner>>,
    }

    #[test]
    fn a_wrong_value_is_found_under_its_key() {
        assert_eq!(reported::<Outer>(r#"{"label": 5}"#).0, "label");
        assert_eq!(
            reported::<Outer>("{\"label\": \"a\\\"b\",\n \"inner\": {\"n\": \"7\"}}").0,
            "inner.n"
        );
        assert_eq!(
            reported::<Outer>(r#"{"list": [{"n": 1}, {"n": -1}]}"#).0,
            "list.1.n"
        );
        assert_eq!(reported::<Outer>(r#""text""#).0, "");
    }

    #[test]
    fn a_missing_or_unknown_field_is_named_under_its_object() {
        assert_eq!(reported::<Outer>(r#"{"inner": {"s": "a"}}"#).1, "inner.x");
        assert_eq!(
            reported::<Outer>(r#"{"inner": {"n": 1, "zz": 2}}"#).1,
            "inner.x"
        );
        assert_eq!(reported::<Inner>(r#"{}"#).1, "x");
        assert_eq!(reported::<Inner>(r#"{"n": 1, "zz": 2}"#).1, "x");
    }
}
