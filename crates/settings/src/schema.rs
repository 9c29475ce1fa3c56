//! JSON Schemas (draft 2020-12) of the account settings API section documents, generated from the same lists
//! the domain types parse with (currencies, countries, regions, time zones, ...), so the schema
//! and the typed validation cannot drift apart on what they accept. Every property is optional
//! (PUT and import are partial) and unknown properties are refused.
//!
//! What a schema cannot say, the typed validation still checks: cross-field rules ("url is
//! required when enabled"), URL structure beyond the scheme, and CIDR host bits.

use serde_json::{json, Value};

use crate::aws_region::AwsRegion;
use crate::display::{DateFormat, EmailFrequency, Language, NumberFormat, Theme};
use crate::security_policy::{
    ACCOUNT_SETTINGS_RETENTION, ACCOUNT_SETTINGS_SESSIONS, ACCOUNT_SETTINGS_TIMEOUT_HOURS,
};
use crate::{Section, SettingsError};
use tenantry_billing::{CardBrand, PaymentMethodType};
use tenantry_kernel::Country;
use tenantry_security::{ApiKeyLimit, PolicyQuantity, WriteRange};

const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

fn object(properties: Value) -> Value {
    json!({ "type": "object", "properties": properties, "additionalProperties": false })
}

fn nullable(schema: Value) -> Value {
    json!({ "anyOf": [schema, { "type": "null" }] })
}

fn one_of(values: &[&str]) -> Value {
    json!({ "type": "string", "enum": values })
}

fn boolean() -> Value {
    json!({ "type": "boolean" })
}

fn integer(min: u32, max: u32) -> Value {
    json!({ "type": "integer", "minimum": min, "maximum": max })
}

/// A shared policy field: the schema allows the domain range (what any API may have stored, and
/// so what a read shows and a write may send back unchanged); a value this API *changes* the
/// field to must lie in its own narrower write range, which the description states and the
/// section's reader checks (decision 0018).
/// Both ranges come from the quantity (`Q::DOMAIN`) and the API's [`WriteRange`] of it.
fn shared_integer<Q: PolicyQuantity>(write: WriteRange<Q>) -> Value {
    let domain = Q::DOMAIN;
    json!({
        "type": "integer",
        "minimum": domain.0,
        "maximum": domain.1,
        "description": format!(
            "Set through this API: {}-{}. A value another API stored ({}-{}) reads as it is and is accepted back unchanged",
            write.min(), write.max(), domain.0, domain.1
        ),
    })
}

/// A quantity this API writes over its whole domain range.
fn quantity<Q: PolicyQuantity>() -> Value {
    integer(Q::DOMAIN.0, Q::DOMAIN.1)
}

fn amount() -> Value {
    json!({ "type": "number", "exclusiveMinimum": 0, "maximum": 1_000_000_000 })
}

fn text(max: u32) -> Value {
    nullable(json!({ "type": "string", "maxLength": max }))
}

fn timezone() -> Value {
    let names: Vec<&str> = chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect();
    one_of(&names)
}

/// A secret: a new value, `null` to clear, or `{"configured": true}` (from an export) to keep.
fn secret() -> Value {
    json!({ "anyOf": [
        { "type": "string", "minLength": 1, "maxLength": 1024 },
        { "type": "null" },
        { "type": "object", "properties": { "configured": { "const": true } }, "required": ["configured"], "additionalProperties": false }
    ] })
}

/// A Slack incoming-webhook URL is a secret (see `secret`), with the URL's shape when given.
fn slack_url() -> Value {
    json!({ "anyOf": [
        { "type": "string", "pattern": "^https://hooks\\.slack\\.com/services/T[A-Za-z0-9]+/B[A-Za-z0-9]+/[A-Za-z0-9]+$", "maxLength": 2048 },
        { "type": "null" },
        { "type": "object", "properties": { "configured": { "const": true } }, "required": ["configured"], "additionalProperties": false }
    ] })
}

fn https_url() -> Value {
    nullable(
        json!({ "type": "string", "format": "uri", "pattern": "^https://", "maxLength": 2048 }),
    )
}

