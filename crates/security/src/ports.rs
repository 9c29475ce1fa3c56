//! What the security services need from the outside. Implemented by `tenantry-store`.

use chrono::{DateTime, Utc};

use tenantry_kernel::{
    AccountId, AccountName, ApiKeyId, AuditId, Email, Page, PageRequest, PortError, Role, UserId,
};

use crate::{IssuedApiKey, RetentionDays, SecretHash};

/// A member's state in an account; only `Active` members can authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberStatus {
    /// A member who can act; the only status that authenticates.
    Active,
    /// Not yet active (the team list shows open invitations with this status); cannot authenticate.
    /// Suspended by a manager: still a member, but no credential of theirs works in the account.
    Suspended,
    /// Not yet active.
    Pending,
    /// Removed from the account; kept for the record, never listed.
    Removed,
}

impl MemberStatus {
    /// The stored word (`active`, `suspended`, `pending`, `removed`).
    pub fn as_str(self) -> &'static str {
        match self {
            MemberStatus::Active => "active",
            MemberStatus::Suspended => "suspended",
            MemberStatus::Pending => "pending",
            MemberStatus::Removed => "removed",
        }
    }

    /// The status a stored word stands for; `None` for any other word.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(MemberStatus::Active),
            "suspended" => Some(MemberStatus::Suspended),
            "pending" => Some(MemberStatus::Pending),
            "removed" => Some(MemberStatus::Removed),
            _ => None,
        }
    }
}

/// Everything needed to decide whether an API key authenticates, in one lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    /// The key's id.
    pub id: ApiKeyId,
    /// The account it belongs to.
    pub account_id: AccountId,
    /// Its owner.
    pub user_id: UserId,
    /// The hash of its secret.
    pub secret_hash: SecretHash,
    /// When it stops working; `None` for never.
    pub expires_at: Option<DateTime<Utc>>,
    /// Whether it was revoked; a revoked key never authenticates.
    pub revoked: bool,
    /// The owner's current role and status in the key's account (from the membership, so a role
    /// change or suspension applies to existing keys at once).
    pub role: Role,
    /// The owner's status in the account; only an active member's key authenticates.
    pub member_status: MemberStatus,
    /// When this key was last used, as stored (`None`: never). Whether a use is due to be
    /// recorded is decided on the key's own time, not the member's: a member active through
    /// another credential would otherwise leave a new key's `last_used_at` empty (decision 0021).
    pub last_used_at: Option<DateTime<Utc>>,
    /// The key's scopes (public names; `*` or empty = unrestricted).
    pub scopes: Vec<String>,
    /// The member's custom permissions in the key's account (`None`: the role's).
    pub permissions: Option<Vec<tenantry_kernel::Permission>>,
}

/// What the authenticator needs from the store. Every method returns `PortError` for infrastructure
/// failures only.
pub trait CredentialStore: Send + Sync {
    /// The key with this id, joined with its owner's membership; `Ok(None)` when no such key
    /// exists. MUST return `PortError` only for infrastructure failures.
    fn api_key(&self, id: ApiKeyId) -> Result<Option<KeyRecord>, PortError>;

    /// Records that each member used the API at `at` with key `key` (the member's
    /// `last_active_at` and the key's `last_used_at`), all in one transaction. A use older than
    /// what is stored MUST NOT move either time back (batches can arrive out of order). Caches
    /// need not be invalidated for it (the write epoch may stay): no cached answer depends on
    /// these times beyond the granularity the authenticator applies
    /// ([`crate::KEY_ACTIVITY_INTERVAL_SECONDS`]).
    fn record_key_uses(&self, uses: &[crate::KeyUse]) -> Result<(), PortError>;

    /// The stored operator key hash, if one was ever generated.
    fn operator_key_hash(&self) -> Result<Option<SecretHash>, PortError>;

    /// The named operator key with this id, revoked or not; `Ok(None)` when none exists.
    fn named_operator_key(
        &self,
        id: tenantry_kernel::OperatorKeyId,
    ) -> Result<Option<crate::OperatorKeyRecord>, PortError>;

    /// Records that the named key was used at `at` (never moving the time back). Like
    /// [`Self::record_key_uses`], it need not move the write epoch.
    fn record_operator_key_use(
        &self,
        id: tenantry_kernel::OperatorKeyId,
        at: DateTime<Utc>,
    ) -> Result<(), PortError>;

    /// The epochs this process's writes bump: a write that may change a key's record (a
    /// revocation, a suspension, a role change) bumps the key's account's epoch or the global
    /// one; operator keys' writes bump the global one. Caches of credentials compare them to
    /// drop what a write on this node may have invalidated (other nodes are bounded by the
    /// cache's lifetime instead). See `tenantry_kernel::WriteEpochs`.
    fn write_epochs(&self) -> &tenantry_kernel::WriteEpochs;

