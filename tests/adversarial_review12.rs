//! Twelfth adversarial review of issue 9 (fail closed). As the other review
//! files: each test plays what only a pull request's author (write access
//! to their own fork, none on the base repository) or a user with triage
//! access (labels, close, reopen, lock; no push, no merge) can do, through
//! signed deliveries to the real router and the real client talking to the
//! fake GitHub, and asserts the SAFE outcome (conclusion and wording). A
//! passing test is an attack that failed; a test marked
//! `#[ignore = "finding: …"]` is an attack that worked (see its comment).
//!
//! This review starts from the newest fix: `Core::send`'s 304 branch, which
//! takes the next link from the 304's own `Link` and asks a full page again
//! when its cached "no next page" cannot be trusted. The eleventh review
//! padded a list to exactly one full page; here the author pads it to two,
//! so that page 1 (cached with a next link to page 2) and page 2 (cached
//! with no next link) are both unchanged while a page 3 appears; GitHub
//! documents no `Link` on a 304, so each list is also played with a 304
//! that has none (the fake's own 304s keep theirs), which only the
//! `page_is_full` guard answers; and the reviews list, read through its
//! own helper behind a cut timeline, is padded the same way.

use crate::common;

use chrono::Duration;

use common::churn::{on_timeline_reads, timeline_answered_late};
use common::fake_github::PullSeed;
use common::harness::{HEAD_SHA, Harness, POLICY, REPO};
use common::pages::{
    PAGE, approved_then_retargeted_away_and_back, assert_blocked_by_alice, assert_passes,
    assert_stale_after_the_retarget, author_approves, head_run, linkless_304s, padded_and_approved,
    padded_with_a_friend_and_approved, review,
};

// ---- 1. A change request behind two full, unchanged timeline pages -------

/// The P0 #7 approved by both roles by review, its timeline padded by the
/// author: the two label events, the app's sticky comment, the author's own
/// `/hotfix approve`, `pad` plain comments, the two approving reviews, and
/// last the author's second `/hotfix approve`, whose evaluation reads every
/// page and caches each with its ETag and next link. Then alice, the
/// engineering lead, requests changes; the first `linkless` reads of the
/// timeline in that evaluation are answered `304 Not Modified` without a
/// `Link` header (GitHub documents no `Link` on a 304). Returns the check
/// run's conclusion and text.
async fn approved_padded_then_changes_requested(
    pad: usize,
    linkless: usize,
) -> (Option<String>, String) {
    let (h, pull) = padded_and_approved(pad).await;
    author_approves(&h, &pull, pull.created_at + Duration::minutes(3)).await;
    assert_passes(&h);
    linkless_304s(&h, &format!("/issues/{}/timeline", pull.number), linkless);
    review(&h, &pull, "alice", "CHANGES_REQUESTED", 4).await;
    head_run(&h)
}

/// The author pads the timeline to exactly two full pages (200 items) at
/// the last evaluation before the lead's objection. That evaluation caches
/// page 1 with its next link (page 2) and page 2 with none. The change
/// request is item 201: pages 1 and 2 are unchanged (304s), page 3 appears.
/// The objection must still be read: page 2's 304 carries its own `Link`
/// (GitHub's headers, the fake's too), and a cached "no next page" on a
/// full page is not trusted either way.
///
/// Attack failed. Checked that the test can fail: with `Core::send`'s 304
/// branch reverted to the cached `next` (`hit.next`, no `page_is_full`),
/// it fails with `success`.
#[tokio::test]
async fn a_role_members_change_request_behind_two_full_unchanged_timeline_pages_blocks() {
    let (conclusion, text) = approved_padded_then_changes_requested(2 * PAGE - 7, 0).await;
    assert_blocked_by_alice(conclusion, &text);
}

/// As the eleventh review's padding (one full page, the change request is
/// item 101), but the conditional read of page 1 is answered with a 304
/// that carries no `Link`, so the client has only its cached "no next
/// page", which a full page must not be trusted with.
///
/// Attack failed. Checked that the test can fail: with the `page_is_full`
/// branch of `Core::send` disabled (the 304's own `Link` still taken), the
/// check stays `success`. The fake's own 304s keep their `Link`, so no
/// other test reaches that branch end to end.
#[tokio::test]
async fn a_change_request_past_a_full_page_answered_by_a_linkless_304_blocks() {
    let (conclusion, text) = approved_padded_then_changes_requested(PAGE - 7, 1).await;
    assert_blocked_by_alice(conclusion, &text);
}

