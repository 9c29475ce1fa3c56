//! The change feed (decision 0047) between two stores on one database, as between two
//! processes: a write through one reaches the other's caches once its follower applied it,
//! entries of unchanged accounts outlive the 2 s bound meanwhile, the bound comes back when the
//! follower stops, and a follower that paused longer than rows are kept bumps everything.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tenantry_kernel::{
    AccountId, AuditId, EpochCache, FixedClock, OperatorCaller, OsRandom, CROSS_PROCESS_BOUND,
};
use tenantry_security::AccountStore;
use tenantry_store::{FeedCursor, FeedTiming, Store};

use crate::support::{create_account, second_store, stores, t0};

/// A read cache of account display names over `store`, as the services keep theirs: under the
/// account's epoch, with the 2 s bound as its own lifetime; `loads` counts store reads.
struct Names<'a> {
    store: &'a Store,
    cache: EpochCache<AccountId, String>,
    loads: AtomicUsize,
}

impl<'a> Names<'a> {
    fn new(store: &'a Store) -> Self {
        Self {
            store,
            cache: EpochCache::new(CROSS_PROCESS_BOUND, 100),
            loads: AtomicUsize::new(0),
        }
    }

    fn get(&self, account: AccountId) -> String {
        let epoch = self.store.write_epochs().account(account);
        if let Some(name) = self.cache.get(&account, epoch) {
            return name;
        }
        self.loads.fetch_add(1, Ordering::SeqCst);
        let name = AccountStore::account(self.store, account)
            .expect("read")
            .expect("account")
            .display_name;
        self.cache.put(account, name.clone(), epoch);
        name
    }

    fn loads(&self) -> usize {
        self.loads.load(Ordering::SeqCst)
    }
}

fn rename(store: &Store, account: AccountId, name: &str) {
    store
        .update_account(
            account,
            None,
            Some(name),
            AuditId::generate(&FixedClock(t0()), &OsRandom),
            t0(),
            OperatorCaller::CLI,
        )
        .expect("rename");
}

/// Waits (at most 5 s) until `done`; returns how long it took.
fn wait_for(mut done: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(5), "not within 5 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    start.elapsed()
}

fn followed(store: &Store) -> bool {
    store
        .write_epochs()
        .feed_age()
        .is_some_and(|age| age < Duration::from_millis(600))
}

#[test]
fn another_stores_write_is_applied_while_unchanged_entries_outlive_the_bound() {
    for db in stores() {
        let writer = &db.store;
        let reader = second_store(&db);
        let a = create_account(writer, "acme", t0()).account_id;
        let b = create_account(writer, "globex", t0()).account_id;
        let follower = reader.follow_changes().expect("follower");
        wait_for(|| followed(&reader));
        let names = Names::new(&reader);
        names.get(a);
        names.get(b);
        assert_eq!(names.loads(), 2);

        // Past the bound, with nothing written: both still come from memory.
        std::thread::sleep(CROSS_PROCESS_BOUND + Duration::from_millis(300));
        names.get(a);
        names.get(b);
        assert_eq!(names.loads(), 2, "entries of unchanged accounts expired");

        // A write through the other store shows within the bound, and the stale name is not
        // served once the follower applied it; the untouched account stays cached.
        let before = reader.write_epochs().account(a);
        rename(writer, a, "Acme Renamed");
        let took = wait_for(|| reader.write_epochs().account(a) != before);
        assert!(took < CROSS_PROCESS_BOUND, "applied after {took:?}");
        assert_eq!(names.get(a), "Acme Renamed");
        assert_eq!(names.get(b), "globex");
        assert_eq!(names.loads(), 3, "only the written account was read again");

        // Stopped: the feed goes stale and every entry is back to the 2 s bound.
        follower.stop();
        wait_for(|| !followed(&reader));
        std::thread::sleep(CROSS_PROCESS_BOUND + Duration::from_millis(100));
        names.get(b);
        assert_eq!(
            names.loads(),
            4,
            "an entry outlived the bound without a follower"
        );
        rename(writer, b, "Globex Renamed");
        std::thread::sleep(CROSS_PROCESS_BOUND + Duration::from_millis(100));
        assert_eq!(
            names.get(b),
            "Globex Renamed",
            "the bound holds without a follower"
        );
    }
}

