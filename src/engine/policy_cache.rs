//! The policy in force per repository: the repository's file on its default
//! branch, else the organisation's `.github` repository's, else the built-in
//! default. Parsed once and kept for a while; dropped when a push to the
//! default branch touches the file (and after `TTL` in case that push was
//! missed).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::events::RepoName;
use crate::github::{ErrorKind, GitHubError, RepoClient};
use crate::policy::{self, POLICY_PATH, Policy, PolicyError, PolicySource};

const TTL: Duration = Duration::from_secs(10 * 60);
const MAX_REPOSITORIES: usize = 4_096;

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

#[derive(Default)]
pub struct PolicyCache {
    entries: Mutex<HashMap<RepoName, (Instant, Arc<LoadedPolicy>)>>,
}

impl PolicyCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<RepoName, (Instant, Arc<LoadedPolicy>)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn forget(&self, repo: &RepoName) {
        self.lock().remove(repo);
        // A change to the organisation's file affects every repository
        // that fell back to it.
        if repo.name == ORG_POLICY_REPO {
            self.lock()
                .retain(|_, (_, p)| p.source != PolicySource::Organization);
        }
    }

    pub async fn get(&self, client: &RepoClient) -> Result<Arc<LoadedPolicy>, GitHubError> {
        let repo = client.repo_name();
        if let Some((at, loaded)) = self.lock().get(&repo)
            && at.elapsed() < TTL
        {
            return Ok(loaded.clone());
        }
        let loaded = Arc::new(load(client).await?);
        let mut entries = self.lock();
        if entries.len() >= MAX_REPOSITORIES {
            // Drop the oldest entry; a refetch costs one conditional request.
            if let Some(oldest) = entries
                .iter()
                .min_by_key(|(_, (at, _))| *at)
                .map(|(k, _)| k.clone())
            {
                entries.remove(&oldest);
            }
        }
        entries.insert(repo, (Instant::now(), loaded.clone()));
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
