//! The bounded work queue between the webhook handler and the workers.
//!
//! Keyed by pull request: a delivery for a pull request that is already
//! waiting is folded into the waiting job (`Job::absorb`), and one for a pull
//! request being evaluated right now is parked until that evaluation ends and
//! then runs once more, so a pull request is never evaluated by two workers
//! at once and a burst of deliveries costs at most two evaluations, the last
//! of which sees the final state.
//!
//! A job waits `debounce` after its first delivery before a worker may take
//! it: GitHub sends several deliveries for one action (a push brings
//! `synchronize`, check suites, reviews dismissed ...) and a burst within the
//! window becomes one evaluation even when GitHub answers faster than the
//! deliveries arrive.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use tokio::sync::Notify;

use crate::events::{Job, PrKey};

/// What happened to a pushed job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    /// A new entry in the queue.
    Queued,
    /// Folded into a job already waiting for the same pull request.
    Coalesced,
}

/// The queue holds `capacity` pull requests already, or is shutting down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("the work queue is full")]
    Full,
    #[error("the app is shutting down")]
    Closed,
}

#[derive(Default)]
struct Inner {
    /// Waiting jobs, one per pull request, with the time a worker may take
    /// them, in `order` (first delivery first; with a constant debounce the
    /// times never decrease along it).
    pending: HashMap<PrKey, (Job, Instant)>,
    order: VecDeque<PrKey>,
    /// Pull requests a worker is evaluating now.
    running: HashSet<PrKey>,
    /// Jobs that arrived while their pull request was running, with the
    /// time the first of them arrived.
    parked: HashMap<PrKey, (Job, Instant)>,
    closed: bool,
}

pub struct WorkQueue {
    inner: Mutex<Inner>,
    ready: Notify,
    capacity: usize,
    debounce: Duration,
}

impl WorkQueue {
    /// A queue whose jobs are ready at once.
    pub fn new(capacity: usize) -> WorkQueue {
        WorkQueue::with_debounce(capacity, Duration::ZERO)
    }

    pub fn with_debounce(capacity: usize, debounce: Duration) -> WorkQueue {
        WorkQueue {
            inner: Mutex::new(Inner::default()),
            ready: Notify::new(),
            capacity: capacity.max(1),
            debounce,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A worker that panicked while holding the lock left consistent data
        // (every mutation is a single map/set operation), so keep going.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn push(&self, job: Job) -> Result<Pushed, Refused> {
        let mut q = self.lock();
        if q.closed {
            return Err(Refused::Closed);
        }
        if let Some((waiting, _)) = q.pending.get_mut(&job.key) {
            waiting.absorb(job);
            return Ok(Pushed::Coalesced);
        }
        if q.running.contains(&job.key) {
            if let Some((parked, _)) = q.parked.get_mut(&job.key) {
                parked.absorb(job);
                return Ok(Pushed::Coalesced);
            }
            if q.pending.len() + q.parked.len() >= self.capacity {
                return Err(Refused::Full);
            }
            q.parked.insert(job.key.clone(), (job, Instant::now()));
            return Ok(Pushed::Queued);
        }
        if q.pending.len() + q.parked.len() >= self.capacity {
            return Err(Refused::Full);
        }
        q.order.push_back(job.key.clone());
        let ready_at = Instant::now() + self.debounce;
        q.pending.insert(job.key.clone(), (job, ready_at));
        drop(q);
        self.ready.notify_one();
        Ok(Pushed::Queued)
    }

    /// The next job; its pull request counts as running until `done`.
    /// `None` once the queue is closed and drained.
    pub async fn next(&self) -> Option<Job> {
        loop {
            let notified = self.ready.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let wait_until = {
                let mut q = self.lock();
                // Keys whose job was taken already are skipped.
                while q.order.front().is_some_and(|k| !q.pending.contains_key(k)) {
                    q.order.pop_front();
                }
                let front = q
                    .order
                    .front()
                    .and_then(|k| q.pending.get(k).map(|(_, at)| *at));
                match front {
                    // Closing: no more waiting for bursts, drain now.
                    Some(at) if at <= Instant::now() || q.closed => {
                        let key = q.order.pop_front();
                        if let Some((job, _)) = key.and_then(|k| q.pending.remove(&k)) {
                            q.running.insert(job.key.clone());
                            let more = !q.order.is_empty();
                            drop(q);
                            if more {
                                // Wake another worker for the rest.
                                self.ready.notify_one();
                            }
                            return Some(job);
                        }
                        continue;
                    }
                    Some(at) => Some(at),
                    None if q.closed && q.parked.is_empty() && q.running.is_empty() => {
                        return None;
                    }
                    None => None,
                }
            };
            match wait_until {
                Some(at) => {
                    tokio::select! {
                        () = &mut notified => {}
                        () = tokio::time::sleep_until(at) => {}
                    }
                }
                None => notified.await,
            }
        }
    }

    /// The evaluation of `key` ended; a job parked meanwhile becomes ready.
    pub fn done(&self, key: &PrKey) {
        let mut q = self.lock();
        q.running.remove(key);
        let woke = if let Some((job, first)) = q.parked.remove(key) {
            q.order.push_back(key.clone());
            // It has waited since its first delivery already.
            q.pending.insert(key.clone(), (job, first + self.debounce));
            true
        } else {
            false
        };
        let drained = q.closed && q.pending.is_empty() && q.running.is_empty();
        drop(q);
        if drained {
            self.ready.notify_waiters();
        } else if woke {
            self.ready.notify_one();
        }
    }

    /// Stops accepting work; workers drain what is queued, then `next`
    /// answers `None`.
    pub fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_waiters();
    }

