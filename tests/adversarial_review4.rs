//! Fourth adversarial review of issue 9 (fail closed). As the other review
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
    approved_p0_titled, assert_the_follow_up_is_opened_and_named, comment, escalations, merge,
    p0_changed, p0_titled, posts_of_level, refuse_comment_posts, sticky, text_concluded, text_of,
};
use common::fake_github::PullSeed;
use common::harness::{HEAD_SHA, Harness, POLICY, REPO};

const MERGE_SHA: &str = "m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3";

/// The harness's P0 under `policy` (hotfix + P0 applied by dana, a
/// writer) by erin, its author, who has read access only; the clock at
/// its opening.
async fn p0_by_erin(policy: &str) -> (Harness, PullSeed) {
    let (h, pull) = p0_changed(policy, |p| PullSeed {
        author: "erin".into(),
        ..p
    })
    .await;
    h.gh.set_permission(REPO, "erin", "read");
    h.clock.set(pull.created_at);
    (h, pull)
}

// ---- Markers carried into the app's own comment by the author's title ----

/// The author titles the pull request with the sticky comment's follow-up
/// marker. The app quotes the title in the P0 initial alert it fills in
/// inside its own sticky comment, so the app's own comment now carries
/// `<!-- hotfix-guard:follow-up #999 -->` before any real one. After the
/// merge, the follow-up issue the procedure asks for must still be opened
/// (and the sticky comment must name it, not #999).
#[tokio::test]
async fn a_follow_up_marker_in_the_title_does_not_stop_the_follow_up_issue() {
    follow_up_after_merge("fix: stop the login loop <!-- hotfix-guard:follow-up #999 -->").await;
}

/// The same without the marker in the title: the follow-up is opened.
#[tokio::test]
async fn with_a_plain_title_the_follow_up_issue_is_opened() {
    follow_up_after_merge("fix: stop the login loop").await;
}

async fn follow_up_after_merge(title: &str) {
    let (h, pull) = approved_p0_titled(title).await;
    assert!(
        sticky(&h, pull.number).contains("fix: stop the login loop"),
        "precondition: the app quotes the title in its own comment"
    );

    // A writer merges it.
    merge(&h, pull.number, MERGE_SHA).await;

    let sticky = assert_the_follow_up_is_opened_and_named(&h, pull.number);
    assert!(!sticky.contains("Post-incident review: [#999]"), "{sticky}");
}

/// The author titles the unapproved P0 with the escalation marker; its
/// deadline passes and the escalation comment cannot be written the first
/// time (a triage user locked the conversation: GitHub answers 403
/// "Unable to create comment because issue is locked."; any failed write
/// does the same). Once the conversation is unlocked, the next sweep must
/// post the escalation: the marker the title put into the app's own sticky
/// comment must not pass for the escalation comment.
#[tokio::test]
async fn an_escalation_marker_in_the_title_does_not_pass_for_an_interrupted_escalation() {
    interrupted_escalation("fix: stop the login loop <!-- hotfix-guard:escalation level=1 -->")
        .await;
}

/// The same without the marker: the interrupted escalation is posted by
/// the next sweep.
#[tokio::test]
async fn with_a_plain_title_an_interrupted_escalation_is_posted_by_the_next_sweep() {
    interrupted_escalation("fix: stop the login loop").await;
}

async fn interrupted_escalation(title: &str) {
    let (h, pull) = p0_titled(title).await;
    h.pull_request("opened", pull.number).await;
    text_concluded(&h, HEAD_SHA, "failure");
    assert!(
        sticky(&h, pull.number).contains("fix: stop the login loop"),
        "precondition: the app quotes the title in its own comment"
    );
    assert_eq!(h.app.engine.watched().await, 1);

    h.clock.advance(Duration::minutes(130));
    refuse_comment_posts(&h, pull.number, 1);
    h.app.engine.sweep().await;
    assert_eq!(escalations(&h, pull.number), 0, "locked: nothing written");

    // Unlocked: the next sweeps post the escalation, once.
    h.app.engine.sweep().await;
    h.app.engine.sweep().await;
    assert_eq!(
        escalations(&h, pull.number),
        1,
        "the escalation is posted once"
    );
}

