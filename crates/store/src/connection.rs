//! One connection type for SQLite and PostgreSQL, so repositories are written once.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};

/// One connection type for both backends, so repositories are written once.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// A pooled connection and when it last went back to the pool.
///
/// The pool checks a PostgreSQL connection before handing it out (`SELECT 1`) unless it came
/// back less than [`RECENTLY_USED`] ago: one that just answered a call is as likely to be alive
/// as the check could tell, and the check was one round trip in six of a write and half of an
/// uncached read (decision 0050, after HikariCP's `aliveBypassWindowMs`). What that costs: a
/// connection the server dropped within that window fails its next call once, and is then
/// replaced (`has_broken`).
pub struct Pooled {
    conn: DbConnection,
    returned: Option<std::time::Instant>,
}

/// How recently a connection must have been returned for the pool to hand it out unchecked.
pub const RECENTLY_USED: std::time::Duration = std::time::Duration::from_millis(500);

impl std::ops::Deref for Pooled {
    type Target = DbConnection;

    fn deref(&self) -> &DbConnection {
        &self.conn
    }
}

impl std::ops::DerefMut for Pooled {
    fn deref_mut(&mut self) -> &mut DbConnection {
        &mut self.conn
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Where connections go. Chosen from the URL scheme by `StoreConfig`, not by trying each backend
/// in turn (the derived `establish` does that and hides libpq's error message).
#[derive(Debug, Clone)]
pub(crate) enum Target {
    Sqlite(String),
    Postgres(String),
}

/// SQLite settings applied to every pooled connection. WAL lets readers proceed during a write;
/// `synchronous = NORMAL` in WAL mode can lose the last transactions on power loss but never
/// corrupts the database (documented in docs/ARCHITECTURE.md); the busy timeout makes writers
/// queue instead of failing at once.
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA foreign_keys = ON;
PRAGMA busy_timeout = 5000;";

/// The pragmas of a read-only connection: `journal_mode` is not set (that is a write), and
/// `query_only` refuses any write the code might still attempt.
const SQLITE_READ_ONLY_PRAGMAS: &str = "PRAGMA foreign_keys = ON;
PRAGMA busy_timeout = 5000;
PRAGMA query_only = ON;";

/// How a read-only SQLite database is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadOnly {
    /// `mode=ro`: read beside a running server, seeing its commits.
    Shared,
    /// `mode=ro&immutable=1`: for a file nobody can write (a read-only directory).
    Immutable,
}

/// `path` as an SQLite URI (`file:`), with the characters that URIs give a meaning escaped.
fn sqlite_uri(path: &str, read_only: ReadOnly) -> String {
    let mut uri = String::from("file:");
    for c in path.chars() {
        match c {
            '%' => uri.push_str("%25"),
            '?' => uri.push_str("%3f"),
            '#' => uri.push_str("%23"),
            c => uri.push(c),
        }
    }
    uri.push_str(match read_only {
        ReadOnly::Shared => "?mode=ro",
        ReadOnly::Immutable => "?mode=ro&immutable=1",
    });
    uri
}

pub(crate) struct Manager {
    pub(crate) target: Target,
    /// `None`: read-write, creating the file if missing.
    pub(crate) read_only: Option<ReadOnly>,
}

impl ManageConnection for Manager {
    type Connection = Pooled;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<Pooled, r2d2::Error> {
        Ok(Pooled {
            conn: self.open()?,
            returned: None,
        })
    }

    fn is_valid(&self, conn: &mut Pooled) -> Result<(), r2d2::Error> {
        if conn.returned.is_some_and(|at| at.elapsed() < RECENTLY_USED) {
            return Ok(());
        }
        conn.conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut Pooled) -> bool {
        // r2d2 asks this as the connection comes back to the pool (and only then).
        conn.returned = Some(std::time::Instant::now());
        std::thread::panicking() || conn.conn.is_broken()
    }
}

impl Manager {
    /// A new connection to the target, set up as the pool wants it.
    pub(crate) fn open(&self) -> Result<DbConnection, r2d2::Error> {
        match &self.target {
            Target::Sqlite(path) => {
                let (address, pragmas) = match self.read_only {
                    Some(mode) => (sqlite_uri(path, mode), SQLITE_READ_ONLY_PRAGMAS),
                    None => (path.clone(), SQLITE_PRAGMAS),
                };
                let mut conn = diesel::SqliteConnection::establish(&address)
                    .map_err(r2d2::Error::ConnectionError)?;
                conn.batch_execute(pragmas)
                    .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
            Target::Postgres(url) => diesel::PgConnection::establish(url)
                .map(DbConnection::Postgresql)
                .map_err(r2d2::Error::ConnectionError),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use diesel::connection::InstrumentationEvent;
    use diesel::r2d2::ManageConnection;

    use super::{Manager, Pooled, Target, RECENTLY_USED};

    /// A pooled in-memory connection whose statements are counted.
    fn counted(manager: &Manager) -> (Pooled, Arc<AtomicUsize>) {
        let sent = Arc::new(AtomicUsize::new(0));
        let mut conn = manager.connect().expect("connect");
        let counter = sent.clone();
        diesel::Connection::set_instrumentation(
            &mut *conn,
            move |event: InstrumentationEvent<'_>| {
                if let InstrumentationEvent::StartQuery { .. } = event {
                    counter.fetch_add(1, Ordering::SeqCst);
                }
            },
        );
        (conn, sent)
    }

    fn manager() -> Manager {
        Manager {
            target: Target::Sqlite(":memory:".into()),
            read_only: None,
        }
    }

    #[test]
    fn a_connection_back_within_the_window_is_handed_out_unchecked() {
        let manager = manager();
        let (mut conn, sent) = counted(&manager);
        assert!(!manager.has_broken(&mut conn), "a healthy connection");
        manager.is_valid(&mut conn).expect("valid");
        assert_eq!(sent.load(Ordering::SeqCst), 0, "no check right after use");
    }

    #[test]
    fn a_new_or_idle_connection_is_checked() {
        let manager = manager();
        let (mut conn, sent) = counted(&manager);
        manager.is_valid(&mut conn).expect("valid");
        assert_eq!(
            sent.load(Ordering::SeqCst),
            1,
            "a new connection is checked"
        );
        conn.returned = Instant::now().checked_sub(RECENTLY_USED + Duration::from_millis(1));
        manager.is_valid(&mut conn).expect("valid");
        assert_eq!(
            sent.load(Ordering::SeqCst),
            2,
            "one idle past the window is checked"
        );
    }
}
