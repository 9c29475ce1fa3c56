//! Email addresses in canonical form.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::KernelError;

/// An email address in the practical subset every mail system accepts: `local@domain`, local part
/// 1–64 printable ASCII characters without spaces, domain of dot-separated labels (letters, digits,
/// hyphens) with at least one dot or `localhost`, 254 characters at most.
///
/// The value is canonical: trimmed and lowercased whole. RFC 5321 lets a mail server treat the
/// local part case-sensitively, but no mainstream provider does, and an identity keyed on a
/// case-sensitive address lets `JSmith@example.com` become a second user beside
/// `jsmith@example.com` (or slip past a throttle keyed on the other spelling). Every lookup,
/// uniqueness check and throttle therefore uses this one form.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// Parses an address (trimmed, lowercased); `KernelError::InvalidEmail` when it is not one.
    pub fn parse(s: &str) -> Result<Self, KernelError> {
        let invalid = || KernelError::InvalidEmail(s.chars().take(80).collect());
        let s = s.trim();
        if s.len() > 254 {
            return Err(invalid());
        }
        let (local, domain) = s.rsplit_once('@').ok_or_else(invalid)?;
        let local_ok = (1..=64).contains(&local.len())
            && local.bytes().all(|b| {
                b.is_ascii_graphic()
                    && !matches!(
                        b,
                        b'@' | b'"'
                            | b'('
                            | b')'
                            | b','
                            | b':'
                            | b';'
                            | b'<'
                            | b'>'
                            | b'['
                            | b']'
                            | b'\\'
                    )
            })
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..");
        let local = local.to_ascii_lowercase();
        let domain = domain.to_ascii_lowercase();
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = (labels.len() >= 2 || domain == "localhost")
            && labels.iter().all(|l| {
                (1..=63).contains(&l.len())
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if local_ok && domain_ok {
            Ok(Self(format!("{local}@{domain}")))
        } else {
            Err(invalid())
        }
    }

    /// The address as parsed.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Email {
    type Err = KernelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for Email {
    type Error = KernelError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Email> for String {
    fn from(e: Email) -> String {
        e.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_addresses_parse_to_one_canonical_form() {
        assert_eq!(
            Email::parse("Jane.Doe+x@Example.COM").map(|e| e.0),
            Ok("jane.doe+x@example.com".into())
        );
        assert_eq!(
            Email::parse("  JSmith@Example.com ").map(|e| e.0),
            Email::parse("jsmith@example.com").map(|e| e.0)
        );
        assert!(Email::parse("owner@localhost").is_ok());
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for bad in [
            "",
            "plain",
            "@x.com",
            "a@",
            "a@b",
            "a b@x.com",
            "a@-x.com",
            "a@x..com",
            ".a@x.com",
            "a..b@x.com",
            "a@x_y.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    /// Law: every spelling of an address that differs only in case or surrounding spaces parses
    /// to the same canonical value, and the canonical value parses to itself. Seeded generator,
    /// fixed budget; the failing seed is printed.
    #[test]
    fn case_and_spacing_never_make_a_second_address() {
        const ALPHABET: &[u8] = b"abcXYZ09._+-";
        for seed in 0..2_000u64 {
            let mut state = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let mut next = |n: usize| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                ((state >> 33) as usize) % n
            };
            let local: String = (0..1 + next(12))
                .map(|_| ALPHABET[next(ALPHABET.len())] as char)
                .collect();
            let raw = format!("{local}@Ex{}.Example.COM", next(100));
            let Ok(canonical) = Email::parse(&raw) else {
                continue;
            };
            let flipped: String = raw
                .chars()
                .map(|c| {
                    if next(2) == 0 {
                        c.to_ascii_uppercase()
                    } else {
                        c.to_ascii_lowercase()
                    }
                })
                .collect();
            let spaced = format!("{}{flipped}{}", " ".repeat(next(3)), "\t".repeat(next(2)));
            assert_eq!(
                Email::parse(&spaced).as_ref(),
                Ok(&canonical),
                "seed {seed}: {raw:?}"
            );
            assert_eq!(
                Email::parse(canonical.as_str()).as_ref(),
                Ok(&canonical),
                "seed {seed}"
            );
            assert_eq!(
                canonical.as_str(),
                canonical.as_str().to_lowercase(),
                "seed {seed}"
            );
        }
    }
}
