//! Channels (where notifications go) and rules (which events go where), and routing an event
//! through them. The account settings API's email, Slack and webhook settings are the built-in channels
//! `nch_email`, `nch_slack`, `nch_webhook` with their alert toggles as built-in rules; the user and organization API's
//! channels and rules are the account's own. One routing function serves both.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::Event;

/// What kind of receiver a channel is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelKind {
    /// Email to a list of recipients (the account's admins when empty).
    Email,
    /// A Slack incoming webhook.
    Slack,
    /// An HTTP endpoint that receives signed JSON.
    Webhook,
}

impl ChannelKind {
    /// The public word (`email`, `slack`, `webhook`).
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Email => "email",
            ChannelKind::Slack => "slack",
            ChannelKind::Webhook => "webhook",
        }
    }

    /// The kind a public word stands for; `None` for any other word.
    pub fn parse(s: &str) -> Option<Self> {
        [ChannelKind::Email, ChannelKind::Slack, ChannelKind::Webhook]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// Where a channel delivers. Secrets (the webhook signing secret) are held in clear only in
/// memory, on their way to a delivery; stores keep them sealed.
#[derive(Clone, PartialEq, Eq)]
pub enum ChannelTarget {
    /// Email.
    Email {
        /// The addresses; empty sends to the account's active admins and owner.
        recipients: Vec<String>,
        /// Only events of these severities; empty = all.
        severity_filter: Vec<String>,
    },
    /// Slack.
    Slack {
        /// The incoming-webhook URL (a secret: whoever has it can post to the workspace).
        webhook_url: String,
        /// The Slack channel name, as shown.
        channel: Option<String>,
        /// The Slack workspace name, as shown.
        workspace: Option<String>,
    },
    /// Webhook.
    Webhook {
        /// The receiving URL, allowed by the outbound policy.
        url: String,
        /// The signing secret (Standard Webhooks); `None` sends unsigned.
        secret: Option<String>,
    },
}

impl std::fmt::Debug for ChannelTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChannelTarget::Email { recipients, .. } => f
                .debug_struct("Email")
                .field("recipients", recipients)
                .finish(),
            ChannelTarget::Slack { channel, .. } => {
                f.debug_struct("Slack").field("channel", channel).finish()
            }
            ChannelTarget::Webhook { url, .. } => f
                .debug_struct("Webhook")
                .field("url", url)
                .field("secret", &"[redacted]")
                .finish(),
        }
    }
}

impl ChannelTarget {
    /// The kind of receiver this is.
    pub fn kind(&self) -> ChannelKind {
        match self {
            ChannelTarget::Email { .. } => ChannelKind::Email,
            ChannelTarget::Slack { .. } => ChannelKind::Slack,
            ChannelTarget::Webhook { .. } => ChannelKind::Webhook,
        }
    }
}

/// A digest's period, in UTC: a day (ending at midnight) or an ISO week (ending Monday 00:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestPeriod {
    /// One message per day, sent at midnight UTC.
    Daily,
    /// One message per ISO week, sent Monday 00:00 UTC.
    Weekly,
}

impl DigestPeriod {
    /// The end of the period that contains `at`.
    pub fn end_after(self, at: DateTime<Utc>) -> DateTime<Utc> {
        use chrono::Datelike;
        let midnight = at
            .date_naive()
            .succ_opt()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map_or(at, |d| d.and_utc());
        match self {
            DigestPeriod::Daily => midnight,
            DigestPeriod::Weekly => {
                let days = (7 - i64::from(at.weekday().num_days_from_monday()) - 1).rem_euclid(7);
                midnight + chrono::Duration::days(days)
            }
        }
    }
}

