//! Fifth adversarial review of issue 9 (fail closed). As the other review
//! files: each test plays what only a pull request's author (write access
//! to their own fork, none on the base repository) or a user with triage
//! access (labels, close, reopen, lock; no push, no merge) can do, through
//! signed deliveries to the real router and the real client talking to the
//! fake GitHub, and asserts the SAFE outcome (conclusion and wording). A
//! passing test is an attack that failed; a test marked
//! `#[ignore = "finding: …"]` is an attack that worked (see its comment).

mod common;

use chrono::Duration;
use common::fake_github::{BOT_LOGIN, PullSeed};
use common::harness::{HEAD_SHA, Harness, POLICY, REPO};

const MERGE_SHA: &str = "m5m5m5m5m5m5m5m5m5m5m5m5m5m5m5m5m5m5m5m5";
const NEW_HEAD: &str = "n5n5n5n5n5n5n5n5n5n5n5n5n5n5n5n5n5n5n5n5";

fn text_of(run: &common::fake_github::CheckRunRec) -> String {
    format!(
        "{}\n{}\n{}",
        run.title.clone().unwrap_or_default(),
        run.summary.clone().unwrap_or_default(),
        run.text.clone().unwrap_or_default()
    )
}

fn sticky(h: &Harness, number: u64) -> String {
    h.bot_comments(number)
        .into_iter()
        .find(|c| c.body.starts_with("<!-- hotfix-guard -->"))
        .map(|c| c.body)
        .expect("the sticky comment")
}

fn posts_of_level(h: &Harness, number: u64, level: u8) -> usize {
    let marker = format!("<!-- hotfix-guard:escalation level={level} -->");
    h.bot_comments(number)
        .into_iter()
        .filter(|c| c.body.starts_with(&marker))
        .count()
}

/// GitHub's answer to a comment on a locked conversation.
fn locked_body() -> serde_json::Value {
    serde_json::json!({
        "message": "Unable to create comment because issue is locked.",
        "documentation_url": "https://docs.github.com/articles/locking-conversations/"
    })
}

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
    for method in ["POST", "PATCH"] {
        h.gh.fail_next_with_body(method, "/comments", 403, Vec::new(), locked_body(), 100_000);
    }
}

/// A maintainer unlocks #`number`.
fn unlock(h: &Harness, number: u64) {
    h.gh.update_pull(REPO, number, |p| {
        p.locked = false;
        p.active_lock_reason = None;
    });
}

// ---- Markers carried into the app's own comment by a version file -------

/// The author writes the escalation and follow-up markers into the head's
/// `VERSION` (a file only they control, on their own branch), each on a
/// line of its own. The version rule quotes what it read in the sticky
/// comment. After an administrator merges past the check, the follow-up
/// issue must still be opened and named (not #999).
#[tokio::test]
async fn markers_in_the_heads_version_file_do_not_stop_the_follow_up_issue() {
    follow_up_with_version(
        "1.2.4 <!-- hotfix-guard:follow-up #999 -->\n<!-- hotfix-guard:follow-up #999 -->\n",
    )
    .await;
}

/// The same with a plain version: the follow-up is opened.
#[tokio::test]
async fn with_a_plain_version_file_the_follow_up_issue_is_opened() {
    follow_up_with_version("1.2.4\n").await;
}

async fn follow_up_with_version(version: &str) {
    let h = Harness::start().await;
    let pull = h.p0();
    h.seed(POLICY, &pull);
    h.gh.set_file(REPO, HEAD_SHA, "VERSION", version);
    h.label_events_by(&pull, "dana");
    h.clock.set(pull.created_at);
    h.gh.add_review(REPO, pull.number, "alice", "APPROVED", HEAD_SHA);
    h.gh.add_review(REPO, pull.number, "oncall-olga", "APPROVED", HEAD_SHA);
    h.pull_request("opened", pull.number).await;
    if version.contains("999") {
        let run = h.check(HEAD_SHA);
        assert_eq!(run.conclusion.as_deref(), Some("failure"), "{}", text_of(&run));
        let sticky = sticky(&h, pull.number);
        assert!(
            sticky.contains("hotfix-guard:follow-up #999"),
            "precondition: the app quotes the version file in its own comment: {sticky}"
        );
    }

    // An administrator merges it (past the check, if it failed).
    h.gh.update_pull(REPO, pull.number, |p| {
        p.state = "closed".into();
        p.merged = true;
        p.merge_commit_sha = Some(MERGE_SHA.into());
        p.merged_by = Some("alice".into());
        p.merged_at = Some(chrono::Utc::now());
    });
    h.pull_request("closed", pull.number).await;

    let opened: Vec<_> =
        h.gh.issues(REPO)
            .into_iter()
            .filter(|i| i.user == BOT_LOGIN)
            .collect();
    let sticky = sticky(&h, pull.number);
    assert_eq!(opened.len(), 1, "the app opens the follow-up issue: {sticky}");
    assert!(
        sticky.contains(&format!("Post-incident review: [#{}]", opened[0].number)),
        "{sticky}"
    );
    assert!(!sticky.contains("Post-incident review: [#999]"), "{sticky}");
}
