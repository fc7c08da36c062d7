//! When the severity's clock starts: a writer's first application, even when
//! someone without write access re-applied the label since.

use crate::rules::facts::ReviewState::Approved;
use crate::rules::provenance::{clock_start, severity_drops};
use crate::rules::testutil::*;

#[test]
fn the_clock_starts_at_the_first_application_by_a_writer() {
    let policy = p0_policy();
    let p0 = severity_named(&policy, "P0");
    let mut facts = p0_facts();
    // alice (admin) applied P0 at 13:02; bob removed it, mallory (triage)
    // re-applied it, alice applied it again later.
    facts.label_events.extend([
        label_event("P0", false, "bob", "2026-11-26T13:05:00Z"),
        label_event("P0", true, "mallory", "2026-11-26T13:06:00Z"),
        label_event("P0", true, "alice", "2026-11-26T13:30:00Z"),
    ]);
    assert_eq!(clock_start(p0, &facts), Some(ts("2026-11-26T13:02:00Z")));

    // Only a non-writer ever applied it: no clock.
    facts.label_events = vec![label_event("P0", true, "mallory", "2026-11-26T13:06:00Z")];
    assert_eq!(clock_start(p0, &facts), None);
}

/// P0 dropped to P2 by bob at 14:00.
fn dropped_at_two() -> crate::rules::facts::PullRequestFacts {
    let mut facts = p0_facts();
    facts.labels = vec![label("hotfix"), label("P2")];
    facts.label_events.extend([
        label_event("P0", false, "bob", "2026-11-26T14:00:00Z"),
        label_event("P2", true, "bob", "2026-11-26T14:00:00Z"),
    ]);
    facts
}

const DROP: &str = "2026-11-26T14:00:00Z";

#[test]
fn only_approvals_strictly_before_the_drop_make_a_note() {
    let policy = p0_policy();
    let p2 = severity_named(&policy, "P2");
    let mut facts = dropped_at_two();

    // A review in the same second as the drop is not known to precede it.
    facts.reviews = vec![review(1, "alice", Approved, HEAD_SHA, DROP)];
    assert!(severity_drops(&policy, p2, &facts).is_empty());
    facts.reviews = vec![review(
        1,
        "alice",
        Approved,
        HEAD_SHA,
        "2026-11-26T13:59:59Z",
    )];
    assert_eq!(severity_drops(&policy, p2, &facts).len(), 1);

    // The same for an approval command.
    facts.reviews.clear();
    facts.comments = vec![comment(2, "alice", "/hotfix approve", DROP)];
    assert!(severity_drops(&policy, p2, &facts).is_empty());
    facts.comments = vec![comment(
        2,
        "alice",
        "/hotfix approve",
        "2026-11-26T13:59:59Z",
    )];
    assert_eq!(severity_drops(&policy, p2, &facts).len(), 1);
}

#[test]
fn a_comment_counts_before_the_drop_only_when_it_is_the_command() {
    let policy = p0_policy();
    let p2 = severity_named(&policy, "P2");
    let mut facts = dropped_at_two();
    // Any other comment before the drop is no approval...
    facts.comments = vec![comment(2, "alice", "looks good", "2026-11-26T13:30:00Z")];
    assert!(severity_drops(&policy, p2, &facts).is_empty());
    // ...and the command after the drop approved nothing under P0.
    facts.comments = vec![comment(
        2,
        "alice",
        "/hotfix approve",
        "2026-11-26T14:30:00Z",
    )];
    assert!(severity_drops(&policy, p2, &facts).is_empty());
}
