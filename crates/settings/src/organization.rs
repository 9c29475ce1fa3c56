//! Organization-wide settings: default timezone, SSO requirement, data residency.

use serde::{Deserialize, Serialize};

use tenantry_kernel::Timezone;

/// Organization-wide settings (the user and organization API `/api/settings`): the default timezone members inherit
/// until they choose their own, whether SSO is required, and where data resides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrganizationSettings {
    pub default_timezone: Timezone,
    pub sso_required: bool,
    pub data_residency: String,
    /// Retention of run logs and diagnostic artifacts (the user and organization API `/settings/log-retention`); audit
    /// log retention is the security policy's.
    pub run_logs_days: u32,
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