/// Two full pages, both answered by `Link`-less 304s; the change request is
/// item 201. Each full page is asked for again, so page 3 is found.
///
/// Attack failed. Checked as the test above (disabled `page_is_full`
/// branch: `success`).
#[tokio::test]
async fn a_change_request_behind_two_full_pages_answered_by_linkless_304s_blocks() {
    let (conclusion, text) = approved_padded_then_changes_requested(2 * PAGE - 7, 2).await;
    assert_blocked_by_alice(conclusion, &text);
}

// ---- 2. A retarget behind two full, unchanged pages of the events list ----

/// The author pads the issue events list to exactly two full pages (the
/// two label events and 198 renames) before the roles approve; the
/// retargets are events 201 and 202, on a page 3 that did not exist when
/// pages 1 and 2 were cached. The approvals must still be stale.
///
/// Attack failed. Checked that the test can fail: with the 304 branch
/// reverted to the cached `next`, the check stays `success`.
#[tokio::test]
async fn a_retarget_behind_two_full_unchanged_pages_of_the_events_list_makes_approvals_stale() {
    let (conclusion, text) = approved_then_retargeted_away_and_back(2 * PAGE - 2).await;
    assert_stale_after_the_retarget(conclusion, &text);
}

// ---- 3. The reviews list behind a cut timeline, padded to a full page ----

/// The P0 #7 whose timeline the author floods past the page cap (10,001
/// comments), so reviews are read from `GET /pulls/{n}/reviews` instead.
/// Friends of the author without write access pad that list with 98
/// "comment" reviews (anyone who can comment can submit one); the two role
/// members' approvals make it exactly one full page (100 reviews), read
/// and cached by the evaluation that passes the P0. Then alice requests
/// changes: review 101, on a page 2 that did not exist. The first
/// `linkless` reads of the reviews list in that evaluation are answered
/// with a 304 without a `Link`. Returns the conclusion and text.
async fn flooded_reviews_padded_then_changes_requested(
    linkless: usize,
) -> (Option<String>, String) {
    let h = Harness::start().await;
    let pull = PullSeed {
        labels: Vec::new(),
        ..h.p0()
    };
    h.seed(POLICY, &pull);
    h.clock.set(pull.created_at);
    for n in 0..10_001 {
        h.gh.add_comment_at(
            REPO,
            pull.number,
            &pull.author,
            &format!("bump ({n})"),
            pull.created_at + Duration::seconds(10),
        );
    }
    h.gh.set_labels(REPO, pull.number, &["hotfix", "P0"]);
    for label in ["hotfix", "P0"] {
        h.gh.add_label_event(
            REPO,
            pull.number,
            label,
            "alice",
            true,
            pull.created_at + Duration::minutes(20),
        );
    }
    for n in 0..PAGE - 2 {
        h.gh.add_review_at(
            REPO,
            pull.number,
            &format!("friend-{n}"),
            "COMMENTED",
            HEAD_SHA,
            pull.created_at + Duration::minutes(25),
        );
    }
    let after = pull.created_at + Duration::minutes(30);
    h.gh.add_review_at(REPO, pull.number, "alice", "APPROVED", HEAD_SHA, after);
    h.gh.add_review_at(
        REPO,
        pull.number,
        "oncall-olga",
        "APPROVED",
        HEAD_SHA,
        after,
    );
    h.pull_request("labeled", pull.number).await;
    h.settle().await;
    assert_passes(&h);
    h.gh.add_review_at(
        REPO,
        pull.number,
        "alice",
        "CHANGES_REQUESTED",
        HEAD_SHA,
        after + Duration::minutes(1),
    );
    linkless_304s(&h, &format!("/pulls/{}/reviews", pull.number), linkless);
    h.pull_request("labeled", pull.number).await;
    h.settle().await;
    head_run(&h)
}

/// The fake's own 304 (with its `Link`) on the full reviews page: the
/// change request on page 2 is read and blocks.
///
/// Attack failed. Checked that the test can fail: with the 304 branch
/// reverted to the cached `next`, the check stays `success`.
#[tokio::test]
async fn a_change_request_past_a_full_page_of_the_reviews_list_behind_a_cut_timeline_blocks() {
    let (conclusion, text) = flooded_reviews_padded_then_changes_requested(0).await;
    assert_blocked_by_alice(conclusion, &text);
}

