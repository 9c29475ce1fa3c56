//! Where one bounded context's port is served by another context's service. The contexts do not
//! know each other (`settings` does not depend on `team`); the wiring joins them here.

use std::net::IpAddr;
use std::sync::Arc;

use tenantry_kernel::{AccountId, Email, PortError};
use tenantry_security::{AllowlistEnforcement, SessionService};
use tenantry_settings::{SettingsError, SettingsService};

/// The team's policy as the account settings keep it: the member limit (the tenant settings'
/// features) and the enforced IP allowlist (applied to invitation acceptance, which issues a
/// credential to someone who has none yet). Passwords proven through an invitation link share
/// the sign-in throttle of the sessions.
pub struct TeamPolicyOfSettings {
    /// Where the limits are kept.
    pub settings: Arc<SettingsService>,
    /// The allowlist as this node enforces it (the same cache as requests').
    pub allowlist: Arc<AllowlistEnforcement>,
    /// Whose sign-in throttle password proofs share.
    pub sessions: Arc<SessionService>,
    /// Who has a second factor enrolled.
    pub mfa: Arc<dyn tenantry_security::MfaEnrollments>,
}

impl tenantry_team::TeamPolicy for TeamPolicyOfSettings {
    fn max_members(&self, account: AccountId) -> Result<u32, PortError> {
        self.settings.max_members(account).map_err(into_port)
    }

    fn ip_allowed(&self, account: AccountId, ip: Option<IpAddr>) -> Result<bool, PortError> {
        self.allowlist.admits(account, ip)
    }

    fn password_retry_after(&self, email: &Email, ip: Option<IpAddr>) -> Option<i64> {
        self.sessions.password_retry_after(email, ip)
    }

    fn password_tried(&self, email: &Email, ip: Option<IpAddr>, proven: bool) {
        self.sessions.password_tried(email, ip, proven);
    }

    fn current_password_tried(&self, email: &Email, ip: Option<IpAddr>, proven: bool) {
        self.sessions.password_counted(email, ip, proven);
    }

    fn mail_branding(&self, account: AccountId) -> Result<tenantry_team::MailBranding, PortError> {
        let branding = self.settings.branding(account).map_err(into_port)?;
        Ok(tenantry_team::MailBranding {
            // The contrast rule of the console's style sheet, so a mail and a page of the
            // account put the same text colour on its colour.
            text_color: branding.primary_color.text_on().css().to_owned(),
            color: branding.primary_color.as_str().to_owned(),
            has_logo: branding.logo_url.is_some(),
            support: branding.support_email,
        })
    }

    fn mfa_required(&self, account: AccountId) -> Result<bool, PortError> {
        Ok(self.settings.stored_security_policy(account)?.mfa_required)
    }

    fn mfa_enrolled(&self, user: tenantry_kernel::UserId) -> Result<bool, PortError> {
        self.mfa.is_enrolled(user).map_err(|e| match e {
            tenantry_security::SecurityError::Port(p) => p,
            other => PortError::Unavailable(other.to_string()),
        })
    }
}

/// The IP allowlist policy as the account's security settings keep it, for the security
/// context's enforcement (which caches it).
pub struct AllowlistOfSettings {
    /// Where the policy is kept.
    pub settings: Arc<SettingsService>,
}

impl tenantry_security::AllowlistSource for AllowlistOfSettings {
    fn allowlist_policy(
        &self,
        account: AccountId,
    ) -> Result<tenantry_security::AllowlistPolicy, PortError> {
        self.settings
            .stored_allowlist_policy(account)
            .map_err(into_port)
    }

    fn policy_epoch(&self, account: AccountId) -> tenantry_kernel::Epoch {
        self.settings.account_epoch(account)
    }
}

/// The security policy as the account's security settings keep it, for the security
/// context's services: API key limits and re-authentication, the session rules, the portal
/// links' return origins, and the allowlist sign-in and portal redemption apply (through the
/// same cache as requests).
pub struct SecurityPolicyOfSettings {
    /// Where the policy is kept (read on every call: each answer decides whether a credential
    /// is handed out, and those calls are rare).
    pub settings: Arc<SettingsService>,
    /// The allowlist as this node enforces it.
    pub allowlist: Arc<AllowlistEnforcement>,
}

