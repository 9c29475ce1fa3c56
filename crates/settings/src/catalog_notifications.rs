//! The settings catalog API's notification settings (ZONE_TRANSFER_NOTIFICATION, SERVICE_NOTIFICATION,
//! USAGE_NOTIFICATION, ZONE_USAGE_NOTIFICATION, PUSH_NOTIFICATIONS): their limits and closed
//! sets, stored as settings sections (versioned, audited), and seen by the notification engine
//! as built-in channels and rules (`nch_catalog_*`), like the account settings API's settings
//! (API-MAP.md). Reading the API's DTO is the dialect's (`settings_catalog/codec.rs`, decision
//! 0043); rendering it stays here because the audit record of a change holds the setting as
//! the API shows it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::{FieldError, SettingsError};

/// A catalog notification setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatalogSetting {
    /// Who is emailed about zone transfer updates and failures (`ZONE_TRANSFER_NOTIFICATION`).
    ZoneTransfer,
    /// Who receives service emails (`SERVICE_NOTIFICATION`): always on, no threshold.
    Service,
    /// Who is emailed when the account's query volume passes a percentage of its allowance
    /// (`USAGE_NOTIFICATION`).
    Usage,
    /// The same per zone (`ZONE_USAGE_NOTIFICATION`).
    ZoneUsage,
    /// Webhooks that receive events as they happen (`PUSH_NOTIFICATIONS`).
    Push,
}

/// The catalog, in the API's order: (setting name, display name).
pub const CATALOG: [(&str, &str); 6] = [
    ("ZONE_TRANSFER_NOTIFICATION", "Zone Transfer Notifications"),
    ("SERVICE_NOTIFICATION", "Service Notifications"),
    ("USAGE_NOTIFICATION", "Usage Notifications"),
    ("ZONE_USAGE_NOTIFICATION", "Zone Usage Notifications"),
    ("PUSH_NOTIFICATIONS", "Realtime Push Notifications"),
    ("SECURITY_PREFERENCES", "Security Preferences"),
];

/// Addresses a usage notification may email.
pub const MAX_USAGE_EMAILS: usize = 5;
/// Addresses each zone of a zone usage notification may email.
pub const MAX_ZONE_EMAILS: usize = 5;
/// Zones a zone usage notification may watch.
pub const MAX_ZONES: usize = 5;
/// Webhooks a push notification setting may hold.
pub const MAX_PUSH_WEBHOOKS: usize = 3;
/// Addresses the zone transfer and service notifications may email.
pub const MAX_OTHER_EMAILS: usize = 20;
/// The only thresholds a zone usage notification accepts, in percent of the zone's allowance.
pub const ZONE_USAGE_THRESHOLDS: [u32; 7] = [5, 10, 20, 25, 50, 75, 100];

/// The channels of the settings catalog API's PUSH_NOTIFICATIONS `include`, with the events each stands for
/// (`ALL_TELEMETRY`, used by the API's own update example, stands for every event).
pub fn push_channel_events(id: &str) -> Option<Vec<&'static str>> {
    let changes = ["domain.changed", "record.changed", "user_group.changed"];
    let xfr = ["zone.transfer.succeeded", "zone.transfer.failed"];
    let zone = [
        "failover.event",
        "dnssec.event",
        "zone.transfer.succeeded",
        "zone.transfer.failed",
    ];
    let auth = ["login.succeeded", "login.failed"];
    Some(match id {
        "ALL_CHANGES" => changes.to_vec(),
        "DOMAIN_CHANGES" => vec!["domain.changed"],
        "RECORD_CHANGES" => vec!["record.changed"],
        "USER_GROUP_CHANGES" => vec!["user_group.changed"],
        "ALL_EVENTS" => zone.iter().chain(auth.iter()).copied().collect(),
        "ZONE_EVENTS" => zone.to_vec(),
        "FAILOVER_EVENT" => vec!["failover.event"],
        "DNSSEC_EVENT" => vec!["dnssec.event"],
        "XFR_EVENTS" => xfr.to_vec(),
        "ZONE_TRANSFER_SUCCESS" => vec!["zone.transfer.succeeded"],
        "ZONE_TRANSFER_FAILURE" => vec!["zone.transfer.failed"],
        "AUTHENTICATION_EVENTS" => auth.to_vec(),
        "LOGIN_SUCCESS" => vec!["login.succeeded"],
        "LOGIN_FAILURE" => vec!["login.failed"],
        "ALL_TELEMETRY" => vec!["*"],
        _ => return None,
    })
}

