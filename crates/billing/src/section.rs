//! The account's billing settings: currency and time zone, the card on file (metadata only),
//! the billing address, auto-recharge and cost alerts, with the limits every write is held to.
//! Reading and rendering the section as part of the account settings document is that
//! document's job (`tenantry-settings`); the rules it applies are these.

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use tenantry_kernel::{closed_set, Country, Timezone};

use crate::{AlertPeriod, Currency, Money};

/// Largest amount accepted for thresholds and recharges (guards against typos like 1e12).
pub const MAX_AMOUNT: Money = Money::from_micros(1_000_000_000 * 1_000_000);
/// More cost alerts than this is a configuration mistake, not a use case.
pub const MAX_COST_ALERTS: usize = 20;

/// The account's billing settings.
///
/// ```
/// use tenantry_billing::{BillingSettings, Currency};
///
/// let billing = BillingSettings::default();
/// assert_eq!(billing.currency, Currency::Usd);
/// assert!(billing.cost_alerts.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BillingSettings {
    /// The currency amounts are reported and alerted in.
    pub currency: Currency,
    /// The zone cost-alert periods follow: a day, week or month starts at local midnight here.
    pub timezone: Timezone,
    /// Metadata of the card on file (never the card number); `None` until one is added.
    pub payment_method: Option<PaymentMethod>,
    /// Where invoices are addressed.
    pub billing_address: BillingAddress,
    /// Whether a falling balance requests a recharge, and of how much.
    pub auto_recharge: AutoRecharge,
    /// Spending thresholds per period, at most [`MAX_COST_ALERTS`].
    pub cost_alerts: Vec<CostAlert>,
}

impl Default for BillingSettings {
    fn default() -> Self {
        Self {
            currency: Currency::Usd,
            timezone: Timezone::UTC,
            payment_method: None,
            billing_address: BillingAddress::default(),
            auto_recharge: AutoRecharge::default(),
            cost_alerts: Vec::new(),
        }
    }
}

closed_set!(
    /// The kind of card on file.
    PaymentMethodType { CreditCard => "credit_card", DebitCard => "debit_card" }
);
closed_set!(
    /// The network of the card on file.
    CardBrand { Visa => "visa", Mastercard => "mastercard", Amex => "amex", Discover => "discover", Jcb => "jcb", UnionPay => "unionpay", DinersClub => "diners_club" }
);

/// What is shown about the card on file: never more than the last four digits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentMethod {
    /// Credit or debit.
    #[serde(rename = "type")]
    pub kind: PaymentMethodType,
    /// The card number's last four digits (see [`PaymentMethod::parse_last_four`]).
    pub last_four: String,
    /// `MM/YY` (see [`PaymentMethod::parse_expiry`]).
    pub expires: String,
    /// The card network.
    pub brand: CardBrand,
}

/// The postal address invoices carry; every line is optional.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
#[allow(missing_docs)] // each field is the address line it names
pub struct BillingAddress {
    pub name: Option<String>,
    pub company: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub zip: Option<String>,
    pub country: Option<Country>,
}

/// Recharging the balance when it falls: the host charges the card, Tenantry asks it to.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct AutoRecharge {
    /// Whether a recharge is requested at all; on, it needs both amounts and a valid card.
    pub enabled: bool,
    /// Balance below which a recharge is requested.
    pub threshold: Option<Money>,
    /// How much to recharge.
    pub amount: Option<Money>,
}

impl AutoRecharge {
    /// The `(threshold, amount)` a falling balance is held to: `None` when auto-recharge is
    /// off or, as no accepted write leaves it, on without both amounts.
    pub fn rule(&self) -> Option<(Money, Money)> {
        match (self.enabled, self.threshold, self.amount) {
            (true, Some(threshold), Some(amount)) => Some((threshold, amount)),
            _ => None,
        }
    }
}

/// A spending threshold for one period: reaching it fires once per period, and reaching
/// 80 % of it fires a budget warning once per period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostAlert {
    /// The period's total that fires the alert (at most [`MAX_AMOUNT`]).
    pub threshold: Money,
    /// A local day, ISO week or calendar month in the billing time zone.
    pub period: AlertPeriod,
    /// A disabled alert is kept but never evaluated.
    pub enabled: bool,
}

