//! The policy in force per repository: the repository's file on its default
//! branch, else the organisation's `.github` repository's, else the built-in
//! default. Parsed once and kept for a while; dropped when a push to the
//! default branch touches the file (and after `TTL` in case that push was
//! missed).
//!
//! Several instances share one store, and GitHub delivers the push to one
//! of them: each cached policy is kept with the policy generation (in the
//! store, bumped at that push's intake) it was loaded at, and is used only
//! while the store still says that generation. Otherwise, or when the store
//! cannot say, the file is read again (a conditional request: free of rate
//! limit when it did not change).

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use moka::future::Cache;

use crate::events::RepoName;
use crate::github::{ErrorKind, FileRead, GitHubError, NotText, RepoClient};
use crate::policy::{self, POLICY_PATH, Policy, PolicyError, PolicySource};
use crate::store::PolicyGeneration;

/// How long a loaded policy is kept when no push says it changed.
const TTL: Duration = Duration::from_secs(10 * 60);
/// Policies kept (one per repository and generation seen); beyond it the
/// least used go first (a refetch costs one conditional request). An entry
/// of an older generation is never read again and ages out.
const MAX_REPOSITORIES: u64 = 4_096;

/// The organisation-wide fallback lives in this repository.
pub const ORG_POLICY_REPO: &str = ".github";

/// The repository whose policy `repo` falls back to: its owner's `.github`.
pub fn fallback_repo(repo: &RepoName) -> RepoName {
    RepoName {
        owner: repo.owner.clone(),
        name: ORG_POLICY_REPO.to_string(),
    }
}

#[derive(Debug)]
pub struct LoadedPolicy {
    pub source: PolicySource,
    /// Where the file was read, for messages: `.github/hotfix-policy.yml`,
    /// or `acme/.github:.github/hotfix-policy.yml` for the organisation's.
    pub shown_path: String,
    pub policy: Result<Policy, Vec<PolicyError>>,
}

/// Loaded policies by repository and the policy generation they were
/// loaded at (moka: TTL, a size bound, and one load per repository and
/// generation however many evaluations miss at once).
pub struct PolicyCache {
    entries: Cache<(RepoName, PolicyGeneration), Arc<LoadedPolicy>>,
    /// The repository's own policy file at a commit (`None`: no file
    /// there), by repository and commit sha: a commit never changes, so
    /// neither a push nor a policy generation drops these.
    at_commit: Cache<(RepoName, String), Option<Arc<LoadedPolicy>>>,
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
            at_commit: Cache::builder()
                .max_capacity(MAX_REPOSITORIES)
                .time_to_live(TTL)
                .build(),
            forgets: AtomicU64::new(0),
        }
    }
}

impl PolicyCache {
    /// Drops `repo`'s policy (a push changed its file) at every generation;
    /// for the organisation's `.github` repository also every repository
    /// that fell back to the organisation's policy. Only this instance's
    /// memory: the other instances learn of the push from the store's
    /// policy generation.
    pub fn forget(&self, repo: &RepoName) {
        self.forgets.fetch_add(1, Ordering::SeqCst);
        let repo = repo.clone();
        let org_changed = repo.name == ORG_POLICY_REPO;
        // Takes effect for every read at once (moka applies the predicate on
        // reads until its housekeeping removes the entries). Fails only
        // without `support_invalidation_closures`, which `default` sets.
        let _ = self.entries.invalidate_entries_if(move |(key, _), loaded| {
            *key == repo || (org_changed && loaded.source == PolicySource::Organization)
        });
    }

    /// The policy in force for the client's repository, loaded through the
    /// contents API (`GET /repos/{owner}/{repo}/contents/{path}`) when none
    /// was loaded at `generation` (the store's `policy_generation` for the
    /// repository and its `fallback_repo`, read just before). `None` (the
    /// store could not be read): nothing cached is trusted and nothing is
    /// kept; the file is read (conditionally) every time.
    /// Errors: what GitHub answered, when it was not "no such file".
    pub async fn get(
        &self,
        client: &RepoClient,
        generation: Option<PolicyGeneration>,
    ) -> Result<Arc<LoadedPolicy>, GitHubError> {
        match generation {
            Some(generation) => {
                self.get_or_load(client.repo_name(), generation, load(client))
                    .await
            }
            None => load(client).await.map(Arc::new),
        }
    }

