//! Pull requests evaluated while the policy in force could not be read
//! (`unjudged_pulls`): the push that changes the policy evaluates them
//! again beside the open ones (`Engine::commit_work`), so a hotfix closed
//! meanwhile by someone without write access, whose escalation continues,
//! gets its deadline watched once the policy can be read.

use sqlx::Row as _;

use super::{Store, StoreError, int, uint};
use crate::events::{PrKey, RepoName};

impl Store {
    /// Remembers that `key` was evaluated under a policy that could not be
    /// read. Idempotent.
    pub async fn remember_unjudged(&self, key: &PrKey) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO unjudged_pulls (installation, owner, name, number) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(int(key.installation))
        .bind(&key.repo.owner)
        .bind(&key.repo.name)
        .bind(int(key.number))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The pull requests of `repo` (in `installation`) evaluated under a
    /// policy that could not be read, ascending.
    pub async fn unjudged(
        &self,
        installation: u64,
        repo: &RepoName,
    ) -> Result<Vec<u64>, StoreError> {
        let rows = sqlx::query(
            "SELECT number FROM unjudged_pulls WHERE installation = $1 AND owner = $2 \
             AND name = $3 ORDER BY number",
        )
        .bind(int(installation))
        .bind(&repo.owner)
        .bind(&repo.name)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok(uint(r.try_get("number")?)))
            .collect()
    }

    /// Forgets `numbers` of `repo` (queued for evaluation again).
    pub async fn forget_unjudged(
        &self,
        installation: u64,
        repo: &RepoName,
        numbers: &[u64],
    ) -> Result<(), StoreError> {
        for number in numbers {
            sqlx::query(
                "DELETE FROM unjudged_pulls WHERE installation = $1 AND owner = $2 \
                 AND name = $3 AND number = $4",
            )
            .bind(int(installation))
            .bind(&repo.owner)
            .bind(&repo.name)
            .bind(int(*number))
            .execute(&self.pool)
            .await?;
        }
        Ok(())
    }
}
