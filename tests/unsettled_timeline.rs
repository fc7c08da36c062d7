//! A timeline kept changing while it is read (issue 9, defence in depth for
//! review 15's F2/F3): the pull request's author deletes one of their own
//! early comments (page 1) after every timeline page the app asks for, so
//! every read of the timeline sees a removal before the end of what it
//! read, and `Core::pages_up_to_cap` gives up after three tries ("the list
//! changed while it was read"). The gather then reads the timeline like a
//! cut one: label events from `GET /issues/{n}/events`, reviews from
//! `GET /pulls/{n}/reviews`, no approval by comment counted, and the report
//! says why. So the designation (and the deadline watch), the verdict and a
//! merged hotfix's post-merge steps all proceed.
//!
//! Each test runs through signed deliveries to the real router, the real
//! client talking HTTP to the fake GitHub; each churned case has its
//! control without the churn.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::Duration;
use common::attacks::{escalations, p0, p0_with, text_of};
use common::fake_github::PullSeed;
use common::harness::{HEAD_SHA, Harness, REPO};

/// The report's note (`report::unsettled_timeline_note`).
const UNSETTLED: &str = "The timeline kept changing while it was read; approvals by comment could not be counted — approve by review.";

const MERGE_SHA: &str = "u9u9u9u9u9u9u9u9u9u9u9u9u9u9u9u9u9u9u9u9";

/// What the author does to the padded timeline after every timeline GET
/// the app sends.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Churn {
    None,
    /// Deletes their oldest remaining padding comment (on page 1).
    Removals,
}

/// The author pads `pull`'s timeline with 150 comments a minute after the
/// opening (two pages, and still two after every deletion an evaluation's
/// five attempts could cause). Answers their ids, oldest first.
fn pad_timeline(h: &Harness, pull: &PullSeed) -> Vec<u64> {
    (0..150)
        .map(|n| {
            h.gh.add_comment_at(
                REPO,
                pull.number,
                &pull.author,
                &format!("note {n}"),
                pull.created_at + Duration::minutes(1),
            )
        })
        .collect()
}

