//! IANA time zone names.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An IANA time zone name known to the bundled tz database (chrono-tz), e.g. `Europe/London`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Timezone(chrono_tz::Tz);

impl Timezone {
    /// Coordinated Universal Time, the default of every section that holds a zone.
    pub const UTC: Timezone = Timezone(chrono_tz::Tz::UTC);

    /// Reads an IANA name exactly as the tz database spells it (`Europe/London`, not
    /// `europe/london`); offsets such as `+02:00` are not zones.
    pub fn parse(s: &str) -> Result<Self, String> {
        chrono_tz::Tz::from_str(s)
            .map(Self)
            .map_err(|_| "must be an IANA time zone name, e.g. Europe/London".to_owned())
    }

    /// The IANA name.
    pub fn as_str(&self) -> &'static str {
        self.0.name()
    }

    /// The zone, for computing local periods.
    pub fn tz(self) -> chrono_tz::Tz {
        self.0
    }
}

impl fmt::Display for Timezone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for Timezone {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s)
    }
}

impl From<Timezone> for String {
    fn from(t: Timezone) -> String {
        t.as_str().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iana_names_parse() {
        for ok in [
            "UTC",
            "America/Los_Angeles",
            "Asia/Tokyo",
            "Pacific/Auckland",
            "Europe/London",
        ] {
            assert_eq!(Timezone::parse(ok).map(|t| t.as_str()), Ok(ok));
        }
    }

    #[test]
    fn non_zones_are_refused() {
        for bad in [
            "",
            "Mars/Olympus",
            "PST8",
            "america/los_angeles",
            "+02:00",
            "Europe/",
        ] {
            assert!(Timezone::parse(bad).is_err(), "{bad}");
        }
    }
}
