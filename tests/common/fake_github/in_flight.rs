//! How many requests the fake was answering at once: the app's bound on
//! requests in flight per installation (`github::in_flight`), seen from
//! GitHub's side. A request counts from its arrival (before any injected
//! delay) until its answer is ready.

use std::sync::Arc;

use super::server::Inner;

/// Requests being answered now, and the most ever at once.
#[derive(Debug, Default, Clone, Copy)]
pub struct InFlightCount {
    pub now: usize,
    pub most: usize,
}

/// A request arrived; it counts until the guard is dropped (its answer is
/// ready, or the client gave up and the request was dropped).
pub(super) fn enter(inner: &Arc<Inner>) -> Answering {
    let mut state = inner.lock();
    let count = &mut state.in_flight;
    count.now += 1;
    count.most = count.most.max(count.now);
    Answering(inner.clone())
}

pub(super) struct Answering(Arc<Inner>);

impl Drop for Answering {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.in_flight.now = state.in_flight.now.saturating_sub(1);
    }
}

impl super::FakeGitHub {
    /// The most requests the fake was answering at once since it started
    /// (or since `reset_most_in_flight`).
    pub fn most_in_flight(&self) -> usize {
        self.with(|s| s.in_flight.most)
    }

    pub fn reset_most_in_flight(&self) {
        self.with(|s| s.in_flight.most = s.in_flight.now);
    }
}
