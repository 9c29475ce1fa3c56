//! Conditional writes (RFC 9110 §13.1.1 `If-Match`, §13.1.2 `If-None-Match`), parsed once for
//! every dialect.
//!
//! The rule: a header that is not a valid field value of its grammar (`"*"` or a list of entity
//! tags) is the client's syntax error and is refused as such (400, `BadPrecondition`); a valid
//! list that names no current tag is an answer to the condition (412), whatever the tags are. A
//! tag the server never issued (`"zzz"`, a tag of another section, a weak tag) is valid syntax
//! that simply does not match, so it fails the condition instead of being "malformed".

use crate::SettingsError;

/// One entity tag: its opaque text between the quotes, and whether it was sent weak (`W/`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct EntityTag {
    weak: bool,
    opaque: String,
}

/// A parsed `If-Match` or `If-None-Match`: `*` or a (possibly empty) list of entity tags.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Condition {
    Any,
    Tags(Vec<EntityTag>),
}

/// Which precondition failed: the adapter answers 412 either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailedPrecondition {
    /// `If-Match` named no current tag: the write was based on an older version.
    IfMatch,
    /// `If-None-Match` named the current tag, or was `*` (a settings resource always exists:
    /// defaults are a representation).
    IfNoneMatch,
}

impl FailedPrecondition {
    /// The header's name, for error details.
    pub fn header(self) -> &'static str {
        match self {
            Self::IfMatch => "If-Match",
            Self::IfNoneMatch => "If-None-Match",
        }
    }
}

/// The preconditions of one write request.
///
/// ```
/// use tenantry_settings::Preconditions;
/// let p = Preconditions::parse(Some("\"s3\", \"zzz\""), None).expect("valid syntax");
/// assert!(p.evaluate(|tag| tag == "s3").is_ok());
/// assert!(p.evaluate(|tag| tag == "s4").is_err());
/// assert!(Preconditions::parse(Some("s3"), None).is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preconditions {
    if_match: Option<Condition>,
    if_none_match: Option<Condition>,
}

impl Preconditions {
    /// No conditions: the write applies to whatever is current.
    pub fn none() -> Self {
        Self::default()
    }

    /// Parses the two headers' values (several header lines joined with `, `). `Err` only for
    /// invalid syntax.
    pub fn parse(
        if_match: Option<&str>,
        if_none_match: Option<&str>,
    ) -> Result<Self, SettingsError> {
        Ok(Self {
            if_match: if_match.map(parse_condition).transpose()?,
            if_none_match: if_none_match.map(parse_condition).transpose()?,
        })
    }

    /// True when `If-Match` is `*`: any current representation satisfies it.
    pub fn if_match_is_any(&self) -> bool {
        matches!(self.if_match, Some(Condition::Any))
    }

    /// Evaluates the conditions against the current representation, which always exists for the
    /// resources this crate writes (defaults are a representation). `is_current(opaque)` says
    /// whether an entity tag's opaque text names the current representation.
    ///
    /// `If-Match` uses the strong comparison (RFC 9110 §13.1.1: a weak tag never matches), then
    /// `If-None-Match` the weak one (§13.1.2), in the order of §13.2.2.
    pub fn evaluate(&self, is_current: impl Fn(&str) -> bool) -> Result<(), FailedPrecondition> {
        if let Some(Condition::Tags(tags)) = &self.if_match {
            if !tags.iter().any(|t| !t.weak && is_current(&t.opaque)) {
                return Err(FailedPrecondition::IfMatch);
            }
        }
        match &self.if_none_match {
            Some(Condition::Any) => Err(FailedPrecondition::IfNoneMatch),
            Some(Condition::Tags(tags)) if tags.iter().any(|t| is_current(&t.opaque)) => {
                Err(FailedPrecondition::IfNoneMatch)
            }
            _ => Ok(()),
        }
    }
}

/// `"*" / #entity-tag` (RFC 9110 §13.1.1), where
/// `entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE` and `etagc = %x21 / %x23-7E / obs-text`.
/// Empty list elements are allowed (§5.6.1), so `""` and `" , "` are an empty list: valid, and
/// matching nothing.
fn parse_condition(value: &str) -> Result<Condition, SettingsError> {
    if value.trim_matches(is_ows) == "*" {
        return Ok(Condition::Any);
    }
    let bytes = value.as_bytes();
    let mut tags = Vec::new();
    let mut i = 0;
    loop {
        // Separators: OWS and empty elements.
        while i < bytes.len() && (bytes[i] == b',' || is_ows_byte(bytes[i])) {
            i += 1;
        }
        if i == bytes.len() {
            // A field with no tag at all (empty, or only commas) is not a condition anyone
            // meant: refused as malformed rather than read as "matches nothing".
            if tags.is_empty() {
                return Err(SettingsError::BadPrecondition);
            }
            return Ok(Condition::Tags(tags));
        }
        let weak = bytes[i..].starts_with(b"W/");
        if weak {
            i += 2;
        }
        if bytes.get(i) != Some(&b'"') {
            return Err(SettingsError::BadPrecondition);
        }
        i += 1;
        let start = i;
        while i < bytes.len() && is_etagc(bytes[i]) {
            i += 1;
        }
        if bytes.get(i) != Some(&b'"') {
            return Err(SettingsError::BadPrecondition);
        }
        // Slicing at ASCII quotes keeps UTF-8 boundaries.
        tags.push(EntityTag {
            weak,
            opaque: value[start..i].to_owned(),
        });
        i += 1;
        while i < bytes.len() && is_ows_byte(bytes[i]) {
            i += 1;
        }
        match bytes.get(i) {
            None => return Ok(Condition::Tags(tags)),
            Some(b',') => {}
            Some(_) => return Err(SettingsError::BadPrecondition),
        }
    }
}