// ---- Locking the conversation, by a triage user ---------------------------

/// A triage user locks the unapproved P0's conversation (triage may lock
/// conversations). GitHub refuses comments from apps on a locked issue
/// (403 "Unable to create comment because issue is locked.", as Renovate
/// and Probot's stale app met it), so the escalation comment cannot be
/// posted however often the sweep tries. The escalation must not vanish
/// silently: the required check must say it could not be posted and why.
#[tokio::test]
async fn locking_the_conversation_does_not_silently_swallow_the_escalation() {
    let (h, pull) = p0_titled("fix: stop the login loop").await;
    h.pull_request("opened", pull.number).await;
    refuse_comment_posts(&h, pull.number, 1000);
    h.clock.advance(Duration::minutes(130));
    for _ in 0..3 {
        h.app.engine.sweep().await;
    }
    h.pull_request("edited", pull.number).await;
    assert_eq!(escalations(&h, pull.number), 0);
    let text = text_concluded(&h, HEAD_SHA, "failure");
    assert!(text.contains("locked"), "{text}");
}

// ---- The merge-back pull request, by a triage user ------------------------

fn merge_back_run(h: &Harness) -> common::fake_github::CheckRunRec {
    h.gh.check_runs(REPO, MERGE_SHA)
        .into_iter()
        .find(|r| r.name == "hotfix-policy/merge-back")
        .expect("the merge-back check")
}

/// After the merge, a triage user loops the merge-back pull request
/// (close, reopen, close again), then relabels it (removes `merge-back`,
/// adds `hotfix` and `P0`). The merge-back check must never say
/// `success` for a merge-back that did not happen, must name the last
/// closer, and the app must not open merge-back pull requests behind them.
#[tokio::test]
async fn a_triage_user_looping_and_relabelling_the_merge_back_never_makes_it_pass() {
    let (h, pull) = common::attacks::merged_approved_p0(POLICY, MERGE_SHA).await;
    h.gh.set_permission(REPO, "trina", "triage");
    h.pull_request("closed", pull.number).await;
    let merge_backs = |h: &Harness| -> Vec<PullSeed> {
        h.gh.pulls(REPO)
            .into_iter()
            .filter(|p| p.head_ref == "hotfix-guard/merge-back-7")
            .collect()
    };
    let mb = merge_backs(&h)[0].number;
    assert_eq!(
        merge_back_run(&h).title.as_deref(),
        Some(format!("Waiting for #{mb} to merge into develop").as_str())
    );

    for (state, event) in [
        ("closed", "closed"),
        ("open", "reopened"),
        ("closed", "closed"),
    ] {
        h.gh.update_pull(REPO, mb, |p| p.state = state.into());
        h.gh.add_state_event(REPO, mb, event, "trina", chrono::Utc::now());
        h.pull_request(event, mb).await;
        let run = merge_back_run(&h);
        assert_ne!(
            run.conclusion.as_deref(),
            Some("success"),
            "{}",
            text_of(&run)
        );
    }
    h.gh.set_labels(REPO, mb, &["hotfix", "P0"]);
    h.gh.add_label_event(REPO, mb, "merge-back", "trina", false, chrono::Utc::now());
    h.gh.add_label_event(REPO, mb, "hotfix", "trina", true, chrono::Utc::now());
    h.gh.add_label_event(REPO, mb, "P0", "trina", true, chrono::Utc::now());
    h.pull_request("labeled", mb).await;
    h.pull_request("closed", pull.number).await;

    assert_eq!(
        merge_backs(&h).len(),
        1,
        "no merge-back opened behind trina"
    );
    let run = merge_back_run(&h);
    let text = text_of(&run);
    assert_eq!(run.conclusion.as_deref(), Some("failure"), "{text}");
    assert!(
        text.contains(&format!(
            "#{mb} was closed without merging: merge the hotfix into develop"
        )) && text.contains(&format!(
            "was closed by @trina without merging. Reopen #{mb} and merge it"
        )),
        "{text}"
    );
}

