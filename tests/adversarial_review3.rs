//! Third adversarial review of issue 9 (fail closed), against the cut
//! events list (`rules::designation::unseen_removals`), the sweep's close
//! check and the follow-up. Each test plays what only a pull request's
//! author (write access to their own fork, none on the base repository) or
//! a user with triage access can do, through signed deliveries to the real
//! router and the real client talking to the fake GitHub, and asserts the
//! SAFE outcome. A passing test is an attack that failed; a test marked
//! `#[ignore = "finding: …"]` is an attack that worked.

use crate::common;

use chrono::Duration;
use common::attacks::{label_delivery_slow, text_concluded, text_of};
use common::fake_github::PullSeed;
use common::harness::{HEAD_SHA, Harness, POLICY, REPO};

// ---- Designation applied AND removed past a cut events list ----------------

/// A pull request on a `fix/…` branch (a hotfix by its labels only). Before
/// any writer designates it, a triage user floods its issue events (adding
/// and removing a label they may apply, 10,001 times: both the timeline
/// and `GET /issues/{n}/events` stop at the page cap). A writer then
/// applies `hotfix` and `P0` (the check fails, the deadline is watched);
/// the triage user removes both. Neither the writer's application nor the
/// triage user's removal is listed, so `unseen_removals` (which needs a
/// listed application) adds nothing. The check must not turn `neutral`
/// (a passing required check) and the deadline must stay watched.
#[tokio::test]
async fn a_designation_applied_and_removed_past_a_cut_events_list_still_holds() {
    let (conclusion, text, watched) =
        designated_then_removed_after_flood(10_001, Flood::TriageLabels).await;
    assert_eq!(conclusion.as_deref(), Some("failure"), "{text}");
    assert_eq!(watched, 1, "{text}");
}

/// The control: with a few events the triage user's removal is held,
/// naming them, so the cut alone makes the difference above.
#[tokio::test]
async fn without_the_flood_a_removal_after_a_late_designation_is_held() {
    let (conclusion, text, watched) =
        designated_then_removed_after_flood(10, Flood::TriageLabels).await;
    assert_eq!(conclusion.as_deref(), Some("failure"), "{text}");
    assert!(
        text.contains("`hotfix` removed by @trina, who lacks write access"),
        "{text}"
    );
    assert_eq!(watched, 1, "{text}");
}

/// Who fills the issue events list before the designation, and how.
#[derive(Clone, Copy)]
enum Flood {
    /// The triage user adds and removes a label they may apply.
    TriageLabels,
    /// The author renames their own pull request (each rename is a
    /// `renamed` issue event; no access to the base repository needed).
    AuthorRenames,
}

async fn designated_then_removed_after_flood(
    flood: usize,
    how: Flood,
) -> (Option<String>, String, u64) {
    let h = Harness::start().await;
    let pull = PullSeed {
        head_ref: "fix/login-loop".into(),
        labels: Vec::new(),
        ..h.p0()
    };
    h.seed(POLICY, &pull);
    h.gh.set_permission(REPO, "trina", "triage");
    h.clock.set(pull.created_at);
    h.pull_request("opened", pull.number).await;
    let t0 = pull.created_at;
    for n in 0..flood {
        match how {
            Flood::TriageLabels => {
                h.gh.add_label_event(
                    REPO,
                    pull.number,
                    "needs-triage",
                    "trina",
                    n % 2 == 0,
                    t0 + Duration::minutes(1),
                );
            }
            Flood::AuthorRenames => {
                h.gh.add_state_event(
                    REPO,
                    pull.number,
                    "renamed",
                    &pull.author,
                    t0 + Duration::minutes(1),
                );
            }
        }
    }
    // The writer designates it.
    h.gh.set_labels(REPO, pull.number, &["hotfix", "P0"]);
    for label in ["hotfix", "P0"] {
        h.gh.add_label_event(
            REPO,
            pull.number,
            label,
            "dana",
            true,
            t0 + Duration::minutes(5),
        );
    }
    h.clock.set(t0 + Duration::minutes(6));
    label_delivery_slow(&h, pull.number, "labeled", "P0").await;
    let designated = text_of(&h.check(HEAD_SHA));
    assert_eq!(
        h.check(HEAD_SHA).conclusion.as_deref(),
        Some("failure"),
        "designated by a writer: {designated}"
    );
    // The triage user takes it out of the procedure.
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
    label_delivery_slow(&h, pull.number, "unlabeled", "P0").await;
    let run = h.check(HEAD_SHA);
    (
        run.conclusion.clone(),
        text_of(&run),
        h.app.engine.watched().await,
    )
}

