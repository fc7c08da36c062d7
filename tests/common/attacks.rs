//! Arrange steps the adversarial and fail-closed tests share: the harness's
//! P0 as an attacker finds it, the deliveries GitHub sends for what an
//! author or a triage user does, and the check run's full text to assert
//! the wording of a reason on. Each step only arranges or delivers; what a
//! test asserts stays in the test.

use axum::http::StatusCode;
use chrono::{DateTime, Utc};

use super::fake_github::{CheckRunRec, PullSeed};
use super::harness::{HEAD_SHA, Harness, POLICY, REPO};
use super::webhook::{self, PrSpec};

/// The check run's title, summary and text, one per line (empty when
/// unset): a reason may be worded in any of them.
pub fn text_of(run: &CheckRunRec) -> String {
    format!(
        "{}\n{}\n{}",
        run.title.clone().unwrap_or_default(),
        run.summary.clone().unwrap_or_default(),
        run.text.clone().unwrap_or_default()
    )
}

/// The harness's P0 (#7 on `hotfix/…`, labelled `hotfix` and `P0`) seeded
/// under `policy`, both labels applied by dana, who has write access.
pub async fn p0_under(policy: &str) -> (Harness, PullSeed) {
    p0_changed(policy, |pull| pull).await
}

/// `p0_under(policy)` with the harness's P0 changed by `change` before it
/// is seeded (another branch, other labels, merged): the labels it ends
/// up with are applied by dana.
pub async fn p0_changed(
    policy: &str,
    change: impl FnOnce(PullSeed) -> PullSeed,
) -> (Harness, PullSeed) {
    let h = Harness::start().await;
    let pull = change(h.p0());
    h.seed(policy, &pull);
    h.label_events_by(&pull, "dana");
    (h, pull)
}

/// `p0_under(POLICY)`, plus `trina` with triage access (GitHub's
/// `permission` field says `read` for it) and the clock at the pull
/// request's opening. `bob` is a writer in no role.
pub async fn p0() -> (Harness, PullSeed) {
    let (h, pull) = p0_under(POLICY).await;
    h.gh.set_permission(REPO, "trina", "triage");
    h.clock.set(pull.created_at);
    (h, pull)
}

/// Escalation comments the app posted on `number`, at any level.
pub fn escalations(h: &Harness, number: u64) -> usize {
    h.bot_comments(number)
        .into_iter()
        .filter(|c| c.body.starts_with("<!-- hotfix-guard:escalation level="))
        .count()
}

/// A `pull_request` delivery for `number` as GitHub sends it for a head in
/// the fork `mallory/app`; waits for the evaluation.
pub async fn fork_delivery(h: &Harness, action: &str, number: u64) {
    let mut payload = webhook::pull_request_event(
        action,
        &PrSpec::from_seed(REPO, &h.gh.pull(REPO, number).expect("pull"), 1),
    );
    payload["pull_request"]["head"]["repo"]["full_name"] = "mallory/app".into();
    assert_eq!(
        h.deliver("pull_request", &payload).await,
        StatusCode::ACCEPTED
    );
    h.settle().await;
}

/// `/hotfix approve` commented by `user` on `number` at `at`, and the
/// `issue_comment` delivery GitHub sends for it; waits for the evaluation.
pub async fn approve_by_comment(h: &Harness, number: u64, user: &str, at: DateTime<Utc>) {
    let id =
        h.gh.add_comment_at(REPO, number, user, "/hotfix approve", at);
    let payload =
        webhook::issue_comment_event("created", REPO, number, user, "/hotfix approve", id, 1);
    assert_eq!(
        h.deliver("issue_comment", &payload).await,
        StatusCode::ACCEPTED
    );
    h.settle().await;
}

/// A `labeled`/`unlabeled` delivery for `label` on `number` as GitHub
/// sends it (the fake's labels and events are the test's to set); waits
/// for the evaluation.
pub async fn label_delivery(h: &Harness, number: u64, action: &str, label: &str) {
    let spec = PrSpec::from_seed(REPO, &h.gh.pull(REPO, number).expect("pull"), 1);
    let payload = webhook::pull_request_label_event(action, &spec, label);
    assert_eq!(
        h.deliver("pull_request", &payload).await,
        StatusCode::ACCEPTED
    );
    h.settle().await;
}

/// Approving reviews on `sha` from both roles the harness's P0 needs:
/// alice (engineering lead) and oncall-olga (on-call manager).
pub fn approved_by_both_roles(h: &Harness, number: u64, sha: &str) {
    h.gh.add_review(REPO, number, "alice", "APPROVED", sha);
    h.gh.add_review(REPO, number, "oncall-olga", "APPROVED", sha);
}

/// `label_delivery` for an evaluation that reads hundreds of pages (a
/// flooded timeline or events list): waits until the check run on the
/// harness's head is written again and the evaluations finish, since that
/// may take longer in a debug build than `settle` waits (5 min at most).
pub async fn label_delivery_slow(h: &Harness, number: u64, action: &str, label: &str) {
    let before = h.check(HEAD_SHA).update_count;
    let spec = PrSpec::from_seed(REPO, &h.gh.pull(REPO, number).expect("pull"), 1);
    let payload = webhook::pull_request_label_event(action, &spec, label);
    assert_eq!(
        h.deliver("pull_request", &payload).await,
        StatusCode::ACCEPTED
    );
    let started = std::time::Instant::now();
    while started.elapsed() < std::time::Duration::from_secs(300)
        && h.check(HEAD_SHA).update_count == before
    {
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    }
    tokio::time::timeout(std::time::Duration::from_secs(300), h.app.idle())
        .await
        .expect("evaluations finish");
}