// ---- Deliveries out of order, by the author -------------------------------

/// The author without write access closes their own unapproved P0 and
/// reopens it at once; GitHub delivers `reopened` before `closed` (it
/// does not order deliveries). The late `closed` delivery must not take
/// the pull request off the deadline watch: the escalation is posted once
/// at the deadline, and the check does not say it is closed.
#[tokio::test]
async fn a_close_delivered_after_its_reopen_does_not_stop_the_escalation() {
    let (h, pull) = p0_by_erin(POLICY).await;
    h.pull_request("opened", pull.number).await;

    h.gh.add_state_event(REPO, pull.number, "closed", "erin", chrono::Utc::now());
    h.gh.add_state_event(REPO, pull.number, "reopened", "erin", chrono::Utc::now());
    h.pull_request("reopened", pull.number).await;
    // The `closed` delivery, late, still describes a closed pull request.
    let seed = h.gh.pull(REPO, pull.number).expect("seeded");
    let mut payload = common::webhook::pull_request_event(
        "closed",
        &common::webhook::PrSpec::from_seed(
            REPO,
            &PullSeed {
                state: "closed".into(),
                ..seed
            },
            1,
        ),
    );
    payload["pull_request"]["state"] = "closed".into();
    h.deliver("pull_request", &payload).await;
    h.settle().await;

    let text = text_concluded(&h, HEAD_SHA, "failure");
    assert!(!text.contains("Closed without merging"), "{text}");
    assert_eq!(h.app.engine.watched().await, 1);
    h.clock.advance(Duration::minutes(130));
    assert_eq!(h.app.engine.sweep().await, 1, "the escalation is posted");
    assert_eq!(h.app.engine.sweep().await, 0);
    assert_eq!(escalations(&h, pull.number), 1);
}

// ---- Approvals that are not what they look like ---------------------------

/// The author comments `/hotfix approve` (which never counts for them);
/// the engineering lead and the on-call manager quote-reply to it to say
/// no. A quoted command, or one in a code block, is not an approval.
#[tokio::test]
async fn a_quoted_or_fenced_approve_command_by_a_role_member_is_not_an_approval() {
    let (h, pull) = p0_titled("fix: stop the login loop").await;
    h.pull_request("opened", pull.number).await;
    let at = pull.created_at + Duration::minutes(10);
    comment(&h, pull.number, "dana", "/hotfix approve", at).await;
    comment(
        &h,
        pull.number,
        "alice",
        "> /hotfix approve\n\nNot until the staging run is green.",
        at + Duration::minutes(1),
    )
    .await;
    comment(
        &h,
        pull.number,
        "oncall-olga",
        "Reviewers: please don't type\n```\n/hotfix approve\n```\nyet.",
        at + Duration::minutes(2),
    )
    .await;
    let text = text_concluded(&h, HEAD_SHA, "failure");
    assert!(
        text.contains("engineering-lead: missing; on-call-manager: missing"),
        "{text}"
    );
}

/// On a P2 (one approval from anyone with write access), an app's bot
/// account with write access (e.g. a workflow that echoes text the author
/// controls) comments `/hotfix approve`: it is not a person and must not
/// count. The same command from bob, a person with write access, passes.
#[tokio::test]
async fn a_bot_accounts_approve_command_does_not_count() {
    let (conclusion, text) = p2_approved_by("github-actions[bot]").await;
    assert_eq!(conclusion.as_deref(), Some("failure"), "{text}");
    assert!(
        text.contains("@github-actions[bot] is not a person's account (GitHub says an app or a deleted user); its approval does not count"),
        "{text}"
    );
    let (conclusion, text) = p2_approved_by("bob").await;
    assert_eq!(conclusion.as_deref(), Some("success"), "{text}");
}

