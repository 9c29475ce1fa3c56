//! A member's own API keys (the user and organization API `/api/user/api-keys`): list, create with scopes and expiry,
//! read, delete, regenerate. The secret exists only in the create/regenerate response; the
//! account's `max_api_keys` is enforced in the same transaction as the insert.
//!
//! A credential never produces one stronger than itself: creating, regenerating or deleting a
//! key needs a credential whose power (role and scopes, [`crate::scope::covers`]) includes the
//! key's. Regenerating hands out a working secret, so it needs exactly what creating the same
//! key needs, re-authentication of a stale session included.
//!
//! In an account that requires MFA, only a member who has enrolled gets a new secret. The keys
//! a member holds keep working without it (a machine cannot answer a TOTP challenge), but they
//! cannot mint more, so a key is never a way around the requirement.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use tenantry_kernel::{
    AccountId, Actor, ApiKeyId, AuditId, Clock, PortError, RandomSource, Role, UserId,
};

use crate::scope::{covers, exceeding, Access, Area, Scope};
use crate::{ApiKeyEnv, ApiKeyLimit, IssuedApiKey, MfaEnrollments, SecretHash, SecurityError};

/// What is shown about a key (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyInfo {
    /// The key's id.
    pub id: ApiKeyId,
    /// The name its owner gave it.
    pub name: String,
    /// The first characters of the token (`tnt_live_01hzx3k5`), enough to recognise it and useless
    /// to authenticate.
    pub prefix: String,
    /// What it may do; empty means whatever its owner's role allows.
    pub scopes: Vec<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last used (kept to the minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it stops working; `None` for never.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Where a key change is recorded.
#[derive(Debug, Clone)]
pub struct KeyAudit {
    /// The entry's id.
    pub id: AuditId,
    /// Who made the change ([`Actor::audit_name`]): the key's holder, or the operator
    /// (`tenantry api-keys create`: `operator:cli`), or an embedder's external caller.
    pub actor: String,
    /// What was done (`api_key.created`, ...).
    pub action: &'static str,
    /// When.
    pub at: DateTime<Utc>,
    /// The client address, if known.
    pub ip: Option<String>,
}

/// Where API keys are kept. Every method returns `PortError` when the store fails; a missing key or
/// a reached limit is an `Ok` answer, not an error.
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
    /// The most live keys one member may hold in `account` (`max_api_keys`).
    fn max_api_keys(&self, account: AccountId) -> Result<ApiKeyLimit, PortError>;
    /// Whether sensitive operations need a recent sign-in (`require_reauth_for_sensitive`).
    fn reauth_for_sensitive(&self, account: AccountId) -> Result<bool, PortError>;
    /// Whether the account requires its members to have MFA enrolled (`mfa_required`), as the
    /// policy stands now.
    fn mfa_required(&self, account: AccountId) -> Result<bool, PortError>;
}

