use serde::{Deserialize, Serialize};

/// Seed 01's three built-in notification channels of an account (email, Slack, webhook) with
/// their alert toggles. Secrets (the webhook signing secret) are stored sealed, never in clear.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct NotificationSettings {
    pub email: EmailChannel,
    pub slack: SlackChannel,
    pub webhook: WebhookChannel,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EmailChannel {
    pub enabled: bool,
    pub alerts: EmailAlerts,
    pub frequency: String,
    /// Recipient; `None` sends to the account's admins.
    pub email: Option<String>,
}

impl Default for EmailChannel {
    fn default() -> Self {
        Self {
            enabled: true,
            alerts: EmailAlerts::default(),
            frequency: "immediate".into(),
            email: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EmailAlerts {
    pub cost_alerts: bool,
    pub usage_warnings: bool,
    pub security_notifications: bool,
    pub system_updates: bool,
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

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SlackChannel {
    pub enabled: bool,
    pub webhook_url: Option<String>,
    pub channel: Option<String>,
    pub alerts: SlackAlerts,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SlackAlerts {
    pub endpoint_failures: bool,
    pub cost_thresholds: bool,
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

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhookChannel {
    pub enabled: bool,
    pub url: Option<String>,
    pub events: Vec<String>,
    /// The signing secret, sealed (encrypted) by the store; `None` when unset.
    pub secret_sealed: Option<String>,
}
