//! Currencies and cost-alert periods.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The currencies seed 01 accepts for billing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Currency {
    Usd,
    Eur,
    Gbp,
    Jpy,
}

impl Currency {
    pub const ALL: [Currency; 4] = [Currency::Usd, Currency::Eur, Currency::Gbp, Currency::Jpy];

    pub fn as_str(self) -> &'static str {
        match self {
            Currency::Usd => "USD",
            Currency::Eur => "EUR",
            Currency::Gbp => "GBP",
            Currency::Jpy => "JPY",
        }
    }
}

impl FromStr for Currency {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| s.to_owned())
    }
}

/// The window a cost alert threshold applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertPeriod {
    Daily,
    Weekly,
    Monthly,
}

impl FromStr for AlertPeriod {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "daily" => Ok(AlertPeriod::Daily),
            "weekly" => Ok(AlertPeriod::Weekly),
            "monthly" => Ok(AlertPeriod::Monthly),
            other => Err(other.to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_seed_currencies_parse() {
        for c in Currency::ALL {
            assert_eq!(c.as_str().parse::<Currency>(), Ok(c));
        }
        assert!("usd".parse::<Currency>().is_err());
        assert!("CHF".parse::<Currency>().is_err());
        assert!("hourly".parse::<AlertPeriod>().is_err());
    }
}
