//! The rows an uncached settings load reads (the account's sections, the user's preferences,
//! the allowlist, the unused backup codes, the account's tier and name), as one consistent
//! snapshot, in one statement ([`in_one_statement`], decision 0052): a single statement sees
//! one snapshot by itself (PostgreSQL under READ COMMITTED, SQLite in its implicit read
//! transaction), so no `BEGIN` and `COMMIT` are needed, and the load is one round trip instead
//! of seven. The statement is a query type diesel keeps prepared per connection
//! ([`OneStatement`]): a raw `sql_query` would be parsed and planned on every execution, which
//! cost more than the round trips it saved (decision 0049).
//!
//! Without a user it is also what the allowlist's enforcement reads (the security section and
//! the entries), which were two SELECTs in a transaction.
//!
//! [`by_statements`], the five SELECTs in one transaction it replaced, stays as the reference
//! the tests hold it to: one result for every stored state.

use diesel::backend::Backend;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Integer, Nullable, Text};
use diesel::sqlite::Sqlite;

use crate::{DbConnection, StoreError};

/// What a load read, before the documents are parsed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct LoadedRows {
    /// (section, document text, version), in no particular order.
    pub(super) sections: Vec<(String, String, i64)>,
    /// (key, value text, version), in no particular order.
    pub(super) preferences: Vec<(String, String, i64)>,
    /// The CIDRs in creation order (ties broken by id), the order every API shows.
    pub(super) allowlist: Vec<String>,
    pub(super) unused_backup_codes: i64,
    /// (tier, name); `None` when the account does not exist.
    pub(super) account: Option<(String, String)>,
}

/// Five SELECTs in one write-free transaction, so they are one snapshot.
#[cfg(test)]
pub(super) fn by_statements(
    conn: &mut DbConnection,
    account: &str,
    user: &str,
) -> Result<LoadedRows, StoreError> {
    use crate::schema::{
        accounts, ip_allowlist_entries, mfa_backup_codes, settings_documents, user_preferences,
    };
    Ok(conn.transaction(|conn| {
        let sections = settings_documents::table
            .filter(settings_documents::account_id.eq(account))
            .select((
                settings_documents::section,
                settings_documents::document,
                settings_documents::version,
            ))
            .load::<(String, String, i64)>(conn)?;
        let preferences = user_preferences::table
            .filter(user_preferences::user_id.eq(user))
            .select((
                user_preferences::pref_key,
                user_preferences::value,
                user_preferences::version,
            ))
            .load::<(String, String, i64)>(conn)?;
        let allowlist = ip_allowlist_entries::table
            .filter(ip_allowlist_entries::account_id.eq(account))
            .order((
                ip_allowlist_entries::created_at.asc(),
                ip_allowlist_entries::id.asc(),
            ))
            .select(ip_allowlist_entries::cidr)
            .load::<String>(conn)?;
        let unused_backup_codes = mfa_backup_codes::table
            .filter(mfa_backup_codes::user_id.eq(user))
            .filter(mfa_backup_codes::used_at.is_null())
            .count()
            .get_result::<i64>(conn)?;
        let account = accounts::table
            .filter(accounts::id.eq(account))
            .select((accounts::tier, accounts::name))
            .first::<(String, String)>(conn)
            .optional()?;
        diesel::QueryResult::Ok(LoadedRows {
            sections,
            preferences,
            allowlist,
            unused_backup_codes,
            account,
        })
    })?)
}

/// The five reads as the parts of one `UNION ALL`. `part` says which read a row belongs to;
/// the allowlist's `n` is its position (a `UNION ALL` keeps no order, so the position travels
/// with the row); the backup codes and the account are one row each (the account's none when
/// it is missing). Its text never depends on the values (they are bind parameters), so the
/// query has a static [`QueryId`] and diesel prepares it once per connection.
#[derive(Debug, Clone, Copy)]
pub(super) struct OneStatement<'a> {
    account: &'a str,
    /// `None` (bound as NULL, which matches no row) reads the account's parts alone.
    user: Option<&'a str>,
}

