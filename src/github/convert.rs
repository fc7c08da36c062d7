//! From the REST API's pull request to the webhook's shape the engine
//! works on. Here, in `github`, so that `events` (the webhook side) does
//! not depend on the client (`events` ← `github`, never both ways).

use super::{PullInfo, PullRef};
use crate::events::{GitRef, LabelName, Login, PullPayload, RepoFullName};

/// The REST API's answer for the same pull request (`GET .../pulls/{n}`),
/// for jobs whose delivery did not carry one.
impl From<PullInfo> for PullPayload {
    fn from(p: PullInfo) -> PullPayload {
        let login = |l: String| Login { login: l };
        let git_ref = |r: PullRef| GitRef {
            ref_name: r.ref_name,
            sha: r.sha,
            repo: r.repo_full_name.map(|full_name| RepoFullName { full_name }),
        };
        PullPayload {
            number: p.number,
            title: p.title,
            user: Some(login(p.user)),
            state: p.state,
            draft: p.draft,
            merged: Some(p.merged),
            merged_at: p.merged_at,
            merged_by: p.merged_by.map(login),
            merge_commit_sha: p.merge_commit_sha,
            head: git_ref(p.head),
            base: git_ref(p.base),
            labels: p
                .labels
                .into_iter()
                .map(|name| LabelName { name })
                .collect(),
            created_at: p.created_at,
            updated_at: None,
            html_url: Some(p.html_url),
            changed_files: p.changed_files,
            additions: p.additions,
            deletions: p.deletions,
            locked: p.locked,
            active_lock_reason: p.active_lock_reason,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::types::wire;
    use super::*;
    use crate::events::DELETED_USER;

    /// A pull request whose author deleted their account, as each path
    /// carries it: `user: null` in the webhook and in the REST answer.
    const DELETED_AUTHOR: &str = r#"{"number": 7, "title": "fix: x", "state": "open",
        "user": null,
        "head": {"ref": "hotfix/x", "sha": "abc"},
        "base": {"ref": "main", "sha": "def"}}"#;

    #[test]
    fn a_deleted_author_is_ghost_on_the_webhook_and_the_rest_path() {
        let webhook: PullPayload = serde_json::from_str(DELETED_AUTHOR).unwrap();
        let rest: PullPayload =
            PullInfo::from(serde_json::from_str::<wire::Pull>(DELETED_AUTHOR).unwrap()).into();
        assert_eq!(webhook.author(), DELETED_USER);
        assert_eq!(rest.author(), DELETED_USER);
        assert_eq!(DELETED_USER, "ghost");
    }

    #[test]
    fn an_empty_login_is_ghost_too() {
        let json = DELETED_AUTHOR.replace("\"user\": null", "\"user\": {\"login\": \"\"}");
        let webhook: PullPayload = serde_json::from_str(&json).unwrap();
        let rest: PullPayload =
            PullInfo::from(serde_json::from_str::<wire::Pull>(&json).unwrap()).into();
        assert_eq!(webhook.author(), DELETED_USER);
        assert_eq!(rest.author(), DELETED_USER);
    }
}
