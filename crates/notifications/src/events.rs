//! Domain events as they travel through the outbox. Tenantry's own events are derived from the
//! audit entries of the changes that cause them (one place, and always in the change's own
//! transaction); host platforms report theirs (`endpoint.failed`, `cluster.event`,
//! `pipeline.run.failed`, ...) through the API.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::EventType;

/// One event. `id` (`evt_<ulid>`) is the idempotency key every delivery carries
/// (`webhook-id`), so receivers can drop duplicates after a crash-and-redeliver.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The event's id (`evt_<ulid>`), the idempotency key of every delivery of it.
    pub id: String,
    /// The event's name (`member.invited`, or a host's own name).
    #[serde(rename = "type")]
    pub event_type: String,
    /// The account the event belongs to; it is delivered only through that account's rules.
    pub account_id: String,
    /// RFC 3339, UTC, seconds.
    pub occurred_at: String,
    /// What the event carries, as its source described it.
    pub data: Value,
}

/// The event an audited action emits, if any.
pub fn event_for_audit_action(action: &str) -> Option<EventType> {
    Some(match action {
        "team.member_invited" => EventType::MemberInvited,
        "team.invitation_accepted" => EventType::MemberJoined,
        "team.member_removed" => EventType::MemberRemoved,
        // Every settings change emits, whichever API made it: the allowlist's entries and the
        // organization section are settings like the rest.
        "settings.updated"
        | "settings.imported"
        | "settings.rolled_back"
        | "organization.updated"
        | "security.allowlist_entry_added"
        | "security.allowlist_entry_removed" => EventType::SettingsUpdated,
        "security.ip_denied" => EventType::SecurityIpDenied,
        "api_key.created" => EventType::ApiKeyCreated,
        "billing.cost_threshold_exceeded" => EventType::CostThresholdExceeded,
        "billing.cost_budget_warning" => EventType::CostBudgetWarning,
        "billing.auto_recharge_requested" => EventType::BillingAutoRechargeRequested,
        "login.failed" => EventType::LoginFailed,
        "user.signed_in" => EventType::LoginSucceeded,
        _ => return None,
    })
}

/// How urgent Tenantry's own events are, for channels that filter by severity.
pub fn default_severity(event: EventType) -> &'static str {
    match event {
        EventType::LoginFailed | EventType::SecurityIpDenied => "high",
        EventType::CostThresholdExceeded | EventType::EndpointFailed => "high",
        EventType::ApiKeyCreated
        | EventType::MemberInvited
        | EventType::MemberJoined
        | EventType::MemberRemoved
        | EventType::CostBudgetWarning
        | EventType::BillingAutoRechargeRequested => "medium",
        EventType::SettingsUpdated | EventType::ClusterEvent | EventType::LoginSucceeded => "info",
    }
}

/// The longest event name accepted.
pub const MAX_EVENT_NAME: usize = 100;

/// A host-reported event name: dot-separated lowercase segments (`pipeline.run.failed`). The
/// names Tenantry emits itself about identity and security are reserved, so a host key cannot
/// forge a `login.failed`; the host-side ones it knows (`endpoint.failed`, `cluster.event`, the
/// cost events) may be reported.
pub fn parse_host_event_name(name: &str) -> Result<String, String> {
    let well_formed = name.len() <= MAX_EVENT_NAME
        && name.split('.').count() >= 2
        && name.split('.').all(|seg| {
            !seg.is_empty()
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        });
    if !well_formed {
        return Err(format!(
            "must be 2 or more dot-separated segments of a-z, 0-9 and _ (at most {MAX_EVENT_NAME} characters)"
        ));
    }
    match EventType::parse(name) {
        Some(e) if !e.host_reportable() => Err(format!("`{name}` is emitted by Tenantry itself")),
        _ => Ok(name.to_owned()),
    }
}

/// A rule's event: any well-formed name (Tenantry's or a host's), or `*` for every event.
pub fn parse_rule_event(name: &str) -> Result<String, String> {
    if name == "*" || EventType::parse(name).is_some() {
        return Ok(name.to_owned());
    }
    parse_host_event_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_event_names_are_checked_and_security_events_reserved() {
        assert!(parse_host_event_name("pipeline.run.failed").is_ok());
        assert!(parse_host_event_name("endpoint.failed").is_ok());
        assert!(parse_host_event_name("login.failed").is_err());
        assert!(parse_host_event_name("member.invited").is_err());
        assert!(parse_host_event_name("nodot").is_err());
        assert!(parse_host_event_name("Upper.case").is_err());
        assert!(parse_host_event_name("a..b").is_err());
        assert!(parse_rule_event("login.failed").is_ok());
        assert!(parse_rule_event("*").is_ok());
    }

    #[test]
    fn audited_actions_map_to_events() {
        assert_eq!(
            event_for_audit_action("team.member_invited"),
            Some(EventType::MemberInvited)
        );
        assert_eq!(
            event_for_audit_action("user.signed_in"),
            Some(EventType::LoginSucceeded)
        );
        for settings_change in [
            "organization.updated",
            "security.allowlist_entry_added",
            "security.allowlist_entry_removed",
        ] {
            assert_eq!(
                event_for_audit_action(settings_change),
                Some(EventType::SettingsUpdated),
                "{settings_change}"
            );
        }
        assert_eq!(event_for_audit_action("user.profile_updated"), None);
    }
}
