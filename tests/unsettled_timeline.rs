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

use crate::common;

use chrono::Duration;
use common::attacks::{p0, text_of};
use common::churn::{on_timeline_reads, pad_timeline, timeline_answered_late};
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

/// Padding comments: two timeline pages, and still two after every
/// deletion an evaluation's five attempts could cause.
const PAD: usize = 150;

impl Churn {
    /// Whether the author changes the timeline at all.
    fn active(self) -> bool {
        self != Churn::None
    }

    /// Deletes the author's `turn`th padding comment (the oldest remaining,
    /// on page 1).
    fn make(self, h: &Harness, _: &PullSeed, padding: &[u64], turn: usize) {
        assert!(h.gh.delete_comment_as_author(REPO, padding[turn]));
    }

    /// Asserts the author deleted comments exactly when asked.
    fn assert_made(self, turns: usize) {
        assert_eq!(turns > 0, self.active(), "the author deleted comments");
    }
}

/// `churn::raised_to_p0_on_a_padded_timeline` with `PAD` padding comments
/// and the author's `churn` (which asserts the P0 is watched and its
/// escalation posted by the sweep past the deadline); answers the check
/// run's conclusion and text.
async fn raised_to_p0_while(churn: Churn) -> (Option<String>, String) {
    let (turns, conclusion, text) = common::churn::raised_to_p0_on_a_padded_timeline(
        PAD,
        churn.active(),
        |h, pull, padding, turn| churn.make(h, pull, padding, turn),
    )
    .await;
    churn.assert_made(turns);
    (conclusion, text)
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

/// `churn::merged_on_a_padded_timeline` with `PAD` padding comments and
/// the author's `churn` (which asserts the follow-up issue and the
/// merge-back are opened); answers the check run's text.
async fn merged_while(churn: Churn) -> String {
    let (turns, text) = common::churn::merged_on_a_padded_timeline(
        MERGE_SHA,
        PAD,
        churn.active(),
        |h, pull, padding, turn| churn.make(h, pull, padding, turn),
    )
    .await;
    churn.assert_made(turns);
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
    let padding = pad_timeline(&h, &pull, PAD);
    h.gh.add_comment_at(
        REPO,
        pull.number,
        "alice",
        "/hotfix approve",
        t0 + Duration::minutes(2),
    );
    timeline_answered_late(&h, pull.number, 40, 10_000);
    let approve = async {
        h.clock.set(t0 + Duration::minutes(3));
        common::attacks::comment(
            &h,
            pull.number,
            "oncall-olga",
            "/hotfix approve",
            t0 + Duration::minutes(3),
        )
        .await;
    };
    let turns = on_timeline_reads(&h, pull.number, churn.active(), approve, |turn, _| {
        churn.make(&h, &pull, &padding, turn)
    })
    .await;
    churn.assert_made(turns);
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
