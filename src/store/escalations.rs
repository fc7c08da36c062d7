//! The escalation levels posted on each pull request (`escalation_levels`),
//! for the deadline sweep: which level is due is decided from here, not by
//! listing the pull request's comments, and a level is posted once in the
//! pull request's life (closing and reopening included).

use sqlx::Row as _;

use super::{Store, StoreError, int};
use crate::engine::escalation::RecordError;
use crate::events::PrKey;

/// What the store knows of one pull request's escalations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EscalationLevels {
    /// The highest level posted (0 for none).
    pub posted: u8,
    /// A level whose posting started and was not seen to finish (0 for
    /// none): whether its comment exists is not known from here.
    pub posting: u8,
}

fn level(v: i64) -> u8 {
    u8::try_from(v).unwrap_or(u8::MAX)
}

impl Store {
    /// The recorded levels of `key`, `None` when nothing is recorded.
    pub async fn escalation_levels(
        &self,
        key: &PrKey,
    ) -> Result<Option<EscalationLevels>, StoreError> {
        let row = sqlx::query(
            "SELECT posted, posting FROM escalation_levels WHERE installation = $1 \
             AND owner = $2 AND name = $3 AND number = $4",
        )
        .bind(int(key.installation))
        .bind(&key.repo.owner)
        .bind(&key.repo.name)
        .bind(int(key.number))
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some(r) => Some(EscalationLevels {
                posted: level(r.try_get("posted")?),
                posting: level(r.try_get("posting")?),
            }),
            None => None,
        })
    }

    /// Records that levels up to `posted` are posted on `key` (as seen in
    /// the app's own comments, or just posted), clearing an unfinished
    /// posting at or below it. Never lowers what is recorded.
    pub async fn escalation_posted(&self, key: &PrKey, posted: u8) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO escalation_levels (installation, owner, name, number, posted, posting) \
             VALUES ($1, $2, $3, $4, $5, 0) \
             ON CONFLICT (installation, owner, name, number) DO UPDATE SET \
             posted = CASE WHEN escalation_levels.posted > excluded.posted \
                 THEN escalation_levels.posted ELSE excluded.posted END, \
             posting = CASE WHEN escalation_levels.posting <= excluded.posted \
                 THEN 0 ELSE escalation_levels.posting END",
        )
        .bind(int(key.installation))
        .bind(&key.repo.owner)
        .bind(&key.repo.name)
        .bind(int(key.number))
        .bind(i64::from(posted))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records what the app's own comments on `key` show was posted, after
    /// an unfinished posting: `posted` raised to `seen`, the posting
    /// cleared (its comment is among them, or it was never created).
    pub async fn escalation_seen(&self, key: &PrKey, seen: u8) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO escalation_levels (installation, owner, name, number, posted, posting) \
             VALUES ($1, $2, $3, $4, $5, 0) \
             ON CONFLICT (installation, owner, name, number) DO UPDATE SET \
             posted = CASE WHEN escalation_levels.posted > excluded.posted \
                 THEN escalation_levels.posted ELSE excluded.posted END, \
             posting = 0",
        )
        .bind(int(key.installation))
        .bind(&key.repo.owner)
        .bind(&key.repo.name)
        .bind(int(key.number))
        .bind(i64::from(seen))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records that posting `level` on `key` starts (before the comment is
    /// created).
    pub async fn escalation_posting(&self, key: &PrKey, level: u8) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO escalation_levels (installation, owner, name, number, posted, posting) \
             VALUES ($1, $2, $3, $4, 0, $5) \
             ON CONFLICT (installation, owner, name, number) DO UPDATE SET posting = excluded.posting",
        )
        .bind(int(key.installation))
        .bind(&key.repo.owner)
        .bind(&key.repo.name)
        .bind(int(key.number))
        .bind(i64::from(level))
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

fn record(e: StoreError) -> RecordError {
    RecordError(e.to_string())
}

#[async_trait::async_trait]
impl crate::engine::escalation::LevelRecord for Store {
    async fn levels(&self, key: &PrKey) -> Result<Option<(u8, u8)>, RecordError> {
        Ok(self
            .escalation_levels(key)
            .await
            .map_err(record)?
            .map(|l| (l.posted, l.posting)))
    }

    async fn posted(&self, key: &PrKey, level: u8) -> Result<(), RecordError> {
        self.escalation_posted(key, level).await.map_err(record)
    }

    async fn seen(&self, key: &PrKey, level: u8) -> Result<(), RecordError> {
        self.escalation_seen(key, level).await.map_err(record)
    }

    async fn posting(&self, key: &PrKey, level: u8) -> Result<(), RecordError> {
        self.escalation_posting(key, level).await.map_err(record)
    }
}
