//! The notice outbox: incident notices recorded before they are sent,
//! claimed with a lease by one sender (of any instance), marked sent after.
//!
//! A notice's key is (repository, pull request, event, occurrence, target):
//! recording it again (a redelivery, a re-evaluation, a restart, a second
//! instance) changes nothing. Notices of one pull request and target are
//! sent in the order they were recorded: a Slack thread's parent before its
//! replies.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::Row as _;

use super::{Backend, Store, StoreError, dur_ms, from_ms, int, ms, uint};
use crate::events::{PrKey, RepoName};

/// A notice to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotice {
    /// `declared`, `severity_changed`, … (`policy::NoticeEvent::name`).
    pub event: String,
    /// Which one of the event: `""`, a severity, or an escalation level.
    pub occurrence: String,
    /// `slack:#channel` or `webhook:NAME` (`policy::Target`'s display).
    pub target: String,
    /// The event's place in the procedure, to order notices recorded at once.
    pub rank: i64,
    /// What the sender sends (JSON).
    pub payload: String,
}

/// A notice a sender holds a lease on.
#[derive(Debug, Clone)]
pub struct ClaimedNotice {
    pub key: PrKey,
    pub event: String,
    pub occurrence: String,
    pub target: String,
    pub payload: String,
    /// Failed tries before this one.
    pub attempts: u32,
    worker: String,
}

/// An undelivered notice of one pull request, for its sticky comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeBacklog {
    pub target: String,
    pub event: String,
    /// Failed tries so far (0: not tried yet).
    pub attempts: u32,
    pub last_error: Option<String>,
}

/// A notice target the store knows of, for the start-up report: named by
/// a policy the app read (`notice_targets`), or by notices still waiting in
/// the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownTarget {
    /// `slack:#channel` or `webhook:NAME`.
    pub target: String,
    /// The repository (`owner/name`) whose policy last named it, and when
    /// the app saw that; `None` when only the outbox names it.
    pub seen: Option<(String, DateTime<Utc>)>,
    /// Notices to it not sent yet.
    pub waiting: u64,
}

/// At most this many targets are read at start-up (from each source): the
/// report is a few log lines, not a dump of whatever policies named.
pub const KNOWN_TARGETS_READ: i64 = 100;

/// Outbox figures for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoticeStats {
    /// Recorded, not yet sent.
    pub pending: u64,
    /// Of those, tried and failed at least once.
    pub failing: u64,
}

