//! Group commit for intake: the deliveries that arrived while the previous
//! commit ran are committed together, in one transaction, and each is told
//! its own outcome only after that commit.
//!
//! One commit per delivery made intake as slow as the database's commit
//! (SQLite's single writer, PostgreSQL's WAL flush and round trips); one
//! commit per batch pays that once for every delivery in it. Each delivery
//! in a batch keeps the semantics it had alone: a repeated delivery id
//! writes nothing (also when the first one is earlier in the same batch), a
//! new pull request beyond the capacity writes nothing, and a delivery's
//! jobs and head commits are written with the time it was received.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::Row as _;

use super::jobs::{Accepted, trigger_text};
use super::{Backend, Store, StoreError, dur_ms, int, ms, uint};
use crate::events::{Job, RepoName, Trigger};

/// Bound on the stored delivery list, in characters (GUIDs are 36).
const DELIVERIES_CHARS: i64 = 8 * 37;

/// A head commit a `pull_request` delivery reports as new to its pull
/// request: `(repository, pull request number, head sha)`.
pub type HeadReceipt = (RepoName, u64, String);

/// Records the receipt of a pull request's head ($1 owner, $2 name, $3
/// number, $4 sha, $5 received ms). The latest receipt wins, not the
/// first: a head pushed away and pushed back after approvals must not keep
/// its old time, and a late delivery of an older push must not replace a
/// newer one (when it names another head, the record no longer matches
/// the pull request's current head and comment approvals are stale).
pub(super) const PULL_HEAD_UPSERT: &str = " ON CONFLICT (owner, name, number) DO UPDATE \
     SET sha = excluded.sha, received = excluded.received \
     WHERE pull_heads.received <= excluded.received";

const PULL_HEAD_UPSERT_ONE: &str = "INSERT INTO pull_heads (owner, name, number, sha, received) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (owner, name, number) DO UPDATE \
     SET sha = excluded.sha, received = excluded.received \
     WHERE pull_heads.received <= excluded.received";

/// One delivery's intake, as `Store::accept` takes it.
#[derive(Debug, Clone, Copy)]
pub struct Intake<'a> {
    /// `X-GitHub-Delivery`; `None` for work the app queues itself (no
    /// de-duplication).
    pub delivery: Option<&'a str>,
    /// The pull requests to evaluate (upserted, folded into a waiting job).
    pub jobs: &'a [Job],
    /// Head commits the delivery reports as new (`pull_request` opened,
    /// reopened, synchronize), each for its pull request, recorded at
    /// `received` unless a later receipt for that pull request is known.
    pub heads: &'a [HeadReceipt],
    /// When the app received the delivery (wall clock): the head commits'
    /// first-seen time and the start of the jobs' debounce.
    pub received: DateTime<Utc>,
}

impl Store {
    /// Intake of one delivery, in one transaction, before its 202: records
    /// `delivery` as seen (when given) and upserts each job; `heads` are
    /// head commits received in it (`pull_request` opened, reopened,
    /// synchronize), recorded with `now` unless known already. A job is
    /// ready for a worker at `now + debounce`, or, when it arrived while
    /// its pull request was being evaluated, `debounce` after it arrived
    /// (it runs once more after that evaluation).
    ///
    /// Returns `Duplicate`, writing nothing, when `delivery` was recorded
    /// before, and `Full`, writing nothing, when a job would be a new pull
    /// request beyond `capacity` waiting ones. Errors leave nothing written
    /// (the transaction rolls back).
    pub async fn accept(
        &self,
        delivery: Option<&str>,
        jobs: &[Job],
        heads: &[HeadReceipt],
        now: DateTime<Utc>,
        debounce: Duration,
        capacity: u64,
    ) -> Result<Accepted, StoreError> {
        // A batch of one (the queue's writer batches the webhook's
        // deliveries; see `store::intake`).
        let item = Intake {
            delivery,
            jobs,
            heads,
            received: now,
        };
        match self.accept_batch(&[item], debounce, capacity).await.pop() {
            Some(outcome) => outcome,
            None => Err(StoreError::Corrupt("an intake without outcome".into())),
        }
    }

