//! What the settings services need from the outside. Implemented by `tenantry-store`.

use tenantry_kernel::{AccountId, PortError, UserId};

/// One stored account settings section: its JSON document and version.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSection {
    pub section: String,
    pub document: serde_json::Value,
    pub version: i64,
}

/// Everything seed 01's settings view is assembled from, read in one consistent snapshot.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StoredSettings {
    pub sections: Vec<StoredSection>,
    /// The user's preference rows `(key, value)`.
    pub preferences: Vec<(String, serde_json::Value)>,
    /// Highest version among the user's preference rows (0 when none).
    pub preferences_version: i64,
    /// The account's IP allowlist entries (CIDR text), in creation order.
    pub allowlist: Vec<String>,
    /// The user's unused MFA backup codes.
    pub unused_backup_codes: u32,
}

pub trait SettingsStore: Send + Sync {
    /// Reads `account`'s sections and `user`'s preferences in one read transaction. MUST return
    /// `PortError` only for infrastructure failures; a missing section is simply absent.
    fn load(&self, account: AccountId, user: UserId) -> Result<StoredSettings, PortError>;
}
