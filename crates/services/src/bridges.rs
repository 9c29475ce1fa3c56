//! Where one bounded context's port is served by another context's service. The contexts do not
//! know each other (`settings` does not depend on `team`); the wiring joins them here.

use std::net::IpAddr;
use std::sync::Arc;

use tenantry_kernel::{AccountId, Email, PortError};
use tenantry_security::SessionService;
use tenantry_settings::{SettingsError, SettingsService};

/// The team's policy as the account settings keep it: the member limit (the tenant settings'
/// features) and the enforced IP allowlist (applied to invitation acceptance, which issues a
/// credential to someone who has none yet). Passwords proven through an invitation link share
/// the sign-in throttle of the sessions.
pub struct TeamPolicyOfSettings {
    /// Where the limits and the allowlist are kept.
    pub settings: Arc<SettingsService>,
    /// Whose sign-in throttle password proofs share.
    pub sessions: Arc<SessionService>,
}

impl tenantry_team::TeamPolicy for TeamPolicyOfSettings {
    fn max_members(&self, account: AccountId) -> Result<u32, PortError> {
        self.settings.max_members(account).map_err(into_port)
    }

    fn ip_allowed(&self, account: AccountId, ip: Option<IpAddr>) -> Result<bool, PortError> {
        self.settings.admits(account, ip)
    }

    fn password_retry_after(&self, email: &Email, ip: Option<IpAddr>) -> Option<i64> {
        self.sessions.password_retry_after(email, ip)
    }

    fn password_tried(&self, email: &Email, ip: Option<IpAddr>, proven: bool) {
        self.sessions.password_tried(email, ip, proven);
    }

    fn support_email(&self, account: AccountId) -> Result<Option<Email>, PortError> {
        self.settings
            .branding(account)
            .map(|b| b.support_email)
            .map_err(into_port)
    }
}

/// Each account's audit retention as its security policy (kept by the settings) sets it, for
/// the security context's purge.
pub struct RetentionOfSettings {
    /// Where the security policy is kept.
    pub settings: Arc<SettingsService>,
}

impl tenantry_security::AuditRetentionPolicy for RetentionOfSettings {
    fn audit_retention_days(&self) -> Result<Vec<(AccountId, u32)>, PortError> {
        self.settings.audit_retention_days().map_err(into_port)
    }
}

fn into_port(e: SettingsError) -> PortError {
    match e {
        SettingsError::Port(p) => p,
        other => PortError::Corrupt(other.to_string()),
    }
}
