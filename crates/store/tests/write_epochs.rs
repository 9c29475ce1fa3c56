//! Which epochs a write moves (decision 0044): an account's write moves that account's epoch
//! alone, a user's preferences move that user's alone, and the outbox (which no read cache
//! holds) moves none, so one tenant's writes never empty another tenant's cached entries.

use chrono::Duration;
use tenantry_kernel::{AccountId, AuditId, EventId, FixedClock, OperatorCaller, OsRandom, UserId};
use tenantry_notifications::{NotificationStore, OutboxEntry, OutboxKind, OutboxStore};
use tenantry_security::AccountStore;

use crate::support::{create_account, owner, settings_at, stores, t0};

/// Another id on another epoch counter: counters are taken by the ULID's low bits.
fn neighbour(id: u128) -> u128 {
    id ^ 1
}

#[test]
fn an_accounts_write_moves_its_own_epoch_and_no_other() {
    for db in stores() {
        let store = &db.store;
        let a = create_account(store, "acme", t0());
        let other = AccountId::from_ulid(neighbour(a.account_id.ulid().0).into());
        let epochs = store.write_epochs();
        let (mine, theirs, global) = (
            epochs.account(a.account_id),
            epochs.account(other),
            epochs.global(),
        );
        store
            .update_account(
                a.account_id,
                None,
                Some("Acme Renamed"),
                AuditId::generate(&FixedClock(t0()), &OsRandom),
                t0(),
                OperatorCaller::CLI,
            )
            .expect("update");
        assert_ne!(
            epochs.account(a.account_id),
            mine,
            "the writer's own account"
        );
        assert_eq!(epochs.account(other), theirs, "another account moved");
        assert_eq!(
            epochs.global(),
            global,
            "an account's write moved the global epoch"
        );
    }
}

#[test]
fn a_preference_write_moves_its_users_epoch_and_not_the_accounts() {
    for db in stores() {
        let store = &db.store;
        let a = create_account(store, "acme", t0());
        let actor = owner(&a);
        let colleague = UserId::from_ulid(neighbour(a.owner_id.ulid().0).into());
        let epochs = store.write_epochs();
        let (account, own, theirs) = (
            epochs.account(a.account_id),
            epochs.account_user(a.account_id, a.owner_id),
            epochs.account_user(a.account_id, colleague),
        );
        settings_at(store, t0())
            .set_preference(&actor, "theme.mode", Some(&serde_json::json!("dark")))
            .expect("preference");
        assert_ne!(
            epochs.account_user(a.account_id, a.owner_id),
            own,
            "the writer's own view"
        );
        assert_eq!(
            epochs.account_user(a.account_id, colleague),
            theirs,
            "a colleague's cached documents were dropped"
        );
        assert_eq!(epochs.account(a.account_id), account);
    }
}

#[test]
fn the_outbox_moves_no_epoch() {
    for db in stores() {
        let store = &db.store;
        let (now, lease) = (t0(), t0() + Duration::seconds(60));
        let epochs = store.write_epochs();
        let before = epochs.writes();
        assert!(store
            .claim_due(now, lease, 10, "test")
            .expect("claim")
            .is_empty());
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
        let claimed = store.claim_due(now, lease, 10, "test").expect("claim");
        assert_eq!(claimed.len(), 1);
        store
            .mark_delivered(claimed[0].id, 1, now)
            .expect("delivered");
        assert_eq!(epochs.writes(), before, "an outbox write moved an epoch");
    }
}
