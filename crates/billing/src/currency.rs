//! Currencies and cost-alert periods.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The currencies an account can be billed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Currency {
    /// US dollar.
    Usd,
    /// Euro.
    Eur,
    /// Pound sterling.
    Gbp,
    /// Japanese yen.
    Jpy,
}

impl Currency {
    /// Every currency, in the order they are listed as allowed.
    pub const ALL: [Currency; 4] = [Currency::Usd, Currency::Eur, Currency::Gbp, Currency::Jpy];

    /// The ISO 4217 code: `USD`, `EUR`, `GBP` or `JPY`.
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
    /// A local day in the billing time zone.
    Daily,
    /// An ISO week (Monday to Monday) in the billing time zone.
    Weekly,
    /// A calendar month in the billing time zone.
    Monthly,
}

impl AlertPeriod {
    /// The period's public name: `daily`, `weekly` or `monthly`.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertPeriod::Daily => "daily",
            AlertPeriod::Weekly => "weekly",
            AlertPeriod::Monthly => "monthly",
        }
    }
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
    fn only_the_listed_currencies_parse() {
        for c in Currency::ALL {
            assert_eq!(c.as_str().parse::<Currency>(), Ok(c));
        }
        assert!("usd".parse::<Currency>().is_err());
        assert!("CHF".parse::<Currency>().is_err());
        assert!("hourly".parse::<AlertPeriod>().is_err());
    }
}
