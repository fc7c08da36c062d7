//! Arrange steps the adversarial and fail-closed tests share: the harness's
//! P0 as an attacker finds it, the deliveries GitHub sends for what an
//! author or a triage user does, and the check run's full text to assert
//! the wording of a reason on. Each step only arranges or delivers; what a
//! test asserts stays in the test.

use axum::http::StatusCode;
use chrono::{DateTime, Utc};

use super::fake_github::{BOT_LOGIN, CheckRunRec, PullSeed};
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

/// Delivers `payload` as GitHub's `event` (signed, a fresh delivery id:
/// `Harness::deliver`), asserts it was accepted (202) and waits for the
/// evaluations it started (`Harness::settle`).
pub async fn delivered(h: &Harness, event: &str, payload: &serde_json::Value) {
    assert_eq!(h.deliver(event, payload).await, StatusCode::ACCEPTED);
    h.settle().await;
}

/// The full text (`text_of`) of the check run on `sha`, asserted to have
/// concluded `conclusion` (`success`, `failure`); the text goes into the
/// assertion's message.
pub fn text_concluded(h: &Harness, sha: &str, conclusion: &str) -> String {
    let run = h.check(sha);
    let text = text_of(&run);
    assert_eq!(run.conclusion.as_deref(), Some(conclusion), "{text}");
    text
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
    p0_with(|pull| pull).await
}

/// `p0()` with the harness's P0 changed by `change` before it is seeded,
/// as `p0_changed` does.
pub async fn p0_with(change: impl FnOnce(PullSeed) -> PullSeed) -> (Harness, PullSeed) {
    let (h, pull) = p0_changed(POLICY, change).await;
    h.gh.set_permission(REPO, "trina", "triage");
    h.clock.set(pull.created_at);
    (h, pull)
}

/// `p0()` with the title the author chose.
pub async fn p0_titled(title: &str) -> (Harness, PullSeed) {
    p0_with(|pull| PullSeed {
        title: title.into(),
        ..pull
    })
    .await
}

/// `p0_titled(title)` approved on its head by both roles and opened; the
/// check passes (asserted, as a precondition).
pub async fn approved_p0_titled(title: &str) -> (Harness, PullSeed) {
    approved_p0_with(|pull| PullSeed {
        title: title.into(),
        ..pull
    })
    .await
}

/// `p0_with(change)` approved on its head by both roles and opened; the
/// check passes (asserted, as a precondition).
pub async fn approved_p0_with(change: impl FnOnce(PullSeed) -> PullSeed) -> (Harness, PullSeed) {
    let (h, pull) = p0_with(change).await;
    approved_by_both_roles(&h, pull.number, HEAD_SHA);
    h.pull_request("opened", pull.number).await;
    assert_eq!(h.check(HEAD_SHA).conclusion.as_deref(), Some("success"));
    (h, pull)
}

/// The harness's P0 relabelled P2 (one approval from anyone with write
/// access; labels by dana), approved by bob on its head, the clock at its
/// opening, and opened: the check passes (asserted, as a precondition).
pub async fn p2_approved_by_bob() -> (Harness, PullSeed) {
    let (h, pull) = p0_changed(POLICY, |pull| PullSeed {
        labels: vec!["hotfix".into(), "P2".into()],
        ..pull
    })
    .await;
    h.gh.add_review(REPO, pull.number, "bob", "APPROVED", HEAD_SHA);
    h.clock.set(pull.created_at);
    h.pull_request("opened", pull.number).await;
    assert_eq!(h.check(HEAD_SHA).conclusion.as_deref(), Some("success"));
    (h, pull)
}

/// The harness's P0 under `policy` already merged by alice as
/// `merge_sha` (closed, `merged`), labelled by dana and approved on its
/// head by both roles; nothing delivered yet.
pub async fn merged_approved_p0(policy: &str, merge_sha: &str) -> (Harness, PullSeed) {
    let (h, pull) = p0_changed(policy, |pull| merged_by_alice(pull, merge_sha)).await;
    approved_by_both_roles(&h, pull.number, HEAD_SHA);
    (h, pull)
}

/// `pull` as GitHub answers it once alice merged it as `merge_sha`:
/// closed, `merged`, `merge_commit_sha` and `merged_by` set (`merged_at`
/// left as seeded).
pub fn merged_by_alice(pull: PullSeed, merge_sha: &str) -> PullSeed {
    PullSeed {
        state: "closed".into(),
        merged: true,
        merge_commit_sha: Some(merge_sha.into()),
        merged_by: Some("alice".into()),
        ..pull
    }
}

/// The harness's policy with its first `from` replaced by `to`; asserts
/// that `from` was there (a change of the harness's policy must not make
/// the edit a no-op).
pub fn policy_with(from: &str, to: &str) -> String {
    let changed = POLICY.replacen(from, to, 1);
    assert_ne!(changed, POLICY, "the harness's policy has {from:?}");
    changed
}