impl QueryId for OneStatement<'_> {
    // One type, one text: the key diesel's statement cache files the prepared statement under.
    type QueryId = OneStatement<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl OneStatement<'_> {
    /// Writes the statement with `bind` for each parameter: the backends differ only in how a
    /// bind is spelled, which `AstPass` decides.
    fn walk<'b, DB>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()>
    where
        DB: Backend + diesel::sql_types::HasSqlType<Text>,
        &'b str: diesel::serialize::ToSql<Text, DB>,
        Option<&'b str>: diesel::serialize::ToSql<Nullable<Text>, DB>,
    {
        out.push_sql(
            "SELECT 0 AS part, section AS name, document AS body, version AS n \
             FROM settings_documents WHERE account_id = ",
        );
        out.push_bind_param::<Text, _>(&self.account)?;
        out.push_sql(
            " UNION ALL SELECT 1, pref_key, value, version FROM user_preferences WHERE user_id = ",
        );
        out.push_bind_param::<Nullable<Text>, _>(&self.user)?;
        out.push_sql(
            " UNION ALL SELECT 2, cidr, NULL, row_number() OVER (ORDER BY created_at, id) \
             FROM ip_allowlist_entries WHERE account_id = ",
        );
        out.push_bind_param::<Text, _>(&self.account)?;
        out.push_sql(
            " UNION ALL SELECT 3, '', NULL, count(*) FROM mfa_backup_codes \
             WHERE used_at IS NULL AND user_id = ",
        );
        out.push_bind_param::<Nullable<Text>, _>(&self.user)?;
        out.push_sql(" UNION ALL SELECT 4, tier, name, 0 FROM accounts WHERE id = ");
        out.push_bind_param::<Text, _>(&self.account)?;
        Ok(())
    }
}

impl QueryFragment<Pg> for OneStatement<'_> {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.walk(out)
    }
}

impl QueryFragment<Sqlite> for OneStatement<'_> {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        self.walk(out)
    }
}

impl Query for OneStatement<'_> {
    type SqlType = (Integer, Text, Nullable<Text>, BigInt);
}

impl<Conn> RunQueryDsl<Conn> for OneStatement<'_> {}

/// The five reads in one statement (see [`OneStatement`]), on either backend. Without a user,
/// the preferences are empty and no backup code is counted: what the allowlist's enforcement
/// reads (the security section and the entries) in the same one statement.
pub(super) fn in_one_statement(
    conn: &mut DbConnection,
    account: &str,
    user: Option<&str>,
) -> Result<LoadedRows, StoreError> {
    let query = OneStatement { account, user };
    type Row = (i32, String, Option<String>, i64);
    let parts: Vec<Row> = match conn {
        DbConnection::Postgresql(pg) => query.load(pg)?,
        DbConnection::Sqlite(lite) => query.load(lite)?,
    };
    let mut rows = LoadedRows::default();
    let mut allowlist = Vec::new();
    for (part, name, body, n) in parts {
        match part {
            0 => rows.sections.push((name.clone(), text(body, &name)?, n)),
            1 => rows.preferences.push((name.clone(), text(body, &name)?, n)),
            2 => allowlist.push((n, name)),
            3 => rows.unused_backup_codes = n,
            4 => rows.account = Some((name.clone(), text(body, &name)?)),
            other => return Err(StoreError::Corrupt(format!("settings load part {other}"))),
        }
    }
    allowlist.sort_unstable();
    rows.allowlist = allowlist.into_iter().map(|(_, cidr)| cidr).collect();
    Ok(rows)
}

/// A part's second column, which only the allowlist and backup-code parts leave NULL.
fn text(body: Option<String>, name: &str) -> Result<String, StoreError> {
    body.ok_or_else(|| StoreError::Corrupt(format!("settings load part {name}: no value")))
}

#[cfg(test)]
mod tests {
    use super::{by_statements, in_one_statement, LoadedRows};
    use crate::schema::{
        accounts, ip_allowlist_entries, mfa_backup_codes, settings_documents, user_preferences,
        users,
    };
    use crate::{Store, StoreConfig, StoreError};
    use diesel::prelude::*;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

    /// A fresh database of each backend (PostgreSQL when `TENANTRY_TEST_PG` names a cluster),
    /// removed when dropped.
    struct Fresh {
        store: Store,
        dir: Option<std::path::PathBuf>,
        pg: Option<(String, String)>,
    }

    impl Drop for Fresh {
        fn drop(&mut self) {
            if let Some(dir) = &self.dir {
                let _ = std::fs::remove_dir_all(dir);
            }
            if let Some((admin, name)) = &self.pg {
                if let Ok(mut conn) = diesel::PgConnection::establish(admin) {
                    let _ =
                        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                            .execute(&mut conn);
                }
            }
        }
    }