/// A member's own API keys: list, create, read, regenerate, delete. A member only ever sees and
/// changes their own keys, a key's scopes never exceed its owner's role, and a credential never
/// creates, regenerates or deletes a key stronger than itself.
pub struct ApiKeyService {
    store: Arc<dyn ApiKeyStore>,
    policy: Arc<dyn KeyPolicy>,
    mfa: Arc<dyn MfaEnrollments>,
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

/// A stored key's scopes as scopes (a stored `*` is `Scope::All`). A name that does not parse
/// (none is ever stored) is left out, which can only make the key look more powerful: a key
/// whose every name is unknown counts as `*`.
fn stored_scopes(names: &[String]) -> Vec<Scope> {
    let mut scopes = Vec::new();
    for scope in names.iter().filter_map(|n| Scope::parse(n).ok()) {
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    scopes
}

impl ApiKeyService {
    /// The longest key name, in characters (after trimming).
    pub const NAME_MAX_CHARS: usize = 100;

    /// The service over `store`, obeying the account's `policy` and MFA requirement (`mfa`).
    pub fn new(
        store: Arc<dyn ApiKeyStore>,
        policy: Arc<dyn KeyPolicy>,
        mfa: Arc<dyn MfaEnrollments>,
        clock: Arc<dyn Clock>,
        random: Arc<dyn RandomSource>,
    ) -> Self {
        Self {
            store,
            policy,
            mfa,
            clock,
            random,
        }
    }

    fn audit(&self, actor: &Actor, action: &'static str) -> KeyAudit {
        KeyAudit {
            id: AuditId::generate(self.clock.as_ref(), self.random.as_ref()),
            actor: actor.audit_name(),
            action,
            at: self.clock.now(),
            ip: actor.audit_address(),
        }
    }

    /// The caller's own live keys (neither revoked nor expired).
    pub fn list(&self, actor: &Actor) -> Result<Vec<ApiKeyInfo>, SecurityError> {
        Ok(self
            .store
            .list_keys(actor.account_id, actor.user_id, self.clock.now())?)
    }

    /// One of the caller's own live keys; `SecurityError::KeyNotFound` for any other key.
    pub fn get(&self, actor: &Actor, id: ApiKeyId) -> Result<ApiKeyInfo, SecurityError> {
        self.list(actor)?
            .into_iter()
            .find(|k| k.id == id)
            .ok_or(SecurityError::KeyNotFound)
    }

    /// A portal session never obtains a long-lived credential; a session signed in longer ago
    /// than the re-authentication window may not either when the account's policy asks for
    /// re-authentication. The policy is only read for such a session (API keys never
    /// re-authenticate).
    fn check_reauth(&self, actor: &Actor, now: DateTime<Utc>) -> Result<(), SecurityError> {
        // A key would outlive the link and its minter: a portal session never makes one.
        if actor.is_portal_session() {
            return Err(SecurityError::ReauthRequired);
        }
        if actor.needs_reauth(true, now) && self.policy.reauth_for_sensitive(actor.account_id)? {
            return Err(SecurityError::ReauthRequired);
        }
        Ok(())
    }

    /// In an account that requires MFA, a member without it gets no new secret, whatever the
    /// credential asking (a session, or a key that may write keys).
    fn check_mfa(&self, actor: &Actor) -> Result<(), SecurityError> {
        if self.policy.mfa_required(actor.account_id)? && !self.mfa.is_enrolled(actor.user_id)? {
            return Err(SecurityError::MfaEnrollmentRequired);
        }
        Ok(())
    }

    /// Whether `actor` may hold a key with `scopes` (empty = `*`): within its role
    /// ([`role_allows`]) and within its own scopes ([`crate::scope::covers`]).
    fn check_power(actor: &Actor, scopes: &[Scope]) -> Result<(), SecurityError> {
        let all = [Scope::All];
        let named = if scopes.is_empty() { &all[..] } else { scopes };
        if let Some(scope) = named.iter().find(|s| !role_allows(actor.role, **s)) {
            return Err(SecurityError::ScopeAboveRole {
                scope: scope.to_string(),
                role: actor.role,
            });
        }
        if !covers(&actor.scopes, scopes) {
            return Err(Self::exceeds(actor, scopes));
        }
        Ok(())
    }

    /// The refusal naming what `actor`'s scopes do not cover of `scopes`.
    fn exceeds(actor: &Actor, scopes: &[Scope]) -> SecurityError {
        SecurityError::ScopeExceedsCredential {
            exceeding: exceeding(&actor.scopes, scopes),
            held: actor.scopes.clone(),
        }
    }

    /// Creates a key; the returned `IssuedApiKey` holds the only copy of its secret.
    ///
    /// No scopes (or `*`) means "whatever the role allows", so a scoped credential asking for no
    /// scopes is refused with [`SecurityError::ScopeExceedsCredential`] (naming `*`) rather than
    /// silently given its own scopes: the caller learns that the key it asked for is not the key
    /// it could get, and must name the scopes it wants.
    ///
    /// Authorization is decided before validation: the account's MFA requirement, then
    /// re-authentication, then the scopes against the role and the credential (scopes that do
    /// not parse are not judged), then the request's validity (scope names, name, expiry).
    pub fn create(
        &self,
        actor: &Actor,
        name: &str,
        scopes: &[String],
        expires_in_days: Option<u32>,
    ) -> Result<(ApiKeyInfo, IssuedApiKey), SecurityError> {
        let now = self.clock.now();
        self.check_mfa(actor)?;
        self.check_reauth(actor, now)?;
        let mut parsed = Vec::new();
        let mut invalid = None;
        for s in scopes {
            match Scope::parse(s) {
                Ok(scope) if !parsed.contains(&scope) => parsed.push(scope),
                Ok(_) => {}
                Err(message) => {
                    invalid.get_or_insert(message);
                }
            }
        }
        // A request whose every scope is malformed is not a request for `*`.
        if invalid.is_none() || !parsed.is_empty() {
            Self::check_power(actor, &parsed)?;
        }
        if let Some(message) = invalid {
            return Err(SecurityError::InvalidKeyRequest(message));
        }
        let name = name.trim();
        if name.is_empty()
            || name.chars().count() > Self::NAME_MAX_CHARS
            || name.chars().any(char::is_control)
        {
            return Err(SecurityError::InvalidKeyRequest(format!(
                "name must be 1-{} printable characters",
                Self::NAME_MAX_CHARS
            )));
        }
        if expires_in_days.is_some_and(|d| !(1..=3650).contains(&d)) {
            return Err(SecurityError::InvalidKeyRequest(
                "expires_in_days must be between 1 and 3650".into(),
            ));
        }
        let scopes: Vec<String> = if parsed.is_empty() {
            vec!["*".into()]
        } else {
            parsed.iter().map(ToString::to_string).collect()
        };
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
        let max = self.policy.max_api_keys(actor.account_id)?.get();
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

    /// Revokes a key. The key's scopes must be covered by the caller's (a `keys:write` key
    /// cannot revoke a `*` key). The role is not checked again: a key of the caller's own can
    /// never do more than the caller's current role, so a member can always clean up a key
    /// whose scopes a later demotion left above the role.
    pub fn delete(&self, actor: &Actor, id: ApiKeyId) -> Result<(), SecurityError> {
        let target = stored_scopes(&self.get(actor, id)?.scopes);
        if !covers(&actor.scopes, &target) {
            return Err(Self::exceeds(actor, &target));
        }
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
    ///
    /// A new secret is a new credential, so this needs what [`Self::create`] needs for a key
    /// with the same scopes: MFA when the account requires it, a recent sign-in for a session
    /// when the policy asks for it, a role that allows the scopes, and a credential whose scopes
    /// cover them.
    pub fn regenerate(
        &self,
        actor: &Actor,
        id: ApiKeyId,
    ) -> Result<(ApiKeyInfo, IssuedApiKey), SecurityError> {
        self.check_mfa(actor)?;
        self.check_reauth(actor, self.clock.now())?;
        let info = self.get(actor, id)?;
        Self::check_power(actor, &stored_scopes(&info.scopes))?;
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
    use std::sync::Mutex;

    use tenantry_kernel::{Credential, FixedClock, OsRandom, SessionId};

    use super::*;

    /// Keys in memory: (key, live).
    #[derive(Default)]
    struct MemStore {
        keys: Mutex<Vec<(ApiKeyInfo, bool)>>,
        audit: Mutex<Vec<&'static str>>,
    }

    impl ApiKeyStore for MemStore {
        fn list_keys(
            &self,
            _: AccountId,
            _: UserId,
            _: DateTime<Utc>,
        ) -> Result<Vec<ApiKeyInfo>, PortError> {
            Ok(self
                .keys
                .lock()
                .unwrap()
                .iter()
                .filter(|(_, live)| *live)
                .map(|(k, _)| k.clone())
                .collect())
        }
        fn insert_key(
            &self,
            _: AccountId,
            _: UserId,
            key: &ApiKeyInfo,
            _: &SecretHash,
            _: u32,
            audit: &KeyAudit,
        ) -> Result<bool, PortError> {
            self.keys.lock().unwrap().push((key.clone(), true));
            self.audit.lock().unwrap().push(audit.action);
            Ok(true)
        }
        fn revoke_key(
            &self,
            _: AccountId,
            _: UserId,
            id: ApiKeyId,
            audit: &KeyAudit,
        ) -> Result<bool, PortError> {
            let mut keys = self.keys.lock().unwrap();
            let Some(entry) = keys.iter_mut().find(|(k, live)| k.id == id && *live) else {
                return Ok(false);
            };
            entry.1 = false;
            self.audit.lock().unwrap().push(audit.action);
            Ok(true)
        }
        fn rotate_key(
            &self,
            _: AccountId,
            _: UserId,
            id: ApiKeyId,
            _: &SecretHash,
            prefix: &str,
            audit: &KeyAudit,
        ) -> Result<bool, PortError> {
            let mut keys = self.keys.lock().unwrap();
            let Some(entry) = keys.iter_mut().find(|(k, live)| k.id == id && *live) else {
                return Ok(false);
            };
            entry.0.prefix = prefix.to_owned();
            self.audit.lock().unwrap().push(audit.action);
            Ok(true)
        }
    }

    struct Policy {
        reauth: bool,
        mfa_required: bool,
    }

    impl KeyPolicy for Policy {
        fn max_api_keys(&self, _: AccountId) -> Result<ApiKeyLimit, PortError> {
            Ok(ApiKeyLimit::new(ApiKeyLimit::MAX).unwrap())
        }
        fn reauth_for_sensitive(&self, _: AccountId) -> Result<bool, PortError> {
            Ok(self.reauth)
        }
        fn mfa_required(&self, _: AccountId) -> Result<bool, PortError> {
            Ok(self.mfa_required)
        }
    }

    /// Every user has MFA enrolled, or none has.
    struct Enrolled(bool);

    impl MfaEnrollments for Enrolled {
        fn is_enrolled(&self, _: UserId) -> Result<bool, SecurityError> {
            Ok(self.0)
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    fn new_service(reauth: bool) -> (ApiKeyService, Arc<MemStore>) {
        new_service_under_mfa(reauth, false, false)
    }

    fn new_service_under_mfa(
        reauth: bool,
        mfa_required: bool,
        enrolled: bool,
    ) -> (ApiKeyService, Arc<MemStore>) {
        let store = Arc::new(MemStore::default());
        let service = ApiKeyService::new(
            store.clone(),
            Arc::new(Policy {
                reauth,
                mfa_required,
            }),
            Arc::new(Enrolled(enrolled)),
            Arc::new(FixedClock(now())),
            Arc::new(OsRandom),
        );
        (service, store)
    }

    fn key_actor(role: Role, scopes: &[&str]) -> Actor {
        let clock = FixedClock(now());
        Actor {
            account_id: AccountId::generate(&clock, &OsRandom),
            user_id: UserId::generate(&clock, &OsRandom),
            role,
            credential: Credential::ApiKey(ApiKeyId::generate(&clock, &OsRandom)),
            ip: None,
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            authenticated_at: None,
            permissions: None,
            operator_link: None,
        }
    }

    fn session_actor(role: Role, signed_in_minutes_ago: i64) -> Actor {
        let clock = FixedClock(now());
        Actor {
            credential: Credential::Session(SessionId::generate(&clock, &OsRandom)),
            authenticated_at: Some(now() - Duration::minutes(signed_in_minutes_ago)),
            permissions: None,
            ..key_actor(role, &[])
        }
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    /// A key made by an unrestricted credential of the same member.
    fn existing(service: &ApiKeyService, owner: &Actor, scopes: &[&str]) -> ApiKeyId {
        let full = Actor {
            scopes: Vec::new(),
            credential: Credential::ApiKey(ApiKeyId::generate(&FixedClock(now()), &OsRandom)),
            authenticated_at: None,
            permissions: None,
            ..owner.clone()
        };
        service
            .create(&full, "target", &strings(scopes), None)
            .unwrap()
            .0
            .id
    }

    fn exceeds(e: SecurityError) -> Vec<String> {
        match e {
            SecurityError::ScopeExceedsCredential { exceeding, .. } => exceeding,
            other => panic!("expected ScopeExceedsCredential, got {other:?}"),
        }
    }

    #[test]
    fn a_scoped_key_cannot_create_a_stronger_key() {
        let (service, store) = new_service(false);
        let caller = key_actor(Role::Owner, &["keys:write"]);
        let e = service.create(&caller, "all", &[], None).unwrap_err();
        assert_eq!(exceeds(e), ["*"], "no scopes is *");
        let e = service
            .create(&caller, "all", &strings(&["*"]), None)
            .unwrap_err();
        assert_eq!(exceeds(e), ["*"]);
        let e = service
            .create(
                &caller,
                "sec",
                &strings(&["keys:read", "security:write"]),
                None,
            )
            .unwrap_err();
        assert_eq!(exceeds(e), ["security:write"]);
        assert!(store.keys.lock().unwrap().is_empty(), "nothing was written");
        assert!(store.audit.lock().unwrap().is_empty());
        let (info, _) = service
            .create(&caller, "narrower", &strings(&["keys:read"]), None)
            .unwrap();
        assert_eq!(info.scopes, ["keys:read"]);
    }

    #[test]
    fn a_scoped_key_can_create_a_key_within_its_scopes() {
        let (service, _) = new_service(false);
        let caller = key_actor(Role::Owner, &["keys:write", "settings:read"]);
        let (info, _) = service
            .create(&caller, "reader", &strings(&["settings:read"]), None)
            .unwrap();
        assert_eq!(info.scopes, ["settings:read"]);
        let e = service
            .create(&caller, "writer", &strings(&["settings:write"]), None)
            .unwrap_err();
        assert_eq!(exceeds(e), ["settings:write"]);
    }

    #[test]
    fn a_scoped_key_cannot_regenerate_or_delete_a_stronger_key() {
        let (service, store) = new_service(false);
        let caller = key_actor(Role::Owner, &["keys:write"]);
        let full = existing(&service, &caller, &[]);
        let security = existing(&service, &caller, &["security:write"]);
        let audited = store.audit.lock().unwrap().len();
        let prefix = service.get(&caller, full).unwrap().prefix;
        assert_eq!(
            exceeds(service.regenerate(&caller, full).unwrap_err()),
            ["*"]
        );
        assert_eq!(exceeds(service.delete(&caller, full).unwrap_err()), ["*"]);
        assert_eq!(
            exceeds(service.regenerate(&caller, security).unwrap_err()),
            ["security:write"]
        );
        assert_eq!(
            exceeds(service.delete(&caller, security).unwrap_err()),
            ["security:write"]
        );
        assert_eq!(
            store.audit.lock().unwrap().len(),
            audited,
            "nothing changed"
        );
        assert_eq!(service.get(&caller, full).unwrap().prefix, prefix);
        assert_eq!(service.list(&caller).unwrap().len(), 2);

        // Within its scopes (itself included) it may.
        let weaker = existing(&service, &caller, &["keys:read"]);
        assert!(service.regenerate(&caller, weaker).is_ok());
        assert!(service.delete(&caller, weaker).is_ok());
        let same = existing(&service, &caller, &["keys:write"]);
        assert!(service.regenerate(&caller, same).is_ok());
        assert!(service.delete(&caller, same).is_ok());
    }

    #[test]
    fn an_unrestricted_credential_manages_every_key_its_role_allows() {
        let (service, _) = new_service(false);
        let owner = key_actor(Role::Owner, &[]);
        let full = existing(&service, &owner, &[]);
        assert!(service.regenerate(&owner, full).is_ok());
        assert!(service.delete(&owner, full).is_ok());
        let session = session_actor(Role::Owner, 1);
        let full = existing(&service, &session, &["security:write"]);
        assert!(service.regenerate(&session, full).is_ok());
    }

    #[test]
    fn regenerating_needs_the_role_creating_needs() {
        let (service, _) = new_service(false);
        let admin = key_actor(Role::Admin, &[]);
        let security = existing(&service, &admin, &["security:write"]);
        // Demoted since: a new secret for that key is what a viewer may not create.
        let viewer = Actor {
            role: Role::Viewer,
            ..admin
        };
        assert!(matches!(
            service.regenerate(&viewer, security),
            Err(SecurityError::ScopeAboveRole { .. })
        ));
        assert!(
            service.delete(&viewer, security).is_ok(),
            "cleaning up is allowed"
        );
    }

    #[test]
    fn a_stale_session_cannot_regenerate_when_creating_needs_reauthentication() {
        let (service, store) = new_service(true);
        let stale = session_actor(Role::Owner, 20);
        assert_eq!(
            service
                .create(&stale, "", &strings(&["bogus"]), None)
                .unwrap_err(),
            SecurityError::ReauthRequired
        );
        let key = existing(&service, &stale, &[]);
        let audited = store.audit.lock().unwrap().len();
        assert_eq!(
            service.create(&stale, "new", &[], None).unwrap_err(),
            SecurityError::ReauthRequired
        );
        assert_eq!(
            service.regenerate(&stale, key).unwrap_err(),
            SecurityError::ReauthRequired
        );
        assert_eq!(store.audit.lock().unwrap().len(), audited);
        let fresh = session_actor(Role::Owner, 1);
        assert!(service.regenerate(&fresh, key).is_ok());
        // API keys never re-authenticate; without the policy, neither do sessions.
        assert!(service
            .regenerate(
                &key_actor(Role::Owner, &["keys:write"]),
                existing(&service, &stale, &["keys:read"])
            )
            .is_ok());
        let (lenient, _) = new_service(false);
        let key = existing(&lenient, &stale, &[]);
        assert!(lenient.regenerate(&stale, key).is_ok());
    }

    #[test]
    fn a_restricted_session_gets_no_key() {
        let (service, _) = new_service(false);
        let restricted = Actor {
            scopes: strings(&["restricted:password_change"]),
            ..session_actor(Role::Owner, 1)
        };
        let e = service.create(&restricted, "k", &[], None).unwrap_err();
        assert_eq!(exceeds(e), ["*"]);
        let e = service
            .create(&restricted, "k", &strings(&["settings:read"]), None)
            .unwrap_err();
        assert_eq!(exceeds(e), ["settings:read"]);
        let key = existing(&service, &restricted, &["settings:read"]);
        assert!(service.regenerate(&restricted, key).is_err());
    }

    #[test]
    fn without_mfa_a_member_gets_no_new_secret_where_the_account_requires_it() {
        for (mfa_required, enrolled, allowed) in [
            (false, false, true),
            (false, true, true),
            (true, true, true),
            (true, false, false),
        ] {
            let (service, store) = new_service_under_mfa(false, mfa_required, enrolled);
            let callers = [
                key_actor(Role::Owner, &[]),
                key_actor(Role::Owner, &["keys:write"]),
                session_actor(Role::Owner, 1),
            ];
            for caller in &callers {
                // The key to regenerate exists already (made before the requirement).
                let (lenient, _) = new_service(false);
                let key = existing(&lenient, caller, &["keys:read"]);
                let held = lenient.get(caller, key).unwrap();
                store.keys.lock().unwrap().push((held, true));
                let audited = store.audit.lock().unwrap().len();
                let created = service.create(caller, "new", &strings(&["keys:read"]), None);
                let regenerated = service.regenerate(caller, key);
                if allowed {
                    assert!(created.is_ok() && regenerated.is_ok(), "{caller:?}");
                } else {
                    assert_eq!(
                        created.err(),
                        Some(SecurityError::MfaEnrollmentRequired),
                        "{caller:?}"
                    );
                    assert_eq!(
                        regenerated.err(),
                        Some(SecurityError::MfaEnrollmentRequired),
                        "{caller:?}"
                    );
                    assert_eq!(
                        store.audit.lock().unwrap().len(),
                        audited,
                        "nothing written"
                    );
                    // What is held can still be looked at and cleaned up.
                    assert!(service.get(caller, key).is_ok());
                    assert!(service.delete(caller, key).is_ok());
                }
            }
        }
        // The requirement is judged before re-authentication and validation.
        let (service, _) = new_service_under_mfa(true, true, false);
        assert_eq!(
            service
                .create(
                    &session_actor(Role::Owner, 20),
                    "",
                    &strings(&["bogus"]),
                    None
                )
                .unwrap_err(),
            SecurityError::MfaEnrollmentRequired
        );
    }

    #[test]
    fn authorization_is_decided_before_validation() {
        let (service, _) = new_service(true);
        let scoped = key_actor(Role::Owner, &["keys:write"]);
        let e = service
            .create(&scoped, "", &strings(&["security:write"]), Some(0))
            .unwrap_err();
        assert_eq!(exceeds(e), ["security:write"]);
        let e = service
            .create(&scoped, "", &strings(&["security:write", "bogus"]), None)
            .unwrap_err();
        assert_eq!(exceeds(e), ["security:write"]);
        // Nothing but malformed scopes: a validation error, not a request for `*`.
        assert!(matches!(
            service.create(&scoped, "k", &strings(&["bogus"]), None),
            Err(SecurityError::InvalidKeyRequest(_))
        ));
        let viewer = key_actor(Role::Viewer, &[]);
        assert!(matches!(
            service.create(&viewer, "", &strings(&["settings:write"]), None),
            Err(SecurityError::ScopeAboveRole { .. })
        ));
        let stale = session_actor(Role::Owner, 20);
        assert_eq!(
            service
                .create(&stale, "", &strings(&["bogus"]), None)
                .unwrap_err(),
            SecurityError::ReauthRequired
        );
        assert!(matches!(
            service.create(&scoped, "", &strings(&["keys:read"]), None),
            Err(SecurityError::InvalidKeyRequest(_))
        ));
    }

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
