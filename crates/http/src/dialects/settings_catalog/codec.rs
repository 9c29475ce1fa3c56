//! The settings catalog API's notification setting DTOs read into the domain's
//! [`CatalogDocument`], in this API's camelCase field names and its first-error-wins reporting.
//! The limits and closed sets it checks are the domain's (`tenantry_settings`); rendering a
//! document stays there too, because the audit record of a change holds the setting as this
//! API shows it (decision 0043).

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};
use tenantry_kernel::Email;
use tenantry_settings::{
    push_channel_events, CatalogDocument, CatalogSetting, EmailNotification, FieldError,
    PushWebhook, SettingsError, ZoneUsage, AVAILABLE_CHANNELS, MAX_OTHER_EMAILS, MAX_PUSH_WEBHOOKS,
    MAX_USAGE_EMAILS, MAX_ZONES, MAX_ZONE_EMAILS, ZONE_USAGE_THRESHOLDS,
};

fn field(name: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: name.into(),
        message: message.into(),
        allowed: None,
    }
}

fn object<'a>(v: &'a Value, name: &str) -> Result<&'a Map<String, Value>, FieldError> {
    v.as_object()
        .ok_or_else(|| field(name, "must be an object"))
}

fn only(map: &Map<String, Value>, allowed: &[&str], prefix: &str) -> Result<(), SettingsError> {
    let unknown: Vec<String> = map
        .keys()
        .filter(|k| !allowed.contains(&k.as_str()))
        .map(|k| format!("{prefix}{k}"))
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(SettingsError::UnknownFields(unknown))
    }
}

fn emails(
    v: Option<&Value>,
    name: &str,
    max: usize,
    exact: bool,
) -> Result<Vec<String>, FieldError> {
    let list = v
        .and_then(Value::as_array)
        .ok_or_else(|| field(name, "is required: a list of email addresses"))?;
    if exact && list.len() != 1 {
        return Err(field(name, "must hold exactly one email address"));
    }
    if list.is_empty() || list.len() > max {
        return Err(field(name, format!("must hold 1-{max} email addresses")));
    }
    let mut out: Vec<String> = Vec::new();
    for e in list {
        let parsed = e
            .as_str()
            .and_then(|s| Email::parse(s).ok())
            .ok_or_else(|| field(name, format!("{e} is not a valid email address")))?;
        if out.iter().any(|o| o == parsed.as_str()) {
            return Err(field(name, format!("{} is listed twice", parsed.as_str())));
        }
        out.push(parsed.as_str().to_owned());
    }
    Ok(out)
}

fn email_notification(
    v: Option<&Value>,
    setting: CatalogSetting,
    create: bool,
) -> Result<EmailNotification, SettingsError> {
    let name = "emailNotification";
    let map = object(
        v.ok_or_else(|| SettingsError::Validation(vec![field(name, "is required")]))?,
        name,
    )
    .map_err(|e| SettingsError::Validation(vec![e]))?;
    only(map, &["enable", "emails"], "emailNotification.")?;
    let (max, exact) = match setting {
        CatalogSetting::Usage => (MAX_USAGE_EMAILS, false),
        CatalogSetting::ZoneUsage => (MAX_ZONE_EMAILS, false),
        CatalogSetting::Service => (MAX_OTHER_EMAILS, create),
        _ => (MAX_OTHER_EMAILS, false),
    };
    let emails = emails(map.get("emails"), "emailNotification.emails", max, exact)
        .map_err(|e| SettingsError::Validation(vec![e]))?;
    // SERVICE_NOTIFICATION has no `enable` (the settings catalog API: not applicable); it is always on.
    let enable = match (setting, map.get("enable")) {
        (CatalogSetting::Service, _) => true,
        (_, Some(Value::Bool(b))) => *b,
        (_, None) => {
            return Err(SettingsError::Validation(vec![field(
                "emailNotification.enable",
                "is required",
            )]))
        }
        (_, Some(_)) => {
            return Err(SettingsError::Validation(vec![field(
                "emailNotification.enable",
                "must be true or false",
            )]))
        }
    };
    Ok(EmailNotification { enable, emails })
}

fn zone_name(v: Option<&Value>) -> Result<String, FieldError> {
    let raw = v
        .and_then(Value::as_str)
        .ok_or_else(|| field("zone", "is required: a zone (domain) name"))?;
    let name = raw.trim_end_matches('.').to_ascii_lowercase();
    let ok = !name.is_empty()
        && name.len() <= 253
        && name.split('.').count() >= 2
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if ok {
        Ok(format!("{name}."))
    } else {
        Err(field("zone", format!("`{raw}` is not a zone name")))
    }
}

