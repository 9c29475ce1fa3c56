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
                // A deadlock (PostgreSQL's 40P01, which diesel reports as `Unknown`, so by its
                // message) rolled this transaction back: running it again is what the
                // server's hint asks for. Writers take rows in a fixed order so that it stays
                // rare.
                matches!(kind, DatabaseErrorKind::SerializationFailure)
                    || info.message().contains("deadlock detected")
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

#[cfg(test)]
mod tests {
    use super::StoreError;
    use diesel::prelude::*;
    use std::sync::{Arc, Barrier};

    /// A real PostgreSQL deadlock counts as contention, so a write transaction that lost one
    /// runs again instead of failing its request. Two transactions take two rows in opposite
    /// orders; PostgreSQL rolls one back (after `deadlock_timeout`).
    #[test]
    fn a_postgres_deadlock_is_contention() {
        let url = match std::env::var("TENANTRY_TEST_PG") {
            Ok(url) if !url.is_empty() => url,
            _ => {
                assert!(
                    std::env::var("TENANTRY_REQUIRE_PG").as_deref() != Ok("1"),
                    "TENANTRY_TEST_PG is required"
                );
                return;
            }
        };
        let table = format!("deadlock_probe_{}", std::process::id());
        let mut setup = diesel::PgConnection::establish(&url).expect("connect");
        diesel::sql_query(format!(
            "CREATE TABLE {table} (id int PRIMARY KEY, n int NOT NULL DEFAULT 0)"
        ))
        .execute(&mut setup)
        .expect("create");
        diesel::sql_query(format!("INSERT INTO {table} (id) VALUES (1), (2)"))
            .execute(&mut setup)
            .expect("rows");
        let barrier = Arc::new(Barrier::new(2));
        let take = |first: i32, second: i32| {
            let (url, table, barrier) = (url.clone(), table.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut conn = diesel::PgConnection::establish(&url).expect("connect");
                conn.transaction::<_, diesel::result::Error, _>(|conn| {
                    let update = |id: i32| format!("UPDATE {table} SET n = n + 1 WHERE id = {id}");
                    diesel::sql_query(update(first)).execute(conn)?;
                    barrier.wait();
                    diesel::sql_query(update(second)).execute(conn)?;
                    Ok(())
                })
            })
        };
        let (a, b) = (take(1, 2), take(2, 1));
        let outcomes = [a.join().expect("thread"), b.join().expect("thread")];
        diesel::sql_query(format!("DROP TABLE {table}"))
            .execute(&mut setup)
            .expect("drop");
        let errors: Vec<StoreError> = outcomes
            .into_iter()
            .filter_map(Result::err)
            .map(StoreError::Query)
            .collect();
        assert_eq!(errors.len(), 1, "one of the two is the deadlock's victim");
        assert!(errors[0].is_contention(), "{}", errors[0]);
    }
}