async fn p2_approved_by(login: &str) -> (Option<String>, String) {
    let (h, pull) = p0_changed(POLICY, |p| PullSeed {
        labels: vec!["hotfix".into(), "P2".into()],
        ..p
    })
    .await;
    h.gh.set_permission(REPO, login, "write");
    h.clock.set(pull.created_at);
    h.pull_request("opened", pull.number).await;
    comment(
        &h,
        pull.number,
        login,
        "/hotfix approve",
        pull.created_at + Duration::minutes(10),
    )
    .await;
    let run = h.check(HEAD_SHA);
    (run.conclusion.clone(), text_of(&run))
}

// ---- Close and reopen around the deadline sweep, by the author -------------

/// Two levels (the second 4h after the severity). The author without
/// write access closes their unapproved P0 an hour in; the sweep runs past
/// the deadline while it is closed; the author reopens it; later sweeps
/// run past the second level. Each level is posted once, at its time,
/// and neither the close nor the reopen silences or repeats one.
#[tokio::test]
async fn the_authors_close_and_reopen_around_the_sweeps_neither_silence_nor_repeat_a_level() {
    let (h, pull) = p0_by_erin(&common::attacks::two_level_policy()).await;
    h.pull_request("opened", pull.number).await;

    h.clock.advance(Duration::minutes(60));
    h.gh.update_pull(REPO, pull.number, |p| p.state = "closed".into());
    h.gh.add_state_event(REPO, pull.number, "closed", "erin", chrono::Utc::now());
    h.pull_request("closed", pull.number).await;
    let text = text_of(&h.check(HEAD_SHA));
    assert!(
        text.contains("Closed without merging by @erin at ")
            && text.contains(", who lacks write access: escalation continues"),
        "{text}"
    );

    h.clock.advance(Duration::minutes(70));
    assert_eq!(h.app.engine.sweep().await, 1, "level 1 while closed");
    h.clock.advance(Duration::minutes(50));
    h.gh.update_pull(REPO, pull.number, |p| p.state = "open".into());
    h.gh.add_state_event(REPO, pull.number, "reopened", "erin", chrono::Utc::now());
    h.pull_request("reopened", pull.number).await;
    assert_eq!(h.app.engine.sweep().await, 0, "nothing new is due at 3h");
    assert_eq!(posts_of_level(&h, pull.number, 1), 1);
    assert_eq!(posts_of_level(&h, pull.number, 2), 0);

    h.clock.advance(Duration::minutes(70));
    assert_eq!(h.app.engine.sweep().await, 1, "level 2 at 4h");
    assert_eq!(h.app.engine.sweep().await, 0);
    assert_eq!(posts_of_level(&h, pull.number, 1), 1);
    assert_eq!(posts_of_level(&h, pull.number, 2), 1);
}

/// A P2 approved by bob (one writer's approval) passes; a triage user
/// locks its conversation, so every comment write of the app is refused
/// (403 "Unable to create comment because issue is locked."). A writer
/// then raises the severity to P0 (two role approvals). The lock must not
/// freeze a stale `success`: the check fails.
#[tokio::test]
async fn a_locked_conversation_does_not_freeze_a_stale_success() {
    let (conclusion, text) = raised_to_p0_while_locked().await;
    assert_eq!(conclusion.as_deref(), Some("failure"), "{text}");
}

/// The same: the check should give the verdict (P0 needs both roles) and
/// name the lock, not "the evaluation failed … the app may lack a
/// permission" after five tries.
#[tokio::test]
async fn a_locked_conversation_still_gives_the_verdict_and_names_the_lock() {
    let (conclusion, text) = raised_to_p0_while_locked().await;
    assert_eq!(conclusion.as_deref(), Some("failure"), "{text}");
    assert!(
        text.contains("needs engineering-lead and on-call-manager approval")
            && text.contains("locked"),
        "{text}"
    );
}

async fn raised_to_p0_while_locked() -> (Option<String>, String) {
    let (h, pull) = common::attacks::p2_approved_by_bob().await;
    h.gh.set_permission(REPO, "trina", "triage");
    common::attacks::refuse_comment_writes(&h, 1000);
    common::attacks::raise_to_p0(&h, &pull).await;

    let run = h.check(HEAD_SHA);
    (run.conclusion.clone(), text_of(&run))
}