/// The same with a `Link`-less 304 on the full reviews page: the page is
/// asked for again, and the change request blocks.
///
/// Attack failed. Checked that the test can fail: with the `page_is_full`
/// branch disabled, the check stays `success`.
#[tokio::test]
async fn a_change_request_past_a_full_reviews_page_answered_by_a_linkless_304_blocks() {
    let (conclusion, text) = flooded_reviews_padded_then_changes_requested(1).await;
    assert_blocked_by_alice(conclusion, &text);
}

// ---- 4. An item before the page boundary vanishes between page reads -----

/// The P0 #7 approved by both roles by review, its timeline padded to 100
/// items before alice's change request (item 101, the first of page 2),
/// one of them a friend's early "comment" review at 25 seconds. Alice's
/// change request is evaluated (failure). Then the author posts their own
/// `/hotfix approve` (a command: it is evaluated; it counts for nothing)
/// and, while that evaluation reads the timeline, an item on page 1
/// disappears after page 1 was read and before page 2 is: GitHub's page
/// numbers then cut the list one item further on, and the change request
/// moves from page 2 to page 1, which was read before. On GitHub the
/// author deletes one of their own comments on page 1 (anyone may delete
/// their own comments, and deleting one that is not a command starts no
/// evaluation: `Outcome::NotACommand`); the fake has no comment deletion,
/// so the friend's review turning `PENDING` (which the timeline leaves
/// out) stands in for it. The timing is the author's to try as often as
/// they like (each try is a `/hotfix approve` and a burst of deletions),
/// and the check run tells them when it worked. Returns the conclusion and
/// text. With `mid_read` false the item is gone before that evaluation
/// starts (the control: a consistent read).
async fn item_vanishes_between_timeline_pages(mid_read: bool) -> (Option<String>, String) {
    let (h, pull, friend) = padded_with_a_friend_and_approved(PAGE - 7).await;
    review(&h, &pull, "alice", "CHANGES_REQUESTED", 4).await;
    let (conclusion, text) = head_run(&h);
    assert_blocked_by_alice(conclusion, &text);

    // Each timeline read of the next evaluation is answered after 300 ms;
    // the friend's item goes once page 1 has been answered.
    timeline_answered_late(&h, pull.number, 300, 2);
    if !mid_read {
        h.gh.set_review_state(REPO, pull.number, friend, "PENDING");
    }
    let approve = author_approves(&h, &pull, pull.created_at + Duration::minutes(5));
    let turns = on_timeline_reads(&h, pull.number, mid_read, approve, |turn, _| {
        if turn == 0 {
            h.gh.set_review_state(REPO, pull.number, friend, "PENDING");
        }
    })
    .await;
    assert!(
        !mid_read || turns > 0,
        "page 1 of the timeline was never read"
    );
    head_run(&h)
}

/// Control: the item is gone before the evaluation reads the timeline;
/// the change request is item 100, on page 1, and blocks.
#[tokio::test]
async fn a_comment_deleted_before_the_timeline_is_read_leaves_the_change_request_blocking() {
    let (conclusion, text) = item_vanishes_between_timeline_pages(false).await;
    assert_blocked_by_alice(conclusion, &text);
}

/// The item vanishes after page 1 was answered and before page 2 is: the
/// change request, item 101 when page 1 was read, is item 100 when page 2
/// is, and neither read holds it.
///
/// Was a finding (high), now fixed (`Core::pages`: every page but the last is asked for again once the list is read; a changed one means reading it again): the check turned `success` ("P0 hotfix: all requirements
/// met") while alice's change request stands. Cause: `Core::pages` and
/// `Core::pages_up_to_cap` (`src/github/http.rs`) read GitHub's
/// page-numbered lists as if each page were cut from one snapshot; a
/// deletion on an earlier page between two page reads shifts every later
/// item one place forward, so the first item of the next page is never
/// read. Anyone can delete their own comments on the timeline (and the
/// deletion of a non-command starts no evaluation), so the author can aim a
/// burst of deletions at the evaluation their own `/hotfix approve` starts;
/// the skipped item can be a change request, a non-writer's label removal
/// or re-application, a close, a retarget in the timeline. Suggested fix:
/// after a list's last page, ask again for every page read with its ETag
/// (a 304 is free against the rate limit) and start over when any page
/// answers 200 (it changed), a few times at most, then fail closed ("the
/// timeline changed while it was read; Re-check"). The ETag of an earlier
/// page covers its body, so a deletion there is seen.
#[tokio::test]
async fn a_comment_deleted_between_timeline_page_reads_does_not_hide_a_change_request() {
    let (conclusion, text) = item_vanishes_between_timeline_pages(true).await;
    assert_blocked_by_alice(conclusion, &text);
}
