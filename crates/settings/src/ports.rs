//! What the settings services need from the outside. Implemented by `tenantry-store`.

use chrono::{DateTime, Utc};
use serde_json::Value;
use std::sync::Arc;

use tenantry_kernel::{
    AccountId, AuditId, Clock, IpEntryId, Page, PageRequest, PortError, RandomSource, UserId,
};
use tenantry_security::Cidr;

use crate::SettingsError;

/// One stored account settings section: its JSON document and version.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSection {
    /// The section's name ([`Section::as_str`](crate::Section::as_str)).
    pub section: String,
    /// The stored document, as last written (older documents may lack newer fields).
    pub document: Value,
    /// The section's version: 1 for the first write, one more for each write after it.
    pub version: i64,
}

/// Everything the account settings API's settings view is assembled from, read in one consistent snapshot.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StoredSettings {
    /// The account's stored sections; a section never written is absent and takes its defaults.
    pub sections: Vec<StoredSection>,
    /// The user's preference rows `(key, value)`.
    pub preferences: Vec<(String, Value)>,
    /// Highest version among the user's preference rows (0 when none).
    pub preferences_version: i64,
    /// The account's IP allowlist entries (CIDR text), in creation order.
    pub allowlist: Vec<String>,
    /// The user's unused MFA backup codes.
    pub unused_backup_codes: u32,
    /// The account's plan tier (`free`, `pro`, `enterprise`), which bounds its limits.
    pub tier: String,
    /// The account's name (slug), which the settings catalog API puts in its paths.
    pub account_name: String,
}

/// One telemetry webhook test of the settings catalog API and its receiver's answer, kept so that
/// a later verification can name it by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelemetryTest {
    /// The test's id (the telemetry event id).
    pub id: String,
    /// The webhook URL the test was sent to.
    pub url: String,
    /// The receiver's HTTP status; `None` when no answer came.
    pub response_code: Option<u16>,
    /// Why the delivery failed, when it did.
    pub error: Option<String>,
    /// When the test was sent.
    pub tested_at: DateTime<Utc>,
}

/// Who changes what, when: written into history and the audit log with the change.
#[derive(Clone)]
pub struct WriteContext {
    /// The account whose settings change.
    pub account: AccountId,
    /// The member making the change; `None` for operator actions (break-glass), which cannot
    /// touch per-user preferences.
    pub user: Option<UserId>,
    /// Who the audit log and history name: the user's id, or `operator:…`.
    pub actor: String,
    /// The address the change came from, for the audit log.
    pub ip: Option<String>,
    /// When the change is made (the service's clock).
    pub at: DateTime<Utc>,
    /// The service's injected clock and randomness, for ids the store mints inside the
    /// transaction (a new allowlist entry's): ids stay deterministic under a test clock.
    pub ids: IdSource,
}

impl std::fmt::Debug for WriteContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteContext")
            .field("account", &self.account)
            .field("user", &self.user)
            .field("actor", &self.actor)
            .field("ip", &self.ip)
            .field("at", &self.at)
            .finish_non_exhaustive()
    }
}

/// The clock and random source a store mints ids from: the writing service's own ports, never
/// the system's, so what a test injects is what the store uses.
#[derive(Clone)]
pub struct IdSource {
    clock: Arc<dyn Clock>,
    random: Arc<dyn RandomSource>,
}

impl IdSource {
    /// Ids from `clock` and `random`.
    pub fn new(clock: Arc<dyn Clock>, random: Arc<dyn RandomSource>) -> Self {
        Self { clock, random }
    }

    /// A new allowlist entry's id.
    pub fn ip_entry_id(&self) -> IpEntryId {
        IpEntryId::generate(self.clock.as_ref(), self.random.as_ref())
    }
}

/// The audit entry of a change.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    /// The entry's id, minted by the service before the write.
    pub id: AuditId,
    /// What happened, as a dotted name (`settings.updated`).
    pub action: String,
    /// What it happened to (a section name, a user id).
    pub target: String,
    /// The change, with secrets left out (see [`diff`](crate::diff)).
    pub diff: Value,
}