/// The schema of one section's document.
pub fn section_schema(section: Section) -> Value {
    let body = match section {
        Section::Notifications => object(json!({
            "email": object(json!({
                "enabled": boolean(),
                "alerts": object(json!({
                    "cost_alerts": boolean(), "usage_warnings": boolean(), "security_notifications": boolean(),
                    "system_updates": boolean(), "marketing_emails": boolean(),
                })),
                "frequency": one_of(EmailFrequency::ALLOWED),
                "email": nullable(json!({ "type": "string", "format": "email", "maxLength": 254 })),
            })),
            "slack": object(json!({
                "enabled": boolean(),
                // A credential: a new URL, null to clear, or `{"configured": true}` to keep.
                "webhook_url": slack_url(),
                "channel": nullable(json!({ "type": "string", "pattern": "^#?[a-z0-9._-]{1,80}$" })),
                "alerts": object(json!({ "endpoint_failures": boolean(), "cost_thresholds": boolean(), "cluster_events": boolean() })),
            })),
            "webhook": object(json!({
                "enabled": boolean(),
                "url": https_url(),
                "events": { "type": "array", "maxItems": 32, "items": one_of(&tenantry_notifications::EventType::ALL.map(|e| e.as_str())) },
                "secret": secret(),
            })),
        })),
        Section::Billing => object(json!({
            "currency": one_of(&["USD", "EUR", "GBP", "JPY"]),
            "timezone": timezone(),
            "payment_method": nullable(json!({
                "type": "object",
                "properties": {
                    "type": one_of(PaymentMethodType::ALLOWED),
                    "last_four": { "type": "string", "pattern": "^[0-9]{4}$" },
                    "expires": { "type": "string", "pattern": "^(0[1-9]|1[0-2])/[0-9]{2}$" },
                    "brand": one_of(CardBrand::ALLOWED),
                },
                "required": ["type", "last_four", "expires", "brand"],
                "additionalProperties": false,
            })),
            "billing_address": object(json!({
                "name": text(200), "company": text(200), "address": text(500), "city": text(100),
                "state": text(100), "zip": text(20), "country": nullable(one_of(Country::CODES)),
            })),
            "auto_recharge": object(json!({ "enabled": boolean(), "threshold": nullable(amount()), "amount": nullable(amount()) })),
            "cost_alerts": {
                "type": "array",
                "maxItems": 20,
                "items": {
                    "type": "object",
                    "properties": { "threshold": amount(), "period": one_of(&["daily", "weekly", "monthly"]), "enabled": boolean() },
                    "required": ["threshold", "period"],
                    "additionalProperties": false,
                },
            },
        })),
        Section::Security => object(json!({
            "two_factor": object(json!({ "enabled": boolean(), "method": one_of(&["totp"]) })),
            "api_access": object(json!({
                "ip_whitelist": { "type": "array", "maxItems": 1000, "items": { "type": "string", "maxLength": 64 } },
                "require_ip_whitelist": boolean(),
                "max_api_keys": quantity::<ApiKeyLimit>(),
                "portal_return_origins": { "type": "array", "maxItems": 20, "items": { "type": "string", "maxLength": 2048 } },
            })),
            "session": object(json!({
                "timeout": { "type": "number", "minimum": ACCOUNT_SETTINGS_TIMEOUT_HOURS.0, "maximum": ACCOUNT_SETTINGS_TIMEOUT_HOURS.1 },
                "require_reauth_for_sensitive": boolean(),
                "concurrent_sessions": shared_integer(ACCOUNT_SETTINGS_SESSIONS),
            })),
            "audit": object(json!({ "log_api_requests": boolean(), "log_resource_access": boolean(), "retention_days": shared_integer(ACCOUNT_SETTINGS_RETENTION) })),
        })),
        Section::Integrations => object(json!({
            "github": object(json!({
                "enabled": boolean(),
                "username": nullable(json!({ "type": "string", "pattern": "^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$" })),
                "repositories": { "type": "array", "maxItems": 100, "items": { "type": "string", "pattern": "^[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}$" } },
                "access_token": secret(),
            })),
            "docker": object(json!({
                "enabled": boolean(),
                "registries": { "type": "array", "maxItems": 20, "items": {
                    "type": "object",
                    "properties": { "url": { "type": "string", "maxLength": 512 }, "username": nullable(json!({ "type": "string", "maxLength": 200 })), "access_token": secret() },
                    "required": ["url"],
                    "additionalProperties": false,
                } },
            })),
            "monitoring": object(json!({
                "datadog": object(json!({ "enabled": boolean(), "api_key": secret() })),
                "grafana": object(json!({ "enabled": boolean(), "url": https_url(), "dashboard_id": nullable(json!({ "type": "string", "maxLength": 200 })) })),
            })),
        })),
        Section::Preferences => object(json!({
            "timezone": nullable(timezone()),
            "language": one_of(Language::ALLOWED),
            "theme": one_of(Theme::ALLOWED),
            "date_format": one_of(DateFormat::ALLOWED),
            "number_format": one_of(NumberFormat::ALLOWED),
            "default_region": one_of(AwsRegion::ALLOWED),
        })),
        Section::Organization => object(json!({})),
    };
    let mut schema = body;
    schema["$schema"] = json!(DIALECT);
    schema["$id"] = json!(format!(
        "https://tenantry.dev/schemas/settings/{}.json",
        section.as_str()
    ));
    schema["title"] = json!(format!(
        "Tenantry {} settings (account settings API v2)",
        section.as_str()
    ));
    schema
}