    /// Stores the operator key hash unless one exists; returns whether it was stored (so two
    /// instances starting together agree on one key).
    fn store_operator_key_hash(&self, hash: SecretHash) -> Result<bool, PortError>;
}

/// A new account with its owner, the owner's first API key and the initial settings documents.
pub struct NewAccount<'a> {
    /// The new account's id.
    pub id: AccountId,
    /// Its unique name.
    pub name: &'a AccountName,
    /// The name it is shown with.
    pub display_name: &'a str,
    /// The owner's user id, used when no user has `owner_email` yet.
    pub owner_id: UserId,
    /// The owner's address.
    pub owner_email: &'a Email,
    /// The owner's first API key.
    pub owner_key: &'a IssuedApiKey,
    /// `(section, JSON document)` pairs stored as version 1 of each account settings section.
    pub initial_documents: &'a [(String, String)],
    /// When it is created.
    pub created_at: DateTime<Utc>,
    /// Id of the `account.created` audit entry written in the same transaction.
    pub audit_id: AuditId,
    /// Who created it (the entry's actor and address).
    pub by: tenantry_kernel::OperatorCaller,
}

/// An account as the operator API lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSummary {
    /// The account's id.
    pub id: AccountId,
    /// Its unique name.
    pub name: AccountName,
    /// The name it is shown with.
    pub display_name: String,
    /// Its tier, which decides its entitlements.
    pub tier: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// Where accounts are created and read (by the operator). Every method returns `PortError` when the
/// store fails, and `Conflict` where it says so.
pub trait AccountStore: Send + Sync {
    /// Creates everything in `account` in one transaction. The owner user is reused when a user
    /// with that email already exists (`owner_id` is then unused). MUST return
    /// `PortError::Conflict("account_name")` when the name is taken. Returns the owner's user id
    /// (the existing user's when the email was known).
    fn create_account(&self, account: NewAccount<'_>) -> Result<UserId, PortError>;

    /// How many accounts exist.
    fn account_count(&self) -> Result<u64, PortError>;

    /// Sets the account's tier and/or display name, with an operator audit entry, in one
    /// transaction. Returns `false` when no such account exists.
    fn update_account(
        &self,
        id: AccountId,
        tier: Option<&str>,
        display_name: Option<&str>,
        audit_id: AuditId,
        at: DateTime<Utc>,
        by: tenantry_kernel::OperatorCaller,
    ) -> Result<bool, PortError>;

    /// One account's summary.
    fn account(&self, id: AccountId) -> Result<Option<AccountSummary>, PortError>;

    /// The account with this name, if any.
    fn account_by_name(&self, name: &AccountName) -> Result<Option<AccountId>, PortError>;

    /// The account's first active owner (by membership age), if it has one.
    fn account_owner(&self, id: AccountId) -> Result<Option<UserId>, PortError>;

    /// Accounts in creation order, one keyset page.
    fn list_accounts(&self, page: &PageRequest) -> Result<Page<AccountSummary>, PortError>;
}

/// How long each account keeps its audit log: its security policy's, which the settings
/// context keeps (the binary bridges it in; this crate does not depend on settings).
pub trait AuditRetentionPolicy: Send + Sync {
    /// Every account with its audit retention in days (the policy's default where the account
    /// set none). MUST list every account: one left out keeps its entries forever.
    fn audit_retention_days(&self) -> Result<Vec<(AccountId, RetentionDays)>, PortError>;
}

/// Deletes audit entries (the retention purge).
pub trait AuditPurgeStore: Send + Sync {
    /// Deletes at most `limit` of the account's audit entries created strictly before
    /// `cutoff`, oldest first; returns how many were deleted.
    fn purge_audit_before(
        &self,
        account: AccountId,
        cutoff: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, PortError>;
}

/// Each account's IP allowlist policy as its security settings keep it (the settings context's
/// document; the binary bridges it in).
pub trait AllowlistSource: Send + Sync {
    /// Whether `account` enforces its allowlist, compiled with its entries. MUST read what is
    /// stored now (the enforcement caches it) and MUST fail with `PortError` rather than
    /// answer "not enforced" when the policy cannot be read or parsed: a guess would admit
    /// everyone.
    fn allowlist_policy(&self, account: AccountId) -> Result<crate::AllowlistPolicy, PortError>;

