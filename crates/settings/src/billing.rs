//! The billing section: currency, payment method metadata, auto-recharge and cost alerts.

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tenantry_billing::{AlertPeriod, Currency, Money};

use crate::closed_set::closed_set;
use crate::country::Country;
use crate::fields::{join, Fields};
use crate::timezone::Timezone;

/// Largest amount accepted for thresholds and recharges (guards against typos like 1e12).
const MAX_AMOUNT: Money = Money::from_micros(1_000_000_000 * 1_000_000);
/// More cost alerts than this is a configuration mistake, not a use case.
const MAX_COST_ALERTS: usize = 20;

/// Seed 01's billing section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BillingSettings {
    pub currency: Currency,
    pub timezone: Timezone,
    /// Metadata of the card on file (never the card number); `None` until one is added.
    pub payment_method: Option<PaymentMethod>,
    pub billing_address: BillingAddress,
    pub auto_recharge: AutoRecharge,
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

closed_set!(PaymentMethodType { CreditCard => "credit_card", DebitCard => "debit_card" });
closed_set!(CardBrand { Visa => "visa", Mastercard => "mastercard", Amex => "amex", Discover => "discover", Jcb => "jcb", UnionPay => "unionpay", DinersClub => "diners_club" });

/// What is shown about the card on file: never more than the last four digits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentMethod {
    #[serde(rename = "type")]
    pub kind: PaymentMethodType,
    pub last_four: String,
    /// `MM/YY`.
    pub expires: String,
    pub brand: CardBrand,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct BillingAddress {
    pub name: Option<String>,
    pub company: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub zip: Option<String>,
    pub country: Option<Country>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct AutoRecharge {
    pub enabled: bool,
    /// Balance below which a recharge is requested.
    pub threshold: Option<Money>,
    pub amount: Option<Money>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostAlert {
    pub threshold: Money,
    pub period: AlertPeriod,
    pub enabled: bool,
}

fn period_str(p: AlertPeriod) -> &'static str {
    match p {
        AlertPeriod::Daily => "daily",
        AlertPeriod::Weekly => "weekly",
        AlertPeriod::Monthly => "monthly",
    }
}

fn last_four(s: &str) -> Result<String, String> {
    if s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_owned())
    } else {
        Err("must be exactly 4 digits".into())
    }
}

