//! Leases on check-run writes: one writer of a check run (repository, head
//! commit, check name) at a time across instances, as rows of the
//! `leaders` table (see [`Store::try_lead`]). The engine holds one for the
//! whole of a write (`engine::publish::serial`).

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{Store, StoreError};
use crate::events::RepoName;

/// How long a check-run write lease lasts unless renewed. A write is
/// usually a lookup and one create or update plus two store statements (a
/// second or two), but one GitHub call may retry for over 40 s, so the
/// writer renews the lease every 10 s (as jobs renew theirs): two renewals
/// may fail before it lapses. A crashed holder's lease lapses within 30 s,
/// so it blocks the run's writes only until a retry of the job (its
/// backoff) takes it over.
pub const CHECK_RUN_WRITE_LEASE: Duration = Duration::from_secs(30);

/// The lease's task name for the run `name` on `head_sha` of `repo`:
/// `check-run:{owner}/{repo}@{sha}:{name}`, owner, repository and sha
/// lower-cased (GitHub's names are case-insensitive), so that every
/// spelling of one run takes one lease.
pub fn check_run_write_task(repo: &RepoName, head_sha: &str, name: &str) -> String {
    format!(
        "check-run:{}@{}:{name}",
        repo.to_string().to_lowercase(),
        head_sha.to_lowercase()
    )
}

impl Store {
    /// Takes (or renews) `holder`'s lease on writing the run `name` on
    /// `head_sha` of `repo`, until `now` + [`CHECK_RUN_WRITE_LEASE`]. True
    /// when `holder` holds it now; false while another holder's lease runs.
    pub async fn lease_check_run_write(
        &self,
        repo: &RepoName,
        head_sha: &str,
        name: &str,
        holder: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.try_lead(
            &check_run_write_task(repo, head_sha, name),
            holder,
            now,
            CHECK_RUN_WRITE_LEASE,
        )
        .await
    }

    /// Gives back `holder`'s lease on writing that run (a lease another
    /// holder took over after it expired is left alone).
    pub async fn release_check_run_write(
        &self,
        repo: &RepoName,
        head_sha: &str,
        name: &str,
        holder: &str,
    ) -> Result<(), StoreError> {
        self.resign(&check_run_write_task(repo, head_sha, name), holder)
            .await
    }
}
