use super::*;
use crate::policy::{Member, Severity};
use crate::rules::facts::Permission;
use crate::rules::result::RuleStatus;
use crate::rules::testutil::*;

use ReviewState::*;

fn run(policy: &Policy, severity: &str, facts: &PullRequestFacts) -> ApprovalsOutcome {
    check(policy, severity_named(policy, severity), facts)
}

fn filled(outcome: &ApprovalsOutcome) -> Vec<(String, Option<String>)> {
    outcome
        .report
        .roles
        .iter()
        .map(|s| {
            (
                s.role.clone(),
                s.filled_by.as_ref().map(|a| a.login.clone()),
            )
        })
        .collect()
}

fn role(role: &str, who: Option<&str>) -> (String, Option<String>) {
    (role.to_string(), who.map(str::to_string))
}

const T1: &str = "2026-11-26T13:20:00Z";
const T2: &str = "2026-11-26T13:30:00Z";
const T3: &str = "2026-11-26T13:40:00Z";
const BEFORE_PUSH: &str = "2026-11-26T13:05:00Z";

#[test]
fn p0_with_lead_and_on_call_on_head_passes() {
    let policy = p0_policy();
    let mut facts = p0_facts();
    facts.reviews = vec![
        review(1, "alice", Approved, HEAD_SHA, T1),
        review(2, "bob", Approved, HEAD_SHA, T2),
    ];
    let out = run(&policy, "P0", &facts);
    assert_eq!(out.result.status, RuleStatus::Pass, "{out:?}");
    assert_eq!(
        filled(&out),
        [
            role("engineering-lead", Some("alice")),
            role("on-call-manager", Some("bob"))
        ]
    );
    let bob = out.report.roles[1]
        .filled_by
        .as_ref()
        .expect("present in the fixture");
    assert_eq!(bob.via, ApprovalVia::Review);
    assert_eq!(bob.commit.as_deref(), Some(HEAD_SHA));
    assert!(
        bob.html_url
            .as_deref()
            .expect("present in the fixture")
            .ends_with("pullrequestreview-2")
    );
}

#[test]
fn p0_waiting_for_on_call_fails_naming_the_role() {
    let policy = p0_policy();
    let mut facts = p0_facts();
    facts.reviews = vec![review(1, "alice", Approved, HEAD_SHA, T1)];
    let out = run(&policy, "P0", &facts);
    assert_eq!(out.result.status, RuleStatus::Fail);
    assert_eq!(
        out.result.title_fragment.as_deref(),
        Some("needs on-call-manager approval")
    );
    assert_eq!(
        out.result.detail,
        "engineering-lead: @alice; on-call-manager: missing"
    );
}

#[test]
fn no_approvals_names_every_missing_role() {
    let policy = p0_policy();
    let out = run(&policy, "P0", &p0_facts());
    assert_eq!(
        out.result.title_fragment.as_deref(),
        Some("needs engineering-lead and on-call-manager approval")
    );
}

#[test]
fn stale_approval_does_not_count_and_names_the_commit() {
    let policy = p0_policy();
    let mut facts = p0_facts();
    facts.reviews = vec![
        review(1, "alice", Approved, HEAD_SHA, T1),
        review(2, "bob", Approved, OLD_SHA, T2),
    ];
    let out = run(&policy, "P0", &facts);
    assert_eq!(out.result.status, RuleStatus::Fail);
    assert_eq!(filled(&out)[1], role("on-call-manager", None));
    assert!(
        out.notes
            .iter()
            .any(|n| n.contains("@bob approved 0ld5678") && n.contains("abc1234")),
        "{:?}",
        out.notes
    );
}

