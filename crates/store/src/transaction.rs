//! Write transactions with bounded retries when they lose a lock race.

use diesel::connection::SimpleConnection;
use diesel::Connection;

use crate::{DbConnection, StoreError};

/// How often a transaction that lost a lock race is retried before `PortError::Busy`.
const MAX_ATTEMPTS: u32 = 4;

/// An error type a write transaction can return: it must carry diesel errors and say whether it
/// is lock contention (retried) and how to report exhausted retries.
pub(crate) trait TxError: From<diesel::result::Error> {
    fn is_contention(&self) -> bool;
    fn busy() -> Self;
}

impl TxError for StoreError {
    fn is_contention(&self) -> bool {
        StoreError::is_contention(self)
    }
    fn busy() -> Self {
        StoreError::Busy
    }
}

/// Runs `f` in a write transaction and retries it on lock contention.
///
/// SQLite: `BEGIN IMMEDIATE`, so the write lock is taken before the first read; two deferred
/// read-then-write transactions would otherwise both hold SHARED locks and one must fail when
/// upgrading. diesel's `immediate_transaction` exists only on `SqliteConnection`, not through the
/// multi-connection enum, so the statements are issued here, with a guard that rolls back if `f`
/// fails or panics. `f` must not open nested transactions.
pub(crate) fn write_transaction<T, E: TxError>(
    conn: &mut DbConnection,
    mut f: impl FnMut(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E> {
    let mut attempt = 1;
    loop {
        let result = match conn {
            DbConnection::Sqlite(_) => sqlite_immediate(conn, &mut f),
            DbConnection::Postgresql(_) => conn.transaction(|c| f(c)),
        };
        match result {
            Err(e) if e.is_contention() && attempt < MAX_ATTEMPTS => {
                std::thread::sleep(std::time::Duration::from_millis(10 * u64::from(attempt)));
                attempt += 1;
            }
            Err(e) if e.is_contention() => return Err(E::busy()),
            other => return other,
        }
    }
}

fn sqlite_immediate<T, E: TxError>(
    conn: &mut DbConnection,
    f: &mut impl FnMut(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E> {
    struct RollbackOnDrop<'a> {
        conn: &'a mut DbConnection,
        done: bool,
    }
    impl Drop for RollbackOnDrop<'_> {
        fn drop(&mut self) {
            if !self.done {
                // Best effort: if even ROLLBACK fails the connection is broken and r2d2 drops it.
                let _ = self.conn.batch_execute("ROLLBACK");
            }
        }
    }

    conn.batch_execute("BEGIN IMMEDIATE")?;
    let mut guard = RollbackOnDrop { conn, done: false };
    let value = f(guard.conn)?;
    guard.conn.batch_execute("COMMIT")?;
    guard.done = true;
    Ok(value)
}

impl From<diesel::r2d2::PoolError> for StoreError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        StoreError::Pool(e.to_string())
    }
}
