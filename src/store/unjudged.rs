//! Pull requests evaluated while the policy in force could not be read
//! (`unjudged_pulls`): the push that changes the policy evaluates them
//! again beside the open ones (`Engine::commit_work`), so a hotfix closed
//! meanwhile by someone without write access, whose escalation continues,
//! gets its deadline watched once the policy can be read.

use sqlx::Row as _;

use super::{Store, StoreError, int, uint};
use crate::events::{PrKey, RepoName};

/// One pull request evaluated under a policy that could not be read, as
/// [`Store::unjudged`] read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unjudged {
    /// The pull request's number.
    pub number: u64,
    /// The recording read (strictly increasing per pull request).
    pub seq: i64,
}

impl Store {
    /// Remembers that `key` was evaluated under a policy that could not be
    /// read; a new recording of it each time (see [`Unjudged::seq`]).
    pub async fn remember_unjudged(&self, key: &PrKey) -> Result<(), StoreError> {
        // A strictly increasing stamp per row: wall-clock microseconds, or
        // one more than the row's last, whichever is larger.
        let now = chrono::Utc::now().timestamp_micros();
        sqlx::query(
            "INSERT INTO unjudged_pulls (installation, owner, name, number, seq) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (installation, owner, name, number) \
             DO UPDATE SET seq = CASE WHEN unjudged_pulls.seq >= excluded.seq \
                 THEN unjudged_pulls.seq + 1 ELSE excluded.seq END",
        )
        .bind(int(key.installation))
        .bind(&key.repo.owner)
        .bind(&key.repo.name)
        .bind(int(key.number))
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The pull requests of `repo` (in `installation`) evaluated under a
    /// policy that could not be read, ascending by number, each with the
    /// recording read.
    pub async fn unjudged(
        &self,
        installation: u64,
        repo: &RepoName,
    ) -> Result<Vec<Unjudged>, StoreError> {
        let rows = sqlx::query(
            "SELECT number, seq FROM unjudged_pulls WHERE installation = $1 AND owner = $2 \
             AND name = $3 ORDER BY number",
        )
        .bind(int(installation))
        .bind(&repo.owner)
        .bind(&repo.name)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Unjudged {
                    number: uint(r.try_get("number")?),
                    seq: r.try_get("seq")?,
                })
            })
            .collect()
    }

    /// Forgets the recordings `read` of `repo` (queued for evaluation
    /// again): a pull request recorded again since it was read keeps its
    /// row, so the next change of the policy evaluates it too.
    pub async fn forget_unjudged(
        &self,
        installation: u64,
        repo: &RepoName,
        read: &[Unjudged],
    ) -> Result<(), StoreError> {
        for one in read {
            sqlx::query(
                "DELETE FROM unjudged_pulls WHERE installation = $1 AND owner = $2 \
                 AND name = $3 AND number = $4 AND seq <= $5",
            )
            .bind(int(installation))
            .bind(&repo.owner)
            .bind(&repo.name)
            .bind(int(one.number))
            .bind(one.seq)
            .execute(&self.pool)
            .await?;
        }
        Ok(())
    }
}
