//! Proof that a commit has no check run of this app with a given name yet,
//! so that the first write of that run may skip the lookup on GitHub
//! (`GET /repos/{o}/{r}/commits/{sha}/check-runs?check_name=`).
//!
//! Two facts, both kept until the store is lost, never trimmed apart:
//! - a *fresh suite*: GitHub delivered `check_suite` `requested` for the
//!   commit with `check_suite.latest_check_runs_count` 0. GitHub sends it
//!   once per app and commit ("a GitHub App only receives one check_suite
//!   event per commit SHA, even if you push the commit SHA to more than one
//!   branch"), when the commit is first pushed to the repository, so at
//!   that moment no run of this app was on it; a commit the app saw before
//!   this store existed (an upgrade, a lost store) never gets one again;
//! - a *claim*: every writer of a run (the evaluation, the merge-back
//!   check, the direct-push audit) records (commit, check name) before its
//!   `POST /check-runs`. A run can exist only under a claim.
//!
//! So the run is proven absent only to the writer whose claim is the first
//! for (commit, name) *and* finds the commit's fresh suite. Any other
//! writer (a second pull request on the same head, a retry after a crash
//! between the `POST` and recording the id, a second instance that lost
//! the race for the claim) looks the run up, as without a store.

use chrono::{DateTime, Utc};

use super::{Store, StoreError, ms};
use crate::events::RepoName;

/// The repository as both tables key it: GitHub's names are
/// case-insensitive, and a delivery and a client may spell one repository
/// differently (a rename that changes only the case). A fresh suite and a
/// claim of one repository must meet, or a claim would be missed and a
/// run taken for absent.
fn key(repo: &RepoName) -> (String, String) {
    (repo.owner.to_lowercase(), repo.name.to_lowercase())
}

impl Store {
    /// Records that GitHub created this app's check suite for `sha` in
    /// `repo` with no check run in it (`check_suite.requested`,
    /// `latest_check_runs_count` 0), received at `now`. Idempotent: the
    /// first receipt stays.
    pub async fn record_fresh_suite(
        &self,
        repo: &RepoName,
        sha: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (owner, name) = key(repo);
        sqlx::query(
            "INSERT INTO fresh_suites (owner, name, sha, received) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (owner, name, sha) DO NOTHING",
        )
        .bind(&owner)
        .bind(&name)
        .bind(sha)
        .bind(ms(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Claims the check run `check_name` on `sha` in `repo` before a write
    /// that may create it; call it before every `POST /check-runs`.
    /// Returns true only when this call made the first claim for (commit,
    /// name) and the commit's check suite was delivered fresh: no run of
    /// this app with this name can exist on it, and the lookup may be
    /// skipped. False means "unknown" (look the run up), never "exists".
    /// An error means the claim may not be recorded: the caller must not
    /// create the run (a later writer would take its absence as proof).
    pub async fn claim_check_run(
        &self,
        repo: &RepoName,
        sha: &str,
        check_name: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let (owner, name) = key(repo);
        // The insert is the atomic step: of two writers (two pull requests
        // on one head, two instances) exactly one inserts the row.
        let first = sqlx::query(
            "INSERT INTO check_claims (owner, name, sha, check_name, claimed) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (owner, name, sha, check_name) DO NOTHING",
        )
        .bind(&owner)
        .bind(&name)
        .bind(sha)
        .bind(check_name)
        .bind(ms(now))
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1;
        if !first {
            return Ok(false);
        }
        let fresh = sqlx::query(
            "SELECT 1 AS one FROM fresh_suites WHERE owner = $1 AND name = $2 AND sha = $3",
        )
        .bind(&owner)
        .bind(&name)
        .bind(sha)
        .fetch_optional(&self.pool)
        .await?;
        Ok(fresh.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::scratch;
    use super::*;

    fn repo(name: &str) -> RepoName {
        RepoName {
            owner: "octo".into(),
            name: name.into(),
        }
    }

    #[tokio::test]
    async fn only_the_first_claim_on_a_fresh_suite_proves_the_run_absent() {
        let store = scratch().await;
        let now = Utc::now();
        // No fresh suite (a commit pushed before the store, or a lost
        // store): never proven, first claim or not.
        assert!(
            !store
                .claim_check_run(&repo("app"), "aaa1111", "hotfix-policy", now)
                .await
                .expect("claim")
        );
        store
            .record_fresh_suite(&repo("app"), "bbb2222", now)
            .await
            .expect("suite");
        store
            .record_fresh_suite(&repo("app"), "bbb2222", now)
            .await
            .expect("again: idempotent");
        assert!(
            store
                .claim_check_run(&repo("app"), "bbb2222", "hotfix-policy", now)
                .await
                .expect("claim")
        );
        // A second writer (another pull request on the head, a retry after
        // a crash between the POST and the record, another instance).
        assert!(
            !store
                .claim_check_run(&repo("app"), "bbb2222", "hotfix-policy", now)
                .await
                .expect("claim")
        );
        // Claims are per check name and per repository.
        assert!(
            store
                .claim_check_run(&repo("app"), "bbb2222", "hotfix-policy/merge-back", now)
                .await
                .expect("claim")
        );
        assert!(
            !store
                .claim_check_run(&repo("other"), "bbb2222", "hotfix-policy", now)
                .await
                .expect("claim")
        );
        // One repository however its name is spelled: a delivery saying
        // `APP` and a writer saying `app` meet.
        store
            .record_fresh_suite(&repo("APP"), "eee5555", now)
            .await
            .expect("suite");
        assert!(
            store
                .claim_check_run(&repo("app"), "eee5555", "hotfix-policy", now)
                .await
                .expect("claim")
        );
        assert!(
            !store
                .claim_check_run(&repo("APP"), "eee5555", "hotfix-policy", now)
                .await
                .expect("claim")
        );
        // A claim made before the suite was recorded stays a claim.
        assert!(
            !store
                .claim_check_run(&repo("app"), "ccc3333", "hotfix-policy", now)
                .await
                .expect("claim")
        );
        store
            .record_fresh_suite(&repo("app"), "ccc3333", now)
            .await
            .expect("suite");
        assert!(
            !store
                .claim_check_run(&repo("app"), "ccc3333", "hotfix-policy", now)
                .await
                .expect("claim")
        );
    }

    #[tokio::test]
    async fn of_writers_racing_for_one_claim_exactly_one_is_told_the_run_is_absent() {
        let store = scratch().await;
        let now = Utc::now();
        store
            .record_fresh_suite(&repo("app"), "ddd4444", now)
            .await
            .expect("suite");
        let racers = (0..8).map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .claim_check_run(&repo("app"), "ddd4444", "hotfix-policy", Utc::now())
                    .await
            })
        });
        let mut proven = 0;
        for racer in racers.collect::<Vec<_>>() {
            if racer.await.expect("task").expect("claim") {
                proven += 1;
            }
        }
        assert_eq!(proven, 1);
    }
}