impl PaymentMethod {
    /// Reads the card number's last four digits: exactly four ASCII digits.
    pub fn parse_last_four(s: &str) -> Result<String, String> {
        if s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(s.to_owned())
        } else {
            Err("must be exactly 4 digits".into())
        }
    }

    /// Reads an expiry printed on a card, `MM/YY` with a month from 01 to 12.
    pub fn parse_expiry(s: &str) -> Result<String, String> {
        let ok = s.len() == 5
            && s.as_bytes()[2] == b'/'
            && s[..2].parse::<u8>().is_ok_and(|m| (1..=12).contains(&m))
            && s[3..].bytes().all(|b| b.is_ascii_digit());
        if ok {
            Ok(s.to_owned())
        } else {
            Err("must be MM/YY".into())
        }
    }

    /// The first instant the card is no longer valid: a card marked `MM/YY` is good through the
    /// last day of that month (as card networks define it), taken in UTC so the answer does not
    /// depend on the account's timezone; `YY` is 20YY. `None` for a stored value that is not
    /// `MM/YY` (none can be: [`PaymentMethod::parse_expiry`] reads every write), which counts
    /// as expired.
    pub fn expires_at(&self) -> Option<DateTime<Utc>> {
        let (month, year) = self.expires.split_once('/')?;
        let (month, year) = (month.parse::<u32>().ok()?, 2000 + year.parse::<i32>().ok()?);
        let (year, month) = if month == 12 {
            (year + 1, 1)
        } else {
            (year, month + 1)
        };
        Utc.with_ymd_and_hms(year, month, 1, 0, 0, 0).single()
    }

    /// Whether the card can still be charged at `now`.
    pub fn is_valid_at(&self, now: DateTime<Utc>) -> bool {
        self.expires_at().is_some_and(|end| now < end)
    }
}

impl BillingSettings {
    /// Auto-recharge charges the card on file: it may be on only with a card valid at `now`.
    pub fn auto_recharge_chargeable(&self, now: DateTime<Utc>) -> bool {
        !self.auto_recharge.enabled
            || self
                .payment_method
                .as_ref()
                .is_some_and(|pm| pm.is_valid_at(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn card(expires: &str) -> PaymentMethod {
        PaymentMethod {
            kind: PaymentMethodType::CreditCard,
            last_four: "4242".into(),
            expires: expires.into(),
            brand: CardBrand::Visa,
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).expect("instant").into()
    }

    #[test]
    fn a_card_is_valid_through_the_last_instant_of_its_month_in_utc() {
        let c = card("12/20");
        assert!(c.is_valid_at(at("2020-12-31T23:59:59Z")));
        assert!(!c.is_valid_at(at("2021-01-01T00:00:00Z")));
        assert!(card("02/24").is_valid_at(at("2024-02-29T23:59:59Z")));
        assert!(!card("02/24").is_valid_at(at("2024-03-01T00:00:00Z")));
    }

    #[test]
    fn card_fields_are_read_exactly() {
        assert_eq!(PaymentMethod::parse_last_four("4242"), Ok("4242".into()));
        for bad in ["424", "42424", "42a2", "４２４２", ""] {
            assert!(PaymentMethod::parse_last_four(bad).is_err(), "{bad}");
        }
        assert_eq!(PaymentMethod::parse_expiry("01/30"), Ok("01/30".into()));
        for bad in [
            "00/30", "13/30", "1/30", "01-30", "01/3a", "01/2030", "é1/30",
        ] {
            assert!(PaymentMethod::parse_expiry(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_recharge_rule_needs_it_on_with_both_amounts() {
        let on = AutoRecharge {
            enabled: true,
            threshold: Some(Money::units(10)),
            amount: Some(Money::units(50)),
        };
        assert_eq!(on.rule(), Some((Money::units(10), Money::units(50))));
        let off = AutoRecharge {
            enabled: false,
            ..on.clone()
        };
        assert_eq!(off.rule(), None);
        let half = AutoRecharge { amount: None, ..on };
        assert_eq!(half.rule(), None);
    }

    proptest! {
        // A fixed seed (0x0039): a failure prints its input and reproduces on every run.
        #![proptest_config(ProptestConfig {
            cases: 512,
            failure_persistence: None,
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x0039),
            ..ProptestConfig::default()
        })]
        /// Valid exactly before the first day of the month after the one printed on the card.
        #[test]
        fn validity_ends_at_the_start_of_the_following_month(
            month in 1u32..=12, yy in 0i32..=99, offset in -100_000_000i64..100_000_000,
        ) {
            let c = card(&format!("{month:02}/{yy:02}"));
            let end = c.expires_at().expect("well-formed");
            let (y, m) = if month == 12 { (2001 + yy, 1) } else { (2000 + yy, month + 1) };
            prop_assert_eq!(end, Utc.with_ymd_and_hms(y, m, 1, 0, 0, 0).unwrap());
            let now = end + chrono::Duration::seconds(offset);
            prop_assert_eq!(c.is_valid_at(now), offset < 0);
        }

        /// Card fields come from callers: any text is answered, never a panic, and what is
        /// accepted is exactly the printed form (`MM/YY` with a real month, four digits).
        #[test]
        fn card_fields_accept_exactly_their_printed_form(
            text in "[0-9/é１a]{0,6}", month in 0u32..=99, yy in 0u32..=99,
        ) {
            if let Ok(expiry) = PaymentMethod::parse_expiry(&text) {
                prop_assert_eq!(expiry.len(), 5);
                prop_assert!(card(&expiry).expires_at().is_some());
            }
            if let Ok(four) = PaymentMethod::parse_last_four(&text) {
                prop_assert!(four.len() == 4 && four.bytes().all(|b| b.is_ascii_digit()));
            }
            let printed = format!("{month:02}/{yy:02}");
            prop_assert_eq!(
                PaymentMethod::parse_expiry(&printed).is_ok(),
                (1..=12).contains(&month)
            );
        }
    }
}