impl Store {
    /// Records `notices` of the pull request `key` at `now`, each unless
    /// recorded before (then nothing changes). Returns how many were new.
    pub async fn record_notices(
        &self,
        key: &PrKey,
        notices: &[NewNotice],
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut new = 0;
        for n in notices {
            new += sqlx::query(
                "INSERT INTO notices (installation, owner, name, number, event, occurrence, \
                 target, created, rank, payload, next_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $8) \
                 ON CONFLICT (owner, name, number, event, occurrence, target) DO NOTHING",
            )
            .bind(int(key.installation))
            .bind(&key.repo.owner)
            .bind(&key.repo.name)
            .bind(int(key.number))
            .bind(&n.event)
            .bind(&n.occurrence)
            .bind(&n.target)
            .bind(ms(now))
            .bind(n.rank)
            .bind(&n.payload)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(new)
    }

    /// Claims the notice due longest, for `lease` from `now`: one not sent,
    /// not backing off, not leased (or whose lease expired), and with no
    /// older unsent notice of the same pull request and target (those go
    /// first). Atomic across senders and instances: `FOR UPDATE SKIP
    /// LOCKED` on PostgreSQL, SQLite's single writer otherwise.
    ///
    /// The candidate is picked by a scalar row subquery (`(key) = (SELECT
    /// … LIMIT 1)`), never `(key) IN (SELECT … LIMIT 1)`: PostgreSQL plans
    /// the `IN` form as a nested-loop semi-join that re-runs the subquery
    /// for every outer row, and a re-run, no longer seeing the row this
    /// statement just updated, picks the next one; one `UPDATE` then
    /// leased every due notice while the caller took only the first row
    /// (the others stayed leased and unsent until the lease expired). An
    /// uncorrelated scalar subquery is an `InitPlan`, run once.
    pub async fn claim_notice(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Option<ClaimedNotice>, StoreError> {
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE notices SET lease_owner = $1, lease_until = $2 \
             WHERE sent_at IS NULL AND next_at <= $3 AND lease_until < $3 \
               AND (owner, name, number, event, occurrence, target) = ( \
                 SELECT n.owner, n.name, n.number, n.event, n.occurrence, n.target \
                 FROM notices n \
                 WHERE n.sent_at IS NULL AND n.next_at <= $3 AND n.lease_until < $3 \
                   AND NOT EXISTS (SELECT 1 FROM notices o WHERE o.owner = n.owner \
                     AND o.name = n.name AND o.number = n.number AND o.target = n.target \
                     AND o.sent_at IS NULL \
                     AND (o.created < n.created OR (o.created = n.created AND o.rank < n.rank))) \
                 ORDER BY n.next_at, n.created, n.rank, n.target LIMIT 1{lock}) \
             RETURNING installation, owner, name, number, event, occurrence, target, payload, \
                 attempts"
        );
        let mut rows = sqlx::query(&sql)
            .bind(worker)
            .bind(ms(now) + dur_ms(lease))
            .bind(ms(now))
            .fetch_all(&self.pool)
            .await?
            .into_iter();
        let Some(row) = rows.next() else {
            return Ok(None);
        };
        // Never expected (the statement updates one row at most); should a
        // planner ever lease more, they are given back at once rather than
        // held for nobody until their lease expires.
        for extra in rows {
            tracing::error!("a notice claim leased more than one notice; releasing the others");
            self.release_notice(&extra, worker).await?;
        }
        let attempts: i64 = row.try_get("attempts")?;
        Ok(Some(ClaimedNotice {
            key: PrKey {
                installation: uint(row.try_get("installation")?),
                repo: RepoName {
                    owner: row.try_get("owner")?,
                    name: row.try_get("name")?,
                },
                number: uint(row.try_get("number")?),
            },
            event: row.try_get("event")?,
            occurrence: row.try_get("occurrence")?,
            target: row.try_get("target")?,
            payload: row.try_get("payload")?,
            attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
            worker: worker.to_string(),
        }))
    }

    /// Gives back a notice claimed by mistake (see `claim_notice`): its
    /// lease ends now, nothing else changes.
    async fn release_notice(
        &self,
        row: &sqlx::any::AnyRow,
        worker: &str,
    ) -> Result<(), StoreError> {
        let owner: String = row.try_get("owner")?;
        let name: String = row.try_get("name")?;
        let number: i64 = row.try_get("number")?;
        let event: String = row.try_get("event")?;
        let occurrence: String = row.try_get("occurrence")?;
        let target: String = row.try_get("target")?;
        sqlx::query(&format!(
            "UPDATE notices SET lease_owner = NULL, lease_until = $1 {WHERE_HELD}"
        ))
        // Expired at once ($1: WHERE_HELD numbers its parameters from $2).
        .bind(0_i64)
        .bind(owner)
        .bind(name)
        .bind(number)
        .bind(event)
        .bind(occurrence)
        .bind(target)
        .bind(worker)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The notice was delivered: it is never sent again. Only the lease
    /// holder's call counts; false when the lease was lost.
    pub async fn notice_sent(
        &self,
        claimed: &ClaimedNotice,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let n = sqlx::query(&format!(
            "UPDATE notices SET sent_at = $1, lease_owner = NULL, lease_until = 0, \
             last_error = NULL {WHERE_HELD}"
        ))
        .bind(ms(now))
        .bind(&claimed.key.repo.owner)
        .bind(&claimed.key.repo.name)
        .bind(int(claimed.key.number))
        .bind(&claimed.event)
        .bind(&claimed.occurrence)
        .bind(&claimed.target)
        .bind(&claimed.worker)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n > 0)
    }

    /// The notice was not delivered: counts the try, keeps `error` (one
    /// line, for the sticky comment) and releases it until `now + backoff`.
    pub async fn notice_failed(
        &self,
        claimed: &ClaimedNotice,
        now: DateTime<Utc>,
        backoff: Duration,
        error: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "UPDATE notices SET attempts = attempts + 1, next_at = $1, lease_owner = NULL, \
             lease_until = 0, last_error = $9 {WHERE_HELD}"
        ))
        .bind(ms(now) + dur_ms(backoff))
        .bind(&claimed.key.repo.owner)
        .bind(&claimed.key.repo.name)
        .bind(int(claimed.key.number))
        .bind(&claimed.event)
        .bind(&claimed.occurrence)
        .bind(&claimed.target)
        .bind(&claimed.worker)
        .bind(error)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The notices of `key` not delivered yet, oldest first.
    pub async fn notice_backlog(&self, key: &PrKey) -> Result<Vec<NoticeBacklog>, StoreError> {
        let rows = sqlx::query(
            "SELECT target, event, attempts, last_error FROM notices WHERE owner = $1 \
             AND name = $2 AND number = $3 AND sent_at IS NULL ORDER BY created, rank",
        )
        .bind(&key.repo.owner)
        .bind(&key.repo.name)
        .bind(int(key.number))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let attempts: i64 = row.try_get("attempts")?;
                Ok(NoticeBacklog {
                    target: row.try_get("target")?,
                    event: row.try_get("event")?,
                    attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                    last_error: row.try_get("last_error")?,
                })
            })
            .collect()
    }

    /// Notices waiting, and those of them that failed at least once.
    pub async fn notice_stats(&self) -> Result<NoticeStats, StoreError> {
        let row = sqlx::query(
            "SELECT count(*) AS n, sum(CASE WHEN attempts > 0 THEN 1 ELSE 0 END) AS f \
             FROM notices WHERE sent_at IS NULL",
        )
        .fetch_one(&self.pool)
        .await?;
        let n: i64 = row.try_get("n")?;
        let f: Option<i64> = row.try_get("f")?;
        Ok(NoticeStats {
            pending: uint(n),
            failing: uint(f.unwrap_or(0)),
        })
    }

    /// How long until the next notice is due (zero: now); `None` when none
    /// waits.
    pub async fn next_notice(&self, now: DateTime<Utc>) -> Result<Option<Duration>, StoreError> {
        let row = sqlx::query(
            "SELECT min(CASE WHEN lease_until < $1 THEN next_at ELSE lease_until END) AS at \
             FROM notices WHERE sent_at IS NULL",
        )
        .bind(ms(now))
        .fetch_one(&self.pool)
        .await?;
        let at: Option<i64> = row.try_get("at")?;
        Ok(at.map(|at| Duration::from_millis(u64::try_from(at - ms(now)).unwrap_or(0))))
    }

    /// Remembers that `repo`'s policy names `targets` (seen at `now`).
    pub async fn note_notice_targets(
        &self,
        repo: &RepoName,
        targets: &[String],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for target in targets {
            sqlx::query(
                "INSERT INTO notice_targets (target, owner, name, seen_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (target) DO UPDATE SET owner = excluded.owner, \
                 name = excluded.name, seen_at = excluded.seen_at",
            )
            .bind(target)
            .bind(&repo.owner)
            .bind(&repo.name)
            .bind(ms(now))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The targets policies named since `since`, and those with notices
    /// waiting (any age), by target; at most [`KNOWN_TARGETS_READ`] of each.
    pub async fn known_notice_targets(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<KnownTarget>, StoreError> {
        let mut known: std::collections::BTreeMap<String, KnownTarget> = Default::default();
        let seen = sqlx::query(
            "SELECT target, owner, name, seen_at FROM notice_targets WHERE seen_at >= $1 \
             ORDER BY target LIMIT $2",
        )
        .bind(ms(since))
        .bind(KNOWN_TARGETS_READ)
        .fetch_all(&self.pool)
        .await?;
        for row in seen {
            let target: String = row.try_get("target")?;
            let owner: String = row.try_get("owner")?;
            let name: String = row.try_get("name")?;
            let at: i64 = row.try_get("seen_at")?;
            let at = from_ms(at);
            known.insert(
                target.clone(),
                KnownTarget {
                    target,
                    seen: Some((format!("{owner}/{name}"), at)),
                    waiting: 0,
                },
            );
        }
        let waiting = sqlx::query(
            "SELECT target, count(*) AS n FROM notices WHERE sent_at IS NULL \
             GROUP BY target ORDER BY target LIMIT $1",
        )
        .bind(KNOWN_TARGETS_READ)
        .fetch_all(&self.pool)
        .await?;
        for row in waiting {
            let target: String = row.try_get("target")?;
            let n: i64 = row.try_get("n")?;
            known
                .entry(target.clone())
                .or_insert(KnownTarget {
                    target,
                    seen: None,
                    waiting: 0,
                })
                .waiting = uint(n);
        }
        Ok(known.into_values().collect())
    }

    /// A Slack target's thread for `key`: the parent's channel ID and `ts`.
    pub async fn notice_thread(
        &self,
        key: &PrKey,
        target: &str,
    ) -> Result<Option<(String, String)>, StoreError> {
        let row = sqlx::query(
            "SELECT channel, ts FROM notice_threads WHERE owner = $1 AND name = $2 \
             AND number = $3 AND target = $4",
        )
        .bind(&key.repo.owner)
        .bind(&key.repo.name)
        .bind(int(key.number))
        .bind(target)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some(row) => Some((row.try_get("channel")?, row.try_get("ts")?)),
            None => None,
        })
    }

    /// Remembers the thread's parent (the first one recorded stays).
    pub async fn set_notice_thread(
        &self,
        key: &PrKey,
        target: &str,
        channel: &str,
        ts: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO notice_threads (owner, name, number, target, channel, ts) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (owner, name, number, target) DO NOTHING",
        )
        .bind(&key.repo.owner)
        .bind(&key.repo.name)
        .bind(int(key.number))
        .bind(target)
        .bind(channel)
        .bind(ts)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The severity last announced for `key` (`None`: none was).
    pub async fn notice_severity(&self, key: &PrKey) -> Result<Option<String>, StoreError> {
        sqlx::query(
            "SELECT severity FROM notice_severities WHERE owner = $1 AND name = $2 AND number = $3",
        )
        .bind(&key.repo.owner)
        .bind(&key.repo.name)
        .bind(int(key.number))
        .fetch_optional(&self.pool)
        .await?
        .map(|row| row.try_get("severity"))
        .transpose()
        .map_err(Into::into)
    }

    /// Records `severity` as the one announced for `key`. Called after its
    /// notices are recorded: a crash between the two records the same
    /// notices again next time, which changes nothing.
    pub async fn set_notice_severity(&self, key: &PrKey, severity: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO notice_severities (owner, name, number, severity) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (owner, name, number) DO UPDATE SET severity = excluded.severity",
        )
        .bind(&key.repo.owner)
        .bind(&key.repo.name)
        .bind(int(key.number))
        .bind(severity)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

/// The claimed notice's row, only while `$8` holds its lease. Parameters
/// $2–$7: owner, name, number, event, occurrence, target.
const WHERE_HELD: &str = "WHERE owner = $2 AND name = $3 AND number = $4 AND event = $5 \
     AND occurrence = $6 AND target = $7 AND lease_owner = $8";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::scratch;

    fn key() -> PrKey {
        PrKey {
            installation: 1,
            repo: RepoName {
                owner: "octo".into(),
                name: "app".into(),
            },
            number: 7,
        }
    }

    fn notice(event: &str, rank: i64) -> NewNotice {
        NewNotice {
            event: event.into(),
            occurrence: String::new(),
            target: "slack:#incidents".into(),
            rank,
            payload: "{}".into(),
        }
    }

    #[tokio::test]
    async fn recorded_once_claimed_in_order_sent_once() {
        let store = scratch().await;
        let now = Utc::now();
        let lease = Duration::from_secs(30);
        let both = [notice("merged", 4), notice("declared", 0)];
        assert_eq!(store.record_notices(&key(), &both, now).await.ok(), Some(2));
        assert_eq!(store.record_notices(&key(), &both, now).await.ok(), Some(0));
        let first = store.claim_notice("a", now, lease).await.ok().flatten();
        let first = first.expect("one due");
        assert_eq!(first.event, "declared");
        // The merge waits for the parent; and the parent is leased.
        assert!(
            store
                .claim_notice("b", now, lease)
                .await
                .ok()
                .flatten()
                .is_none()
        );
        store
            .notice_failed(&first, now, Duration::from_secs(5), "down")
            .await
            .expect("failed");
        let backlog = store.notice_backlog(&key()).await.expect("backlog");
        assert_eq!(backlog[0].attempts, 1);
        assert_eq!(backlog[0].last_error.as_deref(), Some("down"));
        let later = now + chrono::Duration::seconds(6);
        let again = store.claim_notice("b", later, lease).await.ok().flatten();
        let again = again.expect("due after the back-off");
        assert_eq!(again.event, "declared");
        // Only the lease holder marks it sent.
        assert!(!store.notice_sent(&first, later).await.expect("sent"));
        assert!(store.notice_sent(&again, later).await.expect("sent"));
        let merged = store.claim_notice("b", later, lease).await.ok().flatten();
        assert_eq!(merged.map(|m| m.event).as_deref(), Some("merged"));
        assert_eq!(
            store.notice_stats().await.ok(),
            Some(NoticeStats {
                pending: 1,
                failing: 0
            })
        );
    }

    /// Two notices due at once (a Slack one and a webhook one of the same
    /// moment): one claim takes exactly one, and the other stays free for
    /// the next claim. On PostgreSQL the claim once leased both and
    /// returned one: the other was held for nobody until its lease expired.
    #[tokio::test]
    async fn one_claim_takes_one_notice_and_leaves_the_other_free() {
        let store = scratch().await;
        let now = Utc::now();
        let lease = Duration::from_secs(30);
        let webhook = NewNotice {
            target: "webhook:STATUS".into(),
            ..notice("declared", 0)
        };
        let both = [notice("declared", 0), webhook];
        assert_eq!(store.record_notices(&key(), &both, now).await.ok(), Some(2));
        let first = store.claim_notice("a", now, lease).await.expect("claim");
        let first = first.expect("one due");
        let second = store.claim_notice("b", now, lease).await.expect("claim");
        let second = second.expect("the other one is still free");
        let mut targets = [first.target.clone(), second.target.clone()];
        targets.sort();
        assert_eq!(targets, ["slack:#incidents", "webhook:STATUS"]);
        assert!(
            store
                .claim_notice("c", now, lease)
                .await
                .expect("claim")
                .is_none()
        );
        assert!(store.notice_sent(&first, now).await.expect("sent"));
        assert!(store.notice_sent(&second, now).await.expect("sent"));
        assert_eq!(
            store.notice_stats().await.ok(),
            Some(NoticeStats::default())
        );
    }

    #[tokio::test]
    async fn known_targets_are_the_recent_policies_and_the_waiting_notices() {
        let store = scratch().await;
        let now = Utc::now();
        let old = now - chrono::Duration::days(40);
        let repo = key().repo;
        store
            .note_notice_targets(&repo, &["webhook:OLD".into()], old)
            .await
            .expect("noted");
        store
            .note_notice_targets(
                &repo,
                &["webhook:OPS".into(), "slack:#incidents".into()],
                now,
            )
            .await
            .expect("noted");
        // Noted again: one row, the latest sighting.
        store
            .note_notice_targets(&repo, &["webhook:OPS".into()], now)
            .await
            .expect("noted");
        let waiting = NewNotice {
            target: "webhook:PAGER".into(),
            ..notice("declared", 0)
        };
        store
            .record_notices(&key(), &[notice("declared", 0), waiting], now)
            .await
            .expect("recorded");
        let since = now - chrono::Duration::days(30);
        let known = store.known_notice_targets(since).await.expect("known");
        let summary: Vec<(&str, bool, u64)> = known
            .iter()
            .map(|k| (k.target.as_str(), k.seen.is_some(), k.waiting))
            .collect();
        assert_eq!(
            summary,
            [
                ("slack:#incidents", true, 1),
                ("webhook:OPS", true, 0),
                ("webhook:PAGER", false, 1),
            ]
        );
        assert_eq!(
            known[1].seen.as_ref().map(|(r, at)| (r.as_str(), ms(*at))),
            Some(("octo/app", ms(now)))
        );
    }

    #[tokio::test]
    async fn the_announced_severity_is_remembered() {
        let store = scratch().await;
        assert_eq!(store.notice_severity(&key()).await.ok(), Some(None));
        store.set_notice_severity(&key(), "P1").await.expect("set");
        store.set_notice_severity(&key(), "P0").await.expect("set");
        assert_eq!(
            store.notice_severity(&key()).await.ok(),
            Some(Some("P0".into()))
        );
    }
}
