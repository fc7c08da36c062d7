use super::*;
use crate::rules::facts::ReviewState::*;
use crate::rules::result::RuleStatus;
use crate::rules::testutil::*;

fn approved_p0() -> PullRequestFacts {
    let mut facts = p0_facts();
    facts.reviews = vec![
        review(1, "alice", Approved, HEAD_SHA, "2026-11-26T13:20:00Z"),
        review(2, "bob", Approved, HEAD_SHA, "2026-11-26T13:30:00Z"),
    ];
    facts
}

#[test]
fn not_a_hotfix_is_neutral() {
    let mut facts = p0_facts();
    facts.labels = vec![label("bug")];
    facts.head_ref = "feature/login".into();
    let v = evaluate(&p0_policy(), &facts);
    assert!(!v.is_hotfix);
    assert_eq!(v.conclusion, Conclusion::Neutral);
    assert_eq!(v.title, "No hotfix policy applies");
    assert!(v.results.is_empty());
}

#[test]
fn hotfix_without_severity_names_the_labels_to_add() {
    let mut facts = p0_facts();
    facts.labels = vec![label("hotfix")];
    let v = evaluate(&p0_policy(), &facts);
    assert!(v.is_hotfix);
    assert_eq!(v.conclusion, Conclusion::Failure);
    assert_eq!(
        v.title,
        "Hotfix needs a severity label: add one of P0, P1, P2"
    );
    assert_eq!(v.severity, None);
    assert_eq!(v.results[0].id, RuleId::Severity);
}

#[test]
fn approved_p0_succeeds_with_a_deadline_from_the_label() {
    let v = evaluate(&p0_policy(), &approved_p0());
    assert_eq!(v.conclusion, Conclusion::Success, "{v:#?}");
    assert_eq!(v.title, "P0 hotfix: all requirements met");
    assert_eq!(v.severity.as_deref(), Some("P0"));
    assert_eq!(
        v.severity_set_by,
        Some(("alice".into(), ts("2026-11-26T13:02:00Z")))
    );
    assert_eq!(v.deadline, Some(ts("2026-11-26T15:02:00Z")));
    let ids: Vec<RuleId> = v.results.iter().map(|r| r.id).collect();
    assert_eq!(
        ids,
        [
            RuleId::SeverityProvenance,
            RuleId::Approvals,
            RuleId::TargetBranch,
            RuleId::VersionBump
        ]
    );
    assert_eq!(v.approvals.as_ref().map(|a| a.roles.len()), Some(2));
}

#[test]
fn deadline_falls_back_to_creation_time() {
    let mut facts = approved_p0();
    facts.label_events.clear();
    let v = evaluate(&p0_policy(), &facts);
    assert_eq!(v.deadline, Some(ts("2026-11-26T15:00:00Z")));
    assert_eq!(v.severity_set_by, None);
}

#[test]
fn failures_join_their_fragments_in_rule_order() {
    let mut facts = p0_facts();
    facts.reviews = vec![review(
        1,
        "alice",
        Approved,
        HEAD_SHA,
        "2026-11-26T13:20:00Z",
    )];
    facts
        .files
        .get_mut("VERSION")
        .expect("present in the fixture")
        .head = Some("1.2.3\n".into());
    let v = evaluate(&p0_policy(), &facts);
    assert_eq!(v.conclusion, Conclusion::Failure);
    assert_eq!(
        v.title,
        "needs on-call-manager approval; VERSION not bumped"
    );
}

#[test]
fn an_unknown_label_applier_fails_even_when_approved() {
    let mut facts = approved_p0();
    facts.label_events.clear();
    let v = evaluate(&p0_policy(), &facts);
    assert_eq!(v.results[0].status, RuleStatus::Fail);
    assert_eq!(v.conclusion, Conclusion::Failure);
    assert_eq!(v.title, "could not confirm who applied P0");
}

#[test]
fn severity_applied_by_a_non_writer_is_no_valid_severity() {
    let mut facts = approved_p0();
    facts.label_events[1].actor = "mallory".into();
    let v = evaluate(&p0_policy(), &facts);
    assert_eq!(v.conclusion, Conclusion::Failure);
    assert_eq!(v.severity, None);
    assert_eq!(v.deadline, None);
    assert_eq!(
        v.title,
        "P0 label applied by @mallory, who lacks write access"
    );
}

#[test]
fn hygiene_rules_join_the_results_when_configured() {
    let mut policy = p0_policy();
    policy.checks.require_tests = vec!["tests/**".into()];
    policy.checks.title_pattern = Some("^fix: ".into());
    let v = evaluate(&policy, &approved_p0());
    assert_eq!(v.title, "no test changes");
    assert_eq!(v.results.len(), 6);
}

#[test]
fn severity_drop_and_approval_notes_reach_the_verdict() {
    let policy = p0_policy();
    let mut facts = approved_p0();
    facts.labels = vec![label("hotfix"), label("P2")];
    facts.label_events.extend([
        label_event("P0", false, "bob", "2026-11-26T14:00:00Z"),
        label_event("P2", true, "bob", "2026-11-26T14:00:00Z"),
    ]);
    facts.comments = vec![comment(
        9,
        "mallory",
        "/hotfix approve",
        "2026-11-26T14:05:00Z",
    )];
    let v = evaluate(&policy, &facts);
    assert_eq!(v.severity.as_deref(), Some("P2"));
    assert_eq!(v.conclusion, Conclusion::Success, "{v:#?}");
    assert_eq!(
        v.notes,
        [
            "Severity lowered from P0 to P2 by @bob at 2026-11-26 14:00 UTC after approvals",
            "@mallory does not have write access; their /hotfix approve was not counted"
        ]
    );
    // P2 has no deadline.
    assert_eq!(v.deadline, None);
}

#[test]
fn wrong_target_fails_even_without_severity() {
    let mut facts = p0_facts();
    facts.labels = vec![label("hotfix")];
    facts.base_ref = "develop".into();
    let v = evaluate(&p0_policy(), &facts);
    assert_eq!(v.results[1].status, RuleStatus::Fail);
    assert_eq!(
        v.results[1].detail,
        "targets develop; hotfixes must target main"
    );
}