    /// The policy as it was at commit `sha` of the client's repository (a
    /// merged pull request's `base.sha`: see `engine::merged`): the
    /// repository's file at that commit
    /// (`GET /repos/{owner}/{repo}/contents/{path}?ref={sha}`), kept by
    /// repository and sha (immutable, so no generation check). Without a
    /// file at that commit, the organisation's policy in force now, else
    /// the built-in default, as `get` falls back: that fallback is read
    /// each time (a conditional request), never the repository's own
    /// current file, which the merge may have added.
    /// Errors: what GitHub answered, when it was not "no such file".
    pub async fn get_at(
        &self,
        client: &RepoClient,
        sha: &str,
    ) -> Result<Arc<LoadedPolicy>, GitHubError> {
        let key = (client.repo_name(), sha.to_string());
        let own = self
            .at_commit
            .try_get_with(key, async {
                Ok::<_, GitHubError>(read_policy(client, Some(sha)).await?.map(|policy| {
                    Arc::new(LoadedPolicy {
                        source: PolicySource::Repository,
                        shown_path: POLICY_PATH.to_string(),
                        policy,
                    })
                }))
            })
            .await
            .map_err(Arc::unwrap_or_clone)?;
        match own {
            Some(own) => Ok(own),
            None => load_fallback(client).await.map(Arc::new),
        }
    }

    /// The policy cached for `repo` at `generation`, else the result of
    /// `load`: concurrent misses on one repository and generation wait for
    /// a single load. A failed load is not kept; every caller waiting on it
    /// gets its error.
    async fn get_or_load(
        &self,
        repo: RepoName,
        generation: PolicyGeneration,
        load: impl Future<Output = Result<LoadedPolicy, GitHubError>>,
    ) -> Result<Arc<LoadedPolicy>, GitHubError> {
        let forgets = self.forgets.load(Ordering::SeqCst);
        let key = (repo, generation);
        let loaded = self
            .entries
            .try_get_with(key.clone(), async { load.await.map(Arc::new) })
            .await
            .map_err(Arc::unwrap_or_clone)?;
        // A push's `forget` during the load may have come after the file
        // was read: use the answer this once, but do not keep it.
        if self.forgets.load(Ordering::SeqCst) != forgets {
            self.entries.invalidate(&key).await;
        }
        Ok(loaded)
    }
}

/// The policy file parsed, `None` when absent: on the default branch, or
/// at commit `at`. A file too large to download (over
/// `rules::MAX_FILE_BYTES`) gets the policy's own size error, as one read
/// would; anything else that is not text stays an error (only writers put
/// it there).
async fn read_policy(
    client: &RepoClient,
    at: Option<&str>,
) -> Result<Option<Result<Policy, Vec<PolicyError>>>, GitHubError> {
    // What the commit holds is a fact of the policy, not a failed read: a
    // file that is not text (a symbolic link, a directory, bytes that are
    // not UTF-8, over 1 MB) is an invalid policy, which fails every check
    // naming it and fails closed wherever the policy's content matters
    // (after a merge, an escalation), never an error retried until it is
    // reported as "could not evaluate".
    match client.read_file(POLICY_PATH, at).await? {
        FileRead::NotText(NotText::TooLarge { bytes }) => Ok(Some(Err(vec![PolicyError::new(
            1,
            1,
            policy::limits::oversized_bytes(bytes).unwrap_or_default(),
        )]))),
        FileRead::NotText(kind) => Ok(Some(Err(vec![PolicyError::new(
            1,
            1,
            format!(
                "the policy is {}, not a text file: it must be a regular UTF-8 text file",
                kind.describe()
            ),
        )]))),
        FileRead::Text(text) => Ok(Some(policy::parse(&text))),
        FileRead::Missing => Ok(None),
    }
}

async fn load(client: &RepoClient) -> Result<LoadedPolicy, GitHubError> {
    // Never the pull request's head: a pull request must not be able to
    // relax the rules it is judged by.
    if let Some(policy) = read_policy(client, None).await? {
        return Ok(LoadedPolicy {
            source: PolicySource::Repository,
            shown_path: POLICY_PATH.to_string(),
            policy,
        });
    }
    load_fallback(client).await
}

