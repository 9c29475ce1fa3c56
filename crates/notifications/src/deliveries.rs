//! Deliveries: one event to one channel, with a log of every attempt (the user and organization API delivery ids,
//! `GET /api/notifications/deliveries`). What a delivery sends is fixed when the event is
//! routed (a `DeliveryJob`, sealed in the outbox), so a later configuration change does not
//! alter a message already on its way.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tenantry_kernel::DeliveryId;

use crate::{ChannelTarget, Event};

/// Where a delivery stands, as the delivery log shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Waiting for its first attempt.
    Queued,
    /// An attempt failed; another will follow.
    Retrying,
    /// A receiver accepted it.
    Delivered,
    /// Every attempt failed, or it was refused for good; no more follow.
    Failed,
    /// Never (or no more) sent: its channel was deleted or disabled while it waited.
    Cancelled,
}

impl DeliveryStatus {
    /// The public word (`queued`, `retrying`, `delivered`, `failed`, `cancelled`).
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Queued => "queued",
            DeliveryStatus::Retrying => "retrying",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Cancelled => "cancelled",
        }
    }

    /// The status a public word stands for; `None` for any other word.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Queued,
            Self::Retrying,
            Self::Delivered,
            Self::Failed,
            Self::Cancelled,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// Where an attempt stands. It is logged before it is sent, so an attempt whose process died
/// mid-send stays in the log: `InFlight` until the next attempt of its delivery starts (after
/// its lease ran out) or the delivery is given up, then `Interrupted`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptState {
    /// Being sent now (or its sender died; see `Interrupted`).
    InFlight,
    /// The receiver answered, or the send failed with a known error.
    Completed,
    /// Its sender stopped before it knew the outcome: the receiver may or may not have the
    /// message (a later attempt sends it again, with the same `webhook-id`).
    Interrupted,
}

impl AttemptState {
    /// The stored word (`in_flight`, `completed`, `interrupted`).
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptState::InFlight => "in_flight",
            AttemptState::Completed => "completed",
            AttemptState::Interrupted => "interrupted",
        }
    }

    /// The state a stored word stands for; `None` for any other word.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::InFlight, Self::Completed, Self::Interrupted]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// One attempt, as the log shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// 1 for the first attempt.
    pub number: u32,
    /// When it started.
    pub at: DateTime<Utc>,
    /// Where it stands.
    pub state: AttemptState,
    /// The receiver's HTTP status, if it answered.
    pub response_code: Option<u16>,
    /// How long the receiver took, if it answered.
    pub latency_ms: Option<u64>,
    /// Why it failed, if it did.
    pub error: Option<String>,
}

/// One event sent (or to be sent) to one channel, with every attempt logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The delivery's id.
    pub id: DeliveryId,
    /// The event it carries.
    pub event_id: String,
    /// That event's name.
    pub event_type: String,
    /// The channel it goes to.
    pub channel_id: String,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// When its status last changed.
    pub updated_at: DateTime<Utc>,
    /// Every attempt, oldest first.
    pub attempts: Vec<Attempt>,
}

/// Where a job sends, with its secret (sealed as a whole in the outbox).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum JobTarget {
    /// Email.
    Email {
        /// The addresses.
        recipients: Vec<String>,
    },
    /// Slack.
    Slack {
        /// The incoming-webhook URL (a secret).
        webhook_url: String,
        /// The Slack channel name, as shown.
        channel: Option<String>,
    },
    /// Webhook.
    Webhook {
        /// The receiving URL.
        url: String,
        /// The signing secret; `None` sends unsigned.
        secret: Option<String>,
        /// Also signs, until its end, after the secret was changed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous: Option<crate::PreviousSecret>,
    },
}

impl JobTarget {
    /// Where `channel` sends, with the secret it replaced while that still signs.
    pub fn of_channel(channel: &crate::Channel) -> Self {
        match Self::of(&channel.target) {
            JobTarget::Webhook { url, secret, .. } => JobTarget::Webhook {
                previous: channel.previous_secret.clone().filter(|_| secret.is_some()),
                url,
                secret,
            },
            other => other,
        }
    }

