//! Eleventh adversarial review of issue 9 (fail closed). As the other review
//! files: each test plays what only a pull request's author (write access
//! to their own fork, none on the base repository) or a user with triage
//! access (labels, close, reopen, lock; no push, no merge) can do, through
//! signed deliveries to the real router and the real client talking to the
//! fake GitHub, and asserts the SAFE outcome (conclusion and wording). A
//! passing test is an attack that failed; a test marked
//! `#[ignore = "finding: …"]` is an attack that worked (see its comment).
//!
//! This review starts from the newest fixes: retargets read from the issue
//! events list (`gather::read_retargets`), the policy generation, and the
//! escalation posted after an unknown outcome (`?since=`). What an
//! instance keeps across evaluations is not only the per-evaluation memo
//! (`InstallationClient::repo`) but the client's ETag cache, whose cached
//! `next` link sections 1 and 1b show is trusted on a 304. The policy
//! generation's bump needs a push to the default branch (a writer's act),
//! so no test here plays it.

use crate::common;

use chrono::Duration;

use common::attacks::posts_of_level;
use common::fake_github::PullSeed;
use common::harness::{Harness, POLICY, REPO};
use common::pages::{
    PAGE, approved_then_retargeted_away_and_back, assert_blocked_by_alice, assert_passes,
    assert_stale_after_the_retarget, author_approves, head_run, padded_and_approved, review,
};

// ---- 1. A retarget past a full first page of the events list -------------

/// Control: with 99 events when the approvals were evaluated, the first
/// retarget lands on the first page (its answer changes), and the
/// approvals are stale.
#[tokio::test]
async fn approvals_before_a_retarget_away_and_back_are_stale() {
    let (conclusion, text) = approved_then_retargeted_away_and_back(PAGE - 3).await;
    assert_stale_after_the_retarget(conclusion, &text);
}

/// The author pads the issue events list to exactly one full page (100
/// events: the two label events and 98 renames) before the roles approve.
/// The evaluations after the approvals read that page (200, no `next`
/// link: it is the whole list) and the client keeps its ETag with its
/// `next` (none). The retargets are events 101 and 102: page 1's body is
/// unchanged, so GitHub (and the fake, whose ETag is the body's hash)
/// answers the conditional read with a 304, and the client takes the
/// cached `next` (none) instead of the 304's `Link`: page 2 is never read,
/// no retarget is seen, and the approvals given against the old base count.
///
/// Was a finding (high), now fixed (`Core::send`: on a 304 the `next` link
/// comes from the answer's own `Link`, and a cached "no next page" is not
/// trusted for a full page, which is asked for again): the check stayed `success` ("all requirements met") on
/// `main` with approvals given before the base changed; with 97 renames
/// (the control above) it fails. The cause is general, not the events
/// list's: `src/github/http.rs` `Core::send` answers a 304 with the cached
/// `next` (`Cached::next`), but an ETag validates the body, not the `Link`
/// header, so a list whose last page was exactly full never grows on that
/// instance while the page's body is unchanged. The timeline (a role
/// member's later "changes requested" review, item 101), the issue events
/// (a non-writer's label re-application, a close) and the comments list
/// (escalation markers) are read the same way.
#[tokio::test]
async fn a_retarget_past_a_full_first_page_of_the_events_list_still_makes_approvals_stale() {
    let (conclusion, text) = approved_then_retargeted_away_and_back(PAGE - 2).await;
    assert_stale_after_the_retarget(conclusion, &text);
}

// ---- 1b. The same page boundary on the timeline ---------------------------

/// The P0 #7 approved by both roles by review, its timeline padded by the
/// author: the two label events, the app's sticky comment, the author's own
/// `/hotfix approve` (not counted, and said so), `pad` plain comments, the
/// two approving reviews, and last the author's second `/hotfix approve`,
/// whose evaluation changes nothing (the same verdict, the same note, so
/// the sticky comment is not edited). Then alice, the engineering lead,
/// requests changes. Returns the check run's conclusion and text.
async fn approved_padded_then_changes_requested(pad: usize) -> (Option<String>, String) {
    let (h, pull) = padded_and_approved(pad).await;
    author_approves(&h, &pull, pull.created_at + Duration::minutes(3)).await;
    assert_passes(&h);
    review(&h, &pull, "alice", "CHANGES_REQUESTED", 4).await;
    head_run(&h)
}

/// Control: with 99 timeline items before it, alice's change request is
/// the 100th item (page 1 changes): it blocks the hotfix.
#[tokio::test]
async fn a_role_members_change_request_on_the_first_timeline_page_blocks_the_hotfix() {
    let (conclusion, text) = approved_padded_then_changes_requested(PAGE - 8).await;
    assert_blocked_by_alice(conclusion, &text);
}