/// Validates `document` against its section's schema; every violation becomes a field error
/// named by its JSON path (`api_access.max_api_keys`, `cost_alerts[0].period`).
pub fn validate(section: Section, document: &Value) -> Result<(), SettingsError> {
    let schema = section_schema(section);
    let validator = jsonschema::draft202012::new(&schema).map_err(|e| {
        SettingsError::Port(tenantry_kernel::PortError::Corrupt(format!(
            "schema of {}: {e}",
            section.as_str()
        )))
    })?;
    let mut errors = Vec::new();
    let mut unknown = Vec::new();
    for e in validator.iter_errors(document) {
        let path = pointer_to_path(&e.instance_path().to_string());
        // Unknown properties are the same 400 `UNKNOWN_FIELD` a PUT gives, not a 422.
        if let jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } =
            e.kind()
        {
            unknown.extend(unexpected.iter().map(|k| {
                if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                }
            }));
            continue;
        }
        errors.push(crate::FieldError {
            field: path,
            message: e.to_string(),
            allowed: None,
        });
    }
    if !unknown.is_empty() {
        Err(SettingsError::UnknownFields(unknown))
    } else if !errors.is_empty() {
        Err(SettingsError::Validation(errors))
    } else {
        Ok(())
    }
}

/// `/cost_alerts/0/period` → `cost_alerts[0].period`.
fn pointer_to_path(pointer: &str) -> String {
    let mut out = String::new();
    for part in pointer.split('/').filter(|p| !p.is_empty()) {
        if part.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{part}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&part.replace("~1", "/").replace("~0", "~"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::billing_document;
    use crate::fields::Fields;
    use crate::{NotificationSettings, SecurityPolicy, UserPreferences};
    use tenantry_billing::BillingSettings;
    use tenantry_security::Sealed;

    /// The typed validation of a (partial) document: merged onto the defaults and read.
    fn domain_accepts(section: Section, patch: &Value) -> bool {
        let seal = |s: &str| Sealed::from_stored(format!("sealed:{s}"));
        let mut f = Fields::default();
        let mut doc = match section {
            Section::Notifications => {
                NotificationSettings::default().render(&crate::SecretView::Sealed)
            }
            Section::Billing => billing_document::render(&BillingSettings::default()),
            Section::Security => SecurityPolicy::default().render(&[], None),
            Section::Preferences => UserPreferences::default().render(None),
            _ => json!({}),
        };
        crate::merge_patch(&mut doc, patch);
        let ok = match section {
            Section::Notifications => NotificationSettings::read(
                &doc,
                &mut f,
                &seal,
                &tenantry_notifications::OutboundPolicy::default(),
            )
            .is_some(),
            Section::Billing => billing_document::read(&doc, &mut f).is_some(),
            Section::Security => {
                let mut bad = Vec::new();
                SecurityPolicy::default()
                    .read(&doc, &mut f, &mut bad)
                    .is_some()
                    && bad.is_empty()
            }
            Section::Preferences => UserPreferences::read(&doc, &mut f).is_some(),
            _ => true,
        };
        ok && f.is_clean()
    }

    #[test]
    fn schema_and_typed_validation_agree() {
        let cases: Vec<(Section, Value, bool)> = vec![
            (
                Section::Security,
                json!({"api_access": {"max_api_keys": 1}}),
                true,
            ),
            (
                Section::Security,
                json!({"api_access": {"max_api_keys": 50}}),
                true,
            ),
            (
                Section::Security,
                json!({"api_access": {"max_api_keys": 0}}),
                false,
            ),
            (
                Section::Security,
                json!({"api_access": {"max_api_keys": 51}}),
                false,
            ),
            (
                Section::Security,
                json!({"api_access": {"max_api_keys": 2.5}}),
                false,
            ),
            (Section::Security, json!({"session": {"timeout": 1}}), true),
            (
                Section::Security,
                json!({"session": {"timeout": 168}}),
                true,
            ),
            (
                Section::Security,
                json!({"session": {"timeout": 0.5}}),
                false,
            ),
            (
                Section::Security,
                json!({"session": {"timeout": 169}}),
                false,
            ),
            (
                Section::Security,
                json!({"session": {"concurrent_sessions": 10}}),
                true,
            ),
            (
                Section::Security,
                json!({"session": {"concurrent_sessions": 101}}),
                false,
            ),
            (
                Section::Security,
                json!({"audit": {"retention_days": 30}}),
                true,
            ),
            (
                Section::Security,
                json!({"audit": {"retention_days": 365}}),
                true,
            ),
            (
                Section::Security,
                json!({"audit": {"retention_days": 0}}),
                false,
            ),
            (
                Section::Security,
                json!({"two_factor": {"method": "sms"}}),
                false,
            ),
            (
                Section::Security,
                json!({"two_factor": {"method": "email"}}),
                false,
            ),
            (
                Section::Security,
                json!({"two_factor": {"backup_codes": 8}}),
                false,
            ),
            (Section::Billing, json!({"currency": "JPY"}), true),
            (Section::Billing, json!({"currency": "CHF"}), false),
            (Section::Billing, json!({"timezone": "Europe/London"}), true),
            (Section::Billing, json!({"timezone": "Mars/Olympus"}), false),
            (
                Section::Billing,
                json!({"billing_address": {"country": "US"}}),
                true,
            ),
            (
                Section::Billing,
                json!({"billing_address": {"country": "XX"}}),
                false,
            ),
            (
                Section::Billing,
                json!({"cost_alerts": [{"threshold": 0.5, "period": "daily"}]}),
                true,
            ),
            (
                Section::Billing,
                json!({"cost_alerts": [{"threshold": 0, "period": "daily"}]}),
                false,
            ),
            (
                Section::Billing,
                json!({"cost_alerts": [{"threshold": 5, "period": "hourly"}]}),
                false,
            ),
            (
                Section::Billing,
                json!({"cost_alerts": [{"period": "daily"}]}),
                false,
            ),
            (
                Section::Billing,
                json!({"auto_recharge": {"threshold": -1}}),
                false,
            ),
            (
                Section::Billing,
                json!({"payment_method": {"type": "credit_card", "last_four": "4242", "expires": "12/29", "brand": "visa"}}),
                true,
            ),
            (
                Section::Billing,
                json!({"payment_method": {"type": "credit_card", "last_four": "42", "expires": "12/29", "brand": "visa"}}),
                false,
            ),
            (
                Section::Billing,
                json!({"payment_method": {"type": "credit_card", "last_four": "4242", "expires": "13/29", "brand": "visa"}}),
                false,
            ),
            (Section::Preferences, json!({"language": "zh"}), true),
            (Section::Preferences, json!({"language": "pt"}), false),
            (Section::Preferences, json!({"theme": "auto"}), true),
            (Section::Preferences, json!({"theme": "blue"}), false),
            (
                Section::Preferences,
                json!({"date_format": "DD/MM/YYYY"}),
                true,
            ),
            (
                Section::Preferences,
                json!({"date_format": "YYYY-MM-DD"}),
                false,
            ),
            (
                Section::Preferences,
                json!({"number_format": "1 234,56"}),
                true,
            ),
            (
                Section::Preferences,
                json!({"number_format": "1234"}),
                false,
            ),
            (
                Section::Preferences,
                json!({"default_region": "ap-southeast-2"}),
                true,
            ),
            (
                Section::Preferences,
                json!({"default_region": "us-central-1"}),
                false,
            ),
            (Section::Preferences, json!({"timezone": null}), true),
            (Section::Preferences, json!({"font": "serif"}), false),
            (
                Section::Notifications,
                json!({"email": {"frequency": "daily_digest"}}),
                true,
            ),
            (
                Section::Notifications,
                json!({"email": {"frequency": "hourly"}}),
                false,
            ),
            (
                Section::Notifications,
                json!({"webhook": {"events": ["endpoint.failed"]}}),
                true,
            ),
            (
                Section::Notifications,
                json!({"webhook": {"events": ["nope"]}}),
                false,
            ),
            (
                Section::Notifications,
                json!({"webhook": {"secret": "s"}}),
                true,
            ),
            (
                Section::Notifications,
                json!({"webhook": {"secret": ""}}),
                false,
            ),
            (
                Section::Notifications,
                json!({"slack": {"channel": "#ai-alerts"}}),
                true,
            ),
            (
                Section::Notifications,
                json!({"slack": {"channel": "Has Spaces"}}),
                false,
            ),
            (
                Section::Notifications,
                json!({"slack": {"webhook_url": "https://hooks.slack.com/services/T0/B0/X"}}),
                true,
            ),
            (
                Section::Notifications,
                json!({"slack": {"webhook_url": "https://hooks.slack.com@127.0.0.5/services/T0/B0/X"}}),
                false,
            ),
            (
                Section::Notifications,
                json!({"email": {"enabled": "yes"}}),
                false,
            ),
        ];
        for (section, doc, expected) in cases {
            let by_schema = validate(section, &doc).is_ok();
            let by_domain = domain_accepts(section, &doc);
            assert_eq!(by_schema, expected, "schema on {} {doc}", section.as_str());
            assert_eq!(by_domain, expected, "domain on {} {doc}", section.as_str());
        }
    }

    #[test]
    fn schema_errors_name_the_field() {
        let Err(SettingsError::Validation(fields)) = validate(
            Section::Billing,
            &json!({"cost_alerts": [{"threshold": 1, "period": "hourly"}]}),
        ) else {
            panic!("expected a validation error");
        };
        assert_eq!(fields[0].field, "cost_alerts[0].period");
    }
}
