//! Unit tests written to kill the mutants `cargo mutants` found missed in
//! `src/engine` (see `docs/mutants.md`): each asserts the exact value or
//! the exact reads a mutated operator, arm or return value would change.

mod closer;
mod commit_files;
mod default_policy;
mod evidence;
mod merged;
mod policy_cache;
mod post_merge;
mod stub;

use crate::pull::Pull;

pub(super) const BASE_SHA: &str = "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0";
pub(super) const HEAD_SHA: &str = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1";

/// Pull request 7 of `octo/app` by dana, open, `hotfix/x` into `main`, as
/// `GET /pulls/{n}` answers it (without the totals).
pub(super) fn pull() -> Pull {
    serde_json::from_value(serde_json::json!({
        "number": 7,
        "title": "fix: stop the login loop",
        "user": { "login": "dana" },
        "state": "open",
        "head": { "ref": "hotfix/x", "sha": HEAD_SHA, "repo": { "full_name": "octo/app" } },
        "base": { "ref": "main", "sha": BASE_SHA, "repo": { "full_name": "octo/app" } },
        "labels": [],
        "created_at": "2026-03-01T10:00:00Z",
        "html_url": "https://github.com/octo/app/pull/7",
    }))
    .expect("a pull request")
}
