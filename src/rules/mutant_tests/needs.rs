//! What the engine is told to gather: each condition on its own.

use crate::rules::facts::ReviewState::Approved;
use crate::rules::needs::{deciders, needs};
use crate::rules::testutil::*;

#[test]
fn no_approvals_means_no_comments_even_with_a_command() {
    let mut policy = p0_policy();
    policy.severities[2].approvals.count = None;
    assert_eq!(policy.approvals.command, "/hotfix approve");
    let n = needs(&policy, severity_named(&policy, "P2"));
    assert!(!n.reviews);
    assert!(!n.comments);
}

#[test]
fn each_hygiene_check_alone_needs_the_changed_files() {
    let policy = p0_policy();
    assert!(!needs(&policy, severity_named(&policy, "P0")).changed_files);

    let mut tests_only = p0_policy();
    tests_only.checks.require_tests = vec!["tests/**".into()];
    assert!(needs(&tests_only, severity_named(&tests_only, "P0")).changed_files);

    let mut files_only = p0_policy();
    files_only.checks.max_changed_files = Some(10);
    assert!(needs(&files_only, severity_named(&files_only, "P0")).changed_files);

    let mut lines_only = p0_policy();
    lines_only.checks.max_changed_lines = Some(100);
    assert!(needs(&lines_only, severity_named(&lines_only, "P0")).changed_files);
}

#[test]
fn the_author_is_a_decider_only_when_authors_may_approve() {
    let mut policy = p0_policy();
    let mut facts = p0_facts();
    facts.reviews = vec![review(1, "bob", Approved, HEAD_SHA, "2026-11-26T13:20:00Z")];
    facts.comments = vec![comment(
        2,
        "dave",
        "/hotfix approve",
        "2026-11-26T13:25:00Z",
    )];
    assert_eq!(facts.author, "dave");
    assert_eq!(deciders(&policy, &facts), ["bob"]);
    policy.approvals.allow_author = true;
    assert_eq!(deciders(&policy, &facts), ["bob", "dave"]);
}

#[test]
fn role_holders_are_the_deciders_a_required_role_names() {
    use crate::rules::needs::role_holders;
    let policy = p0_policy();
    let mut facts = p0_facts();
    // alice is named in engineering-lead and bob is in acme/on-call (both
    // P0 roles); carol is only in product-manager (not a P0 role); zed is
    // in no role at all.
    facts.reviews = vec![
        review(1, "alice", Approved, HEAD_SHA, "2026-11-26T13:20:00Z"),
        review(2, "bob", Approved, HEAD_SHA, "2026-11-26T13:21:00Z"),
        review(3, "carol", Approved, HEAD_SHA, "2026-11-26T13:22:00Z"),
        review(4, "zed", Approved, HEAD_SHA, "2026-11-26T13:23:00Z"),
    ];
    assert_eq!(
        role_holders(&policy, severity_named(&policy, "P0"), &facts),
        ["alice", "bob"]
    );
}