/// The same removal, but the events list was filled by the author alone
/// (10,001 renames of their own pull request's title, which GitHub lists
/// as `renamed` issue events) before a writer designated it: the author
/// needs no access at all to hide the later designation and its removal
/// by a triage user past the cut.
#[tokio::test]
async fn an_authors_renames_before_designation_do_not_hide_a_triage_users_removal() {
    let (conclusion, text, watched) =
        designated_then_removed_after_flood(10_001, Flood::AuthorRenames).await;
    assert_eq!(conclusion.as_deref(), Some("failure"), "{text}");
    assert_eq!(watched, 1, "{text}");
}

// ---- A severity lowered past a cut events list -----------------------------

/// The harness's P0 (`hotfix` and `P0` applied by dana, a writer, both
/// listed). The author then renames their pull request 10,001 times (the
/// events list stops at the cap), and a triage user applies `P2` and
/// removes `P0`, past the cut. The removal is unseen, so `P0` must still
/// apply: the escalation is posted at P0's two-hour deadline, not P2's.
#[tokio::test]
async fn a_severity_lowered_past_a_cut_events_list_keeps_the_p0_deadline() {
    let h = Harness::start().await;
    let pull = h.p0();
    h.seed(POLICY, &pull);
    h.label_events_by(&pull, "dana");
    h.gh.set_permission(REPO, "trina", "triage");
    h.clock.set(pull.created_at);
    h.pull_request("opened", pull.number).await;
    assert_eq!(h.app.engine.watched().await, 1);
    let t0 = pull.created_at;
    for _ in 0..10_001 {
        h.gh.add_state_event(
            REPO,
            pull.number,
            "renamed",
            &pull.author,
            t0 + Duration::minutes(1),
        );
    }
    h.gh.set_labels(REPO, pull.number, &["hotfix", "P2"]);
    h.gh.add_label_event(
        REPO,
        pull.number,
        "P2",
        "trina",
        true,
        t0 + Duration::minutes(5),
    );
    h.gh.add_label_event(
        REPO,
        pull.number,
        "P0",
        "trina",
        false,
        t0 + Duration::minutes(5),
    );
    h.clock.set(t0 + Duration::minutes(6));
    label_delivery_slow(&h, pull.number, "unlabeled", "P0").await;
    let text = text_concluded(&h, HEAD_SHA, "failure");
    assert_eq!(h.app.engine.watched().await, 1, "{text}");
    h.clock.set(t0 + Duration::minutes(125));
    assert_eq!(h.app.engine.sweep().await, 1, "P0's deadline: {text}");
}

// ---- A severity applied past a cut events list ------------------------------

/// The author renames their pull request 10,001 times before any writer
/// designates it; a writer then applies `hotfix` and `P0`, past the cut
/// (who applied them, and when, is not listed). The P0 must still be
/// watched and escalated once two hours have passed since it was applied.
#[tokio::test]
async fn a_severity_applied_past_a_cut_events_list_is_still_escalated() {
    let h = Harness::start().await;
    let pull = PullSeed {
        labels: Vec::new(),
        ..h.p0()
    };
    h.seed(POLICY, &pull);
    h.clock.set(pull.created_at);
    h.pull_request("opened", pull.number).await;
    let t0 = pull.created_at;
    for _ in 0..10_001 {
        h.gh.add_state_event(
            REPO,
            pull.number,
            "renamed",
            &pull.author,
            t0 + Duration::minutes(1),
        );
    }
    h.gh.set_labels(REPO, pull.number, &["hotfix", "P0"]);
    for label in ["hotfix", "P0"] {
        h.gh.add_label_event(
            REPO,
            pull.number,
            label,
            "dana",
            true,
            t0 + Duration::minutes(5),
        );
    }
    h.clock.set(t0 + Duration::minutes(6));
    label_delivery_slow(&h, pull.number, "labeled", "P0").await;
    let text = text_concluded(&h, HEAD_SHA, "failure");
    assert_eq!(h.app.engine.watched().await, 1, "{text}");
    h.clock.set(t0 + Duration::minutes(5 + 125));
    assert_eq!(h.app.engine.sweep().await, 1, "P0's deadline: {text}");
}
