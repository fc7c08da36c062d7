//! What made a pull request a hotfix, as the report words it, and the
//! predicate the engine branches on.

use crate::rules::classify::{Classification, HotfixReason, classify};
use crate::rules::testutil::p0_policy;

#[test]
fn each_reason_names_what_matched() {
    let cases = [
        (
            HotfixReason::Label {
                label: "hotfix".into(),
            },
            "label `hotfix`",
        ),
        (
            HotfixReason::BranchPrefix {
                prefix: "hotfix/".into(),
            },
            "branch prefix `hotfix/`",
        ),
        (
            HotfixReason::LabelAndBranch {
                label: "hotfix".into(),
                prefix: "hotfix/".into(),
            },
            "label `hotfix` and branch prefix `hotfix/`",
        ),
    ];
    for (reason, want) in cases {
        assert_eq!(reason.to_string(), want);
    }
}

#[test]
fn is_hotfix_tells_the_two_classifications_apart() {
    let policy = p0_policy();
    assert!(classify(&policy, &[], "hotfix/login").is_hotfix());
    assert!(!classify(&policy, &[], "feature/login").is_hotfix());
    assert!(!Classification::NotHotfix.is_hotfix());
}
