//! ISO 3166-1 country codes and the regions deployments run in.

use crate::closed_set::closed_set;

/// ISO 3166-1 alpha-2 officially assigned codes (249, as published by the ISO 3166 Maintenance
/// Agency). Kept as data rather than a dependency: the list changes a few times a decade.
pub(crate) const ISO_3166_ALPHA2: &[&str] = &[
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

/// A country as an ISO 3166-1 alpha-2 code (uppercase, officially assigned).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Country(&'static str);

impl serde::Serialize for Country {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Country {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl Country {
    pub fn parse(s: &str) -> Result<Self, String> {
        ISO_3166_ALPHA2
            .iter()
            .find(|c| **c == s)
            .map(|c| Self(c))
            .ok_or_else(|| "must be an ISO 3166-1 alpha-2 country code, e.g. US".to_owned())
    }

    pub fn as_str(&self) -> &'static str {
        self.0
    }
}

impl TryFrom<String> for Country {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s)
    }
}

impl From<Country> for String {
    fn from(c: Country) -> String {
        c.0.to_owned()
    }
}

closed_set!(
    /// AWS region codes (commercial, GovCloud and China partitions) as of 2026-11, from AWS's
    /// published region table. A new region is one line here.
    AwsRegion {
        UsEast1 => "us-east-1", UsEast2 => "us-east-2", UsWest1 => "us-west-1", UsWest2 => "us-west-2",
        AfSouth1 => "af-south-1", ApEast1 => "ap-east-1", ApEast2 => "ap-east-2",
        ApSouth1 => "ap-south-1", ApSouth2 => "ap-south-2",
        ApSoutheast1 => "ap-southeast-1", ApSoutheast2 => "ap-southeast-2", ApSoutheast3 => "ap-southeast-3",
        ApSoutheast4 => "ap-southeast-4", ApSoutheast5 => "ap-southeast-5", ApSoutheast7 => "ap-southeast-7",
        ApNortheast1 => "ap-northeast-1", ApNortheast2 => "ap-northeast-2", ApNortheast3 => "ap-northeast-3",
        CaCentral1 => "ca-central-1", CaWest1 => "ca-west-1",
        EuCentral1 => "eu-central-1", EuCentral2 => "eu-central-2", EuWest1 => "eu-west-1", EuWest2 => "eu-west-2",
        EuWest3 => "eu-west-3", EuSouth1 => "eu-south-1", EuSouth2 => "eu-south-2", EuNorth1 => "eu-north-1",
        IlCentral1 => "il-central-1", MeSouth1 => "me-south-1", MeCentral1 => "me-central-1",
        MxCentral1 => "mx-central-1", SaEast1 => "sa-east-1",
        UsGovEast1 => "us-gov-east-1", UsGovWest1 => "us-gov-west-1",
        CnNorth1 => "cn-north-1", CnNorthwest1 => "cn-northwest-1",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries_are_assigned_uppercase_codes() {
        assert_eq!(ISO_3166_ALPHA2.len(), 249);
        assert!(Country::parse("US").is_ok());
        assert!(Country::parse("GB").is_ok());
        for bad in ["us", "UK", "XX", "USA", ""] {
            assert!(Country::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn regions_from_the_seed_parse() {
        for ok in ["us-west-2", "ap-northeast-1", "ap-southeast-2", "us-east-1"] {
            assert!(AwsRegion::parse(ok).is_ok(), "{ok}");
        }
        assert!(AwsRegion::parse("us-central-1").is_err());
        assert!(AwsRegion::parse("US-EAST-1").is_err());
    }
}