fn is_ows(c: char) -> bool {
    c == ' ' || c == '\t'
}

fn is_ows_byte(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn is_etagc(b: u8) -> bool {
    b == 0x21 || (0x23..=0x7E).contains(&b) || b >= 0x80
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tags(value: &str) -> Vec<(bool, String)> {
        match parse_condition(value) {
            Ok(Condition::Tags(t)) => t.into_iter().map(|t| (t.weak, t.opaque)).collect(),
            other => panic!("{value}: {other:?}"),
        }
    }

    #[test]
    fn lists_parse_per_rfc_9110() {
        assert_eq!(tags("\"s3\""), vec![(false, "s3".into())]);
        assert_eq!(
            tags(" \"a\" ,W/\"b\",, \"c,d\" "),
            vec![
                (false, "a".into()),
                (true, "b".into()),
                (false, "c,d".into())
            ]
        );
        assert_eq!(tags("\"\""), vec![(false, String::new())]);
        assert_eq!(parse_condition(" * ").ok(), Some(Condition::Any));
        // A field naming no tag at all is malformed, not a condition matching nothing.
        for bad in [
            "",
            " , ,",
            "s3",
            "\"s3",
            "\"s 3\"",
            "*, \"a\"",
            "\"a\" \"b\"",
            "w/\"a\"",
            "\"a\"x",
        ] {
            assert_eq!(
                parse_condition(bad),
                Err(SettingsError::BadPrecondition),
                "{bad}"
            );
        }
    }

    #[test]
    fn if_match_is_strong_and_if_none_match_weak() {
        let current = |t: &str| t == "s3";
        let p = |m: Option<&str>, n: Option<&str>| Preconditions::parse(m, n).expect("valid");
        assert_eq!(p(Some("\"s3\""), None).evaluate(current), Ok(()));
        assert_eq!(p(Some("*"), None).evaluate(current), Ok(()));
        assert_eq!(
            p(Some("W/\"s3\""), None).evaluate(current),
            Err(FailedPrecondition::IfMatch)
        );
        assert_eq!(
            p(Some("\"zzz\""), None).evaluate(current),
            Err(FailedPrecondition::IfMatch)
        );
        assert_eq!(
            p(None, Some("W/\"s3\"")).evaluate(current),
            Err(FailedPrecondition::IfNoneMatch)
        );
        assert_eq!(
            p(None, Some("*")).evaluate(current),
            Err(FailedPrecondition::IfNoneMatch)
        );
        assert_eq!(p(None, Some("\"s2\"")).evaluate(current), Ok(()));
        assert_eq!(Preconditions::none().evaluate(current), Ok(()));
    }

    fn opaque() -> impl Strategy<Value = String> {
        // etagc without the quote, including obs-text.
        proptest::collection::vec(
            prop_oneof![Just('!'), proptest::char::range('#', '~'), Just('é')],
            0..12,
        )
        .prop_map(|c| c.into_iter().collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

        /// Any well-formed list that does not hold the current strong tag fails `If-Match`
        /// (412), never as a syntax error (400); adding the current tag makes it pass.
        #[test]
        fn valid_unknown_tags_fail_the_condition_not_the_syntax(
            list in proptest::collection::vec((any::<bool>(), opaque()), 1..5),
            sep in prop_oneof![Just(","), Just(", "), Just(" ,\t"), Just(",,")],
        ) {
            let current = "s-current";
            let render = |list: &[(bool, String)]| list
                .iter()
                .map(|(weak, o)| format!("{}\"{o}\"", if *weak { "W/" } else { "" }))
                .collect::<Vec<_>>()
                .join(sep);
            let value = render(&list);
            let p = Preconditions::parse(Some(&value), None);
            prop_assert!(p.is_ok(), "{value}");
            let p = p.expect("checked");
            let strong_current = list.iter().any(|(weak, o)| !weak && o == current);
            prop_assert_eq!(p.evaluate(|t| t == current).is_ok(), strong_current);

            let mut with_current = list.clone();
            with_current.push((false, current.to_owned()));
            let value = render(&with_current);
            let p = Preconditions::parse(Some(&value), None).expect("valid");
            prop_assert_eq!(p.evaluate(|t| t == current), Ok(()));
            let p = Preconditions::parse(None, Some(&value)).expect("valid");
            prop_assert_eq!(p.evaluate(|t| t == current), Err(FailedPrecondition::IfNoneMatch));
        }

        /// Parsing never panics, whatever the header holds.
        #[test]
        fn parsing_any_text_is_total(value in "\\PC{0,40}") {
            let _ = Preconditions::parse(Some(&value), Some(&value));
        }
    }
}
