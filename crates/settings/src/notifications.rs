//! The account's three built-in notification channels (email, Slack, webhook) and their alert
//! toggles.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use tenantry_kernel::{Email, RandomSource};
use tenantry_notifications::{EventType, OutboundPolicy};
use tenantry_security::{Sealed, SecretBox};

use crate::display::EmailFrequency;
use crate::fields::{FieldError, Fields, Sealer, SecretView, SEALED_MARKER};
use crate::urls::{SlackWebhookUrl, WebhookUrl};
use crate::{SettingsError, SettingsStore};

/// The account settings API's three built-in notification channels of an account (email, Slack, webhook) with
/// their alert toggles. Two values are secrets, stored sealed and never in clear: the webhook
/// signing secret and the Slack incoming-webhook URL (whoever holds the URL can post).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct NotificationSettings {
    /// Alerts by email.
    pub email: EmailChannel,
    /// Alerts posted to a Slack channel.
    pub slack: SlackChannel,
    /// Events posted, signed, to the account's own endpoint.
    pub webhook: WebhookChannel,
}

/// The email channel: on by default, immediate, to the account's admins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EmailChannel {
    /// Whether alerts are emailed at all.
    pub enabled: bool,
    /// Which alerts are emailed.
    pub alerts: EmailAlerts,
    /// Whether each alert goes out at once or in a daily or weekly digest.
    pub frequency: EmailFrequency,
    /// Recipient; `None` sends to the account's admins.
    pub email: Option<Email>,
}

impl Default for EmailChannel {
    fn default() -> Self {
        Self {
            enabled: true,
            alerts: EmailAlerts::default(),
            frequency: EmailFrequency::Immediate,
            email: None,
        }
    }
}

/// Which alerts the email channel sends; marketing and system updates are opt-in, the rest
/// opt-out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EmailAlerts {
    /// Cost thresholds and budget warnings, auto-recharge requests.
    pub cost_alerts: bool,
    /// Usage passed a threshold.
    pub usage_warnings: bool,
    /// Failed sign-ins, refused addresses, new API keys, members invited, joined or removed.
    pub security_notifications: bool,
    /// System updates.
    pub system_updates: bool,
    /// Announcements.
    pub marketing_emails: bool,
}

impl Default for EmailAlerts {
    fn default() -> Self {
        Self {
            cost_alerts: true,
            usage_warnings: true,
            security_notifications: true,
            system_updates: false,
            marketing_emails: false,
        }
    }
}

/// The Slack channel: off until an incoming-webhook URL is set.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SlackChannel {
    /// Whether alerts are posted; needs `webhook_url_sealed`.
    pub enabled: bool,
    /// The incoming-webhook URL, sealed; it was checked as a [`SlackWebhookUrl`] before.
    pub webhook_url_sealed: Option<Sealed>,
    /// The Slack channel to post to (`#` then 1–80 of a-z, 0-9, `-`, `_`, `.`); `None` posts to
    /// the webhook's own channel.
    pub channel: Option<String>,
    /// Which alerts are posted.
    pub alerts: SlackAlerts,
}

/// Which alerts the Slack channel posts; all on by default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SlackAlerts {
    /// An endpoint failed.
    pub endpoint_failures: bool,
    /// Cost thresholds and budget warnings.
    pub cost_thresholds: bool,
    /// Cluster events.
    pub cluster_events: bool,
}

impl Default for SlackAlerts {
    fn default() -> Self {
        Self {
            endpoint_failures: true,
            cost_thresholds: true,
            cluster_events: true,
        }
    }
}

/// The webhook channel: events posted to the account's endpoint, signed with its secret.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhookChannel {
    /// Whether events are posted; needs `url`.
    pub enabled: bool,
    /// Where events are posted (an address the operator's outbound policy allows).
    pub url: Option<WebhookUrl>,
    /// The event types posted, at most 32, each one the notification engine knows.
    pub events: Vec<String>,
    /// The signing secret, sealed; never shown by public reads.
    pub secret_sealed: Option<Sealed>,
}

const SLACK_URL_FIELD: &str = "slack.webhook_url";
const WEBHOOK_URL_FIELD: &str = "webhook.url";
/// A missing URL is an incomplete document, not an invalid URL: it stays a validation error.
const SLACK_URL_REQUIRED: &str = "is required when slack.enabled is true";
const WEBHOOK_URL_REQUIRED: &str = "is required when webhook.enabled is true";