#[test]
fn a_follower_that_paused_longer_than_rows_are_kept_bumps_everything() {
    for db in stores() {
        let writer = &db.store;
        let reader = second_store(&db);
        let a = create_account(writer, "acme", t0()).account_id;
        let timing = FeedTiming {
            gap_age: Duration::from_millis(250),
            prune_age: Duration::from_millis(300),
            prune_every: Duration::ZERO,
        };
        let (mut busy, mut paused) = (
            FeedCursor::with_timing(timing),
            FeedCursor::with_timing(timing),
        );
        assert!(
            reader.poll_changes(&mut busy).expect("poll").gap,
            "the first poll"
        );
        assert!(reader.poll_changes(&mut paused).expect("poll").gap);

        // Polled in time: the write is applied as the writer's own bump, and no gap.
        let (account, global) = (
            reader.write_epochs().account(a),
            reader.write_epochs().global(),
        );
        rename(writer, a, "One");
        let poll = reader.poll_changes(&mut busy).expect("poll");
        assert!(!poll.gap);
        assert_eq!(poll.applied, 1);
        assert_ne!(reader.write_epochs().account(a), account);
        assert_eq!(
            reader.write_epochs().global(),
            global,
            "an account's change"
        );

        // One follower keeps polling and prunes the row once it is old enough; the other
        // paused past the gap age, so it cannot know what it missed and bumps everything.
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut pruned = 0;
        while pruned == 0 {
            assert!(Instant::now() < deadline, "nothing pruned");
            std::thread::sleep(Duration::from_millis(100));
            pruned += reader.poll_changes(&mut busy).expect("poll").pruned;
        }
        let global = reader.write_epochs().global();
        let poll = reader.poll_changes(&mut paused).expect("poll");
        assert!(poll.gap, "a pause past the gap age");
        assert_eq!(
            poll.applied, 0,
            "after a gap it starts from what is there now"
        );
        assert_ne!(reader.write_epochs().global(), global);
    }
}

/// A store's follower skips the rows its own writes recorded (the writer bumped its epochs
/// after the commit already; applying them again would only drop fresh entries), yet moves
/// past them, so they are pruned like any other; another store applies them.
#[test]
fn a_follower_skips_its_own_rows_and_still_prunes_them() {
    for db in stores() {
        let writer = &db.store;
        let reader = second_store(&db);
        let a = create_account(writer, "acme", t0()).account_id;
        let timing = FeedTiming {
            gap_age: Duration::from_secs(30),
            prune_age: Duration::from_millis(300),
            prune_every: Duration::ZERO,
        };
        let (mut own, mut other) = (
            FeedCursor::with_timing(timing),
            FeedCursor::with_timing(timing),
        );
        assert!(writer.poll_changes(&mut own).expect("poll").gap);
        assert!(reader.poll_changes(&mut other).expect("poll").gap);

        rename(writer, a, "One");
        let after_write = writer.write_epochs().account(a);
        let poll = writer.poll_changes(&mut own).expect("poll");
        assert_eq!(poll.applied, 0, "its own row");
        assert_eq!(writer.write_epochs().account(a), after_write);
        assert_eq!(reader.poll_changes(&mut other).expect("poll").applied, 1);

        // Only the writer follows now: its own rows still age out of the table.
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut pruned = 0;
        while pruned == 0 {
            assert!(Instant::now() < deadline, "its own rows were never pruned");
            std::thread::sleep(Duration::from_millis(100));
            pruned += writer.poll_changes(&mut own).expect("poll").pruned;
        }
    }
}
