//! A person's display name as shown to other people: in member lists, audit trails, invitation
//! and alert emails. Free text, but never text that can disguise itself or what surrounds it:
//! no control characters or line breaks, no bidirectional controls (which reorder the text
//! after them, e.g. `U+202E` turning `Bob\u{202E}nimdA` into "BobAdmin"), and never a name made
//! only of invisible characters or whitespace (a "blank" member nobody can tell apart).
//!
//! Invisible characters *inside* a name stay allowed: zero-width joiners build emoji and
//! Indic and Persian spellings, so only a name with nothing visible is refused.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::KernelError;

/// Why a display name was refused. Its `Display` is a field message ("must ..."), so an
/// adapter can put it next to the field it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisplayNameError {
    /// Nothing left after trimming whitespace.
    Empty,
    /// More characters (not bytes) than allowed, after trimming.
    TooLong {
        /// The most characters allowed.
        max: usize,
        /// How many were given.
        got: usize,
    },
    /// A control character (`U+0000`–`U+001F`, `U+007F`–`U+009F`) or a line/paragraph separator.
    ControlCharacter,
    /// A bidirectional control or mark (`U+202A`–`U+202E`, `U+2066`–`U+2069`, `U+200E`,
    /// `U+200F`, `U+061C`).
    BidiControl(char),
    /// Only invisible characters and whitespace (zero-width spaces, fillers, soft hyphens...).
    NothingVisible,
}

impl fmt::Display for DisplayNameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DisplayNameError::Empty => f.write_str("must not be empty"),
            DisplayNameError::TooLong { max, got } => {
                write!(f, "must be at most {max} characters (got {got})")
            }
            DisplayNameError::ControlCharacter => {
                f.write_str("must not contain control characters or line breaks")
            }
            DisplayNameError::BidiControl(c) => write!(
                f,
                "must not contain bidirectional control characters (found U+{:04X})",
                u32::from(*c)
            ),
            DisplayNameError::NothingVisible => {
                f.write_str("must contain a visible character, not only invisible ones or spaces")
            }
        }
    }
}

impl std::error::Error for DisplayNameError {}

/// A valid display name: trimmed, 1 to [`DisplayName::MAX_CHARS`] characters, without control
/// characters or bidirectional controls, with at least one visible character.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DisplayName(String);

impl DisplayName {
    /// The longest display name of a person, in characters.
    pub const MAX_CHARS: usize = 100;

    /// The longest display name of an account (an organization), for
    /// [`DisplayName::parse_with_max`].
    pub const MAX_ACCOUNT_CHARS: usize = 200;

    /// Trims surrounding whitespace and checks the rules above.
    ///
    /// ```
    /// # use tenantry_kernel::DisplayName;
    /// assert_eq!(DisplayName::parse("  Alex Morgan ").unwrap().as_str(), "Alex Morgan");
    /// assert!(DisplayName::parse("Bob\u{202E}nimdA").is_err());
    /// assert!(DisplayName::parse("\u{200B}\u{3164}").is_err());
    /// ```
    pub fn parse(raw: &str) -> Result<Self, KernelError> {
        Self::parse_with_max(raw, Self::MAX_CHARS)
    }

    /// The same rules with another length bound, for names whose contract allows more
    /// characters (an account's display name: [`DisplayName::MAX_ACCOUNT_CHARS`]).
    pub fn parse_with_max(raw: &str, max_chars: usize) -> Result<Self, KernelError> {
        check(raw.trim(), max_chars)
            .map(|name| Self(name.to_owned()))
            .map_err(KernelError::InvalidDisplayName)
    }

    /// The name as parsed.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

fn check(name: &str, max_chars: usize) -> Result<&str, DisplayNameError> {
    if name.is_empty() {
        return Err(DisplayNameError::Empty);
    }
    if let Some(c) = name.chars().find(|&c| is_bidi_control(c)) {
        return Err(DisplayNameError::BidiControl(c));
    }
    if name.chars().any(|c| c.is_control() || is_line_separator(c)) {
        return Err(DisplayNameError::ControlCharacter);
    }
    let got = name.chars().count();
    if got > max_chars {
        return Err(DisplayNameError::TooLong {
            max: max_chars,
            got,
        });
    }
    if name.chars().all(is_invisible) {
        return Err(DisplayNameError::NothingVisible);
    }
    Ok(name)
}

/// Explicit directional formatting (embeddings, overrides, isolates) and the implicit marks.
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
    )
}

