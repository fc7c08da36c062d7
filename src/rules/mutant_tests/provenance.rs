//! When the severity's clock starts: a writer's first application, even when
//! someone without write access re-applied the label since.

use crate::rules::provenance::clock_start;
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
