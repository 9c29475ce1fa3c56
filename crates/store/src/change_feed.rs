//! The change feed (decision 0047): what each write moved, recorded in its own transaction, and
//! the follower that applies what other processes recorded as the same epoch bumps here, so a
//! cached entry can live until what it holds changes rather than for a fixed 2 s.

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use tenantry_kernel::{AccountId, UserId, WriteEpochs};

use crate::schema::cache_changes;
use crate::{DbConnection, Store, StoreError};

/// Rows older than this are pruned: a follower that polls every half second has long read them.
pub const PRUNE_AGE: Duration = Duration::from_secs(60);
/// How often a follower prunes (one indexed DELETE).
const PRUNE_EVERY: Duration = Duration::from_secs(10);
/// A follower whose last successful poll is older than this may have missed rows another
/// process pruned (they are pruned once [`PRUNE_AGE`] old), so it bumps the global epoch.
/// Below the prune age by a margin for two processes' clocks and a slow poll.
pub const GAP_AGE: Duration = Duration::from_secs(50);

/// What a write transaction moves: the epochs it bumps here after it ends, and the rows it
/// records for the other processes before it commits.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Changes {
    pub(crate) global: bool,
    pub(crate) account: Option<AccountId>,
    pub(crate) user: Option<UserId>,
}

impl Changes {
    pub(crate) fn global() -> Self {
        Self {
            global: true,
            ..Self::default()
        }
    }

    fn rows(self) -> Vec<(&'static str, Option<String>)> {
        let mut rows = Vec::new();
        if self.global {
            rows.push(("global", None));
        }
        if let Some(a) = self.account {
            rows.push(("account", Some(a.to_string())));
        }
        if let Some(u) = self.user {
            rows.push(("user", Some(u.to_string())));
        }
        rows
    }