/// The channels a push webhook may include, as a tree: (id, display name, parent id, order among
/// its siblings). Ids are those [`push_channel_events`] knows.
pub const AVAILABLE_CHANNELS: [(&str, &str, Option<&str>, u32); 14] = [
    ("ALL_CHANGES", "All Changes", None, 1),
    ("DOMAIN_CHANGES", "Domain Changes", Some("ALL_CHANGES"), 1),
    ("RECORD_CHANGES", "Record Changes", Some("ALL_CHANGES"), 2),
    (
        "USER_GROUP_CHANGES",
        "User and Group Changes",
        Some("ALL_CHANGES"),
        3,
    ),
    ("ALL_EVENTS", "All Events", None, 2),
    ("ZONE_EVENTS", "Zone Events", Some("ALL_EVENTS"), 1),
    ("FAILOVER_EVENT", "Failover Event", Some("ZONE_EVENTS"), 1),
    ("DNSSEC_EVENT", "DNSSEC Event", Some("ZONE_EVENTS"), 2),
    ("XFR_EVENTS", "Zone Transfer Events", Some("ALL_EVENTS"), 2),
    (
        "ZONE_TRANSFER_SUCCESS",
        "Zone Transfer Success",
        Some("XFR_EVENTS"),
        1,
    ),
    (
        "ZONE_TRANSFER_FAILURE",
        "Zone Transfer Failure",
        Some("XFR_EVENTS"),
        2,
    ),
    (
        "AUTHENTICATION_EVENTS",
        "Authentication Events",
        Some("ALL_EVENTS"),
        3,
    ),
    (
        "LOGIN_SUCCESS",
        "Login Success",
        Some("AUTHENTICATION_EVENTS"),
        1,
    ),
    (
        "LOGIN_FAILURE",
        "Login Failure",
        Some("AUTHENTICATION_EVENTS"),
        2,
    ),
];

impl CatalogSetting {
    /// Every catalog notification setting, in the catalog's order.
    pub const ALL: [CatalogSetting; 5] = [
        CatalogSetting::ZoneTransfer,
        CatalogSetting::Service,
        CatalogSetting::Usage,
        CatalogSetting::ZoneUsage,
        CatalogSetting::Push,
    ];

    /// The setting's name in the catalog (`ZONE_TRANSFER_NOTIFICATION`).
    pub fn name(self) -> &'static str {
        match self {
            CatalogSetting::ZoneTransfer => "ZONE_TRANSFER_NOTIFICATION",
            CatalogSetting::Service => "SERVICE_NOTIFICATION",
            CatalogSetting::Usage => "USAGE_NOTIFICATION",
            CatalogSetting::ZoneUsage => "ZONE_USAGE_NOTIFICATION",
            CatalogSetting::Push => "PUSH_NOTIFICATIONS",
        }
    }

    /// The setting named `name` (exactly as [`Self::name`] spells it); `None` for any other name,
    /// including `SECURITY_PREFERENCES`, which is not a notification setting.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The settings section that stores it.
    pub fn section(self) -> &'static str {
        match self {
            CatalogSetting::ZoneTransfer => "catalog.zone_transfer_notification",
            CatalogSetting::Service => "catalog.service_notification",
            CatalogSetting::Usage => "catalog.usage_notification",
            CatalogSetting::ZoneUsage => "catalog.zone_usage_notification",
            CatalogSetting::Push => "catalog.push_notifications",
        }
    }
}

