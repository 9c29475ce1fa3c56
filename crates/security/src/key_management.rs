//! A member's own API keys (seed 03 `/api/user/api-keys`): list, create with scopes and expiry,
//! read, delete, regenerate. The secret exists only in the create/regenerate response; the
//! account's `max_api_keys` is enforced in the same transaction as the insert.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use tenantry_kernel::{
    AccountId, Actor, ApiKeyId, AuditId, Clock, PortError, RandomSource, Role, UserId,
};

use crate::scope::{Access, Area, Scope};
use crate::{ApiKeyEnv, IssuedApiKey, SecretHash, SecurityError};

/// What is shown about a key (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyInfo {
    pub id: ApiKeyId,
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Where a key change is recorded.
#[derive(Debug, Clone)]
pub struct KeyAudit {
    pub id: AuditId,
    pub action: &'static str,
    pub at: DateTime<Utc>,
    pub ip: Option<String>,
}

pub trait ApiKeyStore: Send + Sync {
    /// The user's keys in the account that are neither revoked nor expired at `now`.
    fn list_keys(
        &self,
        account: AccountId,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<Vec<ApiKeyInfo>, PortError>;
    /// Inserts the key unless the user already has `max` live keys (then `Ok(false)`), with an
    /// audit entry, in one transaction.
    fn insert_key(
        &self,
        account: AccountId,
        user: UserId,
        key: &ApiKeyInfo,
        hash: &SecretHash,
        max: u32,
        audit: &KeyAudit,
    ) -> Result<bool, PortError>;
    /// Revokes the user's key; `Ok(false)` when there is no such live key.
    fn revoke_key(
        &self,
        account: AccountId,
        user: UserId,
        id: ApiKeyId,
        audit: &KeyAudit,
    ) -> Result<bool, PortError>;
    /// Replaces the key's secret; `Ok(false)` when there is no such live key.
    fn rotate_key(
        &self,
        account: AccountId,
        user: UserId,
        id: ApiKeyId,
        hash: &SecretHash,
        prefix: &str,
        audit: &KeyAudit,
    ) -> Result<bool, PortError>;
}

/// The account policy the key service needs (implemented by the settings service).
pub trait KeyPolicy: Send + Sync {
    fn max_api_keys(&self, account: AccountId) -> Result<u32, PortError>;
    /// Whether sensitive operations need a recent sign-in (`require_reauth_for_sensitive`).
    fn reauth_for_sensitive(&self, account: AccountId) -> Result<bool, PortError>;
}

pub struct ApiKeyService {
    store: Arc<dyn ApiKeyStore>,
    policy: Arc<dyn KeyPolicy>,
    clock: Arc<dyn Clock>,
    random: Arc<dyn RandomSource>,
}

/// Whether `role` may hold a key with `scope`: a key can never exceed its owner's role.
fn role_allows(role: Role, scope: Scope) -> bool {
    match scope {
        Scope::All => true,
        Scope::Grant(Area::Keys, _) => true,
        Scope::Grant(_, Access::Read) if role >= Role::Developer => true,
        Scope::Grant(
            Area::Settings | Area::Billing | Area::Security | Area::Team,
            Access::Read,
        ) => true,
        Scope::Grant(Area::Settings, Access::Write) => role >= Role::Developer,
        Scope::Grant(_, _) => role >= Role::Admin,
    }
}

impl ApiKeyService {
    pub fn new(
        store: Arc<dyn ApiKeyStore>,
        policy: Arc<dyn KeyPolicy>,
        clock: Arc<dyn Clock>,
        random: Arc<dyn RandomSource>,
    ) -> Self {
        Self {
            store,
            policy,
            clock,
            random,
        }
    }

    fn audit(&self, actor: &Actor, action: &'static str) -> KeyAudit {
        KeyAudit {
            id: AuditId::generate(self.clock.as_ref(), self.random.as_ref()),
            action,
            at: self.clock.now(),
            ip: actor.ip.map(|ip| ip.to_string()),
        }
    }

    pub fn list(&self, actor: &Actor) -> Result<Vec<ApiKeyInfo>, SecurityError> {
        Ok(self
            .store
            .list_keys(actor.account_id, actor.user_id, self.clock.now())?)
    }

