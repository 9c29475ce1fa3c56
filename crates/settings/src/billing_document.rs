//! The billing section as part of the account settings document: its JSON shape (snake_case,
//! amounts as JSON numbers read from their own digits) and the field errors a write gets. The
//! section's types and rules (ranges, the card fields, the limits) are `tenantry_billing`'s.

use serde_json::{json, Value};
use tenantry_billing::{
    AlertPeriod, AutoRecharge, BillingAddress, BillingSettings, CardBrand, CostAlert, Currency,
    PaymentMethod, PaymentMethodType, MAX_AMOUNT, MAX_COST_ALERTS,
};
use tenantry_kernel::{Country, Timezone};

use crate::fields::{join, Fields};

/// The section as the document shows it.
pub fn render(billing: &BillingSettings) -> Value {
    let a = &billing.billing_address;
    json!({
        "currency": billing.currency.as_str(),
        "timezone": billing.timezone.as_str(),
        "payment_method": billing.payment_method.as_ref().map(|pm| json!({
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
            "enabled": billing.auto_recharge.enabled,
            "threshold": billing.auto_recharge.threshold,
            "amount": billing.auto_recharge.amount,
        },
        "cost_alerts": billing.cost_alerts.iter().map(|c| json!({
            "threshold": c.threshold,
            "period": c.period.as_str(),
            "enabled": c.enabled,
        })).collect::<Vec<_>>(),
    })
}

/// Reads a whole section (a merged write or a stored document), collecting every field error
/// in `f`; `None` when there is one.
pub fn read(doc: &Value, f: &mut Fields) -> Option<BillingSettings> {
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
                let four = f.parse(m, "last_four", p, PaymentMethod::parse_last_four, None);
                let expires = f.parse(m, "expires", p, PaymentMethod::parse_expiry, None);
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
        // `enabled` is optional and defaults to true.
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
    Some(BillingSettings {
        currency: currency?,
        timezone: timezone?,
        payment_method: payment_method?,
        billing_address: address?,
        auto_recharge: recharge?,
        cost_alerts: alerts?,
    })
}
