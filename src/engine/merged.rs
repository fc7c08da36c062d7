//! Which policy judges a merged pull request.
//!
//! An open pull request is judged by the policy in force: the file on the
//! default branch, never its own head's. Merging into the default branch
//! puts the pull request's own version of the file in force, and the
//! author controls that content through the diff (an edit is annotated,
//! not required): judged by it, a merged P0 could drop its own follow-up,
//! merge-back or tag, or break the file so that no after-merge step runs at
//! all. So a pull request merged into the default branch is judged, whole
//! (classification, severity and what it owes after the merge, so they
//! agree), by the policy as it was before its own merge: the file at the
//! pull request's `base.sha`.
//!
//! Why `base.sha`: GitHub's pull request object records there the base
//! branch's commit when the pull request was opened or last pushed to, a
//! commit of the base branch and never one of the pull request's own (it
//! may be older than the base branch's tip at the merge; any change in it
//! was a writer's). `merge_commit_sha`'s first parent would be the base's
//! tip for a merge commit or a squash, but for a rebase merge it is another
//! rebased commit of the pull request itself, which may carry the policy
//! edit; the merge method is not in the pull request object.

use std::sync::Arc;

use crate::github::{ErrorKind, GitHubError, RepoClient};
use crate::pull::Pull;

use super::policy_cache::{LoadedPolicy, PolicyCache};

/// The policy a merged pull request is judged by, and where it was read.
pub(super) struct BeforeMerge {
    /// The policy at `base_sha` (or the fallback, when the repository had
    /// no file there: `PolicyCache::get_at`).
    pub loaded: Arc<LoadedPolicy>,
    /// The default branch the pull request was merged into (`base.ref`).
    pub branch: String,
    /// GitHub's `base.sha` of the pull request.
    pub base_sha: String,
}

/// The policy before the merge of `pull` (GitHub's current pull request),
/// when it was merged into the repository's default branch (its
/// `base.repo.default_branch`, else `GET /repos/{owner}/{repo}` when the
/// field was not sent); `None` for any other pull request (open, closed
/// unmerged, or merged into another branch, whose merge does not change
/// the policy in force): judged by the policy in force.
/// Errors: GitHub's; a merged pull request without a `base.sha` is a
/// decode error (retried, then reported as "could not evaluate"), never
/// judged by the policy its merge may have written.
pub(super) async fn policy_before_merge(
    policies: &PolicyCache,
    client: &RepoClient,
    pull: &Pull,
) -> Result<Option<BeforeMerge>, GitHubError> {
    if !pull.is_merged() {
        return Ok(None);
    }
    let default_branch = match pull
        .base
        .repo
        .as_ref()
        .and_then(|r| r.default_branch.clone())
    {
        Some(branch) => branch,
        None => client.get_repo().await?.default_branch,
    };
    if pull.base.ref_name != default_branch {
        return Ok(None);
    }
    if pull.base.sha.is_empty() {
        return Err(GitHubError::new(
            ErrorKind::Decode(format!(
                "merged pull request #{} has no base.sha: the policy before its merge is unknown",
                pull.number
            )),
            "GET /repos/{owner}/{repo}/pulls/{pull_number}",
        )
        .with_attempts(1));
    }
    let loaded = policies.get_at(client, &pull.base.sha).await?;
    Ok(Some(BeforeMerge {
        loaded,
        branch: default_branch,
        base_sha: pull.base.sha.clone(),
    }))
}
