//! What the settings services need from the outside. Implemented by `tenantry-store`.

use chrono::{DateTime, Utc};
use serde_json::Value;
use tenantry_kernel::{AccountId, AuditId, Page, PageRequest, PortError, UserId};
use tenantry_security::Cidr;

use crate::SettingsError;

/// One stored account settings section: its JSON document and version.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSection {
    pub section: String,
    pub document: Value,
    pub version: i64,
}

/// Everything seed 01's settings view is assembled from, read in one consistent snapshot.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StoredSettings {
    pub sections: Vec<StoredSection>,
    /// The user's preference rows `(key, value)`.
    pub preferences: Vec<(String, Value)>,
    /// Highest version among the user's preference rows (0 when none).
    pub preferences_version: i64,
    /// The account's IP allowlist entries (CIDR text), in creation order.
    pub allowlist: Vec<String>,
    /// The user's unused MFA backup codes.
    pub unused_backup_codes: u32,
}

/// Who changes what, when: written into history and the audit log with the change.
#[derive(Debug, Clone)]
pub struct WriteContext {
    pub account: AccountId,
    pub user: UserId,
    pub ip: Option<String>,
    pub at: DateTime<Utc>,
    pub audit_id: AuditId,
}

/// The audit entry of a change.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    pub action: String,
    pub target: String,
    pub diff: Value,
}

/// What a section currently holds, handed to the change function under the write lock.
#[derive(Debug, Clone)]
pub struct CurrentSection {
    pub document: Option<Value>,
    pub version: i64,
    /// The account's allowlist (CIDR text), for the security section.
    pub allowlist: Vec<String>,
}

/// What the change function decided to store.
#[derive(Debug, Clone)]
pub struct SectionWrite {
    pub document: Value,
    /// The snapshot kept in history (the document plus state living in other tables, such as
    /// the allowlist, so a rollback restores everything the section showed).
    pub history_document: Value,
    /// For the security section: the new allowlist (entries with an unchanged CIDR keep their id
    /// and label). `None` leaves the allowlist alone.
    pub allowlist: Option<Vec<Cidr>>,
    pub audit: AuditRecord,
}

/// One version in a section's history.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    pub version: i64,
    pub document: Value,
    pub updated_at: DateTime<Utc>,
    pub updated_by: Option<String>,
}

/// A change function: gets the current state, returns what to store or why not.
pub type SectionChange<'a> =
    &'a mut dyn FnMut(CurrentSection) -> Result<SectionWrite, SettingsError>;

/// A change function for a user's preferences: current rows and version in, new rows out.
pub type PreferencesChange<'a> =
    &'a mut dyn FnMut(
        Vec<(String, Value)>,
        i64,
    ) -> Result<(Vec<(String, Value)>, AuditRecord), SettingsError>;

pub trait SettingsStore: Send + Sync {
    /// Reads `account`'s sections and `user`'s preferences in one read transaction. MUST return
    /// `PortError` only for infrastructure failures; a missing section is simply absent.
    fn load(&self, account: AccountId, user: UserId) -> Result<StoredSettings, PortError>;

    /// In one write transaction, with the section locked against concurrent writers: hands the
    /// current state to `change` and stores its result as the next version, with a history row
    /// and an audit entry. Returns the new version. Errors from `change` abort the transaction
    /// and are returned as they are.
    fn update_section(
        &self,
        ctx: &WriteContext,
        section: &str,
        change: SectionChange<'_>,
    ) -> Result<i64, SettingsError>;

    /// The same for the user's preference rows; the returned rows replace the stored ones.
    fn update_preferences(
        &self,
        ctx: &WriteContext,
        change: PreferencesChange<'_>,
    ) -> Result<i64, SettingsError>;

    /// A section's history, newest first.
    fn history(
        &self,
        account: AccountId,
        section: &str,
        page: &PageRequest,
    ) -> Result<Page<HistoryEntry>, PortError>;

    /// One version of a section's history.
    fn history_version(
        &self,
        account: AccountId,
        section: &str,
        version: i64,
    ) -> Result<Option<HistoryEntry>, PortError>;
}
