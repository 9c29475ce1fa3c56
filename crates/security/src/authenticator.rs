use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use tenantry_kernel::{Actor, Clock, Credential, EpochCache};

use crate::ports::{CredentialStore, KeyRecord, MemberStatus};

/// How long a key's record is served from memory when nothing was written on this node: the
/// bound after which a change made on another node (a revocation, a suspension) applies here.
pub const KEY_CACHE_SECONDS: u64 = 2;
/// Cached records at most; past it the cache starts over.
const KEY_CACHE_ENTRIES: usize = 10_000;
use crate::{ApiKeyToken, OperatorKey, SecretHash, SecurityError};

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
}

impl Authenticator {
    pub fn new(store: Arc<dyn CredentialStore>, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            clock,
            decoy: SecretHash::of("tenantry-decoy-secret"),
            cache: EpochCache::new(Duration::from_secs(KEY_CACHE_SECONDS), KEY_CACHE_ENTRIES),
        }
    }

    /// The key's record: from memory while fresh (nothing written on this node since, and
    /// younger than `KEY_CACHE_SECONDS`), else from the store.
    fn record(&self, id: tenantry_kernel::ApiKeyId) -> Result<Option<KeyRecord>, SecurityError> {
        let epoch = self.store.write_epoch();
        if let Some(record) = self.cache.get(&id, epoch) {
            return Ok(Some(record));
        }
        let record = self.store.api_key(id)?;
        if let Some(r) = &record {
            self.cache.put(id, r.clone(), epoch);
        }
        Ok(record)
    }

    /// Authenticates an API key token (`tnt_<env>_<id>_<secret>`).
    pub fn authenticate_api_key(
        &self,
        token: &str,
        ip: Option<IpAddr>,
    ) -> Result<Actor, SecurityError> {
        let parsed = ApiKeyToken::parse(token).map_err(|_| SecurityError::Unauthenticated)?;
        let record = self.record(parsed.id)?;
        let Some(record) = record else {
            let _ = self.decoy.matches(parsed.secret);
            return Err(SecurityError::Unauthenticated);
        };
        if !record.secret_hash.matches(parsed.secret) {
            return Err(SecurityError::Unauthenticated);
        }
        let expired = record.expires_at.is_some_and(|at| at <= self.clock.now());
        if record.revoked || expired || record.member_status != MemberStatus::Active {
            return Err(SecurityError::Unauthenticated);
        }
        // Activity is recorded at most hourly per member: enough for day-granular inactivity
        // policies, and no write on the hot path for the other requests of the hour.
        let now = self.clock.now();
        if record
            .last_active_at
            .is_none_or(|t| now - t > chrono::Duration::hours(1))
        {
            if let Err(e) =
                self.store
                    .touch_member(record.account_id, record.user_id, record.id, now)
            {
                // Failing to record activity must not fail the request.
                tracing::warn!(error = %e, "could not record member activity");
            }
        }
        Ok(Actor {
            account_id: record.account_id,
            user_id: record.user_id,
            role: record.role,
            credential: Credential::ApiKey(record.id),
            ip,
            scopes: record.scopes.into_iter().filter(|s| s != "*").collect(),
            authenticated_at: None,
        })
    }

    /// Checks an operator token against the configured key (if any) or the stored hash.
    pub fn authenticate_operator(
        &self,
        token: &str,
        configured: Option<&str>,
    ) -> Result<(), SecurityError> {
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
            Ok(())
        } else {
            Err(SecurityError::Unauthenticated)
        }
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
    }

    impl CredentialStore for MemoryStore {
        fn api_key(&self, id: ApiKeyId) -> Result<Option<KeyRecord>, PortError> {
            Ok(self.keys.lock().expect("lock").get(&id).cloned())
        }
        fn operator_key_hash(&self) -> Result<Option<SecretHash>, PortError> {
            Ok(*self.operator.lock().expect("lock"))
        }
        fn write_epoch(&self) -> u64 {
            // Every test writes before it authenticates; the epoch never needs to move here.
            0
        }
        fn touch_member(
            &self,
            _: AccountId,
            _: UserId,
            _: ApiKeyId,
            at: DateTime<Utc>,
        ) -> Result<(), PortError> {
            for record in self.keys.lock().expect("lock").values_mut() {
                record.last_active_at = Some(at);
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
            last_active_at: None,
            scopes: Vec::new(),
        };
        mutate(&mut record);
        let store = MemoryStore::default();
        store.keys.lock().expect("lock").insert(key.id, record);
        (Authenticator::new(Arc::new(store), Arc::new(clock)), key)
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
        assert!(auth.authenticate_operator(op.token(), None).is_ok());
        assert!(auth.authenticate_operator("tnt_op_wrong", None).is_err());
        assert!(auth
            .authenticate_operator("my-configured", Some("my-configured"))
            .is_ok());
        assert!(auth
            .authenticate_operator(op.token(), Some("my-configured"))
            .is_err());
    }
}
