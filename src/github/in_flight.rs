//! At most a few requests in flight per installation.
//!
//! The engine gathers a pull request's facts with independent calls sent
//! together (`engine::gather`), and up to two evaluations of one
//! installation run at once. GitHub asks integrations to avoid concurrent
//! requests ("Best practices for using the REST API": concurrent requests
//! count toward the secondary rate limits, which answer 403/429 and a
//! `retry-after` that would hold a worker for up to a minute). A small
//! bound per installation keeps the gather's gain (the critical path is the
//! longest chain of dependent calls, not their sum) without a burst: a P0
//! evaluation sends at most about five calls in one step.
//!
//! The permit is held only while one attempt is on the wire: never while
//! minting a token (its own request, as the app, not limited here), nor
//! during a backoff or a rate-limit wait, so a call that waits does not
//! keep another from going out.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Requests one installation (or a personal token) may have in flight at
/// once, unless set otherwise with [`InFlight::set_limit`].
pub const PER_INSTALLATION: usize = 4;

/// An installation unheard of for this long loses its lane; it gets a new
/// one on its next request (no request lasts nearly this long: each attempt
/// is cut at `HttpOptions::request_timeout`).
const IDLE: Duration = Duration::from_secs(30 * 60);

/// One semaphore per lane, made on first use. `http` keys lanes by whose
/// rate limit a request counts against (an installation, or a personal
/// token), and does not limit the app's own JWT calls (`/app/*`).
pub(crate) struct InFlight<K> {
    limit: AtomicUsize,
    lanes: moka::sync::Cache<K, Arc<Semaphore>>,
}

impl<K> InFlight<K>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
{
    pub(crate) fn new(limit: usize) -> InFlight<K> {
        InFlight {
            limit: AtomicUsize::new(limit.max(1)),
            lanes: moka::sync::Cache::builder().time_to_idle(IDLE).build(),
        }
    }

    /// From now on at most `limit` (at least 1) requests of one scope in
    /// flight. Lanes are made anew: requests already in flight finish
    /// under the old bound.
    pub(crate) fn set_limit(&self, limit: usize) {
        self.limit.store(limit.max(1), Ordering::Relaxed);
        self.lanes.invalidate_all();
    }

    /// Waits for a slot in `lane`; `None` (not limited) goes at once. The
    /// slot is freed when the permit is dropped.
    pub(crate) async fn acquire(&self, lane: Option<K>) -> Option<OwnedSemaphorePermit> {
        let lane = self.lanes.get_with(lane?, || {
            Arc::new(Semaphore::new(self.limit.load(Ordering::Relaxed)))
        });
        // The semaphore is never closed, so acquiring cannot fail.
        lane.acquire_owned().await.ok()
    }
}

impl<K> Default for InFlight<K>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
{
    fn default() -> InFlight<K> {
        InFlight::new(PER_INSTALLATION)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_installation_has_at_most_its_limit_in_flight_and_others_are_not_held_up() {
        let in_flight = InFlight::new(2);
        let one = Some(1_u64);
        let a = in_flight.acquire(one).await;
        let b = in_flight.acquire(one).await;
        assert!(a.is_some() && b.is_some());
        let third = tokio::time::timeout(Duration::from_millis(50), in_flight.acquire(one)).await;
        assert!(third.is_err(), "a third request of installation 1 waits");
        // Another lane, and what is not limited, go out meanwhile.
        let other =
            tokio::time::timeout(Duration::from_millis(50), in_flight.acquire(Some(2))).await;
        assert!(other.is_ok_and(|p| p.is_some()));
        let unlimited = in_flight.acquire(None).await;
        assert!(unlimited.is_none());
        drop(a);
        let third = tokio::time::timeout(Duration::from_millis(50), in_flight.acquire(one)).await;
        assert!(third.is_ok(), "a slot freed lets the next one go");
    }

    #[tokio::test]
    async fn a_new_limit_applies_to_the_requests_that_start_after_it() {
        let in_flight = InFlight::new(4);
        in_flight.set_limit(1);
        let one = Some(1_u64);
        let _a = in_flight.acquire(one).await;
        let second = tokio::time::timeout(Duration::from_millis(50), in_flight.acquire(one)).await;
        assert!(second.is_err());
        in_flight.set_limit(0);
        assert_eq!(in_flight.limit.load(Ordering::Relaxed), 1, "never zero");
    }
}