#[test]
fn stale_approval_counts_without_dismiss_stale() {
    let mut policy = p0_policy();
    policy.approvals.dismiss_stale = false;
    let mut facts = p0_facts();
    facts.reviews = vec![
        review(1, "alice", Approved, HEAD_SHA, T1),
        review(2, "bob", Approved, OLD_SHA, T2),
    ];
    let out = run(&policy, "P0", &facts);
    assert_eq!(out.result.status, RuleStatus::Pass, "{out:?}");
    assert_eq!(
        out.report.roles[1]
            .filled_by
            .as_ref()
            .expect("present in the fixture")
            .commit
            .as_deref(),
        Some(OLD_SHA)
    );
}

#[test]
fn the_author_never_approves_their_own_hotfix_unless_allowed() {
    let mut policy = p0_policy();
    let mut facts = p0_facts();
    facts.author = "Bob".into(); // case differs from the review's login
    facts.reviews = vec![
        review(1, "alice", Approved, HEAD_SHA, T1),
        review(2, "bob", Approved, HEAD_SHA, T2),
    ];
    let out = run(&policy, "P0", &facts);
    assert_eq!(out.result.status, RuleStatus::Fail);
    assert!(out.notes.iter().any(|n| n.contains("@bob is the author")));

    policy.approvals.allow_author = true;
    let out = run(&policy, "P0", &facts);
    assert_eq!(out.result.status, RuleStatus::Pass, "{out:?}");
}

#[test]
fn later_changes_requested_withdraws_and_blocks() {
    let policy = p0_policy();
    let mut facts = p0_facts();
    facts.reviews = vec![
        review(1, "alice", Approved, HEAD_SHA, T1),
        review(2, "bob", Approved, HEAD_SHA, T1),
        review(3, "bob", ChangesRequested, HEAD_SHA, T2),
    ];
    let out = run(&policy, "P0", &facts);
    assert_eq!(out.result.status, RuleStatus::Fail);
    assert_eq!(filled(&out)[1], role("on-call-manager", None));
    assert_eq!(out.report.blocked_by, ["bob"]);
    assert_eq!(
        out.result.title_fragment.as_deref(),
        Some("needs on-call-manager approval; changes requested by @bob")
    );
}

#[test]
fn approval_after_changes_requested_counts_again() {
    let policy = p0_policy();
    let mut facts = p0_facts();
    facts.reviews = vec![
        review(1, "alice", Approved, HEAD_SHA, T1),
        review(2, "bob", ChangesRequested, HEAD_SHA, T1),
        review(3, "bob", Approved, HEAD_SHA, T2),
    ];
    let out = run(&policy, "P0", &facts);
    assert_eq!(out.result.status, RuleStatus::Pass, "{out:?}");
    assert!(out.report.blocked_by.is_empty());
}

#[test]
fn reviews_are_ordered_by_time_not_by_list_position() {
    let policy = p0_policy();
    let mut facts = p0_facts();
    facts.reviews = vec![
        review(1, "alice", Approved, HEAD_SHA, T1),
        review(3, "bob", ChangesRequested, HEAD_SHA, T3),
        review(2, "bob", Approved, HEAD_SHA, T2),
    ];
    let out = run(&policy, "P0", &facts);
    assert_eq!(out.report.blocked_by, ["bob"]);
}

#[test]
fn dismissed_review_withdraws_the_approval() {
    let policy = p0_policy();
    let mut facts = p0_facts();
    facts.reviews = vec![
        review(1, "alice", Approved, HEAD_SHA, T1),
        review(2, "bob", Approved, HEAD_SHA, T1),
        review(3, "bob", Dismissed, HEAD_SHA, T2),
    ];
    let out = run(&policy, "P0", &facts);
    assert_eq!(filled(&out)[1], role("on-call-manager", None));
    assert!(out.report.blocked_by.is_empty());
    // GitHub also rewrites the dismissed review's own state.
    facts.reviews = vec![
        review(1, "alice", Approved, HEAD_SHA, T1),
        review(2, "bob", Dismissed, HEAD_SHA, T1),
    ];
    assert_eq!(
        filled(&run(&policy, "P0", &facts))[1],
        role("on-call-manager", None)
    );
}

