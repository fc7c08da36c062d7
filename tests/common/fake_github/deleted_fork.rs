//! A fork deleted by its owner: GitHub then answers a pull request from it
//! with `head.repo: null` (the head commit stays readable in the base
//! repository, as `refs/pull/{n}/head`).

impl super::FakeGitHub {
    /// The owner of fork `repo` deletes it: gone from the fake's
    /// repositories, so every pull request whose head lived there is
    /// answered with `head.repo: null`. `false` when there was no such
    /// repository.
    pub fn delete_fork(&self, repo: &str) -> bool {
        self.with(|s| s.repos.remove(&repo.to_ascii_lowercase()).is_some())
    }
}
