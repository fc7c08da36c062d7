//! Fifth adversarial review of issue 9 (fail closed). As the other review
//! files: each test plays what only a pull request's author (write access
//! to their own fork, none on the base repository) or a user with triage
//! access (labels, close, reopen, lock; no push, no merge) can do, through
//! signed deliveries to the real router and the real client talking to the
//! fake GitHub, and asserts the SAFE outcome (conclusion and wording). A
//! passing test is an attack that failed; a test marked
//! `#[ignore = "finding: …"]` is an attack that worked (see its comment).

use crate::common;

use chrono::Duration;
use common::attacks::{
    approved_by_both_roles, assert_the_follow_up_is_opened_and_named, during_an_evaluation,
    fresh_suite, merge, opened_at_once, p0_under, p2_approved_by_bob, posts_of_level, push_head,
    raise_to_p0, sticky, text_concluded, text_of,
};
use common::harness::{HEAD_SHA, Harness, POLICY, REPO};
use common::twins::{TWIN, pull_on_the_head};

const MERGE_SHA: &str = "m5m5m5m5m5m5m5m5m5m5m5m5m5m5m5m5m5m5m5m5";
const NEW_HEAD: &str = "n5n5n5n5n5n5n5n5n5n5n5n5n5n5n5n5n5n5n5n5";

/// A triage user locks #`number`: GitHub says so on the pull request
/// (`locked`, `active_lock_reason`).
fn lock(h: &Harness, number: u64) {
    h.gh.update_pull(REPO, number, |p| {
        p.locked = true;
        p.active_lock_reason = Some("too heated".into());
    });
}

/// And refuses every comment write of the app while it lasts.
fn refuse_comments(h: &Harness) {
    common::attacks::refuse_comment_writes(h, 100_000);
}

/// A maintainer unlocks #`number`.
fn unlock(h: &Harness, number: u64) {
    h.gh.update_pull(REPO, number, |p| {
        p.locked = false;
        p.active_lock_reason = None;
    });
}

// ---- Markers carried into the app's own comment by a version file -------

/// The author writes the follow-up marker into the head's `VERSION` (a
/// file only they control, on their own branch) on a line of its own,
/// with text after it so that the app's own words do not end that line.
/// The version rule quotes what it read in the sticky comment, where
/// the marker would stand as the app writes it. After an administrator merges past the check, the follow-up
/// issue must still be opened and named (not #999).
#[tokio::test]
async fn markers_in_the_heads_version_file_do_not_stop_the_follow_up_issue() {
    follow_up_with_version("1.2.4\n<!-- hotfix-guard:follow-up #999 -->\nrc\n").await;
}

/// The same with a plain version: the follow-up is opened.
#[tokio::test]
async fn with_a_plain_version_file_the_follow_up_issue_is_opened() {
    follow_up_with_version("1.2.4\n").await;
}

async fn follow_up_with_version(version: &str) {
    let (h, pull) = p0_under(POLICY).await;
    h.gh.set_file(REPO, HEAD_SHA, "VERSION", version);
    h.clock.set(pull.created_at);
    approved_by_both_roles(&h, pull.number, HEAD_SHA);
    h.pull_request("opened", pull.number).await;
    if version.contains("999") {
        text_concluded(&h, HEAD_SHA, "failure");
        let sticky = sticky(&h, pull.number);
        assert!(
            sticky.contains("hotfix-guard:follow-up #999"),
            "precondition: the app quotes the version file in its own comment: {sticky}"
        );
    }

    // An administrator merges it (past the check, if it failed).
    merge(&h, pull.number, MERGE_SHA).await;

    let sticky = assert_the_follow_up_is_opened_and_named(&h, pull.number);
    assert!(!sticky.contains("Post-incident review: [#999]"), "{sticky}");
}

// ---- Locking the conversation, by a triage user ---------------------------

