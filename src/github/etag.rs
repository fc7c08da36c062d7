//! A bounded cache of GET answers by ETag, for conditional requests.
//!
//! GitHub does not count a `304 Not Modified` against the rate limit, and one
//! evaluation re-reads the same reviews, files and comments many times over a
//! pull request's life. Entries are evicted least recently used first, by
//! count and by total body size, so the cache cannot grow without bound.

use std::hash::Hash;
use std::sync::Arc;

use moka::policy::EvictionPolicy;
use moka::sync::Cache;

/// What a cached answer holds: enough to stand in for the 200 it replaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cached {
    pub etag: String,
    pub body: Arc<str>,
    /// The `rel="next"` link of a paged answer.
    pub next: Option<String>,
}

/// GET answers by request (moka, least recently used first). Each entry
/// weighs its body's bytes but at least `max_bytes / max_entries`, so a
/// total weight of `max_bytes` bounds both the bytes held and the count.
pub(crate) struct EtagCache<K> {
    entries: Cache<K, Cached>,
    max_bytes: usize,
}

impl<K: Hash + Eq + Clone + Send + Sync + 'static> EtagCache<K> {
    /// At most `max_entries` answers and `max_bytes` of bodies; `0` entries
    /// turns caching off.
    pub fn new(max_entries: usize, max_bytes: usize) -> EtagCache<K> {
        let max_bytes = if max_entries == 0 { 0 } else { max_bytes };
        let floor = u32::try_from(max_bytes / max_entries.max(1)).unwrap_or(u32::MAX);
        EtagCache {
            entries: Cache::builder()
                .max_capacity(u64::try_from(max_bytes).unwrap_or(u64::MAX))
                .weigher(move |_: &K, value: &Cached| {
                    u32::try_from(value.body.len())
                        .unwrap_or(u32::MAX)
                        .max(floor)
                })
                .eviction_policy(EvictionPolicy::lru())
                .build(),
            max_bytes,
        }
    }

    /// The cached answer for `key`, marked as recently used.
    pub fn get(&self, key: &K) -> Option<Cached> {
        self.entries.get(key)
    }

    pub fn put(&self, key: K, value: Cached) {
        // An answer bigger than the whole budget would only evict everything.
        if value.body.len() > self.max_bytes || self.max_bytes == 0 {
            self.remove(&key);
            return;
        }
        self.entries.insert(key, value);
    }

    pub fn remove(&self, key: &K) {
        self.entries.invalidate(key);
    }

    /// Entries held once pending evictions have run.
    #[cfg(test)]
    pub fn len(&self) -> u64 {
        self.entries.run_pending_tasks();
        self.entries.entry_count()
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
        // moka applies reads and writes to its LRU order in batches.
        cache.entries.run_pending_tasks();
        assert!(cache.get(&"a").is_some()); // b is now the oldest
        cache.put("c", cached("3"));
        cache.entries.run_pending_tasks();
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
        cache.entries.run_pending_tasks();
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
        cache.entries.run_pending_tasks();
        assert_eq!(cache.get(&1), Some(cached("bbbbbb")));
        assert_eq!(cache.get(&2), Some(cached("cccccc")));
    }
}
