//! A conflicting settings edit, three ways: for each field, its value when the visitor opened
//! the form (the base the form carries), what is saved now, and what the visitor sent.
//!
//! The base tells whose change a difference is: a field someone else changed, one only the
//! visitor changed, or one both changed differently (the real conflict). It only drives what the
//! conflict page shows and how its form is pre-filled; it never decides what is written: the
//! write is the posted form through the service with `If-Match`, so a forged base can only
//! mislead the page shown to its own poster. Secrets are write-only and never part of it.

use maud::{html, Markup};
use serde_json::{Map, Value};

use crate::settings::label;
use crate::settings_form::{set, shown, value_at, Field, Form, Kind, Posted};

/// Longest base a form carries or may post (characters of its JSON). A section whose values are
/// longer (an allowlist of some hundreds of entries) is drawn without one, and a conflict then
/// cannot tell whose change a difference is (`Change::Unknown`).
pub(crate) const BASE_MAX: usize = 8 * 1024;

/// Whose change a field's difference is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    /// Someone else changed it; the visitor did not (or made the same change).
    Theirs,
    /// Only the visitor changed it: kept in the form for the next submit.
    Yours,
    /// Both changed it, differently: the form shows the saved value.
    Both,
    /// The form carried no base: the saved value differs from the visitor's.
    Unknown,
}

impl Change {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Change::Theirs => "theirs",
            Change::Yours => "yours",
            Change::Both => "conflict",
            Change::Unknown => "unknown",
        }
    }
}

/// One field of a conflicting edit, its values as text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Difference {
    pub path: String,
    pub change: Change,
    pub opened: Option<String>,
    pub saved: String,
    pub yours: String,
}

/// The fields that are not secret, the only ones a base holds.
fn public_fields(form: &Form) -> impl Iterator<Item = &Field> {
    form.fields.iter().filter(|f| f.kind != Kind::Secret)
}

/// `value` without anything secret: inside a list of items, their secret fields (a typed token)
/// and the read's `{"configured": true}` markers are dropped.
fn without_secrets(field: &Field, value: Value) -> Value {
    let mut value = value;
    if let (Kind::Items { fields, .. }, Value::Array(items)) = (&field.kind, &mut value) {
        for item in items.iter_mut().filter_map(Value::as_object_mut) {
            for secret in fields.iter().filter(|f| f.kind == Kind::Secret) {
                remove(item, &secret.path);
            }
            item.retain(|_, v| !v.is_object());
        }
    }
    value
}

fn remove(map: &mut Map<String, Value>, path: &str) {
    match path.split_once('.') {
        Some((head, rest)) => {
            if let Some(Value::Object(child)) = map.get_mut(head) {
                remove(child, rest);
            }
        }
        None => {
            map.remove(path);
        }
    }
}

fn public_value(field: &Field, doc: &Value) -> Value {
    without_secrets(
        field,
        value_at(doc, &field.path).cloned().unwrap_or(Value::Null),
    )
}

/// The base a form drawn from `doc` carries: each non-secret field's value by path, as JSON;
/// none when longer than [`BASE_MAX`].
pub(crate) fn base_of(form: &Form, doc: &Value) -> Option<String> {
    let base: Map<String, Value> = public_fields(form)
        .map(|f| (f.path.clone(), public_value(f, doc)))
        .collect();
    let text = Value::Object(base).to_string();
    (text.chars().count() <= BASE_MAX).then_some(text)
}

