//! GitHub's lists lag behind its writes: an issue just opened may be
//! missing from `GET /repos/{owner}/{repo}/issues` (and from search) for a
//! while. Tests make the fake's issue list answer as if none were opened.

impl super::FakeGitHub {
    /// While `lags`, issue lists answer empty (the issues themselves stay).
    pub fn set_issue_listing_lags(&self, lags: bool) {
        self.with(|s| s.issue_listing_lags = lags);
    }
}
