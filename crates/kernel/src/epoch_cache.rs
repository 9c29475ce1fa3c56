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
    entries: Mutex<HashMap<K, (V, Instant, u64)>>,
}

impl<K: Hash + Eq, V: Clone> EpochCache<K, V> {
    /// At most `capacity` entries (past it the cache starts over), each for `lifetime`.
    pub fn new(lifetime: Duration, capacity: usize) -> Self {
        Self {
            lifetime,
            capacity,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The value for `key` if it was stored under `epoch` less than the lifetime ago.
    pub fn get(&self, key: &K, epoch: u64) -> Option<V> {
        let entries = self.entries.lock().ok()?;
        let (value, at, e) = entries.get(key)?;
        (*e == epoch && at.elapsed() < self.lifetime).then(|| value.clone())
    }

    /// Stores `value`, read under `epoch` (read the epoch before reading the value, so a write
    /// that lands in between makes the entry stale rather than wrong).
    pub fn put(&self, key: K, value: V, epoch: u64) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= self.capacity {
                entries.clear();
            }
            entries.insert(key, (value, Instant::now(), epoch));
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
}
