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
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
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

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        std::thread::panicking() || conn.is_broken()
    }
}
