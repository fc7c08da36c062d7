//! Counters of what we asked GitHub and what it answered, for `/metrics`.
//!
//! Keys are route templates (`&'static str` from the call sites), never raw
//! paths, so the label set stays bounded however many repositories and pull
//! requests pass through.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};

/// The status recorded when no answer came back (connection error, timeout).
pub const NO_RESPONSE: u16 = 0;

#[derive(Debug, Default)]
pub struct ApiStats {
    /// (route template, status) → requests sent.
    counts: RwLock<HashMap<(&'static str, u16), AtomicU64>>,
    /// installation id → the latest `x-ratelimit-remaining` it was told.
    remaining: RwLock<HashMap<u64, AtomicU64>>,
}

impl ApiStats {
    pub fn new() -> ApiStats {
        ApiStats::default()
    }

    /// Counts one answer (`NO_RESPONSE` when there was none).
    pub(crate) fn record(&self, route: &'static str, status: u16) {
        let key = (route, status);
        {
            let counts = self.counts.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(counter) = counts.get(&key) {
                counter.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
        let mut counts = self.counts.write().unwrap_or_else(PoisonError::into_inner);
        counts
            .entry(key)
            .or_insert_with(|| AtomicU64::new(0))
            .fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn record_remaining(&self, installation: u64, remaining: u64) {
        {
            let map = self
                .remaining
                .read()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(value) = map.get(&installation) {
                value.store(remaining, Ordering::Relaxed);
                return;
            }
        }
        let mut map = self
            .remaining
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        map.entry(installation)
            .or_insert_with(|| AtomicU64::new(0))
            .store(remaining, Ordering::Relaxed);
    }

    /// Every (route template with method, status, count), sorted by route
    /// then status. Status 0 means no answer arrived.
    pub fn snapshot(&self) -> Vec<(String, u16, u64)> {
        let counts = self.counts.read().unwrap_or_else(PoisonError::into_inner);
        let mut rows: Vec<(String, u16, u64)> = counts
            .iter()
            .map(|((route, status), n)| (route.to_string(), *status, n.load(Ordering::Relaxed)))
            .collect();
        rows.sort();
        rows
    }

    /// The latest `x-ratelimit-remaining` seen for one installation.
    pub fn remaining_for(&self, installation: u64) -> Option<u64> {
        self.remaining
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&installation)
            .map(|v| v.load(Ordering::Relaxed))
    }

    /// The latest `x-ratelimit-remaining` per installation id, sorted by id.
    pub fn rate_limit_remaining(&self) -> Vec<(u64, u64)> {
        let map = self
            .remaining
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let mut rows: Vec<(u64, u64)> = map
            .iter()
            .map(|(id, v)| (*id, v.load(Ordering::Relaxed)))
            .collect();
        rows.sort();
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_route_and_status() {
        let s = ApiStats::new();
        s.record("GET /repos/{owner}/{repo}", 200);
        s.record("GET /repos/{owner}/{repo}", 200);
        s.record("GET /repos/{owner}/{repo}", 304);
        s.record("POST /repos/{owner}/{repo}/check-runs", NO_RESPONSE);
        assert_eq!(
            s.snapshot(),
            vec![
                ("GET /repos/{owner}/{repo}".to_string(), 200, 2),
                ("GET /repos/{owner}/{repo}".to_string(), 304, 1),
                ("POST /repos/{owner}/{repo}/check-runs".to_string(), 0, 1),
            ]
        );
    }

    #[test]
    fn keeps_the_latest_remaining_per_installation() {
        let s = ApiStats::new();
        s.record_remaining(7, 4999);
        s.record_remaining(7, 4998);
        s.record_remaining(3, 10);
        assert_eq!(s.rate_limit_remaining(), vec![(3, 10), (7, 4998)]);
    }
}
