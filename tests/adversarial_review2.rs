//! Second adversarial review of issue 9 (fail closed), against the
//! designation, closer, per-pull-request head receipts and cut-list code.
//! Each test plays what only a pull request's author (write access to
//! their own fork, none on the base repository) or a user with triage
//! access can do, through signed deliveries to the real router and the
//! real client talking to the fake GitHub, and asserts the SAFE outcome.
//! A passing test is an attack that failed; a test marked
//! `#[ignore = "finding: …"]` is an attack that worked.

use crate::common;

use axum::http::StatusCode;
use chrono::Duration;
use common::attacks::{
    approve_by_comment, escalations, fork_delivery, label_delivery, label_delivery_slow, p0,
    p0_changed, text_concluded, text_of,
};
use common::fake_github::PullSeed;
use common::harness::{HEAD_SHA, POLICY, REPO};
use common::webhook::PrSpec;

// ---- The deadline sweep on a cut timeline ---------------------------------

/// A writer (bob) closed the P0 early on (by mistake, or to retarget it);
/// a triage user reopened it, as triage access allows. Later the attacker
/// buries the timeline under more than 10,000 comments (anyone who can
/// comment can) and the triage user closes it again. The evaluation reads
/// the close from the issue events list when the timeline is cut, but the
/// deadline sweep judges the close from the timeline alone: the latest
/// `closed` it can read is the writer's old one, past which the triage
/// user's close lies unread. The escalation must still be posted.
#[tokio::test]
async fn a_flooded_timeline_does_not_let_an_old_writers_close_stop_the_sweep() {
    reopened_and_closed_by_triage_then_swept(10_001).await;
}

/// The control: the same story on a timeline that fits is judged right
/// (the latest close is the triage user's; the escalation is posted), so
/// the cut alone makes the difference above.
#[tokio::test]
async fn without_the_flood_the_triage_users_later_close_keeps_escalating() {
    reopened_and_closed_by_triage_then_swept(10).await;
}

async fn reopened_and_closed_by_triage_then_swept(flood: usize) {
    let (h, pull) = p0().await;
    h.pull_request("opened", pull.number).await;
    assert_eq!(
        h.app.engine.watched().await,
        1,
        "the P0's deadline is watched"
    );
    let t0 = pull.created_at;
    h.gh.add_state_event(
        REPO,
        pull.number,
        "closed",
        "bob",
        t0 + Duration::minutes(1),
    );
    h.gh.add_state_event(
        REPO,
        pull.number,
        "reopened",
        "trina",
        t0 + Duration::minutes(2),
    );
    for n in 0..flood {
        h.gh.add_comment_at(
            REPO,
            pull.number,
            "mallory",
            &format!("bump ({n})"),
            t0 + Duration::minutes(3),
        );
    }
    h.gh.add_state_event(
        REPO,
        pull.number,
        "closed",
        "trina",
        t0 + Duration::minutes(10),
    );
    h.gh.update_pull(REPO, pull.number, |p| p.state = "closed".into());
    // No `closed` delivery needed: the sweep judges the close itself.
    h.clock.advance(Duration::minutes(130));
    let posted = h.app.engine.sweep().await;
    assert_eq!(
        (posted, escalations(&h, pull.number)),
        (1, 1),
        "a triage user's close must not stop the escalation"
    );
}

// ---- Per-pull-request head receipts, by the author -------------------------

/// The hotfix (head A, in the author's fork) gets a reviewed commit B
/// pushed; role members approve B by comment. The author force-pushes the
/// earlier head A back (A was received before the approvals were
/// written): the approvals were about B, and A's old receipt must not make
/// them fresh for A.
#[tokio::test]
async fn pushing_back_an_earlier_head_after_comment_approvals_leaves_them_stale() {
    const B: &str = "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2";
    let (h, pull) = p0().await;
    h.gh.add_repo("mallory/app");
    h.gh.update_pull(REPO, pull.number, |p| {
        p.created_at = chrono::Utc::now() - Duration::minutes(30);
        p.head_repo = Some("mallory/app".into());
    });
    h.gh.set_file(REPO, B, "VERSION", "1.2.4\n");
    h.clock.set(chrono::Utc::now() - Duration::minutes(5));
    fork_delivery(&h, "opened", pull.number).await;
    h.gh.update_pull(REPO, pull.number, |p| p.head_sha = B.into());
    fork_delivery(&h, "synchronize", pull.number).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let now = chrono::Utc::now();
    approve_by_comment(&h, pull.number, "alice", now).await;
    approve_by_comment(&h, pull.number, "oncall-olga", now).await;
    assert_eq!(
        h.check(B).conclusion.as_deref(),
        Some("success"),
        "{}",
        text_of(&h.check(B))
    );

    // A is pushed back; its `synchronize` arrives after the approvals.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    h.clock.set(chrono::Utc::now() + Duration::minutes(1));
    h.gh.update_pull(REPO, pull.number, |p| p.head_sha = HEAD_SHA.into());
    fork_delivery(&h, "synchronize", pull.number).await;
    let text = text_concluded(&h, HEAD_SHA, "failure");
    assert!(text.contains("approve again"), "{text}");
}