/// The harness's policy with a second escalation level 4h after the
/// severity, mentioning `@acme/cto`.
pub fn two_level_policy() -> String {
    policy_with(
        "escalation:\n  mention: [acme/incident-commanders]\n",
        "escalation:\n  mention: [acme/incident-commanders]\n  after: 4h\n  mention_after: [acme/cto]\n",
    )
}

/// The harness's policy with P0 needing the engineering lead only (the
/// policy a writer later tightens back to the harness's).
pub fn loose_policy() -> String {
    policy_with(
        "approvals: { roles: [engineering-lead, on-call-manager] }\n    deadline: 2h",
        "approvals: { roles: [engineering-lead] }\n    deadline: 2h",
    )
}

/// Asserts the run on the harness's head fails (`text_concluded`) and its
/// text names the on-call manager, whose approval the tightened policy
/// asks for.
pub fn assert_fails_for_the_on_call_manager(h: &Harness) {
    let text = text_concluded(h, HEAD_SHA, "failure");
    assert!(text.contains("on-call-manager"), "{text}");
}

/// The app's sticky comment on `number` (it starts with the
/// `<!-- hotfix-guard -->` marker).
pub fn sticky(h: &Harness, number: u64) -> String {
    h.bot_comments(number)
        .into_iter()
        .find(|c| c.body.starts_with("<!-- hotfix-guard -->"))
        .map(|c| c.body)
        .expect("the sticky comment")
}

/// Escalation comments the app posted on `number` at `level` (1 is the
/// first).
pub fn posts_of_level(h: &Harness, number: u64, level: u8) -> usize {
    let marker = format!("<!-- hotfix-guard:escalation level={level} -->");
    h.bot_comments(number)
        .into_iter()
        .filter(|c| c.body.starts_with(&marker))
        .count()
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
    delivered(h, "pull_request", &payload).await;
}

/// `/hotfix approve` commented by `user` on `number` at `at`, and the
/// `issue_comment` delivery GitHub sends for it; waits for the evaluation.
pub async fn approve_by_comment(h: &Harness, number: u64, user: &str, at: DateTime<Utc>) {
    comment(h, number, user, "/hotfix approve", at).await;
}

/// Both role members approve #`number` by comment (`approve_by_comment`):
/// alice (engineering lead) at `alice_at`, then oncall-olga (on-call
/// manager) at `olga_at`, each delivered and its evaluation waited for.
pub async fn both_roles_approve_by_comment(
    h: &Harness,
    number: u64,
    alice_at: DateTime<Utc>,
    olga_at: DateTime<Utc>,
) {
    approve_by_comment(h, number, "alice", alice_at).await;
    approve_by_comment(h, number, "oncall-olga", olga_at).await;
}

