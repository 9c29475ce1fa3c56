//! Creating accounts with their owner, first key and default settings, atomically.

use std::sync::Arc;

use tenantry_kernel::{
    AccountId, AccountName, Actor, ApiKeyId, AuditId, Clock, Email, Page, PageRequest, PortError,
    RandomSource, UserId,
};

use crate::ports::{AccountStore, AccountSummary, NewAccount};
use crate::{ApiKeyEnv, IssuedApiKey, SecurityError};

/// The result of creating an account: ids and the owner's API key, whose token exists only here.
#[derive(Debug)]
pub struct ProvisionedAccount {
    /// The new account's id.
    pub account_id: AccountId,
    /// Its unique name.
    pub name: AccountName,
    /// The owner's user id (an existing user's when the address was known).
    pub owner_id: UserId,
    /// The owner's first API key; its token is shown once and never again.
    pub owner_key: IssuedApiKey,
}

/// Creates accounts with their owner, first API key and default settings, atomically.
pub struct AccountProvisioning {
    store: Arc<dyn AccountStore>,
    clock: Arc<dyn Clock>,
    random: Arc<dyn RandomSource>,
}

impl AccountProvisioning {
    /// Provisioning over `store`.
    pub fn new(
        store: Arc<dyn AccountStore>,
        clock: Arc<dyn Clock>,
        random: Arc<dyn RandomSource>,
    ) -> Self {
        Self {
            store,
            clock,
            random,
        }
    }

    /// Creates `name` owned by `owner_email`. `initial_documents` are the default settings
    /// sections (`tenantry_settings::defaults`), passed in so this crate does not depend on the
    /// settings crate.
    pub fn create_account(
        &self,
        name: AccountName,
        display_name: Option<&str>,
        owner_email: &Email,
        initial_documents: &[(String, String)],
        by: tenantry_kernel::OperatorCaller,
    ) -> Result<ProvisionedAccount, SecurityError> {
        let clock = self.clock.as_ref();
        let random = self.random.as_ref();
        let account_id = AccountId::generate(clock, random);
        let owner_key =
            IssuedApiKey::generate(ApiKeyEnv::Live, ApiKeyId::generate(clock, random), random);
        let display_name = display_name.unwrap_or(name.as_str());
        let owner_id = self
            .store
            .create_account(NewAccount {
                id: account_id,
                name: &name,
                display_name,
                owner_id: UserId::generate(clock, random),
                owner_email,
                owner_key: &owner_key,
                initial_documents,
                created_at: clock.now(),
                audit_id: AuditId::generate(clock, random),
                by,
            })
            .map_err(|e| match e {
                PortError::Conflict(_) => SecurityError::AccountNameTaken(name.to_string()),
                other => SecurityError::Port(other),
            })?;
        Ok(ProvisionedAccount {
            account_id,
            name,
            owner_id,
            owner_key,
        })
    }

    /// Accounts in creation order, one page (for the operator).
    pub fn list_accounts(&self, page: &PageRequest) -> Result<Page<AccountSummary>, SecurityError> {
        Ok(self.store.list_accounts(page)?)
    }

    /// The operator's change of an account's tier (its entitlements) or display name.
    pub fn update_account(
        &self,
        id: AccountId,
        tier: Option<&str>,
        display_name: Option<&str>,
        by: tenantry_kernel::OperatorCaller,
    ) -> Result<Option<AccountSummary>, SecurityError> {
        let clock = self.clock.as_ref();
        let found = self.store.update_account(
            id,
            tier,
            display_name,
            AuditId::generate(clock, self.random.as_ref()),
            clock.now(),
            by,
        )?;
        if !found {
            return Ok(None);
        }
        Ok(self.store.account(id)?)
    }

    /// The account `id`; `None` when it does not exist.
    pub fn account(&self, id: AccountId) -> Result<Option<AccountSummary>, SecurityError> {
        Ok(self.store.account(id)?)
    }

    /// The account named `name`; `None` when there is none.
    pub fn find(&self, name: &AccountName) -> Result<Option<AccountId>, SecurityError> {
        Ok(self.store.account_by_name(name)?)
    }

    /// The operator acting in the named account with its owner's rights (command-line export
    /// and import). `None` when no such account exists; an error when it has no active owner.
    pub fn operator_actor(&self, name: &AccountName) -> Result<Option<Actor>, SecurityError> {
        let Some(account) = self.store.account_by_name(name)? else {
            return Ok(None);
        };
        let owner = self.store.account_owner(account)?.ok_or_else(|| {
            SecurityError::InvalidKeyRequest(format!("account `{name}` has no active owner"))
        })?;
        Ok(Some(Actor {
            account_id: account,
            user_id: owner,
            role: tenantry_kernel::Role::Owner,
            credential: tenantry_kernel::Credential::Operator(
                tenantry_kernel::OperatorCredential::Cli,
            ),
            ip: None,
            scopes: Vec::new(),
            authenticated_at: None,
            permissions: None,
            operator_link: None,
        }))
    }

    /// Whether no account exists yet (first start).
    pub fn is_empty(&self) -> Result<bool, SecurityError> {
        Ok(self.store.account_count()? == 0)
    }
}
