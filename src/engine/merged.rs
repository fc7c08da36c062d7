//! Which policy judges a merged pull request.
//!
//! An open pull request is judged by the policy in force: the file on the
//! default branch, never its own head's. A merged one is judged by the
//! policy in force too, exactly like an open one, unless its own change
//! edits the policy file: the only way a merged pull request can have
//! written the policy in force is its own diff (a merge into the default
//! branch puts it in force; a merge into another branch, e.g. `main` in a
//! Git Flow repository whose default branch is `develop`, carries it there
//! through the merge-back). Every other change of the policy in force was
//! pushed by a writer, and a writer's policy is the one to follow, also
//! when it changed after the pull request was opened (GitHub's `base.sha`
//! is the base branch's tip when the pull request was opened or last
//! pushed to, often older than the policy it was approved under).
//!
//! A merged pull request whose diff edits the policy file (or may have:
//! its files list was cut at GitHub's 3,000 files, `rules::hygiene::
//! list_is_complete`) is judged whole (classification, severity and what it
//! owes after the merge, so they agree) by the policy as it was before its
//! own merge: the file at its `base.sha`, on the branch it was merged into
//! (for a base other than the default branch, that branch's file before the
//! merge, not the default branch's). Judged by its own file, a merged P0
//! could drop its own follow-up, merge-back or tag, or break the file so
//! that no after-merge step runs at all.
//!
//! Why `base.sha`: a commit of the base branch and never one of the pull
//! request's own (any change in it was a writer's). `merge_commit_sha`'s
//! first parent would be the base's tip for a merge commit or a squash, but
//! for a rebase merge it is another rebased commit of the pull request
//! itself, which may carry the policy edit; the merge method is not in the
//! pull request object.
//!
//! What it owes after the merge is widened to the union of what the file
//! at `base.sha` and the policy in force (a file that parses) ask
//! (`policy::after_merge::widened`): touching the policy file (even a
//! harmless comment) or a files list cut at 3,000 must not let the author
//! choose the older file and drop a follow-up, merge-back or tag a writer
//! added since, and the author's own loosening edit, now in force, drops
//! nothing the older file asks.
//!
//! The residual, accepted: what counts as a hotfix, its severity and the
//! approvals it needed follow the file at `base.sha`, without a writer's
//! later change. Only a policy edit that does not parse is annotated on the
//! diff (`Engine::policy_edit_annotations`); a valid edit shows nothing.

use std::sync::Arc;

use crate::github::{ErrorKind, FileInfo, GitHubError, RepoClient};
use crate::policy::POLICY_PATH;
use crate::pull::Pull;
use crate::rules::ChangeTotals;

use super::policy_cache::{LoadedPolicy, PolicyCache};

/// The policy a merged pull request is judged by, and where it was read.
pub(super) struct BeforeMerge {
    /// The policy at `base_sha` (or the fallback, when the repository had
    /// no file there: `PolicyCache::get_at`).
    pub loaded: Arc<LoadedPolicy>,
    /// The branch the pull request was merged into (`base.ref`).
    pub branch: String,
    /// GitHub's `base.sha` of the pull request.
    pub base_sha: String,
}

/// Whether a pull request's own change edits the policy file, or may:
/// `files` is GitHub's `GET /pulls/{n}/files` answer, `totals` the pull
/// request's own totals (`changed_files`, from `GET /pulls/{n}`). True when
/// a file is the policy file under its new or its old name (added,
/// modified, removed, renamed to or from it), and when the list is cut
/// (shorter than `changed_files`, or at GitHub's 3,000-file cap without
/// totals): the policy file may be past the cut.
pub(super) fn may_edit_policy(files: &[FileInfo], totals: Option<ChangeTotals>) -> bool {
    if !crate::rules::hygiene::count_is_complete(files.len(), totals) {
        return true;
    }
    files
        .iter()
        .any(|f| f.filename == POLICY_PATH || f.previous_filename.as_deref() == Some(POLICY_PATH))
}

/// The policy before the merge of `pull` (GitHub's current pull request,
/// `files` its changed files), when it was merged (into any branch) and its
/// own change edits the policy file or may have (`may_edit_policy`);
/// `None` for any other pull request (open, closed unmerged, or merged
/// without touching the policy file): judged by the policy in force.
/// Errors: GitHub's; such a merged pull request without a `base.sha` is a
/// decode error (retried, then reported as "could not evaluate"), never
/// judged by the policy its merge may have written.
pub(super) async fn policy_before_merge(
    policies: &PolicyCache,
    client: &RepoClient,
    pull: &Pull,
    files: &[FileInfo],
) -> Result<Option<BeforeMerge>, GitHubError> {
    if !pull.is_merged() || !may_edit_policy(files, pull.totals()) {
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
        branch: pull.base.ref_name.clone(),
        base_sha: pull.base.sha.clone(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, previous: Option<&str>) -> FileInfo {
        FileInfo {
            filename: name.into(),
            additions: 1,
            deletions: 1,
            status: if previous.is_some() {
                "renamed"
            } else {
                "modified"
            }
            .into(),
            previous_filename: previous.map(Into::into),
        }
    }

    fn totals(changed_files: u64) -> Option<ChangeTotals> {
        Some(ChangeTotals {
            changed_files,
            additions: 1,
            deletions: 1,
        })
    }

    #[test]
    fn a_change_that_leaves_the_policy_file_alone_does_not_edit_it() {
        let files = [file("src/fix.rs", None), file("VERSION", None)];
        assert!(!may_edit_policy(&files, totals(2)));
        assert!(!may_edit_policy(&files, None));
    }

    #[test]
    fn the_policy_file_under_its_new_or_old_name_is_an_edit() {
        assert!(may_edit_policy(&[file(POLICY_PATH, None)], totals(1)));
        assert!(may_edit_policy(
            &[file("docs/old-policy.yml", Some(POLICY_PATH))],
            totals(1)
        ));
        assert!(may_edit_policy(
            &[file(POLICY_PATH, Some("docs/draft.yml"))],
            totals(1)
        ));
    }

    #[test]
    fn a_cut_files_list_may_hide_an_edit() {
        let files = [file("src/fix.rs", None)];
        assert!(may_edit_policy(&files, totals(3_500)));
        let capped: Vec<FileInfo> = (0..3_000)
            .map(|i| file(&format!("src/{i}.rs"), None))
            .collect();
        assert!(may_edit_policy(&capped, None));
        assert!(!may_edit_policy(&capped, totals(3_000)));
    }
}
