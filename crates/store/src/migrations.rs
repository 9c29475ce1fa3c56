//! Embedded migrations for both backends, run under an advisory lock on PostgreSQL.

use diesel::migration::MigrationSource;
use diesel::prelude::*;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::{DbConnection, StoreError};

const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// Any fixed number shared by every instance: the PostgreSQL advisory lock that makes the
/// instances starting together on one database migrate it one after the other (the first
/// applies the migrations, the others then find none pending). Without it, two ran the same
/// `CREATE TABLE` and one failed on `pg_type_typname_nsp_index`.
const MIGRATION_LOCK: i64 = 0x7465_6e61_6e74_7279; // "tenantry"

/// Called after each migration applied: (applied so far, pending at the start, its name).
pub type MigrationProgress<'a> = &'a mut dyn FnMut(usize, usize, &str);

/// Applies every pending migration of the connection's backend, one at a time (each in its
/// own transaction, as diesel's `run_pending_migrations` does), reporting each; returns how
/// many ran.
pub(crate) fn run_pending(
    conn: &mut DbConnection,
    progress: MigrationProgress<'_>,
) -> Result<usize, StoreError> {
    let applied = match conn {
        DbConnection::Sqlite(c) => run_each(c, SQLITE, progress),
        DbConnection::Postgresql(c) => {
            // A session lock: held across the migrations' own transactions, and released by
            // PostgreSQL when the connection closes, whatever happened in between.
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
                .execute(c)
                .map_err(|e| StoreError::Migrate(format!("taking the migration lock: {e}")))?;
            let applied = run_each(c, POSTGRES, progress);
            diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))
                .execute(c)
                .map_err(|e| StoreError::Migrate(format!("releasing the migration lock: {e}")))?;
            applied
        }
    };
    applied.map_err(|e| StoreError::Migrate(e.to_string()))
}

fn run_each<B, C>(
    conn: &mut C,
    source: EmbeddedMigrations,
    progress: MigrationProgress<'_>,
) -> diesel::migration::Result<usize>
where
    B: diesel::backend::Backend,
    C: MigrationHarness<B>,
    EmbeddedMigrations: MigrationSource<B>,
{
    let pending = conn.pending_migrations(source)?;
    let total = pending.len();
    for (done, migration) in pending.iter().enumerate() {
        conn.run_migration(migration.as_ref())?;
        progress(done + 1, total, &migration.name().to_string());
    }
    Ok(total)
}

#[derive(QueryableByName)]
struct AppliedVersion {
    #[diesel(sql_type = diesel::sql_types::Text)]
    version: String,
}

/// How many migrations the database lacks, read without writing anything (diesel's own
/// harness creates its bookkeeping table first). A database without that table was never
/// migrated: an error, not a number.
pub(crate) fn pending(conn: &mut DbConnection) -> Result<usize, StoreError> {
    let query = diesel::sql_query("SELECT version FROM __diesel_schema_migrations");
    fn versions<B: diesel::backend::Backend>(
        source: &EmbeddedMigrations,
    ) -> Result<Vec<String>, StoreError>
    where
        EmbeddedMigrations: MigrationSource<B>,
    {
        Ok(MigrationSource::<B>::migrations(source)
            .map_err(|e| StoreError::Migrate(e.to_string()))?
            .iter()
            .map(|m| m.name().version().to_string())
            .collect())
    }
    let (applied, known) = match conn {
        DbConnection::Sqlite(c) => (
            query.load::<AppliedVersion>(c),
            versions::<diesel::sqlite::Sqlite>(&SQLITE)?,
        ),
        DbConnection::Postgresql(c) => (
            query.load::<AppliedVersion>(c),
            versions::<diesel::pg::Pg>(&POSTGRES)?,
        ),
    };
    let applied = applied.map_err(|e| {
        StoreError::Migrate(format!(
            "not a migrated Tenantry database ({e}); run `tenantry migrate` first"
        ))
    })?;
    Ok(known
        .iter()
        .filter(|version| !applied.iter().any(|a| &a.version == *version))
        .count())
}
