//! The database half of `tenantry check`: referential integrity and the agreement between each
//! settings document's version and its history. (The settings half, every stored document read
//! back through the parsers the API uses, is `SettingsService::check_documents`.)

use diesel::prelude::*;
use diesel::sql_types::Text;

use crate::{DbConnection, Store, StoreError};

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    t: String,
}

fn lines(conn: &mut DbConnection, sql: &str) -> Result<Vec<String>, StoreError> {
    let rows: Vec<Line> = match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(sql).load(c)?,
        DbConnection::Postgresql(c) => diesel::sql_query(sql).load(c)?,
    };
    Ok(rows.into_iter().map(|l| l.t).collect())
}

/// Every document's version equals the number of its history entries, numbered 1..=version
/// (each write, rollback included, appends exactly one), and no history lacks its document.
const VERSIONS: &str = "\
    SELECT d.account_id || ' ' || d.section || ': version ' || CAST(d.version AS TEXT) \
        || ' but ' || CAST(COALESCE(h.n, 0) AS TEXT) || ' history entries numbered ' \
        || CAST(COALESCE(h.lo, 0) AS TEXT) || '..' || CAST(COALESCE(h.hi, 0) AS TEXT) AS t \
    FROM settings_documents d \
    LEFT JOIN (SELECT account_id, section, COUNT(*) AS n, MIN(version) AS lo, MAX(version) AS hi \
               FROM settings_history GROUP BY account_id, section) h \
      ON h.account_id = d.account_id AND h.section = d.section \
    WHERE h.n IS NULL OR h.n <> d.version OR h.lo <> 1 OR h.hi <> d.version";

const ORPHAN_HISTORY: &str = "\
    SELECT DISTINCT h.account_id || ' ' || h.section || ': history without a document' AS t \
    FROM settings_history h \
    LEFT JOIN settings_documents d ON d.account_id = h.account_id AND d.section = h.section \
    WHERE d.account_id IS NULL";

impl Store {
    /// One line per problem; empty when the database is consistent.
    pub fn integrity_problems(&self) -> Result<Vec<String>, StoreError> {
        self.read(|conn| {
            let mut problems = Vec::new();
            match conn {
                DbConnection::Sqlite(_) => {
                    problems.extend(
                        lines(conn, "SELECT integrity_check AS t FROM pragma_integrity_check")?
                            .into_iter()
                            .filter(|l| l != "ok")
                            .map(|l| format!("sqlite integrity: {l}")),
                    );
                    problems.extend(lines(
                        conn,
                        "SELECT 'foreign key: ' || \"table\" || ' row ' || COALESCE(CAST(rowid AS TEXT), '?') \
                         || ' refers to a missing ' || parent AS t FROM pragma_foreign_key_check",
                    )?);
                }
                DbConnection::Postgresql(_) => {
                    // PostgreSQL enforces foreign keys as rows are written; one that was added
                    // without validation (or disabled) is the only way to hold violations.
                    problems.extend(lines(
                        conn,
                        "SELECT 'foreign key not validated: ' || conrelid::regclass::text || '.' || conname AS t \
                         FROM pg_constraint WHERE contype = 'f' AND NOT convalidated",
                    )?);
                }
            }
            problems.extend(lines(conn, VERSIONS)?);
            problems.extend(lines(conn, ORPHAN_HISTORY)?);
            Ok(problems)
        })
    }
}