    /// The write epoch the account's policy answers to (its settings' account epoch). The
    /// enforcement reads it before the policy and serves a cached policy only while it is
    /// unchanged, for at most [`Epoch::lifetime`](tenantry_kernel::Epoch::lifetime) of
    /// [`CROSS_PROCESS_BOUND`](tenantry_kernel::CROSS_PROCESS_BOUND): a write on this node
    /// shows at once, one elsewhere once the change feed applies it (decision 0050).
    fn policy_epoch(&self, account: AccountId) -> tenantry_kernel::Epoch;
}

/// A request refused by the account's allowlist, as audited (`security.ip_denied`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpDenial {
    /// The audit entry's id.
    pub id: AuditId,
    /// Whose allowlist refused it.
    pub account: AccountId,
    /// Who the audit log names: the caller's audit name, or `anonymous` without a credential.
    pub actor: String,
    /// The caller's address, when known.
    pub ip: Option<std::net::IpAddr>,
    /// The address as shown (`unknown` when there is none): the entry's target.
    pub address: String,
    /// The credential presented (`none` without one).
    pub credential: String,
    /// When it was refused.
    pub at: DateTime<Utc>,
}

/// Where allowlist refusals are audited.
pub trait DenialAudit: Send + Sync {
    /// Appends `denial` to its account's audit log as `security.ip_denied`, targeting the
    /// address, with `{"address", "credential"}` as its diff.
    fn record_ip_denial(&self, denial: &IpDenial) -> Result<(), PortError>;
}

/// The user's own record as the profile and the password change read it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileRecord {
    /// The address the user signs in with.
    pub email: String,
    /// The name shown for the user, if they set one.
    pub display_name: Option<String>,
    /// Argon2id PHC string; `None` until a first password is set.
    pub password_hash: Option<String>,
}

/// A change of the user's own record and preference rows, with its audit entry: stored in one
/// transaction, all or nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileChange {
    /// `Some(None)` clears the display name; `None` leaves it as it is.
    pub display_name: Option<Option<String>>,
    /// A new password hash; `None` leaves the password as it is.
    pub password_hash: Option<String>,
    /// Only store `password_hash` if the stored hash is still this one (`Some(None)`: still
    /// none): the hash the current password was proven against.
    pub expected_hash: Option<Option<String>>,
    /// Preference rows `(key, value)` to insert or replace.
    pub preference_rows: Vec<(String, serde_json::Value)>,
    /// The audit entry's id.
    pub audit_id: AuditId,
    /// The audit entry's action (`user.profile_updated`, `user.password_changed`).
    pub action: &'static str,
    /// The audit entry's diff.
    pub diff: serde_json::Value,
}

/// Where the user's own record and preference rows are kept (the rows the account settings
/// API's preferences are stored in, so a profile write is a preferences write: the same
/// locking, versions and cache invalidation).
pub trait ProfileStore: Send + Sync {
    /// The user's record; `Ok(None)` when no such user exists.
    fn profile_record(&self, user: UserId) -> Result<Option<ProfileRecord>, PortError>;

    /// The user's preference rows `(key, value)`, by key.
    fn profile_rows(&self, user: UserId) -> Result<Vec<(String, serde_json::Value)>, PortError>;

    /// Stores `change` for `actor`'s user at `at` in one transaction, with the user's
    /// preferences locked against concurrent writers, its audit entry naming `actor` (its
    /// audit name and address) and targeting the user. Returns `false`, storing nothing, when
    /// `expected_hash` is given and the stored hash differs.
    fn write_profile(
        &self,
        actor: &tenantry_kernel::Actor,
        at: DateTime<Utc>,
        change: &ProfileChange,
    ) -> Result<bool, PortError>;

    /// Writes `audit` alone, in `account`'s log with `target` as its target: an attempt that
    /// changed nothing (a wrong current password) but that the account's admins must see.
    fn audit_refusal(
        &self,
        account: tenantry_kernel::AccountId,
        target: UserId,
        audit: &crate::ChangeAudit,
    ) -> Result<(), PortError>;

    /// Signs out every session of the user except `keep`; returns how many ended.
    fn end_other_sessions(
        &self,
        user: UserId,
        keep: Option<tenantry_kernel::SessionId>,
        at: DateTime<Utc>,
    ) -> Result<u64, PortError>;
}

/// The user's time zone and language as the account settings API shows them: the values the
/// profile shows, kept by the settings context (the binary bridges it in; this crate does not
/// depend on settings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownPreferences {
    /// The user's time zone, or the organization's default where the user set none.
    pub timezone: String,
    /// The user's language (`en`, `de`, ...), the account settings API's default when unset.
    pub language: String,
}

/// The account settings' preferences the profile shows and writes.
pub trait ProfilePreferences: Send + Sync {
    /// `actor`'s time zone and language as the account settings API shows them now.
    fn shown(&self, actor: &tenantry_kernel::Actor) -> Result<ShownPreferences, PortError>;

    /// The account settings API's language for a language subtag (`de` for `de`), or `None`
    /// when it cannot express that language.
    fn language(&self, subtag: &str) -> Option<&'static str>;

    /// The preference row that stores the user's time zone (`None`: unset, the default).
    fn timezone_row(
        &self,
        timezone: Option<&tenantry_kernel::Timezone>,
    ) -> (String, serde_json::Value);

    /// The preference row that stores the user's language (one [`Self::language`] returned).
    fn language_row(&self, language: &str) -> (String, serde_json::Value);
}
