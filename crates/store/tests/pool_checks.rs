//! A PostgreSQL connection the server dropped (a restart, a failover, an administrator) is
//! replaced: the pool checks a connection that sat idle past `RECENTLY_USED` before handing it
//! out, so no call fails; one dropped within that window fails one call at most, and is then
//! replaced (decision 0050).

use diesel::{Connection, PgConnection, RunQueryDsl};
use tenantry_security::CredentialStore;
use tenantry_store::{Store, StoreConfig, RECENTLY_USED};

use crate::support::stores;

/// Ends every server connection to database `name` but the caller's.
fn drop_connections(admin: &str, name: &str) {
    let mut conn = PgConnection::establish(admin).expect("admin connection");
    diesel::sql_query(format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    ))
    .execute(&mut conn)
    .expect("terminate");
}

#[test]
fn connections_the_server_dropped_are_replaced() {
    for db in stores() {
        let Some((admin, name)) = &db.pg else {
            continue;
        };
        let (base, _) = admin.rsplit_once('/').expect("database path");
        let mut config = StoreConfig::from_url(&format!("{base}/{name}")).expect("a URL");
        config.max_connections = 1;
        let store = Store::open(&config).expect("open");
        store.operator_key_hash().expect("first read");

        // Idle past the window: the check finds the connection dead and opens another.
        std::thread::sleep(RECENTLY_USED * 3);
        drop_connections(admin, name);
        store
            .operator_key_hash()
            .expect("a connection dropped while idle costs no call");

        // Within the window the connection is handed out unchecked: at most one call fails.
        drop_connections(admin, name);
        let _first = store.operator_key_hash();
        store
            .operator_key_hash()
            .expect("a dropped connection fails one call at most");
        drop(store);
    }
}
