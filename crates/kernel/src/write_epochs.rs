//! The write epochs an [`EpochCache`](crate::EpochCache) entry answers to: one per account (and
//! per user, for what a user's own writes change) plus one for the whole process (decision 0044).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::{AccountId, UserId};

/// How long after another process's write a cache of this process may still serve what the
/// write changed: the documented bound for changes made elsewhere (a second instance, the CLI).
pub const CROSS_PROCESS_BOUND: Duration = Duration::from_secs(2);

/// How often the change feed's follower asks the database what other processes changed.
pub const FEED_POLL_INTERVAL: Duration = Duration::from_millis(500);

/// How long an entry may live while the change feed is followed (decision 0047): changes are
/// then applied as they come, and this is only a safety net.
pub const FEED_MAX_LIFETIME: Duration = Duration::from_secs(60);

/// An epoch as read from [`WriteEpochs`], with whether the change feed was confirmed when it was
/// read (which decides how long an entry read under it may live: see [`Epoch::lifetime`]).
///
/// Equal epochs are the same counter value; the confirmation is a property of the moment of
/// reading, not part of the value a cache entry answers to.
#[derive(Debug, Clone, Copy)]
pub struct Epoch {
    value: u64,
    followed: bool,
}

impl PartialEq for Epoch {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl Eq for Epoch {}

impl Epoch {
    #[cfg(test)]
    pub(crate) fn unfollowed(value: u64) -> Self {
        Self {
            value,
            followed: false,
        }
    }

    #[cfg(test)]
    pub(crate) fn followed(value: u64) -> Self {
        Self {
            value,
            followed: true,
        }
    }

    /// The counter value (sums of counters that only grow: it only grows too).
    pub fn value(self) -> u64 {
        self.value
    }

    /// How long an entry read under this epoch may be served by a cache whose own bound is
    /// `bound`: up to [`FEED_MAX_LIFETIME`] while the change feed was confirmed recently enough
    /// that every change committed elsewhere more than `bound` ago has been applied, else `bound`.
    ///
    /// This is the one place that rule lives; every [`EpochCache`](crate::EpochCache) asks it.
    pub fn lifetime(self, bound: Duration) -> Duration {
        if self.followed {
            FEED_MAX_LIFETIME.max(bound)
        } else {
            bound
        }
    }
}

/// Counters in a process: [`WriteEpochs::new`] allocates this many (8 KiB).
pub const EPOCH_SHARDS: usize = 1024;

/// Epochs of this process's writes, by account.
///
/// A write bumps the epoch of what it changed: an account's ([`Self::bump_account`]), a user's
/// ([`Self::bump_user`], for what belongs to the user in every account, such as preferences), or
/// the whole process's ([`Self::bump_global`], for writes that span accounts). An entry cached
/// under [`Self::account`] or [`Self::account_user`] is dropped by the next write to its own
/// account (or user) or by a global one, and by nothing else: a write in one tenant leaves every
/// other tenant's cached documents, keys and summaries alone.
///
/// **Law:** an epoch never returns to an earlier value and changes with every bump of what it
/// covers, so no cache get returns a value stored before a write to its own account. Ids share
/// a fixed number of counters (by the ULID's low, random bits): two ids on one counter only cost
/// each other extra misses, never a stale read, and the structure does not grow with tenants.
///
/// ```
/// use tenantry_kernel::{AccountId, WriteEpochs};
/// let epochs = WriteEpochs::with_shards(64);
/// let (a, b) = (AccountId::from_ulid(1u128.into()), AccountId::from_ulid(2u128.into()));
/// let (ea, eb) = (epochs.account(a), epochs.account(b));
/// epochs.bump_account(a);
/// assert_ne!(epochs.account(a), ea);
/// assert_eq!(epochs.account(b), eb, "another account's write");
/// ```
#[derive(Debug)]
pub struct WriteEpochs {
    /// Every bump of any kind, counted before the epoch it bumps: see [`Self::account_since`].
    writes: AtomicU64,
    global: AtomicU64,
    shards: Box<[AtomicU64]>,
    /// When the change feed's follower last started a poll that succeeded and was applied, in
    /// microseconds since `base`, plus one (0: never). See [`Self::confirm_feed`].
    feed_confirmed: AtomicU64,
    base: Instant,
}

impl Default for WriteEpochs {
    fn default() -> Self {
        Self::new()
    }
}

impl WriteEpochs {
    /// [`EPOCH_SHARDS`] counters.
    pub fn new() -> Self {
        Self::with_shards(EPOCH_SHARDS)
    }

