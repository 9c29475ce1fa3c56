//! Named operator keys: separate `/admin` credentials for separate people and jobs, each of
//! which can be listed, rotated and revoked on its own (`tenantry operators ...`), beside the
//! bootstrap key (`TENANTRY_OPERATOR_KEY`).
//!
//! A token is `tnt_opk_<id ULID>_<43 alphanumerics>` (about 256 bits). The id part is public:
//! it names the key in listings and audit entries and finds its record; only the SHA-256 of
//! the whole token is stored, compared in constant time. A database copy therefore yields no
//! key, and a token with a known id but a guessed secret costs the same as an unknown id.

use std::fmt;

use chrono::{DateTime, Utc};
use tenantry_kernel::{AuditId, Clock, OperatorCredential, OperatorKeyId, PortError, RandomSource};

use crate::secret::{random_alphanumeric, SecretHash};
use crate::SecurityError;

/// What every named operator key's token starts with (the bootstrap key's is `tnt_op_`).
pub const OPERATOR_KEY_TOKEN_PREFIX: &str = "tnt_opk_";
const SECRET_LEN: usize = 43;

/// A freshly issued named key: its token exists only here, to be shown once.
pub struct IssuedOperatorKey {
    /// The key's id (public: it names the key in listings and audit entries).
    pub id: OperatorKeyId,
    token: String,
    /// The hash of the token, the only thing stored.
    pub hash: SecretHash,
}

impl IssuedOperatorKey {
    /// A new token for key `id` with a fresh random secret.
    pub fn generate(id: OperatorKeyId, random: &dyn RandomSource) -> Self {
        let token = format!(
            "{OPERATOR_KEY_TOKEN_PREFIX}{}_{}",
            id.ulid_lowercase(),
            random_alphanumeric(random, SECRET_LEN)
        );
        let hash = SecretHash::of(&token);
        Self { id, token, hash }
    }

    /// The token: shown once, never logged or stored.
    pub fn token(&self) -> &str {
        &self.token
    }
}

impl fmt::Debug for IssuedOperatorKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IssuedOperatorKey({}, [redacted])", self.id)
    }
}

/// The id a named key's token claims; `None` for anything else (the bootstrap key included).
/// Says nothing of whether the secret is right.
///
/// ```
/// # use tenantry_security::operator_key_id_of;
/// let id = operator_key_id_of("tnt_opk_01hzy3k9x4m2n8p6q7r5s0t1v2_abc").expect("well-formed");
/// assert_eq!(id.to_string(), "opk_01hzy3k9x4m2n8p6q7r5s0t1v2");
/// assert!(operator_key_id_of("tnt_op_abc").is_none());
/// ```
pub fn operator_key_id_of(token: &str) -> Option<OperatorKeyId> {
    let rest = token.strip_prefix(OPERATOR_KEY_TOKEN_PREFIX)?;
    let (ulid, secret) = rest.split_once('_')?;
    if secret.is_empty() {
        return None;
    }
    OperatorKeyId::parse_ulid(ulid).ok()
}

/// A key's name: what it is for (`ci-deploy`, `alice laptop`). 1 to 64 characters, no control
/// characters (it is printed in a terminal table), surrounding spaces dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorKeyName(String);

impl OperatorKeyName {
    /// The longest name accepted, in characters.
    pub const MAX_CHARS: usize = 64;

    /// Accepts a non-empty name of at most `MAX_CHARS` characters without control characters;
    /// `SecurityError::InvalidKeyRequest` otherwise.
    pub fn parse(name: &str) -> Result<Self, SecurityError> {
        let name = name.trim();
        let invalid = |why: &str| SecurityError::InvalidKeyRequest(format!("the name {why}"));
        if name.is_empty() {
            return Err(invalid("is empty"));
        }
        if name.chars().count() > Self::MAX_CHARS {
            return Err(invalid(&format!(
                "has more than {} characters",
                Self::MAX_CHARS
            )));
        }
        if name.chars().any(char::is_control) {
            return Err(invalid("contains a control character"));
        }
        Ok(Self(name.to_owned()))
    }