    pub fn get(&self, actor: &Actor, id: ApiKeyId) -> Result<ApiKeyInfo, SecurityError> {
        self.list(actor)?
            .into_iter()
            .find(|k| k.id == id)
            .ok_or(SecurityError::KeyNotFound)
    }

    /// Creates a key; the returned `IssuedApiKey` holds the only copy of its secret.
    pub fn create(
        &self,
        actor: &Actor,
        name: &str,
        scopes: &[String],
        expires_in_days: Option<u32>,
    ) -> Result<(ApiKeyInfo, IssuedApiKey), SecurityError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(SecurityError::InvalidKeyRequest(
                "name must be 1-100 printable characters".into(),
            ));
        }
        if expires_in_days.is_some_and(|d| !(1..=3650).contains(&d)) {
            return Err(SecurityError::InvalidKeyRequest(
                "expires_in_days must be between 1 and 3650".into(),
            ));
        }
        let mut parsed = Vec::new();
        for s in scopes {
            let scope = Scope::parse(s).map_err(SecurityError::InvalidKeyRequest)?;
            if !role_allows(actor.role, scope) {
                return Err(SecurityError::ScopeAboveRole {
                    scope: s.clone(),
                    role: actor.role,
                });
            }
            if !parsed.contains(&scope) {
                parsed.push(scope);
            }
        }
        let scopes: Vec<String> = if parsed.is_empty() {
            vec!["*".into()]
        } else {
            parsed.iter().map(ToString::to_string).collect()
        };
        let now = self.clock.now();
        let issued = IssuedApiKey::generate(
            ApiKeyEnv::Live,
            ApiKeyId::generate(self.clock.as_ref(), self.random.as_ref()),
            self.random.as_ref(),
        );
        let info = ApiKeyInfo {
            id: issued.id,
            name: name.to_owned(),
            prefix: issued.display_prefix(),
            scopes,
            created_at: now,
            last_used_at: None,
            expires_at: expires_in_days.map(|d| now + Duration::days(i64::from(d))),
        };
        if actor.needs_reauth(self.policy.reauth_for_sensitive(actor.account_id)?, now) {
            return Err(SecurityError::ReauthRequired);
        }
        let max = self.policy.max_api_keys(actor.account_id)?;
        if !self.store.insert_key(
            actor.account_id,
            actor.user_id,
            &info,
            &issued.hash,
            max,
            &self.audit(actor, "api_key.created"),
        )? {
            return Err(SecurityError::TooManyKeys { max });
        }
        Ok((info, issued))
    }

    pub fn delete(&self, actor: &Actor, id: ApiKeyId) -> Result<(), SecurityError> {
        if self.store.revoke_key(
            actor.account_id,
            actor.user_id,
            id,
            &self.audit(actor, "api_key.deleted"),
        )? {
            Ok(())
        } else {
            Err(SecurityError::KeyNotFound)
        }
    }

    /// A new secret for the same key; the old one stops working at once.
    pub fn regenerate(
        &self,
        actor: &Actor,
        id: ApiKeyId,
    ) -> Result<(ApiKeyInfo, IssuedApiKey), SecurityError> {
        let info = self.get(actor, id)?;
        let issued = IssuedApiKey::generate(ApiKeyEnv::Live, id, self.random.as_ref());
        if !self.store.rotate_key(
            actor.account_id,
            actor.user_id,
            id,
            &issued.hash,
            &issued.display_prefix(),
            &self.audit(actor, "api_key.regenerated"),
        )? {
            return Err(SecurityError::KeyNotFound);
        }
        Ok((
            ApiKeyInfo {
                prefix: issued.display_prefix(),
                ..info
            },
            issued,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_never_exceed_their_owners_role() {
        let w = |a| Scope::Grant(a, Access::Write);
        let r = |a| Scope::Grant(a, Access::Read);
        assert!(role_allows(Role::Viewer, r(Area::Settings)));
        assert!(!role_allows(Role::Viewer, w(Area::Settings)));
        assert!(!role_allows(Role::Viewer, r(Area::Audit)));
        assert!(role_allows(Role::Developer, w(Area::Settings)));
        assert!(!role_allows(Role::Developer, w(Area::Security)));
        assert!(role_allows(Role::Admin, w(Area::Billing)));
        assert!(role_allows(Role::Viewer, w(Area::Keys)));
        assert!(
            role_allows(Role::Viewer, Scope::All),
            "* means: what the role allows"
        );
    }
}