/// The posted base: absent (a page drawn without one), or the refusal's message for an
/// oversized or malformed one. It must be a JSON object whose keys are the form's non-secret
/// field paths; secrets inside items are dropped whatever it holds.
pub(crate) fn posted_base(
    form: &Form,
    posted: &Posted,
) -> Result<Option<Map<String, Value>>, String> {
    let text = match posted.get("base").map(Vec::as_slice) {
        None | Some([]) => return Ok(None),
        Some([text]) => text,
        Some(_) => return Err("The field base was sent twice. Nothing was changed.".into()),
    };
    if text.chars().count() > BASE_MAX {
        return Err(format!(
            "The values the form was drawn from are longer than {BASE_MAX} characters. Nothing \
             was changed; reload the page and try again."
        ));
    }
    let malformed = || {
        "The values the form was drawn from could not be read. Nothing was changed; reload the \
         page and try again."
            .to_owned()
    };
    let Ok(Value::Object(mut base)) = serde_json::from_str::<Value>(text) else {
        return Err(malformed());
    };
    if base
        .keys()
        .any(|k| !public_fields(form).any(|f| &f.path == k))
    {
        return Err(malformed());
    }
    for field in public_fields(form) {
        if let Some(v) = base.get_mut(&field.path) {
            *v = without_secrets(field, v.take());
        }
    }
    Ok(Some(base))
}

/// Equal values, a number typed as 24 and stored as 24.0 being the same.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => "(none)".to_owned(),
        Value::Array(items) if items.is_empty() => "(none)".to_owned(),
        Value::Array(items) if items.iter().all(Value::is_string) => {
            shown(Some(v)).replace('\n', ", ")
        }
        _ => shown(Some(v)),
    }
}

/// The differences of a conflicting edit, field by field, and the document the form shows next:
/// the saved one with the visitor's changes nobody else made. `yours` is the posted document,
/// `saved` the section as read now, `base` what the form was drawn from (when it carried one).
pub(crate) fn compare(
    form: &Form,
    base: Option<&Map<String, Value>>,
    yours: &Value,
    saved: &Value,
) -> (Vec<Difference>, Value) {
    let mut next = saved.clone();
    let mut out = Vec::new();
    for field in public_fields(form) {
        let (y, s) = (public_value(field, yours), public_value(field, saved));
        let opened = base.map(|b| b.get(&field.path).cloned().unwrap_or(Value::Null));
        let change = match &opened {
            None if same(&y, &s) => continue,
            None => Change::Unknown,
            Some(b) => match (!same(b, &s), !same(&y, b)) {
                (false, false) => continue,
                (true, false) => Change::Theirs,
                (false, true) => Change::Yours,
                (true, true) if same(&y, &s) => Change::Theirs,
                (true, true) => Change::Both,
            },
        };
        if change == Change::Yours {
            if let Value::Object(map) = &mut next {
                set(map, &field.path, y.clone());
            }
        }
        out.push(Difference {
            path: field.path.clone(),
            change,
            opened: opened.as_ref().map(text),
            saved: text(&s),
            yours: text(&y),
        });
    }
    (out, next)
}

/// Whether the visitor typed a secret: it was not saved and is not shown again.
pub(crate) fn typed_secret(form: &Form, posted: &Posted) -> bool {
    let secret = |name: &str| {
        form.fields.iter().any(|f| match &f.kind {
            Kind::Secret => f.path == name,
            Kind::Items { fields, .. } => name
                .strip_prefix(f.path.as_str())
                .and_then(|rest| rest.strip_prefix('['))
                .and_then(|rest| rest.split_once("]."))
                .is_some_and(|(_, sub)| {
                    fields
                        .iter()
                        .any(|s| s.kind == Kind::Secret && s.path == sub)
                }),
            _ => false,
        })
    };
    posted
        .iter()
        .any(|(name, values)| secret(name) && values.iter().any(|v| !v.is_empty()))
}

