//! A bounded cache of GET answers by ETag, for conditional requests.
//!
//! GitHub does not count a `304 Not Modified` against the rate limit, and one
//! evaluation re-reads the same reviews, files and comments many times over a
//! pull request's life. Entries are evicted least recently used first, by
//! count and by total body size, so the cache cannot grow without bound.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};

/// What a cached answer holds: enough to stand in for the 200 it replaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cached {
    pub etag: String,
    pub body: Arc<str>,
    /// The `rel="next"` link of a paged answer.
    pub next: Option<String>,
}

struct Slot {
    age: u64,
    value: Cached,
}

struct Inner<K> {
    entries: HashMap<K, Slot>,
    /// age → key; the smallest age is the least recently used.
    by_age: BTreeMap<u64, K>,
    clock: u64,
    bytes: usize,
}

pub(crate) struct EtagCache<K> {
    inner: Mutex<Inner<K>>,
    max_entries: usize,
    max_bytes: usize,
}

impl<K: Hash + Eq + Clone> EtagCache<K> {
    pub fn new(max_entries: usize, max_bytes: usize) -> EtagCache<K> {
        EtagCache {
            inner: Mutex::new(Inner {
                entries: HashMap::new(),
                by_age: BTreeMap::new(),
                clock: 0,
                bytes: 0,
            }),
            max_entries,
            max_bytes,
        }
    }

    /// The cached answer for `key`, marked as recently used.
    pub fn get(&self, key: &K) -> Option<Cached> {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.clock += 1;
        let now = inner.clock;
        let slot = inner.entries.get_mut(key)?;
        let old_age = std::mem::replace(&mut slot.age, now);
        let value = slot.value.clone();
        inner.by_age.remove(&old_age);
        inner.by_age.insert(now, key.clone());
        Some(value)
    }

    pub fn put(&self, key: K, value: Cached) {
        let size = value.body.len();
        // An answer bigger than the whole budget would only evict everything.
        if self.max_entries == 0 || size > self.max_bytes {
            self.remove(&key);
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.clock += 1;
        let age = inner.clock;
        if let Some(old) = inner.entries.insert(key.clone(), Slot { age, value }) {
            inner.by_age.remove(&old.age);
            inner.bytes -= old.value.body.len();
        }
        inner.by_age.insert(age, key);
        inner.bytes += size;
        while inner.entries.len() > self.max_entries || inner.bytes > self.max_bytes {
            let Some((_, oldest)) = inner.by_age.pop_first() else {
                break;
            };
            if let Some(gone) = inner.entries.remove(&oldest) {
                inner.bytes -= gone.value.body.len();
            }
        }
    }

    pub fn remove(&self, key: &K) {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(gone) = inner.entries.remove(key) {
            inner.by_age.remove(&gone.age);
            inner.bytes -= gone.value.body.len();
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entries
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cached(body: &str) -> Cached {
        Cached {
            etag: format!("\"{body}\""),
            body: Arc::from(body),
            next: None,
        }
    }

    #[test]
    fn evicts_the_least_recently_used_entry_when_full() {
        let cache = EtagCache::new(2, 1 << 20);
        cache.put("a", cached("1"));
        cache.put("b", cached("2"));
        assert!(cache.get(&"a").is_some()); // b is now the oldest
        cache.put("c", cached("3"));
        assert_eq!(cache.len(), 2);
        assert!(cache.get(&"b").is_none());
        assert_eq!(cache.get(&"a"), Some(cached("1")));
        assert_eq!(cache.get(&"c"), Some(cached("3")));
    }

    #[test]
    fn keeps_total_body_size_under_budget() {
        let cache = EtagCache::new(100, 10);
        cache.put(1, cached("aaaaaa"));
        cache.put(2, cached("bbbbbb"));
        assert!(cache.get(&1).is_none());
        assert!(cache.get(&2).is_some());
        cache.put(3, cached("this body is over budget"));
        assert!(cache.get(&3).is_none());
        assert!(cache.get(&2).is_some());
    }

    #[test]
    fn replacing_an_entry_keeps_accounting_right() {
        let cache = EtagCache::new(2, 12);
        cache.put(1, cached("aaaaaa"));
        cache.put(1, cached("bbbbbb"));
        cache.put(2, cached("cccccc"));
        assert_eq!(cache.get(&1), Some(cached("bbbbbb")));
        assert_eq!(cache.get(&2), Some(cached("cccccc")));
    }
}
