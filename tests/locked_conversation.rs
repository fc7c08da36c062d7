//! A conversation locked by a triage user, as GitHub reports it: `locked`
//! and `active_lock_reason` on the pull request (`GET .../pulls/{n}`), and
//! 403 "Unable to create comment because issue is locked." to the app's
//! comments. The app must not try the sticky comment, must keep the verdict
//! on the check run and name the lock and the escalation it holds back.

use crate::common;

use chrono::Duration;
use common::attacks::{p0_under, posts_of_level, refuse_comment_writes, text_concluded, text_of};
use common::fake_github::PullSeed;
use common::harness::{HEAD_SHA, Harness, POLICY, REPO};

/// The harness's P0 (labels by dana, unapproved) with the clock at its
/// opening, opened.
async fn opened_p0() -> (Harness, PullSeed) {
    let (h, pull) = p0_under(POLICY).await;
    h.clock.set(pull.created_at);
    h.pull_request("opened", pull.number).await;
    (h, pull)
}

/// The comment writes the app sent (creating or editing), as `METHOD path`.
fn comment_writes(h: &Harness) -> Vec<String> {
    h.gh.requests()
        .into_iter()
        .filter(|r| r.method != "GET" && r.path.contains("/comments"))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

#[tokio::test]
async fn a_locked_pull_request_keeps_its_verdict_names_the_lock_and_the_held_escalation() {
    let (h, pull) = opened_p0().await;
    assert_eq!(h.bot_comments(pull.number).len(), 1, "the sticky comment");

    // A triage user locks the conversation: GitHub says so on the pull
    // request and refuses the app's comments.
    h.gh.update_pull(REPO, pull.number, |p| {
        p.locked = true;
        p.active_lock_reason = Some("too heated".into());
    });
    refuse_comment_writes(&h, 1000);
    let before = comment_writes(&h).len();

    // The deadline passes; the sweep's escalation is refused.
    h.clock.advance(Duration::minutes(130));
    h.app.engine.sweep().await;
    h.pull_request("edited", pull.number).await;

    let text = text_concluded(&h, HEAD_SHA, "failure");
    assert!(
        text.contains("The conversation on this pull request is locked (reason: too heated), so hotfix-guard cannot post its comment or escalations there"),
        "{text}"
    );
    assert!(text.contains("A maintainer can unlock it"), "{text}");
    assert!(
        text.contains("Escalation level 1 is due and could not be posted.** It would have mentioned @acme/incident-commanders"),
        "{text}"
    );
    assert!(!text.contains("could not evaluate"), "{text}");
    // Knowing the lock from GitHub's `locked`, neither the sweep nor the
    // evaluation sent a comment GitHub would refuse.
    let writes = comment_writes(&h);
    assert!(writes[before..].is_empty(), "{writes:?}");
}

/// While GitHub says the conversation is locked the sweep sends nothing
/// (this fake would even accept the comment, so only the app's reading of
/// `locked` holds it back); once a maintainer unlocks it, the next sweep
/// posts the escalation, once, and the check run stops naming the lock.
#[tokio::test]
async fn unlocking_lets_the_next_sweep_post_the_held_escalation_once() {
    let (h, pull) = opened_p0().await;
    h.gh.update_pull(REPO, pull.number, |p| p.locked = true);
    h.clock.advance(Duration::minutes(130));
    h.app.engine.sweep().await;
    h.app.engine.sweep().await;
    let escalations = |h: &Harness| posts_of_level(h, pull.number, 1);
    assert_eq!(escalations(&h), 0, "held back while locked");
    h.pull_request("edited", pull.number).await;
    let text = text_of(&h.check(HEAD_SHA));
    assert!(
        text.contains(
            "The conversation on this pull request is locked, so hotfix-guard cannot post"
        ) && text.contains("Escalation level 1 is due and could not be posted"),
        "{text}"
    );

    h.gh.update_pull(REPO, pull.number, |p| p.locked = false);
    h.app.engine.sweep().await;
    h.app.engine.sweep().await;
    assert_eq!(escalations(&h), 1, "posted once after the unlock");
    h.pull_request("edited", pull.number).await;
    let text = text_concluded(&h, HEAD_SHA, "failure");
    assert!(!text.contains("locked"), "{text}");
}
