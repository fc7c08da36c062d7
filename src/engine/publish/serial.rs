//! One writer at a time per check run: every write of the run `name` on
//! commit `head_sha` of a repository — from reading what the store or
//! GitHub says the run shows, through the lookup, the create or update, to
//! recording the write — is serialised within this instance (a keyed async
//! lock) and across instances (a lease in the store's `leaders` table, see
//! `store::run_writes`). Without it two pull requests on one head,
//! evaluated at once, each find no run and each create one, and the run
//! nobody records keeps a stale verdict that branch protection may read.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::OwnedMutexGuard;

use crate::events::RepoName;
use crate::github::{ErrorKind, GitHubError};
use crate::store::{Store, check_run_write_task};

/// How long a writer waits for another instance's lease before giving up
/// with an error (the job is retried with its backoff and, after its last
/// try, its check run says the evaluation failed). It never writes
/// without the lease.
pub const LEASE_WAIT: Duration = Duration::from_secs(10);

/// How often a writer renews its lease while its write runs: a third of
/// the lease (`store::CHECK_RUN_WRITE_LEASE`, 30 s), as jobs renew theirs,
/// so that two renewals may fail before the lease can lapse. A write can
/// outlast the lease (one GitHub call may retry for over 40 s).
pub const LEASE_RENEWAL: Duration = Duration::from_secs(10);

/// Pause between two tries of a held lease.
const LEASE_POLL: Duration = Duration::from_millis(25);

/// Distinguishes the instances of one process (tests run several apps).
static INSTANCES: AtomicU64 = AtomicU64::new(0);

/// The keyed locks of this instance and its lease holder name.
pub struct RunWriters {
    /// Task name → its lock; an entry lives only while someone holds or
    /// waits for it (bounded by the writes in flight).
    locks: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
    /// This instance's lease holder: process id, start time in
    /// nanoseconds and a per-process sequence number.
    holder: String,
    /// How long to wait for another holder's lease: [`LEASE_WAIT`].
    wait: Duration,
    /// How often to renew a held lease: [`LEASE_RENEWAL`].
    renewal: Duration,
}

impl Default for RunWriters {
    fn default() -> RunWriters {
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        RunWriters {
            locks: Arc::default(),
            holder: format!(
                "{}-{started}-{}",
                std::process::id(),
                INSTANCES.fetch_add(1, Ordering::Relaxed)
            ),
            wait: LEASE_WAIT,
            renewal: LEASE_RENEWAL,
        }
    }
}

impl RunWriters {
    /// Runs `write` while holding the run's lock and, with a `store`, its
    /// lease, renewed every [`LEASE_RENEWAL`] while `write` runs. Errors:
    /// `write`'s own; a store error taking the lease, or another holder
    /// keeping it past [`LEASE_WAIT`], as a transport error (retried), and
    /// `write` is then not run at all; a renewal that fails (the store
    /// down, or the lease lapsed and another holder took it), as a
    /// transport error, and `write` is stopped where it is (its record is
    /// then unknown or missing, so the next writer asks GitHub: see
    /// `write_unserialised`).
    pub async fn serialised<T>(
        &self,
        store: Option<&Store>,
        repo: &RepoName,
        head_sha: &str,
        name: &str,
        write: impl Future<Output = Result<T, GitHubError>>,
    ) -> Result<T, GitHubError> {
        // The in-process key is the lease's task name: one spelling per run.
        let task = check_run_write_task(repo, head_sha, name);
        let held = self.lock(&task).await;
        let lease = match store {
            Some(store) => Some(self.lease(store, repo, head_sha, name).await?),
            None => None,
        };
        let result = match (store, &lease) {
            (Some(store), Some(_)) => self.renewing(store, repo, head_sha, name, write).await,
            _ => write.await,
        };
        if let Some(lease) = lease {
            lease.resign().await;
        }
        drop(held);
        result
    }

    /// Runs `write`, renewing the lease meanwhile; stops it when a renewal
    /// fails.
    async fn renewing<T>(
        &self,
        store: &Store,
        repo: &RepoName,
        head_sha: &str,
        name: &str,
        write: impl Future<Output = Result<T, GitHubError>>,
    ) -> Result<T, GitHubError> {
        let mut write = std::pin::pin!(write);
        loop {
            tokio::select! {
                biased;
                result = &mut write => return result,
                () = tokio::time::sleep(self.renewal) => {
                    let renewed = store
                        .lease_check_run_write(repo, head_sha, name, &self.holder, chrono::Utc::now())
                        .await;
                    let why = match renewed {
                        Ok(true) => continue,
                        Ok(false) => "another writer took it over".to_string(),
                        Err(e) => format!("the store cannot renew it: {e}"),
                    };
                    tracing::warn!(run = %name, head_sha = %head_sha, "check run write stopped: {why}");
                    return Err(GitHubError::new(
                        ErrorKind::Transport(format!(
                            "lost the lease on writing this check run ({why}); stopped"
                        )),
                        "store: leaders",
                    ));
                }
            }
        }
    }

