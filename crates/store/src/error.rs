//! The store's one error enum.

use thiserror::Error;

use tenantry_kernel::PortError;

/// Failures of the store itself (opening, migrating, querying). Port implementations convert
/// these into the domain's `PortError` at their boundary.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("cannot open the database: {0}")]
    Open(String),
    /// The URL names neither PostgreSQL nor `sqlite://`; it holds the URL with its password
    /// masked.
    #[error("`{0}` is not a database URL this service reads: use postgres://USER:PASSWORD@HOST/DB (or postgresql://) for PostgreSQL, or sqlite://PATH for SQLite")]
    UnsupportedUrl(String),
    #[error("cannot apply migrations: {0}")]
    Migrate(String),
    #[error("no database connection available: {0}")]
    Pool(String),
    #[error("database error: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("the database is busy")]
    Busy,
    /// A compare-and-set found the rows changed by someone else; the transaction is undone.
    #[error("changed concurrently")]
    Conflict,
    /// A stored value does not decode (a migration bug or tampering).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// An operation this backend (or this input) does not offer, named.
    #[error("not supported: {0}")]
    Unsupported(String),
}

impl StoreError {
    pub(crate) fn is_contention(&self) -> bool {
        use diesel::result::{DatabaseErrorKind, Error};
        match self {
            StoreError::Busy => true,
            StoreError::Query(Error::DatabaseError(kind, info)) => {
                matches!(kind, DatabaseErrorKind::SerializationFailure)
                    || info.message().contains("database is locked")
                    || info.message().contains("database table is locked")
            }
            _ => false,
        }
    }
}

impl From<StoreError> for PortError {
    fn from(e: StoreError) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        if e.is_contention() {
            return PortError::Busy;
        }
        match e {
            StoreError::Query(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info)) => {
                PortError::Conflict(info.constraint_name().unwrap_or(info.message()).to_owned())
            }
            StoreError::Query(Error::DeserializationError(err)) => {
                PortError::Corrupt(err.to_string())
            }
            StoreError::Corrupt(what) => PortError::Corrupt(what),
            other => PortError::Unavailable(other.to_string()),
        }
    }
}
