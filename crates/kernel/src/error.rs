//! The kernel's error enum, and `PortError` for infrastructure failures behind any port.

use thiserror::Error;

/// Errors raised when parsing kernel vocabulary or checking a role.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KernelError {
    #[error("`{value}` is not a valid {kind} id (expected `{prefix}_` followed by a ULID)")]
    InvalidId {
        kind: &'static str,
        prefix: &'static str,
        value: String,
    },
    #[error("`{0}` is not a role (expected owner, admin, developer or viewer)")]
    InvalidRole(String),
    #[error("`{0}` is not a valid account name (3-63 of a-z, 0-9 and -, starting with a letter)")]
    InvalidAccountName(String),
    #[error("`{0}` is not a valid email address")]
    InvalidEmail(String),
    /// A display name broke a rule; the message is the field message ("must ...").
    #[error("{0}")]
    InvalidDisplayName(super::DisplayNameError),
    #[error("the pagination cursor is malformed")]
    InvalidCursor,
    #[error("`limit` must be between 1 and {max}")]
    InvalidLimit { max: u32 },
    #[error("this operation requires the {required} role; the caller is {current}")]
    InsufficientRole {
        required: super::Role,
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
