//! The policy in force per repository: the repository's file on its default
//! branch, else the organisation's `.github` repository's, else the built-in
//! default. Parsed once and kept for a while; dropped when a push to the
//! default branch touches the file (and after `TTL` in case that push was
//! missed).

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use moka::future::Cache;

use crate::events::RepoName;
use crate::github::{ErrorKind, GitHubError, RepoClient};
use crate::policy::{self, POLICY_PATH, Policy, PolicyError, PolicySource};

/// How long a loaded policy is kept when no push says it changed.
const TTL: Duration = Duration::from_secs(10 * 60);
/// Repositories whose policy is kept; beyond it the least used go first (a
/// refetch costs one conditional request).
const MAX_REPOSITORIES: u64 = 4_096;

/// The organisation-wide fallback lives in this repository.
pub const ORG_POLICY_REPO: &str = ".github";

#[derive(Debug)]
pub struct LoadedPolicy {
    pub source: PolicySource,
    /// Where the file was read, for messages: `.github/hotfix-policy.yml`,
    /// or `acme/.github:.github/hotfix-policy.yml` for the organisation's.
    pub shown_path: String,
    pub policy: Result<Policy, Vec<PolicyError>>,
}

/// Loaded policies by repository (moka: TTL, a size bound, and one load
/// per repository however many evaluations miss at once).
pub struct PolicyCache {
    entries: Cache<RepoName, Arc<LoadedPolicy>>,
    /// Counts `forget` calls: a load that a push overtook is not kept.
    forgets: AtomicU64,
}

impl Default for PolicyCache {
    fn default() -> PolicyCache {
        PolicyCache {
            entries: Cache::builder()
                .max_capacity(MAX_REPOSITORIES)
                .time_to_live(TTL)
                .support_invalidation_closures()
                .build(),
            forgets: AtomicU64::new(0),
        }
    }
}

impl PolicyCache {
    /// Drops `repo`'s policy (a push changed its file); for the
    /// organisation's `.github` repository also every repository that fell
    /// back to the organisation's policy.
    pub fn forget(&self, repo: &RepoName) {
        self.forgets.fetch_add(1, Ordering::SeqCst);
        let repo = repo.clone();
        let org_changed = repo.name == ORG_POLICY_REPO;
        // Takes effect for every read at once (moka applies the predicate on
        // reads until its housekeeping removes the entries). Fails only
        // without `support_invalidation_closures`, which `default` sets.
        let _ = self.entries.invalidate_entries_if(move |key, loaded| {
            *key == repo || (org_changed && loaded.source == PolicySource::Organization)
        });
    }

    /// The policy in force for the client's repository, loaded through the
    /// contents API (`GET /repos/{owner}/{repo}/contents/{path}`) on a miss.
    /// Errors: what GitHub answered, when it was not "no such file".
    pub async fn get(&self, client: &RepoClient) -> Result<Arc<LoadedPolicy>, GitHubError> {
        self.get_or_load(client.repo_name(), load(client)).await
    }

    /// The cached policy for `repo`, else the result of `load`: concurrent
    /// misses on one repository wait for a single load. A failed load is
    /// not kept; every caller waiting on it gets its error.
    async fn get_or_load(
        &self,
        repo: RepoName,
        load: impl Future<Output = Result<LoadedPolicy, GitHubError>>,
    ) -> Result<Arc<LoadedPolicy>, GitHubError> {
        let forgets = self.forgets.load(Ordering::SeqCst);
        let loaded = self
            .entries
            .try_get_with(repo.clone(), async { load.await.map(Arc::new) })
            .await
            .map_err(Arc::unwrap_or_clone)?;
        // A push's `forget` during the load may have come after the file
        // was read: use the answer this once, but do not keep it.
        if self.forgets.load(Ordering::SeqCst) != forgets {
            self.entries.invalidate(&repo).await;
        }
        Ok(loaded)
    }
}

