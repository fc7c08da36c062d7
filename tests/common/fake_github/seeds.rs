//! Seeding helpers for what a pull request's author or another user can
//! put on GitHub (issues), and the totals GitHub puts on a pull request
//! (`changed_files`, `additions`, `deletions`), for webhook payloads that
//! must agree with the API.

use chrono::Utc;

use super::FakeGitHub;
use super::state::IssueRec;

impl FakeGitHub {
    /// `(changed_files, additions, deletions)` of the pull request as the
    /// fake holds it: every seeded file, past the files list's cap too.
    pub fn pull_totals(&self, repo: &str, number: u64) -> Option<(u64, u64, u64)> {
        self.with(|s| {
            let pr = s.repo(repo)?.pulls.get(&number)?;
            Some((
                pr.files.len() as u64,
                pr.files.iter().map(|f| f.additions).sum(),
                pr.files.iter().map(|f| f.deletions).sum(),
            ))
        })
    }

    /// An issue opened by `user` (a person, not the app: no
    /// `performed_via_github_app`). Returns its number.
    pub fn add_issue_by(
        &self,
        repo: &str,
        user: &str,
        title: &str,
        body: &str,
        labels: &[&str],
    ) -> u64 {
        self.with(|s| {
            let id = s.next_id();
            let r = s.repo_or_create(repo);
            let number = r.next_number();
            r.issues.insert(
                number,
                IssueRec {
                    number,
                    id,
                    title: title.to_string(),
                    body: Some(body.to_string()),
                    labels: labels.iter().map(|l| l.to_string()).collect(),
                    assignees: Vec::new(),
                    user: user.to_string(),
                    created_at: Utc::now(),
                },
            );
            number
        })
    }
}
