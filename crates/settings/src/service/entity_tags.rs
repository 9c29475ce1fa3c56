//! The entity tags of the account settings sections: a section's own tag (`"s3"`) and the whole
//! document's (`"n1.b1.s3.i1.o1.p0"`) both name the section's version, so either can guard a
//! write of it; any other tag names none, and a precondition on it fails rather than being
//! malformed.

use super::*;

/// The ETag of one section: its letter and version, the same token the whole-document ETag
/// carries for it, so either can be sent back in `If-Match`.
pub fn section_etag(section: Section, version: i64) -> String {
    format!("\"{}{version}\"", section.letter())
}

/// Which version of `section` an entity tag's opaque text names: the section's own ETag
/// (`s3`) or the whole-document ETag (`n1.b1.s3.i1.o1.p0`). Any other text names none: it is a
/// tag this server never issued for the section, so a precondition on it fails (412) rather
/// than being malformed (precondition.rs).
fn names_version(section: Section, opaque: &str) -> Option<i64> {
    let version = |part: &str, letter: char| {
        part.strip_prefix(letter)
            // Only the spelling this server issues: no sign, no leading zero.
            .filter(|v| {
                !v.is_empty()
                    && v.bytes().all(|b| b.is_ascii_digit())
                    && (v.len() == 1 || !v.starts_with('0'))
            })
            .and_then(|v| v.parse::<i64>().ok())
    };
    if let Some(v) = version(opaque, section.letter()) {
        return Some(v);
    }
    let parts: Vec<&str> = opaque.split('.').collect();
    let letters = ['n', 'b', 's', 'i', 'o', 'p'];
    if parts.len() != letters.len() {
        return None;
    }
    let mut named = None;
    for (part, letter) in parts.into_iter().zip(letters) {
        let v = version(part, letter)?;
        if letter == section.letter() {
            named = Some(v);
        }
    }
    named
}

/// The precondition check of a write of `section`, whose current version is `current`.
pub(super) fn check_section(
    preconditions: &Preconditions,
    section: Section,
    current: i64,
) -> Result<(), SettingsError> {
    preconditions
        .evaluate(|tag| names_version(section, tag) == Some(current))
        .map_err(|failed| match failed {
            FailedPrecondition::IfMatch => SettingsError::VersionConflict { current },
            FailedPrecondition::IfNoneMatch => SettingsError::PreconditionFailed {
                header: failed.header(),
                etag: section_etag(section, current),
            },
        })
}

impl Section {
    pub(crate) fn letter(self) -> char {
        match self {
            Section::Notifications => 'n',
            Section::Billing => 'b',
            Section::Security => 's',
            Section::Integrations => 'i',
            Section::Organization => 'o',
            Section::Preferences => 'p',
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_name_a_version_of_their_own_section_only() {
        assert_eq!(names_version(Section::Security, "s3"), Some(3));
        assert_eq!(
            names_version(Section::Security, "n1.b1.s7.i1.o1.p0"),
            Some(7)
        );
        for other in [
            "s2",
            "zzz",
            "b",
            "b-1",
            "b+2",
            "b02",
            "n1.b1.s7",
            "x1.b2.s1.i1.o1.p0",
            "",
        ] {
            assert_eq!(names_version(Section::Billing, other), None, "{other}");
        }
        let p = |h: &str| Preconditions::parse(Some(h), None).expect("valid syntax");
        assert_eq!(
            check_section(&p("\"b2\", \"b4\""), Section::Billing, 4),
            Ok(())
        );
        assert_eq!(check_section(&p("*"), Section::Billing, 9), Ok(()));
        // Never issued (another section's tag, unknown text, weak): the condition fails.
        for unknown in ["\"s2\"", "\"zzz\"", "W/\"b2\""] {
            assert_eq!(
                check_section(&p(unknown), Section::Billing, 2),
                Err(SettingsError::VersionConflict { current: 2 }),
                "{unknown}"
            );
        }
        assert!(Preconditions::parse(Some("b2"), None).is_err());
    }
}
