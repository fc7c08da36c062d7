//! Arrange steps of the tests in which a file the author controls at the
//! head (`VERSION`, the policy file) is answered with something other than
//! a readable text file (`tests/adversarial_review14.rs`,
//! `tests/unreadable_head_files.rs`): another hotfix on the same base
//! evaluated first, so that the base's copies are read and kept and only
//! the head's copy is asked for later; the fake's answer for that file;
//! and the outcome those tests share: the P0's deadline still watched and
//! escalated.

use chrono::Duration;
use serde_json::Value;

use super::attacks::{escalations, p0_with};
use super::fake_github::PullSeed;
use super::harness::{Harness, POLICY, POLICY_PATH, REPO};

/// Another hotfix on `pull`'s base, #8 from `hotfix/other` (head
/// `h8h8…`), labelled `hotfix` and `P2` by dana, open and unmerged
/// whatever `pull` is, its head `VERSION` `1.2.4` and its changed files
/// `src/other.rs` and `VERSION`. Opened and evaluated: the base's
/// `VERSION` and the policy in force (main's) are read and kept by the
/// app. Answers #8 as seeded.
pub async fn another_hotfix_evaluated_first(h: &Harness, pull: &PullSeed) -> PullSeed {
    let other = PullSeed {
        number: 8,
        head_ref: "hotfix/other".into(),
        head_sha: "h8h8h8h8h8h8h8h8h8h8h8h8h8h8h8h8h8h8h8h8".into(),
        labels: vec!["hotfix".into(), "P2".into()],
        state: "open".into(),
        merged: false,
        merge_commit_sha: None,
        merged_by: None,
        merged_at: None,
        ..pull.clone()
    };
    h.gh.add_pull(REPO, other.clone());
    h.gh.set_file(REPO, &other.head_sha, "VERSION", "1.2.4\n");
    h.gh.set_pull_files(REPO, 8, [("src/other.rs", 1, 1), ("VERSION", 1, 1)]);
    h.label_events_by(&other, "dana");
    h.pull_request("opened", 8).await;
    other
}

/// The fake answers the next 100 reads of `path` (`GET …/contents/{path}`,
/// at any ref) `200` with `answer` as the body: a directory listing, a
/// symlink, a file whose bytes are not UTF-8, one too large to send.
pub fn file_answered_with(h: &Harness, path: &str, answer: Value) {
    h.gh.fail_next_with_body(
        "GET",
        &format!("/contents/{path}"),
        200,
        Vec::new(),
        answer,
        100,
    );
}

/// The harness's P0 (#7, `p0_with`: labels by dana, trina triage, the clock
/// at the opening); when `path` is the policy file, #7 also changes it
/// (the head's copy: the harness's policy; changed files `src/fix.rs`,
/// `VERSION` and the policy). Then `another_hotfix_evaluated_first`; with
/// `answer`, `file_answered_with(path, answer)`; the fake's request log
/// cleared; #7 opened and evaluated. Asserts nothing; answers the harness
/// and #7.
pub async fn p0_with_head_answer(path: &str, answer: Option<Value>) -> (Harness, PullSeed) {
    let (h, pull) = p0_with(|pull| pull).await;
    if path == POLICY_PATH {
        h.gh.set_file(REPO, &pull.head_sha, path, POLICY);
        h.gh.set_pull_files(
            REPO,
            pull.number,
            [("src/fix.rs", 3, 1), ("VERSION", 1, 1), (path, 1, 0)],
        );
    }
    another_hotfix_evaluated_first(&h, &pull).await;
    if let Some(answer) = answer {
        file_answered_with(&h, path, answer);
    }
    h.gh.clear_requests();
    h.pull_request("opened", pull.number).await;
    (h, pull)
}

/// Asserts that #`number`'s deadline is watched (one watch in the engine)
/// and that the sweep 125 minutes on (the clock advanced: past a P0's two
/// hours) posts exactly one escalation on it; `text` (the check run's)
/// goes into each failure message.
pub async fn assert_watched_and_escalated(h: &Harness, number: u64, text: &str) {
    assert_eq!(
        h.app.engine.watched().await,
        1,
        "the P0's deadline is watched: {text}"
    );
    h.clock.advance(Duration::minutes(125));
    assert_eq!(h.app.engine.sweep().await, 1, "{text}");
    assert_eq!(escalations(h, number), 1, "{text}");
}
