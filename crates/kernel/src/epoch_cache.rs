//! A small read cache whose entries are valid while the write epoch they were read under is
//! unchanged and for at most a fixed lifetime: what the request path caches (decision 0011), each entry
//! under the epoch of what it belongs to (an account, a user: decision 0044).
//! Writes through this process change the epochs of what they touch; changes from elsewhere
//! show within the lifetime.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::Epoch;

/// Values by key, each valid while the epoch it was read under is current and for at most
/// the cache's lifetime; past its capacity the oldest half is dropped.
#[derive(Debug)]
pub struct EpochCache<K, V> {
    lifetime: Duration,
    capacity: usize,
    entries: Mutex<Entries<K, V>>,
}

#[derive(Debug)]
struct Entries<K, V> {
    map: HashMap<K, Entry<V>>,
    /// When expired entries were last dropped. An entry made stale by a write is never served
    /// again but stays until its key is stored anew; dropping the expired ones once per
    /// lifetime bounds the cache to what was read in the last two lifetimes.
    swept: Instant,
}

#[derive(Debug)]
struct Entry<V> {
    value: V,
    /// The epoch the value was read under. Epochs only grow, so an entry whose epoch is not the
    /// key's current one can never be served again.
    epoch: u64,
    at: Instant,
}

impl<K: Hash + Eq, V: Clone> EpochCache<K, V> {
    /// At most `capacity` entries (past it, expired ones are dropped, then the older half),
    /// each for `lifetime`.
    pub fn new(lifetime: Duration, capacity: usize) -> Self {
        Self {
            lifetime,
            capacity,
            entries: Mutex::new(Entries {
                map: HashMap::new(),
                swept: Instant::now(),
            }),
        }
    }

    /// The value for `key` if it was stored under `epoch` (the key's epoch now) less than the
    /// lifetime ago: the cache's own lifetime, or longer while the change feed is followed
    /// ([`Epoch::lifetime`]).
    pub fn get(&self, key: &K, epoch: Epoch) -> Option<V> {
        let entries = self.entries.lock().ok()?;
        let entry = entries.map.get(key)?;
        (entry.epoch == epoch.value() && entry.at.elapsed() < epoch.lifetime(self.lifetime))
            .then(|| entry.value.clone())
    }

    /// The value for `key` if it was stored under the epoch `epoch_of` gives for it now, less
    /// than the lifetime ago: for values that name what they belong to (a key's record, its
    /// account), so the key alone does not tell which epoch applies.
    pub fn get_by(&self, key: &K, epoch_of: impl FnOnce(&V) -> Epoch) -> Option<V> {
        let entries = self.entries.lock().ok()?;
        let entry = entries.map.get(key)?;
        let epoch = epoch_of(&entry.value);
        (entry.epoch == epoch.value() && entry.at.elapsed() < epoch.lifetime(self.lifetime))
            .then(|| entry.value.clone())
    }

