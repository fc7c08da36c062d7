//! The work queue between the webhook handler and the workers, kept in the
//! store (`store::jobs`) so that nothing answered 202 is lost to a crash,
//! a restart or a shutdown.
//!
//! Keyed by pull request: a delivery for a pull request that is already
//! waiting is folded into the waiting job, and one for a pull request being
//! evaluated makes it run once more afterwards, so a pull request is never
//! evaluated by two workers (of any instance) at once and a burst costs at
//! most two evaluations, the last of which sees the final state.
//!
//! A job waits `debounce` after its first delivery before a worker may take
//! it: GitHub sends several deliveries for one action (a push brings
//! `synchronize`, check suites, reviews dismissed ...) and a burst within the
//! window becomes one evaluation even when GitHub answers faster than the
//! deliveries arrive.
//!
//! Intake is group-committed: one writer task per instance takes every
//! delivery that arrived while its previous commit ran (up to
//! `MAX_BATCH`) and commits them in one transaction (`Store::accept_batch`);
//! each webhook handler waits for its own delivery's outcome, which is sent
//! only after that commit. The batching window is thus the previous
//! commit's duration: no timer, no added wait when deliveries are rare.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{Notify, mpsc, oneshot};

use crate::events::Job;
use crate::store::{Accepted, Claimed, HeadReceipt, Intake, JobStats, Store, StoreError};

/// How often an idle worker looks at the store even without a wake-up from
/// this instance's intake (jobs accepted by another instance, leases that
/// expired).
const POLL: Duration = Duration::from_millis(500);

/// Most deliveries committed in one intake transaction: enough for every
/// connection a burst opens (64 in the benchmark) several times over, small
/// enough that one batch's transaction stays short (about a millisecond
/// per hundred deliveries on SQLite).
const MAX_BATCH: usize = 256;

/// Deliveries waiting for the writer beyond one batch; a handler past this
/// waits to hand its delivery over (back-pressure, not a refusal).
const INTAKE_BACKLOG: usize = 1024;

/// A delivery handed to the intake writer, with the way back to its
/// webhook handler.
struct Pending {
    delivery: Option<String>,
    jobs: Vec<Job>,
    heads: Vec<HeadReceipt>,
    received: DateTime<Utc>,
    answer: oneshot::Sender<Result<Accepted, StoreError>>,
}

/// Why a delivery was not taken.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("the work queue is full")]
    Full,
    #[error("the app is shutting down")]
    Closed,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Timing of the durable queue.
#[derive(Debug, Clone, Copy)]
pub struct QueueTiming {
    /// A job's first delivery waits this long for the rest of its burst.
    pub debounce: Duration,
    /// A claimed job is another worker's to take if its worker has not
    /// renewed the lease for this long (the worker renews it every third).
    pub lease: Duration,
    /// Pull requests that may wait at once; a delivery for one more is
    /// refused (503).
    pub capacity: u64,
}

/// The durable queue of one instance: the store, and the wake-ups and
/// counters of this instance's workers.
pub struct WorkQueue {
    store: Store,
    timing: QueueTiming,
    /// This process's id, the prefix of its workers' lease ids: a
    /// host-unique value (pid and start time), so two instances never share
    /// one.
    instance: String,
    /// Wakes idle workers: once per committed intake batch that queued
    /// work (not once per delivery: a burst would wake every worker for
    /// each of its deliveries), and when a job ends.
    wake: Arc<Notify>,
    closed: AtomicBool,
    /// Jobs this instance's workers hold now.
    running: AtomicUsize,
    /// Claims that took over an expired lease (a worker that died).
    lease_expiries: AtomicU64,
    /// The latest figures read from the store, for `/metrics`.
    stats: Mutex<JobStats>,
    /// To the intake writer (group commit).
    intake: mpsc::Sender<Pending>,
    /// The writer's end until the first delivery starts it (a queue may be
    /// built outside a runtime; the writer needs one).
    intake_rx: Mutex<Option<mpsc::Receiver<Pending>>>,
    writer_started: Once,
}

