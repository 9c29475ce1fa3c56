//! The operator's key, which guards `/admin`.

use std::fmt;

use tenantry_kernel::RandomSource;

use crate::secret::{random_alphanumeric, SecretHash};

/// The operator's key guards the `/admin` API (creating accounts). It is not tied to any account.
/// Either configured (`TENANTRY_OPERATOR_KEY`) or generated at first start, printed once and
/// stored only as a hash.
pub struct OperatorKey {
    token: String,
}

impl OperatorKey {
    /// The start of every operator key token.
    pub const PREFIX: &'static str = "tnt_op_";

    /// A new key with a random secret.
    pub fn generate(random: &dyn RandomSource) -> Self {
        Self {
            token: format!("{}{}", Self::PREFIX, random_alphanumeric(random, 43)),
        }
    }

    /// The token: shown once, never logged or stored.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The hash that is stored.
    pub fn hash(&self) -> SecretHash {
        SecretHash::of(&self.token)
    }
}

impl fmt::Debug for OperatorKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OperatorKey([redacted])")
    }
}