    fn unique() -> String {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        format!("{}_{nanos}", std::process::id())
    }

    fn fresh_stores() -> Vec<Fresh> {
        let dir = std::env::temp_dir().join(format!("tenantry-load-{}", unique()));
        let mut out = vec![Fresh {
            store: Store::open(&StoreConfig::sqlite(dir.join("t.db"))).expect("sqlite"),
            dir: Some(dir),
            pg: None,
        }];
        match std::env::var("TENANTRY_TEST_PG") {
            Ok(admin) if !admin.is_empty() => {
                let name = format!("tenantry_load_{}", unique());
                let mut conn = diesel::PgConnection::establish(&admin).expect("connect");
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .expect("create database");
                let (base, _) = admin.rsplit_once('/').expect("database path");
                let config = StoreConfig::from_url(&format!("{base}/{name}")).expect("url");
                out.push(Fresh {
                    store: Store::open(&config).expect("pg"),
                    dir: None,
                    pg: Some((admin, name)),
                });
            }
            _ => assert!(
                std::env::var("TENANTRY_REQUIRE_PG").as_deref() != Ok("1"),
                "TENANTRY_TEST_PG is required"
            ),
        }
        out
    }

    /// A stored state around one account and one user: either may be missing; the allowlist's
    /// creation times are drawn from three values, so ties (broken by id) are common.
    #[derive(Debug, Clone)]
    struct State {
        account: bool,
        user: bool,
        sections: Vec<(String, String, i64)>,
        preferences: Vec<(String, String, i64)>,
        /// (id suffix, created_at, cidr)
        allowlist: Vec<(u8, i64, u8)>,
        /// used or not, per code
        codes: Vec<bool>,
    }

    fn states() -> impl Strategy<Value = State> {
        let sections = proptest::sample::subsequence(
            vec!["billing", "integrations", "notifications", "security"],
            0..=4,
        );
        let preferences =
            proptest::sample::subsequence(vec!["display.theme", "locale", "timezone"], 0..=3);
        (
            any::<bool>(),
            any::<bool>(),
            sections,
            proptest::collection::vec(("[a-z\"\\\\ ]{0,6}", 1i64..40), 4),
            preferences,
            proptest::collection::btree_map(any::<u8>(), (0i64..3, any::<u8>()), 0..6),
            proptest::collection::vec(any::<bool>(), 0..5),
        )
            .prop_map(
                |(account, user, sections, contents, preferences, allowlist, codes)| State {
                    account,
                    user,
                    sections: sections
                        .into_iter()
                        .zip(&contents)
                        .map(|(s, (text, v))| {
                            (
                                s.to_owned(),
                                serde_json::json!({ "v": text }).to_string(),
                                *v,
                            )
                        })
                        .collect(),
                    preferences: preferences
                        .into_iter()
                        .zip(&contents)
                        .map(|(k, (text, v))| {
                            (k.to_owned(), serde_json::json!(text).to_string(), *v)
                        })
                        .collect(),
                    allowlist: allowlist
                        .into_iter()
                        .map(|(id, (at, net))| (id, at, net))
                        .collect(),
                    codes,
                },
            )
    }