    async fn lock(&self, task: &str) -> Held {
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
            locks.entry(task.to_string()).or_default().clone()
        };
        Held {
            guard: Some(lock.lock_owned().await),
            task: task.to_string(),
            locks: self.locks.clone(),
        }
    }

    /// Takes the lease, trying again every [`LEASE_POLL`] for at most
    /// [`LEASE_WAIT`].
    async fn lease(
        &self,
        store: &Store,
        repo: &RepoName,
        head_sha: &str,
        name: &str,
    ) -> Result<Lease, GitHubError> {
        let deadline = tokio::time::Instant::now() + self.wait;
        loop {
            match store
                .lease_check_run_write(repo, head_sha, name, &self.holder, chrono::Utc::now())
                .await
            {
                Ok(true) => {
                    return Ok(Lease {
                        store: Some(store.clone()),
                        run: (repo.clone(), head_sha.to_string(), name.to_string()),
                        holder: self.holder.clone(),
                    });
                }
                Ok(false) if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(LEASE_POLL).await;
                }
                Ok(false) => {
                    return Err(GitHubError::new(
                        ErrorKind::Transport(format!(
                            "another instance has been writing this check run for over {} ms; not written",
                            self.wait.as_millis()
                        )),
                        "store: leaders",
                    ));
                }
                Err(e) => {
                    return Err(GitHubError::new(
                        ErrorKind::Transport(format!(
                            "the store cannot lease the check run for writing: {e}"
                        )),
                        "store: leaders",
                    ));
                }
            }
        }
    }
}

/// This instance's lock on one run; dropping it forgets the lock when
/// nobody else holds or waits for it.
struct Held {
    guard: Option<OwnedMutexGuard<()>>,
    task: String,
    locks: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
}

impl Drop for Held {
    fn drop(&mut self) {
        // Under the map's lock: a waiter holds a clone of the entry (so it
        // is kept), and a newcomer finds either the entry or none.
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        self.guard = None;
        if locks
            .get(&self.task)
            .is_some_and(|lock| Arc::strong_count(lock) == 1)
        {
            locks.remove(&self.task);
        }
    }
}

/// A lease taken in the store; given back by [`Lease::resign`], or, when
/// the write was cancelled, by a task spawned on drop (else it expires).
struct Lease {
    store: Option<Store>,
    /// (repository, head sha, check name).
    run: (RepoName, String, String),
    holder: String,
}

