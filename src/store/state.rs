//! The app's own progress, beside the queue: merge-backs waiting for
//! `develop`, deadlines and escalation levels posted, the ids of what it
//! published, leases on singleton tasks, and a log of evaluations. Every
//! write is an idempotent upsert or delete.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::Row as _;

use super::{Store, StoreError, dur_ms, from_ms, int, ms, uint};
use crate::engine::escalation::Watch;
use crate::events::{PrKey, RepoName};

/// One evaluation as a worker logged it (`log_evaluation`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvaluationSpan {
    pub key: PrKey,
    pub worker: String,
    pub started: DateTime<Utc>,
    pub ended: DateTime<Utc>,
}

impl Store {
    /// Remembers that merged hotfix `key` waits for its merge-back to
    /// reach `branch` (the policy's develop branch).
    pub async fn watch_merge_back(
        &self,
        key: &PrKey,
        branch: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO merge_backs (installation, owner, name, number, branch, since) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (installation, owner, name, number) DO UPDATE SET branch = excluded.branch",
        )
        .bind(int(key.installation))
        .bind(&key.repo.owner)
        .bind(&key.repo.name)
        .bind(int(key.number))
        .bind(branch)
        .bind(ms(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The merge-back of `key` is done (or no longer expected).
    pub async fn forget_merge_back(&self, key: &PrKey) -> Result<(), StoreError> {
        sqlx::query(
            "DELETE FROM merge_backs WHERE installation = $1 AND owner = $2 AND name = $3 \
             AND number = $4",
        )
        .bind(int(key.installation))
        .bind(&key.repo.owner)
        .bind(&key.repo.name)
        .bind(int(key.number))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Numbers of the merged hotfixes of `repo` whose merge-back waits for
    /// `branch`, lowest first.
    pub async fn merge_backs_waiting_on(
        &self,
        installation: u64,
        repo: &RepoName,
        branch: &str,
    ) -> Result<Vec<u64>, StoreError> {
        let rows = sqlx::query(
            "SELECT number FROM merge_backs WHERE installation = $1 AND owner = $2 \
             AND name = $3 AND branch = $4 ORDER BY number",
        )
        .bind(int(installation))
        .bind(&repo.owner)
        .bind(&repo.name)
        .bind(branch)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok(uint(r.try_get("number")?)))
            .collect()
    }

    /// Watches the deadline of open hotfix `key` (replacing an earlier
    /// watch; the levels already posted are kept).
    pub async fn watch_deadline(&self, key: &PrKey, watch: &Watch) -> Result<(), StoreError> {
        let escalation = watch
            .escalation
            .as_ref()
            .map(|e| serde_json::to_string(&KeptEscalation::from(e)))
            .transpose()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        sqlx::query(
            "INSERT INTO deadlines (installation, owner, name, number, severity, started, deadline, escalation) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (installation, owner, name, number) DO UPDATE SET \
             severity = excluded.severity, started = excluded.started, deadline = excluded.deadline, \
             escalation = excluded.escalation",
        )
        .bind(int(key.installation))
        .bind(&key.repo.owner)
        .bind(&key.repo.name)
        .bind(int(key.number))
        .bind(&watch.severity)
        .bind(ms(watch.started))
        .bind(ms(watch.deadline))
        .bind(escalation)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Stops watching `key` (merged, closed by a writer, no longer a
    /// hotfix, or fully escalated). A pull request closed by anyone else
    /// stays watched: its escalation continues.
    pub async fn forget_deadline(&self, key: &PrKey) -> Result<(), StoreError> {
        sqlx::query(
            "DELETE FROM deadlines WHERE installation = $1 AND owner = $2 AND name = $3 \
             AND number = $4",
        )
        .bind(int(key.installation))
        .bind(&key.repo.owner)
        .bind(&key.repo.name)
        .bind(int(key.number))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records the highest escalation level posted on `key` (1 or 2).
    pub async fn escalated(&self, key: &PrKey, level: u8) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE deadlines SET levels_posted = $1 WHERE installation = $2 AND owner = $3 \
             AND name = $4 AND number = $5 AND levels_posted < $1",
        )
        .bind(i64::from(level))
        .bind(int(key.installation))
        .bind(&key.repo.owner)
        .bind(&key.repo.name)
        .bind(int(key.number))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Watched hotfixes whose deadline is at or before `now`, earliest
    /// first, with the escalation level already posted (0, 1 or 2).
    pub async fn due_deadlines(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<(PrKey, Watch, u8)>, StoreError> {
        let rows = sqlx::query(
            "SELECT installation, owner, name, number, severity, started, deadline, levels_posted, \
             escalation FROM deadlines WHERE deadline <= $1 ORDER BY deadline",
        )
        .bind(ms(now))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let (watch, posted) = watch_of(r)?;
                let key = PrKey {
                    installation: uint(r.try_get("installation")?),
                    repo: RepoName {
                        owner: r.try_get("owner")?,
                        name: r.try_get("name")?,
                    },
                    number: uint(r.try_get("number")?),
                };
                Ok((key, watch, posted))
            })
            .collect()
    }

    /// The deadline watched for `key`, with the escalation level already
    /// posted (0, 1 or 2); `None` when none is watched.
    pub async fn deadline_of(&self, key: &PrKey) -> Result<Option<(Watch, u8)>, StoreError> {
        let row = sqlx::query(
            "SELECT severity, started, deadline, levels_posted, escalation FROM deadlines \
             WHERE installation = $1 AND owner = $2 AND name = $3 AND number = $4",
        )
        .bind(int(key.installation))
        .bind(&key.repo.owner)
        .bind(&key.repo.name)
        .bind(int(key.number))
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(watch_of).transpose()
    }

    /// How many deadlines are watched.
    pub async fn deadlines_watched(&self) -> Result<u64, StoreError> {
        let row = sqlx::query("SELECT count(*) AS n FROM deadlines")
            .fetch_one(&self.pool)
            .await?;
        Ok(uint(row.try_get("n")?))
    }

    /// The id and fingerprint of what the app last published as `what`
    /// (`check:NAME@SHA` or `comment:NUMBER`) in `repo`.
    pub async fn published(
        &self,
        repo: &RepoName,
        what: &str,
    ) -> Result<Option<(u64, u64)>, StoreError> {
        let row = sqlx::query(
            "SELECT id, fingerprint FROM published WHERE owner = $1 AND name = $2 AND what = $3",
        )
        .bind(&repo.owner)
        .bind(&repo.name)
        .bind(what)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some(r) => {
                let id: i64 = r.try_get("id")?;
                let fp: i64 = r.try_get("fingerprint")?;
                // The fingerprint is a u64 stored bit for bit.
                Some((uint(id), u64::from_ne_bytes(fp.to_ne_bytes())))
            }
            None => None,
        })
    }

    /// Remembers what the app published as `what` in `repo`.
    pub async fn remember_published(
        &self,
        repo: &RepoName,
        what: &str,
        id: u64,
        fingerprint: u64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO published (owner, name, what, id, fingerprint) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (owner, name, what) DO UPDATE SET id = excluded.id, \
             fingerprint = excluded.fingerprint",
        )
        .bind(&repo.owner)
        .bind(&repo.name)
        .bind(what)
        .bind(int(id))
        .bind(i64::from_ne_bytes(fingerprint.to_ne_bytes()))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Takes or renews the lease on singleton task `task` for `holder`
    /// until `now + lease`. True when `holder` holds it now: it was free,
    /// expired, or already `holder`'s. With several instances exactly one
    /// holds it at a time (clocks synchronised).
    pub async fn try_lead(
        &self,
        task: &str,
        holder: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "INSERT INTO leaders (task, holder, until_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (task) DO UPDATE SET holder = excluded.holder, until_ms = excluded.until_ms \
             WHERE leaders.until_ms < $4 OR leaders.holder = excluded.holder",
        )
        .bind(task)
        .bind(holder)
        .bind(ms(now) + dur_ms(lease))
        .bind(ms(now))
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n > 0)
    }

    /// Gives up `holder`'s lease on `task` (shutdown), so another instance
    /// takes it at its next try.
    pub async fn resign(&self, task: &str, holder: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM leaders WHERE task = $1 AND holder = $2")
            .bind(task)
            .bind(holder)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Logs an evaluation `worker` ran on `key` from `started` to `ended`.
    pub async fn log_evaluation(&self, span: &EvaluationSpan) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO evaluations (installation, owner, name, number, worker, started, ended) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(int(span.key.installation))
        .bind(&span.key.repo.owner)
        .bind(&span.key.repo.name)
        .bind(int(span.key.number))
        .bind(&span.worker)
        .bind(ms(span.started))
        .bind(ms(span.ended))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every logged evaluation, by pull request and start time.
    pub async fn evaluations(&self) -> Result<Vec<EvaluationSpan>, StoreError> {
        let rows = sqlx::query(
            "SELECT installation, owner, name, number, worker, started, ended FROM evaluations \
             ORDER BY installation, owner, name, number, started",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(EvaluationSpan {
                    key: PrKey {
                        installation: uint(r.try_get("installation")?),
                        repo: RepoName {
                            owner: r.try_get("owner")?,
                            name: r.try_get("name")?,
                        },
                        number: uint(r.try_get("number")?),
                    },
                    worker: r.try_get("worker")?,
                    started: from_ms(r.try_get("started")?),
                    ended: from_ms(r.try_get("ended")?),
                })
            })
            .collect()
    }

    /// Forgets evaluations logged before `before` (bounded by age).
    pub async fn prune_evaluations(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        Ok(sqlx::query("DELETE FROM evaluations WHERE ended < $1")
            .bind(ms(before))
            .execute(&self.pool)
            .await?
            .rows_affected())
    }
}