impl tenantry_security::KeyPolicy for SecurityPolicyOfSettings {
    fn max_api_keys(
        &self,
        account: AccountId,
    ) -> Result<tenantry_security::ApiKeyLimit, PortError> {
        Ok(self.settings.stored_security_policy(account)?.max_api_keys)
    }

    fn reauth_for_sensitive(&self, account: AccountId) -> Result<bool, PortError> {
        Ok(self
            .settings
            .stored_security_policy(account)?
            .reauth_for_sensitive)
    }

    fn mfa_required(&self, account: AccountId) -> Result<bool, PortError> {
        Ok(self.settings.stored_security_policy(account)?.mfa_required)
    }
}

impl tenantry_security::SessionPolicySource for SecurityPolicyOfSettings {
    fn session_policy(
        &self,
        account: AccountId,
    ) -> Result<tenantry_security::SessionPolicy, PortError> {
        let p = self.settings.stored_security_policy(account)?;
        Ok(tenantry_security::SessionPolicy {
            mfa_required: p.mfa_required,
            password_expiry_days: p.password_expiry_days,
            absolute_minutes: p.absolute_session_minutes,
            idle_minutes: p.idle_timeout_minutes,
            extend_on_activity: p.extend_on_activity,
            concurrent_sessions: p.concurrent_sessions,
        })
    }

    /// The same rule as the team's and the requests' (one implementation:
    /// [`AllowlistEnforcement::admits`]).
    fn ip_allowed(&self, account: AccountId, ip: Option<IpAddr>) -> Result<bool, PortError> {
        self.allowlist.admits(account, ip)
    }
}

/// The account's own portal return origins (decision 0030), read on every mint: minting is
/// rare, and a removed origin must stop working at once.
impl tenantry_security::AccountReturnOrigins for SecurityPolicyOfSettings {
    fn return_origins(&self, account: AccountId) -> Result<Vec<String>, PortError> {
        Ok(self
            .settings
            .stored_security_policy(account)?
            .portal_return_origins)
    }
}

/// Each account's audit retention as its security policy (kept by the settings) sets it, for
/// the security context's purge.
pub struct RetentionOfSettings {
    /// Where the security policy is kept.
    pub settings: Arc<SettingsService>,
}

impl tenantry_security::AuditRetentionPolicy for RetentionOfSettings {
    fn audit_retention_days(
        &self,
    ) -> Result<Vec<(AccountId, tenantry_security::RetentionDays)>, PortError> {
        self.settings.audit_retention_days().map_err(into_port)
    }
}

/// The account settings' time zone and language, for the security context's profile (which
/// shows them and writes them as preference rows the account settings API reads).
pub struct PreferencesOfSettings {
    /// Where the preferences are kept.
    pub settings: Arc<SettingsService>,
}

impl tenantry_security::ProfilePreferences for PreferencesOfSettings {
    fn shown(
        &self,
        actor: &tenantry_kernel::Actor,
    ) -> Result<tenantry_security::ShownPreferences, PortError> {
        let settings = self.settings.account_settings(actor).map_err(into_port)?;
        Ok(tenantry_security::ShownPreferences {
            timezone: settings
                .preferences
                .timezone
                .unwrap_or(settings.organization.default_timezone)
                .as_str()
                .to_owned(),
            language: settings.preferences.language.as_str().to_owned(),
        })
    }

    fn language(&self, subtag: &str) -> Option<&'static str> {
        tenantry_settings::Language::parse(subtag)
            .ok()
            .map(tenantry_settings::Language::as_str)
    }

    fn timezone_row(
        &self,
        timezone: Option<&tenantry_kernel::Timezone>,
    ) -> (String, serde_json::Value) {
        (
            tenantry_settings::preferences::storage::TIMEZONE.into(),
            timezone.map_or(serde_json::Value::Null, |t| serde_json::json!(t.as_str())),
        )
    }

    fn language_row(&self, language: &str) -> (String, serde_json::Value) {
        (
            tenantry_settings::preferences::storage::LANGUAGE.into(),
            serde_json::json!(language),
        )
    }
}

fn into_port(e: SettingsError) -> PortError {
    match e {
        SettingsError::Port(p) => p,
        other => PortError::Corrupt(other.to_string()),
    }
}
