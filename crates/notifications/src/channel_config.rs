//! Seed 03 channel configurations, parsed: what each kind needs, checked before anything is
//! stored. The webhook secret is the only secret; everything else is shown back as given.

use serde_json::{json, Map, Value};
use tenantry_kernel::{Email, RandomSource};

use crate::{ChannelKind, ChannelTarget, NotificationError, OutboundPolicy};

pub const MAX_RECIPIENTS: usize = 20;
pub const SEVERITIES: [&str; 5] = ["info", "low", "medium", "high", "critical"];

/// A parsed configuration: the target (with the secret in clear) and the public part.
pub struct ParsedConfig {
    pub target: ChannelTarget,
    pub public: Value,
    /// Set when the secret was generated here (shown to the caller once).
    pub generated_secret: Option<String>,
}

fn invalid(field: &str, message: impl Into<String>) -> NotificationError {
    NotificationError::invalid(&format!("config.{field}"), message)
}

fn strings(config: &Map<String, Value>, field: &str) -> Result<Vec<String>, NotificationError> {
    match config.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| invalid(field, "must be a list of strings"))
            })
            .collect(),
        Some(_) => Err(invalid(field, "must be a list of strings")),
    }
}

fn optional_text(
    config: &Map<String, Value>,
    field: &str,
) -> Result<Option<String>, NotificationError> {
    match config.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s))
            if !s.trim().is_empty() && s.len() <= 200 && !s.contains(['\r', '\n']) =>
        {
            Ok(Some(s.trim().to_owned()))
        }
        Some(_) => Err(invalid(
            field,
            "must be a single-line string of 1-200 characters",
        )),
    }
}

/// An outbound URL: https, or plain http to an address the operator opened. (The resolved
/// address is checked again at every delivery, after DNS, by the transport.)
pub fn outbound_url(
    raw: &str,
    field: &str,
    policy: &OutboundPolicy,
) -> Result<String, NotificationError> {
    let url = url::Url::parse(raw).map_err(|e| invalid(field, format!("is not a URL: {e}")))?;
    let host = url
        .host_str()
        .ok_or_else(|| invalid(field, "has no host"))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let literal: Option<std::net::IpAddr> = host.parse().ok();
    match (url.scheme(), literal) {
        ("https", Some(ip)) if !policy.allows(ip) => Err(invalid(
            field,
            format!("{ip} is a private or special address that deliveries may not reach"),
        )),
        ("https", _) => Ok(url.to_string()),
        ("http", Some(ip)) if policy.operator_allows(ip) => Ok(url.to_string()),
        _ => Err(invalid(field, "must be an https URL")),
    }
}

/// Parses `config` for a channel of `kind`; `existing_secret` is kept when a webhook update
/// does not send a new one.
pub fn parse_config(
    kind: ChannelKind,
    config: &Value,
    existing_secret: Option<String>,
    policy: &OutboundPolicy,
    random: &dyn RandomSource,
) -> Result<ParsedConfig, NotificationError> {
    let empty = Map::new();
    let config = match config {
        Value::Object(map) => map,
        Value::Null => &empty,
        _ => return Err(NotificationError::invalid("config", "must be an object")),
    };
    let allowed: &[&str] = match kind {
        ChannelKind::Email => &["recipients", "severity_filter"],
        ChannelKind::Slack => &["webhook_url", "channel", "workspace"],
        ChannelKind::Webhook => &["url", "secret"],
    };
    if let Some(unknown) = config.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(invalid(
            unknown,
            format!(
                "is not a {} channel setting (allowed: {})",
                kind.as_str(),
                allowed.join(", ")
            ),
        ));
    }
    Ok(match kind {
        ChannelKind::Email => {
            let recipients = strings(config, "recipients")?;
            if recipients.is_empty() || recipients.len() > MAX_RECIPIENTS {
                return Err(invalid(
                    "recipients",
                    format!("must list 1-{MAX_RECIPIENTS} addresses"),
                ));
            }
            let recipients = recipients
                .iter()
                .map(|r| {
                    Email::parse(r).map(|e| e.as_str().to_owned()).map_err(|_| {
                        invalid("recipients", format!("`{r}` is not an email address"))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let severity_filter = strings(config, "severity_filter")?;
            if let Some(bad) = severity_filter
                .iter()
                .find(|s| !SEVERITIES.contains(&s.as_str()))
            {
                return Err(invalid(
                    "severity_filter",
                    format!("`{bad}` is not one of {}", SEVERITIES.join(", ")),
                ));
            }
            ParsedConfig {
                public: json!({ "recipients": recipients, "severity_filter": severity_filter }),
                target: ChannelTarget::Email {
                    recipients,
                    severity_filter,
                },
                generated_secret: None,
            }
        }
        ChannelKind::Slack => {
            let raw = config
                .get("webhook_url")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    invalid("webhook_url", "is required: the Slack incoming-webhook URL")
                })?;
            let webhook_url = outbound_url(raw, "webhook_url", policy)?;
            let channel = optional_text(config, "channel")?;
            let workspace = optional_text(config, "workspace")?;
            ParsedConfig {
                public: json!({ "webhook_url": webhook_url, "channel": channel, "workspace": workspace }),
                target: ChannelTarget::Slack {
                    webhook_url,
                    channel,
                    workspace,
                },
                generated_secret: None,
            }
        }
        ChannelKind::Webhook => {
            let raw = config
                .get("url")
                .and_then(Value::as_str)
                .ok_or_else(|| invalid("url", "is required"))?;
            let url = outbound_url(raw, "url", policy)?;
            let (secret, generated) = match config.get("secret") {
                Some(Value::String(s)) if s.len() >= 16 && s.len() <= 256 => (s.clone(), None),
                Some(Value::String(_)) => {
                    return Err(invalid("secret", "must be 16-256 characters"))
                }
                Some(Value::Null) | None => match existing_secret {
                    Some(s) => (s, None),
                    None => {
                        let s = generate_secret(random);
                        (s.clone(), Some(s))
                    }
                },
                Some(_) => return Err(invalid("secret", "must be a string")),
            };
            ParsedConfig {
                public: json!({ "url": url, "secret": { "configured": true } }),
                target: ChannelTarget::Webhook {
                    url,
                    secret: Some(secret),
                },
                generated_secret: generated,
            }
        }
    })
}

/// A Standard Webhooks secret: `whsec_` + base64 of 24 random bytes.
pub fn generate_secret(random: &dyn RandomSource) -> String {
    use base64::Engine;
    let mut bytes = [0u8; 24];
    random.fill(&mut bytes);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// The target of a stored configuration (checked when it was saved; the transport checks the
/// address again at delivery).
pub fn stored_target(kind: ChannelKind, config: &Value, secret: Option<String>) -> ChannelTarget {
    let text = |k: &str| config.get(k).and_then(Value::as_str).map(str::to_owned);
    let list = |k: &str| -> Vec<String> {
        config
            .get(k)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    match kind {
        ChannelKind::Email => ChannelTarget::Email {
            recipients: list("recipients"),
            severity_filter: list("severity_filter"),
        },
        ChannelKind::Slack => ChannelTarget::Slack {
            webhook_url: text("webhook_url").unwrap_or_default(),
            channel: text("channel"),
            workspace: text("workspace"),
        },
        ChannelKind::Webhook => ChannelTarget::Webhook {
            url: text("url").unwrap_or_default(),
            secret,
        },
    }
}
