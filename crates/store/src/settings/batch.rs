//! The inserts and updates of one settings write on PostgreSQL, sent as ONE statement at the end
//! of its transaction (decision 0049): each is a data-modifying part of a `WITH`, which
//! PostgreSQL runs exactly once and to completion whether or not the final `SELECT` reads it.
//! The parts touch distinct rows (a section's document and its history row, the audit
//! entries, their outbox events, the user's preference rows), so none depends on another's
//! effect, which a single statement could not see. Foreign keys are checked at the end of
//! the statement, after every part ran.
//!
//! The column lists mirror the diesel inserts SQLite runs (`writes.rs`, `audit::insert_entry`,
//! `outbox::insert_outbox`); `settings_reads_and_writes_send_a_known_number_of_statements`
//! and the settings end-to-end tests on both backends read back what either wrote.

use diesel::pg::Pg;
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::{PgConnection, RunQueryDsl};

use crate::audit::NewEntry;
use crate::time::to_micros;

/// One bound value of the statement, with its SQL type.
enum Bind {
    Text(String),
    OptText(Option<String>),
    Int(i64),
}

/// A section's next version, as [`Batch::section`] writes it.
pub(super) struct SectionVersion<'a> {
    pub(super) account: &'a str,
    pub(super) section: &'a str,
    /// The document stored from now on.
    pub(super) document: &'a str,
    /// The document the history row keeps.
    pub(super) history: &'a str,
    pub(super) version: i64,
    pub(super) at: i64,
    pub(super) actor: &'a str,
}

/// The parts collected so far and their bound values (`$1`… numbered across all parts).
#[derive(Default)]
pub(super) struct Batch {
    parts: Vec<String>,
    binds: Vec<Bind>,
}

impl Batch {
    fn bind(&mut self, value: Bind) -> String {
        self.binds.push(value);
        format!("${}", self.binds.len())
    }

    fn text(&mut self, value: &str) -> String {
        self.bind(Bind::Text(value.to_owned()))
    }

    fn opt_text(&mut self, value: Option<&str>) -> String {
        self.bind(Bind::OptText(value.map(str::to_owned)))
    }

    fn int(&mut self, value: i64) -> String {
        self.bind(Bind::Int(value))
    }

    /// A section's next version: its stored document becomes `v.document` (an UPDATE of the
    /// row the transaction locked, or the INSERT of a section never stored), and its history
    /// row of that version.
    pub(super) fn section(&mut self, existed: bool, v: &SectionVersion<'_>) {
        let (a, s, d, n, t, by) = (
            self.text(v.account),
            self.text(v.section),
            self.text(v.document),
            self.int(v.version),
            self.int(v.at),
            self.text(v.actor),
        );
        self.parts.push(if existed {
            format!(
                "UPDATE settings_documents SET document = {d}, version = {n}, updated_at = {t}, \
                 updated_by = {by} WHERE account_id = {a} AND section = {s}"
            )
        } else {
            format!(
                "INSERT INTO settings_documents \
                 (account_id, section, document, version, updated_at, updated_by) \
                 VALUES ({a}, {s}, {d}, {n}, {t}, {by})"
            )
        });
        let h = self.text(v.history);
        self.parts.push(format!(
            "INSERT INTO settings_history \
             (account_id, section, version, document, updated_at, updated_by) \
             VALUES ({a}, {s}, {n}, {h}, {t}, {by})"
        ));
    }

    /// An audit entry and the outbox row of its event, if its action emits one.
    pub(super) fn audit(&mut self, entry: &NewEntry<'_>) {
        let (id, account, actor, action, target, diff, ip, at) = (
            self.text(&entry.id),
            self.text(entry.account),
            self.text(entry.actor),
            self.text(entry.action),
            self.opt_text(entry.target),
            self.opt_text(entry.diff.as_deref()),
            self.opt_text(entry.ip),
            self.int(to_micros(entry.at)),
        );
        self.parts.push(format!(
            "INSERT INTO audit_log (id, account_id, actor, action, target, diff, ip, created_at) \
             VALUES ({id}, {account}, {actor}, {action}, {target}, {diff}, {ip}, {at})"
        ));
        if let Some(event) = crate::audit::event_of(entry) {
            let created = to_micros(event.created_at);
            let (id, account, kind, payload, at, next) = (
                self.text(&event.id.to_string()),
                self.opt_text(event.account.map(|a| a.to_string()).as_deref()),
                self.text(event.kind.as_str()),
                self.text(&event.payload),
                self.int(created),
                self.int(created),
            );
            self.parts.push(format!(
                "INSERT INTO outbox (id, account_id, kind, payload, created_at, next_attempt_at) \
                 VALUES ({id}, {account}, {kind}, {payload}, {at}, {next})"
            ));
        }
    }

    /// Sets the user's preference `rows` (key, JSON text) at `version`, in one multi-row
    /// upsert. The keys must be distinct: one statement may not change a row twice.
    pub(super) fn preferences(
        &mut self,
        user: &str,
        rows: &[(&str, String)],
        version: i64,
        at: i64,
    ) {
        if rows.is_empty() {
            return;
        }
        let mut values = Vec::with_capacity(rows.len());
        for (key, value) in rows {
            let (u, k, v, n, t) = (
                self.text(user),
                self.text(key),
                self.text(value),
                self.int(version),
                self.int(at),
            );
            values.push(format!("({u}, {k}, {v}, {n}, {t})"));
        }
        self.parts.push(format!(
            "INSERT INTO user_preferences (user_id, pref_key, value, version, updated_at) \
             VALUES {} ON CONFLICT (user_id, pref_key) DO UPDATE SET value = excluded.value, \
             version = excluded.version, updated_at = excluded.updated_at",
            values.join(", ")
        ));
    }

    /// Sends every part as one statement (nothing when there is none).
    pub(super) fn execute(self, pg: &mut PgConnection) -> diesel::QueryResult<()> {
        let sql = match self.parts.as_slice() {
            [] => return Ok(()),
            [one] => one.clone(),
            parts => {
                let named: Vec<String> = parts
                    .iter()
                    .enumerate()
                    .map(|(i, part)| format!("w{i} AS ({part})"))
                    .collect();
                format!("WITH {} SELECT 1", named.join(", "))
            }
        };
        let mut query = diesel::sql_query(sql).into_boxed::<Pg>();
        for value in self.binds {
            query = match value {
                Bind::Text(v) => query.bind::<Text, _>(v),
                Bind::OptText(v) => query.bind::<Nullable<Text>, _>(v),
                Bind::Int(v) => query.bind::<BigInt, _>(v),
            };
        }
        query.execute(pg).map(drop)
    }
}
