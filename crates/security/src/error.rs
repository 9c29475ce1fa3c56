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
    /// The session was signed in longer ago than the re-authentication window and the account
    /// asks for a fresh sign-in before a sensitive change (a new long-lived credential).
    #[error("sign in again to do this")]
    ReauthRequired,
    /// The account requires MFA and the member has not enrolled: no new credential for them
    /// (their existing API keys keep working).
    #[error("the account requires MFA: enrol before creating or regenerating API keys")]
    MfaEnrollmentRequired,
    /// Too many failed attempts (sign-in throttle, second-factor budget): nothing was checked.
    #[error("too many failed attempts; retry in {retry_after_secs} s")]
    RateLimited {
        /// Seconds until the next attempt may be made.
        retry_after_secs: i64,
    },
    /// The password was right and the member has a second factor: send its code (or a backup
    /// code) too.
    #[error("a second factor is required: send `code`")]
    MfaCodeRequired,
    /// The user is a member of several accounts and the sign-in named none; carries their
    /// names to choose from (shown only after the password was proven).
    #[error("the user belongs to several accounts: send `account` (one of {})", .0.join(", "))]
    AccountRequired(Vec<String>),
    /// Enrolling a second factor when one is already enabled.
    #[error("MFA is already enabled")]
    MfaAlreadyEnabled,
    /// Disabling or using a second factor the member does not have.
    #[error("MFA is not enabled")]
    MfaNotEnabled,
    /// Confirming an enrollment that does not exist (or belongs to someone else, or expired).
    #[error("no such pending MFA enrollment")]
    UnknownEnrollment,
    /// The second-factor code is wrong, outside its time window, or was already used.
    #[error("the code is wrong, expired or already used")]
    InvalidCode,
    /// The password a change asks for as proof is wrong or missing.
    #[error("the password is wrong or missing")]
    WrongPassword,
    /// No key with that id among the caller's own (another member's key is not found either).
    #[error("no such API key")]
    KeyNotFound,
    /// The account's `max_api_keys` per user is reached.
    #[error("the account allows at most {max} API keys per user")]
    TooManyKeys {
        /// The account's limit.
        max: u32,
    },
    /// A key or credential request is malformed (name, scopes, expiry); the text says how.
    #[error("{0}")]
    InvalidKeyRequest(String),
    /// A scope the key's owner's role could never use (a viewer asking for `team:write`).
    #[error("a {role} cannot hold a key with scope {scope}")]
    ScopeAboveRole {
        /// The scope asked for.
        scope: String,
        /// The role of the key's owner.
        role: tenantry_kernel::Role,
    },
    /// The credential asked to create, regenerate or delete a key more powerful than itself
    /// (`exceeding`: the requested or target scopes its own `held` scopes do not cover; `*` for
    /// a key without scopes).
    #[error("a credential with scopes [{}] cannot manage a key with scope(s) {}", .held.join(", "), .exceeding.join(", "))]
    ScopeExceedsCredential {
        /// The scopes asked for or held by the target key that the credential does not cover.
        exceeding: Vec<String>,
        /// The credential's own scopes.
        held: Vec<String>,
    },
    /// Portal links (decision 0030). The member a link was asked for is unknown, belongs to
    /// another account or is not active: one answer for all three.
    #[error("no such member")]
    PortalTargetNotFound,
    /// A link for a member who outranks the minting credential's member: only the operator
    /// may lend that much.
    #[error("only the operator may mint a link for a {target} (the credential is a {minter}'s)")]
    PortalTargetAboveMinter {
        /// The role of the member the link would sign in.
        target: tenantry_kernel::Role,
        /// The role behind the minting credential.
        minter: tenantry_kernel::Role,
    },
    /// A link for a member who holds permissions the minting credential's member lacks.
    #[error("the member holds permissions the credential's member lacks: {}", .lacking.join(", "))]
    PortalTargetPermissions {
        /// Those permissions.
        lacking: Vec<String>,
    },
    /// The link's return URL is not on an origin the account allows.
    #[error("the return URL's origin {origin} is not allowed for portal links")]
    PortalReturnUrlNotAllowed {
        /// The origin asked for.
        origin: String,
    },
    /// Redeeming a link that does not exist (or a token that is not one).
    #[error("this link is not valid")]
    PortalLinkUnknown,
    /// Redeeming a link a second time: a link is single-use.
    #[error("this link was already used")]
    PortalLinkUsed,
    /// Redeeming a link after its short lifetime.
    #[error("this link has expired")]
    PortalLinkExpired,
    /// Creating an account under a name another account has.
    #[error("an account named `{0}` already exists")]
    AccountNameTaken(String),
    /// The account enforces its IP allowlist and the caller's address (`unknown` when it has
    /// none) is outside it: the request is refused whatever its credential.
    #[error("requests from {address} are not allowed for this account")]
    IpNotAllowed {
        /// The refused address, as the response and the audit entry show it.
        address: String,
    },
    /// A request's fields are invalid: each one with what is wrong, in the order found (a
    /// profile write; rendered like the settings' validation error).
    #[error("invalid fields: {}", .0.iter().map(|f| f.field.as_str()).collect::<Vec<_>>().join(", "))]
    InvalidFields(Vec<InvalidField>),
    /// A request names fields the call does not know (a profile write; one refusal listing
    /// all of them, before any value is checked).
    #[error("unknown fields: {}", .0.join(", "))]
    UnknownFields(Vec<String>),
    /// The password changed between proving the current one and storing the new one (a
    /// concurrent change or reset): nothing was stored; the caller may retry.
    #[error("the password changed meanwhile; retry")]
    PasswordChangedMeanwhile,
    /// A kernel rule refused (a role the caller lacks, an invalid value).
    #[error(transparent)]
    Kernel(#[from] KernelError),
    /// The store or another port failed; nothing was changed.
    #[error(transparent)]
    Port(#[from] PortError),
}

/// One invalid field of a request: its dotted path (empty for the whole body) and what is
/// wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidField {
    /// The field's path, as the request names it.
    pub field: String,
    /// What is wrong, worded to follow the field's name ("must be a string").
    pub message: String,
}
