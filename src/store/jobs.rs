//! The durable work queue: one row per pull request waiting for (or under)
//! evaluation.
//!
//! Intake upserts (a burst collapses into one row; the newest pull request
//! snapshot and the strongest trigger win, as `Job::absorb` does in memory),
//! workers claim a ready row with a lease, and delete it only after the
//! evaluation's writes succeeded — unless a delivery arrived meanwhile, in
//! which case the row is released to run once more. A worker that dies
//! leaves its lease to expire; any worker of any instance then takes the
//! row again.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::Row as _;

use super::{Backend, Store, StoreError, dur_ms, from_ms, int, ms, uint};
use crate::events::{Job, PrKey, RepoName, Trigger};
use crate::pull::Pull;

/// How many delivery ids a job keeps for its logs (as `Job::absorb`).
const DELIVERIES_KEPT: usize = 8;

/// What intake did with a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    /// Committed: its jobs are in the store.
    Queued,
    /// Not written: `capacity` pull requests wait already and this one is
    /// not among them.
    Full,
    /// The delivery id was acted on before; nothing written.
    Duplicate,
}

/// A job a worker holds a lease on.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub job: Job,
    /// Failed attempts before this one.
    pub attempts: u32,
    /// The row's version when claimed: `complete` deletes only this one.
    version: i64,
    /// This claim took over a lease that had expired (a worker died).
    pub taken_over: bool,
    /// Who holds the lease.
    pub worker: String,
}

/// Queue figures for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct JobStats {
    /// Pull requests with a job in the store, claimed or not.
    pub pending: u64,
    /// Age of the oldest job (since its first delivery), in seconds.
    pub oldest_age_seconds: f64,
}

pub(super) fn trigger_text(t: &Trigger) -> String {
    match t {
        Trigger::Full => "full".to_string(),
        Trigger::Rerun => "rerun".to_string(),
        // The work itself is in `commit_work` (see `store::commits`).
        Trigger::Commits(_) => "commits".to_string(),
        Trigger::Comment { body } => format!("comment:{body}"),
    }
}

fn trigger_from(text: &str) -> Trigger {
    match text.strip_prefix("comment:") {
        Some(body) => Trigger::Comment {
            body: body.to_string(),
        },
        None if text == "rerun" => Trigger::Rerun,
        None if text == "commits" => Trigger::Commits(crate::events::CommitWork::default()),
        None => Trigger::Full,
    }
}

impl Store {
    /// Claims the job that has been ready longest and is not leased (or
    /// whose lease expired), for `lease` from `now`, on behalf of `worker`.
    /// Atomic across workers and instances: `FOR UPDATE SKIP LOCKED` on
    /// PostgreSQL, SQLite's single writer otherwise; the job is picked by a
    /// scalar row subquery, run once (`IN (… LIMIT 1)` may be re-run per
    /// row by PostgreSQL and lease several jobs). `None` when nothing is
    /// ready. A row that cannot be decoded is dropped with an error log
    /// (GitHub's state is re-read at the next delivery).
    pub async fn claim(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Option<Claimed>, StoreError> {
        let now_ms = ms(now);
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE jobs SET lease_owner = $1, lease_until = $2, claimed_version = version, \
                 taken_over = CASE WHEN lease_owner IS NULL THEN 0 ELSE 1 END \
             WHERE ready_at <= $3 AND lease_until < $3 \
               AND (installation, owner, name, number) = ( \
                 SELECT installation, owner, name, number FROM jobs \
                 WHERE ready_at <= $3 AND lease_until < $3 \
                 ORDER BY ready_at LIMIT 1{lock}) \
             RETURNING installation, owner, name, number, pull, trigger_kind, deliveries, \
                 attempts, version, taken_over"
        );
        let row = sqlx::query(&sql)
            .bind(worker)
            .bind(now_ms + dur_ms(lease))
            .bind(now_ms)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let key = PrKey {
            installation: uint(row.try_get("installation")?),
            repo: RepoName {
                owner: row.try_get("owner")?,
                name: row.try_get("name")?,
            },
            number: uint(row.try_get("number")?),
        };
        let pull: Option<String> = row.try_get("pull")?;
        let pull = match pull.map(|p| serde_json::from_str::<Pull>(&p)) {
            None => None,
            Some(Ok(p)) => Some(p),
            // The snapshot is only an optimisation: fetch it instead.
            Some(Err(e)) => {
                tracing::error!(error = %e, pr = key.number, "stored pull request unreadable; fetching it");
                None
            }
        };
        let trigger: String = row.try_get("trigger_kind")?;
        let deliveries: String = row.try_get("deliveries")?;
        let mut deliveries: Vec<String> = deliveries
            .split(',')
            .filter(|d| !d.is_empty())
            .map(str::to_string)
            .collect();
        let excess = deliveries.len().saturating_sub(DELIVERIES_KEPT);
        deliveries.drain(..excess);
        let attempts: i64 = row.try_get("attempts")?;
        let taken_over: i64 = row.try_get("taken_over")?;
        let version: i64 = row.try_get("version")?;
        let trigger = match trigger_from(&trigger) {
            Trigger::Commits(_) => {
                Trigger::Commits(super::commits::load(&self.pool, &key, version).await?)
            }
            other => other,
        };
        Ok(Some(Claimed {
            job: Job {
                key,
                pull,
                trigger,
                deliveries,
            },
            attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
            version,
            taken_over: taken_over != 0,
            worker: worker.to_string(),
        }))
    }