#[test]
fn dismissed_changes_request_no_longer_blocks() {
    let policy = p0_policy();
    let mut facts = p0_facts();
    facts.reviews = vec![
        review(1, "alice", Approved, HEAD_SHA, T1),
        review(2, "bob", Approved, HEAD_SHA, T1),
        review(3, "erin", ChangesRequested, HEAD_SHA, T2),
        review(4, "erin", Dismissed, HEAD_SHA, T3),
    ];
    let out = run(&policy, "P0", &facts);
    assert_eq!(out.result.status, RuleStatus::Pass, "{out:?}");
}

#[test]
fn commented_and_pending_reviews_do_not_override() {
    let policy = p0_policy();
    let mut facts = p0_facts();
    let mut pending = review(5, "alice", Pending, HEAD_SHA, T3);
    pending.submitted_at = None;
    facts.reviews = vec![
        review(1, "alice", Approved, HEAD_SHA, T1),
        review(2, "bob", Approved, HEAD_SHA, T1),
        review(3, "bob", Commented, HEAD_SHA, T2),
        review(4, "alice", Commented, HEAD_SHA, T3),
        pending,
    ];
    let out = run(&policy, "P0", &facts);
    assert_eq!(out.result.status, RuleStatus::Pass, "{out:?}");
}

#[test]
fn changes_requested_by_someone_outside_the_roles_does_not_block() {
    let policy = p0_policy();
    let mut facts = p0_facts();
    facts.reviews = vec![
        review(1, "alice", Approved, HEAD_SHA, T1),
        review(2, "bob", Approved, HEAD_SHA, T1),
        review(3, "carol", ChangesRequested, HEAD_SHA, T2), // product-manager: not required for P0
    ];
    let out = run(&policy, "P0", &facts);
    assert_eq!(out.result.status, RuleStatus::Pass, "{out:?}");
}

/// alice is in both roles; bob only in engineering-lead (through the team).
fn shared_member_facts() -> PullRequestFacts {
    let mut facts = p0_facts();
    facts
        .team_members
        .insert("acme/eng-leads".into(), vec!["bob".into()]);
    facts
        .team_members
        .insert("acme/on-call".into(), vec!["Alice".into()]);
    facts
}

#[test]
fn distinct_people_are_matched_not_assigned_greedily() {
    let policy = p0_policy();
    let mut facts = shared_member_facts();
    // alice approves first: greedy would give her engineering-lead.
    facts.reviews = vec![
        review(1, "alice", Approved, HEAD_SHA, T1),
        review(2, "bob", Approved, HEAD_SHA, T2),
    ];
    let out = run(&policy, "P0", &facts);
    assert_eq!(out.result.status, RuleStatus::Pass, "{out:?}");
    assert_eq!(
        filled(&out),
        [
            role("engineering-lead", Some("bob")),
            role("on-call-manager", Some("alice"))
        ]
    );
    // And with bob first.
    facts.reviews.reverse();
    let out = run(&policy, "P0", &facts);
    assert_eq!(out.result.status, RuleStatus::Pass, "{out:?}");
}

#[test]
fn distinct_people_matching_with_roles_in_the_other_order() {
    let mut policy = p0_policy();
    policy.severities[0].approvals.roles.reverse();
    let mut facts = shared_member_facts();
    facts.reviews = vec![
        review(1, "alice", Approved, HEAD_SHA, T1),
        review(2, "bob", Approved, HEAD_SHA, T2),
    ];
    let out = run(&policy, "P0", &facts);
    assert_eq!(
        filled(&out),
        [
            role("on-call-manager", Some("alice")),
            role("engineering-lead", Some("bob"))
        ]
    );
}