/// Two levels (the second 4h after the severity). A triage user locks the
/// unapproved P0's conversation before its deadline and keeps it locked
/// past the second level, then it is unlocked. Neither level may count as
/// posted while nothing was posted: once unlocked, the second level (the
/// one that mentions @acme/cto) is posted, once, and no level twice.
#[tokio::test]
async fn a_lock_held_past_the_second_level_does_not_count_either_level_as_posted() {
    let (h, pull) = p0_under(&common::attacks::two_level_policy()).await;
    h.gh.set_permission(REPO, "trina", "triage");
    h.clock.set(pull.created_at);
    h.pull_request("opened", pull.number).await;

    h.clock.advance(Duration::minutes(60));
    lock(&h, pull.number);
    // The lock's own delivery reaches the app too (`pull_request.locked`).
    h.pull_request("locked", pull.number).await;
    h.clock.advance(Duration::minutes(70));
    h.app.engine.sweep().await;
    h.clock.advance(Duration::minutes(130));
    h.app.engine.sweep().await;
    h.pull_request("edited", pull.number).await;
    let text = text_of(&h.check(HEAD_SHA));
    assert_eq!(posts_of_level(&h, pull.number, 1), 0);
    assert_eq!(posts_of_level(&h, pull.number, 2), 0);
    assert!(
        text.contains("is due and could not be posted") && text.contains("@acme/cto"),
        "the held second level is named: {text}"
    );

    unlock(&h, pull.number);
    h.pull_request("unlocked", pull.number).await;
    h.app.engine.sweep().await;
    h.app.engine.sweep().await;
    assert_eq!(posts_of_level(&h, pull.number, 2), 1, "level 2 posted once");
    assert!(
        posts_of_level(&h, pull.number, 1) <= 1,
        "level 1 never twice"
    );
    let cto = h
        .bot_comments(pull.number)
        .into_iter()
        .filter(|c| c.body.contains("@acme/cto"))
        .count();
    assert!(cto >= 1, "@acme/cto is mentioned");
    h.pull_request("edited", pull.number).await;
    let text = text_concluded(&h, HEAD_SHA, "failure");
    assert!(!text.contains("could not be posted"), "{text}");
}

/// A P2 approved by bob passes. A triage user locks the conversation
/// (GitHub says `locked` and refuses the app's comments); the author then
/// pushes unreviewed code. The new head must fail (the review is of the
/// old commit) and name the lock, and no `success` may appear on it.
#[tokio::test]
async fn a_push_while_locked_does_not_carry_the_previous_heads_success() {
    let (h, pull) = p2_approved_by_bob().await;
    h.gh.set_permission(REPO, "trina", "triage");

    lock(&h, pull.number);
    refuse_comments(&h);
    h.pull_request("locked", pull.number).await;
    push_head(&h, &pull, NEW_HEAD, pull.created_at + Duration::minutes(10)).await;

    let run = h.check(NEW_HEAD);
    let text = text_of(&run);
    assert_eq!(run.conclusion.as_deref(), Some("failure"), "{text}");
    assert!(text.contains("stale"), "{text}");
    assert!(text.contains("locked"), "{text}");
    let on_new: Vec<_> =
        h.gh.check_runs(REPO, NEW_HEAD)
            .into_iter()
            .filter(|r| r.name == "hotfix-policy")
            .collect();
    assert_eq!(on_new.len(), 1, "one run on the new head");
}

// ---- Timing around the concurrent reads, by the author or triage ----------

/// A P2 approved by bob passes. While an evaluation is in flight (its
/// timeline read is slow, so it read the pull request's labels before the
/// change and the label events after it), a writer raises the severity to
/// P0 and GitHub delivers `labeled`. Whatever order the two evaluations
/// end in, the run on the head must end `failure` (P0 needs both roles),
/// never the older evaluation's `success`.
#[tokio::test]
async fn a_severity_raised_during_an_evaluation_does_not_leave_its_success() {
    let (h, pull) = p2_approved_by_bob().await;

    during_an_evaluation(&h, pull.number, raise_to_p0(&h, &pull)).await;

    let text = text_concluded(&h, HEAD_SHA, "failure");
    assert!(
        text.contains("needs engineering-lead and on-call-manager approval"),
        "{text}"
    );
    let sticky = sticky(&h, pull.number);
    assert!(!sticky.contains("✅ ready"), "{sticky}");
}