    /// The name, trimmed.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A named key as stored: never its secret, only the hash of its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorKeyRecord {
    /// The key's id.
    pub id: OperatorKeyId,
    /// Its name.
    pub name: String,
    /// The hash of its token.
    pub secret_hash: SecretHash,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last authenticated a request.
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked; a revoked key never works again.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// One audit entry about a named key, written in the same transaction as the change. It
/// belongs to no account: it is the instance's own record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorKeyAudit {
    /// The entry's id.
    pub id: AuditId,
    /// `operator:cli`, `operator:env`, `operator:opk_…`.
    pub actor: String,
    /// `operator_key.created`, `.rotated`, `.revoked`.
    pub action: &'static str,
    /// Which key, and what changed.
    pub details: serde_json::Value,
    /// When.
    pub at: DateTime<Utc>,
}

/// Where named keys live. Every method returns `PortError` when the store fails.
pub trait OperatorKeyStore: Send + Sync {
    /// Stores a new key with its audit entry.
    fn insert_operator_key(
        &self,
        key: &OperatorKeyRecord,
        audit: &OperatorKeyAudit,
    ) -> Result<(), PortError>;

    /// Every key, revoked ones included, oldest first.
    fn operator_keys(&self) -> Result<Vec<OperatorKeyRecord>, PortError>;

    /// Replaces the hash of a key that is not revoked, with its audit entry; `Ok(false)` when
    /// no such unrevoked key exists (nothing is written then).
    fn replace_operator_key_hash(
        &self,
        id: OperatorKeyId,
        hash: SecretHash,
        audit: &OperatorKeyAudit,
    ) -> Result<bool, PortError>;

    /// Marks a key revoked at `audit.at`, with its audit entry; `Ok(false)` when no such
    /// unrevoked key exists (nothing is written then).
    fn revoke_operator_key(
        &self,
        id: OperatorKeyId,
        audit: &OperatorKeyAudit,
    ) -> Result<bool, PortError>;
}

/// The operator's management of named keys (the command line's `tenantry operators`).
pub struct OperatorKeyService<'a> {
    /// Where the keys live.
    pub store: &'a dyn OperatorKeyStore,
    /// The source of time.
    pub clock: &'a dyn Clock,
    /// The source of randomness (tokens, ids).
    pub random: &'a dyn RandomSource,
}