    /// Intake of several deliveries in one transaction (group commit);
    /// answers one outcome per delivery, in order, as `Store::accept` would
    /// have for each alone in that order. Nothing is committed before the
    /// whole batch is, so no caller may answer 202 before this returns.
    ///
    /// If the batch's transaction fails, each delivery is tried again in a
    /// transaction of its own, so that one delivery the database refuses
    /// fails alone instead of taking its batch with it.
    pub async fn accept_batch(
        &self,
        batch: &[Intake<'_>],
        debounce: Duration,
        capacity: u64,
    ) -> Vec<Result<Accepted, StoreError>> {
        match self.commit_batch(batch, debounce, capacity).await {
            Ok(outcomes) => outcomes.into_iter().map(Ok).collect(),
            Err(e) if batch.len() <= 1 => vec![Err(e)],
            Err(e) => {
                tracing::warn!(error = %e, deliveries = batch.len(), "intake batch failed; committing its deliveries one by one");
                let mut outcomes = Vec::with_capacity(batch.len());
                for item in batch {
                    let one = self
                        .commit_batch(std::slice::from_ref(item), debounce, capacity)
                        .await
                        .and_then(|mut o| {
                            o.pop().ok_or_else(|| {
                                StoreError::Corrupt("an intake batch without outcome".into())
                            })
                        });
                    outcomes.push(one);
                }
                outcomes
            }
        }
    }

    /// One transaction for the whole batch. On SQLite it begins IMMEDIATE:
    /// the write lock is taken first, so the capacity read cannot be
    /// overtaken by another writer's commit (which SQLite reports as a busy
    /// snapshot at once, without waiting).
    async fn commit_batch(
        &self,
        batch: &[Intake<'_>],
        debounce: Duration,
        capacity: u64,
    ) -> Result<Vec<Accepted>, StoreError> {
        let mut tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        let mut waiting = None;
        let jobs: usize = batch.iter().map(|item| item.jobs.len()).sum();
        if jobs > 0 {
            waiting = Some(count_waiting(&mut tx, self.backend, capacity).await?);
        }
        // Every job of the batch fits even if each were a new pull request:
        // no delivery can be refused for the capacity, so the batch's writes
        // can go as multi-row statements (`bulk`). Otherwise each delivery
        // is taken in turn, and the count kept up to date as it goes.
        let fits = waiting
            .is_none_or(|n| n.saturating_add(u64::try_from(jobs).unwrap_or(u64::MAX)) <= capacity);
        if fits {
            let outcomes = bulk::write(&mut tx, batch, debounce).await?;
            tx.commit().await?;
            return Ok(outcomes);
        }
        let mut outcomes = Vec::with_capacity(batch.len());
        for item in batch {
            outcomes.push(
                accept_one(
                    &mut tx,
                    self.backend,
                    item,
                    debounce,
                    capacity,
                    &mut waiting,
                )
                .await?,
            );
        }
        tx.commit().await?;
        Ok(outcomes)
    }
}

/// One delivery inside the batch's transaction. Reads come first and a
/// delivery that is refused (duplicate, full) has written nothing when it
/// returns, so no savepoint is needed. `waiting` is the number of jobs in
/// the store, counted once per batch (on PostgreSQL at most `capacity`:
/// the count stops there) and kept up to date as this batch adds jobs.
async fn accept_one(
    tx: &mut sqlx::AnyConnection,
    backend: Backend,
    item: &Intake<'_>,
    debounce: Duration,
    capacity: u64,
    waiting: &mut Option<u64>,
) -> Result<Accepted, StoreError> {
    let now_ms = ms(item.received);
    if !item.jobs.is_empty() {
        let n = match *waiting {
            Some(n) => n,
            None => {
                let n = count_waiting(&mut *tx, backend, capacity).await?;
                *waiting = Some(n);
                n
            }
        };
        if n >= capacity {
            for job in item.jobs {
                let known = sqlx::query(
                    "SELECT 1 AS one FROM jobs WHERE installation = $1 AND owner = $2 \
                     AND name = $3 AND number = $4",
                )
                .bind(int(job.key.installation))
                .bind(&job.key.repo.owner)
                .bind(&job.key.repo.name)
                .bind(int(job.key.number))
                .fetch_optional(&mut *tx)
                .await?;
                if known.is_none() {
                    // A delivery acted on before stays a duplicate, full or
                    // not (GitHub must not be asked to send it again).
                    if let Some(id) = item.delivery {
                        let seen = sqlx::query("SELECT 1 AS one FROM deliveries WHERE id = $1")
                            .bind(id)
                            .fetch_optional(&mut *tx)
                            .await?;
                        if seen.is_some() {
                            return Ok(Accepted::Duplicate);
                        }
                    }
                    return Ok(Accepted::Full);
                }
            }
        }
    }
    let mut pulls = Vec::with_capacity(item.jobs.len());
    for job in item.jobs {
        pulls.push(match &job.pull {
            Some(p) => {
                Some(serde_json::to_string(p).map_err(|e| StoreError::Corrupt(e.to_string()))?)
            }
            None => None,
        });
    }
    if let Some(id) = item.delivery {
        let inserted = sqlx::query(
            "INSERT INTO deliveries (id, seen_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Ok(Accepted::Duplicate);
        }
    }
    for (job, pull) in item.jobs.iter().zip(pulls) {
        let pull_updated = job.pull.as_ref().and_then(|p| p.updated_at).map(ms);
        let row = sqlx::query(&bulk::upsert_sql(1))
            .bind(int(job.key.installation))
            .bind(&job.key.repo.owner)
            .bind(&job.key.repo.name)
            .bind(int(job.key.number))
            .bind(pull)
            .bind(pull_updated)
            .bind(trigger_text(&job.trigger))
            .bind(job.deliveries.join(","))
            .bind(now_ms)
            .bind(now_ms + dur_ms(debounce))
            .fetch_one(&mut *tx)
            .await?;
        // A new row starts at version 1; a fold-in bumps it.
        let version: i64 = row.try_get("version")?;
        if version == 1 {
            *waiting = waiting.map(|n| n.saturating_add(1));
        }
        if let Trigger::Commits(work) = &job.trigger {
            super::commits::insert(&mut *tx, &job.key, work, version, now_ms).await?;
        }
    }
    for (repo, number, sha) in item.heads {
        sqlx::query(PULL_HEAD_UPSERT_ONE)
            .bind(&repo.owner)
            .bind(&repo.name)
            .bind(int(*number))
            .bind(sha)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
    }
    Ok(Accepted::Queued)
}

/// The jobs in the store, once per batch, not per delivery. SQLite counts
/// a table from its b-tree pages without visiting rows (10 µs for 10,000
/// jobs, measured; a LIMIT subquery walks the rows and took 225 µs);
/// PostgreSQL visits every row, so there the count stops at `capacity`.
async fn count_waiting(
    tx: &mut sqlx::AnyConnection,
    backend: Backend,
    capacity: u64,
) -> Result<u64, StoreError> {
    let row = match backend {
        Backend::Sqlite => sqlx::query("SELECT count(*) AS n FROM jobs"),
        Backend::Postgres => {
            sqlx::query("SELECT count(*) AS n FROM (SELECT 1 AS one FROM jobs LIMIT $1) AS waiting")
                .bind(int(capacity))
        }
    }
    .fetch_one(&mut *tx)
    .await?;
    Ok(uint(row.try_get("n")?))
}

mod bulk;

#[cfg(test)]
mod tests;
