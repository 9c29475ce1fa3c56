//! How many statements (round trips on PostgreSQL) the settings path sends, counted with diesel's
//! instrumentation (decision 0049): an uncached load, a section write through the settings
//! service, and the preferences write of the benchmark's mix. Each count is asserted exactly,
//! so a statement added back to one of these paths fails here, with the statements listed.
//!
//! Every count is taken after the same operation ran once on the connection, so PostgreSQL's
//! one-time `PREPARE` of a cached statement is not in it: what is counted is the steady state.
//! The pool's `SELECT 1` at checkout is not counted: it is sent only for a PostgreSQL connection
//! that sat idle (decision 0050), which `pool_checks` covers, so counting it here would make the
//! counts depend on timing.

use std::cell::RefCell;
use std::sync::Once;

use diesel::connection::{set_default_instrumentation, Instrumentation, InstrumentationEvent};
use serde_json::json;
use tenantry_settings::{Section, SettingsStore};
use tenantry_store::Backend;

use crate::support::{create_account, owner, settings_at, stores, t0};

thread_local! {
    /// The statements this thread sent while recording; `None` when not recording. Per thread,
    /// so the tests running beside this one (on connections instrumented too) count nothing.
    static SENT: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
    /// The statements this thread's connections put in their prepared-statement caches: a statement diesel does not cache is parsed and planned at every execution,
    /// which on PostgreSQL costs more than a round trip (decision 0049).
    static CACHED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

fn recorder() -> Option<Box<dyn Instrumentation>> {
    Some(Box::new(|event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::CacheQuery { sql, .. } = event {
            CACHED.with(|cached| cached.borrow_mut().push(sql.to_owned()));
        }
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            SENT.with(|sent| {
                if let Some(list) = sent.borrow_mut().as_mut() {
                    let sql = query.to_string();
                    let sql = sql
                        .split(" -- binds")
                        .next()
                        .unwrap_or("")
                        .trim()
                        .to_owned();
                    if sql != "SELECT 1" {
                        list.push(sql);
                    }
                }
            });
        }
    }))
}

/// Installs the recorder on every connection established from now on (before any store opens).
fn instrument_new_connections() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| set_default_instrumentation(recorder).expect("instrumentation"));
}

/// The statements `f` sends from this thread.
fn sent_by<T>(f: impl FnOnce() -> T) -> (T, Vec<String>) {
    SENT.with(|sent| *sent.borrow_mut() = Some(Vec::new()));
    let value = f();
    let list = SENT
        .with(|sent| sent.borrow_mut().take())
        .unwrap_or_default();
    (value, list)
}

/// Notes in `wrong` a count other than `expected`, with the statements sent, so one run shows
/// every path's count.
fn check_count(
    wrong: &mut Vec<String>,
    what: &str,
    backend: Backend,
    expected: usize,
    sent: &[String],
) {
    if sent.len() != expected {
        wrong.push(format!(
            "{what} on {}: {} statements, expected {expected}:\n{}",
            backend.as_str(),
            sent.len(),
            sent.join("\n")
        ));
    }
}

/// Per backend: (an uncached load, a notifications section write, a security section write, a
/// preferences write with the snapshot cached). Decision 0049 explains each write's statements;
/// the load is one statement, and a preferences write reads the tier with the user's lock
/// (decision 0052).
fn expected(backend: Backend) -> (usize, usize, usize, usize) {
    match backend {
        Backend::Postgres => (1, 9, 11, 7),
        Backend::Sqlite => (1, 9, 11, 7),
    }
}

#[test]
fn settings_reads_and_writes_send_a_known_number_of_statements() {
    instrument_new_connections();
    let mut wrong = Vec::new();
    for db in stores() {
        let store = &db.store;
        let backend = store.backend();
        let (load, notifications, security, preferences) = expected(backend);
        let a = create_account(store, "counted", t0());
        let actor = owner(&a);
        let settings = settings_at(store, t0());

        // A stored section and an allowlist entry, so the load's parts return rows.
        settings
            .update_section(
                &actor,
                Section::Security,
                &json!({"api_access": {"ip_whitelist": ["203.0.113.0/24"]}}),
                None,
            )
            .expect("security");

        let count_load = || {
            let (loaded, sent) = sent_by(|| store.load(a.account_id, a.owner_id));
            loaded.expect("load");
            sent
        };
        let first = count_load();
        check_count(&mut wrong, "an uncached load", backend, load, &count_load());
        // The load's statement must be one the connection keeps prepared.
        let cached = CACHED.with(|cached| cached.borrow().clone());
        for sql in &first {
            if !cached.iter().any(|c| c.trim() == sql) {
                wrong.push(format!(
                    "the load's statement on {} is not kept prepared: {sql}",
                    backend.as_str()
                ));
            }
        }

        let write = |section: Section, patch: serde_json::Value| {
            let (written, sent) =
                sent_by(|| settings.update_section(&actor, section, &patch, None));
            written.expect("write");
            sent
        };
        for (section, count, patches) in [
            (
                Section::Notifications,
                notifications,
                [
                    json!({"email": {"frequency": "daily_digest", "email": "ops@example.com"}}),
                    json!({"email": {"frequency": "immediate", "email": "ops@example.com"}}),
                ],
            ),
            (
                Section::Security,
                security,
                [
                    json!({"session": {"concurrent_sessions": 2}}),
                    json!({"session": {"concurrent_sessions": 3}}),
                ],
            ),
        ] {
            let [first, second] = patches;
            write(section, first);
            check_count(
                &mut wrong,
                &format!("a {} write", section.as_str()),
                backend,
                count,
                &write(section, second),
            );
        }

        // The benchmark's PUT: the preferences, after a read left the snapshot cached.
        for (i, theme) in ["dark", "light"].into_iter().enumerate() {
            settings.account_settings(&actor).expect("read");
            let sent = write(Section::Preferences, json!({"theme": theme}));
            if i == 1 {
                check_count(
                    &mut wrong,
                    "a preferences write",
                    backend,
                    preferences,
                    &sent,
                );
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}
