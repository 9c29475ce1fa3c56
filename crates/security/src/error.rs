//! The identity and access context's one error enum.

use thiserror::Error;

use tenantry_kernel::{KernelError, PortError};

/// Everything that can go wrong in identity and access.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SecurityError {
    /// No usable credential was presented (missing, malformed, unknown, wrong secret, revoked,
    /// expired, or belonging to a member who is no longer active). One variant on purpose: the
    /// response must not tell an attacker which of these it was.
    #[error("missing or invalid credentials")]
    Unauthenticated,
    /// The token does not have the structure of any Tenantry credential.
    #[error("malformed credential")]
    MalformedCredential,
    #[error("sign in again to do this")]
    ReauthRequired,
    /// The account requires MFA and the member has not enrolled: no new credential for them
    /// (their existing API keys keep working).
    #[error("the account requires MFA: enrol before creating or regenerating API keys")]
    MfaEnrollmentRequired,
    #[error("too many failed attempts; retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: i64 },
    #[error("a second factor is required: send `code`")]
    MfaCodeRequired,
    #[error("the user belongs to several accounts: send `account` (one of {})", .0.join(", "))]
    AccountRequired(Vec<String>),
    #[error("MFA is already enabled")]
    MfaAlreadyEnabled,
    #[error("MFA is not enabled")]
    MfaNotEnabled,
    #[error("no such pending MFA enrollment")]
    UnknownEnrollment,
    #[error("the code is wrong, expired or already used")]
    InvalidCode,
    #[error("the password is wrong or missing")]
    WrongPassword,
    #[error("no such API key")]
    KeyNotFound,
    #[error("the account allows at most {max} API keys per user")]
    TooManyKeys { max: u32 },
    #[error("{0}")]
    InvalidKeyRequest(String),
    #[error("a {role} cannot hold a key with scope {scope}")]
    ScopeAboveRole {
        scope: String,
        role: tenantry_kernel::Role,
    },
    /// The credential asked to create, regenerate or delete a key more powerful than itself
    /// (`exceeding`: the requested or target scopes its own `held` scopes do not cover; `*` for
    /// a key without scopes).
    #[error("a credential with scopes [{}] cannot manage a key with scope(s) {}", .held.join(", "), .exceeding.join(", "))]
    ScopeExceedsCredential {
        exceeding: Vec<String>,
        held: Vec<String>,
    },
    /// Portal links (decision 0030). The member a link was asked for is unknown, belongs to
    /// another account or is not active: one answer for all three.
    #[error("no such member")]
    PortalTargetNotFound,
    #[error("only the operator may mint a link for a {target} (the credential is a {minter}'s)")]
    PortalTargetAboveMinter {
        target: tenantry_kernel::Role,
        minter: tenantry_kernel::Role,
    },
    #[error("the member holds permissions the credential's member lacks: {}", .lacking.join(", "))]
    PortalTargetPermissions { lacking: Vec<String> },
    #[error("the return URL's origin {origin} is not allowed for portal links")]
    PortalReturnUrlNotAllowed { origin: String },
    #[error("this link is not valid")]
    PortalLinkUnknown,
    #[error("this link was already used")]
    PortalLinkUsed,
    #[error("this link has expired")]
    PortalLinkExpired,
    #[error("an account named `{0}` already exists")]
    AccountNameTaken(String),
    /// The account enforces its IP allowlist and the caller's address (`unknown` when it has
    /// none) is outside it: the request is refused whatever its credential.
    #[error("requests from {address} are not allowed for this account")]
    IpNotAllowed {
        /// The refused address, as the response and the audit entry show it.
        address: String,
    },
    #[error(transparent)]
    Kernel(#[from] KernelError),
    #[error(transparent)]
    Port(#[from] PortError),
}