    /// `shards` counters (at least one): fewer means more ids share one.
    pub fn with_shards(shards: usize) -> Self {
        Self {
            writes: AtomicU64::new(0),
            global: AtomicU64::new(0),
            shards: (0..shards.max(1)).map(|_| AtomicU64::new(0)).collect(),
            feed_confirmed: AtomicU64::new(0),
            base: Instant::now(),
        }
    }

    /// Records that every change another process committed before `poll_started` has been
    /// applied here (as bumps). Call after applying them; earlier instants are ignored.
    pub fn confirm_feed(&self, poll_started: Instant) {
        // A poll begun before these epochs existed confirms nothing about them.
        let Some(since) = poll_started.checked_duration_since(self.base) else {
            return;
        };
        let micros = u64::try_from(since.as_micros()).unwrap_or(u64::MAX - 1) + 1;
        self.feed_confirmed.fetch_max(micros, Ordering::SeqCst);
    }

    /// How long ago the last confirmed poll of the change feed started; `None` if the feed was
    /// never followed in this process.
    pub fn feed_age(&self) -> Option<Duration> {
        match self.feed_confirmed.load(Ordering::SeqCst) {
            0 => None,
            micros => Some(
                self.base
                    .elapsed()
                    .saturating_sub(Duration::from_micros(micros - 1)),
            ),
        }
    }

    /// Whether the feed is followed now: its last confirmed poll started less than
    /// [`CROSS_PROCESS_BOUND`] minus one poll interval ago, so every change committed elsewhere
    /// more than the bound ago is applied, with a poll's worth of margin for the applying.
    fn followed(&self) -> bool {
        self.feed_age()
            .is_some_and(|age| age < CROSS_PROCESS_BOUND.saturating_sub(FEED_POLL_INTERVAL))
    }

    fn epoch(&self, value: u64, followed: bool) -> Epoch {
        Epoch { value, followed }
    }

    fn shard(&self, id: u128) -> &AtomicU64 {
        // The modulus is below `shards.len()`, which is a usize.
        &self.shards[(id % self.shards.len() as u128) as usize]
    }

    // Every epoch reads whether the feed is followed BEFORE the counters: a follower applies
    // its bumps before it confirms, so a confirmation seen here covers every change whose bump
    // the counters read next could still miss only if that change is younger than the bound.

    /// The epoch of what belongs to `account` alone: its own writes and global ones move it.
    pub fn account(&self, account: AccountId) -> Epoch {
        let followed = self.followed();
        self.epoch(self.account_value(account), followed)
    }

    fn account_value(&self, account: AccountId) -> u64 {
        // A sum of counters that only grow changes whenever one of them does.
        self.global
            .load(Ordering::SeqCst)
            .wrapping_add(self.shard(account.ulid().0).load(Ordering::SeqCst))
    }

    /// The epoch of what `user` sees in `account` (the account's documents with the user's
    /// preferences): the account's writes, the user's and global ones move it.
    pub fn account_user(&self, account: AccountId, user: UserId) -> Epoch {
        let followed = self.followed();
        let value = self
            .account_value(account)
            .wrapping_add(self.shard(user.ulid().0).load(Ordering::SeqCst));
        self.epoch(value, followed)
    }

