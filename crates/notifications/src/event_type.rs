//! The closed set of event types rules and webhooks subscribe to.

/// The kinds of domain events that notification rules and webhooks subscribe to. The names are
/// the public strings of the account settings API's webhook `events` list (`endpoint.failed`,
/// `cost.threshold_exceeded`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    /// Someone was invited to the team (`member.invited`).
    MemberInvited,
    /// An invitation was accepted (`member.joined`).
    MemberJoined,
    /// A member was removed (`member.removed`).
    MemberRemoved,
    /// Account settings changed (`settings.updated`).
    SettingsUpdated,
    /// The IP allowlist refused a request (`security.ip_denied`).
    SecurityIpDenied,
    /// An API key was created (`api_key.created`).
    ApiKeyCreated,
    /// A member signed in (`login.succeeded`).
    LoginSucceeded,
    /// A sign-in failed (`login.failed`).
    LoginFailed,
    /// Usage crossed a cost alert's threshold (`cost.threshold_exceeded`).
    CostThresholdExceeded,
    /// Spending neared the budget (`cost.budget_warning`).
    CostBudgetWarning,
    /// The balance fell below the auto-recharge threshold and a recharge is asked of the host
    /// (`billing.auto_recharge_requested`).
    BillingAutoRechargeRequested,
    /// A host reported a failed endpoint (`endpoint.failed`).
    EndpointFailed,
    /// A host reported a cluster event (`cluster.event`).
    ClusterEvent,
}

impl EventType {
    /// Every event type Tenantry names, in the order the notifications API lists them.
    pub const ALL: [EventType; 13] = [
        EventType::MemberInvited,
        EventType::MemberJoined,
        EventType::MemberRemoved,
        EventType::SettingsUpdated,
        EventType::SecurityIpDenied,
        EventType::ApiKeyCreated,
        EventType::LoginSucceeded,
        EventType::LoginFailed,
        EventType::CostThresholdExceeded,
        EventType::CostBudgetWarning,
        EventType::BillingAutoRechargeRequested,
        EventType::EndpointFailed,
        EventType::ClusterEvent,
    ];

    /// The event's public name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::MemberInvited => "member.invited",
            EventType::MemberJoined => "member.joined",
            EventType::MemberRemoved => "member.removed",
            EventType::SettingsUpdated => "settings.updated",
            EventType::SecurityIpDenied => "security.ip_denied",
            EventType::ApiKeyCreated => "api_key.created",
            EventType::LoginSucceeded => "login.succeeded",
            EventType::LoginFailed => "login.failed",
            EventType::CostThresholdExceeded => "cost.threshold_exceeded",
            EventType::CostBudgetWarning => "cost.budget_warning",
            EventType::BillingAutoRechargeRequested => "billing.auto_recharge_requested",
            EventType::EndpointFailed => "endpoint.failed",
            EventType::ClusterEvent => "cluster.event",
        }
    }

    /// The event type a public name stands for; `None` for a name Tenantry does not define (a
    /// host's own event names are carried as text instead).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }

    /// Whether a host platform may report this event (the others are Tenantry's own facts
    /// about identity, settings and security, and only Tenantry emits them).
    pub fn host_reportable(self) -> bool {
        matches!(
            self,
            EventType::CostThresholdExceeded
                | EventType::CostBudgetWarning
                | EventType::EndpointFailed
                | EventType::ClusterEvent
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_name_round_trips_and_is_unique() {
        let mut seen = std::collections::HashSet::new();
        for e in EventType::ALL {
            assert_eq!(EventType::parse(e.as_str()), Some(e));
            assert!(seen.insert(e.as_str()));
        }
        assert_eq!(EventType::parse("member.Invited"), None);
    }
}