#[test]
fn one_person_in_both_roles_fills_only_one() {
    let policy = p0_policy();
    let mut facts = shared_member_facts();
    facts.reviews = vec![review(1, "alice", Approved, HEAD_SHA, T1)];
    let out = run(&policy, "P0", &facts);
    assert_eq!(out.result.status, RuleStatus::Fail);
    let filled_count = out
        .report
        .roles
        .iter()
        .filter(|s| s.filled_by.is_some())
        .count();
    assert_eq!(filled_count, 1);
}

#[test]
fn team_membership_fills_a_role_case_insensitively() {
    let policy = p0_policy();
    let mut facts = p0_facts();
    facts.reviews = vec![
        review(1, "ERIN", Approved, HEAD_SHA, T1), // acme/eng-leads member
        review(2, "bob", Approved, HEAD_SHA, T2),
    ];
    facts.permissions.insert("erin".into(), Permission::Write);
    let out = run(&policy, "P0", &facts);
    assert_eq!(out.result.status, RuleStatus::Pass, "{out:?}");
    assert_eq!(filled(&out)[0], role("engineering-lead", Some("ERIN")));
}

#[test]
fn team_not_looked_up_means_not_counted_and_says_so() {
    let policy = p0_policy();
    let mut facts = p0_facts();
    facts.team_members.remove("acme/on-call");
    facts.reviews = vec![
        review(1, "alice", Approved, HEAD_SHA, T1),
        review(2, "bob", Approved, HEAD_SHA, T2),
    ];
    let out = run(&policy, "P0", &facts);
    assert_eq!(out.result.status, RuleStatus::Fail);
    assert!(
        out.notes
            .iter()
            .any(|n| n.contains("could not confirm whether @bob is in on-call-manager")),
        "{:?}",
        out.notes
    );
}

#[test]
fn count_needs_writers() {
    let policy = p0_policy();
    let mut facts = p0_facts();
    facts.reviews = vec![review(1, "bob", Approved, HEAD_SHA, T1)];
    let out = run(&policy, "P2", &facts);
    assert_eq!(out.result.status, RuleStatus::Pass, "{out:?}");
    assert_eq!(
        out.report
            .count
            .as_ref()
            .expect("present in the fixture")
            .writers,
        ["bob"]
    );

    facts.reviews = vec![review(1, "mallory", Approved, HEAD_SHA, T1)];
    let out = run(&policy, "P2", &facts);
    assert_eq!(out.result.status, RuleStatus::Fail);
    assert_eq!(
        out.result.title_fragment.as_deref(),
        Some("needs 1 more approval")
    );
    assert!(
        out.notes
            .iter()
            .any(|n| n.contains("@mallory does not have write access"))
    );
}

#[test]
fn count_with_unknown_permission_is_not_counted_and_says_so() {
    let policy = p0_policy();
    let mut facts = p0_facts();
    facts.reviews = vec![review(1, "zed", Approved, HEAD_SHA, T1)];
    let out = run(&policy, "P2", &facts);
    assert_eq!(out.result.status, RuleStatus::Fail);
    assert!(
        out.notes
            .iter()
            .any(|n| n.contains("@zed's repository permission is unknown")),
        "{:?}",
        out.notes
    );
}

/// Finding 6 of the adversarial review: on a count-only severity the
/// author's own `/hotfix approve` is the author's, not an unknown
/// permission (the author's permission is never looked up).
#[test]
fn the_authors_own_command_on_a_count_only_severity_says_it_is_the_authors() {
    let policy = p0_policy();
    let mut facts = p0_facts();
    let author = facts.author.clone();
    // As gathered: the author's permission is not looked up.
    facts.permissions.remove(&author);
    facts.comments = vec![comment(7, &author, "/hotfix approve", T2)];
    let out = run(&policy, "P2", &facts);
    assert_eq!(out.result.status, RuleStatus::Fail);
    assert!(
        out.notes
            .iter()
            .any(|n| n == &format!("@{author} is the author; their own approval does not count")),
        "{:?}",
        out.notes
    );
    assert!(
        !out.notes
            .iter()
            .any(|n| n.contains("permission is unknown")),
        "{:?}",
        out.notes
    );
}