    /// The process-wide epoch alone: for what belongs to no account (operator keys).
    pub fn global(&self) -> Epoch {
        let followed = self.followed();
        self.epoch(self.global.load(Ordering::SeqCst), followed)
    }

    /// How many bumps of any kind there have been: read it before a read whose account is
    /// only known from its result, then ask [`Self::account_since`].
    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::SeqCst)
    }

    /// The account's epoch, if no write of any kind was counted since `seen` (from
    /// [`Self::writes`], read before the value was read); `None` means "do not cache".
    ///
    /// Why it is safe: a write the read did not see commits after the read began, so it is
    /// counted after `seen` was read; if it was counted before the check here, the check fails;
    /// if after, its epoch bump (which follows its count) comes after the epoch was read here,
    /// so the entry stored under this epoch is stale once the write shows.
    pub fn account_since(&self, seen: u64, account: AccountId) -> Option<Epoch> {
        let epoch = self.account(account);
        (self.writes() == seen).then_some(epoch)
    }

    /// Call after a write transaction that changed what belongs to `account` (whatever its
    /// outcome: a failed commit may still have changed something).
    pub fn bump_account(&self, account: AccountId) {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.shard(account.ulid().0).fetch_add(1, Ordering::SeqCst);
    }

    /// Call after a write of what belongs to `user` in every account (preferences).
    pub fn bump_user(&self, user: UserId) {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.shard(user.ulid().0).fetch_add(1, Ordering::SeqCst);
    }

    /// Call after a write that may change what several accounts' caches hold, or that no
    /// account owns.
    pub fn bump_global(&self) {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.global.fetch_add(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::time::Duration;

    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

    use super::*;
    use crate::EpochCache;

    /// One step of a process: readers that read an account's value (its version) under the
    /// epoch they loaded first, writers that change an account's value, then bump its epoch.
    #[derive(Debug, Clone)]
    enum Step {
        /// Loads the account's epoch (or, when the account is only known from what is read,
        /// `writes`) and reads its current version (not cached yet).
        BeginRead(u8, bool),
        /// Caches the oldest unfinished read (possibly stale by now) under the epoch loaded
        /// before it, or the one `account_since` gives.
        FinishRead,
        /// Commits a new version of the account, then bumps its epoch.
        Write(u8),
        /// Commits a new version of every account, then bumps the global epoch.
        WriteAll,
        /// A cache get: must return the current version or nothing.
        Get(u8),
    }

    fn step(accounts: u8) -> impl Strategy<Value = Step> {
        prop_oneof![
            (0..accounts, any::<bool>()).prop_map(|(a, known)| Step::BeginRead(a, known)),
            Just(Step::FinishRead),
            (0..accounts).prop_map(Step::Write),
            Just(Step::WriteAll),
            (0..accounts).prop_map(Step::Get),
        ]
    }

    fn id(n: u8) -> AccountId {
        // Spread over the ULID's low bits, as generated ids are.
        AccountId::from_ulid((u128::from(n) * 0x9E37_79B9_7F4A_7C15).into())
    }

    #[test]
    fn no_get_returns_a_value_stored_before_a_write_to_its_own_account() {
        // Few shards for many accounts, so ids share counters (the collisions under test).
        const ACCOUNTS: u8 = 24;
        let seed = rand::random::<[u8; 32]>();
        let mut runner = TestRunner::new_with_rng(
            Config {
                cases: 400,
                failure_persistence: None,
                ..Config::default()
            },
            TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
        );
        let result = runner.run(
            &(1usize..8, prop::collection::vec(step(ACCOUNTS), 1..200)),
            |(shards, steps)| {
                let epochs = WriteEpochs::with_shards(shards);
                let cache = EpochCache::new(Duration::from_secs(3600), 1000);
                let mut versions: HashMap<u8, u64> = HashMap::new();
                // (account, version read, epoch loaded before or `writes` seen before)
                let mut pending: Vec<(u8, u64, Result<Epoch, u64>)> = Vec::new();
                for step in steps {
                    match step {
                        Step::BeginRead(a, known) => {
                            let before = if known {
                                Ok(epochs.account(id(a)))
                            } else {
                                Err(epochs.writes())
                            };
                            pending.push((a, versions.get(&a).copied().unwrap_or(0), before));
                        }
                        Step::FinishRead => {
                            if !pending.is_empty() {
                                let (a, version, before) = pending.remove(0);
                                let epoch = match before {
                                    Ok(epoch) => Some(epoch),
                                    Err(seen) => epochs.account_since(seen, id(a)),
                                };
                                if let Some(epoch) = epoch {
                                    cache.put(a, version, epoch);
                                }
                            }
                        }
                        Step::Write(a) => {
                            *versions.entry(a).or_default() += 1;
                            epochs.bump_account(id(a));
                        }
                        Step::WriteAll => {
                            for a in 0..ACCOUNTS {
                                *versions.entry(a).or_default() += 1;
                            }
                            epochs.bump_global();
                        }
                        Step::Get(a) => {
                            if let Some(v) = cache.get(&a, epochs.account(id(a))) {
                                let now = versions.get(&a).copied().unwrap_or(0);
                                prop_assert_eq!(v, now, "account {} served a stale value", a);
                            }
                        }
                    }
                }
                Ok(())
            },
        );
        if let Err(e) = result {
            panic!("{e}; seed {seed:?}");
        }
    }

    #[test]
    fn a_users_write_moves_that_users_epochs_only() {
        let epochs = WriteEpochs::new();
        let account = id(1);
        let (u1, u2) = (
            UserId::from_ulid(11u128.into()),
            UserId::from_ulid(12u128.into()),
        );
        let (e1, e2, ea) = (
            epochs.account_user(account, u1),
            epochs.account_user(account, u2),
            epochs.account(account),
        );
        epochs.bump_user(u1);
        assert_ne!(epochs.account_user(account, u1), e1);
        assert_eq!(epochs.account_user(account, u2), e2);
        assert_eq!(epochs.account(account), ea);
        epochs.bump_account(account);
        assert_ne!(epochs.account_user(account, u2), e2);
        epochs.bump_global();
        assert_ne!(epochs.account(id(2)).value(), 0);
    }

    #[test]
    fn a_read_of_unknown_account_is_not_cached_across_a_write() {
        let epochs = WriteEpochs::new();
        let seen = epochs.writes();
        epochs.bump_account(id(7));
        assert_eq!(epochs.account_since(seen, id(3)), None);
        let seen = epochs.writes();
        assert_eq!(epochs.account_since(seen, id(3)).map(Epoch::value), Some(0));
    }

    #[test]
    fn entries_live_long_only_while_the_feed_was_confirmed_within_the_bound() {
        let epochs = WriteEpochs::new();
        let long = |e: Epoch| e.lifetime(CROSS_PROCESS_BOUND) == FEED_MAX_LIFETIME;
        assert_eq!(epochs.feed_age(), None);
        assert!(!long(epochs.account(id(1))), "never followed: the bound");
        epochs.confirm_feed(Instant::now());
        assert!(long(epochs.account(id(1))));
        assert!(long(epochs.global()));
        // A confirmation older than the bound less one poll interval no longer counts.
        let then = Instant::now();
        let stale = CROSS_PROCESS_BOUND - FEED_POLL_INTERVAL;
        std::thread::sleep(stale + Duration::from_millis(20));
        assert!(epochs.feed_age().is_some_and(|age| age >= stale));
        assert!(!long(
            epochs.account_user(id(1), UserId::from_ulid(3u128.into()))
        ));
        // An earlier confirmation never moves it back.
        epochs.confirm_feed(Instant::now());
        epochs.confirm_feed(then);
        assert!(long(epochs.account(id(2))));
    }
}
