//! What the security services need from the outside. Implemented by `tenantry-store`.

use chrono::{DateTime, Utc};

use tenantry_kernel::{
    AccountId, AccountName, ApiKeyId, AuditId, Email, Page, PageRequest, PortError, Role, UserId,
};

use crate::{IssuedApiKey, SecretHash};

/// A member's state in an account; only `Active` members can authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberStatus {
    Active,
    Suspended,
    Pending,
    Removed,
}

impl MemberStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MemberStatus::Active => "active",
            MemberStatus::Suspended => "suspended",
            MemberStatus::Pending => "pending",
            MemberStatus::Removed => "removed",
        }
    }

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
    pub id: ApiKeyId,
    pub account_id: AccountId,
    pub user_id: UserId,
    pub secret_hash: SecretHash,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked: bool,
    /// The owner's current role and status in the key's account (from the membership, so a role
    /// change or suspension applies to existing keys at once).
    pub role: Role,
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
    pub id: AccountId,
    pub name: &'a AccountName,
    pub display_name: &'a str,
    pub owner_id: UserId,
    pub owner_email: &'a Email,
    pub owner_key: &'a IssuedApiKey,
    /// `(section, JSON document)` pairs stored as version 1 of each account settings section.
    pub initial_documents: &'a [(String, String)],
    pub created_at: DateTime<Utc>,
    /// Id of the `account.created` audit entry written in the same transaction.
    pub audit_id: AuditId,
    /// Who created it (the entry's actor and address).
    pub by: tenantry_kernel::OperatorCaller,
}

/// An account as the operator API lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSummary {
    pub id: AccountId,
    pub name: AccountName,
    pub display_name: String,
    pub tier: String,
    pub created_at: DateTime<Utc>,
}

pub trait AccountStore: Send + Sync {
    /// Creates everything in `account` in one transaction. The owner user is reused when a user
    /// with that email already exists (`owner_id` is then unused). MUST return `PortError::Conflict("account_name")` when the
    /// name is taken. Returns the owner's user id (the existing user's when the email was known).
    fn create_account(&self, account: NewAccount<'_>) -> Result<UserId, PortError>;

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
