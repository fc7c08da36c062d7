//! A merge-back done by hand into a `develop` that is the repository's
//! default branch: the push to it is delivered, and the hotfix waiting on
//! that merge-back is evaluated again, also when the push changes the
//! policy file (the hotfix's own policy edit coming along), which is then a
//! policy change as well (the cache dropped first).

mod common;

use common::attacks;
use common::harness::{POLICY, POLICY_PATH, REPO};

/// The P0's merge commit.
const MERGE_SHA: &str = "m9m9m9m9m9m9m9m9m9m9m9m9m9m9m9m9m9m9m9m9";
/// `develop` after the merge-back by hand.
const DEVELOP_AFTER: &str = "d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4";

/// GitHub refuses the app's merge-back branch (403), so the merge-back
/// check fails and says to merge back by hand; a writer does, and the push
/// to the default `develop` also modifies the policy file. The merge-back
/// check turns to success and the sticky comment says `develop` contains
/// the fix.
///
/// Checked that the test can fail: with `Intake::PolicyChanged`'s `pushed`
/// ignored in `server::webhook` (the cache dropped, no hotfix looked up),
/// the merge-back check stays `failure`.
#[tokio::test]
async fn a_merge_back_by_hand_that_also_changes_the_policy_completes_the_merge_back_check() {
    let (h, pull) = attacks::merged_approved_p0(POLICY, MERGE_SHA).await;
    h.gh.set_default_branch(REPO, "develop");
    h.gh.set_file(REPO, "develop", POLICY_PATH, POLICY);
    h.gh.fail_next("POST", "/git/refs", 403, vec![], 1);
    h.pull_request("closed", pull.number).await;
    let merge_back = |h: &common::harness::Harness| {
        h.gh.check_runs(REPO, MERGE_SHA)
            .into_iter()
            .find(|r| r.name == "hotfix-policy/merge-back")
            .expect("the merge-back check run")
    };
    assert_eq!(
        merge_back(&h).conclusion.as_deref(),
        Some("failure"),
        "precondition: {:?}",
        merge_back(&h)
    );

    h.gh.set_branch(REPO, "develop", DEVELOP_AFTER);
    h.gh.set_file(REPO, DEVELOP_AFTER, POLICY_PATH, POLICY);
    h.gh.set_compare(REPO, "develop", MERGE_SHA, "behind");
    let mut push =
        common::webhook::push_event(REPO, "refs/heads/develop", &["src/fix.rs", POLICY_PATH], 1);
    push["repository"]["default_branch"] = "develop".into();
    push["repository"]["master_branch"] = "develop".into();
    h.deliver("push", &push).await;
    h.settle().await;
    let run = merge_back(&h);
    assert_eq!(
        (run.status.as_str(), run.conclusion.as_deref()),
        ("completed", Some("success")),
        "{run:?}"
    );
    assert!(
        attacks::sticky(&h, pull.number).contains("`develop` contains the fix"),
        "{}",
        attacks::sticky(&h, pull.number)
    );
}
