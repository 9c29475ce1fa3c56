//! The kernel's error enum, and `PortError` for infrastructure failures behind any port.

use thiserror::Error;

/// Errors raised when parsing kernel vocabulary or checking a role.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KernelError {
    /// Not the public form of an id of this kind.
    #[error("`{value}` is not a valid {kind} id (expected `{prefix}_` followed by a ULID)")]
    InvalidId {
        /// What the id names (`account`, `user`, ...).
        kind: &'static str,
        /// The prefix it must start with.
        prefix: &'static str,
        /// What was given.
        value: String,
    },
    /// Not one of the four roles.
    #[error("`{0}` is not a role (expected owner, admin, developer or viewer)")]
    InvalidRole(String),
    /// Not an account slug (see `AccountName`).
    #[error("`{0}` is not a valid account name (3-63 of a-z, 0-9 and -, starting with a letter)")]
    InvalidAccountName(String),
    /// Not an email address (the first 80 characters of what was given).
    #[error("`{0}` is not a valid email address")]
    InvalidEmail(String),
    /// A display name broke a rule; the message is the field message ("must ...").
    #[error("{0}")]
    InvalidDisplayName(super::DisplayNameError),
    /// A pagination cursor this service did not hand out.
    #[error("the pagination cursor is malformed")]
    InvalidCursor,
    /// A page size outside 1 to `max`.
    #[error("`limit` must be between 1 and {max}")]
    InvalidLimit {
        /// The largest page size allowed.
        max: u32,
    },
    /// An embedder's external subject was empty, longer than 64 bytes, or not printable
    /// ASCII without spaces.
    #[error("an external subject is 1 to 64 printable ASCII characters without spaces")]
    InvalidExternalSubject,
    /// The caller's role is below what the operation needs.
    #[error("this operation requires the {required} role; the caller is {current}")]
    InsufficientRole {
        /// The least role that may do it.
        required: super::Role,
        /// The caller's role.
        current: super::Role,
    },
}

/// A failure of the infrastructure behind a port (database, network), as opposed to a domain rule.
///
/// Every port method reports infrastructure trouble through this type so that services can map it
/// to "try again later" (`Busy`) or "internal error" without knowing the adapter.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PortError {
    /// The backend is momentarily contended (SQLite busy, serialization failure) and the bounded
    /// retries were exhausted; the caller may retry.
    #[error("the store is busy, retry later")]
    Busy,
    /// The backend cannot be reached or refused the operation.
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
    /// A uniqueness constraint was violated; the string names the constraint or field.
    #[error("already exists: {0}")]
    Conflict(String),
    /// Stored data could not be decoded; indicates corruption or a migration bug.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}