fn is_line_separator(c: char) -> bool {
    matches!(c, '\u{2028}' | '\u{2029}')
}

/// Whitespace and the characters that render as nothing (or as blank space) in common fonts.
fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{00AD}' // soft hyphen
                | '\u{034F}' // combining grapheme joiner
                | '\u{115F}' | '\u{1160}' // Hangul choseong/jungseong fillers
                | '\u{17B4}' | '\u{17B5}' // Khmer inherent vowels
                | '\u{180B}'..='\u{180F}' // Mongolian variation selectors, vowel separator
                | '\u{200B}'..='\u{200D}' // zero-width space, non-joiner, joiner
                | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
                | '\u{206A}'..='\u{206F}' // deprecated format characters
                | '\u{2800}' // braille blank
                | '\u{3164}' // Hangul filler
                | '\u{FE00}'..='\u{FE0F}' // variation selectors
                | '\u{FEFF}' // zero-width no-break space (BOM)
                | '\u{FFA0}' // halfwidth Hangul filler
                | '\u{1D159}' | '\u{1D173}'..='\u{1D17A}' // musical null notehead, format controls
                | '\u{E0000}'..='\u{E007F}' // tags
                | '\u{E0100}'..='\u{E01EF}' // variation selectors supplement
        )
}

impl fmt::Display for DisplayName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for DisplayName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for DisplayName {
    type Err = KernelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for DisplayName {
    type Error = KernelError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<DisplayName> for String {
    fn from(n: DisplayName) -> String {
        n.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn reason(raw: &str) -> Option<DisplayNameError> {
        match DisplayName::parse(raw) {
            Ok(_) => None,
            Err(KernelError::InvalidDisplayName(why)) => Some(why),
            Err(other) => panic!("unexpected error {other}"),
        }
    }

    #[test]
    fn ordinary_names_are_trimmed_and_kept() {
        for (raw, kept) in [
            ("Alex Morgan", "Alex Morgan"),
            ("  Zoë  ", "Zoë"),
            ("\tJosé María\n", "José María"),
            ("李小龍", "李小龍"),
            ("محمد", "محمد"),
            ("नमस्ते", "नमस्ते"),
            (
                "Family 👨\u{200D}👩\u{200D}👧",
                "Family 👨\u{200D}👩\u{200D}👧",
            ),
            ("می\u{200C}خواهم", "می\u{200C}خواهم"),
            ("x", "x"),
        ] {
            assert_eq!(
                DisplayName::parse(raw).map(DisplayName::into_string),
                Ok(kept.to_owned()),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        assert!(DisplayName::parse(&"é".repeat(100)).is_ok());
        assert_eq!(
            reason(&"é".repeat(101)),
            Some(DisplayNameError::TooLong { max: 100, got: 101 })
        );
        assert!(DisplayName::parse_with_max(&"a".repeat(200), 200).is_ok());
        assert!(DisplayName::parse_with_max(&"a".repeat(201), 200).is_err());
        assert_eq!(reason(""), Some(DisplayNameError::Empty));
        assert_eq!(reason(" \t "), Some(DisplayNameError::Empty));
    }

    #[test]
    fn bidi_controls_are_refused_anywhere() {
        for c in [
            '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}',
            '\u{2068}', '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}',
        ] {
            for raw in [format!("{c}Bob"), format!("Bob{c}nimdA"), format!("Bob{c}")] {
                assert_eq!(
                    reason(&raw),
                    Some(DisplayNameError::BidiControl(c)),
                    "{raw:?}"
                );
            }
        }
        assert_eq!(
            reason("Bob\u{202E}").map(|e| e.to_string()).as_deref(),
            Some("must not contain bidirectional control characters (found U+202E)")
        );
    }

    #[test]
    fn control_characters_and_line_breaks_are_refused() {
        for raw in [
            "Bob\0",
            "Bob\nAdmin",
            "a\rb",
            "a\u{7}b",
            "a\u{85}b",
            "a\u{9B}b",
            "a\u{2028}b",
            "a\u{2029}b",
            "a\tb",
        ] {
            assert_eq!(
                reason(raw),
                Some(DisplayNameError::ControlCharacter),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn names_with_nothing_visible_are_refused() {
        for raw in [
            "\u{200B}",
            "\u{2060}",
            "\u{FEFF}",
            "\u{3164}",
            "\u{115F}",
            "\u{1160}",
            "\u{00AD}",
            "\u{FFA0}",
            "\u{2800}",
            "\u{200B}\u{3000}\u{200B}",
            "\u{3164}\u{3164}\u{3164}",
            "\u{200D}\u{200C}",
            "\u{E0041}\u{E0042}",
            " \u{00A0}\u{200B} ",
        ] {
            assert_eq!(
                reason(raw),
                Some(DisplayNameError::NothingVisible),
                "{raw:?}"
            );
        }
        // One visible character is enough.
        assert!(DisplayName::parse("\u{200B}a\u{200B}").is_ok());
    }

    #[test]
    fn serde_goes_through_parse() {
        let name: DisplayName = serde_json::from_str("\" Ana \"").expect("valid");
        assert_eq!(name.as_str(), "Ana");
        assert_eq!(serde_json::to_string(&name).expect("json"), "\"Ana\"");
        assert!(serde_json::from_str::<DisplayName>("\"\\u202eAna\"").is_err());
        assert!(serde_json::from_str::<DisplayName>("\"\\u200b\"").is_err());
    }

    const BIDI: &[char] = &[
        '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}',
        '\u{2068}', '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}',
    ];
    const INVISIBLE: &[char] = &[
        ' ',
        '\u{A0}',
        '\u{3000}',
        '\u{2003}',
        '\u{200B}',
        '\u{200C}',
        '\u{200D}',
        '\u{2060}',
        '\u{FEFF}',
        '\u{3164}',
        '\u{115F}',
        '\u{1160}',
        '\u{AD}',
        '\u{FFA0}',
        '\u{180E}',
        '\u{FE0F}',
        '\u{E0020}',
    ];

    proptest! {
        // Fixed budget, no persistence file: the failing input is printed instead.
        #![proptest_config(ProptestConfig {
            cases: 512,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        /// Soundness: whatever the input, an accepted name satisfies every rule, is the trimmed
        /// input, and parses to itself.
        #[test]
        fn accepted_names_satisfy_every_rule(raw in any::<String>()) {
            if let Ok(name) = DisplayName::parse(&raw) {
                let s = name.as_str();
                prop_assert_eq!(s, raw.trim());
                prop_assert!((1..=DisplayName::MAX_CHARS).contains(&s.chars().count()));
                prop_assert!(!s.chars().any(|c| c.is_control() || is_bidi_control(c)));
                prop_assert!(!s.chars().all(is_invisible));
                prop_assert_eq!(DisplayName::parse(s), Ok(name.clone()));
            }
        }

        /// A bidi control anywhere in an otherwise valid name is refused.
        #[test]
        fn a_bidi_control_anywhere_is_refused(
            name in "[A-Za-z0-9 éü李]{1,90}",
            at in any::<prop::sample::Index>(),
            bidi in prop::sample::select(BIDI),
        ) {
            let mut chars: Vec<char> = name.chars().collect();
            chars.insert(at.index(chars.len() + 1), bidi);
            let raw: String = chars.into_iter().collect();
            prop_assert_eq!(reason(&raw), Some(DisplayNameError::BidiControl(bidi)));
        }

        /// Any mix of invisible characters and whitespace is refused, and adding one visible
        /// character makes it acceptable.
        #[test]
        fn invisible_only_names_are_refused(
            invisible in prop::collection::vec(prop::sample::select(INVISIBLE), 1..40),
            at in any::<prop::sample::Index>(),
        ) {
            let raw: String = invisible.iter().collect();
            prop_assert!(DisplayName::parse(&raw).is_err(), "{:?}", raw);
            let mut with_letter = invisible.clone();
            with_letter.insert(at.index(with_letter.len() + 1), 'A');
            let raw: String = with_letter.into_iter().collect();
            prop_assert!(DisplayName::parse(&raw).is_ok(), "{:?}", raw);
        }

        /// Printable names within the limit are accepted unchanged.
        #[test]
        fn printable_names_round_trip(name in "[A-Za-z][A-Za-z0-9 .'é李-]{0,98}[a-z]") {
            let parsed = DisplayName::parse(&name);
            prop_assert_eq!(parsed.map(String::from), Ok(name));
        }
    }
}
