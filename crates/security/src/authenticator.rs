//! The request path's authentication: a bearer token to an `Actor`, through short-lived caches.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use tenantry_kernel::{Actor, Clock, Credential, EpochCache, OperatorCredential, OperatorKeyId};

use crate::key_activity::{KeyActivity, KeyUse};
use crate::ports::{CredentialStore, KeyRecord, MemberStatus};

/// How long a key's record is served from memory when nothing was written on this node and the
/// change feed is not followed: the bound after which a change made on another node (a
/// revocation, a suspension) applies here. While the feed is followed, a record lives until a
/// write to its account is applied, at most `tenantry_kernel::FEED_MAX_LIFETIME` (decision 0047).
pub const KEY_CACHE_SECONDS: u64 = 2;
/// Cached records at most; past it the cache starts over.
const KEY_CACHE_ENTRIES: usize = 10_000;
use crate::{ApiKeyToken, OperatorKey, OperatorKeyRecord, SecretHash, SecurityError};

/// Turns a bearer token into an [`Actor`].
///
/// Every failure is reported as the single [`SecurityError::Unauthenticated`] so that responses
/// and timings do not reveal whether a key id exists.
pub struct Authenticator {
    store: Arc<dyn CredentialStore>,
    clock: Arc<dyn Clock>,
    /// Compared against when a key id is unknown, so that path costs the same hash + compare.
    decoy: SecretHash,
    /// Known keys' records (never unknown ids, which an attacker could vary without bound).
    cache: EpochCache<tenantry_kernel::ApiKeyId, KeyRecord>,
    /// Known named operator keys' records, for the same [`KEY_CACHE_SECONDS`]: a key revoked
    /// or rotated from the command line (another process) stops working here within that.
    operator_cache: EpochCache<OperatorKeyId, OperatorKeyRecord>,
    /// Where key uses go when they are written in batches (else: written at once).
    activity: std::sync::OnceLock<Arc<KeyActivity>>,
}

/// Where a key's record may come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lookup {
    MemoryOnly,
    Store,
}

