//! The latest hotfix verdict of each pull request on each commit it had as
//! its head (`commit_verdicts`). A check run belongs to a commit and shows
//! only its last writer's verdict; this record keeps every hotfix pull
//! request's, so that a `success` is written on a shared head only when no
//! other hotfix pull request still open on it has an unmet verdict (see
//! `engine::publish`).
//!
//! A pull request whose evaluation failed has no verdict yet, but may be a
//! hotfix: its "could not evaluate" placeholder records [`UNEVALUATED`]
//! (unmet) until its own next verdict replaces the record, or, when it
//! turns out not to be a hotfix, removes it ([`Store::forget_commit_verdict`]).

use chrono::{DateTime, Utc};

use super::{Store, StoreError, ms};
use crate::events::RepoName;

/// The recorded conclusion of a pull request whose evaluation failed
/// (its "could not evaluate" placeholder): unmet, like any conclusion but
/// `success`, until the pull request is judged.
pub const UNEVALUATED: &str = "unevaluated";

impl Store {
    /// Records `conclusion` (`success`, `failure`, …) as hotfix pull request
    /// `number`'s latest verdict on commit `sha` of `repo`, at `now`.
    /// Repository names are compared lower-cased (GitHub's are
    /// case-insensitive).
    pub async fn record_commit_verdict(
        &self,
        repo: &RepoName,
        sha: &str,
        number: u64,
        conclusion: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO commit_verdicts (owner, name, sha, number, conclusion, recorded) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (owner, name, sha, number) DO UPDATE \
             SET conclusion = excluded.conclusion, recorded = excluded.recorded",
        )
        .bind(repo.owner.to_lowercase())
        .bind(repo.name.to_lowercase())
        .bind(sha.to_lowercase())
        .bind(i64::try_from(number).unwrap_or(i64::MAX))
        .bind(conclusion)
        .bind(ms(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Removes pull request `number`'s record on commit `sha` of `repo`:
    /// it was judged not a hotfix there, so it holds no other pull
    /// request's `success` back. Only that pull request's row is removed.
    pub async fn forget_commit_verdict(
        &self,
        repo: &RepoName,
        sha: &str,
        number: u64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "DELETE FROM commit_verdicts \
             WHERE owner = $1 AND name = $2 AND sha = $3 AND number = $4",
        )
        .bind(repo.owner.to_lowercase())
        .bind(repo.name.to_lowercase())
        .bind(sha.to_lowercase())
        .bind(i64::try_from(number).unwrap_or(i64::MAX))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The other hotfix pull requests (not `own`) whose latest recorded
    /// verdict on commit `sha` of `repo` is not `success`, by number.
    pub async fn unmet_commit_verdicts(
        &self,
        repo: &RepoName,
        sha: &str,
        own: u64,
    ) -> Result<Vec<u64>, StoreError> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT number FROM commit_verdicts \
             WHERE owner = $1 AND name = $2 AND sha = $3 AND number <> $4 \
             AND conclusion <> 'success' ORDER BY number",
        )
        .bind(repo.owner.to_lowercase())
        .bind(repo.name.to_lowercase())
        .bind(sha.to_lowercase())
        .bind(i64::try_from(own).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(n,)| u64::try_from(n).ok())
            .collect())
    }
}