impl Lease {
    async fn resign(mut self) {
        let (repo, head_sha, name) = &self.run;
        if let Some(store) = self.store.take()
            && let Err(e) = store
                .release_check_run_write(repo, head_sha, name, &self.holder)
                .await
        {
            // It expires after CHECK_RUN_WRITE_LEASE.
            tracing::warn!(error = %e, run = %name, head_sha = %head_sha, "cannot give back a check run's write lease");
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(store) = self.store.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            let ((repo, head_sha, name), holder) = (self.run.clone(), self.holder.clone());
            runtime.spawn(async move {
                let _ = store
                    .release_check_run_write(&repo, &head_sha, &name, &holder)
                    .await;
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo() -> RepoName {
        RepoName {
            owner: "Acme".into(),
            name: "Shop".into(),
        }
    }

    #[tokio::test]
    async fn writes_of_one_run_never_overlap_and_locks_are_forgotten() {
        let writers = Arc::new(RunWriters::default());
        let inside = Arc::new(AtomicU64::new(0));
        let most = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (writers, inside, most) = (writers.clone(), inside.clone(), most.clone());
            tasks.push(tokio::spawn(async move {
                writers
                    .serialised(None, &repo(), "abc", "hotfix-policy", async {
                        let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        inside.fetch_sub(1, Ordering::SeqCst);
                        Ok::<_, GitHubError>(())
                    })
                    .await
            }));
        }
        for task in tasks {
            task.await.expect("joins").expect("written");
        }
        assert_eq!(most.load(Ordering::SeqCst), 1);
        assert!(writers.locks.lock().expect("lock").is_empty());
    }

    /// Two instances (two sets of writers, two holders) on one store: the
    /// lease keeps their writes of one run apart, and each gives it back.
    #[tokio::test]
    async fn instances_sharing_a_store_take_turns_writing_one_run() {
        let store = crate::store::testing::scratch().await;
        let instances = [
            Arc::new(RunWriters::default()),
            Arc::new(RunWriters::default()),
        ];
        let inside = Arc::new(AtomicU64::new(0));
        let most = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        for n in 0..6 {
            let writers = instances[n % 2].clone();
            let (store, inside, most) = (store.clone(), inside.clone(), most.clone());
            tasks.push(tokio::spawn(async move {
                writers
                    .serialised(Some(&store), &repo(), "abc", "hotfix-policy", async {
                        let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        inside.fetch_sub(1, Ordering::SeqCst);
                        Ok::<_, GitHubError>(())
                    })
                    .await
            }));
        }
        for task in tasks {
            task.await.expect("joins").expect("written");
        }
        assert_eq!(most.load(Ordering::SeqCst), 1);
        // Given back: a third holder takes it at once.
        assert!(
            store
                .lease_check_run_write(&repo(), "abc", "hotfix-policy", "third", chrono::Utc::now())
                .await
                .expect("store")
        );
    }

    /// A write that outlasts a renewal keeps its lease: a probe from
    /// another holder, dated just past where the first lease would have
    /// lapsed, does not take it.
    #[tokio::test]
    async fn a_long_write_renews_its_lease() {
        let store = crate::store::testing::scratch().await;
        let writers = RunWriters {
            renewal: Duration::from_millis(50),
            ..RunWriters::default()
        };
        let started = chrono::Utc::now();
        let probe = writers
            .serialised(Some(&store), &repo(), "abc", "hotfix-policy", async {
                tokio::time::sleep(Duration::from_millis(500)).await;
                let lapsed = started
                    + chrono::TimeDelta::from_std(crate::store::CHECK_RUN_WRITE_LEASE)
                        .expect("fits")
                    + chrono::TimeDelta::milliseconds(200);
                Ok::<_, GitHubError>(
                    store
                        .lease_check_run_write(&repo(), "abc", "hotfix-policy", "probe", lapsed)
                        .await
                        .expect("store"),
                )
            })
            .await
            .expect("written");
        assert!(!probe, "the probe took a lease that was renewed");
    }

    /// The lease lapsed and another holder took it: the write is stopped
    /// before it finishes, and the error says why.
    #[tokio::test]
    async fn a_write_that_loses_its_lease_is_stopped() {
        let store = crate::store::testing::scratch().await;
        let writers = RunWriters {
            renewal: Duration::from_millis(50),
            ..RunWriters::default()
        };
        let finished = AtomicU64::new(0);
        let err = writers
            .serialised(Some(&store), &repo(), "abc", "hotfix-policy", async {
                let later = chrono::Utc::now() + chrono::TimeDelta::seconds(31);
                assert!(
                    store
                        .lease_check_run_write(&repo(), "abc", "hotfix-policy", "other", later)
                        .await
                        .expect("store")
                );
                tokio::time::sleep(Duration::from_millis(500)).await;
                finished.fetch_add(1, Ordering::SeqCst);
                Ok::<_, GitHubError>(())
            })
            .await
            .expect_err("stopped");
        assert_eq!(finished.load(Ordering::SeqCst), 0);
        assert!(
            err.to_string().contains(
                "lost the lease on writing this check run (another writer took it over); stopped"
            ),
            "{err}"
        );
    }

    /// Another instance holds the lease (and keeps it): the write is not
    /// made, and the error says why.
    #[tokio::test]
    async fn a_lease_held_elsewhere_past_the_wait_is_an_error_and_nothing_is_written() {
        let store = crate::store::testing::scratch().await;
        let task = check_run_write_task(&repo(), "abc", "hotfix-policy");
        assert!(
            store
                .try_lead(
                    &task,
                    "elsewhere",
                    chrono::Utc::now(),
                    Duration::from_secs(3600)
                )
                .await
                .expect("store")
        );
        let wrote = AtomicU64::new(0);
        let writers = RunWriters {
            wait: Duration::from_millis(200),
            ..RunWriters::default()
        };
        let err = writers
            .serialised(Some(&store), &repo(), "abc", "hotfix-policy", async {
                wrote.fetch_add(1, Ordering::SeqCst);
                Ok::<_, GitHubError>(())
            })
            .await
            .expect_err("not written without the lease");
        assert_eq!(wrote.load(Ordering::SeqCst), 0);
        assert!(
            err.to_string()
                .contains("another instance has been writing this check run for over 200 ms"),
            "{err}"
        );
    }

    /// One write alone: its lock is forgotten when it ends (killed mutant:
    /// `strong_count == 1` → `!=` in `Held::drop`, which kept the entry of
    /// every lone write and removed only contended ones).
    #[tokio::test]
    async fn a_lone_writes_lock_is_forgotten() {
        let writers = RunWriters::default();
        writers
            .serialised(None, &repo(), "abc", "hotfix-policy", async {
                Ok::<_, GitHubError>(())
            })
            .await
            .expect("written");
        assert!(writers.locks.lock().expect("lock").is_empty());
    }

    /// A write cancelled midway (its evaluation's task dropped) gives its
    /// lease back on drop: another instance writes the run at once, not
    /// after the lease lapses (killed mutant: `Drop for Lease` → `()`).
    #[tokio::test]
    async fn a_cancelled_write_gives_its_lease_back() {
        let store = crate::store::testing::scratch().await;
        let (first, run_repo) = (RunWriters::default(), repo());
        let write = first.serialised(
            Some(&store),
            &run_repo,
            "abc",
            "hotfix-policy",
            std::future::pending::<Result<(), GitHubError>>(),
        );
        let cancelled = tokio::time::timeout(Duration::from_millis(100), write).await;
        assert!(cancelled.is_err(), "the write never ends: cancelled");
        let second = RunWriters {
            wait: Duration::from_secs(2),
            ..RunWriters::default()
        };
        second
            .serialised(Some(&store), &repo(), "abc", "hotfix-policy", async {
                Ok::<_, GitHubError>(())
            })
            .await
            .expect("written once the cancelled write's lease is back");
    }
}