fn zone_usage(v: &Value, prefix: &str) -> Result<ZoneUsage, SettingsError> {
    let map =
        object(v, prefix.trim_end_matches('.')).map_err(|e| SettingsError::Validation(vec![e]))?;
    only(map, &["zone", "threshold", "emailNotification"], prefix)?;
    let zone = zone_name(map.get("zone")).map_err(|e| SettingsError::Validation(vec![e]))?;
    let threshold = map
        .get("threshold")
        .and_then(Value::as_u64)
        .and_then(|t| u32::try_from(t).ok())
        .filter(|t| ZONE_USAGE_THRESHOLDS.contains(t))
        .ok_or_else(|| {
            SettingsError::Validation(vec![FieldError {
                field: format!("{prefix}threshold"),
                message: "must be one of 5, 10, 20, 25, 50, 75, 100".into(),
                allowed: Some(json!(ZONE_USAGE_THRESHOLDS)),
            }])
        })?;
    let email_notification = email_notification(
        map.get("emailNotification"),
        CatalogSetting::ZoneUsage,
        false,
    )?;
    Ok(ZoneUsage {
        zone,
        threshold,
        email_notification,
    })
}

/// Parses a whole DTO (POST and PUT; PATCH merges onto the stored DTO first). `create` is true
/// for POST (SERVICE_NOTIFICATION then needs exactly one email). `check_url` validates a push
/// webhook URL (https, or an operator-allowed address).
pub(super) fn parse_catalog(
    setting: CatalogSetting,
    body: &Value,
    create: bool,
    check_url: &dyn Fn(&str) -> Result<String, String>,
) -> Result<CatalogDocument, SettingsError> {
    let map = object(body, "body").map_err(|e| SettingsError::Validation(vec![e]))?;
    match setting {
        CatalogSetting::ZoneTransfer | CatalogSetting::Service | CatalogSetting::Usage => {
            only(map, &["threshold", "emailNotification"], "")?;
            let threshold = match (setting, map.get("threshold")) {
                // Not applicable to SERVICE_NOTIFICATION: ignored, as the settings catalog API says.
                (CatalogSetting::Service, _) => None,
                (_, Some(v)) => Some(
                    v.as_i64()
                        .filter(|t| (1..=1_000_000).contains(t))
                        .ok_or_else(|| {
                            SettingsError::Validation(vec![field(
                                "threshold",
                                "must be an integer between 1 and 1000000",
                            )])
                        })?,
                ),
                (_, None) => {
                    return Err(SettingsError::Validation(vec![field(
                        "threshold",
                        "is required",
                    )]))
                }
            };
            Ok(CatalogDocument::Notification {
                threshold,
                email_notification: email_notification(
                    map.get("emailNotification"),
                    setting,
                    create,
                )?,
            })
        }
        CatalogSetting::ZoneUsage => {
            let zones = if let Some(list) = map.get("zones") {
                only(map, &["zones"], "")?;
                let list = list.as_array().ok_or_else(|| {
                    SettingsError::Validation(vec![field(
                        "zones",
                        "must be a list of zone settings",
                    )])
                })?;
                list.iter()
                    .enumerate()
                    .map(|(i, z)| zone_usage(z, &format!("zones[{i}].")))
                    .collect::<Result<Vec<_>, _>>()?
            } else {
                vec![zone_usage(body, "")?]
            };
            if zones.is_empty() || zones.len() > MAX_ZONES {
                return Err(SettingsError::Validation(vec![field(
                    "zones",
                    format!("must configure 1-{MAX_ZONES} zones"),
                )]));
            }
            let mut seen: Vec<&str> = Vec::new();
            for z in &zones {
                if seen.contains(&z.zone.as_str()) {
                    return Err(SettingsError::Validation(vec![field(
                        "zones",
                        format!("{} is configured twice", z.zone),
                    )]));
                }
                seen.push(&z.zone);
            }
            Ok(CatalogDocument::ZoneUsage { zones })
        }
        CatalogSetting::Push => {
            only(map, &["webhooks"], "")?;
            let list = map
                .get("webhooks")
                .and_then(Value::as_array)
                .ok_or_else(|| {
                    SettingsError::Validation(vec![field(
                        "webhooks",
                        "is required: a list of webhooks",
                    )])
                })?;
            if list.is_empty() || list.len() > MAX_PUSH_WEBHOOKS {
                return Err(SettingsError::Validation(vec![field(
                    "webhooks",
                    format!("must hold 1-{MAX_PUSH_WEBHOOKS} webhooks"),
                )]));
            }
            let mut webhooks = Vec::new();
            for (i, w) in list.iter().enumerate() {
                let prefix = format!("webhooks[{i}].");
                let m = object(w, &format!("webhooks[{i}]"))
                    .map_err(|e| SettingsError::Validation(vec![e]))?;
                only(m, &["enable", "url", "include"], &prefix)?;
                let enable = m.get("enable").and_then(Value::as_bool).ok_or_else(|| {
                    SettingsError::Validation(vec![field(
                        &format!("{prefix}enable"),
                        "must be true or false",
                    )])
                })?;
                let url = m
                    .get("url")
                    .and_then(Value::as_str)
                    .ok_or_else(|| "is required".to_owned())
                    .and_then(check_url)
                    .map_err(|m| {
                        SettingsError::Validation(vec![field(&format!("{prefix}url"), m)])
                    })?;
                let include_map = m.get("include").and_then(Value::as_object).ok_or_else(|| {
                    SettingsError::Validation(vec![field(
                        &format!("{prefix}include"),
                        "must map channel ids to true or false",
                    )])
                })?;
                let mut include = BTreeMap::new();
                for (k, v) in include_map {
                    if push_channel_events(k).is_none() {
                        return Err(SettingsError::Validation(vec![FieldError {
                            field: format!("{prefix}include.{k}"),
                            message: "is not a push notification channel".into(),
                            allowed: Some(json!(AVAILABLE_CHANNELS
                                .iter()
                                .map(|c| c.0)
                                .chain(["ALL_TELEMETRY"])
                                .collect::<Vec<_>>())),
                        }]));
                    }
                    let on = v.as_bool().ok_or_else(|| {
                        SettingsError::Validation(vec![field(
                            &format!("{prefix}include.{k}"),
                            "must be true or false",
                        )])
                    })?;
                    include.insert(k.clone(), on);
                }
                webhooks.push(PushWebhook {
                    enable,
                    url,
                    include,
                });
            }
            Ok(CatalogDocument::Push { webhooks })
        }
    }
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used)]
mod tests {
    use super::*;