/// Whom a catalog notification emails.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailNotification {
    /// Whether the emails are sent; always `true` for the service notification.
    pub enable: bool,
    /// The recipients, at most the setting's limit (`MAX_*_EMAILS`).
    pub emails: Vec<String>,
}

/// One zone a zone usage notification watches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneUsage {
    /// The zone's name.
    pub zone: String,
    /// Percent of the zone's allowance that triggers the email; one of [`ZONE_USAGE_THRESHOLDS`].
    pub threshold: u32,
    /// Whom it emails.
    pub email_notification: EmailNotification,
}

/// One webhook of the push notification setting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushWebhook {
    /// Whether events are sent to it.
    pub enable: bool,
    /// Where events are posted.
    pub url: String,
    /// Which channels it receives, by channel id ([`AVAILABLE_CHANNELS`]).
    pub include: BTreeMap<String, bool>,
}

/// A stored catalog notification setting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CatalogDocument {
    /// ZONE_TRANSFER_NOTIFICATION, SERVICE_NOTIFICATION (no threshold), USAGE_NOTIFICATION.
    Notification {
        /// The value (1 to 1,000,000) at or above which the emails are sent; `None` for the
        /// service notification, which has none.
        threshold: Option<i64>,
        /// Whom it emails.
        email_notification: EmailNotification,
    },
    /// ZONE_USAGE_NOTIFICATION: one entry per watched zone.
    ZoneUsage {
        /// The watched zones, at most [`MAX_ZONES`].
        zones: Vec<ZoneUsage>,
    },
    /// PUSH_NOTIFICATIONS.
    Push {
        /// The webhooks, at most [`MAX_PUSH_WEBHOOKS`].
        webhooks: Vec<PushWebhook>,
    },
}

fn field(name: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: name.into(),
        message: message.into(),
        allowed: None,
    }
}

/// SERVICE_NOTIFICATION changes one address at a time (add, replace or remove one).
pub fn check_service_change(before: &[String], after: &[String]) -> Result<(), SettingsError> {
    let added = after.iter().filter(|e| !before.contains(e)).count();
    let removed = before.iter().filter(|e| !after.contains(e)).count();
    if added <= 1 && removed <= 1 {
        Ok(())
    } else {
        Err(SettingsError::Validation(vec![field(
            "emailNotification.emails",
            "only one email address can be added, updated or removed at a time",
        )]))
    }
}

impl CatalogDocument {
    /// The setting as the settings catalog API shows it (camelCase; the service notification
    /// without `enable` and threshold). Audit records keep this shape.
    pub fn render(&self, setting: CatalogSetting) -> Value {
        let email = |e: &EmailNotification| match setting {
            CatalogSetting::Service => json!({ "emails": e.emails }),
            _ => json!({ "enable": e.enable, "emails": e.emails }),
        };
        match self {
            CatalogDocument::Notification {
                threshold,
                email_notification,
            } => {
                let mut out = json!({ "emailNotification": email(email_notification) });
                if let Some(t) = threshold {
                    out["threshold"] = json!(t);
                }
                out
            }
            CatalogDocument::ZoneUsage { zones } => json!({
                "zones": zones.iter().map(|z| json!({
                    "zone": z.zone,
                    "threshold": z.threshold,
                    "emailNotification": email(&z.email_notification),
                })).collect::<Vec<_>>()
            }),
            CatalogDocument::Push { webhooks } => json!({
                "webhooks": webhooks.iter().map(|w| json!({
                    "enable": w.enable, "url": w.url, "include": w.include,
                })).collect::<Vec<_>>()
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_service_setting_changes_one_address_at_a_time() {
        let two = ["a@t.com".to_owned(), "b@t.com".to_owned()];
        assert!(check_service_change(&two[..1], &two).is_ok());
        assert!(check_service_change(&[], &two).is_err());
    }
}
