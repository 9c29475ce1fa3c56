//! A consistent copy of the whole SQLite database while servers write to it (`tenantry
//! backup`), and what `tenantry restore` needs to know of a database before replacing it.
//!
//! The copy is SQLite's `VACUUM INTO`: it reads the database inside one read transaction, so it
//! is a snapshot of one moment (a writer's commit is wholly in it or wholly not), and it writes a
//! compact file with no `-wal` beside it. Writers are not blocked in WAL mode; the copy only
//! keeps the WAL from being checkpointed past its snapshot while it runs. PostgreSQL has its own
//! tool for this (`pg_dump`), which knows the server's consistency rules better than we would.

use std::path::{Path, PathBuf};

use diesel::prelude::*;
use diesel::sql_types::Text;

use crate::StoreError;

/// The file SQLite keeps uncheckpointed commits in beside `path`, and its shared-memory index.
pub fn sqlite_companions(path: &Path) -> [PathBuf; 2] {
    ["-wal", "-shm"].map(|suffix| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    })
}

/// Writes a consistent copy of the whole SQLite database at `source` to `dest`, which must not
/// exist (SQLite refuses to write into an existing file, so nothing is ever overwritten). A
/// missing `source` is an error naming it: nothing is created.
pub fn backup_sqlite(source: &Path, dest: &Path) -> Result<(), StoreError> {
    use diesel::connection::SimpleConnection;
    std::fs::File::open(source)
        .map_err(|e| StoreError::Open(format!("cannot open {}: {e}", source.display())))?;
    let utf8 = |p: &Path| {
        p.to_str().map(str::to_owned).ok_or_else(|| {
            StoreError::Unsupported(format!("a path that is not UTF-8: {}", p.display()))
        })
    };
    // A connection of its own, opened for writing: SQLite writes the copy through the
    // connection that reads, and refuses to on a read-only one (the pool's read-only mode).
    // It changes nothing in `source`: `VACUUM INTO` only reads it.
    let mut conn = diesel::SqliteConnection::establish(&utf8(source)?)
        .map_err(|e| StoreError::Open(format!("cannot open {}: {e}", source.display())))?;
    conn.batch_execute("PRAGMA busy_timeout = 10000;")?;
    diesel::sql_query("VACUUM INTO ?")
        .bind::<Text, _>(utf8(dest)?)
        .execute(&mut conn)?;
    Ok(())
}