/// The author pads the timeline to exactly 100 items at the last
/// evaluation before the lead's objection; the change request is item 101,
/// page 1's body is unchanged, the 304 brings back the cached `next`
/// (none), and the objection is never read: the P0 keeps its `success`.
///
/// Was a finding (high, same cause as section 1; fixed with it): a role member's "changes
/// requested" is ignored; so would be any later timeline item (a close, a
/// non-writer's label removal, a new `/hotfix approve` only adds).
#[tokio::test]
async fn a_role_members_change_request_past_a_full_first_timeline_page_blocks_the_hotfix() {
    let (conclusion, text) = approved_padded_then_changes_requested(PAGE - 7).await;
    assert_blocked_by_alice(conclusion, &text);
}

// ---- 2. The escalation after an unknown outcome, read `?since=` ----------

/// How many times the app's HTTP client sends one request before it gives
/// up on a 5xx (`HttpOptions::max_attempts`' default).
const ATTEMPTS: usize = 4;

/// The unapproved P0 #7, opened and watched. Its level 1 falls due 120
/// minutes after it opened; five minutes before that (inside the ten
/// minutes of skew the sweep's `?since=` reads back) the author posts a
/// comment carrying the app's level-1 marker (as if they had edited an old
/// comment: GitHub's `since` filters by `updated_at`) and `flood` more
/// comments. At 130 minutes GitHub answers the app's escalation comment
/// with a 502 on every attempt (an outage: not the attacker's move), so the
/// outcome is unknown; GitHub is well again for the sweeps after.
async fn escalation_unknown_after_comments_in_the_window(flood: usize) -> (Harness, PullSeed) {
    let h = Harness::start().await;
    let pull = h.p0();
    h.seed(POLICY, &pull);
    h.label_events_by(&pull, "dana");
    h.clock.set(pull.created_at);
    h.pull_request("opened", pull.number).await;
    let in_window = pull.created_at + Duration::minutes(115);
    h.gh.add_comment_at(
        REPO,
        pull.number,
        &pull.author,
        "<!-- hotfix-guard:escalation level=1 -->\nalready escalated, nothing to see",
        in_window,
    );
    for n in 0..flood {
        h.gh.add_comment_at(
            REPO,
            pull.number,
            "mallory",
            &format!("+1 ({n})"),
            in_window,
        );
    }
    h.clock.set(pull.created_at + Duration::minutes(130));
    h.gh.fail_next("POST", "/comments", 502, Vec::new(), ATTEMPTS);
    h.app.engine.sweep().await;
    assert_eq!(posts_of_level(&h, pull.number, 1), 0, "precondition");
    (h, pull)
}

/// The author's marker sits among the comments the sweep reads back after
/// the unknown outcome, but markers count only in the app's own comments:
/// the level is posted, once.
#[tokio::test]
async fn an_authors_marker_updated_inside_the_since_window_does_not_pass_for_the_level() {
    let (h, pull) = escalation_unknown_after_comments_in_the_window(0).await;
    h.app.engine.sweep().await;
    h.app.engine.sweep().await;
    assert_eq!(posts_of_level(&h, pull.number, 1), 1, "posted once");
}

/// The same with 10,001 comments inside the window (`?since=` no longer
/// helps: they are all newer than the level's due time less the skew), so
/// the listing after the unknown outcome stops at the page cap.
///
/// Was a finding (low): the level was never posted (the sweep logged
/// "cannot establish which escalation levels were posted"). Fixed: when the
/// read-back cannot say, the level is posted anyway, saying it may be a
/// repeat (`src/engine/escalation.rs`, `read_back`), and the store's level
/// record keeps the next sweep from posting it again. Checked that the test
/// can fail: with the read-back's `None` answered by returning without
/// posting (the old rule), no level-1 comment is posted.
#[tokio::test]
async fn a_flood_inside_the_since_window_does_not_keep_the_level_unposted() {
    let (h, pull) = escalation_unknown_after_comments_in_the_window(10_001).await;
    h.app.engine.sweep().await;
    h.app.engine.sweep().await;
    assert_eq!(posts_of_level(&h, pull.number, 1), 1, "posted once");
    let posted = h
        .bot_comments(pull.number)
        .into_iter()
        .find(|c| {
            c.body
                .starts_with("<!-- hotfix-guard:escalation level=1 -->")
        })
        .map(|c| c.body)
        .unwrap_or_default();
    assert!(
        posted.contains("This escalation may appear twice"),
        "{posted}"
    );
}
