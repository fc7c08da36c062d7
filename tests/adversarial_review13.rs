//! Thirteenth adversarial review of issue 9 (fail closed). As the other
//! review files: each test plays what only a pull request's author (write
//! access to their own fork, none on the base repository) or a user with
//! triage access can do, through signed deliveries to the real router and
//! the real client talking to the fake GitHub, and asserts the SAFE outcome
//! (conclusion and wording). A passing test is an attack that failed; a
//! test marked `#[ignore = "finding: …"]` is an attack that worked (see its
//! comment).
//!
//! This review starts from the newest fix: `Core::pages` /
//! `Core::pages_up_to_cap` / `pages_unchanged` (`src/github/http.rs`): once
//! a list of more than one page is read, every page but the last is asked
//! for again and compared with what was read; a changed page means reading
//! the list again (three tries), then the read fails (transport error) and
//! the evaluation is retried. Tried here: an item that vanishes between the
//! first two page reads and comes back before the verification read (the
//! comparison sees an identical page 1), and a list kept changing so that
//! no evaluation completes (what the check run shows meanwhile and after).

use crate::common;

use chrono::Duration;

use common::churn::{on_timeline_reads, timeline_answered_late};
use common::harness::REPO;
use common::pages::{
    PAGE, assert_blocked_by_alice, author_approves, head_run, padded_with_a_friend_and_approved,
    review,
};

// ---- 1. An item vanishes between page reads and comes back -------------

/// Alice's change request is item 101 (the first of page 2) and has been
/// evaluated (failure). The author posts `/hotfix approve`; in that
/// evaluation the friend's item on page 1 vanishes once page 1 is answered
/// (the change request moves onto page 1, already read, and page 2 starts
/// after it) and comes back once page 2 is answered, before page 1 is asked
/// for again: the verification read of page 1 is identical to the first.
/// The fake has no comment deletion or restoration; the friend's review
/// turning `PENDING` and back stands in for an item whose visibility its
/// owner can switch off and on. Candidate vectors on GitHub, not verified
/// against github.com in this review: a `cross-referenced` event from an
/// issue in the author's own repository (shown to the app only while that
/// repository is public), or `committed` items that a force-push of the
/// fork's branch removes and a second force-push back to the same head
/// restores. Returns conclusion and text.
async fn item_vanishes_and_returns_during_the_read() -> (Option<String>, String) {
    let (h, pull, friend) = padded_with_a_friend_and_approved(PAGE - 7).await;
    review(&h, &pull, "alice", "CHANGES_REQUESTED", 4).await;
    let (conclusion, text) = head_run(&h);
    assert_blocked_by_alice(conclusion, &text);

    timeline_answered_late(&h, pull.number, 300, 3);
    let mut step = 0;
    let approve = author_approves(&h, &pull, pull.created_at + Duration::minutes(5));
    on_timeline_reads(&h, pull.number, true, approve, |_, read| {
        if step == 0 && read >= 1 {
            h.gh.set_review_state(REPO, pull.number, friend, "PENDING");
            step = 1;
        }
        if step == 1 && read >= 2 {
            h.gh.set_review_state(REPO, pull.number, friend, "COMMENTED");
            step = 2;
        }
    })
    .await;
    assert_eq!(step, 2, "the timeline was not read twice");
    head_run(&h)
}

/// Was a finding (low: needs an item whose visibility the author can switch
/// off and back on within one evaluation's page reads): page 1's second
/// read matched its first while page 2 had been cut one item further on,
/// so alice's change request was read on neither page and the check turned
/// `success`. Fixed: `pages_unchanged` asks for every page again, the last
/// included, and page 2's second read (in the restored list) differs from
/// its first, so the list is read again.
///
/// Checked that the test can fail: with the last page left out of the
/// verification again, the run is `success` ("all requirements met").
#[tokio::test]
async fn an_item_vanishing_and_returning_between_page_reads_does_not_hide_a_change_request() {
    let (conclusion, text) = item_vanishes_and_returns_during_the_read().await;
    assert_blocked_by_alice(conclusion, &text);
}

