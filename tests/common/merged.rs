//! Arrange steps of the reviews of a merged P0 (adversarial reviews 16 to
//! 21, `merged_hotfix_steps`): a P0 opened while `main`'s policy owes no
//! follow-up, a writer's tightening of that policy before the merge, the
//! merge as GitHub delivers it (the push of the merge commit, then
//! `closed`), and the merge-back by hand into a default `develop`. Each
//! step arranges, delivers, or asserts a precondition (said so in its
//! name); what a test asserts of the outcome stays in the test, apart from
//! the two outcomes several tests share (`assert_the_post_incident_review_
//! is_opened`, `assert_the_merge_back_by_hand_completes`).

use chrono::Duration;

use super::attacks::{self, text_of};
use super::fake_github::{BOT_LOGIN, CheckRunRec, IssueRec, PullSeed};
use super::harness::{BASE_SHA, HEAD_SHA, Harness, POLICY, POLICY_PATH, REPO};
use super::webhook;

/// `main` after a writer's change of the policy, before the P0's merge.
pub const TIGHTENED_SHA: &str = "t0t0t0t0t0t0t0t0t0t0t0t0t0t0t0t0t0t0t0t0";
/// The P0's merge commit.
pub const MERGE_SHA: &str = "m0m0m0m0m0m0m0m0m0m0m0m0m0m0m0m0m0m0m0m0";
/// `develop` after the P0's merge-back (by the app's pull request or by
/// hand).
pub const DEVELOP_AFTER: &str = "d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2";
/// The paths GitHub's push of the P0's merge commit to `main` names as
/// changed: the fix, the version bump and the policy file (so every
/// instance forgets the policy it held).
pub const MERGE_PUSH: &[&str] = &[POLICY_PATH, "src/fix.rs", "VERSION"];

/// The harness's policy without P0's follow-up (its post-incident review).
pub fn without_follow_up() -> String {
    attacks::policy_with(
        "    follow_up: { title: Post-incident review, within: 24h }\n",
        "",
    )
}

/// `without_follow_up()` plus a severity `SEV0` (label `sev0`, both roles'
/// approvals, a 2h deadline and the post-incident review): a writer's new
/// severity, beside the P0 that owes no follow-up.
pub fn with_new_sev0() -> String {
    let added = without_follow_up().replace(
        "  P1:\n",
        "  SEV0:\n    labels: [sev0]\n    approvals: { roles: [engineering-lead, on-call-manager] }\n    deadline: 2h\n    follow_up: { title: Post-incident review, within: 24h }\n  P1:\n",
    );
    assert_ne!(added, without_follow_up());
    added
}

/// The author's one-line change to the policy file: a YAML comment at its
/// end, valid, changing no rule (nothing for `policy_edit_annotations` to
/// point at).
pub fn with_authors_comment(policy: &str) -> String {
    format!("{policy}# Reformatted for readability, no rule changes.\n")
}

/// The P0's files list as `GET /pulls/7/files` answers it (path,
/// additions, deletions): `src/fix.rs` and `VERSION` as the harness seeds
/// them, plus each of `extra` with one line added.
pub fn p0_files_with(extra: &[&str]) -> Vec<(String, u64, u64)> {
    let mut files = vec![
        ("src/fix.rs".to_string(), 3, 1),
        ("VERSION".to_string(), 1, 1),
    ];
    files.extend(extra.iter().map(|f| (f.to_string(), 1, 0)));
    files
}

/// `p0_files_with(&[])` plus the policy file with `additions` and
/// `deletions` lines (added: `n, 0`; deleted: `0, n`).
pub fn p0_files_with_the_policy(additions: u64, deletions: u64) -> Vec<(String, u64, u64)> {
    let mut files = p0_files_with(&[]);
    files.push((POLICY_PATH.to_string(), additions, deletions));
    files
}

/// GitHub's `push` delivery to `main` (installation 1) naming `files` as
/// changed, delivered and settled. The fake's branches and files are the
/// caller's to move first.
pub async fn push_to_main(h: &Harness, files: &[&str]) {
    let push = webhook::push_event(REPO, "refs/heads/main", files, 1);
    h.deliver("push", &push).await;
    h.settle().await;
}

/// A writer moves `main` to `sha` with `policy` as its file (at `sha` and
/// on `main`), and the push is delivered (the policy in force changes for
/// every instance).
pub async fn writer_pushes_policy(h: &Harness, sha: &str, policy: &str) {
    h.gh.set_branch(REPO, "main", sha);
    h.gh.set_file(REPO, sha, POLICY_PATH, policy);
    h.gh.set_file(REPO, "main", POLICY_PATH, policy);
    push_to_main(h, &[POLICY_PATH]).await;
}