async fn load(client: &RepoClient) -> Result<LoadedPolicy, GitHubError> {
    // Never the pull request's head: a pull request must not be able to
    // relax the rules it is judged by.
    if let Some(text) = client.get_file(POLICY_PATH, None).await? {
        return Ok(LoadedPolicy {
            source: PolicySource::Repository,
            shown_path: POLICY_PATH.to_string(),
            policy: policy::parse(&text),
        });
    }
    let org = client.sibling(ORG_POLICY_REPO);
    // The installation may not cover the organisation's `.github`
    // repository; treat "cannot see it" like "no file there".
    match org.get_file(POLICY_PATH, None).await {
        Ok(Some(text)) => {
            return Ok(LoadedPolicy {
                source: PolicySource::Organization,
                shown_path: format!("{}:{POLICY_PATH}", org.repo_name()),
                policy: policy::parse(&text),
            });
        }
        Ok(None) => {}
        Err(e) if e.is_not_found() || matches!(e.kind, ErrorKind::Forbidden) => {}
        Err(e) => return Err(e),
    }
    Ok(LoadedPolicy {
        source: PolicySource::BuiltIn,
        shown_path: POLICY_PATH.to_string(),
        policy: Ok(Policy::builtin()),
    })
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    fn repo(name: &str) -> RepoName {
        RepoName {
            owner: "octo".into(),
            name: name.into(),
        }
    }

    async fn counted(
        loads: &AtomicUsize,
        source: PolicySource,
    ) -> Result<LoadedPolicy, GitHubError> {
        loads.fetch_add(1, Ordering::SeqCst);
        // Long enough for every concurrent caller to miss.
        tokio::time::sleep(Duration::from_millis(50)).await;
        Ok(LoadedPolicy {
            source,
            shown_path: POLICY_PATH.to_string(),
            policy: Ok(Policy::builtin()),
        })
    }

    #[tokio::test]
    async fn concurrent_misses_load_the_policy_once() {
        let cache = Arc::new(PolicyCache::default());
        let loads = Arc::new(AtomicUsize::new(0));
        let mut gets = tokio::task::JoinSet::new();
        for _ in 0..16 {
            let (cache, loads) = (cache.clone(), loads.clone());
            gets.spawn(async move {
                cache
                    .get_or_load(repo("app"), counted(&loads, PolicySource::Repository))
                    .await
                    .is_ok()
            });
        }
        while let Some(ok) = gets.join_next().await {
            assert_eq!(ok.ok(), Some(true));
        }
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        // A hit loads nothing; another repository loads its own.
        assert!(
            cache
                .get_or_load(repo("app"), counted(&loads, PolicySource::Repository))
                .await
                .is_ok()
        );
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        assert!(
            cache
                .get_or_load(repo("web"), counted(&loads, PolicySource::Repository))
                .await
                .is_ok()
        );
        assert_eq!(loads.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_failed_load_is_not_kept_and_forget_drops_org_fallbacks() {
        let cache = PolicyCache::default();
        let failed = cache
            .get_or_load(repo("app"), async {
                Err(GitHubError::new(
                    ErrorKind::Forbidden,
                    "GET /repos/{owner}/{repo}/contents/{path}",
                ))
            })
            .await;
        assert_eq!(
            failed.map(|_| ()).map_err(|e| e.kind),
            Err(ErrorKind::Forbidden)
        );
        let loads = AtomicUsize::new(0);
        assert!(
            cache
                .get_or_load(repo("app"), counted(&loads, PolicySource::Organization))
                .await
                .is_ok()
        );
        assert!(
            cache
                .get_or_load(repo("web"), counted(&loads, PolicySource::Repository))
                .await
                .is_ok()
        );
        assert_eq!(loads.load(Ordering::SeqCst), 2);
        // A push to the organisation's `.github` drops those that used it.
        cache.forget(&repo(ORG_POLICY_REPO));
        assert!(
            cache
                .get_or_load(repo("app"), counted(&loads, PolicySource::Organization))
                .await
                .is_ok()
        );
        assert!(
            cache
                .get_or_load(repo("web"), counted(&loads, PolicySource::Repository))
                .await
                .is_ok()
        );
        assert_eq!(loads.load(Ordering::SeqCst), 3, "only app loaded again");
        // A push to the repository's own file drops its own.
        cache.forget(&repo("web"));
        assert!(
            cache
                .get_or_load(repo("web"), counted(&loads, PolicySource::Repository))
                .await
                .is_ok()
        );
        assert_eq!(loads.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn a_load_overtaken_by_a_push_is_not_kept() {
        let cache = Arc::new(PolicyCache::default());
        let loads = Arc::new(AtomicUsize::new(0));
        let slow = {
            let (cache, loads) = (cache.clone(), loads.clone());
            tokio::spawn(async move {
                let load = counted(&loads, PolicySource::Repository);
                cache.get_or_load(repo("app"), load).await.is_ok()
            })
        };
        // The push lands while the file is being read.
        tokio::time::sleep(Duration::from_millis(10)).await;
        cache.forget(&repo("app"));
        assert_eq!(slow.await.ok(), Some(true));
        let again = cache.get_or_load(repo("app"), counted(&loads, PolicySource::Repository));
        assert!(again.await.is_ok());
        assert_eq!(loads.load(Ordering::SeqCst), 2, "read again after the push");
    }
}