// ---- Designation and the severity's clock, by a triage user ----------------

/// A triage user takes both designation labels off the writer's P0 and
/// closes it. The check keeps failing, naming who removed which label, and
/// the escalation is still posted when the deadline passes.
#[tokio::test]
async fn a_triage_user_removing_both_labels_and_closing_does_not_silence_the_escalation() {
    let (h, pull) = p0().await;
    h.pull_request("opened", pull.number).await;
    let t0 = pull.created_at;
    h.gh.set_labels(REPO, pull.number, &[]);
    for label in ["hotfix", "P0"] {
        h.gh.add_label_event(
            REPO,
            pull.number,
            label,
            "trina",
            false,
            t0 + Duration::minutes(5),
        );
        label_delivery(&h, pull.number, "unlabeled", label).await;
    }
    h.gh.update_pull(REPO, pull.number, |p| p.state = "closed".into());
    h.gh.add_state_event(
        REPO,
        pull.number,
        "closed",
        "trina",
        t0 + Duration::minutes(6),
    );
    h.pull_request("closed", pull.number).await;
    let text = text_concluded(&h, HEAD_SHA, "failure");
    assert!(
        text.contains("`hotfix` removed by @trina, who lacks write access"),
        "{text}"
    );
    assert_eq!(h.app.engine.watched().await, 1, "{text}");
    h.clock.advance(Duration::minutes(130));
    assert_eq!(h.app.engine.sweep().await, 1);
    assert_eq!(escalations(&h, pull.number), 1);
}

/// A triage user removes the writer's `P0` and applies it again
/// themselves, an hour and a half later: the severity's clock must not
/// restart from their application (nor stop), so the escalation is posted
/// at the writer's deadline.
#[tokio::test]
async fn a_triage_user_re_applying_the_severity_does_not_restart_its_clock() {
    let (h, pull) = p0().await;
    h.pull_request("opened", pull.number).await;
    let t0 = pull.created_at;
    h.gh.add_label_event(
        REPO,
        pull.number,
        "P0",
        "trina",
        false,
        t0 + Duration::minutes(90),
    );
    h.gh.add_label_event(
        REPO,
        pull.number,
        "P0",
        "trina",
        true,
        t0 + Duration::minutes(91),
    );
    h.clock.set(t0 + Duration::minutes(92));
    label_delivery(&h, pull.number, "labeled", "P0").await;
    let text = text_of(&h.check(HEAD_SHA));
    assert_eq!(h.app.engine.watched().await, 1, "{text}");
    // The writer's P0 was applied at t0: its 2h deadline passes at 2h.
    h.clock.set(t0 + Duration::minutes(125));
    assert_eq!(h.app.engine.sweep().await, 1, "{text}");
    assert_eq!(escalations(&h, pull.number), 1);
}

// ---- Who closed, read from a cut events list, by a triage user -------------

