use std::sync::Arc;

use serde::de::DeserializeOwned;
use tenantry_kernel::{Actor, PortError};

use crate::ports::{SettingsStore, StoredSettings};
use crate::{
    BillingSettings, IntegrationSettings, NotificationSettings, OrganizationSettings, Section,
    SecurityPolicy, SettingsError, UserPreferences,
};

/// The account's settings as one reader (the calling user) sees them.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountSettings {
    pub notifications: NotificationSettings,
    pub billing: BillingSettings,
    pub security: SecurityPolicy,
    pub integrations: IntegrationSettings,
    pub organization: OrganizationSettings,
    pub preferences: UserPreferences,
    /// IP allowlist entries (CIDR text).
    pub allowlist: Vec<String>,
    /// The caller's unused MFA backup codes.
    pub unused_backup_codes: u32,
    /// A validator that changes whenever anything in this view changes: the versions of every
    /// section and of the caller's preferences.
    pub etag: String,
}

pub struct SettingsService {
    store: Arc<dyn SettingsStore>,
}

impl SettingsService {
    pub fn new(store: Arc<dyn SettingsStore>) -> Self {
        Self { store }
    }

    /// Seed 01's `GET /v2/accounts/settings`: the actor's account sections plus the actor's own
    /// preferences. Every member may read it; secrets are sealed in the domain values and the
    /// dialect renders them redacted.
    pub fn account_settings(&self, actor: &Actor) -> Result<AccountSettings, SettingsError> {
        let stored = self.store.load(actor.account_id, actor.user_id)?;
        assemble(stored)
    }
}

fn section<T: DeserializeOwned + Default>(
    stored: &StoredSettings,
    section: Section,
) -> Result<(T, i64), SettingsError> {
    match stored
        .sections
        .iter()
        .find(|s| s.section == section.as_str())
    {
        None => Ok((T::default(), 0)),
        Some(s) => serde_json::from_value(s.document.clone())
            .map(|value| (value, s.version))
            .map_err(|e| {
                SettingsError::Port(PortError::Corrupt(format!(
                    "settings section {}: {e}",
                    section.as_str()
                )))
            }),
    }
}

fn assemble(stored: StoredSettings) -> Result<AccountSettings, SettingsError> {
    let (notifications, v_n) = section::<NotificationSettings>(&stored, Section::Notifications)?;
    let (billing, v_b) = section::<BillingSettings>(&stored, Section::Billing)?;
    let (security, v_s) = section::<SecurityPolicy>(&stored, Section::Security)?;
    let (integrations, v_i) = section::<IntegrationSettings>(&stored, Section::Integrations)?;
    let (organization, v_o) = section::<OrganizationSettings>(&stored, Section::Organization)?;
    let preferences =
        UserPreferences::from_rows(stored.preferences.iter().map(|(k, v)| (k.as_str(), v)));
    let etag = format!(
        "\"n{v_n}.b{v_b}.s{v_s}.i{v_i}.o{v_o}.p{}\"",
        stored.preferences_version
    );
    Ok(AccountSettings {
        notifications,
        billing,
        security,
        integrations,
        organization,
        preferences,
        allowlist: stored.allowlist,
        unused_backup_codes: stored.unused_backup_codes,
        etag,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::StoredSection;

    #[test]
    fn missing_sections_read_as_defaults() {
        let view = assemble(StoredSettings::default()).expect("assembles");
        assert_eq!(view.security, SecurityPolicy::default());
        assert_eq!(view.etag, "\"n0.b0.s0.i0.o0.p0\"");
    }

    #[test]
    fn stored_values_override_defaults_and_version_the_etag() {
        let stored = StoredSettings {
            sections: vec![StoredSection {
                section: "security".into(),
                document: serde_json::json!({"max_api_keys": 7}),
                version: 3,
            }],
            ..Default::default()
        };
        let view = assemble(stored).expect("assembles");
        assert_eq!(view.security.max_api_keys, 7);
        assert_eq!(view.security.audit_retention_days, 90);
        assert_eq!(view.etag, "\"n0.b0.s3.i0.o0.p0\"");
    }

    #[test]
    fn corrupt_document_is_reported_not_defaulted() {
        let stored = StoredSettings {
            sections: vec![StoredSection {
                section: "billing".into(),
                document: serde_json::json!({"currency": 5}),
                version: 1,
            }],
            ..Default::default()
        };
        assert!(matches!(
            assemble(stored),
            Err(SettingsError::Port(PortError::Corrupt(_)))
        ));
    }
}