/// The account settings API answers a refused webhook URL (Slack or webhook) with `INVALID_WEBHOOK_URL`: a
/// validation failure made only of refused URLs becomes [`SettingsError::InvalidWebhookUrl`]
/// naming each field. Mixed with other problems it stays a validation error, so one response
/// still names every failing field.
pub(crate) fn refused_urls(e: SettingsError) -> SettingsError {
    let refused_url = |f: &FieldError| {
        [SLACK_URL_FIELD, WEBHOOK_URL_FIELD].contains(&f.field.as_str())
            && ![SLACK_URL_REQUIRED, WEBHOOK_URL_REQUIRED].contains(&f.message.as_str())
    };
    match e {
        SettingsError::Validation(fields)
            if !fields.is_empty() && fields.iter().all(refused_url) =>
        {
            SettingsError::InvalidWebhookUrl(fields)
        }
        other => other,
    }
}

/// Slack channel names: `#` followed by 1–80 lowercase letters, digits, `-`, `_` or `.`.
fn slack_channel(s: &str) -> Result<String, String> {
    let name = s.strip_prefix('#').unwrap_or(s);
    let ok = (1..=80).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(format!("#{name}"))
    } else {
        Err("must be a Slack channel name: # then 1-80 of a-z, 0-9, -, _ or .".into())
    }
}

/// `slack.webhook_url` of a document being read: a new URL (checked, then sealed), null to
/// clear, or the stored one kept: `{"configured": true}` sent back (or the field left out) comes
/// here as the still-sealed value that the merge put in its place.
fn slack_url(
    f: &mut Fields,
    m: &Map<String, Value>,
    seal: Sealer<'_>,
    policy: &OutboundPolicy,
) -> Option<Option<Sealed>> {
    const FIELD: &str = SLACK_URL_FIELD;
    let configured = |v: &Value| v == &Value::Bool(true);
    match m.get("webhook_url") {
        None | Some(Value::Null) => Some(None),
        Some(Value::String(raw)) => match SlackWebhookUrl::parse_allowing(raw, policy) {
            Ok(url) => Some(Some(seal(url.as_str()))),
            Err(message) => {
                f.error(FIELD, message);
                None
            }
        },
        Some(Value::Object(o)) => {
            // `{"$sealed": ..}` alone, or with the `"configured": true` a PUT merged onto it.
            let kept = o.get(SEALED_MARKER).and_then(Value::as_str).filter(|_| {
                o.iter()
                    .all(|(k, v)| k == SEALED_MARKER || (k == "configured" && configured(v)))
            });
            match kept {
                Some(sealed) => Some(Some(Sealed::from_stored(sealed.to_owned()))),
                None if o.len() == 1 && o.get("configured").is_some_and(configured) => {
                    f.error(
                        FIELD,
                        "no Slack webhook URL is stored to keep: send the URL",
                    );
                    None
                }
                None => {
                    f.error(
                        FIELD,
                        "must be a Slack webhook URL, or {\"configured\": true} to keep the stored one",
                    );
                    None
                }
            }
        }
        Some(_) => {
            f.error(
                FIELD,
                "must be a Slack webhook URL (https://hooks.slack.com/services/T…/B…/…)",
            );
            None
        }
    }
}

/// Seals the Slack URLs that notification settings written before URLs were sealed hold in
/// clear (`slack.webhook_url`), in every account's current document and history, in one
/// transaction; returns how many documents changed. Run once at start, before anything is
/// served: a migration cannot do it, the master key is not in SQL.
pub fn seal_clear_slack_urls(
    store: &dyn SettingsStore,
    secrets: &SecretBox,
    random: &dyn RandomSource,
) -> Result<u64, SettingsError> {
    store.rewrite_all_documents(&mut |doc: &mut Value| {
        let Some(slack) = doc.get_mut("slack").and_then(Value::as_object_mut) else {
            return Ok(false);
        };
        let Some(clear) = slack.remove("webhook_url") else {
            return Ok(false);
        };
        let sealed = clear
            .as_str()
            .map(|url| json!(secrets.seal(url, random).as_str()));
        slack.insert("webhook_url_sealed".into(), sealed.unwrap_or(Value::Null));
        Ok(true)
    })
}

fn event_name(s: &str) -> Result<String, String> {
    EventType::parse(s)
        .map(|e| e.as_str().to_owned())
        .ok_or_else(|| "is not a known event type".to_owned())
}

impl NotificationSettings {
    /// The section as a document, its secrets (the Slack URL, the webhook secret) shown as
    /// `secrets` says.
    pub fn render(&self, secrets: &SecretView<'_>) -> Value {
        json!({
            "email": {
                "enabled": self.email.enabled,
                "alerts": {
                    "cost_alerts": self.email.alerts.cost_alerts,
                    "usage_warnings": self.email.alerts.usage_warnings,
                    "security_notifications": self.email.alerts.security_notifications,
                    "system_updates": self.email.alerts.system_updates,
                    "marketing_emails": self.email.alerts.marketing_emails,
                },
                "frequency": self.email.frequency.as_str(),
                "email": self.email.email.as_ref().map(Email::as_str),
            },
            "slack": {
                "enabled": self.slack.enabled,
                "webhook_url": secrets.show(&self.slack.webhook_url_sealed),
                "channel": self.slack.channel,
                "alerts": {
                    "endpoint_failures": self.slack.alerts.endpoint_failures,
                    "cost_thresholds": self.slack.alerts.cost_thresholds,
                    "cluster_events": self.slack.alerts.cluster_events,
                },
            },
            "webhook": {
                "enabled": self.webhook.enabled,
                "url": self.webhook.url.as_ref().map(WebhookUrl::as_str),
                "events": self.webhook.events,
                "secret": secrets.show(&self.webhook.secret_sealed),
            },
        })
    }