    /// Stores `state` under fresh ids (plus a neighbour account and user whose rows a load
    /// must not return) and gives the ids to load.
    fn store_state(store: &Store, case: usize, state: &State) -> (String, String) {
        let account = format!("acc_{case}");
        let user = format!("usr_{case}");
        let (other_account, other_user) = (format!("acc_{case}_x"), format!("usr_{case}_x"));
        store
            .read(|conn| -> Result<(), StoreError> {
                for (id, present) in [(&account, state.account), (&other_account, true)] {
                    if !present {
                        continue;
                    }
                    diesel::insert_into(accounts::table)
                        .values((
                            accounts::id.eq(id),
                            accounts::name.eq(format!("name-{id}")),
                            accounts::display_name.eq(""),
                            accounts::tier.eq(if case % 2 == 0 { "pro" } else { "free" }),
                            accounts::created_at.eq(0),
                        ))
                        .execute(conn)?;
                    for (section, document, version) in &state.sections {
                        diesel::insert_into(settings_documents::table)
                            .values((
                                settings_documents::account_id.eq(id),
                                settings_documents::section.eq(section),
                                settings_documents::document.eq(document),
                                settings_documents::version.eq(version),
                                settings_documents::updated_at.eq(0),
                            ))
                            .execute(conn)?;
                    }
                    for (suffix, at, net) in &state.allowlist {
                        diesel::insert_into(ip_allowlist_entries::table)
                            .values((
                                ip_allowlist_entries::id.eq(format!("ip_{id}_{suffix:03}")),
                                ip_allowlist_entries::account_id.eq(id),
                                ip_allowlist_entries::cidr.eq(format!("10.{suffix}.{net}.0/24")),
                                ip_allowlist_entries::label.eq(""),
                                ip_allowlist_entries::created_at.eq(at),
                            ))
                            .execute(conn)?;
                    }
                }
                for (id, present) in [(&user, state.user), (&other_user, true)] {
                    if !present {
                        continue;
                    }
                    diesel::insert_into(users::table)
                        .values((
                            users::id.eq(id),
                            users::email.eq(format!("{id}@example.com")),
                            users::created_at.eq(0),
                        ))
                        .execute(conn)?;
                    for (key, value, version) in &state.preferences {
                        diesel::insert_into(user_preferences::table)
                            .values((
                                user_preferences::user_id.eq(id),
                                user_preferences::pref_key.eq(key),
                                user_preferences::value.eq(value),
                                user_preferences::version.eq(version),
                                user_preferences::updated_at.eq(0),
                            ))
                            .execute(conn)?;
                    }
                    for (i, used) in state.codes.iter().enumerate() {
                        diesel::insert_into(mfa_backup_codes::table)
                            .values((
                                mfa_backup_codes::user_id.eq(id),
                                mfa_backup_codes::code_hash.eq(format!("hash{i}")),
                                mfa_backup_codes::used_at.eq(used.then_some(5)),
                            ))
                            .execute(conn)?;
                    }
                }
                Ok(())
            })
            .expect("store the state");
        (account, user)
    }

    /// Rows in a comparable order: sections and preferences carry none of their own.
    fn sorted(mut rows: LoadedRows) -> LoadedRows {
        rows.sections.sort();
        rows.preferences.sort();
        rows
    }

    /// Law: the one-statement load returns what the five-statement transaction returns, for
    /// every stored state (sections and preferences present or not, allowlist creation times
    /// tied, backup codes used or not, account or user missing), on both backends.
    #[test]
    fn one_statement_loads_what_five_statements_load() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let mut seed = [0u8; 32];
        seed[..16].copy_from_slice(&nanos.to_le_bytes());
        for db in fresh_stores() {
            let store = &db.store;
            let backend = store.backend().as_str();
            let mut runner = TestRunner::new_with_rng(
                Config {
                    cases: 96,
                    failure_persistence: None,
                    ..Config::default()
                },
                TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
            );
            let case = std::cell::Cell::new(0usize);
            let result = runner.run(&states(), |state| {
                case.set(case.get() + 1);
                let (account, user) = store_state(store, case.get(), &state);
                let (old, new, account_only) = store
                    .read(|conn| {
                        Ok((
                            by_statements(conn, &account, &user)?,
                            in_one_statement(conn, &account, Some(&user))?,
                            in_one_statement(conn, &account, None)?,
                        ))
                    })
                    .expect("load");
                // The old load against the stored state, so the states tested are what they
                // claim to be.
                let mut allowlist = state.allowlist.clone();
                allowlist.sort_by_key(|&(suffix, at, _)| (at, suffix));
                let expected_allowlist: Vec<String> = if state.account {
                    allowlist
                        .iter()
                        .map(|(suffix, _, net)| format!("10.{suffix}.{net}.0/24"))
                        .collect()
                } else {
                    Vec::new()
                };
                prop_assert_eq!(&old.allowlist, &expected_allowlist);
                prop_assert_eq!(old.account.is_some(), state.account);
                let unused = state.codes.iter().filter(|used| !**used).count();
                prop_assert_eq!(
                    old.unused_backup_codes,
                    if state.user { unused as i64 } else { 0 }
                );
                // Without a user: the same account parts, no preferences, no codes counted.
                let expected_account_only = LoadedRows {
                    preferences: Vec::new(),
                    unused_backup_codes: 0,
                    ..old.clone()
                };
                prop_assert_eq!(sorted(account_only), sorted(expected_account_only));
                prop_assert_eq!(sorted(new), sorted(old));
                Ok(())
            });
            if let Err(e) = result {
                panic!("{backend}: {e}; seed {seed:?}");
            }
        }
    }
}