// ---- 2. A list kept changing so that no evaluation completes -----------

/// What the check run on the head said while the evaluation of alice's
/// change request kept failing, and after it gave up.
struct Churned {
    /// The conclusion once the timeline had been read ten times (more than
    /// one attempt's three tries of three reads), when it was: since a
    /// timeline that kept changing is read like a cut one, the first
    /// attempt completes after nine.
    during: Option<(Option<String>, String)>,
    conclusion: Option<String>,
    text: String,
}

/// From `success`, alice requests changes; meanwhile the author keeps page
/// 1 of the timeline changing at every read (on GitHub: deleting one of
/// their own comments on page 1 at each read; an edit in place is no
/// longer a change, pages being compared by their items' identity and
/// order; here the friend's review cycles COMMENTED → DISMISSED → PENDING,
/// and a pending review is not listed, so every verification read of page
/// 1 lacks an item of the first read of that try).
async fn list_kept_changing() -> Churned {
    // One item more than in attack 1: the list is two pages in every state
    // of the friend's review (a one-page list is read whole at once).
    let (h, pull, friend) = padded_with_a_friend_and_approved(PAGE - 6).await;
    timeline_answered_late(&h, pull.number, 60, 10_000);
    let states = ["DISMISSED", "PENDING", "COMMENTED"];
    let mut during = None;
    let lead = review(&h, &pull, "alice", "CHANGES_REQUESTED", 4);
    on_timeline_reads(&h, pull.number, true, lead, |turn, read| {
        h.gh.set_review_state(REPO, pull.number, friend, states[turn % states.len()]);
        // One attempt is three tries of three reads each.
        if during.is_none() && read >= 10 {
            during = Some(head_run(&h));
        }
    })
    .await;
    let (conclusion, text) = head_run(&h);
    Churned {
        during,
        conclusion,
        text,
    }
}

/// Once the timeline's tries are used up it is read like a cut one (issue
/// 9's defence in depth: the label events and the reviews from their own
/// lists), so alice's change request still blocks the pull request and
/// the check run says why the timeline was not used, not a silent pass or
/// the older `success`. (Before, the evaluation failed: "could not
/// evaluate … the list changed while it was read".)
///
/// Attack failed. Checked that the test can fail: with `pages_unchanged`
/// returning `Ok(true)` unread (the verification removed) the evaluation
/// completes on a torn read without the note (and, before the fallback,
/// without alice's change request).
#[tokio::test]
async fn a_timeline_kept_changing_ends_in_a_failure_that_says_why() {
    let c = list_kept_changing().await;
    assert_blocked_by_alice(c.conclusion.clone(), &c.text);
    assert!(
        c.text
            .contains("The timeline kept changing while it was read"),
        "{}",
        c.text
    );
    assert!(!c.text.contains("could not evaluate"), "{}", c.text);
}

/// While the evaluation of alice's change request is being retried, the
/// head's run must not keep the older `success`.
///
/// Was a finding (medium): `finish_failed` (`src/app.rs`) wrote the check
/// run only when the tries were used up (`MAX_ATTEMPTS`, 5) or a rate limit
/// gave a wait, so for about 14 minutes of retries (default
/// `RETRY_BACKOFF`) the older `success` stood on the head while the author
/// kept an item on page 1 changing. Fixed: a failed try that will be
/// retried writes "could not evaluate this pull request yet" (`failure`) at
/// once unless the store records a failure already
/// (`Engine::report_retrying`).
///
/// Checked that the test can fail: with the fix reverted it shows
/// `success` after the first failed attempt.
#[tokio::test]
async fn a_timeline_kept_changing_does_not_leave_the_older_success_standing() {
    let c = list_kept_changing().await;
    if let Some((during, text)) = &c.during {
        assert_ne!(during.as_deref(), Some("success"), "{text}");
    }
    assert_ne!(c.conclusion.as_deref(), Some("success"), "{}", c.text);
}
