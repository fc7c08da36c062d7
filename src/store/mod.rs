//! The durable store: the work queue and the app's own progress, in SQLite
//! (one machine, the default) or PostgreSQL (several machines).
//!
//! What lives here is what the app must not forget across a crash, a
//! restart or a second instance: deliveries accepted but not yet evaluated
//! (`jobs`), delivery ids already acted on, when each head commit was first
//! received, merged hotfixes waiting for `develop`, deadlines and the
//! escalation levels posted, how often each repository's policy changed,
//! and the ids of the check runs and comments the app wrote. GitHub stays
//! the source of truth for everything it holds: a lost store costs API
//! calls (lookups by marker, a rediscovery), never a duplicate or a wrong
//! verdict.
//!
//! One SQL text serves both backends through sqlx's `Any` driver with
//! runtime-checked queries, so a build never needs a database; the schema
//! is in `migrations/`, embedded and applied at start. Times are stored as
//! milliseconds since the Unix epoch (UTC), read from the caller's clock:
//! instances sharing a PostgreSQL must have synchronised clocks (leases
//! are compared across them).

mod claims;
mod commits;
mod escalations;
mod intake;
mod jobs;
mod notices;
mod policy_generations;
mod published;
mod run_writes;
mod sqlite;
mod state;
mod unjudged;
mod verdicts;

use std::str::FromStr as _;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor as _};

pub use escalations::EscalationLevels;
pub use intake::{HeadReceipt, Intake};
pub use jobs::{Accepted, Claimed, JobStats};
pub use notices::{ClaimedNotice, KnownTarget, NewNotice, NoticeBacklog, NoticeStats};
pub use policy_generations::PolicyGeneration;
pub use published::PublishedCheck;
pub use run_writes::{CHECK_RUN_WRITE_LEASE, check_run_write_task};
pub use sqlite::Synchronous;
pub use state::EvaluationSpan;
pub use unjudged::Unjudged;
pub use verdicts::UNEVALUATED;

/// The default `DATABASE_URL`: a SQLite file in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://hotfix-guard.db";

/// Which database the store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A store operation failed: the database is unreachable, full, or its
/// schema is not ours. Callers answer 503 (intake) or retry later (workers).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("DATABASE_URL must start with sqlite:// or postgres:// (or postgresql://), not `{0}`")]
    BadUrl(String),
    #[error("the store's schema could not be brought up to date: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("the store failed: {0}")]
    Database(#[from] sqlx::Error),
    /// A setting in `DATABASE_URL` the app reads itself is not valid.
    #[error("the store's setting is not valid: {0}")]
    BadSetting(String),
    #[error("the store holds a record this version cannot read: {0}")]
    Corrupt(String),
    /// The task that commits intake batches is gone (the runtime is
    /// shutting down): the delivery was not committed.
    #[error("the store's intake writer has stopped; the delivery was not stored")]
    WriterStopped,
}

/// The store: a pool of connections to one database. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    fresh: bool,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

/// Checks a `DATABASE_URL` without connecting: which backend it names.
pub fn backend_of(url: &str) -> Result<Backend, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(Backend::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Backend::Postgres)
    } else {
        Err(StoreError::BadUrl(redact(url)))
    }
}

/// The URL without a password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://…@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

impl Store {
    /// Connects to `url` (`sqlite://PATH`, created if missing, in WAL mode
    /// with a 5 s busy timeout; or `postgres://…`) and applies the embedded
    /// migrations. Errors: a URL of another scheme, an unreachable
    /// database, a schema migrated by a newer version.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        let backend = backend_of(url)?;
        sqlx::any::install_default_drivers();
        let (url, synchronous) = match backend {
            Backend::Sqlite => sqlite::take_synchronous(url)?,
            Backend::Postgres => (url.to_string(), Synchronous::Normal),
        };
        let url = match backend {
            // Created on first start.
            Backend::Sqlite if !url.contains("mode=") && !url.contains(":memory:") => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}mode=rwc")
            }
            _ => url,
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                // SQLite has one writer; a second connection of this process
                // wanting to write meanwhile waits in SQLite's busy handler,
                // which sleeps 1, 2, 5, 10 … ms between tries: dead time for
                // the intake writer and a tail on every answer. One
                // connection makes the process's statements queue in the
                // pool instead, in order, each waiting only for the ones
                // before it (they take microseconds). Nothing holds a
                // connection while it acquires another (intake's
                // transaction runs all its statements on its own), so one
                // cannot deadlock. The busy timeout still covers another
                // process on the same file.
                Backend::Sqlite => 1,
                Backend::Postgres => 8,
            })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL: readers never block the writer. NORMAL (the
                        // default): a commit survives the process being
                        // killed (the WAL is in the OS's hands); only an OS
                        // crash or power loss may drop the last commits;
                        // `synchronous=full` in the URL syncs every commit.
                        // busy_timeout waits for the one writer instead of
                        // failing at once. Checkpoints run in a task of their
                        // own (`sqlite`); a commit checkpoints only past
                        // `AUTO_PAGES`.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute(synchronous.pragma()).await?;
                        conn.execute("PRAGMA busy_timeout = 5000").await?;
                        conn.execute(
                            format!("PRAGMA wal_autocheckpoint = {}", sqlite::AUTO_PAGES).as_str(),
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options.clone())
            .await?;
        // No migration table yet: a new store (first start, or the old one
        // lost), which knows nothing of open hotfixes.
        let fresh = sqlx::query("SELECT count(*) AS n FROM _sqlx_migrations")
            .fetch_one(&pool)
            .await
            .is_err();
        migrate(&pool, backend).await?;
        if backend == Backend::Sqlite && !url.contains(":memory:") {
            sqlite::spawn_checkpoints(options, pool.clone());
        }
        Ok(Store {
            pool,
            backend,
            fresh,
        })
    }

    /// True when this connection created the store's schema: a first
    /// start, or a store that was lost. What the store remembered must then
    /// be found again on GitHub (open hotfixes and their deadlines).
    pub fn is_fresh(&self) -> bool {
        self.fresh
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes the pool (waits for connections in use to come back).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Applies the embedded migrations. PostgreSQL serialises concurrent
/// migrators with an advisory lock; SQLite has none, so when two processes
/// start on a new file at once the loser's attempt fails: it tries again
/// (a few times, 250 ms apart) and then finds the schema in place.
async fn migrate(pool: &AnyPool, backend: Backend) -> Result<(), StoreError> {
    let migrator = sqlx::migrate!("./migrations");
    let mut tries = 0;
    loop {
        match migrator.run(pool).await {
            Ok(()) => return Ok(()),
            Err(e) if backend == Backend::Sqlite && tries < 8 => {
                tries += 1;
                tracing::info!(error = %e, "store schema busy; trying again");
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Milliseconds since the Unix epoch.
pub(crate) fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// The inverse of `ms`; out-of-range values (a corrupt row) read as the epoch.
pub(crate) fn from_ms(v: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(v).unwrap_or_default()
}

pub(crate) fn dur_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// GitHub's ids and numbers are u64 but never near i64::MAX; a larger one
/// would be corrupt input, stored saturated rather than wrapped.
pub(crate) fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

pub(crate) fn uint(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

#[cfg(test)]
pub(crate) mod testing;

#[cfg(test)]
mod tests;