impl WorkQueue {
    pub fn new(store: Store, timing: QueueTiming) -> WorkQueue {
        let started = Utc::now().timestamp_micros();
        let (intake, intake_rx) = mpsc::channel(INTAKE_BACKLOG);
        WorkQueue {
            store,
            timing,
            instance: format!("{}-{started}", std::process::id()),
            wake: Arc::new(Notify::new()),
            closed: AtomicBool::new(false),
            running: AtomicUsize::new(0),
            lease_expiries: AtomicU64::new(0),
            stats: Mutex::new(JobStats::default()),
            intake,
            intake_rx: Mutex::new(Some(intake_rx)),
            writer_started: Once::new(),
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// This instance's id (the prefix of its workers' lease ids).
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// The lease id of worker `n` of this instance.
    pub fn worker_id(&self, n: usize) -> String {
        format!("{}/{n}", self.instance)
    }

    pub fn timing(&self) -> QueueTiming {
        self.timing
    }

    /// Commits a delivery's jobs (and the head commits it reports) to the
    /// store; only then may the caller answer 202. A duplicate delivery id
    /// writes nothing. Refused while shutting down, or when the store fails
    /// (answer 503: GitHub marks the delivery failed and recovery
    /// redelivers it).
    pub async fn accept(
        &self,
        delivery: Option<&str>,
        jobs: &[Job],
        heads: &[HeadReceipt],
    ) -> Result<Accepted, Refused> {
        if self.is_closed() {
            return Err(Refused::Closed);
        }
        self.start_writer();
        let (answer, outcome) = oneshot::channel();
        let pending = Pending {
            delivery: delivery.map(str::to_string),
            jobs: jobs.to_vec(),
            heads: heads.to_vec(),
            received: Utc::now(),
            answer,
        };
        if self.intake.send(pending).await.is_err() {
            return Err(StoreError::WriterStopped.into());
        }
        // The writer answers only after the batch holding this delivery
        // is committed (or failed); a writer that died answers nothing.
        let accepted = outcome.await.map_err(|_| StoreError::WriterStopped)??;
        if accepted == Accepted::Full {
            return Err(Refused::Full);
        }
        Ok(accepted)
    }

    /// Starts the intake writer on the current runtime, once.
    fn start_writer(&self) {
        self.writer_started.call_once(|| {
            let receiver = self
                .intake_rx
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take();
            if let Some(receiver) = receiver {
                tokio::spawn(write_intake(
                    self.store.clone(),
                    self.timing,
                    self.wake.clone(),
                    receiver,
                ));
            }
        });
    }

    /// The next job for worker `worker`, waiting for one to be ready; its
    /// pull request is leased to the worker until `done`, `failed` or
    /// `release`. `None` once the queue is closed (jobs left in the store
    /// wait for the next start or another instance).
    pub async fn next(&self, worker: &str) -> Option<Claimed> {
        loop {
            if self.is_closed() {
                return None;
            }
            let notified = self.wake.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let now = Utc::now();
            let wait = match self.store.claim(worker, now, self.timing.lease).await {
                Ok(Some(claimed)) => {
                    if self.is_closed() {
                        // Closed while claiming: give it back at once.
                        let _ = self.store.release(&claimed).await;
                        return None;
                    }
                    self.running.fetch_add(1, Ordering::SeqCst);
                    if claimed.taken_over {
                        self.lease_expiries.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(
                            repository = %claimed.job.key.repo,
                            pr = claimed.job.key.number,
                            "took over a job whose worker's lease expired"
                        );
                    }
                    return Some(claimed);
                }
                Ok(None) => match self.store.next_ready(now).await {
                    Ok(Some(at)) => at.clamp(Duration::from_millis(1), POLL),
                    Ok(None) => POLL,
                    Err(e) => {
                        tracing::warn!(error = %e, "store unavailable; workers wait");
                        POLL
                    }
                },
                Err(e) => {
                    tracing::warn!(error = %e, "cannot claim a job; workers wait");
                    POLL
                }
            };
            tokio::select! {
                () = notified => {},
                () = tokio::time::sleep(wait) => {},
            }
        }
    }

    /// Keeps `claimed` leased while its evaluation runs: renews the lease
    /// every third of it until the returned task is aborted.
    pub fn keep_leased(&self, claimed: &Claimed) -> tokio::task::JoinHandle<()> {
        let store = self.store.clone();
        let claimed = claimed.clone();
        let lease = self.timing.lease;
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(lease / 3).await;
                match store.extend(&claimed, Utc::now(), lease).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(pr = claimed.job.key.number, "lease lost");
                        return;
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot renew a lease"),
                }
            }
        })
    }

    /// The evaluation's writes succeeded: the job leaves the store (or runs
    /// once more if a delivery arrived meanwhile).
    ///
    /// The `/metrics` figures are not read here: the app refreshes them
    /// every second, and reading them per job (a count and a minimum over
    /// every waiting job) cost the store's one SQLite connection, which
    /// intake waits for, a scan per evaluation in a burst.
    pub async fn done(&self, claimed: &Claimed) {
        if let Err(e) = self.store.complete(claimed).await {
            // The lease expires and the job runs again: an upsert repeated.
            tracing::warn!(error = %e, "cannot mark a job done; it will run again");
        }
        self.finished();
    }

    /// The evaluation failed: try again after `backoff`.
    pub async fn failed(&self, claimed: &Claimed, backoff: Duration) {
        if let Err(e) = self.store.retry(claimed, Utc::now(), backoff).await {
            tracing::warn!(error = %e, "cannot schedule a retry; the lease expiry will");
        }
        self.finished();
    }

    fn finished(&self) {
        self.running.fetch_sub(1, Ordering::SeqCst);
        // Another job of the same pull request may have become ready.
        self.wake.notify_waiters();
    }

    /// Stops accepting deliveries and handing out jobs; evaluations under
    /// way go on.
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.wake.notify_waiters();
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// Gives back every job this instance's workers hold (end of the
    /// shutdown grace): the next start, or another instance, takes them
    /// at once instead of after their lease.
    pub async fn release_all(&self) -> u64 {
        match self.store.release_all(&format!("{}/", self.instance)).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "cannot release leases; they expire instead");
                0
            }
        }
    }

    /// Jobs this instance's workers hold now.
    pub fn running(&self) -> usize {
        self.running.load(Ordering::SeqCst)
    }

    /// Jobs in the store (all instances), waiting or being evaluated.
    pub async fn in_flight(&self) -> Result<u64, StoreError> {
        Ok(self.store.job_stats(Utc::now()).await?.pending)
    }

    /// Reads the queue's figures from the store for `/metrics`.
    pub async fn refresh_stats(&self) {
        match self.store.job_stats(Utc::now()).await {
            Ok(stats) => *self.stats.lock().unwrap_or_else(|p| p.into_inner()) = stats,
            Err(e) => tracing::debug!(error = %e, "cannot read queue figures"),
        }
    }

    /// The figures last read by `refresh_stats`, and the lease expiries
    /// this instance saw.
    pub fn stats(&self) -> (JobStats, u64) {
        (
            *self.stats.lock().unwrap_or_else(|p| p.into_inner()),
            self.lease_expiries.load(Ordering::Relaxed),
        )
    }
}

/// The intake writer: commits the deliveries waiting for it in one
/// transaction, then answers each. Ends when the queue is dropped.
async fn write_intake(
    store: Store,
    timing: QueueTiming,
    wake: Arc<Notify>,
    mut receiver: mpsc::Receiver<Pending>,
) {
    let mut batch: Vec<Pending> = Vec::with_capacity(MAX_BATCH);
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let items: Vec<Intake<'_>> = batch
            .iter()
            .map(|p| Intake {
                delivery: p.delivery.as_deref(),
                jobs: &p.jobs,
                heads: &p.heads,
                received: p.received,
            })
            .collect();
        let outcomes = store
            .accept_batch(&items, timing.debounce, timing.capacity)
            .await;
        drop(items);
        let queued = batch
            .iter()
            .zip(&outcomes)
            .any(|(p, o)| !p.jobs.is_empty() && matches!(o, Ok(Accepted::Queued)));
        for (pending, outcome) in batch.drain(..).zip(outcomes) {
            // A handler that went away (client hung up) needs no answer;
            // its delivery is committed all the same.
            let _ = pending.answer.send(outcome);
        }
        if queued {
            wake.notify_waiters();
        }
    }
}