/// What a section currently holds, handed to the change function under the write lock.
#[derive(Debug, Clone)]
pub struct CurrentSection {
    /// The stored document; `None` when the section was never written.
    pub document: Option<Value>,
    /// The current version; 0 when never written.
    pub version: i64,
    /// The account's allowlist (CIDR text), for the security section.
    pub allowlist: Vec<String>,
}

/// What the change function decided to store.
#[derive(Debug, Clone)]
pub struct SectionWrite {
    /// The section's new document.
    pub document: Value,
    /// The snapshot kept in history (the document plus state living in other tables, such as
    /// the allowlist, so a rollback restores everything the section showed).
    pub history_document: Value,
    /// For the security section: the new allowlist (entries with an unchanged CIDR keep their id
    /// and label). `None` leaves the allowlist alone.
    pub allowlist: Option<Vec<Cidr>>,
    /// The change's audit entry.
    pub audit: AuditRecord,
}

/// One version in a section's history.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    /// The version this entry is.
    pub version: i64,
    /// What the section showed at that version ([`SectionWrite::history_document`]).
    pub document: Value,
    /// When the version was written.
    pub updated_at: DateTime<Utc>,
    /// Who wrote it ([`WriteContext::actor`]); `None` when not recorded.
    pub updated_by: Option<String>,
}

/// The caller's preference rows and their version, read under the write lock.
#[derive(Debug, Clone, Default)]
pub struct CurrentPreferences {
    /// The stored rows `(key, value)`.
    pub rows: Vec<(String, Value)>,
    /// The highest version among the rows (0 when none).
    pub version: i64,
}

/// The user's own record, read with the preferences.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserRecord {
    /// The user's sign-in address.
    pub email: String,
    /// The name shown to others; `None` when not set.
    pub display_name: Option<String>,
    /// Argon2id PHC string; `None` until a first password is set.
    pub password_hash: Option<String>,
}

/// Everything a settings change may touch, read under the write lock.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// `(section, current state)` for each section asked for, in the order asked.
    pub sections: Vec<(String, CurrentSection)>,
    /// The user's preferences, when asked for.
    pub preferences: Option<CurrentPreferences>,
    /// The user's record, read together with the preferences.
    pub user: Option<UserRecord>,
    /// The account's plan tier, read in the same transaction: limits that depend on it are
    /// checked against the tier the write commits under.
    pub tier: String,
}

/// A change of the user's own record.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserWrite {
    /// A new sign-in address; `None` keeps it.
    pub email: Option<String>,
    /// `Some(None)` clears the display name; `None` keeps it.
    pub display_name: Option<Option<String>>,
    /// A new Argon2id PHC string; `None` keeps the password.
    pub password_hash: Option<String>,
}

/// New preference rows (replacing the stored ones) and the audit entry of the change.
#[derive(Debug, Clone)]
pub struct PreferencesWrite {
    /// Rows to insert or replace.
    pub rows: Vec<(String, Value)>,
    /// Keys to delete.
    pub remove: Vec<String>,
    /// The change's audit entry.
    pub audit: AuditRecord,
}

/// What a change decided to store; sections and preferences not listed stay as they are.
#[derive(Debug, Clone, Default)]
pub struct Writes {
    /// `(section, what to store)`; each section must be among those the update locked.
    pub sections: Vec<(String, SectionWrite)>,
    /// The user's preference change; needs the update to lock the preferences.
    pub preferences: Option<PreferencesWrite>,
    /// Audit entries of actions that change nothing stored (an export with secrets).
    pub audit: Vec<AuditRecord>,
    /// Labels to give allowlist entries (`(cidr, label)`), applied after the allowlist write.
    pub allowlist_labels: Vec<(String, String)>,
    /// Changes of the user's own record (profile, password); needs `preferences` locking.
    pub user: Option<UserWrite>,
}

impl Writes {
    /// One section's new document (kept as is in its history) with its audit entry.
    pub fn one_section(section: &str, document: Value, audit: AuditRecord) -> Self {
        Writes {
            sections: vec![(
                section.to_owned(),
                SectionWrite {
                    history_document: document.clone(),
                    document,
                    allowlist: None,
                    audit,
                },
            )],
            ..Writes::default()
        }
    }
}