/// Like the sweep finding above, but the triage user floods the issue
/// events list itself (adding and removing a label they may apply, 10,001
/// times: both the timeline and `GET /issues/{n}/events` stop at the page
/// cap) before closing the P0 a writer once closed and they reopened. The
/// evaluation of the `closed` delivery must keep the deadline watched,
/// and the sweep must post the escalation.
#[tokio::test]
async fn a_flooded_events_list_does_not_let_an_old_writers_close_stop_the_escalation() {
    let (h, pull) = p0().await;
    h.pull_request("opened", pull.number).await;
    let t0 = pull.created_at;
    h.gh.add_state_event(
        REPO,
        pull.number,
        "closed",
        "bob",
        t0 + Duration::minutes(1),
    );
    h.gh.add_state_event(
        REPO,
        pull.number,
        "reopened",
        "trina",
        t0 + Duration::minutes(2),
    );
    for n in 0..10_001 {
        h.gh.add_label_event(
            REPO,
            pull.number,
            "needs-triage",
            "trina",
            n % 2 == 0,
            t0 + Duration::minutes(3),
        );
    }
    h.gh.add_state_event(
        REPO,
        pull.number,
        "closed",
        "trina",
        t0 + Duration::minutes(10),
    );
    h.gh.update_pull(REPO, pull.number, |p| p.state = "closed".into());
    h.clock.set(t0 + Duration::minutes(11));
    let payload = common::webhook::pull_request_event(
        "closed",
        &PrSpec::from_seed(REPO, &h.gh.pull(REPO, pull.number).expect("pull"), 1),
    );
    assert_eq!(
        h.deliver("pull_request", &payload).await,
        StatusCode::ACCEPTED
    );
    // 200 pages in debug may take longer than `settle` waits.
    let started = std::time::Instant::now();
    while started.elapsed() < std::time::Duration::from_secs(300)
        && !text_of(&h.check(HEAD_SHA)).contains("issue events")
    {
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    }
    tokio::time::timeout(std::time::Duration::from_secs(300), h.app.idle())
        .await
        .expect("evaluations finish");
    let text = text_of(&h.check(HEAD_SHA));
    assert!(text.contains("more than 10,000 issue events"), "{text}");
    assert!(
        !text.contains("escalation stopped"),
        "the close that counts is the triage user's: {text}"
    );
    assert_eq!(h.app.engine.watched().await, 1, "{text}");
    h.clock.advance(Duration::minutes(130));
    assert_eq!(h.app.engine.sweep().await, 1);
    assert_eq!(escalations(&h, pull.number), 1);
}

// ---- Designation read from a cut events list, by a triage user -------------

/// A hotfix by its labels only (branch `fix/…`), `hotfix` and `P0` applied
/// by a writer. A triage user floods the issue events (adding and removing
/// a label they may apply, 10,001 times, so both the timeline and
/// `GET /issues/{n}/events` stop at the page cap), then removes `hotfix`
/// and `P0`. Their removals lie past the cut: the check must not turn
/// `neutral` (a passing required check) nor stop watching the deadline.
#[tokio::test]
async fn a_flooded_events_list_does_not_hide_a_triage_users_label_removal() {
    let (conclusion, text, watched) = label_removal_after_a_label_flood(10_001).await;
    assert_eq!(conclusion.as_deref(), Some("failure"), "{text}");
    assert!(text.contains("more than 10,000 issue events"), "{text}");
    assert_eq!(watched, 1, "{text}");
}

/// The control: the same removal with a few label events is held (the
/// designation rule names the triage user), so the cut alone makes the
/// difference above.
#[tokio::test]
async fn without_the_flood_a_triage_users_label_removal_is_held() {
    let (conclusion, text, watched) = label_removal_after_a_label_flood(10).await;
    assert_eq!(conclusion.as_deref(), Some("failure"), "{text}");
    assert!(
        text.contains("`hotfix` removed by @trina, who lacks write access"),
        "{text}"
    );
    assert_eq!(watched, 1, "{text}");
}

/// Returns the check's conclusion and text and how many deadlines are
/// watched after the removal.
async fn label_removal_after_a_label_flood(flood: usize) -> (Option<String>, String, u64) {
    let (h, pull) = p0_changed(POLICY, |p0| PullSeed {
        head_ref: "fix/login-loop".into(),
        ..p0
    })
    .await;
    h.gh.set_permission(REPO, "trina", "triage");
    h.clock.set(pull.created_at);
    h.pull_request("opened", pull.number).await;
    assert_eq!(h.check(HEAD_SHA).conclusion.as_deref(), Some("failure"));
    assert_eq!(h.app.engine.watched().await, 1);
    let t0 = pull.created_at;
    for n in 0..flood {
        h.gh.add_label_event(
            REPO,
            pull.number,
            "needs-triage",
            "trina",
            n % 2 == 0,
            t0 + Duration::minutes(3),
        );
    }
    h.gh.set_labels(REPO, pull.number, &[]);
    for label in ["hotfix", "P0"] {
        h.gh.add_label_event(
            REPO,
            pull.number,
            label,
            "trina",
            false,
            t0 + Duration::minutes(10),
        );
    }
    h.clock.set(t0 + Duration::minutes(11));
    // 200 pages in debug may take longer than `settle` waits.
    label_delivery_slow(&h, pull.number, "unlabeled", "P0").await;
    let run = h.check(HEAD_SHA);
    (
        run.conclusion.clone(),
        text_of(&run),
        h.app.engine.watched().await,
    )
}
