//! Waits for a pooled connection are counted and timed for `/metrics`: with one connection and
//! several threads reading at once, callers queue for it, and the figures say so.

use tenantry_security::CredentialStore;
use tenantry_store::{Store, StoreConfig};

use crate::support::stores;

#[test]
fn callers_that_find_every_connection_busy_are_counted_with_their_wait() {
    for db in stores() {
        let mut config = match (&db.dir, &db.pg) {
            (Some(dir), _) => StoreConfig::sqlite(dir.join("t.db")),
            (None, Some((admin, name))) => {
                let (base, _) = admin.rsplit_once('/').expect("database path");
                StoreConfig::from_url(&format!("{base}/{name}")).expect("a PostgreSQL URL")
            }
            (None, None) => unreachable!("a store is SQLite or PostgreSQL"),
        };
        config.max_connections = 1;
        let store = Store::open(&config).expect("open");
        let before = store.metrics_gauges().expect("gauges");
        // Threads may still take turns without ever meeting on two cores: rounds until they
        // do, a bounded number.
        for _ in 0..50 {
            std::thread::scope(|s| {
                for _ in 0..8 {
                    s.spawn(|| {
                        for _ in 0..100 {
                            store.operator_key_hash().expect("read");
                        }
                    });
                }
            });
            if store.metrics_gauges().expect("gauges").pool_waits > before.pool_waits {
                break;
            }
        }
        let after = store.metrics_gauges().expect("gauges");
        assert!(
            after.pool_waits > before.pool_waits,
            "{:?}: four readers on one connection never waited",
            store.backend()
        );
        assert!(after.pool_wait_time > before.pool_wait_time);
        // A caller alone finds the connection idle and waits for nothing.
        let alone = store.metrics_gauges().expect("gauges");
        store.operator_key_hash().expect("read");
        assert_eq!(
            store.metrics_gauges().expect("gauges").pool_waits,
            alone.pool_waits
        );
    }
}