/// The conflict notice above the form.
pub(crate) fn notice(differences: &[Difference], secret_typed: bool) -> Markup {
    let what = |c: Change| match c {
        Change::Theirs => "changed by someone else: the form shows the saved value",
        Change::Yours => "changed by you only: the form keeps your value",
        Change::Both => "changed by you and by someone else: the form shows the saved value",
        Change::Unknown => "differs from yours: the form shows the saved value",
    };
    let carried = differences.iter().all(|d| d.opened.is_some());
    html! {
        div.error #conflict role="alert" {
            p { strong { "Nothing was saved:" } " someone changed these settings after you opened \
                this page." }
            @if !carried {
                p { "This page was too large to carry the values you opened it with, so it \
                     cannot tell whose change each difference is." }
            }
            ul #changes {
                @for d in differences {
                    li data-field=(d.path) data-change=(d.change.as_str()) {
                        strong { (label(&d.path)) } ": " (what(d.change))
                        dl.facts {
                            @if let Some(opened) = &d.opened { dt { "When you opened it" } dd { (opened) } }
                            dt { "Saved now" } dd { (d.saved) }
                            dt { "You sent" } dd { (d.yours) }
                        }
                    }
                }
            }
            p { "The form below holds the saved values with your changes nobody else made, and the \
                 current version: save it to apply them. Where someone else changed a field, \
                 check the saved value and change it again if yours should win." }
            @if secret_typed {
                p { "The secrets you typed were not saved and are not shown again: type them \
                     again before saving." }
            }
        }
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

    fn change(diffs: &[Difference], path: &str) -> Option<Change> {
        diffs.iter().find(|d| d.path == path).map(|d| d.change)
    }

    #[test]
    fn each_difference_is_named_by_whose_change_it_is() {
        let form = form(Section::Preferences);
        let base = json!({ "timezone": null, "language": "en", "theme": "light" });
        let saved = json!({ "timezone": "UTC", "language": "fr", "theme": "light" });
        let yours = json!({ "timezone": "Asia/Tokyo", "language": "en", "theme": "dark" });
        let Value::Object(base) = base else {
            unreachable!()
        };
        let (diffs, next) = compare(&form, Some(&base), &yours, &saved);
        assert_eq!(change(&diffs, "language"), Some(Change::Theirs));
        assert_eq!(change(&diffs, "theme"), Some(Change::Yours));
        assert_eq!(change(&diffs, "timezone"), Some(Change::Both));
        assert_eq!(
            next,
            json!({ "timezone": "UTC", "language": "fr", "theme": "dark" })
        );
        let (diffs, next) = compare(&form, None, &yours, &saved);
        assert!(diffs
            .iter()
            .all(|d| d.change == Change::Unknown && d.opened.is_none()));
        assert_eq!(
            next, saved,
            "without a base nothing of the visitor's is carried"
        );
    }

    #[test]
    fn a_base_holds_no_secret_and_refuses_what_is_not_a_field() {
        let form = form(Section::Integrations);
        let doc = json!({
            "github": { "username": "octo", "access_token": { "configured": true } },
            "docker": { "registries": [{ "url": "r.example.test", "access_token": { "configured": true } }] },
        });
        let text = base_of(&form, &doc).expect("small");
        assert!(
            !text.contains("configured") && !text.contains("access_token"),
            "{text}"
        );
        let post = |v: &str| Posted::from([("base".to_owned(), vec![v.to_owned()])]);
        assert!(posted_base(&form, &post(&text)).expect("read").is_some());
        assert!(posted_base(&form, &post("[1]")).is_err());
        assert!(posted_base(&form, &post("{\"github.access_token\": \"x\"}")).is_err());
        assert!(posted_base(&form, &post(&" ".repeat(BASE_MAX + 1))).is_err());
        let forged = r#"{"docker.registries": [{"url": "r", "access_token": "typed"}]}"#;
        let read = posted_base(&form, &post(forged))
            .expect("read")
            .expect("base");
        assert_eq!(read["docker.registries"], json!([{ "url": "r" }]));
        assert!(!typed_secret(
            &form,
            &Posted::from([(
                "docker.registries[0].access_token".to_owned(),
                vec![String::new()]
            )])
        ));
        assert!(typed_secret(
            &form,
            &Posted::from([(
                "docker.registries[0].access_token".to_owned(),
                vec!["t".to_owned()]
            )])
        ));
        assert!(typed_secret(
            &form,
            &Posted::from([("github.access_token".to_owned(), vec!["t".to_owned()])])
        ));
    }
}