/// A `deadlines` row's watch and the escalation level posted (0, 1 or 2).
fn watch_of(r: &sqlx::any::AnyRow) -> Result<(Watch, u8), StoreError> {
    let posted: i64 = r.try_get("levels_posted")?;
    let watch = Watch {
        severity: r.try_get("severity")?,
        started: from_ms(r.try_get("started")?),
        deadline: from_ms(r.try_get("deadline")?),
        escalation: kept_escalation(r.try_get("escalation")?),
    };
    Ok((watch, u8::try_from(posted).unwrap_or(u8::MAX)))
}

/// A watch's escalation section as stored (`deadlines.escalation`, JSON):
/// the policy's `escalation` when the deadline was watched.
#[derive(serde::Serialize, serde::Deserialize)]
struct KeptEscalation {
    mention: Vec<String>,
    /// `escalation.after` in milliseconds.
    after_ms: Option<u64>,
    mention_after: Vec<String>,
}

impl From<&crate::policy::Escalation> for KeptEscalation {
    fn from(e: &crate::policy::Escalation) -> Self {
        KeptEscalation {
            mention: e.mention.clone(),
            after_ms: e
                .after
                .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            mention_after: e.mention_after.clone(),
        }
    }
}

/// The stored section read back; `None` when there is none (a watch from
/// before it was kept) or it cannot be read (logged): the sweep then
/// escalates without it, saying so, never not at all.
fn kept_escalation(text: Option<String>) -> Option<crate::policy::Escalation> {
    let text = text?;
    match serde_json::from_str::<KeptEscalation>(&text) {
        Ok(kept) => Some(crate::policy::Escalation {
            mention: kept.mention,
            after: kept.after_ms.map(std::time::Duration::from_millis),
            mention_after: kept.mention_after,
        }),
        Err(e) => {
            tracing::error!(error = %e, "stored escalation section unreadable; escalating without it");
            None
        }
    }
}
