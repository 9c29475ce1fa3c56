//! When API keys were used (a key's `last_used_at`, the member's `last_active_at`), recorded off
//! the request path: the authenticator hands each use to a bounded queue and a writer (the
//! `tenantry` binary's `key_activity.rs`) stores them in batches. A use is queued at most once a
//! minute per key: a key's `last_used_at` is what its owner reads to tell a live key from a
//! forgotten one, so it is kept to the minute (decision 0021), while the queue still carries one
//! entry per active key and minute, not one per request.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use tenantry_kernel::{AccountId, ApiKeyId, UserId};

/// How often a key's use is recorded: a key used all day is written once a minute, so its
/// `last_used_at` is never more than this behind its last use (plus the writer's batch delay).
pub const KEY_ACTIVITY_INTERVAL_SECONDS: i64 = 60;
/// Keys remembered as recently recorded; past it the memory starts over (a few extra writes).
const REMEMBERED_KEYS: usize = 10_000;

/// One use of an API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyUse {
    /// The account the key belongs to.
    pub account: AccountId,
    /// The key's owner, whose last activity it also is.
    pub user: UserId,
    /// The key.
    pub key: ApiKeyId,
    /// When it was used.
    pub at: DateTime<Utc>,
}

/// The sending side, held by the [`crate::Authenticator`]. Never blocks: a full queue drops the
/// use and counts it ([`KeyActivity::dropped`]); the next use a minute later records it again.
#[derive(Debug)]
pub struct KeyActivity {
    /// `None` once closed (the server stopped): the writer then drains what is left and ends.
    sender: Mutex<Option<SyncSender<KeyUse>>>,
    /// When each key's use was last queued: the cached key record still shows the older time
    /// until the cache reloads it, and must not queue the key again meanwhile.
    queued: Mutex<HashMap<ApiKeyId, DateTime<Utc>>>,
    dropped: AtomicU64,
}

impl KeyActivity {
    /// A queue of at most `capacity` uses and the receiver its writer drains.
    pub fn new(capacity: usize) -> (Self, Receiver<KeyUse>) {
        let (sender, receiver) = sync_channel(capacity);
        let activity = Self {
            sender: Mutex::new(Some(sender)),
            queued: Mutex::new(HashMap::new()),
            dropped: AtomicU64::new(0),
        };
        (activity, receiver)
    }

    /// Whether a use at `now` of a key last recorded at `last` (the key's own `last_used_at`) is
    /// due to be recorded.
    pub fn is_due(last: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
        last.is_none_or(|t| now - t >= Duration::seconds(KEY_ACTIVITY_INTERVAL_SECONDS))
    }

    /// Queues `used` unless it was queued within the interval. `Err(used)` when the queue is
    /// closed, so the caller can record it itself.
    pub(crate) fn offer(&self, used: KeyUse) -> Result<(), KeyUse> {
        if let Ok(mut queued) = self.queued.lock() {
            if !Self::is_due(queued.get(&used.key).copied(), used.at) {
                return Ok(());
            }
            if queued.len() >= REMEMBERED_KEYS {
                queued.clear();
            }
            queued.insert(used.key, used.at);
        }
        let Ok(sender) = self.sender.lock() else {
            return Err(used);
        };
        match sender.as_ref().map(|s| s.try_send(used)) {
            None | Some(Err(TrySendError::Disconnected(_))) => Err(used),
            Some(Ok(())) => Ok(()),
            Some(Err(TrySendError::Full(_))) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
        }
    }

    /// Stops queueing: the writer writes what is queued and ends; later uses (if any) are
    /// recorded by the caller directly.
    pub fn close(&self) {
        if let Ok(mut sender) = self.sender.lock() {
            sender.take();
        }
    }

    /// Uses dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// The latest use of each key in `batch` (a key used twice in a batch is written once).
pub fn latest_per_key(batch: Vec<KeyUse>) -> Vec<KeyUse> {
    let mut latest: HashMap<ApiKeyId, KeyUse> = HashMap::with_capacity(batch.len());
    for used in batch {
        latest
            .entry(used.key)
            .and_modify(|u| {
                if used.at > u.at {
                    *u = used;
                }
            })
            .or_insert(used);
    }
    latest.into_values().collect()
}

#[cfg(test)]
mod tests {
    use tenantry_kernel::{FixedClock, OsRandom};

    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + secs, 0).expect("ts")
    }

    fn use_of(key: ApiKeyId, secs: i64) -> KeyUse {
        let clock = FixedClock(at(0));
        KeyUse {
            account: AccountId::generate(&clock, &OsRandom),
            user: UserId::generate(&clock, &OsRandom),
            key,
            at: at(secs),
        }
    }

    #[test]
    fn a_key_is_queued_at_most_once_a_minute() {
        let (activity, rx) = KeyActivity::new(10);
        let key = ApiKeyId::generate(&FixedClock(at(0)), &OsRandom);
        for secs in [0, 1, 59] {
            assert_eq!(activity.offer(use_of(key, secs)), Ok(()));
        }
        assert_eq!(rx.try_iter().count(), 1, "within the minute: once");
        assert_eq!(activity.offer(use_of(key, 60)), Ok(()));
        assert_eq!(rx.try_iter().map(|u| u.at).collect::<Vec<_>>(), [at(60)]);
    }

    #[test]
    fn a_full_queue_drops_and_counts_and_a_closed_one_hands_the_use_back() {
        let (activity, rx) = KeyActivity::new(1);
        let clock = FixedClock(at(0));
        let a = use_of(ApiKeyId::generate(&clock, &OsRandom), 0);
        let b = use_of(ApiKeyId::generate(&clock, &OsRandom), 0);
        assert_eq!(activity.offer(a), Ok(()));
        assert_eq!(activity.offer(b), Ok(()), "never blocks");
        assert_eq!(activity.dropped(), 1);
        activity.close();
        let c = use_of(ApiKeyId::generate(&clock, &OsRandom), 0);
        assert_eq!(activity.offer(c), Err(c));
        assert_eq!(rx.try_iter().collect::<Vec<_>>(), [a]);
    }

    #[test]
    fn a_batch_keeps_the_latest_use_of_each_key() {
        let clock = FixedClock(at(0));
        let key = ApiKeyId::generate(&clock, &OsRandom);
        let other = ApiKeyId::generate(&clock, &OsRandom);
        let mut kept = latest_per_key(vec![
            use_of(key, 5),
            use_of(other, 1),
            use_of(key, 9),
            use_of(key, 2),
        ]);
        kept.sort_by_key(|u| u.at);
        assert_eq!(
            kept.iter().map(|u| (u.key, u.at)).collect::<Vec<_>>(),
            [(other, at(1)), (key, at(9))]
        );
    }
}