/// What a repository without its own policy file is judged by: the
/// organisation's `.github` repository's file on its default branch, else
/// the built-in default.
async fn load_fallback(client: &RepoClient) -> Result<LoadedPolicy, GitHubError> {
    let org = client.sibling(ORG_POLICY_REPO);
    // The installation may not cover the organisation's `.github`
    // repository; treat "cannot see it" like "no file there".
    match read_policy(&org, None).await {
        Ok(Some(policy)) => {
            return Ok(LoadedPolicy {
                source: PolicySource::Organization,
                shown_path: format!("{}:{POLICY_PATH}", org.repo_name()),
                policy,
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

    const GEN0: PolicyGeneration = PolicyGeneration {
        own: 0,
        fallback: 0,
    };

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
                    .get_or_load(repo("app"), GEN0, counted(&loads, PolicySource::Repository))
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
                .get_or_load(repo("app"), GEN0, counted(&loads, PolicySource::Repository))
                .await
                .is_ok()
        );
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        assert!(
            cache
                .get_or_load(repo("web"), GEN0, counted(&loads, PolicySource::Repository))
                .await
                .is_ok()
        );
        assert_eq!(loads.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_failed_load_is_not_kept_and_forget_drops_org_fallbacks() {
        let cache = PolicyCache::default();
        let failed = cache
            .get_or_load(repo("app"), GEN0, async {
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
                .get_or_load(
                    repo("app"),
                    GEN0,
                    counted(&loads, PolicySource::Organization)
                )
                .await
                .is_ok()
        );
        assert!(
            cache
                .get_or_load(repo("web"), GEN0, counted(&loads, PolicySource::Repository))
                .await
                .is_ok()
        );
        assert_eq!(loads.load(Ordering::SeqCst), 2);
        // A push to the organisation's `.github` drops those that used it.
        cache.forget(&repo(ORG_POLICY_REPO));
        assert!(
            cache
                .get_or_load(
                    repo("app"),
                    GEN0,
                    counted(&loads, PolicySource::Organization)
                )
                .await
                .is_ok()
        );
        assert!(
            cache
                .get_or_load(repo("web"), GEN0, counted(&loads, PolicySource::Repository))
                .await
                .is_ok()
        );
        assert_eq!(loads.load(Ordering::SeqCst), 3, "only app loaded again");
        // A push to the repository's own file drops its own.
        cache.forget(&repo("web"));
        assert!(
            cache
                .get_or_load(repo("web"), GEN0, counted(&loads, PolicySource::Repository))
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
                cache.get_or_load(repo("app"), GEN0, load).await.is_ok()
            })
        };
        // The push lands while the file is being read.
        tokio::time::sleep(Duration::from_millis(10)).await;
        cache.forget(&repo("app"));
        assert_eq!(slow.await.ok(), Some(true));
        let again = cache.get_or_load(repo("app"), GEN0, counted(&loads, PolicySource::Repository));
        assert!(again.await.is_ok());
        assert_eq!(loads.load(Ordering::SeqCst), 2, "read again after the push");
    }

    #[tokio::test]
    async fn a_policy_loaded_at_another_generation_is_loaded_again() {
        let cache = PolicyCache::default();
        let loads = AtomicUsize::new(0);
        let at = |own, fallback| PolicyGeneration { own, fallback };
        for generation in [at(0, 0), at(0, 0), at(1, 0), at(1, 0), at(1, 1), at(1, 1)] {
            let got = cache
                .get_or_load(
                    repo("app"),
                    generation,
                    counted(&loads, PolicySource::Repository),
                )
                .await;
            assert!(got.is_ok());
        }
        assert_eq!(
            loads.load(Ordering::SeqCst),
            3,
            "once per generation: the repository's change and the organisation's"
        );
        // An instance that reads an older generation than it loaded at (a
        // store that was lost starts again at 0) does not take the newer
        // entry for its own: equal or loaded again.
        assert!(
            cache
                .get_or_load(repo("app"), GEN0, counted(&loads, PolicySource::Repository))
                .await
                .is_ok()
        );
        assert_eq!(
            loads.load(Ordering::SeqCst),
            3,
            "generation 0 is still kept"
        );
        assert!(
            cache
                .get_or_load(
                    repo("app"),
                    at(0, 1),
                    counted(&loads, PolicySource::Repository)
                )
                .await
                .is_ok()
        );
        assert_eq!(loads.load(Ordering::SeqCst), 4);
    }

    /// A push to the organisation's `.github` drops exactly the policies
    /// that came from it: the repository's own file stays (killed mutant:
    /// `loaded.source == Organization` → `!=` in `forget`).
    #[tokio::test]
    async fn forget_of_the_org_repository_keeps_the_repositories_own_files() {
        let cache = PolicyCache::default();
        let loads = AtomicUsize::new(0);
        let get = |name: &'static str, source| {
            cache.get_or_load(repo(name), GEN0, counted(&loads, source))
        };
        assert!(get("app", PolicySource::Organization).await.is_ok());
        assert!(get("web", PolicySource::Repository).await.is_ok());
        assert_eq!(loads.load(Ordering::SeqCst), 2);
        cache.forget(&repo(ORG_POLICY_REPO));
        assert!(get("web", PolicySource::Repository).await.is_ok());
        assert_eq!(loads.load(Ordering::SeqCst), 2, "web's own file is kept");
        assert!(get("app", PolicySource::Organization).await.is_ok());
        assert_eq!(
            loads.load(Ordering::SeqCst),
            3,
            "app's fallback is read again"
        );
    }
}