    /// Stores `value`, read under `epoch` (read the epoch before reading the value, so a write
    /// that lands in between makes the entry stale rather than wrong).
    pub fn put(&self, key: K, value: V, epoch: Epoch) {
        // What the entry may be served for is decided at each get; the sweep below only needs
        // to keep what could still be served now.
        let (lifetime, epoch) = (epoch.lifetime(self.lifetime), epoch.value());
        if let Ok(mut entries) = self.entries.lock() {
            if entries.map.get(&key).is_some_and(|e| e.epoch > epoch) {
                // Written since it was read, and a fresher value is already here.
                return;
            }
            let full = entries.map.len() >= self.capacity && !entries.map.contains_key(&key);
            if full || entries.swept.elapsed() >= lifetime {
                entries.map.retain(|_, e| e.at.elapsed() < lifetime);
                entries.swept = Instant::now();
            }
            if entries.map.len() >= self.capacity && !entries.map.contains_key(&key) {
                // The older half goes: a working set larger than the capacity keeps its newer
                // half instead of starting over empty, and eviction runs once per
                // `capacity / 2` insertions, so its linear cost is constant per insertion.
                let mut ages: Vec<Instant> = entries.map.values().map(|e| e.at).collect();
                let last_dropped = (ages.len() - 1) / 2;
                let cut = *ages.select_nth_unstable(last_dropped).1;
                entries.map.retain(|_, e| e.at > cut);
            }
            entries.map.insert(
                key,
                Entry {
                    value,
                    epoch,
                    at: Instant::now(),
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(value: u64) -> Epoch {
        Epoch::unfollowed(value)
    }

    #[test]
    fn a_followed_feed_lets_entries_live_past_the_cache_lifetime() {
        let c = EpochCache::new(Duration::from_millis(20), 10);
        c.put("a", 1, Epoch::followed(7));
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(
            c.get(&"a", Epoch::followed(7)),
            Some(1),
            "the feed is followed"
        );
        assert_eq!(
            c.get(&"a", e(7)),
            None,
            "a stale feed: the cache's own lifetime"
        );
        assert_eq!(
            c.get(&"a", Epoch::followed(8)),
            None,
            "a write happened since"
        );
    }

    #[test]
    fn expired_entries_are_dropped_once_per_lifetime_without_filling_the_cache() {
        let c = EpochCache::new(Duration::from_millis(50), 100);
        c.put("stale", 1, e(1));
        std::thread::sleep(Duration::from_millis(60));
        c.put("fresh", 2, e(1));
        let entries = c.entries.lock().expect("lock");
        assert!(!entries.map.contains_key("stale"));
        assert!(entries.map.contains_key("fresh"));
    }

    #[test]
    fn entries_expire_with_the_epoch_or_the_lifetime() {
        let c = EpochCache::new(Duration::from_secs(60), 2);
        c.put("a", 1, e(7));
        assert_eq!(c.get(&"a", e(7)), Some(1));
        assert_eq!(c.get(&"a", e(8)), None, "a write happened since");
        let short = EpochCache::new(Duration::ZERO, 2);
        short.put("a", 1, e(7));
        assert_eq!(short.get(&"a", e(7)), None, "too old");
        std::thread::sleep(Duration::from_millis(2));
        c.put("b", 2, e(7));
        std::thread::sleep(Duration::from_millis(2));
        c.put("c", 3, e(7));
        assert_eq!(
            c.get(&"a", e(7)),
            None,
            "over capacity: the older half went"
        );
        assert_eq!(c.get(&"b", e(7)), Some(2), "the newer half stays");
        assert_eq!(c.get(&"c", e(7)), Some(3));
    }

    #[test]
    fn each_entry_answers_to_its_own_epoch_and_a_stale_value_is_not_kept() {
        let c = EpochCache::new(Duration::from_secs(60), 10);
        // Two keys whose epochs moved apart (a write touched only "b").
        c.put("a", 1, e(7));
        c.put("b", 2, e(8));
        assert_eq!(
            c.get(&"a", e(7)),
            Some(1),
            "a write elsewhere leaves \"a\" valid"
        );
        assert_eq!(c.get(&"b", e(8)), Some(2));
        assert_eq!(c.get(&"b", e(7)), None);
        // A value read before the write that stored "b" at 8 does not replace it.
        c.put("b", 3, e(7));
        assert_eq!(c.get(&"b", e(8)), Some(2));
        c.put("b", 4, e(9));
        assert_eq!(c.get(&"b", e(9)), Some(4));
    }

    #[test]
    fn get_by_compares_with_the_epoch_of_what_the_value_names() {
        let c = EpochCache::new(Duration::from_secs(60), 10);
        let epochs = [e(5), e(9)];
        c.put("key", ("account 1", 1usize), e(9));
        assert_eq!(c.get_by(&"key", |v| epochs[v.1]), Some(("account 1", 1)));
        assert_eq!(c.get_by(&"key", |_| epochs[0]), None);
    }

    #[test]
    fn a_full_cache_drops_its_expired_entries_first() {
        let c = EpochCache::new(Duration::from_millis(50), 2);
        c.put("old", 1, e(1));
        std::thread::sleep(Duration::from_millis(60));
        c.put("a", 2, e(1));
        c.put("b", 3, e(1));
        assert_eq!(
            c.get(&"a", e(1)),
            Some(2),
            "only the expired entry made room"
        );
        assert_eq!(c.get(&"b", e(1)), Some(3));
        assert_eq!(c.entries.lock().expect("lock").map.len(), 2);
    }

    #[test]
    fn a_working_set_larger_than_the_capacity_keeps_the_newer_half() {
        let c = EpochCache::new(Duration::from_secs(60), 100);
        for i in 0..100u32 {
            c.put(i, i, e(1));
        }
        c.put(100, 100, e(1));
        let kept: Vec<u32> = (0..=100).filter(|i| c.get(i, e(1)).is_some()).collect();
        assert!(kept.contains(&100), "the new entry is stored");
        assert!(
            (50..=52).contains(&kept.len()),
            "about half the entries stay: {}",
            kept.len()
        );
        assert!(
            kept.iter().filter(|&&i| i < 100).all(|&i| i >= 40),
            "the older entries went first: {kept:?}"
        );
    }
}
