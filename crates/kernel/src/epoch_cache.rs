//! A small read cache whose entries are valid while the store's write epoch is unchanged and
//! for at most a fixed lifetime: what the request path caches (decision 0011) — writes through
//! this process drop everything at once, changes from elsewhere show within the lifetime.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct EpochCache<K, V> {
    lifetime: Duration,
    capacity: usize,
    entries: Mutex<Entries<K, V>>,
}

#[derive(Debug)]
struct Entries<K, V> {
    /// The newest epoch stored under: entries of older epochs can never be served again (the
    /// epoch only grows), so they are dropped rather than kept until the capacity is reached.
    epoch: u64,
    map: HashMap<K, (V, Instant)>,
}

impl<K: Hash + Eq, V: Clone> EpochCache<K, V> {
    /// At most `capacity` entries (past it the cache starts over), each for `lifetime`.
    pub fn new(lifetime: Duration, capacity: usize) -> Self {
        Self {
            lifetime,
            capacity,
            entries: Mutex::new(Entries {
                epoch: 0,
                map: HashMap::new(),
            }),
        }
    }

    /// The value for `key` if it was stored under `epoch` less than the lifetime ago.
    pub fn get(&self, key: &K, epoch: u64) -> Option<V> {
        let entries = self.entries.lock().ok()?;
        if entries.epoch != epoch {
            return None;
        }
        let (value, at) = entries.map.get(key)?;
        (at.elapsed() < self.lifetime).then(|| value.clone())
    }

    /// Stores `value`, read under `epoch` (read the epoch before reading the value, so a write
    /// that lands in between makes the entry stale rather than wrong).
    pub fn put(&self, key: K, value: V, epoch: u64) {
        if let Ok(mut entries) = self.entries.lock() {
            if epoch < entries.epoch {
                // Written since it was read: stale already.
                return;
            }
            if epoch > entries.epoch {
                entries.map.clear();
                entries.epoch = epoch;
            }
            if entries.map.len() >= self.capacity {
                entries.map.clear();
            }
            entries.map.insert(key, (value, Instant::now()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_with_the_epoch_or_the_lifetime() {
        let c = EpochCache::new(Duration::from_secs(60), 2);
        c.put("a", 1, 7);
        assert_eq!(c.get(&"a", 7), Some(1));
        assert_eq!(c.get(&"a", 8), None, "a write happened since");
        let short = EpochCache::new(Duration::ZERO, 2);
        short.put("a", 1, 7);
        assert_eq!(short.get(&"a", 7), None, "too old");
        c.put("b", 2, 7);
        c.put("c", 3, 7);
        assert_eq!(c.get(&"a", 7), None, "over capacity: started over");
        assert_eq!(c.get(&"c", 7), Some(3));
    }

    #[test]
    fn a_newer_epoch_drops_the_older_entries_and_a_stale_value_is_not_kept() {
        let c = EpochCache::new(Duration::from_secs(60), 10);
        c.put("a", 1, 7);
        c.put("b", 2, 8);
        assert_eq!(
            c.entries.lock().expect("lock").map.len(),
            1,
            "epoch 7 dropped"
        );
        assert_eq!(c.get(&"b", 8), Some(2));
        c.put("c", 3, 7);
        assert_eq!(c.get(&"c", 7), None, "read before the last write: not kept");
        assert_eq!(c.get(&"b", 8), Some(2), "and the current entries stay");
    }
}
