//! GitHub answering again after an outage: injected failures (`fail_next`)
//! withdrawn before they are used up, so a test can fail every try of one
//! evaluation and let a later one succeed.

impl super::FakeGitHub {
    /// Drops every injected failure whose path pattern is `path_contains`
    /// (as given to `fail_next`), whatever it has left; returns how many.
    pub fn recover(&self, path_contains: &str) -> usize {
        self.with(|s| {
            let before = s.failures.len();
            s.failures.retain(|f| f.path_contains != path_contains);
            before - s.failures.len()
        })
    }
}