    fn https(u: &str) -> Result<String, String> {
        if u.starts_with("https://") {
            Ok(u.to_owned())
        } else {
            Err("must be an https URL".into())
        }
    }

    #[test]
    fn the_documented_examples_parse_and_render_back() {
        let usage = json!({ "threshold": 100, "emailNotification": { "enable": true, "emails": ["john.smith@test.com", "jane.smith@test.com", "ted.name@test.com", "dnsqueryalert@test.com", "engineering@test.com"] } });
        let doc = parse_catalog(CatalogSetting::Usage, &usage, true, &https).expect("usage");
        assert_eq!(doc.render(CatalogSetting::Usage), usage);
        let service = json!({ "emailNotification": { "emails": ["test1@test.com"] } });
        let doc = parse_catalog(CatalogSetting::Service, &service, true, &https).expect("service");
        assert_eq!(doc.render(CatalogSetting::Service), service);
        let push = json!({ "webhooks": [ { "enable": true, "url": "https://example.com/webhookOne", "include": { "ALL_CHANGES": true } }, { "enable": true, "url": "https://example.com/webhookTwo", "include": { "RECORD_CHANGES": true, "DOMAIN_CHANGES": true } } ] });
        assert!(parse_catalog(CatalogSetting::Push, &push, true, &https).is_ok());
        let zone = json!({ "zone": "zonetest.com", "threshold": 25, "emailNotification": { "enable": true, "emails": ["user@example.com"] } });
        let doc = parse_catalog(CatalogSetting::ZoneUsage, &zone, true, &https).expect("zone");
        assert_eq!(
            doc.render(CatalogSetting::ZoneUsage)["zones"][0]["zone"],
            "zonetest.com."
        );
    }

    #[test]
    fn every_limit_is_enforced() {
        let six: Vec<String> = (0..6).map(|i| format!("u{i}@test.com")).collect();
        let bad = [
            (
                CatalogSetting::Usage,
                json!({ "threshold": 100, "emailNotification": { "enable": true, "emails": six } }),
            ),
            (
                CatalogSetting::Service,
                json!({ "emailNotification": { "emails": ["a@test.com", "b@test.com"] } }),
            ),
            (
                CatalogSetting::ZoneUsage,
                json!({ "zone": "a.com", "threshold": 30, "emailNotification": { "enable": true, "emails": ["a@test.com"] } }),
            ),
            (CatalogSetting::Push, json!({ "webhooks": [1, 2, 3, 4] })),
            (
                CatalogSetting::Push,
                json!({ "webhooks": [ { "enable": true, "url": "https://e.com", "include": { "EVERYTHING": true } } ] }),
            ),
            (
                CatalogSetting::Push,
                json!({ "webhooks": [ { "enable": true, "url": "http://e.com", "include": {} } ] }),
            ),
            (
                CatalogSetting::ZoneTransfer,
                json!({ "threshold": 0, "emailNotification": { "enable": true, "emails": ["a@test.com"] } }),
            ),
            (
                CatalogSetting::ZoneTransfer,
                json!({ "threshold": 5, "emailNotification": { "enable": true, "emails": ["not-an-email"] } }),
            ),
        ];
        for (setting, body) in bad {
            assert!(
                parse_catalog(setting, &body, true, &https).is_err(),
                "{} {body}",
                setting.name()
            );
        }
        let zones: Vec<Value> = (0..6).map(|i| json!({ "zone": format!("z{i}.com"), "threshold": 5, "emailNotification": { "enable": true, "emails": ["a@test.com"] } })).collect();
        assert!(parse_catalog(
            CatalogSetting::ZoneUsage,
            &json!({ "zones": zones }),
            true,
            &https
        )
        .is_err());
    }
}
