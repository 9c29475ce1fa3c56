use serde::{Deserialize, Serialize};

/// The account's security policy in domain units (minutes, days). Seeds 01, 03, 04 and 05 each
/// show parts of it under their own names and units (API-MAP.md); this is the one stored value.
///
/// The IP allowlist entries are not here: they have identity of their own (id, label, creator)
/// and live in their own table; only the enforcement flag is part of the policy document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SecurityPolicy {
    /// Members must enrol MFA (seed 01 `two_factor.enabled`, 04 `requireMFA`, 05 `mfaRequired`).
    pub mfa_required: bool,
    /// The second factor members use (seed 01 `two_factor.method`).
    pub mfa_method: MfaMethod,
    /// Requests from outside the allowlist are refused.
    pub ip_allowlist_enforced: bool,
    pub max_api_keys: u32,
    /// Absolute session lifetime (seed 01 `session.timeout` in hours).
    pub absolute_session_minutes: u32,
    /// Idle timeout; `None` disables it.
    pub idle_timeout_minutes: Option<u32>,
    pub extend_on_activity: bool,
    pub concurrent_sessions: u32,
    pub reauth_for_sensitive: bool,
    /// `None` = passwords never expire.
    pub password_expiry_days: Option<u32>,
    /// Members inactive this long are suspended; `None` = never.
    pub inactivity_lock_days: Option<u32>,
    pub audit_retention_days: u32,
    pub log_api_requests: bool,
    pub log_resource_access: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MfaMethod {
    Totp,
    Sms,
}

impl Default for SecurityPolicy {
    /// The defaults of API-MAP.md.
    fn default() -> Self {
        Self {
            mfa_required: false,
            mfa_method: MfaMethod::Totp,
            ip_allowlist_enforced: false,
            max_api_keys: 20,
            absolute_session_minutes: 1440,
            idle_timeout_minutes: Some(60),
            extend_on_activity: true,
            concurrent_sessions: 5,
            reauth_for_sensitive: true,
            password_expiry_days: Some(90),
            inactivity_lock_days: None,
            audit_retention_days: 90,
            log_api_requests: true,
            log_resource_access: true,
        }
    }
}