/// A `labeled`/`unlabeled` delivery for `label` on `number` as GitHub
/// sends it (the fake's labels and events are the test's to set); waits
/// for the evaluation.
pub async fn label_delivery(h: &Harness, number: u64, action: &str, label: &str) {
    let spec = PrSpec::from_seed(REPO, &h.gh.pull(REPO, number).expect("pull"), 1);
    let payload = webhook::pull_request_label_event(action, &spec, label);
    delivered(h, "pull_request", &payload).await;
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

/// A comment `body` by `user` on `number` at `at` (server time), and the
/// `issue_comment` delivery GitHub sends for it; waits for the evaluation.
pub async fn comment(h: &Harness, number: u64, user: &str, body: &str, at: DateTime<Utc>) {
    let id = h.gh.add_comment_at(REPO, number, user, body, at);
    let payload = webhook::issue_comment_event("created", REPO, number, user, body, id, 1);
    delivered(h, "issue_comment", &payload).await;
}

/// GitHub's answer (with status 403) to a comment written on a locked
/// conversation.
pub fn locked_answer() -> serde_json::Value {
    serde_json::json!({
        "message": "Unable to create comment because issue is locked.",
        "documentation_url": "https://docs.github.com/articles/locking-conversations/"
    })
}

/// GitHub refuses the next `times` comments the app posts on `number`
/// as on a locked conversation (403, `locked_answer`).
pub fn refuse_comment_posts(h: &Harness, number: u64, times: usize) {
    h.gh.fail_next_with_body(
        "POST",
        &format!("/issues/{number}/comments"),
        403,
        Vec::new(),
        locked_answer(),
        times,
    );
}

/// GitHub refuses the next `times` comment creations and the next `times`
/// comment edits of the app, on any issue, as on a locked conversation.
pub fn refuse_comment_writes(h: &Harness, times: usize) {
    for method in ["POST", "PATCH"] {
        h.gh.fail_next_with_body(method, "/comments", 403, Vec::new(), locked_answer(), times);
    }
}

/// A writer (dana) raises `pull` from P2 to P0 20 minutes after it
/// opened: GitHub records both label events and delivers `labeled`;
/// waits for the evaluation.
pub async fn raise_to_p0(h: &Harness, pull: &PullSeed) {
    let at = pull.created_at + chrono::Duration::minutes(20);
    h.gh.add_label_event(REPO, pull.number, "P2", "dana", false, at);
    h.gh.add_label_event(REPO, pull.number, "P0", "dana", true, at);
    h.gh.set_labels(REPO, pull.number, &["hotfix", "P0"]);
    h.pull_request("labeled", pull.number).await;
}

/// The author pushes `sha` (VERSION still 1.2.4) to `pull`'s branch:
/// committed a minute before `at`, received by GitHub at `at`, and the
/// `synchronize` delivery; waits for the evaluation.
pub async fn push_head(h: &Harness, pull: &PullSeed, sha: &str, at: DateTime<Utc>) {
    h.gh.update_pull(REPO, pull.number, |p| p.head_sha = sha.into());
    h.gh.set_file(REPO, sha, "VERSION", "1.2.4\n");
    h.gh.set_commit_date(REPO, sha, at - chrono::Duration::minutes(1));
    h.gh.add_push_activity(REPO, &pull.head_ref, sha, "push", &pull.author, at);
    h.pull_request("synchronize", pull.number).await;
}

/// `change` (not started until then) runs 150 ms into an evaluation of
/// `number` for an `edited` delivery whose timeline read GitHub answers
/// after 600 ms, so that evaluation is still in flight when the change
/// lands and its delivery is evaluated; waits for both evaluations.
pub async fn during_an_evaluation(h: &Harness, number: u64, change: impl Future<Output = ()>) {
    h.gh.delay_next(
        "GET",
        &format!("/issues/{number}/timeline"),
        std::time::Duration::from_millis(600),
        1,
    );
    let later = async {
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        change.await
    };
    let _ = tokio::join!(h.pull_request("edited", number), later);
    h.settle().await;
}

/// `check_suite.requested` for `sha` on `head_branch` as GitHub sends it
/// when the commit is first pushed: this app's new suite, no run in it
/// yet. Answered 200 (nothing to evaluate).
pub async fn fresh_suite(h: &Harness, sha: &str, head_branch: &str) {
    let payload = webhook::check_suite_requested(REPO, sha, head_branch, 1, 0);
    assert_eq!(h.deliver("check_suite", &payload).await, StatusCode::OK);
    h.settle().await;
}

/// `opened` for `first` and `second` delivered at once while GitHub takes
/// 500 ms to create the first check run; waits for both evaluations.
pub async fn opened_at_once(h: &Harness, first: u64, second: u64) {
    h.gh.delay_next(
        "POST",
        "/check-runs",
        std::time::Duration::from_millis(500),
        1,
    );
    let _ = tokio::join!(
        h.pull_request("opened", first),
        h.pull_request("opened", second)
    );
    h.settle().await;
}

/// The author retitles #`number` ("fix: stop the login loop (take 2)"):
/// GitHub's pull request only; the `edited` delivery is the caller's.
pub fn retitled(h: &Harness, number: u64) {
    h.gh.update_pull(REPO, number, |p| {
        p.title = "fix: stop the login loop (take 2)".into()
    });
}

/// alice merges `number` as `merge_sha` now (closed, `merged`), and the
/// `closed` delivery; waits for the evaluation.
pub async fn merge(h: &Harness, number: u64, merge_sha: &str) {
    h.gh.update_pull(REPO, number, |p| {
        p.state = "closed".into();
        p.merged = true;
        p.merge_commit_sha = Some(merge_sha.into());
        p.merged_by = Some("alice".into());
        p.merged_at = Some(chrono::Utc::now());
    });
    h.pull_request("closed", number).await;
}

/// Asserts that the app opened exactly one issue (the follow-up the
/// procedure asks for after a merge) and that the sticky comment on
/// `number` names it as the post-incident review; answers the sticky
/// comment for the test's own checks.
pub fn assert_the_follow_up_is_opened_and_named(h: &Harness, number: u64) -> String {
    let opened: Vec<_> =
        h.gh.issues(REPO)
            .into_iter()
            .filter(|i| i.user == BOT_LOGIN)
            .collect();
    let sticky = sticky(h, number);
    assert_eq!(
        opened.len(),
        1,
        "the app opens the follow-up issue: {sticky}"
    );
    assert!(
        sticky.contains(&format!("Post-incident review: [#{}]", opened[0].number)),
        "{sticky}"
    );
    sticky
}