/// The harness's P0 (#7, labels `labels` applied by dana, a writer;
/// `trina` has triage access) with `loose` as the policy file on `main`
/// and at its `base.sha` (`BASE_SHA`, pinned: `main` moves later),
/// `head_policy` as the file at its head and `files` as its files list;
/// `opened` delivered and settled.
pub async fn opened_under(
    labels: &[&str],
    loose: &str,
    head_policy: &str,
    files: Vec<(String, u64, u64)>,
) -> (Harness, PullSeed) {
    let labels: Vec<String> = labels.iter().map(|l| l.to_string()).collect();
    let (h, pull) = attacks::p0_with(|pull| PullSeed { labels, ..pull }).await;
    h.gh.set_file(REPO, "main", POLICY_PATH, loose);
    h.gh.set_file(REPO, BASE_SHA, POLICY_PATH, loose);
    h.gh.set_file(REPO, HEAD_SHA, POLICY_PATH, head_policy);
    h.gh.set_pull_files(REPO, pull.number, files);
    h.pull_request("opened", pull.number).await;
    (h, pull)
}

/// Ten minutes on, a writer puts `tightened` on `main` (`TIGHTENED_SHA`,
/// pushed and delivered: `writer_pushes_policy`); both roles approve
/// #`number` on its head and its `edited` is delivered and settled.
pub async fn tightened_then_approved(h: &Harness, number: u64, tightened: &str) {
    h.clock.advance(Duration::minutes(10));
    writer_pushes_policy(h, TIGHTENED_SHA, tightened).await;
    attacks::approved_by_both_roles(h, number, HEAD_SHA);
    h.pull_request("edited", number).await;
}

/// Precondition: the run on the harness's head passes (approved under the
/// policy in force).
pub fn assert_approved_under_the_policy_in_force(h: &Harness) {
    let run = h.check(HEAD_SHA);
    assert_eq!(
        run.conclusion.as_deref(),
        Some("success"),
        "precondition: approved under the policy in force: {}",
        text_of(&run)
    );
}

/// Precondition: the sticky comment on the open #`number` says it owes the
/// post-incident review after the merge.
pub fn assert_told_it_owes_the_follow_up(h: &Harness, number: u64) {
    let sticky = attacks::sticky(h, number);
    assert!(
        sticky.contains("After the merge: **Post-incident review**"),
        "precondition: the open P0 was told it owes the follow-up: {sticky}"
    );
}

/// `opened_under(labels, loose, head_policy, files)` then
/// `tightened_then_approved(tightened)`: the open P0 passes under the
/// policy in force and was told it owes the post-incident review (both
/// asserted). Not merged yet.
pub async fn opened_loose_then_tightened(
    labels: &[&str],
    loose: &str,
    head_policy: &str,
    files: Vec<(String, u64, u64)>,
    tightened: &str,
) -> (Harness, PullSeed) {
    let (h, pull) = opened_under(labels, loose, head_policy, files).await;
    tightened_then_approved(&h, pull.number, tightened).await;
    assert_approved_under_the_policy_in_force(&h);
    assert_told_it_owes_the_follow_up(&h, pull.number);
    (h, pull)
}

/// The harness's P0 under the harness's policy, already merged by alice
/// as `MERGE_SHA` (`attacks::merged_approved_p0`: approved by both roles,
/// nothing delivered yet), with that policy also pinned at its `base.sha`
/// (`BASE_SHA`: the fake keys `main`'s file by the branch name, which may
/// move later).
pub async fn merged_approved_p0() -> (Harness, PullSeed) {
    let (h, pull) = attacks::merged_approved_p0(POLICY, MERGE_SHA).await;
    h.gh.set_file(REPO, BASE_SHA, POLICY_PATH, POLICY);
    (h, pull)
}

/// The harness's P0 by `author` (read access: no write, not in the
/// organisation), from `head_repo` when it is a fork, already merged by
/// alice as `MERGE_SHA`, approved by both roles, the harness's policy
/// pinned at its `base.sha`; nothing delivered yet.
pub async fn merged_p0_by_a_reader(author: &str, head_repo: Option<&str>) -> (Harness, PullSeed) {
    let (h, pull) = attacks::p0_with(|p0| {
        let head_repo = head_repo.map(String::from).or(p0.head_repo.clone());
        let by_the_reader = PullSeed {
            author: author.into(),
            head_repo,
            ..p0
        };
        attacks::merged_by_alice(by_the_reader, MERGE_SHA)
    })
    .await;
    h.gh.set_permission(REPO, author, "read");
    h.gh.set_file(REPO, BASE_SHA, POLICY_PATH, POLICY);
    attacks::approved_by_both_roles(&h, pull.number, HEAD_SHA);
    (h, pull)
}

/// The issues the app (`BOT_LOGIN`) opened in the harness's repository,
/// oldest first.
pub fn issues_the_app_opened(h: &Harness) -> Vec<IssueRec> {
    h.gh.issues(REPO)
        .into_iter()
        .filter(|i| i.user == BOT_LOGIN)
        .collect()
}

