//! "Keep fixes minimal and focused", "include tests to prevent regression":
//! the optional checks on the change itself. Each applies only when the
//! policy configures it.
//!
//! Reads: `changed_files` (require_tests, max_changed_files,
//! max_changed_lines), `title` (title_pattern).

use globset::{GlobBuilder, GlobSetBuilder};

use crate::policy::Policy;
use crate::rules::facts::{ChangedFile, PullRequestFacts};
use crate::rules::result::{RuleId, RuleResult};

/// The configured hygiene checks, in a fixed order.
pub fn check(policy: &Policy, facts: &PullRequestFacts) -> Vec<RuleResult> {
    let checks = &policy.checks;
    let files = facts.changed_files.as_deref();
    let mut results = Vec::new();
    if !checks.require_tests.is_empty() {
        results.push(require_tests(&checks.require_tests, files));
    }
    if let Some(max) = checks.max_changed_files {
        results.push(max_changed_files(max, files));
    }
    if let Some(max) = checks.max_changed_lines {
        results.push(max_changed_lines(max, files));
    }
    if let Some(pattern) = &checks.title_pattern {
        results.push(title_pattern(pattern, &facts.title));
    }
    results
}

/// Unknown changes fail: a missing fact must not let a hotfix through.
fn unknown_files(id: RuleId) -> RuleResult {
    RuleResult::fail(
        id,
        "changed files unknown",
        "the list of changed files was not available",
    )
}

