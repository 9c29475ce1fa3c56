//! The outbox worker's idle poll leaves the write epoch alone (decision 0011: an epoch bump
//! empties every read cache of the process, so only a write that may change what they hold
//! bumps it); a claim that leases a message bumps it like any write.

use chrono::Duration;
use tenantry_kernel::{EventId, FixedClock, OsRandom};
use tenantry_notifications::{NotificationStore, OutboxEntry, OutboxKind, OutboxStore};

use crate::support::{stores, t0};

#[test]
fn claiming_nothing_leaves_the_write_epoch_and_claiming_a_message_bumps_it() {
    for db in stores() {
        let store = &db.store;
        let (now, lease) = (t0(), t0() + Duration::seconds(60));

        let before = store.write_epoch();
        assert!(store
            .claim_due(now, lease, 10, "test")
            .expect("claim")
            .is_empty());
        assert_eq!(
            store.write_epoch(),
            before,
            "an empty claim bumped the epoch"
        );

        let clock = FixedClock(now - Duration::seconds(1));
        store
            .insert_event(&OutboxEntry {
                id: EventId::generate(&clock, &OsRandom),
                account: None,
                kind: OutboxKind::Event,
                payload: "{}".into(),
                created_at: clock.0,
            })
            .expect("insert");
        let before = store.write_epoch();
        assert_eq!(
            store
                .claim_due(now, lease, 10, "test")
                .expect("claim")
                .len(),
            1
        );
        assert_ne!(store.write_epoch(), before, "a claim that leased a message");

        // Leased now: the next poll finds nothing again, and leaves the epoch.
        let before = store.write_epoch();
        assert!(store
            .claim_due(now, lease, 10, "test")
            .expect("claim")
            .is_empty());
        assert_eq!(
            store.write_epoch(),
            before,
            "an empty claim bumped the epoch"
        );
    }
}