/// A P0 approved by comment commands (alice, then olga) passes. While an
/// evaluation is in flight (slow timeline read), the author pushes
/// unreviewed code and GitHub delivers `synchronize`. The new head must
/// fail (the commands came before the push), and the sticky comment must
/// not be left saying the older evaluation's "ready".
#[tokio::test]
async fn a_push_during_an_evaluation_neither_passes_the_new_head_nor_leaves_ready() {
    let (h, pull) = p0_under(POLICY).await;
    h.clock.set(pull.created_at);
    h.pull_request("opened", pull.number).await;
    common::attacks::both_roles_approve_by_comment(
        &h,
        pull.number,
        pull.created_at + Duration::minutes(1),
        pull.created_at + Duration::minutes(2),
    )
    .await;
    assert_eq!(h.check(HEAD_SHA).conclusion.as_deref(), Some("success"));

    let push = push_head(&h, &pull, NEW_HEAD, pull.created_at + Duration::minutes(5));
    during_an_evaluation(&h, pull.number, push).await;

    let text = text_concluded(&h, NEW_HEAD, "failure");
    assert!(
        text.contains("@alice's /hotfix approve came before the latest push"),
        "{text}"
    );
    let sticky = sticky(&h, pull.number);
    assert!(!sticky.contains("✅ ready"), "{sticky}");
}

// ---- Two pull requests on one freshly pushed head, by the author ----------

/// GitHub delivers this app's fresh check suite for the head (no run yet),
/// so the first claim of `hotfix-policy` on it may skip the lookup. The
/// author opens two pull requests from two branches on that same commit
/// (`hotfix/login` is the P0, `hotfix/twin` carries no severity), and both
/// are evaluated at once while GitHub is slow to create the first run. The
/// commit must end with exactly one `hotfix-policy` run, failing — never
/// two runs with different verdicts.
#[tokio::test]
async fn two_pull_requests_on_one_fresh_head_evaluated_at_once_leave_one_failing_run() {
    let (h, pull) = p0_under(POLICY).await;
    h.clock.set(pull.created_at);
    h.gh.add_pull(REPO, pull_on_the_head(&h, TWIN, "hotfix/twin"));

    fresh_suite(&h, HEAD_SHA, &pull.head_ref).await;
    opened_at_once(&h, pull.number, TWIN).await;
    // And each again, as the author's later edits would.
    h.pull_request("edited", TWIN).await;
    h.pull_request("edited", pull.number).await;

    let text = text_concluded(&h, HEAD_SHA, "failure");
    assert!(
        text.contains("needs engineering-lead and on-call-manager approval")
            || text.contains("Hotfix needs a severity label"),
        "{text}"
    );
}

/// The same race on an approved P0: both runs say `success`. Then alice,
/// the engineering lead, requests changes. Every `hotfix-policy` run on
/// the head must stop saying `success`; a second run left behind keeps the
/// old verdict, and GitHub shows both.
#[tokio::test]
async fn a_second_run_made_by_the_race_does_not_keep_a_stale_success() {
    let (h, pull) = p0_under(POLICY).await;
    h.clock.set(pull.created_at);
    approved_by_both_roles(&h, pull.number, HEAD_SHA);
    h.gh.add_pull(REPO, pull_on_the_head(&h, TWIN, "hotfix/twin"));

    opened_at_once(&h, pull.number, TWIN).await;

    h.gh.add_review(REPO, pull.number, "alice", "CHANGES_REQUESTED", HEAD_SHA);
    let payload = common::webhook::pull_request_event(
        "edited",
        &common::webhook::PrSpec::from_seed(
            REPO,
            &h.gh.pull(REPO, pull.number).expect("seeded"),
            1,
        ),
    );
    h.deliver("pull_request", &payload).await;
    h.settle().await;

    let runs: Vec<_> =
        h.gh.check_runs(REPO, HEAD_SHA)
            .into_iter()
            .filter(|r| r.name == "hotfix-policy")
            .map(|r| (r.conclusion.clone(), r.title.clone()))
            .collect();
    assert!(
        runs.iter().all(|(c, _)| c.as_deref() == Some("failure")),
        "{runs:#?}"
    );
    assert_eq!(runs.len(), 1, "{runs:#?}");
}