/// Runs `step` while the author does `churn` after every timeline GET the
/// app sends (each answered 40 ms late, so the deletion lands between two
/// page reads); answers how many comments were deleted.
async fn while_the_author_deletes(
    h: &Harness,
    pull: &PullSeed,
    padding: &[u64],
    churn: Churn,
    step: impl std::future::Future<Output = ()>,
) -> usize {
    let timeline = format!("/issues/{}/timeline", pull.number);
    h.gh.delay_next(
        "GET",
        &timeline,
        std::time::Duration::from_millis(40),
        10_000,
    );
    let stop = Arc::new(AtomicBool::new(churn == Churn::None));
    let churner = async {
        let mut seen = h.gh.count("GET", &timeline);
        let mut turns = 0;
        while !stop.load(Ordering::SeqCst) {
            let now = h.gh.count("GET", &timeline);
            if now > seen {
                seen = now;
                assert!(h.gh.delete_comment_as_author(REPO, padding[turns]));
                turns += 1;
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        turns
    };
    let lead = async {
        step.await;
        stop.store(true, Ordering::SeqCst);
    };
    let ((), turns) = tokio::join!(lead, churner);
    assert_eq!(
        turns > 0,
        churn != Churn::None,
        "the author deleted comments"
    );
    turns
}

/// The hotfix as P2 (labels by dana), opened, its timeline padded; dana
/// raises it to P0 20 minutes after the opening while the author does
/// `churn`. Asserts the P0 is watched and its escalation posted by the
/// sweep past the deadline; answers the check run's conclusion and text.
async fn raised_to_p0_while(churn: Churn) -> (Option<String>, String) {
    let (h, pull) = p0_with(|pull| PullSeed {
        labels: vec!["hotfix".into(), "P2".into()],
        ..pull
    })
    .await;
    h.pull_request("opened", pull.number).await;
    assert_eq!(h.app.engine.watched().await, 0, "P2 has no deadline");
    let t0 = pull.created_at;
    let padding = pad_timeline(&h, &pull);
    while_the_author_deletes(&h, &pull, &padding, churn, async {
        h.clock.set(t0 + Duration::minutes(20));
        common::attacks::raise_to_p0(&h, &pull).await;
    })
    .await;
    let run = h.check(HEAD_SHA);
    let text = text_of(&run);
    assert_eq!(
        h.app.engine.watched().await,
        1,
        "the P0 a writer applied is watched: {text}"
    );
    // dana's P0 at t0+20m: due at t0+2h20m.
    h.clock.set(t0 + Duration::minutes(145));
    assert_eq!(h.app.engine.sweep().await, 1, "{text}");
    assert_eq!(escalations(&h, pull.number), 1, "{text}");
    (run.conclusion, text)
}

/// The P0 a writer applies while the author keeps deleting comments is
/// watched, the sweep posts its escalation, and the check fails (no
/// approvals) naming the timeline that kept changing.
///
/// Checked that the test can fail: with `gather::first_reads` passing the
/// kept-changing error on (as before), every attempt fails, nothing is
/// watched (`watched()` 0) and the run says "could not evaluate".
#[tokio::test]
async fn a_p0_applied_while_the_author_deletes_comments_is_watched_and_escalated() {
    let (conclusion, text) = raised_to_p0_while(Churn::Removals).await;
    assert_eq!(conclusion.as_deref(), Some("failure"), "{text}");
    assert!(text.contains(UNSETTLED), "{text}");
    assert!(!text.contains("could not evaluate"), "{text}");
    // The verdict's own reason stands beside the note.
    assert!(text.contains("engineering-lead: missing"), "{text}");
}

/// The control: without the deletions the same P0 is watched and escalated
/// and the report says nothing of a changing timeline.
#[tokio::test]
async fn without_deletions_the_raised_p0_is_read_from_its_timeline() {
    let (conclusion, text) = raised_to_p0_while(Churn::None).await;
    assert_eq!(conclusion.as_deref(), Some("failure"), "{text}");
    assert!(!text.contains(UNSETTLED), "{text}");
}

/// The P0 approved by both roles by review, merged by alice; its timeline
/// padded, the `closed` delivery evaluated while the author does `churn`.
/// Asserts the follow-up issue and the merge-back are opened; answers the
/// check run's text.
async fn merged_while(churn: Churn) -> String {
    let (h, pull) = common::attacks::merged_approved_p0(common::harness::POLICY, MERGE_SHA).await;
    let padding = pad_timeline(&h, &pull);
    while_the_author_deletes(&h, &pull, &padding, churn, async {
        h.pull_request("closed", pull.number).await;
    })
    .await;
    let text = text_of(&h.check(HEAD_SHA));
    let merge_backs =
        h.gh.pulls(REPO)
            .into_iter()
            .filter(|p| p.head_ref.starts_with("hotfix-guard/merge-back-"))
            .count();
    let follow_ups =
        h.gh.issues(REPO)
            .into_iter()
            .filter(|i| i.user == common::fake_github::BOT_LOGIN)
            .count();
    assert_eq!(
        (follow_ups, merge_backs),
        (1, 1),
        "the follow-up issue and the merge-back are opened: {text}"
    );
    common::attacks::assert_the_follow_up_is_opened_and_named(&h, pull.number);
    assert!(!text.contains("could not evaluate"), "{text}");
    text
}

/// A merged P0 approved by review whose author keeps deleting comments
/// while the merge is evaluated still gets its follow-up issue and its
/// merge-back, and the approvals by review still count.
///
/// Checked that the test can fail: with `gather::first_reads` passing the
/// kept-changing error on, no follow-up issue and no merge-back are
/// opened.
#[tokio::test]
async fn a_merged_p0_whose_author_deletes_comments_gets_its_follow_up_and_merge_back() {
    let text = merged_while(Churn::Removals).await;
    assert!(text.contains(UNSETTLED), "{text}");
    assert!(!text.contains("engineering-lead: missing"), "{text}");
}

#[tokio::test]
async fn without_deletions_the_merged_p0_gets_its_follow_up_and_merge_back() {
    let text = merged_while(Churn::None).await;
    assert!(!text.contains(UNSETTLED), "{text}");
}

/// The P0, its head pushed at the opening (repository activity), its
/// timeline padded; alice and oncall-olga approve by comment two minutes
/// after the opening, the second approval's delivery evaluated while the
/// author does `churn`. Answers the run's conclusion and text.
async fn approved_by_comment_while(churn: Churn) -> (Option<String>, String) {
    let (h, pull) = p0().await;
    let t0 = pull.created_at;
    h.gh.add_push_activity(REPO, &pull.head_ref, HEAD_SHA, "push", &pull.author, t0);
    h.pull_request("opened", pull.number).await;
    let padding = pad_timeline(&h, &pull);
    h.gh.add_comment_at(
        REPO,
        pull.number,
        "alice",
        "/hotfix approve",
        t0 + Duration::minutes(2),
    );
    while_the_author_deletes(&h, &pull, &padding, churn, async {
        h.clock.set(t0 + Duration::minutes(3));
        common::attacks::comment(
            &h,
            pull.number,
            "oncall-olga",
            "/hotfix approve",
            t0 + Duration::minutes(3),
        )
        .await;
    })
    .await;
    let run = h.check(HEAD_SHA);
    let text = text_of(&run);
    (run.conclusion, text)
}

/// Approvals by comment are not counted from a timeline that kept
/// changing: the P0 they alone approve is not `success`, and the report
/// says to approve by review.
///
/// Checked that the test can fail: with `gather::facts` counting the
/// comments read from the comments list as approvals when the timeline
/// was unsettled, the run is `success`.
#[tokio::test]
async fn approvals_by_comment_do_not_count_from_a_timeline_that_kept_changing() {
    let (conclusion, text) = approved_by_comment_while(Churn::Removals).await;
    assert_eq!(conclusion.as_deref(), Some("failure"), "{text}");
    assert!(text.contains(UNSETTLED), "{text}");
    assert!(!text.contains("could not evaluate"), "{text}");
}

/// The control: the same two comment approvals on a timeline left alone
/// make the P0 `success`.
#[tokio::test]
async fn without_deletions_approvals_by_comment_count() {
    let (conclusion, text) = approved_by_comment_while(Churn::None).await;
    assert_eq!(conclusion.as_deref(), Some("success"), "{text}");
}
