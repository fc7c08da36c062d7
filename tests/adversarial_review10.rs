//! Tenth adversarial review of issue 9 (fail closed). As the other review
//! files: each test plays what only a pull request's author (write access
//! to their own fork, none on the base repository) or a user with triage
//! access (labels, close, reopen, lock; no push, no merge) can do, through
//! signed deliveries to the real router and the real client talking to the
//! fake GitHub, and asserts the SAFE outcome (conclusion and wording). A
//! passing test is an attack that failed; a test marked
//! `#[ignore = "finding: …"]` is an attack that worked (see its comment).
//!
//! This review starts from the three newest fixes: a refused escalation
//! comment clears the posting mark (`escalation::post`), memberships are
//! remembered per evaluation only, and the merge-back run's re-run is
//! routed by its `external_id` (`merge-back:N`).

use crate::common;

use chrono::Duration;

use common::attacks::{
    delivered, merged_approved_p0, posts_of_level, refuse_comment_posts, text_of, two_level_policy,
};
use common::fake_github::PullSeed;
use common::harness::{Harness, POLICY, REPO};
use common::webhook::{self, CheckRunSpec};

/// How many times the app's HTTP client sends one request before it gives
/// up on a 5xx (`HttpOptions::max_attempts`' default).
const ATTEMPTS: usize = 4;

/// `flood` comments by mallory (the author, or anyone who can comment) on
/// `number`, 10 s after it opened.
fn flood(h: &Harness, pull: &PullSeed, flood: usize) {
    for n in 0..flood {
        h.gh.add_comment_at(
            REPO,
            pull.number,
            "mallory",
            &format!("+1 ({n})"),
            pull.created_at + Duration::seconds(10),
        );
    }
}

// ---- 1. An unknown outcome behind a flood of comments -------------------

/// The unapproved P0 #7 under `policy`, opened and watched, with `comments`
/// comments by the author on it.
async fn watched_p0(policy: &str, comments: usize) -> (Harness, PullSeed) {
    let h = Harness::start().await;
    let pull = h.p0();
    h.seed(policy, &pull);
    h.label_events_by(&pull, "dana");
    h.clock.set(pull.created_at);
    h.pull_request("opened", pull.number).await;
    flood(&h, &pull, comments);
    (h, pull)
}

/// The deadline of #7 passes; GitHub answers the app's escalation comment
/// with a 502 on every attempt (an outage: nothing the attacker does), and
/// the next sweeps find GitHub well again.
async fn escalation_met_an_outage(comments: usize) -> (Harness, PullSeed) {
    let (h, pull) = watched_p0(POLICY, comments).await;
    h.clock.advance(Duration::minutes(130));
    h.gh.fail_next("POST", "/comments", 502, Vec::new(), ATTEMPTS);
    h.app.engine.sweep().await;
    assert_eq!(posts_of_level(&h, pull.number, 1), 0, "precondition");
    (h, pull)
}

/// Control: without the flood, the sweep after the outage lists the app's
/// own comments, finds no level 1 and posts it once.
#[tokio::test]
async fn an_escalation_whose_comment_met_an_outage_is_posted_once_by_the_next_sweep() {
    let (h, pull) = escalation_met_an_outage(0).await;
    assert_eq!(h.app.engine.sweep().await, 1, "posted after the outage");
    assert_eq!(h.app.engine.sweep().await, 0, "and only once");
    assert_eq!(posts_of_level(&h, pull.number, 1), 1);
}