#[test]
fn count_only_blocks_on_a_writers_changes_request() {
    let policy = p0_policy();
    let mut facts = p0_facts();
    facts.reviews = vec![
        review(1, "bob", Approved, HEAD_SHA, T1),
        review(2, "carol", ChangesRequested, HEAD_SHA, T2),
        review(3, "mallory", ChangesRequested, HEAD_SHA, T2),
    ];
    let out = run(&policy, "P2", &facts);
    assert_eq!(out.result.status, RuleStatus::Fail);
    assert_eq!(out.report.blocked_by, ["carol"]);
}

fn roles_and_count_policy(count: u32) -> Policy {
    let mut policy = p0_policy();
    policy.severities.push(Severity {
        name: "P1X".into(),
        labels: vec!["P1X".into()],
        approvals: crate::policy::SeverityApprovals {
            roles: vec!["engineering-lead".into()],
            count: Some(count),
        },
        deadline: None,
        follow_up: None,
    });
    policy
}

#[test]
fn count_with_roles_is_the_minimum_total_role_approvers_included() {
    let policy = roles_and_count_policy(2);
    let mut facts = p0_facts();
    facts.reviews = vec![
        review(1, "alice", Approved, HEAD_SHA, T1),
        review(2, "bob", Approved, HEAD_SHA, T2),
    ];
    let out = run(&policy, "P1X", &facts);
    assert_eq!(out.result.status, RuleStatus::Pass, "{out:?}");

    facts.reviews = vec![review(1, "alice", Approved, HEAD_SHA, T1)];
    let out = run(&policy, "P1X", &facts);
    assert_eq!(out.result.status, RuleStatus::Fail);
    assert_eq!(
        out.result.title_fragment.as_deref(),
        Some("needs 1 more approval")
    );

    // A role member without write access fills neither the role nor the
    // count (issue 9 e: a role holder who lost write access).
    facts.reviews = vec![
        review(1, "erin", Approved, HEAD_SHA, T1),
        review(2, "bob", Approved, HEAD_SHA, T2),
    ];
    facts.permissions.insert("erin".into(), Permission::Read);
    let out = run(&policy, "P1X", &facts);
    assert_eq!(filled(&out), [role("engineering-lead", None)]);
    assert!(
        out.notes.contains(
            &"@erin is in engineering-lead but does not have write access; their approval does not count"
                .to_string()
        ),
        "{:?}",
        out.notes
    );
    assert_eq!(
        out.report
            .count
            .as_ref()
            .expect("present in the fixture")
            .writers,
        ["bob"]
    );
    assert_eq!(out.result.status, RuleStatus::Fail);
}

#[test]
fn command_by_a_role_member_after_the_push_approves_the_head() {
    let policy = p0_policy();
    let mut facts = p0_facts();
    facts.reviews = vec![review(1, "alice", Approved, HEAD_SHA, T1)];
    facts.comments = vec![comment(7, "bob", "/hotfix approve  \n", T2)];
    let out = run(&policy, "P0", &facts);
    assert_eq!(out.result.status, RuleStatus::Pass, "{out:?}");
    let bob = out.report.roles[1]
        .filled_by
        .as_ref()
        .expect("present in the fixture");
    assert_eq!(bob.via, ApprovalVia::Comment);
    assert_eq!(bob.commit.as_deref(), Some(HEAD_SHA));
    assert!(
        bob.html_url
            .as_deref()
            .expect("present in the fixture")
            .ends_with("issuecomment-7")
    );
}

#[test]
fn command_is_case_sensitive_and_exact() {
    let policy = p0_policy();
    let mut facts = p0_facts();
    facts.reviews = vec![review(1, "alice", Approved, HEAD_SHA, T1)];
    for body in [
        "/Hotfix approve",
        "/hotfix approve please",
        "lgtm /hotfix approve",
    ] {
        facts.comments = vec![comment(7, "bob", body, T2)];
        let out = run(&policy, "P0", &facts);
        assert_eq!(out.result.status, RuleStatus::Fail, "{body:?} counted");
    }
}

