//! The totals GitHub puts on a pull request (`changed_files`, `additions`,
//! `deletions`), for webhook payloads that must agree with the API.

use super::FakeGitHub;

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
}