/// One IP allowlist entry as the user and organization API lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct AllowlistEntry {
    /// The entry's id; kept while its block stays on the list.
    pub id: String,
    /// The block, in CIDR notation (a single address is a /32 or /128).
    pub cidr: String,
    /// A free-text note for people (empty when none).
    pub label: String,
    /// When the entry was added.
    pub created_at: DateTime<Utc>,
    /// Who added it ([`WriteContext::actor`]); `None` when not recorded.
    pub created_by: Option<String>,
}

/// The versions a change produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// `(section, new version)` for each section written.
    pub sections: Vec<(String, i64)>,
    /// The preferences' new version, when they were written.
    pub preferences: Option<i64>,
}

/// A change function: the current state in, what to store (or why not) out.
pub type SettingsChange<'a> = &'a mut dyn FnMut(Snapshot) -> Result<Writes, SettingsError>;

/// Where settings, preferences, their history and the allowlist are kept. Every write goes through
/// [`SettingsStore::update`], one transaction per change, so that a section, its history row and
/// its audit entry are stored together or not at all.
pub trait SettingsStore: Send + Sync {
    /// Reads `account`'s sections and `user`'s preferences in one read transaction. MUST return
    /// `PortError` only for infrastructure failures; a missing section is simply absent.
    fn load(&self, account: AccountId, user: UserId) -> Result<StoredSettings, PortError>;

    /// In one write transaction, with the sections (and the user's preferences, when
    /// `preferences`) locked against concurrent writers: hands their current state to `change`
    /// and stores its result, each section as its next version with a history row, plus the
    /// audit entries. Errors from `change` abort everything and are returned as they are: a
    /// change of several sections is all or nothing.
    fn update(
        &self,
        ctx: &WriteContext,
        sections: &[&str],
        preferences: bool,
        change: SettingsChange<'_>,
    ) -> Result<Applied, SettingsError>;

    /// Hands every settings document of every account (current and history) to `rewrite`,
    /// storing those it reports as changed, all in one transaction. Returns how many changed.
    fn rewrite_all_documents(
        &self,
        rewrite: &mut dyn FnMut(&mut Value) -> Result<bool, SettingsError>,
    ) -> Result<u64, SettingsError>;

    /// A number that changes whenever this process writes anything that `load` returns for
    /// `account` (and for `user`, when given): read caches compare it. A write in another
    /// account, or of another user's preferences, leaves it as it was; a write that spans
    /// accounts changes it (`tenantry_kernel::WriteEpochs::account_user`).
    fn settings_epoch(&self, account: AccountId, user: Option<UserId>) -> tenantry_kernel::Epoch;

    /// The security section's document (if stored) and the allowlist entries: what the
    /// request path needs to enforce the allowlist.
    fn allowlist_source(
        &self,
        account: AccountId,
    ) -> Result<(Option<Value>, Vec<String>), PortError>;

    /// Records what the receiver of a telemetry webhook test (settings catalog API) answered.
    fn record_telemetry_test(
        &self,
        account: AccountId,
        test: &TelemetryTest,
    ) -> Result<(), PortError>;
    /// A recorded telemetry webhook test of the account.
    fn telemetry_test(
        &self,
        account: AccountId,
        id: &str,
    ) -> Result<Option<TelemetryTest>, PortError>;

    /// One section's stored document, if any (for a single policy value off the request path).
    fn section_document(
        &self,
        account: AccountId,
        section: &str,
    ) -> Result<Option<Value>, PortError>;

    /// The user's preference rows `(key, value, updated_at)`, by key.
    fn user_preference_rows(
        &self,
        user: UserId,
    ) -> Result<Vec<(String, Value, DateTime<Utc>)>, PortError>;

    /// The account's allowlist entries in creation order.
    fn allowlist_entries(&self, account: AccountId) -> Result<Vec<AllowlistEntry>, PortError>;

    /// Every account with its security document (for the audit retention and the inactivity
    /// threshold the maintenance job applies).
    fn retention_sources(&self) -> Result<Vec<(AccountId, Option<Value>)>, PortError>;

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