/// A place an account's events are delivered to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    /// `nch_<ulid>`, or `nch_email` / `nch_slack` / `nch_webhook` for the built-ins.
    pub id: String,
    /// The name the account gave it.
    pub name: String,
    /// Whether it receives deliveries.
    pub enabled: bool,
    /// Where and how it delivers.
    pub target: ChannelTarget,
    /// Built from the account settings API's notification settings (changed there, never deleted).
    pub builtin: bool,
    /// Emails batched into one message per period instead of one per event (the account settings
    /// API's `frequency`: `daily_digest`, `weekly_digest`).
    pub digest: Option<DigestPeriod>,
    /// When it was created (`None` for a built-in).
    pub created_at: Option<DateTime<Utc>>,
    /// When it was last changed (`None` for a built-in).
    pub updated_at: Option<DateTime<Utc>>,
    /// A webhook's signing secret before the last change, while it is still valid: deliveries
    /// are signed with it too, so receivers roll over without missing an event.
    pub previous_secret: Option<PreviousSecret>,
}

/// A replaced signing secret and when it stops being used (decision 0027).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PreviousSecret {
    /// The secret.
    pub secret: String,
    /// Unix seconds; a delivery signed at or after it carries only the new signature.
    pub until: i64,
}

/// A rule: events of one name (or all) that satisfy its filters go to its channels.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// `nrl_<ulid>`, or `nrl_<channel>_<toggle>_<n>` for the built-ins.
    pub id: String,
    /// The rule's name.
    pub name: String,
    /// An event name, or `*` for all.
    pub event: String,
    /// The channels it sends to.
    pub channel_ids: Vec<String>,
    /// Conditions on the event's data, all of which must hold (see [`filters_match`]).
    pub filters: Map<String, Value>,
    /// Whether it routes events.
    pub enabled: bool,
    /// Whether it comes from the account settings' built-in channels (changed there, never here).
    pub builtin: bool,
    /// When it was created (`None` for a built-in).
    pub created_at: Option<DateTime<Utc>>,
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Whether the event's data satisfies a rule's filters (all must hold):
/// - `threshold: n` — the event's `value` is at least `n`;
/// - `<thing>_ids: [..]` — the event's `<thing>_id` is one of them;
/// - `key: [..]` — the event's `key` is one of them;
/// - `key: scalar` — the event's `key` equals it.
pub fn filters_match(filters: &Map<String, Value>, data: &Value) -> bool {
    filters.iter().all(|(key, wanted)| {
        if key == "threshold" {
            return match (wanted.as_f64(), data.get("value").and_then(Value::as_f64)) {
                (Some(t), Some(v)) => v >= t,
                _ => false,
            };
        }
        let (field, list) = match (key.strip_suffix("_ids"), wanted) {
            (Some(stem), Value::Array(list)) => (format!("{stem}_id"), list),
            (None, Value::Array(list)) => (key.clone(), list),
            _ => return data.get(key) == Some(wanted),
        };
        let Some(actual) = data.get(&field).and_then(scalar_text) else {
            return false;
        };
        list.iter().filter_map(scalar_text).any(|w| w == actual)
    })
}