    /// Records the changes in the write transaction `conn` is in (nothing for a write that
    /// moves nothing), marked with the writing store's `origin`: they commit with the write or
    /// not at all. One statement whatever the number of rows (at most three), so a write pays
    /// one round trip for its feed rows.
    pub(crate) fn record(
        self,
        conn: &mut DbConnection,
        origin: i64,
    ) -> Result<(), diesel::result::Error> {
        use diesel::sql_types::{BigInt, Nullable, Text};
        let rows = self.rows();
        if rows.is_empty() {
            return Ok(());
        }
        let values = |placeholder: &dyn Fn(usize) -> String| {
            (0..rows.len())
                .map(|i| {
                    let n = 3 * i;
                    format!(
                        "({}, {}, {})",
                        placeholder(n + 1),
                        placeholder(n + 2),
                        placeholder(n + 3)
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let insert = "INSERT INTO cache_changes (scope, target, origin) VALUES";
        match conn {
            DbConnection::Postgresql(pg) => {
                let sql = format!("{insert} {}", values(&|n| format!("${n}")));
                let mut query = diesel::sql_query(sql).into_boxed::<diesel::pg::Pg>();
                for (scope, target) in rows {
                    query = query
                        .bind::<Text, _>(scope)
                        .bind::<Nullable<Text>, _>(target)
                        .bind::<BigInt, _>(origin);
                }
                query.execute(pg).map(drop)
            }
            DbConnection::Sqlite(lite) => {
                let sql = format!("{insert} {}", values(&|_| "?".to_owned()));
                let mut query = diesel::sql_query(sql).into_boxed::<diesel::sqlite::Sqlite>();
                for (scope, target) in rows {
                    query = query
                        .bind::<Text, _>(scope)
                        .bind::<Nullable<Text>, _>(target)
                        .bind::<BigInt, _>(origin);
                }
                query.execute(lite).map(drop)
            }
        }
    }

    /// Bumps the epochs here (after the transaction, whatever its outcome).
    pub(crate) fn bump(self, epochs: &WriteEpochs) {
        if self.global {
            epochs.bump_global();
        }
        if let Some(a) = self.account {
            epochs.bump_account(a);
        }
        if let Some(u) = self.user {
            epochs.bump_user(u);
        }
    }
}

/// Applies one recorded row as the bump its writer made; a row this version cannot read
/// (written by a newer one) bumps everything, which costs misses, never a stale read.
fn apply(epochs: &WriteEpochs, scope: &str, target: Option<&str>) {
    match (scope, target) {
        ("account", Some(id)) => match id.parse::<AccountId>() {
            Ok(a) => epochs.bump_account(a),
            Err(_) => epochs.bump_global(),
        },
        ("user", Some(id)) => match id.parse::<UserId>() {
            Ok(u) => epochs.bump_user(u),
            Err(_) => epochs.bump_global(),
        },
        _ => epochs.bump_global(),
    }
}

/// Where a follower stands in the feed, per backend.
#[derive(Debug, Default)]
pub struct FeedCursor {
    /// SQLite: the last `seq` applied. PostgreSQL: the xmin of the previous poll's snapshot
    /// (every transaction below it had ended then, so its rows were read then).
    position: Option<i64>,
    /// PostgreSQL: rows at or above `position` already applied (they are read again until the
    /// horizon passes them; applying one twice would only cost a miss, but not re-applying
    /// keeps an untouched account's entries cached).
    applied: HashSet<i64>,
    /// When the last successful poll started.
    last_ok: Option<Instant>,
    /// `(poll start, position)` of recent polls: rows below a position observed at least
    /// [`PRUNE_AGE`] ago were committed at least that long ago.
    marks: VecDeque<(Instant, i64)>,
    last_prune: Option<Instant>,
    timing: FeedTiming,
}

/// The ages a follower works with; [`FeedTiming::default`] is what the server uses.
#[derive(Debug, Clone, Copy)]
pub struct FeedTiming {
    /// See [`GAP_AGE`].
    pub gap_age: Duration,
    /// See [`PRUNE_AGE`].
    pub prune_age: Duration,
    /// How often a follower prunes.
    pub prune_every: Duration,
}

impl Default for FeedTiming {
    fn default() -> Self {
        Self {
            gap_age: GAP_AGE,
            prune_age: PRUNE_AGE,
            prune_every: PRUNE_EVERY,
        }
    }
}

impl FeedCursor {
    /// A cursor with other ages (tests shorten them); the gap age must stay below the prune age
    /// of every process on the database, or a pause could miss pruned rows unnoticed.
    pub fn with_timing(timing: FeedTiming) -> Self {
        Self {
            timing,
            ..Self::default()
        }
    }
}

/// What one poll did (for tests and logs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FeedPoll {
    /// Rows applied as bumps.
    pub applied: usize,
    /// Whether the poll bumped the global epoch because rows may have been missed (the first
    /// poll, or one after [`GAP_AGE`] without a successful poll).
    pub gap: bool,
    /// Rows pruned.
    pub pruned: usize,
}

impl Store {
    /// Reads what other processes recorded since `cursor`, applies it to this store's epochs,
    /// then confirms the feed (so caches may keep entries past the 2 s bound) and prunes rows
    /// older than [`PRUNE_AGE`] once in a while. On an error nothing is confirmed, and the
    /// caches fall back to the 2 s bound once the last confirmation is old enough.
    pub fn poll_changes(&self, cursor: &mut FeedCursor) -> Result<FeedPoll, StoreError> {
        let started = Instant::now();
        let epochs = self.write_epochs();
        // The first poll has no position (what was written before it is unknown), and one after
        // a long pause may find rows pruned it never read: either bumps everything once.
        let gap = cursor.position.is_none()
            || cursor
                .last_ok
                .is_none_or(|ok| started.duration_since(ok) >= cursor.timing.gap_age);
        let mut conn = self.conn()?;
        let applied = match &mut **conn {
            DbConnection::Sqlite(c) => poll_sqlite(c, cursor, epochs, gap, self.feed_origin())?,
            DbConnection::Postgresql(c) => {
                poll_postgres(c, cursor, epochs, gap, self.feed_origin())?
            }
        };
        drop(conn);
        if gap {
            epochs.bump_global();
        }
        epochs.confirm_feed(started);
        cursor.last_ok = Some(started);
        if let Some(position) = cursor.position {
            cursor.marks.push_back((started, position));
        }
        let pruned = match cursor.last_prune {
            Some(at) if started.duration_since(at) < cursor.timing.prune_every => 0,
            _ => {
                cursor.last_prune = Some(started);
                self.prune_changes(cursor, started)?
            }
        };
        Ok(FeedPoll {
            applied,
            gap,
            pruned,
        })
    }

    /// Deletes rows committed at least [`PRUNE_AGE`] ago: those below the newest position this
    /// follower observed that long ago.
    fn prune_changes(&self, cursor: &mut FeedCursor, now: Instant) -> Result<usize, StoreError> {
        let mut below = None;
        while let Some(&(at, position)) = cursor.marks.front() {
            if now.duration_since(at) < cursor.timing.prune_age {
                break;
            }
            below = Some(position);
            cursor.marks.pop_front();
        }
        let Some(position) = below else {
            return Ok(0);
        };
        let sqlite = self.backend() == crate::Backend::Sqlite;
        self.write_uncached(|conn| {
            let deleted = if sqlite {
                // `position` is the last seq applied: it and everything before it committed then.
                diesel::delete(cache_changes::table.filter(cache_changes::seq.le(position)))
                    .execute(conn)?
            } else {
                // `position` is an xmin: every transaction below it had ended then.
                diesel::delete(cache_changes::table.filter(cache_changes::xid.lt(position)))
                    .execute(conn)?
            };
            Ok(deleted)
        })
    }

    /// Follows the feed on a thread of its own, polling every
    /// [`FEED_POLL_INTERVAL`](tenantry_kernel::FEED_POLL_INTERVAL), until the returned handle
    /// is stopped or dropped. One per process: the server starts it with its other background
    /// work; an embedder that never does keeps the 2 s bound.
    pub fn follow_changes(&self) -> std::io::Result<ChangeFollower> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let store = self.clone();
        let thread = std::thread::Builder::new()
            .name("change-feed".into())
            .spawn(move || {
                let mut cursor = FeedCursor::default();
                let mut failing = false;
                while !flag.load(Ordering::Relaxed) {
                    match store.poll_changes(&mut cursor) {
                        Ok(_) if failing => {
                            failing = false;
                            tracing::info!("change feed followed again");
                        }
                        Ok(_) => {}
                        Err(e) if !failing => {
                            failing = true;
                            tracing::warn!(error = %e, "change feed poll failed; caches keep entries for 2 s until it works again");
                        }
                        Err(_) => {}
                    }
                    sleep_unless_stopped(&flag, tenantry_kernel::FEED_POLL_INTERVAL);
                }
            })?;
        Ok(ChangeFollower {
            stop,
            thread: Some(thread),
        })
    }
}

fn sleep_unless_stopped(flag: &AtomicBool, total: Duration) {
    let step = Duration::from_millis(50);
    let mut left = total;
    while !left.is_zero() && !flag.load(Ordering::Relaxed) {
        let nap = left.min(step);
        std::thread::sleep(nap);
        left -= nap;
    }
}

/// SQLite: `seq` order is commit order (one writer at a time), so everything above the last
/// applied `seq` is exactly what is new.
fn poll_sqlite(
    conn: &mut diesel::SqliteConnection,
    cursor: &mut FeedCursor,
    epochs: &WriteEpochs,
    gap: bool,
    origin: i64,
) -> Result<usize, StoreError> {
    let Some(last) = cursor.position.filter(|_| !gap) else {
        let newest: Option<i64> = cache_changes::table
            .select(diesel::dsl::max(cache_changes::seq))
            .first(conn)?;
        cursor.position = Some(newest.unwrap_or(0));
        return Ok(0);
    };
    let rows: Vec<(i64, String, Option<String>, Option<i64>)> = cache_changes::table
        .filter(cache_changes::seq.gt(last))
        .order(cache_changes::seq)
        .select((
            cache_changes::seq,
            cache_changes::scope,
            cache_changes::target,
            cache_changes::origin,
        ))
        .load(conn)?;
    let mut applied = 0;
    for (seq, scope, target, by) in &rows {
        // This store's own rows were bumped by their writer; the position still passes them.
        if *by != Some(origin) {
            apply(epochs, scope, target.as_deref());
            applied += 1;
        }
        cursor.position = Some(*seq);
    }
    Ok(applied)
}

/// A feed row as PostgreSQL's follower reads it: seq, xid, scope, target, origin.
type PgFeedRow = (i64, Option<i64>, String, Option<String>, Option<i64>);

/// PostgreSQL: one snapshot (REPEATABLE READ) gives both the rows and its xmin, the oldest
/// transaction still running. Every row of a transaction below the previous poll's xmin was
/// visible to the previous poll, so reading the rows at or above it misses no commit, in
/// whatever order transactions commit.
fn poll_postgres(
    conn: &mut diesel::PgConnection,
    cursor: &mut FeedCursor,
    epochs: &WriteEpochs,
    gap: bool,
    origin: i64,
) -> Result<usize, StoreError> {
    #[derive(QueryableByName)]
    struct Horizon {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        xmin: i64,
    }
    let previous = cursor.position.filter(|_| !gap);
    let (xmin, rows) = conn
        .build_transaction()
        .repeatable_read()
        .read_only()
        .run(|c| {
            let horizon: Horizon = diesel::sql_query(
                "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin",
            )
            .get_result(c)?;
            // After a gap, the rows at or above the new horizon are read too, and counted as
            // applied: the global bump that follows covers them, and the next poll reads them
            // again (they may belong to a transaction that was running), but does not re-apply.
            let from = previous.unwrap_or(horizon.xmin);
            let rows: Vec<PgFeedRow> = cache_changes::table
                .filter(cache_changes::xid.ge(from))
                .select((
                    cache_changes::seq,
                    cache_changes::xid,
                    cache_changes::scope,
                    cache_changes::target,
                    cache_changes::origin,
                ))
                .load(c)?;
            diesel::QueryResult::Ok((horizon.xmin, rows))
        })?;
    let window: Vec<(i64, Option<i64>)> = rows.iter().map(|(seq, xid, ..)| (*seq, *xid)).collect();
    let fresh = cursor.advance_window(xmin, &window);
    if previous.is_none() {
        // After a gap the global bump covers them.
        return Ok(0);
    }
    let mut applied = 0;
    for &i in &fresh {
        let (_, _, scope, target, by) = &rows[i];
        // This store's own rows were bumped by their writer.
        if *by != Some(origin) {
            apply(epochs, scope, target.as_deref());
            applied += 1;
        }
    }
    Ok(applied)
}

impl FeedCursor {
    /// PostgreSQL: given the rows read at or above the previous horizon (`(seq, xid)`) in a
    /// snapshot whose xmin is `xmin`, which of them (by index) were not applied before; then
    /// moves the horizon to `xmin` and forgets what will never be read again.
    fn advance_window(&mut self, xmin: i64, rows: &[(i64, Option<i64>)]) -> Vec<usize> {
        let fresh = rows
            .iter()
            .enumerate()
            .filter(|(_, (seq, _))| self.applied.insert(*seq))
            .map(|(i, _)| i)
            .collect();
        // Rows below the new horizon are never read again.
        let still: HashSet<i64> = rows
            .iter()
            .filter(|(_, xid)| xid.is_none_or(|x| x >= xmin))
            .map(|(seq, _)| *seq)
            .collect();
        self.applied.retain(|seq| still.contains(seq));
        self.position = Some(xmin);
        fresh
    }
}

/// The follower's thread; stopped (and joined) by [`ChangeFollower::stop`] or when dropped.
pub struct ChangeFollower {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ChangeFollower {
    /// Stops following: from then on the caches fall back to the 2 s bound.
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                tracing::warn!("the change-feed follower panicked");
            }
        }
    }
}

