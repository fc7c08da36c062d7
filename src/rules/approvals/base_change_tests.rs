//! Approvals against another base: an approval (review or comment command)
//! given at or before the latest `base_ref_changed` event is stale; one the
//! change is unknown for is stale too (fail closed).

use super::*;
use crate::rules::facts::BaseChange;
use crate::rules::result::RuleStatus;
use crate::rules::testutil::*;

use ReviewState::*;

/// The retarget to `main`, between the approvals below.
const RETARGET: &str = "2026-11-26T13:25:00Z";
const BEFORE: &str = "2026-11-26T13:20:00Z";
const AFTER: &str = "2026-11-26T13:30:00Z";

fn retargeted_at(at: &str) -> PullRequestFacts {
    let mut facts = p0_facts();
    facts.base_changed = BaseChange::At { at: ts(at) };
    facts
}

fn p0(facts: &PullRequestFacts) -> ApprovalsOutcome {
    let policy = p0_policy();
    check(&policy, severity_named(&policy, "P0"), facts)
}

#[test]
fn approvals_before_the_base_changed_are_stale_and_say_so() {
    let mut facts = retargeted_at(RETARGET);
    facts.reviews = vec![review(1, "alice", Approved, HEAD_SHA, BEFORE)];
    facts.comments = vec![comment(2, "bob", "/hotfix approve", BEFORE)];
    let out = p0(&facts);
    assert_eq!(out.result.status, RuleStatus::Fail, "{out:?}");
    assert_eq!(
        out.result.title_fragment.as_deref(),
        Some("needs engineering-lead and on-call-manager approval")
    );
    assert!(out.report.approvals.is_empty(), "{out:?}");
    assert_eq!(
        out.notes,
        [
            "@alice's review came before the base branch changed to `main` (2026-11-26 13:25 UTC): stale, approve again",
            "@bob's /hotfix approve came before the base branch changed to `main` (2026-11-26 13:25 UTC): stale, approve again",
        ]
    );
}

#[test]
fn approvals_after_the_base_changed_count() {
    let mut facts = retargeted_at(RETARGET);
    facts.reviews = vec![review(1, "alice", Approved, HEAD_SHA, AFTER)];
    facts.comments = vec![comment(2, "bob", "/hotfix approve", AFTER)];
    let out = p0(&facts);
    assert_eq!(out.result.status, RuleStatus::Pass, "{out:?}");
    assert!(out.notes.is_empty(), "{:?}", out.notes);
}

/// GitHub's times are to the second: an approval in the same second as the
/// retarget is not known to follow it, so it is stale; one second later
/// it counts. (Fails for `>=` in place of `>`.)
#[test]
fn an_approval_in_the_same_second_as_the_base_change_is_stale() {
    for (at, counts) in [
        ("2026-11-26T13:25:00Z", false),
        ("2026-11-26T13:25:01Z", true),
    ] {
        let mut facts = retargeted_at(RETARGET);
        facts.reviews = vec![review(1, "alice", Approved, HEAD_SHA, at)];
        facts.comments = vec![comment(2, "bob", "/hotfix approve", at)];
        let out = p0(&facts);
        let status = if counts {
            RuleStatus::Pass
        } else {
            RuleStatus::Fail
        };
        assert_eq!(out.result.status, status, "{at}: {out:?}");
        assert_eq!(
            out.report.approvals.len(),
            if counts { 2 } else { 0 },
            "{at}"
        );
    }
}

/// The events list was cut (a change past the cut is unread), or the
/// change carries no time: no approval is known to follow it.
#[test]
fn an_unknown_base_change_makes_every_approval_stale() {
    let mut facts = p0_facts();
    facts.base_changed = BaseChange::Unknown;
    facts.reviews = vec![review(1, "alice", Approved, HEAD_SHA, AFTER)];
    facts.comments = vec![comment(2, "bob", "/hotfix approve", AFTER)];
    let out = p0(&facts);
    assert_eq!(out.result.status, RuleStatus::Fail, "{out:?}");
    assert_eq!(
        out.notes,
        [
            "@alice's review is stale — approve again: could not confirm it came after the latest change of the base branch (now `main`)",
            "@bob's /hotfix approve is stale — approve again: could not confirm it came after the latest change of the base branch (now `main`)",
        ]
    );
    // A review without a time against a known change: unknown too.
    let mut facts = retargeted_at(RETARGET);
    let mut undated = review(1, "alice", Approved, HEAD_SHA, AFTER);
    undated.submitted_at = None;
    facts.reviews = vec![undated];
    let out = p0(&facts);
    assert!(out.report.approvals.is_empty(), "{out:?}");
    assert!(
        out.notes[0]
            .contains("could not confirm it came after the latest change of the base branch"),
        "{:?}",
        out.notes
    );
}

/// `dismiss_stale: false` keeps approvals across pushes; as GitHub's
/// setting of that name, it keeps them across a base change too.
#[test]
fn without_dismiss_stale_a_base_change_dismisses_nothing() {
    let mut policy = p0_policy();
    policy.approvals.dismiss_stale = false;
    let mut facts = retargeted_at(RETARGET);
    facts.reviews = vec![review(1, "alice", Approved, HEAD_SHA, BEFORE)];
    facts.comments = vec![comment(2, "bob", "/hotfix approve", BEFORE)];
    let out = check(&policy, severity_named(&policy, "P0"), &facts);
    assert_eq!(out.result.status, RuleStatus::Pass, "{out:?}");
}

#[test]
fn the_latest_base_change_is_the_newest_listed_and_unknown_when_cut_or_undated() {
    let (a, b) = (ts(BEFORE), ts(AFTER));
    assert_eq!(BaseChange::latest(&[], false), BaseChange::Never);
    assert_eq!(
        BaseChange::latest(&[Some(b), Some(a)], false),
        BaseChange::At { at: b }
    );
    assert_eq!(BaseChange::latest(&[], true), BaseChange::Unknown);
    assert_eq!(BaseChange::latest(&[Some(a)], true), BaseChange::Unknown);
    assert_eq!(
        BaseChange::latest(&[Some(a), None], false),
        BaseChange::Unknown
    );
}
