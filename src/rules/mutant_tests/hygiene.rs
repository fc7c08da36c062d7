//! A files list cut at GitHub's 3,000 must never pass a rule that needs the
//! whole list, and says why.

use crate::rules::facts::{ChangedFile, FILES_LIST_LIMIT};
use crate::rules::hygiene::{max_changed_files, require_tests};
use crate::rules::result::RuleStatus;
use crate::rules::testutil::changed;

fn capped() -> Vec<ChangedFile> {
    (0..FILES_LIST_LIMIT)
        .map(|i| changed(&format!("src/f{i}.rs"), 1, 0))
        .collect()
}

#[test]
fn a_cut_list_without_a_test_names_the_limit() {
    let r = require_tests(&["tests/**".into()], Some(&capped()), None);
    assert_eq!(r.status, RuleStatus::Fail);
    assert_eq!(
        r.title_fragment.as_deref(),
        Some("more than 3,000 files changed")
    );
    assert_eq!(
        r.detail,
        "more than 3,000 files changed: tests cannot be verified; a hotfix should be minimal"
    );
}

#[test]
fn a_cut_list_without_totals_cannot_pass_a_file_limit() {
    // 3,000 listed files may be 3,000 of many more: a limit above the cap
    // must not pass on the count of a cut list.
    let r = max_changed_files(5_000, Some(&capped()), None);
    assert_eq!(r.status, RuleStatus::Fail);
    assert_eq!(
        r.detail,
        "more than 3,000 files changed: the number of changed files cannot be confirmed; a hotfix should be minimal"
    );
}