/// The author floods #7 with more than 10,000 comments (GitHub's comment
/// list stops at 100 pages) before its deadline. Any 5xx or timeout on the
/// escalation comment then keeps the posting mark (the outcome is unknown:
/// `GitHubError::nothing_written` is false), and every later sweep must
/// list the app's own comments to learn whether it was posted, which past
/// 100 pages it cannot: the escalation is silenced for good by one passing
/// GitHub fault. The check run does not say so either.
///
/// Was a finding, now fixed: after an interrupted posting the sweep reads
/// only the comments since that level fell due (less ten minutes of clock
/// skew: `GET .../comments?since=`), which the flood before it cannot
/// push past the page cap. Not done: naming an unconfirmed level on the
/// check run. The finding (`src/engine/escalation.rs` `escalate`, the
/// `recorded` arm): the ninth review's fix covered refusals only. Suggested fix: when the
/// mark is kept, read the app's own comments created since the posting
/// started (`GET /repos/{o}/{r}/issues/{n}/comments?since=<mark time>`,
/// which GitHub filters by `updated_at`; the store has the mark's time),
/// so that comments older than the mark never count against the 100-page
/// cap; and, when even that cannot be read, say so on the check run
/// (`Escalated::unconfirmed` is set but read nowhere: an evaluation after
/// the sweeps says only "Overdue by 9m", nothing about the escalation that
/// was never posted, unlike a lock's held levels).
#[tokio::test]
async fn an_escalation_whose_comment_met_an_outage_behind_10001_comments_is_still_posted() {
    let (h, pull) = escalation_met_an_outage(10_001).await;
    h.app.engine.sweep().await;
    h.app.engine.sweep().await;
    assert_eq!(
        posts_of_level(&h, pull.number, 1),
        1,
        "level 1 is posted once after the outage"
    );
}

/// A secondary rate limit on the escalation comment (403 with
/// `retry-after` longer than the client waits), behind the same flood: the
/// author can drive the installation's requests up with deliveries of
/// their own (pushes, edits, comments). A refusal wrote nothing, so the
/// mark is cleared and the next sweep posts the level once.
#[tokio::test]
async fn a_rate_limited_escalation_behind_10001_comments_is_posted_once_later() {
    let (h, pull) = watched_p0(POLICY, 10_001).await;
    h.clock.advance(Duration::minutes(130));
    h.gh.fail_next_with_body(
        "POST",
        "/comments",
        403,
        vec![("retry-after".into(), "3600".into())],
        serde_json::json!({
            "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
            "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
        }),
        1,
    );
    assert_eq!(h.app.engine.sweep().await, 0, "refused: rate limited");
    assert_eq!(posts_of_level(&h, pull.number, 1), 0, "precondition");
    assert_eq!(h.app.engine.sweep().await, 1, "posted by a later sweep");
    assert_eq!(h.app.engine.sweep().await, 0, "and only once");
    assert_eq!(posts_of_level(&h, pull.number, 1), 1);
}

/// A 502 whose comment GitHub nevertheless created (the outcome the mark
/// exists for), then a triage user's lock before the client's retry: the
/// retry is refused as locked. The error `post` sees is the last attempt's
/// (`Locked`: "nothing written"), so the mark is cleared although the
/// first attempt may have written the level, and the sweep after the
/// unlock posts it again. The test plays the 502's write by the app's own
/// level-1 comment appearing before the sweep (the store says nothing was
/// posted, so the sweep does not list comments, exactly as after a real
/// 502 that wrote).
///
/// Was a finding, now fixed (`Core::send` records that an earlier attempt
/// of a write had an unknown outcome, and `nothing_written` answers
/// `false` then). Low (a level posted twice, never silenced; needs a
/// GitHub 5xx that wrote; no attacker can cause it alone): `GitHubError::
/// nothing_written` (`src/github/error.rs`) judged the last attempt only,
/// while `Core::send` (`src/github/http.rs`) retries a POST after a 5xx or
/// a timeout. The lock is not even needed: a retry that succeeds after a
/// 502 that wrote posts the level twice too, so the posting mark never
/// guards the case it was made for. Suggested fix: do not retry a
/// non-idempotent POST (comment, issue, pull request creation) after an
/// unknown outcome: return it as `Server`/`Transport`, so that the mark
/// stays and the next sweep reads the app's own comments; or have `send`
/// record that an earlier attempt's outcome was unknown (beside
/// `with_attempts`) and let `nothing_written` answer `false` then.
#[tokio::test]
async fn a_server_error_then_a_lock_on_the_retry_does_not_post_a_level_twice() {
    let (h, pull) = watched_p0(POLICY, 0).await;
    h.clock.advance(Duration::minutes(130));
    // What the 502'd attempt wrote: the app's own level-1 comment.
    let now = h.clock_now();
    let body = format!(
        "<!-- hotfix-guard:escalation level=1 -->\n⏰ @acme/incident-commanders this P0 hotfix was due by {} and is not merged.\n",
        now
    );
    h.gh.add_comment_at(
        REPO,
        pull.number,
        common::fake_github::BOT_LOGIN,
        &body,
        now,
    );
    h.gh.fail_next("POST", "/comments", 502, Vec::new(), 1);
    refuse_comment_posts(&h, pull.number, 1);
    h.app.engine.sweep().await;
    h.app.engine.sweep().await;
    h.app.engine.sweep().await;
    assert_eq!(
        posts_of_level(&h, pull.number, 1),
        1,
        "the level the 502 wrote is not posted again"
    );
}