impl OperatorKeyService<'_> {
    fn audit(
        &self,
        by: OperatorCredential,
        action: &'static str,
        details: serde_json::Value,
    ) -> OperatorKeyAudit {
        OperatorKeyAudit {
            id: AuditId::generate(self.clock, self.random),
            actor: by.actor(),
            action,
            details,
            at: self.clock.now(),
        }
    }

    /// A new key; its token is in the result and nowhere else.
    pub fn create(
        &self,
        by: OperatorCredential,
        name: &OperatorKeyName,
    ) -> Result<(OperatorKeyRecord, IssuedOperatorKey), SecurityError> {
        let issued = IssuedOperatorKey::generate(
            OperatorKeyId::generate(self.clock, self.random),
            self.random,
        );
        let record = OperatorKeyRecord {
            id: issued.id,
            name: name.as_str().to_owned(),
            secret_hash: issued.hash,
            created_at: self.clock.now(),
            last_used_at: None,
            revoked_at: None,
        };
        let audit = self.audit(
            by,
            "operator_key.created",
            serde_json::json!({ "key": record.id.to_string(), "name": record.name }),
        );
        self.store.insert_operator_key(&record, &audit)?;
        Ok((record, issued))
    }

    /// Every named key, revoked ones included, oldest first; never a secret.
    pub fn list(&self) -> Result<Vec<OperatorKeyRecord>, SecurityError> {
        Ok(self.store.operator_keys()?)
    }

    /// A new secret for the key: the old token stops working (on other running servers within
    /// the authenticator's cache lifetime). A revoked key is not brought back.
    pub fn rotate(
        &self,
        by: OperatorCredential,
        id: OperatorKeyId,
    ) -> Result<IssuedOperatorKey, SecurityError> {
        let issued = IssuedOperatorKey::generate(id, self.random);
        let audit = self.audit(
            by,
            "operator_key.rotated",
            serde_json::json!({ "key": id.to_string() }),
        );
        if self
            .store
            .replace_operator_key_hash(id, issued.hash, &audit)?
        {
            Ok(issued)
        } else {
            Err(SecurityError::KeyNotFound)
        }
    }

    /// Revokes a key for good; `SecurityError::KeyNotFound` when no such unrevoked key exists.
    pub fn revoke(&self, by: OperatorCredential, id: OperatorKeyId) -> Result<(), SecurityError> {
        let audit = self.audit(
            by,
            "operator_key.revoked",
            serde_json::json!({ "key": id.to_string() }),
        );
        if self.store.revoke_operator_key(id, &audit)? {
            Ok(())
        } else {
            Err(SecurityError::KeyNotFound)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    use tenantry_kernel::{FixedClock, OsRandom};

    fn id() -> OperatorKeyId {
        OperatorKeyId::generate(
            &FixedClock(DateTime::from_timestamp(1_700_000_000, 0).expect("ts")),
            &OsRandom,
        )
    }

    #[test]
    fn an_issued_token_names_its_id_and_matches_only_its_hash() {
        let key = IssuedOperatorKey::generate(id(), &OsRandom);
        assert_eq!(operator_key_id_of(key.token()), Some(key.id));
        assert!(key.hash.matches(key.token()));
        let other = IssuedOperatorKey::generate(key.id, &OsRandom);
        assert!(!key.hash.matches(other.token()), "a rotated secret differs");
        assert!(!format!("{key:?}").contains(&key.token()[20..]));
    }

    #[test]
    fn names_are_bounded_and_printable() {
        assert_eq!(
            OperatorKeyName::parse("  ci-deploy ").expect("ok").as_str(),
            "ci-deploy"
        );
        for bad in ["", "   ", "a\nb", "\u{1b}[31mred", &"x".repeat(65)] {
            assert!(OperatorKeyName::parse(bad).is_err(), "{bad:?}");
        }
    }

    /// Law: no string other than a well-formed named token claims an id, and the bootstrap
    /// key's form (`tnt_op_…`) never does.
    #[test]
    fn only_named_tokens_claim_an_id() {
        let seed: [u8; 32] = {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            let mut seed = [0u8; 32];
            seed[..16].copy_from_slice(&nanos.to_le_bytes());
            seed
        };
        let mut runner = TestRunner::new_with_rng(
            Config {
                cases: 512,
                failure_persistence: None,
                ..Config::default()
            },
            TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
        );
        let result = runner.run(&("[ -~]{0,80}", "[A-Za-z0-9]{1,43}"), |(any, secret)| {
            let bootstrap = format!("tnt_op_{any}");
            prop_assert!(operator_key_id_of(&bootstrap).is_none());
            if let Some(id) = operator_key_id_of(&any) {
                prop_assert!(any.starts_with(OPERATOR_KEY_TOKEN_PREFIX));
                prop_assert!(any.to_ascii_lowercase().contains(&id.ulid_lowercase()));
            }
            let key = id();
            let token = format!(
                "{OPERATOR_KEY_TOKEN_PREFIX}{}_{secret}",
                key.ulid_lowercase()
            );
            prop_assert_eq!(operator_key_id_of(&token), Some(key));
            Ok(())
        });
        if let Err(e) = result {
            panic!("{e}; seed {seed:?}");
        }
    }
}
