//! API keys: the token's shape, its environments, and how its secret is hashed.

use std::fmt;

use tenantry_kernel::{ApiKeyId, RandomSource};

use crate::secret::{random_alphanumeric, SecretHash};
use crate::SecurityError;

/// Length of the secret part of a key: 43 alphanumerics ≈ 256 bits.
const SECRET_LEN: usize = 43;

/// Which environment a key belongs to; part of the token so a leaked test key is recognisable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiKeyEnv {
    /// A production key (`tnt_live_...`).
    Live,
    /// A test key (`tnt_test_...`).
    Test,
}

impl ApiKeyEnv {
    /// The word in the token (`live`, `test`).
    pub fn as_str(self) -> &'static str {
        match self {
            ApiKeyEnv::Live => "live",
            ApiKeyEnv::Test => "test",
        }
    }
}

/// A bearer token split into its parts: `tnt_<env>_<key ulid>_<secret>`.
///
/// Parsing checks the structure only; whether the key exists and the secret matches is the
/// `Authenticator`'s job.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKeyToken<'a> {
    /// The key's environment.
    pub env: ApiKeyEnv,
    /// The key's id, which finds its record.
    pub id: ApiKeyId,
    /// The secret, compared in constant time against the stored hash.
    pub secret: &'a str,
}

impl<'a> ApiKeyToken<'a> {
    /// Splits a token into its parts; `SecurityError::MalformedCredential` when it does not have
    /// the shape of an API key.
    pub fn parse(token: &'a str) -> Result<Self, SecurityError> {
        let rest = token
            .strip_prefix("tnt_")
            .ok_or(SecurityError::MalformedCredential)?;
        let (env, rest) = rest
            .split_once('_')
            .ok_or(SecurityError::MalformedCredential)?;
        let env = match env {
            "live" => ApiKeyEnv::Live,
            "test" => ApiKeyEnv::Test,
            _ => return Err(SecurityError::MalformedCredential),
        };
        let (id, secret) = rest
            .split_once('_')
            .ok_or(SecurityError::MalformedCredential)?;
        if id.len() != 26 || secret.len() != SECRET_LEN {
            return Err(SecurityError::MalformedCredential);
        }
        if !secret.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(SecurityError::MalformedCredential);
        }
        let id = ApiKeyId::parse_ulid(id).map_err(|_| SecurityError::MalformedCredential)?;
        Ok(Self { env, id, secret })
    }
}

impl fmt::Debug for ApiKeyToken<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeyToken")
            .field("env", &self.env)
            .field("id", &self.id)
            .field("secret", &"[redacted]")
            .finish()
    }
}

/// A freshly generated key: the full token (shown to its owner exactly once) and the hash that
/// is stored.
pub struct IssuedApiKey {
    /// The key's id.
    pub id: ApiKeyId,
    /// The key's environment.
    pub env: ApiKeyEnv,
    /// The hash of the secret, the only thing stored.
    pub hash: SecretHash,
    token: String,
}

impl IssuedApiKey {
    /// A new key `id` in `env` with a fresh random secret.
    pub fn generate(env: ApiKeyEnv, id: ApiKeyId, random: &dyn RandomSource) -> Self {
        let secret = random_alphanumeric(random, SECRET_LEN);
        let token = format!("tnt_{}_{}_{}", env.as_str(), id.ulid_lowercase(), secret);
        Self {
            id,
            env,
            hash: SecretHash::of(&secret),
            token,
        }
    }

    /// The token to hand to the key's owner. Never log it, never store it.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The first characters of the token, safe to show in listings (`tnt_live_01hzx3k5`).
    pub fn display_prefix(&self) -> String {
        self.token.chars().take(17).collect()
    }
}

impl fmt::Debug for IssuedApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedApiKey")
            .field("id", &self.id)
            .field("env", &self.env)
            .field("token", &"[redacted]")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tenantry_kernel::{FixedClock, OsRandom};

    fn new_key(env: ApiKeyEnv) -> IssuedApiKey {
        let clock = FixedClock(chrono::DateTime::from_timestamp(1_700_000_000, 0).expect("ts"));
        IssuedApiKey::generate(env, ApiKeyId::generate(&clock, &OsRandom), &OsRandom)
    }

    #[test]
    fn issued_token_parses_back_to_its_parts() {
        let key = new_key(ApiKeyEnv::Test);
        assert!(key.token().starts_with("tnt_test_"));
        let parsed = ApiKeyToken::parse(key.token()).expect("parses");
        assert_eq!(parsed.id, key.id);
        assert_eq!(parsed.env, ApiKeyEnv::Test);
        assert!(key.hash.matches(parsed.secret));
    }

    #[test]
    fn malformed_tokens_are_refused() {
        let good = new_key(ApiKeyEnv::Live);
        let t = good.token();
        let cases = [
            String::new(),
            "Bearer".into(),
            t.replacen("tnt_", "tnx_", 1),
            t.replacen("_live_", "_prod_", 1),
            t[..t.len() - 1].to_string(),
            format!("{t}x"),
            format!("{}!", &t[..t.len() - 1]),
            t.replacen('_', "", 3),
        ];
        for bad in &cases {
            assert!(ApiKeyToken::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn debug_output_never_contains_the_secret() {
        let key = new_key(ApiKeyEnv::Live);
        let parsed = ApiKeyToken::parse(key.token()).expect("parses");
        assert!(!format!("{key:?}").contains(parsed.secret));
        assert!(!format!("{parsed:?}").contains(parsed.secret));
    }
}
