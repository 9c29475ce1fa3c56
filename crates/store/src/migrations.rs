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

/// Applies every pending migration of the connection's backend; returns how many ran.
pub(crate) fn run_pending(conn: &mut DbConnection) -> Result<usize, StoreError> {
    let applied = match conn {
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE).map(|v| v.len()),
        DbConnection::Postgresql(c) => {
            // A session lock: held across the migrations' own transactions, and released by
            // PostgreSQL when the connection closes, whatever happened in between.
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
                .execute(c)
                .map_err(|e| StoreError::Migrate(format!("taking the migration lock: {e}")))?;
            let applied = c.run_pending_migrations(POSTGRES).map(|v| v.len());
            diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))
                .execute(c)
                .map_err(|e| StoreError::Migrate(format!("releasing the migration lock: {e}")))?;
            applied
        }
    };
    applied.map_err(|e| StoreError::Migrate(e.to_string()))
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