impl Authenticator {
    /// An authenticator over `store`; keys and sessions are checked against `clock`'s time.
    pub fn new(store: Arc<dyn CredentialStore>, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            clock,
            decoy: SecretHash::of("tenantry-decoy-secret"),
            cache: EpochCache::new(Duration::from_secs(KEY_CACHE_SECONDS), KEY_CACHE_ENTRIES),
            operator_cache: EpochCache::new(
                Duration::from_secs(KEY_CACHE_SECONDS),
                KEY_CACHE_ENTRIES,
            ),
            activity: std::sync::OnceLock::new(),
        }
    }

    /// Records key uses in batches off the request path instead of writing each one while the
    /// request waits (the `tenantry` binary does; embedders without a writer need not).
    /// Set once, when the writer starts; a second queue is refused (returned).
    pub fn queue_activity(&self, activity: Arc<KeyActivity>) -> Result<(), Arc<KeyActivity>> {
        self.activity.set(activity)
    }

    /// Key uses dropped by a full activity queue (0 without one).
    pub fn activity_dropped(&self) -> u64 {
        self.activity.get().map_or(0, |a| a.dropped())
    }

    /// The key's record: from memory while fresh (nothing written on this node since, and
    /// younger than `KEY_CACHE_SECONDS`), else from the store — unless `lookup` is
    /// `MemoryOnly`, where `Ok(None)` means the store would be needed.
    fn record(
        &self,
        id: tenantry_kernel::ApiKeyId,
        lookup: Lookup,
    ) -> Result<Option<Option<KeyRecord>>, SecurityError> {
        // A record answers to its own account's epoch (a revocation, suspension or role change
        // in another account leaves it cached), which the id alone does not tell.
        let epochs = self.store.write_epochs();
        if let Some(record) = self.cache.get_by(&id, |r| epochs.account(r.account_id)) {
            return Ok(Some(Some(record)));
        }
        if lookup == Lookup::MemoryOnly {
            return Ok(None);
        }
        // The account is known only once the record is read: it is cached only if no write
        // of this process was counted meanwhile (`WriteEpochs::account_since`).
        let seen = epochs.writes();
        let record = self.store.api_key(id)?;
        if let Some(r) = &record {
            if let Some(epoch) = epochs.account_since(seen, r.account_id) {
                self.cache.put(id, r.clone(), epoch);
            }
        }
        Ok(Some(record))
    }

    /// Authenticates an API key token (`tnt_<env>_<id>_<secret>`).
    pub fn authenticate_api_key(
        &self,
        token: &str,
        ip: Option<IpAddr>,
    ) -> Result<Actor, SecurityError> {
        self.authenticate(token, ip, Lookup::Store)?
            .ok_or(SecurityError::Unauthenticated)
    }

    /// [`Self::authenticate_api_key`] when it can be decided from memory alone (the key's record
    /// is cached and nothing needs writing now); `None` when it needs the store, so the caller
    /// can run it where blocking is allowed. Same answers, same checks: only where the record
    /// comes from differs.
    pub fn authenticate_api_key_in_memory(
        &self,
        token: &str,
        ip: Option<IpAddr>,
    ) -> Option<Result<Actor, SecurityError>> {
        self.authenticate(token, ip, Lookup::MemoryOnly).transpose()
    }

    fn authenticate(
        &self,
        token: &str,
        ip: Option<IpAddr>,
        lookup: Lookup,
    ) -> Result<Option<Actor>, SecurityError> {
        let parsed = ApiKeyToken::parse(token).map_err(|_| SecurityError::Unauthenticated)?;
        let Some(record) = self.record(parsed.id, lookup)? else {
            return Ok(None);
        };
        let Some(record) = record else {
            let _ = self.decoy.matches(parsed.secret);
            return Err(SecurityError::Unauthenticated);
        };
        if !record.secret_hash.matches(parsed.secret) {
            return Err(SecurityError::Unauthenticated);
        }
        let now = self.clock.now();
        let expired = record.expires_at.is_some_and(|at| at <= now);
        if record.revoked || expired || record.member_status != MemberStatus::Active {
            return Err(SecurityError::Unauthenticated);
        }
        // Activity is recorded at most once a minute per key, decided on the key's own last
        // use (the member's could be fresh from another credential): `last_used_at` is right to
        // the minute, and the other requests of the minute write nothing.
        if KeyActivity::is_due(record.last_used_at, now) {
            let used = KeyUse {
                account: record.account_id,
                user: record.user_id,
                key: record.id,
                at: now,
            };
            let unqueued = match self.activity.get() {
                Some(activity) => activity.offer(used).err(),
                None => Some(used),
            };
            if let Some(used) = unqueued {
                if lookup == Lookup::MemoryOnly {
                    return Ok(None);
                }
                if let Err(e) = self.store.record_key_uses(&[used]) {
                    // Failing to record activity must not fail the request.
                    tracing::warn!(error = %e, "could not record member activity");
                }
            }
        }
        Ok(Some(Actor {
            account_id: record.account_id,
            user_id: record.user_id,
            role: record.role,
            credential: Credential::ApiKey(record.id),
            ip,
            scopes: record.scopes.into_iter().filter(|s| s != "*").collect(),
            authenticated_at: None,
            permissions: record.permissions,
            operator_link: None,
        }))
    }

    /// Checks an operator token: a named key's (`tnt_opk_…`) against its stored hash, anything
    /// else against the bootstrap key (the configured one if any, else the stored hash of the
    /// generated one). Says which credential it was, for the audit.
    pub fn authenticate_operator(
        &self,
        token: &str,
        configured: Option<&str>,
    ) -> Result<OperatorCredential, SecurityError> {
        if let Some(id) = crate::operator_key_id_of(token) {
            return self.authenticate_named_operator(id, token);
        }
        if !token.starts_with(OperatorKey::PREFIX) && configured.is_none() {
            return Err(SecurityError::Unauthenticated);
        }
        let expected = match configured {
            Some(key) => SecretHash::of(key),
            None => self
                .store
                .operator_key_hash()?
                .ok_or(SecurityError::Unauthenticated)?,
        };
        if expected.matches(token) {
            Ok(OperatorCredential::Env)
        } else {
            Err(SecurityError::Unauthenticated)
        }
    }

    fn authenticate_named_operator(
        &self,
        id: OperatorKeyId,
        token: &str,
    ) -> Result<OperatorCredential, SecurityError> {
        // Operator keys belong to no account: their writes bump the global epoch.
        let epoch = self.store.write_epochs().global();
        let record = match self.operator_cache.get(&id, epoch) {
            Some(record) => Some(record),
            None => {
                let record = self.store.named_operator_key(id)?;
                if let Some(r) = &record {
                    self.operator_cache.put(id, r.clone(), epoch);
                }
                record
            }
        };
        let Some(mut record) = record else {
            // An unknown id costs the same hash and compare as a known one.
            let _ = self.decoy.matches(token);
            return Err(SecurityError::Unauthenticated);
        };
        // The whole token is hashed (id included), so a secret moved to another id fails.
        if !record.secret_hash.matches(token) || record.revoked_at.is_some() {
            return Err(SecurityError::Unauthenticated);
        }
        let now = self.clock.now();
        if KeyActivity::is_due(record.last_used_at, now) {
            if let Err(e) = self.store.record_operator_key_use(id, now) {
                // Failing to record the use must not fail the request.
                tracing::warn!(error = %e, "could not record an operator key's use");
            }
            record.last_used_at = Some(now);
            self.operator_cache.put(id, record, epoch);
        }
        Ok(OperatorCredential::Key(id))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use chrono::{DateTime, Duration, Utc};
    use tenantry_kernel::{AccountId, ApiKeyId, FixedClock, OsRandom, PortError, Role, UserId};

    use super::*;
    use crate::ports::KeyRecord;
    use crate::{ApiKeyEnv, IssuedApiKey};

    /// An in-memory credential store: a real implementation of the port (a HashMap is a
    /// perfectly good store for unit tests of the rules above it).
    #[derive(Default)]
    struct MemoryStore {
        keys: Mutex<HashMap<ApiKeyId, KeyRecord>>,
        operator: Mutex<Option<SecretHash>>,
        named: Mutex<HashMap<OperatorKeyId, OperatorKeyRecord>>,
        epochs: tenantry_kernel::WriteEpochs,
    }

    impl CredentialStore for MemoryStore {
        fn api_key(&self, id: ApiKeyId) -> Result<Option<KeyRecord>, PortError> {
            Ok(self.keys.lock().expect("lock").get(&id).cloned())
        }
        fn operator_key_hash(&self) -> Result<Option<SecretHash>, PortError> {
            Ok(*self.operator.lock().expect("lock"))
        }
        fn write_epochs(&self) -> &tenantry_kernel::WriteEpochs {
            // Every test writes before it authenticates; the epochs never need to move here.
            &self.epochs
        }
        fn record_key_uses(&self, uses: &[KeyUse]) -> Result<(), PortError> {
            let mut keys = self.keys.lock().expect("lock");
            for used in uses {
                if let Some(record) = keys.get_mut(&used.key) {
                    record.last_used_at = Some(used.at);
                }
            }
            Ok(())
        }
        fn named_operator_key(
            &self,
            id: OperatorKeyId,
        ) -> Result<Option<OperatorKeyRecord>, PortError> {
            Ok(self.named.lock().expect("lock").get(&id).cloned())
        }
        fn record_operator_key_use(
            &self,
            id: OperatorKeyId,
            at: DateTime<Utc>,
        ) -> Result<(), PortError> {
            if let Some(r) = self.named.lock().expect("lock").get_mut(&id) {
                r.last_used_at = Some(at);
            }
            Ok(())
        }
        fn store_operator_key_hash(&self, hash: SecretHash) -> Result<bool, PortError> {
            let mut slot = self.operator.lock().expect("lock");
            if slot.is_some() {
                return Ok(false);
            }
            *slot = Some(hash);
            Ok(true)
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).expect("ts")
    }

    fn setup(mutate: impl FnOnce(&mut KeyRecord)) -> (Authenticator, IssuedApiKey) {
        let clock = FixedClock(now());
        let key = IssuedApiKey::generate(
            ApiKeyEnv::Live,
            ApiKeyId::generate(&clock, &OsRandom),
            &OsRandom,
        );
        let mut record = KeyRecord {
            id: key.id,
            account_id: AccountId::generate(&clock, &OsRandom),
            user_id: UserId::generate(&clock, &OsRandom),
            secret_hash: key.hash,
            expires_at: None,
            revoked: false,
            role: Role::Admin,
            member_status: MemberStatus::Active,
            last_used_at: None,
            scopes: Vec::new(),
            permissions: None,
        };
        mutate(&mut record);
        let store = MemoryStore::default();
        store.keys.lock().expect("lock").insert(key.id, record);
        (Authenticator::new(Arc::new(store), Arc::new(clock)), key)
    }

    #[test]
    fn a_cached_record_answers_to_its_own_accounts_writes_only() {
        let clock = FixedClock(now());
        let key = IssuedApiKey::generate(
            ApiKeyEnv::Live,
            ApiKeyId::generate(&clock, &OsRandom),
            &OsRandom,
        );
        let account = AccountId::generate(&clock, &OsRandom);
        // On another epoch counter: counters are taken by the ULID's low bits.
        let other = AccountId::from_ulid((account.ulid().0 ^ 1).into());
        let store = Arc::new(MemoryStore::default());
        store.keys.lock().expect("lock").insert(
            key.id,
            KeyRecord {
                id: key.id,
                account_id: account,
                user_id: UserId::generate(&clock, &OsRandom),
                secret_hash: key.hash,
                expires_at: None,
                revoked: false,
                role: Role::Admin,
                member_status: MemberStatus::Active,
                last_used_at: Some(now()),
                scopes: Vec::new(),
                permissions: None,
            },
        );
        let auth = Authenticator::new(store.clone(), Arc::new(clock));
        assert!(auth.authenticate_api_key(key.token(), None).is_ok());
        // Revoked in the store; only a write to the key's own account drops the cached record.
        if let Some(r) = store.keys.lock().expect("lock").get_mut(&key.id) {
            r.revoked = true;
        }
        store.epochs.bump_account(other);
        assert!(
            auth.authenticate_api_key_in_memory(key.token(), None)
                .is_some_and(|r| r.is_ok()),
            "another account's write dropped the cached record"
        );
        store.epochs.bump_account(account);
        assert_eq!(
            auth.authenticate_api_key(key.token(), None),
            Err(SecurityError::Unauthenticated),
            "the revocation in the key's own account"
        );
    }

    #[test]
    fn valid_key_yields_actor_with_membership_role() {
        let (auth, key) = setup(|_| {});
        let actor = auth
            .authenticate_api_key(key.token(), None)
            .expect("authenticates");
        assert_eq!(actor.role, Role::Admin);
        assert_eq!(actor.credential, Credential::ApiKey(key.id));
    }

    #[test]
    fn wrong_secret_is_refused() {
        let (auth, key) = setup(|_| {});
        let mut token = key.token().to_string();
        let last = token.pop().expect("non-empty");
        token.push(if last == 'a' { 'b' } else { 'a' });
        assert_eq!(
            auth.authenticate_api_key(&token, None),
            Err(SecurityError::Unauthenticated)
        );
    }

    #[test]
    fn unknown_key_is_refused() {
        let (auth, _) = setup(|_| {});
        let other = IssuedApiKey::generate(
            ApiKeyEnv::Live,
            ApiKeyId::generate(&FixedClock(now()), &OsRandom),
            &OsRandom,
        );
        assert_eq!(
            auth.authenticate_api_key(other.token(), None),
            Err(SecurityError::Unauthenticated)
        );
    }

    #[test]
    fn revoked_expired_and_suspended_keys_are_refused() {
        let cases: [fn(&mut KeyRecord); 3] = [
            |r| r.revoked = true,
            |r| r.expires_at = Some(now() - Duration::seconds(1)),
            |r| r.member_status = MemberStatus::Suspended,
        ];
        for mutate in cases {
            let (auth, key) = setup(mutate);
            assert_eq!(
                auth.authenticate_api_key(key.token(), None),
                Err(SecurityError::Unauthenticated)
            );
        }
    }

    #[test]
    fn key_expiring_in_the_future_is_accepted() {
        let (auth, key) = setup(|r| r.expires_at = Some(now() + Duration::seconds(60)));
        assert!(auth.authenticate_api_key(key.token(), None).is_ok());
    }

    #[test]
    fn operator_key_checks_configured_then_stored_hash() {
        let (auth, _) = setup(|_| {});
        let op = OperatorKey::generate(&OsRandom);
        assert!(auth.authenticate_operator(op.token(), None).is_err());
        auth.store
            .store_operator_key_hash(op.hash())
            .expect("stores");
        assert_eq!(
            auth.authenticate_operator(op.token(), None),
            Ok(OperatorCredential::Env)
        );
        assert!(auth.authenticate_operator("tnt_op_wrong", None).is_err());
        assert!(auth
            .authenticate_operator("my-configured", Some("my-configured"))
            .is_ok());
        assert!(auth
            .authenticate_operator(op.token(), Some("my-configured"))
            .is_err());
    }

    /// A named key authenticates as itself; a wrong secret, another key's id, a revoked key and
    /// an unknown id are all the one refusal.
    #[test]
    fn named_operator_keys_authenticate_as_themselves_until_revoked() {
        let clock = FixedClock(now());
        let store = Arc::new(MemoryStore::default());
        let auth = Authenticator::new(store.clone(), Arc::new(clock));
        let issue = || {
            let key = crate::IssuedOperatorKey::generate(
                OperatorKeyId::generate(&clock, &OsRandom),
                &OsRandom,
            );
            store.named.lock().expect("lock").insert(
                key.id,
                OperatorKeyRecord {
                    id: key.id,
                    name: "ci".into(),
                    secret_hash: key.hash,
                    created_at: now(),
                    last_used_at: None,
                    revoked_at: None,
                },
            );
            key
        };
        let (a, b) = (issue(), issue());
        assert_eq!(
            auth.authenticate_operator(a.token(), None),
            Ok(OperatorCredential::Key(a.id))
        );
        assert_eq!(
            store.named.lock().expect("lock")[&a.id].last_used_at,
            Some(now()),
            "the use is recorded"
        );
        // b's secret under a's id.
        let secret_b = b.token().rsplit('_').next().expect("secret");
        let swapped = format!("tnt_opk_{}_{secret_b}", a.id.ulid_lowercase());
        assert_eq!(
            auth.authenticate_operator(&swapped, None),
            Err(SecurityError::Unauthenticated)
        );
        let unknown = crate::IssuedOperatorKey::generate(
            OperatorKeyId::generate(&clock, &OsRandom),
            &OsRandom,
        );
        assert_eq!(
            auth.authenticate_operator(unknown.token(), Some("configured-bootstrap-key")),
            Err(SecurityError::Unauthenticated)
        );
        // Revoked in the store: a fresh authenticator (no cache) refuses it at once.
        store
            .named
            .lock()
            .expect("lock")
            .get_mut(&b.id)
            .expect("b")
            .revoked_at = Some(now());
        let fresh = Authenticator::new(store.clone(), Arc::new(clock));
        assert_eq!(
            fresh.authenticate_operator(b.token(), None),
            Err(SecurityError::Unauthenticated)
        );
    }
}
