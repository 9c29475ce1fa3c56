//! The documents a new account starts with.

use tenantry_billing::BillingSettings;

use crate::{
    IntegrationSettings, NotificationSettings, OrganizationSettings, Section, SecurityPolicy,
};

/// `(section, JSON)` for every account-level section, with API-MAP.md's defaults. Stored as
/// version 1 when an account is created, so history starts from a known document.
pub fn initial_documents() -> Vec<(String, String)> {
    let mut docs: Vec<(String, String)> = Section::ACCOUNT
        .into_iter()
        .map(|section| {
            (
                section.as_str().to_owned(),
                default_document(section).to_string(),
            )
        })
        .collect();
    // The tenant settings API's tenant defaults beyond the account settings API's sections.
    let branding =
        serde_json::to_value(crate::tenant::BrandingSettings::default()).unwrap_or_default();
    let features =
        serde_json::to_value(crate::tenant::FeatureLimits::default()).unwrap_or_default();
    docs.push((crate::tenant::BRANDING.to_owned(), branding.to_string()));
    docs.push((crate::tenant::FEATURES.to_owned(), features.to_string()));
    docs
}

/// The default document of one section (`null` for per-user preferences, which have no
/// account-level document).
pub fn default_document(section: Section) -> serde_json::Value {
    let value = match section {
        Section::Notifications => serde_json::to_value(NotificationSettings::default()),
        Section::Billing => serde_json::to_value(BillingSettings::default()),
        Section::Security => serde_json::to_value(SecurityPolicy::default()),
        Section::Integrations => serde_json::to_value(IntegrationSettings::default()),
        Section::Organization => serde_json::to_value(OrganizationSettings::default()),
        Section::Preferences => Ok(serde_json::Value::Null),
    };
    // Serializing plain structs of strings, numbers and options cannot fail.
    value.unwrap_or(serde_json::Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_account_section_has_a_default_object() {
        let docs = initial_documents();
        assert_eq!(docs.len(), 7);
        for (section, json) in docs {
            let value: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
            assert!(value.is_object(), "{section}");
        }
    }
}