    /// Pull requests waiting (not counting those being evaluated).
    pub fn depth(&self) -> usize {
        let q = self.lock();
        q.pending.len() + q.parked.len()
    }

    /// Pull requests waiting or being evaluated.
    pub fn in_flight(&self) -> usize {
        let q = self.lock();
        q.pending.len() + q.parked.len() + q.running.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{RepoName, Trigger};

    fn job(number: u64, trigger: Trigger) -> Job {
        Job {
            key: PrKey {
                installation: 1,
                repo: RepoName {
                    owner: "octo".into(),
                    name: "app".into(),
                },
                number,
            },
            pull: None,
            trigger,
            deliveries: vec![],
        }
    }

    fn comment(body: &str) -> Trigger {
        Trigger::Comment { body: body.into() }
    }

    #[tokio::test]
    async fn a_burst_for_one_pull_request_collapses_into_one_job() {
        let q = WorkQueue::new(10);
        assert_eq!(q.push(job(1, comment("a"))), Ok(Pushed::Queued));
        for _ in 0..99 {
            assert_eq!(q.push(job(1, comment("a"))), Ok(Pushed::Coalesced));
        }
        assert_eq!(q.depth(), 1);
        let first = q.next().await.expect("a job");
        assert_eq!(first.trigger, comment("a"));
        q.done(&first.key);
        assert_eq!(q.depth(), 0);
    }

    #[tokio::test]
    async fn different_comments_coalesce_into_a_full_evaluation() {
        let q = WorkQueue::new(10);
        q.push(job(1, comment("a"))).expect("queued");
        q.push(job(1, comment("b"))).expect("coalesced");
        assert_eq!(q.next().await.expect("a job").trigger, Trigger::Full);
    }

    #[tokio::test]
    async fn a_running_pull_request_is_not_handed_out_twice() {
        let q = WorkQueue::new(10);
        q.push(job(1, Trigger::Full)).expect("queued");
        let running = q.next().await.expect("a job");
        // Deliveries while it runs are parked, not handed to a second worker.
        q.push(job(1, Trigger::Full)).expect("parked");
        q.push(job(1, Trigger::Full))
            .expect("coalesced into the parked job");
        q.push(job(2, Trigger::Full)).expect("queued");
        let other = q.next().await.expect("a job");
        assert_eq!(other.key.number, 2, "pull request 1 is still running");
        q.done(&other.key);
        assert_eq!(q.depth(), 1, "one parked job for pull request 1");
        q.done(&running.key);
        let again = q.next().await.expect("the parked job");
        assert_eq!(again.key.number, 1);
        q.done(&again.key);
        assert_eq!(q.in_flight(), 0);
    }

    #[tokio::test]
    async fn a_full_queue_refuses_new_pull_requests_but_still_coalesces() {
        let q = WorkQueue::new(2);
        q.push(job(1, Trigger::Full)).expect("queued");
        q.push(job(2, Trigger::Full)).expect("queued");
        assert_eq!(q.push(job(3, Trigger::Full)), Err(Refused::Full));
        assert_eq!(q.push(job(2, Trigger::Full)), Ok(Pushed::Coalesced));
    }

    #[tokio::test]
    async fn closing_drains_then_ends_every_worker() {
        let q = std::sync::Arc::new(WorkQueue::new(10));
        q.push(job(1, Trigger::Full)).expect("queued");
        q.close();
        assert_eq!(q.push(job(2, Trigger::Full)), Err(Refused::Closed));
        let drained = q.next().await.expect("queued work is still handed out");
        // Another worker waits while pull request 1 runs ...
        let waiter = {
            let q = q.clone();
            tokio::spawn(async move { q.next().await })
        };
        tokio::task::yield_now().await;
        // ... and ends once it is done.
        q.done(&drained.key);
        assert!(q.next().await.is_none());
        assert!(waiter.await.expect("joined").is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn deliveries_within_the_debounce_window_become_one_evaluation() {
        let q = std::sync::Arc::new(WorkQueue::with_debounce(10, Duration::from_millis(300)));
        let worker = {
            let q = q.clone();
            tokio::spawn(async move { q.next().await })
        };
        // 100 deliveries, one a millisecond (GitHub answering instantly
        // would otherwise let each run on its own).
        for _ in 0..100 {
            q.push(job(1, Trigger::Full)).expect("queued");
            tokio::time::advance(Duration::from_millis(1)).await;
        }
        assert!(!worker.is_finished(), "still inside the window");
        tokio::time::advance(Duration::from_millis(250)).await;
        let taken = worker.await.expect("joined").expect("one job");
        assert_eq!(taken.key.number, 1);
        assert_eq!(q.depth(), 0, "the burst became that one job");
    }

    #[tokio::test(start_paused = true)]
    async fn closing_drains_without_waiting_for_the_window() {
        let q = WorkQueue::with_debounce(10, Duration::from_secs(3600));
        q.push(job(1, Trigger::Full)).expect("queued");
        q.close();
        let started = Instant::now();
        assert!(q.next().await.is_some());
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[tokio::test]
    async fn a_waiting_worker_wakes_on_push() {
        let q = std::sync::Arc::new(WorkQueue::new(10));
        let waiter = {
            let q = q.clone();
            tokio::spawn(async move { q.next().await.map(|j| j.key.number) })
        };
        tokio::task::yield_now().await;
        q.push(job(7, Trigger::Full)).expect("queued");
        assert_eq!(waiter.await.expect("joined"), Some(7));
    }
}
