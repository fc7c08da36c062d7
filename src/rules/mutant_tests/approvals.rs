//! Approval counts: a count of zero next to roles asks for nothing, and the
//! detail line's noun follows the number required.

use crate::policy::{Policy, Severity, SeverityApprovals};
use crate::rules::approvals::check;
use crate::rules::facts::ReviewState::Approved;
use crate::rules::result::RuleStatus;
use crate::rules::testutil::*;

const T1: &str = "2026-11-26T13:20:00Z";
const T2: &str = "2026-11-26T13:30:00Z";

/// The README policy plus `PX`: the engineering-lead role and `count`
/// approvals from writers.
fn with_roles_and_count(count: Option<u32>) -> Policy {
    let mut policy = p0_policy();
    policy.severities.push(Severity {
        name: "PX".into(),
        labels: vec!["PX".into()],
        approvals: SeverityApprovals {
            roles: vec!["engineering-lead".into()],
            count,
        },
        deadline: None,
        follow_up: None,
    });
    policy
}

#[test]
fn a_count_of_zero_beside_roles_asks_for_no_count() {
    let policy = with_roles_and_count(Some(0));
    let mut facts = p0_facts();
    facts.reviews = vec![review(1, "alice", Approved, HEAD_SHA, T1)];
    let out = check(&policy, severity_named(&policy, "PX"), &facts);
    assert_eq!(out.result.status, RuleStatus::Pass, "{out:?}");
    assert_eq!(out.report.count, None);
    assert_eq!(out.result.detail, "engineering-lead: @alice");
}

#[test]
fn the_count_detail_says_approval_for_one_and_approvals_for_more() {
    let policy = with_roles_and_count(Some(1));
    let mut facts = p0_facts();
    facts.reviews = vec![review(1, "alice", Approved, HEAD_SHA, T1)];
    let out = check(&policy, severity_named(&policy, "PX"), &facts);
    assert_eq!(
        out.result.detail,
        "engineering-lead: @alice; 1 of 1 approval from people with write access"
    );

    let policy = with_roles_and_count(Some(2));
    facts.reviews.push(review(2, "bob", Approved, HEAD_SHA, T2));
    let out = check(&policy, severity_named(&policy, "PX"), &facts);
    assert_eq!(
        out.result.detail,
        "engineering-lead: @alice; 2 of 2 approvals from people with write access"
    );
    assert_eq!(out.result.status, RuleStatus::Pass);
}