    /// What a delivery to `target` needs (without a replaced signing secret; the caller adds it
    /// while it still signs).
    pub fn of(target: &ChannelTarget) -> Self {
        match target.clone() {
            ChannelTarget::Email { recipients, .. } => JobTarget::Email { recipients },
            ChannelTarget::Slack {
                webhook_url,
                channel,
                ..
            } => JobTarget::Slack {
                webhook_url,
                channel,
            },
            ChannelTarget::Webhook { url, secret } => JobTarget::Webhook {
                url,
                secret,
                previous: None,
            },
        }
    }
}

/// Everything one delivery needs.
#[derive(Clone, Serialize, Deserialize)]
pub struct DeliveryJob {
    /// The delivery's id.
    pub delivery_id: String,
    /// The account whose event it is.
    pub account_id: String,
    /// The channel it goes to.
    pub channel_id: String,
    /// Where and how it is sent.
    pub target: JobTarget,
    /// The event.
    pub event: Event,
    /// A test an admin asked for while the channel was off: sent although the channel is
    /// disabled. Every other delivery goes out only while its channel exists and is enabled.
    #[serde(default)]
    pub to_disabled_channel: bool,
}

/// The webhook body: the event as JSON (Standard Webhooks `type`, `timestamp`, `data`), with
/// the event id that also travels as `webhook-id`.
pub fn webhook_body(event: &Event) -> Vec<u8> {
    json!({
        "id": event.id,
        "type": event.event_type,
        "timestamp": event.occurred_at,
        "account_id": event.account_id,
        "data": event.data,
    })
    .to_string()
    .into_bytes()
}

/// One line a person can read, for Slack and email subjects.
pub fn headline(event: &Event) -> String {
    let severity = event
        .data
        .get("severity")
        .and_then(Value::as_str)
        .unwrap_or("info");
    let summary = event
        .data
        .get("message")
        .and_then(Value::as_str)
        .map(|m| format!(": {m}"))
        .unwrap_or_default();
    format!("[{severity}] {}{summary}", event.event_type)
}

/// The Slack incoming-webhook body.
pub fn slack_body(event: &Event, channel: Option<&str>) -> Vec<u8> {
    let mut body = json!({
        "text": headline(event),
        "blocks": [
            { "type": "section", "text": { "type": "mrkdwn", "text": format!("*{}*", headline(event)) } },
            { "type": "context", "elements": [ { "type": "mrkdwn", "text": format!("event `{}` · account `{}` · {}", event.id, event.account_id, event.occurred_at) } ] },
        ],
    });
    if let Some(channel) = channel {
        body["channel"] = json!(channel);
    }
    body.to_string().into_bytes()
}

/// The email subject and text.
pub fn email_message(event: &Event) -> (String, String) {
    if event.event_type == "notification.digest" {
        return digest_message(event);
    }
    let data = serde_json::to_string_pretty(&event.data).unwrap_or_default();
    (
        format!("Tenantry: {}", headline(event)),
        format!(
            "Event: {}\nId: {}\nAccount: {}\nAt: {}\n\n{data}\n",
            event.event_type, event.id, event.account_id, event.occurred_at
        ),
    )
}

/// A digest: one line per held event, oldest first.
fn digest_message(event: &Event) -> (String, String) {
    let items = event
        .data
        .get("events")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut text = format!(
        "{} notifications for account {} up to {}:\n\n",
        items.len(),
        event.account_id,
        event
            .data
            .get("period_end")
            .and_then(Value::as_str)
            .unwrap_or("")
    );
    for item in &items {
        let inner = Event {
            id: item["id"].as_str().unwrap_or_default().to_owned(),
            event_type: item["type"].as_str().unwrap_or_default().to_owned(),
            account_id: event.account_id.clone(),
            occurred_at: item["occurred_at"].as_str().unwrap_or_default().to_owned(),
            data: item["data"].clone(),
        };
        text.push_str(&format!(
            "- {}  {}  ({})\n",
            inner.occurred_at,
            headline(&inner),
            inner.id
        ));
    }
    (
        format!("Tenantry digest: {} notifications", items.len()),
        text,
    )
}
