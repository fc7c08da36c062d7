//! The report knows the time: the engine's injected clock, the deadline
//! sweep and the escalation it posts, through the real router and the
//! fake GitHub.

use crate::common;

use chrono::Duration;
use common::harness::{HEAD_SHA, Harness, POLICY};

fn sticky(h: &Harness) -> common::fake_github::CommentRec {
    h.bot_comments(7)
        .into_iter()
        .find(|c| c.body.starts_with("<!-- hotfix-guard -->"))
        .expect("the sticky comment")
}

#[tokio::test]
async fn past_the_deadline_the_comment_and_title_say_overdue_and_when_escalation_was_posted() {
    let h = Harness::start().await;
    let pull = h.p0();
    h.seed(POLICY, &pull);
    h.label_events_by(&pull, "dana");
    h.clock.set(pull.created_at + Duration::minutes(40));
    h.pull_request("opened", 7).await;

    // Before the deadline: the time left (the label was set 5 s after opening).
    let title = h.check(HEAD_SHA).title.unwrap_or_default();
    assert!(title.ends_with("— 1h 20m left to deploy"), "{title}");
    let before = sticky(&h);
    // The comment names the deadline without a countdown, so that it is
    // edited only when what it says changes.
    assert!(before.body.contains("(2h deadline)\n"), "{}", before.body);
    assert!(!before.body.contains(" left"), "{}", before.body);
    assert!(!before.body.contains("Escalation"), "{}", before.body);

    // The deadline passes; the sweep posts the escalation and the report
    // is rendered again at that moment.
    h.clock.advance(Duration::minutes(95));
    assert_eq!(h.app.engine.sweep().await, 1);
    h.settle().await;
    let after = sticky(&h);
    assert_eq!(after.id, before.id, "one sticky comment, edited");
    assert!(
        after.body.contains("⏰ **Overdue by 14m**"),
        "{}",
        after.body
    );
    assert!(
        after.body.contains("- **Escalation:** posted at ["),
        "{}",
        after.body
    );
    let title = h.check(HEAD_SHA).title.unwrap_or_default();
    assert!(title.starts_with("Overdue by 14m — "), "{title}");

    // Time passing alone re-renders nothing: a later sweep with nothing
    // due leaves the comment as it was.
    let edits = h.gh.comment_edits(after.id);
    h.clock.advance(Duration::minutes(30));
    assert_eq!(h.app.engine.sweep().await, 0);
    h.settle().await;
    assert_eq!(h.gh.comment_edits(after.id), edits);
    assert_eq!(sticky(&h).body, after.body);
}

#[tokio::test]
async fn a_pasted_escalation_marker_does_not_read_as_posted() {
    let h = Harness::start().await;
    let pull = h.p0();
    h.seed(POLICY, &pull);
    h.label_events_by(&pull, "dana");
    h.gh.add_comment(
        common::harness::REPO,
        7,
        "dana",
        "<!-- hotfix-guard:escalation level=1 -->\nall fine",
    );
    h.clock.set(pull.created_at + Duration::hours(3));
    h.pull_request("opened", 7).await;
    let body = sticky(&h).body;
    assert!(body.contains("Overdue by 59m"), "{body}");
    assert!(body.contains("- **Escalation:** not posted yet"), "{body}");
}

#[tokio::test]
async fn a_merged_p0_offers_the_resolution_notice_filled_in() {
    let (h, pull) =
        common::attacks::merged_approved_p0(POLICY, "m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3")
            .await;
    h.clock.set(pull.created_at + Duration::hours(1));
    h.pull_request("closed", 7).await;
    let body = sticky(&h).body;
    assert!(
        body.contains("send the **P0 resolution notice** below"),
        "{body}"
    );
    assert!(
        body.contains("<summary>P0 resolution notice, filled in"),
        "{body}"
    );
    assert!(
        body.contains("✅ RESOLVED (P0): production fix merged"),
        "{body}"
    );
    assert!(body.contains("Resolution time: "), "{body}");
    assert!(body.contains("severity P0 set by dana"), "{body}");
    assert!(body.contains("fix merged by alice"), "{body}");
    assert!(!body.contains("P0 initial alert"), "{body}");
    // Merged: no staging step left, and the deadline line says how it went.
    assert!(!body.contains("to **staging**"), "{body}");
    assert!(
        body.lines().any(|l| l.starts_with("- **Deploy by:**")
            && l.contains("— merged ")
            && (l.ends_with(" before it") || l.ends_with(" after it"))),
        "{body}"
    );
}
