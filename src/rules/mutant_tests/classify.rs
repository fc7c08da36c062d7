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

#[test]
fn severity_is_the_hotfixs_first_severity_label_and_none_otherwise() {
    let policy = p0_policy();
    let labels = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let hotfix = classify(&policy, &labels(&["hotfix", "P1", "P0"]), "main");
    assert_eq!(hotfix.severity().map(|s| s.name.as_str()), Some("P0"));
    let unlabelled = classify(&policy, &labels(&["hotfix"]), "main");
    assert_eq!(unlabelled.severity(), None);
    // A severity label on a pull request that is not a hotfix gives none.
    let not_hotfix = classify(&policy, &labels(&["P0"]), "feature/login");
    assert_eq!(not_hotfix, Classification::NotHotfix);
    assert_eq!(not_hotfix.severity(), None);
}