#[test]
fn command_by_a_non_member_changes_nothing_and_is_noted() {
    let policy = p0_policy();
    let mut facts = p0_facts();
    facts.reviews = vec![review(1, "alice", Approved, HEAD_SHA, T1)];
    facts.comments = vec![comment(7, "mallory", "/hotfix approve", T2)];
    let out = run(&policy, "P0", &facts);
    assert_eq!(out.result.status, RuleStatus::Fail);
    assert_eq!(
        out.notes,
        ["@mallory is not in a required role; their /hotfix approve was not counted"]
    );
}

#[test]
fn edited_command_is_ignored_and_noted() {
    let policy = p0_policy();
    let mut facts = p0_facts();
    facts.reviews = vec![review(1, "alice", Approved, HEAD_SHA, T1)];
    let mut edited = comment(7, "bob", "/hotfix approve", T2);
    edited.updated_at = Some(ts(T3));
    facts.comments = vec![edited.clone()];
    let out = run(&policy, "P0", &facts);
    assert_eq!(out.result.status, RuleStatus::Fail);
    assert!(out.notes.iter().any(|n| n.contains("@bob edited")));

    // Never-edited comments may carry no updated_at at all.
    edited.updated_at = None;
    facts.comments = vec![edited];
    assert_eq!(run(&policy, "P0", &facts).result.status, RuleStatus::Pass);
}

#[test]
fn command_before_the_latest_push_is_stale() {
    let mut policy = p0_policy();
    let mut facts = p0_facts();
    facts.reviews = vec![review(1, "alice", Approved, HEAD_SHA, T1)];
    facts.comments = vec![comment(7, "bob", "/hotfix approve", BEFORE_PUSH)];
    let out = run(&policy, "P0", &facts);
    assert_eq!(out.result.status, RuleStatus::Fail);
    assert!(
        out.notes
            .iter()
            .any(|n| n.contains("before the latest push (2026-11-26 13:10 UTC)")),
        "{:?}",
        out.notes
    );

    policy.approvals.dismiss_stale = false;
    let out = run(&policy, "P0", &facts);
    assert_eq!(out.result.status, RuleStatus::Pass);
    // It approved whatever the head was then: not known to be this commit.
    assert_eq!(
        out.report.roles[1]
            .filled_by
            .as_ref()
            .expect("present in the fixture")
            .commit,
        None
    );
}

#[test]
fn command_overrides_an_earlier_changes_request_and_vice_versa() {
    let policy = p0_policy();
    let mut facts = p0_facts();
    facts.reviews = vec![
        review(1, "alice", Approved, HEAD_SHA, T1),
        review(2, "bob", ChangesRequested, HEAD_SHA, T1),
    ];
    facts.comments = vec![comment(7, "bob", "/hotfix approve", T2)];
    assert_eq!(run(&policy, "P0", &facts).result.status, RuleStatus::Pass);

    facts
        .reviews
        .push(review(3, "bob", ChangesRequested, HEAD_SHA, T3));
    let out = run(&policy, "P0", &facts);
    assert_eq!(out.report.blocked_by, ["bob"]);
}

#[test]
fn count_only_commands_come_from_writers() {
    let policy = p0_policy();
    let mut facts = p0_facts();
    facts.comments = vec![comment(7, "mallory", "/hotfix approve", T2)];
    let out = run(&policy, "P2", &facts);
    assert_eq!(out.result.status, RuleStatus::Fail);
    assert!(
        out.notes
            .iter()
            .any(|n| n.contains("@mallory does not have write access; their /hotfix approve"))
    );
    facts.comments = vec![comment(7, "carol", "/hotfix approve", T2)];
    assert_eq!(run(&policy, "P2", &facts).result.status, RuleStatus::Pass);
}

