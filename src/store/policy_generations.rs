//! A counter per repository that says when its policy file last changed
//! (`policy_generations`), so that every instance sharing the store stops
//! trusting a policy it holds in memory once any instance received the
//! `push` that changed it.
//!
//! Written by the intake of a `push` that changes `.github/hotfix-policy.yml`
//! on the repository's default branch (`server::webhook`, before the
//! delivery is answered, so GitHub never sees it accepted without it). Read
//! by every evaluation before it uses a cached policy (`engine::PolicyCache`):
//! a policy loaded at another generation is read from GitHub again.

use sqlx::Row as _;

use super::{Store, StoreError, uint};
use crate::events::RepoName;

/// The policy generations that decide whether a cached policy is current:
/// the repository's own (its file) and that of the repository its policy
/// falls back to (the organisation's `.github`). A repository without a
/// recorded change is at 0. Compared for equality only: a store that was
/// lost starts again at 0, and an instance's older count must then still
/// differ, not look newer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct PolicyGeneration {
    /// `policy_generations.generation` of the repository itself.
    pub own: u64,
    /// The same for the fallback repository.
    pub fallback: u64,
}

/// The table's key: GitHub's names are case-insensitive, and a push
/// delivery and an evaluation's client may spell one repository
/// differently (a rename that changes only the case).
fn key(repo: &RepoName) -> (String, String) {
    (repo.owner.to_lowercase(), repo.name.to_lowercase())
}

impl Store {
    /// Records that `repo`'s policy file changed (a `push` to its default
    /// branch touched it): its generation goes up by one. Returns the new
    /// generation (1 for the first change). Repeats of one delivery bump
    /// again; that costs each instance one conditional read of the file.
    pub async fn bump_policy_generation(&self, repo: &RepoName) -> Result<u64, StoreError> {
        let (owner, name) = key(repo);
        let row = sqlx::query(
            "INSERT INTO policy_generations (owner, name, generation) VALUES ($1, $2, 1) \
             ON CONFLICT (owner, name) DO UPDATE \
             SET generation = policy_generations.generation + 1 \
             RETURNING generation",
        )
        .bind(&owner)
        .bind(&name)
        .fetch_one(&self.pool)
        .await?;
        Ok(uint(row.try_get("generation")?))
    }

    /// The current generations of `repo`'s policy and of `fallback`'s (the
    /// repository whose policy `repo` falls back to), in one read.
    pub async fn policy_generation(
        &self,
        repo: &RepoName,
        fallback: &RepoName,
    ) -> Result<PolicyGeneration, StoreError> {
        let (owner, name) = key(repo);
        let (fallback_owner, fallback_name) = key(fallback);
        let rows = sqlx::query(
            "SELECT owner, name, generation FROM policy_generations \
             WHERE (owner = $1 AND name = $2) OR (owner = $3 AND name = $4)",
        )
        .bind(&owner)
        .bind(&name)
        .bind(&fallback_owner)
        .bind(&fallback_name)
        .fetch_all(&self.pool)
        .await?;
        let mut found = PolicyGeneration::default();
        for row in rows {
            let (o, n): (String, String) = (row.try_get("owner")?, row.try_get("name")?);
            let generation = uint(row.try_get("generation")?);
            // A repository may be its own fallback (the `.github` one).
            if o == owner && n == name {
                found.own = generation;
            }
            if o == fallback_owner && n == fallback_name {
                found.fallback = generation;
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::scratch;
    use super::*;

    fn repo(owner: &str, name: &str) -> RepoName {
        RepoName {
            owner: owner.into(),
            name: name.into(),
        }
    }

    #[tokio::test]
    async fn a_policy_push_bumps_its_repository_and_is_read_with_the_fallback() {
        let store = scratch().await;
        let app = repo("octo", "app");
        let org = repo("octo", ".github");
        assert_eq!(
            store.policy_generation(&app, &org).await.expect("read"),
            PolicyGeneration::default(),
            "no change recorded: generation 0"
        );
        assert_eq!(store.bump_policy_generation(&app).await.expect("bump"), 1);
        // Another spelling of the same repository is the same counter.
        assert_eq!(
            store
                .bump_policy_generation(&repo("Octo", "App"))
                .await
                .expect("bump"),
            2
        );
        assert_eq!(
            store.policy_generation(&app, &org).await.expect("read"),
            PolicyGeneration {
                own: 2,
                fallback: 0
            }
        );
        assert_eq!(store.bump_policy_generation(&org).await.expect("bump"), 1);
        assert_eq!(
            store.policy_generation(&app, &org).await.expect("read"),
            PolicyGeneration {
                own: 2,
                fallback: 1
            }
        );
        // Another repository of the owner sees the organisation's change
        // and none of app's; the `.github` repository is its own fallback.
        assert_eq!(
            store
                .policy_generation(&repo("octo", "web"), &org)
                .await
                .expect("read"),
            PolicyGeneration {
                own: 0,
                fallback: 1
            }
        );
        assert_eq!(
            store.policy_generation(&org, &org).await.expect("read"),
            PolicyGeneration {
                own: 1,
                fallback: 1
            }
        );
        // Another owner's `.github` is not this one's.
        assert_eq!(
            store
                .policy_generation(&repo("other", "app"), &repo("other", ".github"))
                .await
                .expect("read"),
            PolicyGeneration::default()
        );
    }

    /// Not a test of behaviour: the cost of the read every evaluation now
    /// makes. `cargo test --lib policy_generation_read_cost -- --ignored
    /// --nocapture` (on PostgreSQL with `TEST_DATABASE_URL`).
    #[tokio::test]
    #[ignore = "a measurement, not a check"]
    async fn policy_generation_read_cost() {
        const READS: u32 = 1_000;
        let store = scratch().await;
        let app = repo("octo", "app");
        let org = repo("octo", ".github");
        store.bump_policy_generation(&app).await.expect("bump");
        store.bump_policy_generation(&org).await.expect("bump");
        // Warm the connection and its prepared statement.
        store.policy_generation(&app, &org).await.expect("read");
        let started = std::time::Instant::now();
        for _ in 0..READS {
            store.policy_generation(&app, &org).await.expect("read");
        }
        let took = started.elapsed();
        println!(
            "{:?}: {READS} reads of the policy generation in {took:?}, {:?} each",
            store.backend(),
            took / READS
        );
    }
}
