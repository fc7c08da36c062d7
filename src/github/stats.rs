//! Counters of what we asked GitHub and what it answered, for `/metrics`
//! (encoded by `crate::metrics`) and for the engine's budget check.
//!
//! Keys are route templates (`&'static str` from the call sites), never raw
//! paths, so the label set stays bounded however many repositories and pull
//! requests pass through. The per-installation budget is a bounded cache:
//! see [`REMAINING_CAPACITY`] and [`REMAINING_TTL`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};
use std::time::Duration;

use moka::sync::Cache;

/// The status recorded when no answer came back (connection error, timeout).
pub const NO_RESPONSE: u16 = 0;

/// At most this many installations' budgets are remembered; the least
/// recently told are forgotten first.
pub const REMAINING_CAPACITY: u64 = 10_000;

/// A budget is forgotten this long after GitHub last reported it: the
/// primary rate limit's window is an hour, so an older figure has been
/// reset and says nothing.
pub const REMAINING_TTL: Duration = Duration::from_secs(3600);

#[derive(Debug)]
pub struct ApiStats {
    /// (route template, status) → requests sent. Bounded by the code's
    /// route templates times the statuses GitHub answers.
    counts: RwLock<HashMap<(&'static str, u16), AtomicU64>>,
    /// installation id → the latest `x-ratelimit-remaining` it was told.
    remaining: Cache<u64, u64>,
}

impl Default for ApiStats {
    fn default() -> ApiStats {
        ApiStats {
            counts: RwLock::default(),
            remaining: Cache::builder()
                .max_capacity(REMAINING_CAPACITY)
                .time_to_live(REMAINING_TTL)
                .build(),
        }
    }
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

    /// Keeps the `x-ratelimit-remaining` GitHub just reported for `installation`.
    pub(crate) fn record_remaining(&self, installation: u64, remaining: u64) {
        self.remaining.insert(installation, remaining);
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

    /// The latest `x-ratelimit-remaining` seen for one installation within
    /// the last [`REMAINING_TTL`].
    pub fn remaining_for(&self, installation: u64) -> Option<u64> {
        self.remaining.get(&installation)
    }

    /// The latest `x-ratelimit-remaining` per remembered installation id,
    /// sorted by id.
    pub fn rate_limit_remaining(&self) -> Vec<(u64, u64)> {
        let mut rows: Vec<(u64, u64)> = self
            .remaining
            .iter()
            .map(|(id, left)| (*id, left))
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
        assert_eq!(s.remaining_for(7), Some(4998));
        assert_eq!(s.remaining_for(8), None);
    }
}