#[test]
fn author_command_does_not_count() {
    let policy = p0_policy();
    let mut facts = p0_facts();
    facts.author = "carol".into();
    facts.comments = vec![comment(7, "carol", "/hotfix approve", T2)];
    assert_eq!(run(&policy, "P2", &facts).result.status, RuleStatus::Fail);
}

#[test]
fn severity_without_requirements_is_skipped() {
    let mut policy = p0_policy();
    policy.severities[2].approvals.count = None;
    let out = run(&policy, "P2", &p0_facts());
    assert_eq!(out.result.status, RuleStatus::Skip);
}

#[test]
fn undefined_role_cannot_be_filled() {
    let mut policy = p0_policy();
    policy.severities[0].approvals.roles = vec!["release-manager".into()];
    policy
        .roles
        .insert("unused".into(), vec![Member::parse("alice")]);
    let mut facts = p0_facts();
    facts.reviews = vec![review(1, "alice", Approved, HEAD_SHA, T1)];
    let out = run(&policy, "P0", &facts);
    assert_eq!(out.result.status, RuleStatus::Fail);
}

#[test]
fn permission_facts_cover_admins_as_writers() {
    let policy = p0_policy();
    let mut facts = p0_facts();
    facts.permissions.insert("zed".into(), Permission::Maintain);
    facts.reviews = vec![review(1, "zed", Approved, HEAD_SHA, T1)];
    assert_eq!(run(&policy, "P2", &facts).result.status, RuleStatus::Pass);
}

#[test]
fn command_with_no_known_push_time_is_stale_never_fresh() {
    let mut policy = p0_policy();
    let mut facts = p0_facts();
    facts.reviews = vec![review(1, "alice", Approved, HEAD_SHA, T1)];
    facts.comments = vec![comment(7, "bob", "/hotfix approve", T3)];
    facts.head_pushed_at = None;
    facts.head_pushed_source = None;
    let out = run(&policy, "P0", &facts);
    assert_eq!(out.result.status, RuleStatus::Fail);
    assert_eq!(
        out.result.title_fragment.as_deref(),
        Some("needs on-call-manager approval")
    );
    assert_eq!(
        out.notes,
        [
            "@bob's /hotfix approve is stale — approve again: could not confirm this comment came after the latest push"
        ]
    );
    // Without dismiss_stale, freshness is not asked for.
    policy.approvals.dismiss_stale = false;
    assert_eq!(run(&policy, "P0", &facts).result.status, RuleStatus::Pass);
}

#[test]
fn command_in_the_same_second_as_the_push_is_not_known_to_follow_it() {
    let policy = p0_policy();
    let mut facts = p0_facts();
    facts.reviews = vec![review(1, "alice", Approved, HEAD_SHA, T1)];
    let pushed = facts.head_pushed_at.expect("present in the fixture");
    let mut c = comment(7, "bob", "/hotfix approve", T1);
    c.created_at = pushed;
    c.updated_at = Some(pushed);
    facts.comments = vec![c];
    assert_eq!(run(&policy, "P0", &facts).result.status, RuleStatus::Fail);
}

#[test]
fn approvals_from_apps_and_deleted_accounts_do_not_count() {
    let policy = p0_policy();
    let mut facts = p0_facts();
    let mut bot_review = review(1, "alice", Approved, HEAD_SHA, T1);
    bot_review.not_a_person = true;
    let mut bot_command = comment(7, "bob", "/hotfix approve", T2);
    bot_command.not_a_person = true;
    facts.reviews = vec![bot_review];
    facts.comments = vec![bot_command];
    let out = run(&policy, "P0", &facts);
    assert_eq!(out.result.status, RuleStatus::Fail);
    assert_eq!(
        out.notes,
        [
            "@alice is not a person's account (GitHub says an app or a deleted user); its approval does not count",
            "@bob is not a person's account (GitHub says an app or a deleted user); its approval does not count"
        ]
    );
}