/// The channels an event goes to: every enabled channel named by an enabled rule whose event
/// and filters match, once each, in the order the channels are given; channel-level filters
/// (an email channel's severities) applied last.
pub fn route<'a>(event: &Event, rules: &[Rule], channels: &'a [Channel]) -> Vec<&'a Channel> {
    let wanted: Vec<&str> = rules
        .iter()
        .filter(|r| r.enabled)
        .filter(|r| r.event == "*" || r.event == event.event_type)
        .filter(|r| filters_match(&r.filters, &event.data))
        .flat_map(|r| r.channel_ids.iter().map(String::as_str))
        .collect();
    channels
        .iter()
        .filter(|c| c.enabled && wanted.contains(&c.id.as_str()))
        .filter(|c| match &c.target {
            ChannelTarget::Email {
                severity_filter, ..
            } if !severity_filter.is_empty() => {
                let severity = event
                    .data
                    .get("severity")
                    .and_then(Value::as_str)
                    .unwrap_or("info");
                severity_filter.iter().any(|s| s == severity)
            }
            _ => true,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn event(kind: &str, data: Value) -> Event {
        Event {
            id: "evt_1".into(),
            event_type: kind.into(),
            account_id: "acc_1".into(),
            occurred_at: "2026-01-01T00:00:00Z".into(),
            data,
        }
    }

    fn channel(id: &str, target: ChannelTarget) -> Channel {
        Channel {
            id: id.into(),
            name: id.into(),
            enabled: true,
            target,
            builtin: false,
            digest: None,
            created_at: None,
            updated_at: None,
            previous_secret: None,
        }
    }

    fn rule(event: &str, channels: &[&str], filters: Value) -> Rule {
        Rule {
            id: "nrl_1".into(),
            name: "r".into(),
            event: event.into(),
            channel_ids: channels.iter().map(|c| (*c).to_owned()).collect(),
            filters: filters.as_object().cloned().unwrap_or_default(),
            enabled: true,
            builtin: false,
            created_at: None,
        }
    }

    #[test]
    fn digest_periods_end_at_utc_midnight_and_monday() {
        let at = |s: &str| {
            DateTime::parse_from_rfc3339(s)
                .expect("t")
                .with_timezone(&Utc)
        };
        // 2026-11-25 is a Wednesday.
        assert_eq!(
            DigestPeriod::Daily.end_after(at("2026-11-25T13:00:00Z")),
            at("2026-11-26T00:00:00Z")
        );
        assert_eq!(
            DigestPeriod::Weekly.end_after(at("2026-11-25T13:00:00Z")),
            at("2026-11-30T00:00:00Z")
        );
        assert_eq!(
            DigestPeriod::Weekly.end_after(at("2026-11-29T23:59:00Z")),
            at("2026-11-30T00:00:00Z")
        );
        assert_eq!(
            DigestPeriod::Weekly.end_after(at("2026-11-30T00:00:00Z")),
            at("2026-12-07T00:00:00Z")
        );
    }

    #[test]
    fn filters_follow_the_documented_forms() {
        let f = json!({ "pipeline_ids": ["pl_1", "pl_2"], "threshold": 100, "region": "eu" });
        let f = f.as_object().expect("map");
        assert!(filters_match(
            f,
            &json!({ "pipeline_id": "pl_2", "value": 150, "region": "eu" })
        ));
        assert!(!filters_match(
            f,
            &json!({ "pipeline_id": "pl_3", "value": 150, "region": "eu" })
        ));
        assert!(!filters_match(
            f,
            &json!({ "pipeline_id": "pl_1", "value": 99, "region": "eu" })
        ));
        assert!(!filters_match(
            f,
            &json!({ "pipeline_id": "pl_1", "value": 150 })
        ));
        assert!(filters_match(&Map::new(), &json!({})));
    }

    #[test]
    fn routing_dedupes_channels_and_applies_severities() {
        let mail = channel(
            "nch_m",
            ChannelTarget::Email {
                recipients: vec!["a@example.com".into()],
                severity_filter: vec!["high".into()],
            },
        );
        let hook = channel(
            "nch_w",
            ChannelTarget::Webhook {
                url: "https://example.com".into(),
                secret: None,
            },
        );
        let mut off = hook.clone();
        off.id = "nch_off".into();
        off.enabled = false;
        let channels = [mail, hook, off];
        let rules = [
            rule("login.failed", &["nch_m", "nch_w"], json!({})),
            rule("*", &["nch_w", "nch_off"], json!({})),
        ];
        let high = event("login.failed", json!({ "severity": "high" }));
        let ids: Vec<&str> = route(&high, &rules, &channels)
            .iter()
            .map(|c| c.id.as_str())
            .collect();
        assert_eq!(ids, ["nch_m", "nch_w"]);
        let info = event("login.failed", json!({}));
        let ids: Vec<&str> = route(&info, &rules, &channels)
            .iter()
            .map(|c| c.id.as_str())
            .collect();
        assert_eq!(ids, ["nch_w"], "email wants high only");
    }
}
