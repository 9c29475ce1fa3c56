//! An account's unique slug, safe in URL paths and DNS labels.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::KernelError;

/// An account's unique slug: the settings catalog API puts it in its paths (`/accounts/{accountName}/...`) and
/// the user and organization API shows it as the organization `slug`. 3–63 characters of `a-z`, `0-9` and `-`, starting
/// with a letter and not ending with `-`, so it is safe in a URL path and a DNS label.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccountName(String);

impl AccountName {
    /// Parses a slug; `KernelError::InvalidAccountName` when it breaks the rule above.
    pub fn parse(s: &str) -> Result<Self, KernelError> {
        let ok = (3..=63).contains(&s.len())
            && s.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
            && !s.ends_with('-')
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(KernelError::InvalidAccountName(
                s.chars().take(80).collect(),
            ))
        }
    }

    /// The slug as parsed.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for AccountName {
    type Err = KernelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for AccountName {
    type Error = KernelError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<AccountName> for String {
    fn from(n: AccountName) -> String {
        n.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_slugs_parse() {
        for ok in ["acme", "default", "a-1", "team-42-prod"] {
            assert!(AccountName::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn invalid_slugs_are_refused() {
        for bad in [
            "",
            "ab",
            "Acme",
            "1acme",
            "acme-",
            "ac me",
            "acme_co",
            "äcme",
            &"a".repeat(64),
        ] {
            assert!(AccountName::parse(bad).is_err(), "{bad}");
        }
    }
}