fn quoted(globs: &[String]) -> String {
    globs
        .iter()
        .map(|g| format!("`{g}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `*` stays within a directory, `**` crosses them (gitignore-like).
pub fn require_tests(globs: &[String], files: Option<&[ChangedFile]>) -> RuleResult {
    let id = RuleId::RequireTests;
    let mut builder = GlobSetBuilder::new();
    for glob in globs {
        match GlobBuilder::new(glob).literal_separator(true).build() {
            Ok(g) => {
                builder.add(g);
            }
            Err(e) => {
                return RuleResult::fail(id, "invalid test glob", format!("glob `{glob}`: {e}"));
            }
        }
    }
    let set = match builder.build() {
        Ok(set) => set,
        Err(e) => return RuleResult::fail(id, "invalid test glob", e.to_string()),
    };
    let Some(files) = files else {
        return unknown_files(id);
    };
    match files.iter().find(|f| set.is_match(&f.filename)) {
        Some(f) => RuleResult::pass(id, format!("`{}` matches {}", f.filename, quoted(globs))),
        None => RuleResult::fail(
            id,
            "no test changes",
            format!("no changed file matches {}", quoted(globs)),
        ),
    }
}

pub fn max_changed_files(max: u32, files: Option<&[ChangedFile]>) -> RuleResult {
    let id = RuleId::MaxChangedFiles;
    let Some(files) = files else {
        return unknown_files(id);
    };
    let n = files.len();
    if n <= max as usize {
        RuleResult::pass(id, format!("{n} files changed (at most {max})"))
    } else {
        RuleResult::fail(
            id,
            format!("too many files changed ({n} > {max})"),
            format!("{n} files changed; a hotfix may change at most {max}"),
        )
    }
}

pub fn max_changed_lines(max: u32, files: Option<&[ChangedFile]>) -> RuleResult {
    let id = RuleId::MaxChangedLines;
    let Some(files) = files else {
        return unknown_files(id);
    };
    let n: u64 = files
        .iter()
        .map(|f| f.additions.saturating_add(f.deletions))
        .fold(0, u64::saturating_add);
    if n <= u64::from(max) {
        RuleResult::pass(id, format!("{n} lines changed (at most {max})"))
    } else {
        RuleResult::fail(
            id,
            format!("too many lines changed ({n} > {max})"),
            format!("{n} lines changed (additions + deletions); a hotfix may change at most {max}"),
        )
    }
}

pub fn title_pattern(pattern: &str, title: &str) -> RuleResult {
    let id = RuleId::TitlePattern;
    match crate::policy::limits::regex(pattern) {
        Err(e) => RuleResult::fail(
            id,
            "invalid title pattern",
            format!(
                "title pattern `{pattern}` is invalid: {}",
                e.to_string().lines().last().unwrap_or_default().trim()
            ),
        ),
        Ok(re) if re.is_match(title) => RuleResult::pass(id, format!("title matches `{pattern}`")),
        Ok(_) => RuleResult::fail(
            id,
            "title does not match the required pattern",
            format!("title “{title}” does not match `{pattern}`"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::result::RuleStatus;
    use crate::rules::testutil::{changed, p0_facts, p0_policy};

    fn files(names: &[&str]) -> Vec<ChangedFile> {
        names.iter().map(|n| changed(n, 1, 1)).collect()
    }

    #[test]
    fn nothing_configured_means_no_results() {
        assert!(check(&p0_policy(), &p0_facts()).is_empty());
    }

    #[test]
    fn all_configured_checks_run_in_order() {
        let mut policy = p0_policy();
        policy.checks.require_tests = vec!["tests/**".into()];
        policy.checks.max_changed_files = Some(25);
        policy.checks.max_changed_lines = Some(500);
        policy.checks.title_pattern = Some("^fix".into());
        let ids: Vec<RuleId> = check(&policy, &p0_facts()).iter().map(|r| r.id).collect();
        assert_eq!(
            ids,
            [
                RuleId::RequireTests,
                RuleId::MaxChangedFiles,
                RuleId::MaxChangedLines,
                RuleId::TitlePattern
            ]
        );
    }

    #[test]
    fn require_tests_needs_a_matching_file() {
        let globs = vec!["tests/**".to_string(), "**/*_test.go".to_string()];
        let cases: [(&[&str], RuleStatus); 5] = [
            (&["src/a.rs", "tests/login/crash.rs"], RuleStatus::Pass),
            (&["pkg/auth/login_test.go"], RuleStatus::Pass),
            (&["src/a.rs", "VERSION"], RuleStatus::Fail),
            // `tests/**` is anchored at the root.
            (&["src/tests/a.rs"], RuleStatus::Fail),
            (&[], RuleStatus::Fail),
        ];
        for (names, want) in cases {
            let r = require_tests(&globs, Some(&files(names)));
            assert_eq!(r.status, want, "{names:?}");
        }
        let r = require_tests(&globs, Some(&files(&["src/a.rs"])));
        assert_eq!(
            r.detail,
            "no changed file matches `tests/**`, `**/*_test.go`"
        );
        assert_eq!(r.title_fragment.as_deref(), Some("no test changes"));
    }

    #[test]
    fn single_star_stays_in_one_directory() {
        let globs = vec!["tests/*.rs".to_string()];
        let r = require_tests(&globs, Some(&files(&["tests/deep/a.rs"])));
        assert_eq!(r.status, RuleStatus::Fail);
    }

    #[test]
    fn unknown_changed_files_fail_closed() {
        assert_eq!(
            require_tests(&["tests/**".into()], None).status,
            RuleStatus::Fail
        );
        assert_eq!(max_changed_files(3, None).status, RuleStatus::Fail);
        assert_eq!(max_changed_lines(3, None).status, RuleStatus::Fail);
    }

    #[test]
    fn invalid_glob_fails_with_the_message() {
        let r = require_tests(&["tests/[".into()], Some(&files(&["tests/a"])));
        assert_eq!(r.status, RuleStatus::Fail);
        assert!(r.detail.starts_with("glob `tests/[`"), "{}", r.detail);
    }

    #[test]
    fn max_changed_files_is_inclusive() {
        let three = files(&["a", "b", "c"]);
        assert_eq!(max_changed_files(3, Some(&three)).status, RuleStatus::Pass);
        let r = max_changed_files(2, Some(&three));
        assert_eq!(r.status, RuleStatus::Fail);
        assert_eq!(
            r.title_fragment.as_deref(),
            Some("too many files changed (3 > 2)")
        );
    }

    #[test]
    fn max_changed_lines_counts_additions_and_deletions() {
        let f = vec![changed("a", 10, 5), changed("b", 3, 2)];
        assert_eq!(max_changed_lines(20, Some(&f)).status, RuleStatus::Pass);
        let r = max_changed_lines(19, Some(&f));
        assert_eq!(r.status, RuleStatus::Fail);
        assert_eq!(
            r.title_fragment.as_deref(),
            Some("too many lines changed (20 > 19)")
        );
    }

    #[test]
    fn title_pattern_matches_or_fails() {
        let pattern = r"^(fix|hotfix)(\(.+\))?: ";
        assert_eq!(
            title_pattern(pattern, "fix(auth): stop the crash").status,
            RuleStatus::Pass
        );
        assert_eq!(
            title_pattern(pattern, "hotfix: stop the crash").status,
            RuleStatus::Pass
        );
        let r = title_pattern(pattern, "Stop the crash");
        assert_eq!(r.status, RuleStatus::Fail);
        assert!(r.detail.contains("“Stop the crash” does not match"));
    }

    #[test]
    fn invalid_title_pattern_fails_gracefully() {
        let r = title_pattern("(unclosed", "fix: x");
        assert_eq!(r.status, RuleStatus::Fail);
        assert_eq!(r.title_fragment.as_deref(), Some("invalid title pattern"));
        assert!(
            r.detail
                .starts_with("title pattern `(unclosed` is invalid: ")
        );
    }
}