    /// Extends the lease of a job still being evaluated; false when the
    /// lease was lost (it expired and another worker took the job).
    pub async fn extend(
        &self,
        claimed: &Claimed,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        let key = &claimed.job.key;
        let n = sqlx::query(
            "UPDATE jobs SET lease_until = $1 WHERE installation = $2 AND owner = $3 \
             AND name = $4 AND number = $5 AND lease_owner = $6",
        )
        .bind(ms(now) + dur_ms(lease))
        .bind(int(key.installation))
        .bind(&key.repo.owner)
        .bind(&key.repo.name)
        .bind(int(key.number))
        .bind(&claimed.worker)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n > 0)
    }

    /// The evaluation's writes succeeded: deletes the job, unless a
    /// delivery was folded in since the claim; then releases it to run once
    /// more (it is ready at the time intake set). Only the lease holder's
    /// call has an effect.
    pub async fn complete(&self, claimed: &Claimed) -> Result<(), StoreError> {
        let key = &claimed.job.key;
        if matches!(claimed.job.trigger, Trigger::Commits(_)) {
            // The units this claim read are done; later ones stay.
            super::commits::done(&self.pool, key, claimed.version).await?;
        }
        let deleted = sqlx::query(
            "DELETE FROM jobs WHERE installation = $1 AND owner = $2 AND name = $3 \
             AND number = $4 AND lease_owner = $5 AND version = $6",
        )
        .bind(int(key.installation))
        .bind(&key.repo.owner)
        .bind(&key.repo.name)
        .bind(int(key.number))
        .bind(&claimed.worker)
        .bind(claimed.version)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if deleted == 0 {
            sqlx::query(
                "UPDATE jobs SET lease_owner = NULL, lease_until = 0, attempts = 0 \
                 WHERE installation = $1 AND owner = $2 AND name = $3 AND number = $4 \
                 AND lease_owner = $5",
            )
            .bind(int(key.installation))
            .bind(&key.repo.owner)
            .bind(&key.repo.name)
            .bind(int(key.number))
            .bind(&claimed.worker)
            .execute(&self.pool)
            .await?;
        }
        Ok(())
    }

    /// The evaluation failed: counts the attempt and releases the job to be
    /// claimed again at `now + backoff` (or sooner, if a new delivery
    /// arrives).
    pub async fn retry(
        &self,
        claimed: &Claimed,
        now: DateTime<Utc>,
        backoff: Duration,
    ) -> Result<(), StoreError> {
        let key = &claimed.job.key;
        sqlx::query(
            "UPDATE jobs SET lease_owner = NULL, lease_until = 0, attempts = attempts + 1, \
             ready_at = $1 WHERE installation = $2 AND owner = $3 AND name = $4 \
             AND number = $5 AND lease_owner = $6",
        )
        .bind(ms(now) + dur_ms(backoff))
        .bind(int(key.installation))
        .bind(&key.repo.owner)
        .bind(&key.repo.name)
        .bind(int(key.number))
        .bind(&claimed.worker)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Gives up a job without counting an attempt (shutdown): it is claimed
    /// again at once by another worker, or by the next start.
    pub async fn release(&self, claimed: &Claimed) -> Result<(), StoreError> {
        let key = &claimed.job.key;
        sqlx::query(
            "UPDATE jobs SET lease_owner = NULL, lease_until = 0 WHERE installation = $1 \
             AND owner = $2 AND name = $3 AND number = $4 AND lease_owner = $5",
        )
        .bind(int(key.installation))
        .bind(&key.repo.owner)
        .bind(&key.repo.name)
        .bind(int(key.number))
        .bind(&claimed.worker)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Releases every lease held by workers whose id starts with `prefix`
    /// (an instance's workers share it). Returns how many.
    pub async fn release_all(&self, prefix: &str) -> Result<u64, StoreError> {
        Ok(sqlx::query(
            "UPDATE jobs SET lease_owner = NULL, lease_until = 0 \
             WHERE substr(lease_owner, 1, CAST($1 AS INTEGER)) = $2",
        )
        .bind(i64::try_from(prefix.len()).unwrap_or(i64::MAX))
        .bind(prefix)
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    /// How long until the next unleased job becomes ready (zero if one is
    /// ready now); `None` when no job waits unleased.
    pub async fn next_ready(&self, now: DateTime<Utc>) -> Result<Option<Duration>, StoreError> {
        // The earliest of: the first unleased job by `ready_at` (walking
        // the `jobs_ready` index past the few leased ones), and the first
        // lease to expire (`jobs_lease`). Idle workers ask this after every
        // wake-up; a scan of every job here cost a burst O(jobs) per ask.
        let row = sqlx::query(
            "SELECT (SELECT ready_at FROM jobs WHERE lease_until < $1 ORDER BY ready_at LIMIT 1) \
                 AS ready, \
             (SELECT min(lease_until) FROM jobs WHERE lease_until >= $1) AS leased",
        )
        .bind(ms(now))
        .fetch_one(&self.pool)
        .await?;
        let ready: Option<i64> = row.try_get("ready")?;
        let leased: Option<i64> = row.try_get("leased")?;
        let at = match (ready, leased) {
            (Some(r), Some(l)) => Some(r.min(l)),
            (r, l) => r.or(l),
        };
        Ok(at.map(|at| Duration::from_millis(u64::try_from(at - ms(now)).unwrap_or(0))))
    }

    /// True when a job is leased now, or will be ready within `soon` of
    /// `now` (tests wait for this to end; a job backing off for longer
    /// does not count).
    pub async fn busy(&self, now: DateTime<Utc>, soon: Duration) -> Result<bool, StoreError> {
        let row =
            sqlx::query("SELECT count(*) AS n FROM jobs WHERE lease_until >= $1 OR ready_at <= $2")
                .bind(ms(now))
                .bind(ms(now) + dur_ms(soon))
                .fetch_one(&self.pool)
                .await?;
        let n: i64 = row.try_get("n")?;
        Ok(n > 0)
    }

    /// Jobs in the store and the age of the oldest.
    pub async fn job_stats(&self, now: DateTime<Utc>) -> Result<JobStats, StoreError> {
        let row = sqlx::query("SELECT count(*) AS n, min(first_queued) AS oldest FROM jobs")
            .fetch_one(&self.pool)
            .await?;
        let n: i64 = row.try_get("n")?;
        let oldest: Option<i64> = row.try_get("oldest")?;
        Ok(JobStats {
            pending: uint(n),
            oldest_age_seconds: oldest
                .map(|o| (ms(now) - o).max(0) as f64 / 1000.0)
                .unwrap_or(0.0),
        })
    }

    /// Forgets delivery ids recorded before `before` (GitHub redelivers
    /// only within three days; older duplicates cannot come).
    pub async fn prune_deliveries(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        Ok(sqlx::query("DELETE FROM deliveries WHERE seen_at < $1")
            .bind(ms(before))
            .execute(&self.pool)
            .await?
            .rows_affected())
    }

    /// Forgets that `delivery` was seen (a delivery refused after being
    /// recorded must count when it comes again).
    pub async fn forget_delivery(&self, delivery: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM deliveries WHERE id = $1")
            .bind(delivery)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// When this app last received head commit `sha` of pull request
    /// `number` in `repo`: the time (the app's own clock at intake) of the
    /// latest `pull_request` delivery with action opened, reopened or
    /// synchronize for that pull request, if it named `sha`. `None` when
    /// the latest such delivery named another commit (the push of `sha` was
    /// not delivered yet, or an older push was delivered late), when none
    /// was received, or when the store was lost. A freshness fact: a
    /// comment written before this time cannot be known to be about this
    /// push of the head. Keyed by pull request: another pull request's
    /// delivery of the same commit says nothing about this one's push.
    pub async fn head_last_received(
        &self,
        repo: &RepoName,
        number: u64,
        sha: &str,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let row = sqlx::query(
            "SELECT sha, received FROM pull_heads WHERE owner = $1 AND name = $2 AND number = $3",
        )
        .bind(&repo.owner)
        .bind(&repo.name)
        .bind(int(number))
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let recorded: String = row.try_get("sha")?;
        if recorded != sha {
            return Ok(None);
        }
        Ok(Some(from_ms(row.try_get("received")?)))
    }
}
