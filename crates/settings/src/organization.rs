//! Organization-wide settings: default timezone, SSO requirement, data residency.

use serde::{Deserialize, Serialize};

use tenantry_kernel::Timezone;

/// Organization-wide settings (the user and organization API's organization settings): the
/// default timezone members inherit until they choose their own, whether SSO is required, and
/// where data resides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrganizationSettings {
    /// The timezone of members who chose none.
    pub default_timezone: Timezone,
    /// Whether members must sign in through single sign-on; it cannot be turned on while none
    /// exists.
    pub sso_required: bool,
    /// Where the organization's data resides, one of
    /// [`org_settings::DATA_RESIDENCIES`](crate::org_settings::DATA_RESIDENCIES).
    pub data_residency: String,
    /// How many days run logs are kept (default 30); audit log retention is the security
    /// policy's.
    pub run_logs_days: u32,
    /// How many days diagnostic artifacts are kept (default 7).
    pub diagnostic_artifacts_days: u32,
}

impl Default for OrganizationSettings {
    fn default() -> Self {
        Self {
            default_timezone: Timezone::UTC,
            sso_required: false,
            data_residency: "us".into(),
            run_logs_days: 30,
            diagnostic_artifacts_days: 7,
        }
    }
}