impl Drop for ChangeFollower {
    fn drop(&mut self) {
        self.halt();
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet, HashMap};

    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

    use super::FeedCursor;

    /// One step of a PostgreSQL cluster as the follower sees it.
    #[derive(Debug, Clone)]
    enum Step {
        /// A transaction takes the next transaction id.
        Begin,
        /// The n-th running transaction inserts a row (its `seq` from the shared sequence).
        Insert(usize),
        /// The n-th running transaction commits: its rows become visible at once.
        Commit(usize),
        /// The n-th running transaction rolls back: its rows never become visible.
        Abort(usize),
        /// The follower polls: one snapshot, its xmin and the rows at or above its horizon.
        Poll,
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            2 => Just(Step::Begin),
            3 => (0usize..8).prop_map(Step::Insert),
            2 => (0usize..8).prop_map(Step::Commit),
            1 => (0usize..8).prop_map(Step::Abort),
            2 => Just(Step::Poll),
        ]
    }

    /// Law: whatever order transactions commit in, every row committed after the follower's
    /// first poll is applied by the first poll that can see it, and no row is applied twice.
    /// (Rows visible at the first poll are covered by its global bump.)
    #[test]
    fn every_row_committed_after_the_first_poll_is_applied_once_whatever_the_commit_order() {
        let seed = rand_seed();
        let mut runner = TestRunner::new_with_rng(
            Config {
                cases: 500,
                failure_persistence: None,
                ..Config::default()
            },
            TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
        );
        let result = runner.run(&prop::collection::vec(step(), 1..120), |steps| {
            let (mut next_xid, mut next_seq) = (100i64, 1i64);
            // xid -> rows (seq) of running transactions, in begin order.
            let mut running: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
            let mut committed: Vec<(i64, i64)> = Vec::new();
            let mut cursor = FeedCursor::default();
            let mut covered: Option<BTreeSet<i64>> = None;
            let mut applied: HashMap<i64, usize> = HashMap::new();
            let nth = |running: &BTreeMap<i64, Vec<i64>>, n: usize| {
                running.keys().nth(n % running.len().max(1)).copied()
            };
            for step in steps {
                match step {
                    Step::Begin => {
                        running.insert(next_xid, Vec::new());
                        next_xid += 1;
                    }
                    Step::Insert(n) => {
                        if let Some(xid) = nth(&running, n) {
                            running.entry(xid).or_default().push(next_seq);
                            next_seq += 1;
                        }
                    }
                    Step::Commit(n) => {
                        if let Some(xid) = nth(&running, n) {
                            let rows = running.remove(&xid).unwrap_or_default();
                            committed.extend(rows.into_iter().map(|seq| (seq, xid)));
                        }
                    }
                    Step::Abort(n) => {
                        if let Some(xid) = nth(&running, n) {
                            running.remove(&xid);
                        }
                    }
                    Step::Poll => {
                        let xmin = running.keys().next().copied().unwrap_or(next_xid);
                        let from = cursor.position.unwrap_or(xmin);
                        let rows: Vec<(i64, Option<i64>)> = committed
                            .iter()
                            .filter(|(_, xid)| *xid >= from)
                            .map(|(seq, xid)| (*seq, Some(*xid)))
                            .collect();
                        let fresh = cursor.advance_window(xmin, &rows);
                        match &covered {
                            None => {
                                covered = Some(committed.iter().map(|(seq, _)| *seq).collect());
                            }
                            Some(_) => {
                                for i in fresh {
                                    *applied.entry(rows[i].0).or_default() += 1;
                                }
                            }
                        }
                        if let Some(covered) = &covered {
                            for (seq, _) in &committed {
                                let times = applied.get(seq).copied().unwrap_or(0);
                                if covered.contains(seq) {
                                    prop_assert_eq!(times, 0, "row {} was covered", seq);
                                } else {
                                    prop_assert_eq!(
                                        times,
                                        1,
                                        "row {} applied {} times",
                                        seq,
                                        times
                                    );
                                }
                            }
                        }
                    }
                }
            }
            Ok(())
        });
        if let Err(e) = result {
            panic!("{e}; seed {seed:?}");
        }
    }

    fn rand_seed() -> [u8; 32] {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let mut seed = [0u8; 32];
        seed[..16].copy_from_slice(&nanos.to_le_bytes());
        seed
    }
}