/// `main` moves to `MERGE_SHA`, whose policy file (and `main`'s) is
/// `policy`. Nothing is delivered.
pub fn main_moves_to_the_merge(h: &Harness, policy: &str) {
    h.gh.set_branch(REPO, "main", MERGE_SHA);
    h.gh.set_file(REPO, MERGE_SHA, POLICY_PATH, policy);
    h.gh.set_file(REPO, "main", POLICY_PATH, policy);
}

/// The P0's merge as GitHub delivers it: the push of `MERGE_SHA` to `main`
/// naming `pushed` as changed, then alice's merge of #`number` (`closed`,
/// `merged` as `MERGE_SHA`), each delivered and settled. `main` is the
/// caller's to move first.
pub async fn pushed_then_closed(h: &Harness, number: u64, pushed: &[&str]) {
    push_to_main(h, pushed).await;
    attacks::merge(h, number, MERGE_SHA).await;
    h.settle().await;
}

/// `main_moves_to_the_merge(policy)`, then the merge as GitHub delivers it
/// (`pushed_then_closed` with `MERGE_PUSH`).
pub async fn merged_with(h: &Harness, number: u64, policy: &str) {
    main_moves_to_the_merge(h, policy);
    pushed_then_closed(h, number, MERGE_PUSH).await;
}

/// Asserts the merged #`number`'s follow-up issue is opened and named on
/// its sticky comment (`attacks::assert_the_follow_up_is_opened_and_named`)
/// as the post-incident review; answers the sticky comment.
pub fn assert_the_post_incident_review_is_opened(h: &Harness, number: u64) -> String {
    let sticky = attacks::assert_the_follow_up_is_opened_and_named(h, number);
    assert!(sticky.contains("Post-incident review"), "{sticky}");
    sticky
}

/// The app's `hotfix-policy/merge-back` check run on `MERGE_SHA` (panics
/// when there is none).
pub fn merge_back_run(h: &Harness) -> CheckRunRec {
    h.gh.check_runs(REPO, MERGE_SHA)
        .into_iter()
        .find(|r| r.name == "hotfix-policy/merge-back")
        .expect("the merge-back check run")
}

/// The harness's P0 merged by alice as `MERGE_SHA` (approved by both
/// roles) in a Git Flow repository whose default branch is `develop`
/// (the harness's policy there); GitHub refuses the app's merge-back
/// branch once (403 to `POST /git/refs`) and `closed` is delivered: the
/// merge-back check fails (asserted, as a precondition) and says to merge
/// back by hand.
pub async fn merged_with_the_merge_back_refused_into_a_default_develop() -> (Harness, PullSeed) {
    let (h, pull) = attacks::merged_approved_p0(POLICY, MERGE_SHA).await;
    h.gh.set_default_branch(REPO, "develop");
    h.gh.set_file(REPO, "develop", POLICY_PATH, POLICY);
    h.gh.fail_next("POST", "/git/refs", 403, vec![], 1);
    h.pull_request("closed", pull.number).await;
    assert_eq!(
        merge_back_run(&h).conclusion.as_deref(),
        Some("failure"),
        "precondition: {:?}",
        merge_back_run(&h)
    );
    (h, pull)
}

/// GitHub's `push` delivery to `develop`, the repository's default branch
/// (`default_branch` and `master_branch` say so), naming `files` as
/// changed; delivered and settled.
pub async fn push_to_a_default_develop(h: &Harness, files: &[&str]) {
    let mut push = webhook::push_event(REPO, "refs/heads/develop", files, 1);
    push["repository"]["default_branch"] = "develop".into();
    push["repository"]["master_branch"] = "develop".into();
    h.deliver("push", &push).await;
    h.settle().await;
}

/// A writer merges the fix back into the default `develop` by hand:
/// `develop` moves to `DEVELOP_AFTER`, which contains `MERGE_SHA` (the
/// compare answers `behind`), and the push naming `files` is delivered
/// (`push_to_a_default_develop`).
pub async fn merged_back_by_hand(h: &Harness, files: &[&str]) {
    h.gh.set_branch(REPO, "develop", DEVELOP_AFTER);
    h.gh.set_compare(REPO, "develop", MERGE_SHA, "behind");
    push_to_a_default_develop(h, files).await;
}

/// Asserts the merge-back check is completed with `success` and the sticky
/// comment on #`number` says `develop` contains the fix.
pub fn assert_the_merge_back_by_hand_completes(h: &Harness, number: u64) {
    let run = merge_back_run(h);
    assert_eq!(
        (run.status.as_str(), run.conclusion.as_deref()),
        ("completed", Some("success")),
        "{run:?}"
    );
    assert!(
        attacks::sticky(h, number).contains("`develop` contains the fix"),
        "{}",
        attacks::sticky(h, number)
    );
}