// ---- 2. A lock timed for level two, behind a flood -----------------------

/// #7 under a two-level policy, flooded with 10,001 comments; level 1 is
/// posted at the deadline. A triage user locks the conversation exactly
/// when level 2 falls due (GitHub refuses that comment as locked) and
/// unlocks it after. The refusal clears the mark to "level 1 posted"
/// (`store.seen(key, level - 1)`): level 2 must be posted once after the
/// unlock, and level 1 never again.
#[tokio::test]
async fn a_lock_timed_for_level_two_behind_a_flood_neither_repeats_level_one_nor_drops_level_two() {
    let (h, pull) = watched_p0(&two_level_policy(), 10_001).await;
    h.clock.advance(Duration::minutes(130));
    assert_eq!(h.app.engine.sweep().await, 1, "level 1 at the deadline");
    assert_eq!(posts_of_level(&h, pull.number, 1), 1, "precondition");

    h.clock.advance(Duration::hours(3));
    refuse_comment_posts(&h, pull.number, 1);
    assert_eq!(h.app.engine.sweep().await, 0, "level 2 refused: held");
    assert_eq!(posts_of_level(&h, pull.number, 2), 0);

    assert_eq!(h.app.engine.sweep().await, 1, "level 2 after the unlock");
    assert_eq!(h.app.engine.sweep().await, 0, "and only once");
    assert_eq!(posts_of_level(&h, pull.number, 1), 1, "level 1 once");
    assert_eq!(posts_of_level(&h, pull.number, 2), 1, "level 2 once");
}

// ---- 3. Re-runs of the merge-back check ----------------------------------

const MERGE_SHA: &str = "mamamamamamamamamamamamamamamamamamamama";
const MERGE_BACK_BRANCH: &str = "hotfix-guard/merge-back-7";

/// The approved P0 #7 merged as `MERGE_SHA`; the app has opened its
/// merge-back pull request (answered) and the merge-back run waits.
async fn merged_with_merge_back() -> (Harness, PullSeed, PullSeed) {
    let (h, pull) = merged_approved_p0(POLICY, MERGE_SHA).await;
    h.gh.set_permission(REPO, "trina", "triage");
    h.pull_request("closed", pull.number).await;
    let merge_back = merge_backs(&h);
    assert_eq!(merge_back.len(), 1, "precondition: one merge-back");
    let mb = merge_back.into_iter().next().expect("one");
    (h, pull, mb)
}

fn merge_backs(h: &Harness) -> Vec<PullSeed> {
    h.gh.pulls(REPO)
        .into_iter()
        .filter(|p| p.head_ref == MERGE_BACK_BRANCH)
        .collect()
}