fn expiry(s: &str) -> Result<String, String> {
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

impl PaymentMethod {
    /// The first instant the card is no longer valid: a card marked `MM/YY` is good through the
    /// last day of that month (as card networks define it), taken in UTC so the answer does not
    /// depend on the account's timezone; `YY` is 20YY. `None` for a stored value that is not
    /// `MM/YY` (none can be: [`expiry`] checks every write), which counts as expired.
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

    pub fn render(&self) -> Value {
        let a = &self.billing_address;
        json!({
            "currency": self.currency.as_str(),
            "timezone": self.timezone.as_str(),
            "payment_method": self.payment_method.as_ref().map(|pm| json!({
                "type": pm.kind.as_str(),
                "last_four": pm.last_four,
                "expires": pm.expires,
                "brand": pm.brand.as_str(),
            })),
            "billing_address": {
                "name": a.name, "company": a.company, "address": a.address, "city": a.city,
                "state": a.state, "zip": a.zip, "country": a.country.map(|c| c.as_str()),
            },
            "auto_recharge": {
                "enabled": self.auto_recharge.enabled,
                "threshold": self.auto_recharge.threshold,
                "amount": self.auto_recharge.amount,
            },
            "cost_alerts": self.cost_alerts.iter().map(|c| json!({
                "threshold": c.threshold,
                "period": period_str(c.period),
                "enabled": c.enabled,
            })).collect::<Vec<_>>(),
        })
    }

    pub fn read(doc: &Value, f: &mut Fields) -> Option<Self> {
        let root = f.object(
            doc,
            "",
            &[
                "currency",
                "timezone",
                "payment_method",
                "billing_address",
                "auto_recharge",
                "cost_alerts",
            ],
        )?;
        let currency = f.parse(
            root,
            "currency",
            "",
            |s| {
                s.parse::<Currency>()
                    .map_err(|_| "must be one of: USD, EUR, GBP, JPY".to_owned())
            },
            Some(&["USD", "EUR", "GBP", "JPY"]),
        );
        let timezone = f.parse(root, "timezone", "", Timezone::parse, None);
        let payment_method = match root.get("payment_method") {
            None | Some(Value::Null) => Some(None),
            Some(v) => f
                .object(
                    v,
                    "payment_method",
                    &["type", "last_four", "expires", "brand"],
                )
                .and_then(|m| {
                    let p = "payment_method";
                    let kind = f.parse(
                        m,
                        "type",
                        p,
                        PaymentMethodType::parse,
                        Some(PaymentMethodType::ALLOWED),
                    );
                    let four = f.parse(m, "last_four", p, last_four, None);
                    let expires = f.parse(m, "expires", p, expiry, None);
                    let brand = f.parse(m, "brand", p, CardBrand::parse, Some(CardBrand::ALLOWED));
                    Some(Some(PaymentMethod {
                        kind: kind?,
                        last_four: four?,
                        expires: expires?,
                        brand: brand?,
                    }))
                }),
        };
        let address = f
            .child(
                root,
                "billing_address",
                "",
                &[
                    "name", "company", "address", "city", "state", "zip", "country",
                ],
            )
            .and_then(|m| {
                let p = "billing_address";
                let name = f.text_opt(m, "name", p, 200);
                let company = f.text_opt(m, "company", p, 200);
                let address = f.text_opt(m, "address", p, 500);
                let city = f.text_opt(m, "city", p, 100);
                let state = f.text_opt(m, "state", p, 100);
                let zip = f.text_opt(m, "zip", p, 20);
                let country = f.parse_opt(m, "country", p, Country::parse);
                Some(BillingAddress {
                    name: name?,
                    company: company?,
                    address: address?,
                    city: city?,
                    state: state?,
                    zip: zip?,
                    country: country?,
                })
            });
        let recharge = f
            .child(
                root,
                "auto_recharge",
                "",
                &["enabled", "threshold", "amount"],
            )
            .and_then(|m| {
                let p = "auto_recharge";
                let enabled = f.bool(m, "enabled", p);
                let threshold = f.money_opt(m, "threshold", p, MAX_AMOUNT);
                let amount = f.money_opt(m, "amount", p, MAX_AMOUNT);
                if enabled == Some(true) {
                    if matches!(threshold, Some(None)) {
                        f.error(
                            "auto_recharge.threshold",
                            "is required when auto_recharge.enabled is true",
                        );
                    }
                    if matches!(amount, Some(None)) {
                        f.error(
                            "auto_recharge.amount",
                            "is required when auto_recharge.enabled is true",
                        );
                    }
                }
                Some(AutoRecharge {
                    enabled: enabled?,
                    threshold: threshold?,
                    amount: amount?,
                })
            });
        let alerts = f.array(root, "cost_alerts", "", MAX_COST_ALERTS, |f, v, path| {
            let m = f.object(v, path, &["threshold", "period", "enabled"])?;
            let threshold = match m.get("threshold") {
                Some(_) => f.money_opt(m, "threshold", path, MAX_AMOUNT).flatten(),
                None => None,
            };
            if !m.contains_key("threshold") {
                f.error(join(path, "threshold"), "is required");
            }
            let period = f.parse(
                m,
                "period",
                path,
                |s| {
                    s.parse::<AlertPeriod>()
                        .map_err(|_| "must be one of: daily, weekly, monthly".to_owned())
                },
                Some(&["daily", "weekly", "monthly"]),
            );
            // Seed 01: `enabled` is optional and defaults to true.
            let enabled = match m.get("enabled") {
                None | Some(Value::Null) => Some(true),
                Some(_) => f.bool(m, "enabled", path),
            };
            Some(CostAlert {
                threshold: threshold?,
                period: period?,
                enabled: enabled?,
            })
        });
        Some(Self {
            currency: currency?,
            timezone: timezone?,
            payment_method: payment_method?,
            billing_address: address?,
            auto_recharge: recharge?,
            cost_alerts: alerts?,
        })
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

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
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
    }
}