    /// Reads a complete section document (after merging), collecting every problem in `f`; `None`
    /// if there was any. New secrets are sealed with `seal`.
    /// `policy` is the operator's outbound allowance: it decides which URLs may be saved.
    pub fn read(
        doc: &Value,
        f: &mut Fields,
        seal: Sealer<'_>,
        policy: &OutboundPolicy,
    ) -> Option<Self> {
        let root = f.object(doc, "", &["email", "slack", "webhook"])?;
        let email = f.child(
            root,
            "email",
            "",
            &["enabled", "alerts", "frequency", "email"],
        );
        let slack = f.child(
            root,
            "slack",
            "",
            &["enabled", "webhook_url", "channel", "alerts"],
        );
        let webhook = f.child(root, "webhook", "", &["enabled", "url", "events", "secret"]);

        let email = email.and_then(|m| {
            let alerts = f.child(
                m,
                "alerts",
                "email",
                &[
                    "cost_alerts",
                    "usage_warnings",
                    "security_notifications",
                    "system_updates",
                    "marketing_emails",
                ],
            );
            let alerts = alerts.and_then(|a| {
                let p = "email.alerts";
                Some(EmailAlerts {
                    cost_alerts: f.bool(a, "cost_alerts", p)?,
                    usage_warnings: f.bool(a, "usage_warnings", p)?,
                    security_notifications: f.bool(a, "security_notifications", p)?,
                    system_updates: f.bool(a, "system_updates", p)?,
                    marketing_emails: f.bool(a, "marketing_emails", p)?,
                })
            });
            let enabled = f.bool(m, "enabled", "email");
            let frequency = f.parse(
                m,
                "frequency",
                "email",
                EmailFrequency::parse,
                Some(EmailFrequency::ALLOWED),
            );
            let address = f.parse_opt(m, "email", "email", |s| {
                Email::parse(s).map_err(|e| e.to_string())
            });
            Some(EmailChannel {
                enabled: enabled?,
                alerts: alerts?,
                frequency: frequency?,
                email: address?,
            })
        });

        let slack = slack.and_then(|m| {
            let alerts = f.child(
                m,
                "alerts",
                "slack",
                &["endpoint_failures", "cost_thresholds", "cluster_events"],
            );
            let alerts = alerts.and_then(|a| {
                let p = "slack.alerts";
                Some(SlackAlerts {
                    endpoint_failures: f.bool(a, "endpoint_failures", p)?,
                    cost_thresholds: f.bool(a, "cost_thresholds", p)?,
                    cluster_events: f.bool(a, "cluster_events", p)?,
                })
            });
            let enabled = f.bool(m, "enabled", "slack");
            let url = slack_url(f, m, seal, policy);
            let channel = f.parse_opt(m, "channel", "slack", slack_channel);
            if enabled == Some(true) && matches!(url, Some(None)) {
                f.error(SLACK_URL_FIELD, SLACK_URL_REQUIRED);
            }
            Some(SlackChannel {
                enabled: enabled?,
                webhook_url_sealed: url?,
                channel: channel?,
                alerts: alerts?,
            })
        });

        let webhook = webhook.and_then(|m| {
            let enabled = f.bool(m, "enabled", "webhook");
            let url = f.parse_opt(m, "url", "webhook", |raw| {
                WebhookUrl::parse_allowing(raw, policy)
            });
            let events = f.array(m, "events", "webhook", 32, |f, v, path| {
                match v.as_str().map(event_name) {
                    Some(Ok(e)) => Some(e),
                    _ => {
                        let allowed: Vec<&str> =
                            EventType::ALL.iter().map(|e| e.as_str()).collect();
                        f.error_allowed(path, "must be a known event type", json!(allowed));
                        None
                    }
                }
            });
            let secret = f.secret(m, "secret", "webhook", seal);
            if enabled == Some(true) && matches!(url, Some(None)) {
                f.error(WEBHOOK_URL_FIELD, WEBHOOK_URL_REQUIRED);
            }
            let mut events = events?;
            events.dedup();
            Some(WebhookChannel {
                enabled: enabled?,
                url: url?,
                events,
                secret_sealed: secret?,
            })
        });

        Some(Self {
            email: email?,
            slack: slack?,
            webhook: webhook?,
        })
    }
}
