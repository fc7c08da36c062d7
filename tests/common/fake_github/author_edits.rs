//! What a comment's author does to it on GitHub after posting it: edit it
//! in place (same id and `node_id`, new `body` and `updated_at`), as in the
//! web UI, without going through the app's PATCH route (whose edits
//! `comment_edits` counts), or delete it (gone from the timeline and the
//! comments list; the items after it move up).

use chrono::{DateTime, Utc};

impl super::FakeGitHub {
    /// The author of comment `comment_id` in `repo` changes its body to
    /// `body` at `at`; `false` when there is no such comment.
    pub fn edit_comment_as_author(
        &self,
        repo: &str,
        comment_id: u64,
        body: &str,
        at: DateTime<Utc>,
    ) -> bool {
        self.with(|s| {
            let Some(comment) = s
                .repo_mut(repo)
                .and_then(|r| r.comments.iter_mut().find(|c| c.id == comment_id))
            else {
                return false;
            };
            comment.body = body.to_string();
            comment.updated_at = at;
            true
        })
    }

    /// The author of comment `comment_id` in `repo` deletes it; `false`
    /// when there is no such comment.
    pub fn delete_comment_as_author(&self, repo: &str, comment_id: u64) -> bool {
        self.with(|s| {
            let Some(comments) = s.repo_mut(repo).map(|r| &mut r.comments) else {
                return false;
            };
            let before = comments.len();
            comments.retain(|c| c.id != comment_id);
            comments.len() < before
        })
    }
}