fn merge_back_run(h: &Harness) -> common::fake_github::CheckRunRec {
    let runs: Vec<_> =
        h.gh.check_runs(REPO, MERGE_SHA)
            .into_iter()
            .filter(|r| r.name == "hotfix-policy/merge-back")
            .collect();
    assert_eq!(runs.len(), 1, "{runs:#?}");
    runs.into_iter().next().expect("one")
}

/// A `check_run.rerequested` delivery for the merge-back run as GitHub
/// sends it (listing `listed`, the merge-back pull request while open).
async fn re_run_merge_back(h: &Harness, listed: Vec<u64>, sender: &str) {
    let run = merge_back_run(h);
    let spec = CheckRunSpec {
        repo: REPO.into(),
        name: "hotfix-policy/merge-back".into(),
        head_sha: MERGE_SHA.into(),
        head_branch: MERGE_BACK_BRANCH.into(),
        pull_numbers: listed,
        check_run_id: run.id,
        sender: sender.into(),
        ..CheckRunSpec::default()
    };
    let mut payload = webhook::check_run_rerequested(&spec);
    payload["check_run"]["external_id"] = run.external_id.clone().into();
    delivered(h, "check_run", &payload).await;
}

/// A triage user closes the merge-back pull request without merging; then
/// the merge-back run is re-run (GitHub lists no open pull request for the
/// merge commit now). The re-run, now routed to #7 by `merge-back:7`, must
/// not turn the check into anything but the failure that names the close.
#[tokio::test]
async fn a_re_run_after_a_triage_user_closed_the_merge_back_keeps_it_failing() {
    let (h, _pull, mb) = merged_with_merge_back().await;
    h.gh.update_pull(REPO, mb.number, |p| p.state = "closed".into());
    h.gh.add_state_event(REPO, mb.number, "closed", "trina", chrono::Utc::now());
    h.pull_request("closed", mb.number).await;
    let before = merge_back_run(&h);
    assert_eq!(
        before.conclusion.as_deref(),
        Some("failure"),
        "precondition"
    );

    re_run_merge_back(&h, Vec::new(), "trina").await;
    let after = merge_back_run(&h);
    let text = text_of(&after);
    assert_eq!(
        after.update_count,
        before.update_count + 1,
        "re-run writes it"
    );
    assert_eq!(after.conclusion.as_deref(), Some("failure"), "{text}");
    assert!(
        text.contains(&format!(
            "#{} was closed without merging: merge the hotfix into develop",
            mb.number
        )) && text.contains("was closed by @trina without merging"),
        "{text}"
    );
    assert!(
        merge_backs(&h).iter().all(|p| p.state == "closed"),
        "no new merge-back pull request is opened behind the triage user"
    );
}

/// The merge-back run is re-run three times (a user with the Re-run button
/// trying to make the app act again): each re-run writes the run, but the
/// post-merge work is done once: one merge-back pull request, one
/// follow-up issue, and the run still waits for develop.
#[tokio::test]
async fn re_running_the_merge_back_check_repeatedly_opens_nothing_twice() {
    let (h, pull, mb) = merged_with_merge_back().await;
    let issues_before = h.gh.issues(REPO).len();
    let before = merge_back_run(&h);
    for _ in 0..3 {
        re_run_merge_back(&h, vec![mb.number], "trina").await;
    }
    let after = merge_back_run(&h);
    assert_eq!(
        after.update_count,
        before.update_count + 3,
        "each re-run writes"
    );
    assert_eq!(after.status, "in_progress");
    assert_eq!(
        after.title.as_deref(),
        Some(format!("Waiting for #{} to merge into develop", mb.number).as_str())
    );
    assert_eq!(merge_backs(&h).len(), 1, "one merge-back pull request");
    assert_eq!(h.gh.issues(REPO).len(), issues_before, "no second issue");
    let escalation_or_sticky = h.bot_comments(pull.number).len();
    re_run_merge_back(&h, vec![mb.number], "trina").await;
    assert_eq!(
        h.bot_comments(pull.number).len(),
        escalation_or_sticky,
        "an unchanged comment is not posted again"
    );
}
