//! The free-text and enumerated fields of the team API's member and invitation bodies, as types that
//! only exist valid: a `Department` is at most 100 characters, an `InvitationLifetime` is one of
//! `1d`, `7d`, `30d`. Lengths count characters, not bytes, because the limits are user-facing.

use std::fmt;
use std::str::FromStr;

use crate::TeamError;

fn bounded(
    field: &'static str,
    raw: &str,
    max: usize,
    multiline: bool,
) -> Result<String, TeamError> {
    let trimmed = raw.trim();
    let len = trimmed.chars().count();
    if len > max {
        return Err(TeamError::InvalidField {
            field,
            reason: format!("at most {max} characters (got {len})"),
        });
    }
    // A message may span lines; a department or title never does.
    let allowed = |c: char| multiline && (c == '\n' || c == '\t');
    if trimmed.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err(TeamError::InvalidField {
            field,
            reason: "control characters are not allowed".to_owned(),
        });
    }
    Ok(trimmed.to_owned())
}

macro_rules! bounded_text {
    ($(#[$doc:meta])* $name:ident, $field:literal, $max:literal, $multiline:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            /// The longest value accepted, in characters (after trimming).
            pub const MAX_CHARS: usize = $max;

            /// Parses a value: trimmed, at most `MAX_CHARS` characters, no control characters;
            /// otherwise `TeamError::InvalidField` naming the field.
            pub fn parse(raw: &str) -> Result<Self, TeamError> {
                bounded($field, raw, $max, $multiline).map(Self)
            }

            /// The value, trimmed.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

bounded_text!(
    /// A member's department (the team API: "optional, max 100 characters").
    Department,
    "department",
    100,
    false
);
bounded_text!(
    /// A member's job title (the team API: "optional, max 100 characters").
    Title,
    "title",
    100,
    false
);
bounded_text!(
    /// The personal note carried by an invitation email (the team API: "max 500 characters").
    InviteMessage,
    "message",
    500,
    true
);

/// How long an invitation stays acceptable (the team API `expiresIn`: `1d`, `7d`, `30d`, default
/// `7d`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InvitationLifetime {
    /// One day (`1d`).
    OneDay,
    /// Seven days (`7d`), the default.
    #[default]
    SevenDays,
    /// Thirty days (`30d`).
    ThirtyDays,
}

impl InvitationLifetime {
    /// The team API's word for it (`1d`, `7d`, `30d`).
    pub fn as_str(self) -> &'static str {
        match self {
            InvitationLifetime::OneDay => "1d",
            InvitationLifetime::SevenDays => "7d",
            InvitationLifetime::ThirtyDays => "30d",
        }
    }

    /// The lifetime stored as a number of days.
    pub fn from_days(days: i64) -> Option<Self> {
        [Self::OneDay, Self::SevenDays, Self::ThirtyDays]
            .into_iter()
            .find(|l| l.days() == days)
    }

    /// How many days an invitation sent with this lifetime stays acceptable.
    pub fn days(self) -> i64 {
        match self {
            InvitationLifetime::OneDay => 1,
            InvitationLifetime::SevenDays => 7,
            InvitationLifetime::ThirtyDays => 30,
        }
    }
}

impl FromStr for InvitationLifetime {
    type Err = TeamError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "1d" => Ok(InvitationLifetime::OneDay),
            "7d" => Ok(InvitationLifetime::SevenDays),
            "30d" => Ok(InvitationLifetime::ThirtyDays),
            other => Err(TeamError::InvalidField {
                field: "expiresIn",
                reason: format!("must be one of 1d, 7d, 30d (got {other:?})"),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_count_characters_not_bytes() {
        let accented = "é".repeat(100);
        assert_eq!(
            Department::parse(&accented).map(|d| d.as_str().chars().count()),
            Ok(100)
        );
        let err = Title::parse(&"x".repeat(101));
        assert!(matches!(
            err,
            Err(TeamError::InvalidField { field: "title", .. })
        ));
        assert!(InviteMessage::parse(&"m".repeat(500)).is_ok());
        assert!(InviteMessage::parse(&"m".repeat(501)).is_err());
    }

    #[test]
    fn text_is_trimmed_and_control_characters_refused() {
        assert_eq!(
            Department::parse("  Engineering ").map(|d| d.to_string()),
            Ok("Engineering".into())
        );
        assert!(Title::parse("Lead\u{0}Engineer").is_err());
        assert!(Department::parse("Data\nScience").is_err());
        assert!(InviteMessage::parse("Welcome!\n\nSee you soon.").is_ok());
    }

    #[test]
    fn lifetimes_parse_only_the_seed_values() {
        for l in [
            InvitationLifetime::OneDay,
            InvitationLifetime::SevenDays,
            InvitationLifetime::ThirtyDays,
        ] {
            assert_eq!(l.as_str().parse(), Ok(l));
        }
        assert_eq!(InvitationLifetime::default().days(), 7);
        for bad in ["", "2d", "7D", "7 d", "168h"] {
            assert!(bad.parse::<InvitationLifetime>().is_err(), "{bad}");
        }
    }
}
