//! The user and organization API channel configurations, parsed: what each kind needs, checked before anything is
//! stored. Two values are secrets, sealed in the channel's `secret` and shown back only as
//! `{"configured": true}`: a webhook's signing secret and a Slack channel's incoming-webhook URL
//! (the URL is the credential). Sending `{"configured": true}` back keeps the stored value.

use serde_json::{json, Map, Value};
use tenantry_kernel::{Email, RandomSource};

use crate::slack_url::carries_credentials;
use crate::{ChannelKind, ChannelTarget, NotificationError, OutboundPolicy, SlackWebhookUrl};

/// The most email recipients one channel may have.
pub const MAX_RECIPIENTS: usize = 20;
/// The severities a rule may filter on, least to most severe.
pub const SEVERITIES: [&str; 5] = ["info", "low", "medium", "high", "critical"];

/// A parsed configuration: the target (with its secret in clear) and the public part.
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

/// How a read secret comes back: sending it unchanged means "keep the stored value".
fn keeps_stored(value: Option<&Value>) -> bool {
    value.is_none() || value == Some(&json!({ "configured": true }))
}

/// An outbound URL: https, or plain http to an address the operator opened, and never with
/// credentials (`user:password@`) in it. (The resolved address is checked again at every
/// delivery, after DNS, by the transport.)
pub fn outbound_url(
    raw: &str,
    field: &str,
    policy: &OutboundPolicy,
) -> Result<String, NotificationError> {
    let url = url::Url::parse(raw).map_err(|e| invalid(field, format!("is not a URL: {e}")))?;
    if carries_credentials(&url) {
        return Err(invalid(
            field,
            "must not contain credentials (user:password@)",
        ));
    }
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

/// Parses `config` for a channel of `kind`. `existing_secret` (the stored signing secret of a
/// webhook, the stored URL of a Slack channel) is kept when an update leaves the field out or
/// sends back `{"configured": true}`.
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
            let webhook_url = match config.get("webhook_url") {
                Some(Value::String(raw)) => SlackWebhookUrl::parse_allowing(raw, policy)
                    .map_err(|m| invalid("webhook_url", m))?
                    .into_string(),
                // A channel named only by `workspace` and `channel` (the form the user & org
                // API's example reads back) cannot be delivered: posting needs Slack's
                // incoming-webhook URL (or a bot token, which is not supported), and the two
                // names are only labels. Refused rather than stored as a channel that never
                // delivers.
                other if keeps_stored(other) => existing_secret.ok_or_else(|| {
                    invalid(
                        "webhook_url",
                        "is required: Slack is delivered through an incoming-webhook URL \
                         (https://hooks.slack.com/services/T…/B…/…); `workspace` and `channel` \
                         alone only label the channel and cannot be delivered to",
                    )
                })?,
                _ => {
                    return Err(invalid(
                        "webhook_url",
                        "must be the Slack incoming-webhook URL, or {\"configured\": true} to keep the stored one",
                    ))
                }
            };
            let channel = optional_text(config, "channel")?;
            let workspace = optional_text(config, "workspace")?;
            ParsedConfig {
                public: json!({ "webhook_url": { "configured": true }, "channel": channel, "workspace": workspace }),
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
            let (secret, generated) = match config.get("secret").filter(|v| !v.is_null()) {
                Some(Value::String(s)) if s.len() >= 16 && s.len() <= 256 => (s.clone(), None),
                Some(Value::String(_)) => {
                    return Err(invalid("secret", "must be 16-256 characters"))
                }
                Some(other) if !keeps_stored(Some(other)) => {
                    return Err(invalid(
                        "secret",
                        "must be a string, or {\"configured\": true} to keep the stored one",
                    ))
                }
                _ => match existing_secret {
                    Some(s) => (s, None),
                    None => {
                        let s = generate_secret(random);
                        (s.clone(), Some(s))
                    }
                },
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

/// What the API shows of a stored configuration: as stored, except that a Slack URL never
/// shows (one stored in clear before URLs were sealed included).
pub fn public_config(kind: ChannelKind, stored: &Value) -> Value {
    let mut public = stored.clone();
    if kind == ChannelKind::Slack {
        if let Some(url) = public.get_mut("webhook_url").filter(|u| !u.is_null()) {
            *url = json!({ "configured": true });
        }
    }
    public
}

/// The target of a stored configuration (checked when it was saved; the transport checks the
/// address again at delivery). `secret` is the opened secret: a webhook's signing secret, a
/// Slack channel's URL.
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
            // A URL stored in clear (before they were sealed) until the start-up pass seals it.
            webhook_url: secret.or_else(|| text("webhook_url")).unwrap_or_default(),
            channel: text("channel"),
            workspace: text("workspace"),
        },
        ChannelKind::Webhook => ChannelTarget::Webhook {
            url: text("url").unwrap_or_default(),
            secret,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tenantry_kernel::OsRandom;

    fn lab() -> OutboundPolicy {
        OutboundPolicy::parse("127.0.0.0/8").expect("valid")
    }

    #[test]
    fn a_slack_url_is_sealed_material_never_public() {
        let url = "https://hooks.slack.com/services/T0/B0/SecretPart";
        let parsed = parse_config(
            ChannelKind::Slack,
            &json!({ "webhook_url": url, "channel": "#ops" }),
            None,
            &lab(),
            &OsRandom,
        )
        .expect("valid");
        assert!(!parsed.public.to_string().contains("SecretPart"));
        assert_eq!(parsed.public["webhook_url"], json!({ "configured": true }));
        assert!(
            matches!(&parsed.target, ChannelTarget::Slack { webhook_url, .. } if webhook_url == url)
        );
        // Sent back as read, or left out: the stored URL stays.
        for config in [
            json!({ "webhook_url": { "configured": true }, "channel": "#ops" }),
            json!({ "channel": "#ops" }),
        ] {
            let kept = parse_config(
                ChannelKind::Slack,
                &config,
                Some(url.to_owned()),
                &lab(),
                &OsRandom,
            )
            .expect("keeps");
            assert!(
                matches!(&kept.target, ChannelTarget::Slack { webhook_url, .. } if webhook_url == url)
            );
        }
        for bad in [
            json!({ "webhook_url": { "configured": false } }),
            json!({ "webhook_url": "https://hooks.slack.com@127.0.0.5/services/T0/B0/X" }),
            json!({ "webhook_url": "http://127.0.0.5/hooks.slack.com/services/x" }),
            json!({ "webhook_url": "https://example.com/services/T0/B0/X" }),
            json!({ "webhook_url": { "configured": true } }),
        ] {
            assert!(
                parse_config(ChannelKind::Slack, &bad, None, &lab(), &OsRandom).is_err(),
                "{bad}"
            );
        }
        assert_eq!(
            public_config(ChannelKind::Slack, &json!({ "webhook_url": url })),
            json!({ "webhook_url": { "configured": true } }),
            "a URL stored in clear is not shown either"
        );
    }

    #[test]
    fn outbound_urls_with_credentials_are_refused_even_on_opened_addresses() {
        for bad in [
            "http://user@127.0.0.5/x",
            "https://user:pw@example.com/x",
            "https://example.com@127.0.0.5/x",
        ] {
            assert!(outbound_url(bad, "url", &lab()).is_err(), "{bad}");
        }
        assert!(outbound_url("http://127.0.0.5/x", "url", &lab()).is_ok());
    }
}
