//! Fourteenth adversarial review of issue 9 (fail closed). Each test plays
//! what only a pull request's author (write access to their own fork, none
//! on the base repository) or a user with triage access can do, through
//! signed deliveries to the real router and the real client talking to the
//! fake GitHub, and asserts the SAFE outcome (conclusion and wording). A
//! passing test is an attack that failed; a test marked
//! `#[ignore = "finding: …"]` is an attack that worked.

use crate::common;

use chrono::Duration;
use common::attacks::{escalations, label_delivery, p0_with, text_concluded, text_of};
use common::fake_github::PullSeed;
use common::harness::{HEAD_SHA, REPO};
use common::head_files::{
    another_hotfix_evaluated_first, assert_watched_and_escalated, file_answered_with,
    p0_with_head_answer,
};

// ---- A more severe label added by a triage user ---------------------------

/// A writer (dana) made the hotfix P1 (24h deadline). A triage user adds
/// `P0` on top, as triage access allows: the severity in force becomes the
/// most severe label, P0, which only a non-writer ever applied. That P0
/// must not count (the check fails naming her), and it must not silence
/// the writer's P1 either: its deadline stays watched and its escalation is
/// posted when the 24 hours run out.
///
/// Reproduction: `hotfix` + `P1` applied by a writer, evaluated (deadline
/// watched); a triage user applies `P0`; the `labeled` evaluation finds
/// P0 (first in policy order, `classify::severity_of`) invalid
/// (`provenance::check`), and `provenance::clock_start(P0)` finds no
/// writer's P0, so `verdict.deadline` is `None` and the engine forgets the
/// deadline: no escalation 24h later, nor ever.
#[tokio::test]
async fn a_triage_users_added_p0_does_not_silence_the_writers_p1_escalation() {
    let (h, number, text) = p1_raised(true).await;
    assert!(
        text.contains("P0 label applied by @trina, who lacks write access"),
        "{text}"
    );
    assert_eq!(
        h.app.engine.watched().await,
        1,
        "the writer's P1 deadline must stay watched: {text}"
    );
    h.app.engine.sweep().await;
    assert_eq!(escalations(&h, number), 1, "{text}");
}

/// The control: the same P1 without the triage user's label is escalated
/// by the same sweep 24h after the writer's label, so the added P0 alone
/// makes the difference above.
#[tokio::test]
async fn without_the_added_p0_the_writers_p1_is_escalated() {
    let (h, number, text) = p1_raised(false).await;
    assert_eq!(h.app.engine.watched().await, 1, "{text}");
    assert_eq!(h.app.engine.sweep().await, 1, "{text}");
    assert_eq!(escalations(&h, number), 1, "{text}");
}

/// The harness's hotfix as P1 (labels by dana, a writer), opened; then,
/// when `raise`, trina (triage) applies `P0` an hour later. Returns with
/// the clock 24h 5min after the opening, past the P1's deadline, and the
/// check run's text (asserted failing when raised).
async fn p1_raised(raise: bool) -> (common::harness::Harness, u64, String) {
    let (h, pull) = p0_with(|pull| PullSeed {
        labels: vec!["hotfix".into(), "P1".into()],
        ..pull
    })
    .await;
    h.pull_request("opened", pull.number).await;
    assert_eq!(
        h.app.engine.watched().await,
        1,
        "the P1's deadline is watched"
    );
    let t0 = pull.created_at;
    if raise {
        h.gh.update_pull(REPO, pull.number, |p| p.labels.push("P0".into()));
        h.gh.add_label_event(
            REPO,
            pull.number,
            "P0",
            "trina",
            true,
            t0 + Duration::hours(1),
        );
        h.clock.set(t0 + Duration::hours(1));
        label_delivery(&h, pull.number, "labeled", "P0").await;
    }
    let run = h.check(HEAD_SHA);
    let text = text_of(&run);
    if raise {
        assert_eq!(run.conclusion.as_deref(), Some("failure"), "{text}");
    }
    // dana's P1 was applied 5 s after the opening: 24h later it is overdue.
    h.clock.set(t0 + Duration::hours(24) + Duration::minutes(5));
    (h, pull.number, text)
}

// ---- A pull request of the author's own that looks like the merge-back ----

const MERGE_SHA: &str = "m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3";
const MERGE_BACK_BRANCH: &str = "hotfix-guard/merge-back-7";

/// Before the hotfix merges, its author opens, from their fork, a pull
/// request into `develop` from a branch named exactly like the app's
/// merge-back branch (`mallory/app:hotfix-guard/merge-back-7`): code of
/// their choosing. The app must not wait on it ("Merge #30 so that the next
/// release keeps the fix" would have a writer merge the author's code into
/// develop): it opens its own merge-back from the base repository and names
/// that one.
#[tokio::test]
async fn an_authors_open_look_alike_merge_back_from_a_fork_is_not_waited_on() {
    let (_h, run, ours) = merged_beside_a_look_alike("open").await;
    let title = run.title.clone().unwrap_or_default();
    assert_eq!(run.status, "in_progress", "{title}");
    assert_eq!(
        title,
        format!("Waiting for #{ours} to merge into develop"),
        "the app's own merge-back, not the author's #30"
    );
    assert!(!text_of(&run).contains("#30"), "{}", text_of(&run));
}

/// The same look-alike, closed without merging by its author before the
/// hotfix merges: the merge-back check must not fail as if a person had
/// closed the real merge-back ("#30 was closed without merging"); the app
/// opens its own.
#[tokio::test]
async fn an_authors_closed_look_alike_merge_back_does_not_stand_for_the_real_one() {
    let (_h, run, ours) = merged_beside_a_look_alike("closed").await;
    let title = run.title.clone().unwrap_or_default();
    assert_eq!(
        title,
        format!("Waiting for #{ours} to merge into develop"),
        "{}",
        text_of(&run)
    );
}

/// The harness's approved P0, merged by alice as `MERGE_SHA`, beside the
/// author's pull request #30 from the fork `mallory/app`, branch
/// `hotfix-guard/merge-back-7` into `develop`, in `state`. Delivers the
/// hotfix's `closed`; answers the merge-back check run and the number of
/// the one merge-back pull request the app opened in the base repository.
async fn merged_beside_a_look_alike(
    state: &str,
) -> (
    common::harness::Harness,
    common::fake_github::CheckRunRec,
    u64,
) {
    let (h, _) = common::attacks::merged_approved_p0(common::harness::POLICY, MERGE_SHA).await;
    h.gh.add_repo("mallory/app");
    let t0 = h.gh.pull(REPO, 7).expect("the hotfix").created_at;
    h.gh.add_pull(
        REPO,
        PullSeed {
            number: 30,
            title: "Merge back hotfix #7".into(),
            author: "mallory".into(),
            head_ref: MERGE_BACK_BRANCH.into(),
            head_sha: "ma11ory0ma11ory0ma11ory0ma11ory0ma11ory0".into(),
            head_repo: Some("mallory/app".into()),
            base_ref: "develop".into(),
            base_sha: "d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0".into(),
            state: state.into(),
            created_at: t0 + Duration::minutes(1),
            ..PullSeed::default()
        },
    );
    h.pull_request("closed", 7).await;
    let ours: Vec<PullSeed> =
        h.gh.pulls(REPO)
            .into_iter()
            .filter(|p| p.head_ref == MERGE_BACK_BRANCH && p.head_repo.is_none())
            .collect();
    assert_eq!(ours.len(), 1, "the app opens its own merge-back: {ours:#?}");
    let runs: Vec<_> =
        h.gh.check_runs(REPO, MERGE_SHA)
            .into_iter()
            .filter(|r| r.name == "hotfix-policy/merge-back")
            .collect();
    assert_eq!(runs.len(), 1, "{runs:#?}");
    let run = runs.into_iter().next().expect("one");
    let number = ours[0].number;
    (h, run, number)
}

// ---- A team member whose membership is pending ----------------------------

/// bob has write access to the repository and has been invited to the
/// on-call team, but has not accepted (GitHub's membership `state` is
/// `pending`: not a member yet). His approving review on the head must not
/// fill the on-call-manager role, whether his membership is asked for
/// alone or read from the team's member list (past five people to check).
#[tokio::test]
async fn a_pending_team_members_approval_fills_no_role() {
    let text = approved_by_a_pending_member(0).await;
    assert!(
        text.contains("| on-call-manager | waiting"),
        "the role stays open: {text}"
    );
}

/// The same with six throw-away accounts' `/hotfix approve` in the way, so
/// that the team is read as one member list rather than one lookup each.
#[tokio::test]
async fn a_pending_team_members_approval_fills_no_role_when_the_team_is_listed() {
    let text = approved_by_a_pending_member(6).await;
    assert!(
        text.contains("| on-call-manager | waiting"),
        "the role stays open: {text}"
    );
}

/// The harness's P0 approved on its head by alice (engineering lead) and
/// by bob, a writer whose on-call membership is pending, after `throwaways`
/// accounts without access commented `/hotfix approve`; answers the check
/// run's text (asserted failing).
async fn approved_by_a_pending_member(throwaways: usize) -> String {
    let (h, pull) = p0_with(|pull| pull).await;
    h.gh.set_team_membership("acme", "on-call", "bob", "member", "pending");
    for n in 0..throwaways {
        h.gh.add_comment_at(
            REPO,
            pull.number,
            &format!("throwaway-{n}"),
            "/hotfix approve",
            pull.created_at + Duration::minutes(1),
        );
    }
    h.gh.add_review(REPO, pull.number, "alice", "APPROVED", HEAD_SHA);
    h.gh.add_review(REPO, pull.number, "bob", "APPROVED", HEAD_SHA);
    h.clock.set(pull.created_at + Duration::minutes(2));
    h.pull_request("opened", pull.number).await;
    let text = text_concluded(&h, HEAD_SHA, "failure");
    if throwaways > 5 {
        assert_eq!(
            h.gh.count("GET", "/teams/on-call/members"),
            1,
            "the team was listed"
        );
    }
    text
}

// ---- A head whose version file is not a readable text file -----------------

/// The author commits `VERSION` as something the contents API does not
/// answer with a file's text: a directory (`mkdir VERSION`), a dangling
/// symlink (`type: symlink`), a submodule, or bytes that are not UTF-8
/// (`printf '1.2.4\xff'`). A writer makes the pull request P0. The version
/// rule must fail naming the file, and above all the P0's deadline must be
/// watched and escalated: an unreadable file the author chose must not
/// make every evaluation fail, leaving the deadline unwatched for good.
///
/// Reproduction: `RepoClient::get_file` returns `Err(Decode)` for an
/// array (directory) answer, a non-`file` type or non-UTF-8 content
/// (src/github/repo.rs, `get_file_raw`); `gather::version_files` passes it
/// up with `?`, so `Engine::evaluate` fails before `watch_deadline`; after
/// five tries `report_failure` writes "hotfix-guard could not evaluate this
/// pull request" and the job is done. Nothing watches the deadline: no
/// escalation, ever (until a later push makes the file readable).
#[tokio::test]
async fn an_unreadable_head_version_file_does_not_silence_the_escalation() {
    let (h, number, text) = p0_with_head_version_answer(Some(serde_json::json!([
        {"type": "file", "name": "x", "path": "VERSION/x", "size": 6}
    ])))
    .await;
    // The version rule's own failure ("VERSION unreadable", or "VERSION
    // missing"), not an evaluation that could not finish.
    assert!(
        text.contains("VERSION unreadable") || text.contains("VERSION missing"),
        "the version rule names the file: {text}"
    );
    assert!(!text.contains("could not evaluate"), "{text}");
    assert_watched_and_escalated(&h, number, &text).await;
}

/// The same with the most ordinary form of it: a `VERSION` whose bytes are
/// not UTF-8 (`printf '1.2.4\xff\n' > VERSION`), which the contents API
/// answers as a base64 file.
#[tokio::test]
async fn a_head_version_file_that_is_not_utf8_does_not_silence_the_escalation() {
    let (h, number, text) = p0_with_head_version_answer(Some(serde_json::json!({
        "type": "file", "name": "VERSION", "path": "VERSION", "size": 7,
        "encoding": "base64", "content": "MS4yLjT/Cg=="
    })))
    .await;
    assert!(
        text.contains("VERSION unreadable"),
        "the version rule names the file: {text}"
    );
    assert_watched_and_escalated(&h, number, &text).await;
}

/// The control: the same P0 with a readable head `VERSION` is watched and
/// escalated by the same sweep, so the unreadable file alone makes the
/// difference above.
#[tokio::test]
async fn with_a_readable_head_version_file_the_p0_is_escalated() {
    let (h, number, text) = p0_with_head_version_answer(None).await;
    assert_watched_and_escalated(&h, number, &text).await;
}

/// The harness's P0 (#7), after another hotfix on the same base (#8, P2,
/// by dana) was evaluated, so that the base's `VERSION` is already read
/// (a commit's file is read once) and only #7's head is asked for. With
/// `answer`, GitHub answers every read of `VERSION` from then on with it.
/// Opens #7; answers the check run's text (asserted failing with `answer`).
async fn p0_with_head_version_answer(
    answer: Option<serde_json::Value>,
) -> (common::harness::Harness, u64, String) {
    let (h, pull) = p0_with_head_answer("VERSION", answer).await;
    // Only the head's file, the author's, was asked for: the base's was
    // read once for #8.
    let text = only_the_head_read_and_failing(
        &h,
        |path| path.ends_with("/contents/VERSION"),
        ["the head's VERSION is read", "only the head's VERSION"],
    );
    (h, pull.number, text)
}

/// Asserts that the reads of the head file (requests whose path `matches`)
/// since #7 was opened are some and all at #7's head (`messages`: what
/// each of the two checks says when it fails), and that #7's check run
/// fails; answers its text.
fn only_the_head_read_and_failing(
    h: &common::harness::Harness,
    matches: impl Fn(&str) -> bool,
    messages: [&str; 2],
) -> String {
    let reads: Vec<String> =
        h.gh.requests()
            .into_iter()
            .filter(|r| matches(&r.path))
            .map(|r| r.query)
            .collect();
    assert!(!reads.is_empty(), "{}", messages[0]);
    assert!(
        reads.iter().all(|q| q.contains(HEAD_SHA)),
        "{}: {reads:?}",
        messages[1]
    );
    text_concluded(h, HEAD_SHA, "failure")
}

/// The same class through the other file the app reads at the head: the
/// author's pull request also "edits" `.github/hotfix-policy.yml`, which
/// at the head is a directory (or a symlink, or not UTF-8). The verdict is
/// by the default branch's policy; the edit is only validated for
/// annotations. That validation must not make every evaluation fail and
/// leave the P0's deadline unwatched.
///
/// Reproduction: `Engine::policy_edit_annotations` reads the head's policy
/// with `RepoClient::get_file(..)?` (src/engine/mod.rs), which fails with
/// `Decode` ("… is a directory, not a file"); the evaluation fails before
/// the check run and `watch_deadline`, five times, and is given up.
#[tokio::test]
async fn an_unreadable_head_policy_file_does_not_silence_the_escalation() {
    let (h, number, text) = p0_editing_the_policy(Some(serde_json::json!([
        {"type": "file", "name": "x", "path": ".github/hotfix-policy.yml/x"}
    ])))
    .await;
    assert!(!text.contains("could not evaluate"), "{text}");
    assert_watched_and_escalated(&h, number, &text).await;
}

/// The control: the same P0 whose head policy file is readable is watched
/// and escalated.
#[tokio::test]
async fn with_a_readable_head_policy_file_the_p0_is_escalated() {
    let (h, number, text) = p0_editing_the_policy(None).await;
    assert_watched_and_escalated(&h, number, &text).await;
}

/// The harness's P0 (#7) whose changed files include the policy file (the
/// head's copy: the harness's policy), opened after another hotfix (#8)
/// was evaluated, so that the policy in force (main's) is already read and
/// kept. With `answer`, GitHub answers every later read of the policy
/// file with it (asserted to be only the head's). Answers the check run's
/// text (asserted failing: the P0 is not approved).
async fn p0_editing_the_policy(
    answer: Option<serde_json::Value>,
) -> (common::harness::Harness, u64, String) {
    let (h, pull) = p0_with_head_answer(common::harness::POLICY_PATH, answer).await;
    let text = only_the_head_read_and_failing(
        &h,
        |path| path.contains("/contents/.github"),
        ["the head's policy file is read", "only the head's copy"],
    );
    (h, pull.number, text)
}

/// The consequence after the merge: the same non-UTF-8 head `VERSION` on a
/// P0 that was approved and merged (the check failing "could not evaluate",
/// an administrator merges past it, as the procedure's emergency allows).
/// The post-merge steps must still happen: the follow-up issue the
/// procedure asks for (and the merge-back into develop).
///
/// Reproduction: as above, `gather::version_files` fails on the head's
/// file, so the evaluation of the `closed` delivery fails before
/// `post_merge::run`: five tries, then "could not evaluate"; no follow-up
/// issue, no merge-back pull request, no tag.
#[tokio::test]
async fn a_merged_p0_with_a_non_utf8_head_version_still_gets_its_follow_up() {
    let (h, _) = common::attacks::merged_approved_p0(common::harness::POLICY, MERGE_SHA).await;
    let pull = h.gh.pull(REPO, 7).expect("the hotfix");
    another_hotfix_evaluated_first(&h, &pull).await;
    file_answered_with(
        &h,
        "VERSION",
        serde_json::json!({
            "type": "file", "name": "VERSION", "path": "VERSION", "size": 7,
            "encoding": "base64", "content": "MS4yLjT/Cg=="
        }),
    );
    h.pull_request("closed", 7).await;
    let text = text_of(&h.check(HEAD_SHA));
    assert!(!text.contains("could not evaluate"), "{text}");
    let merge_backs =
        h.gh.pulls(REPO)
            .into_iter()
            .filter(|p| p.head_ref == MERGE_BACK_BRANCH)
            .count();
    assert_eq!(merge_backs, 1, "the merge-back is opened: {text}");
    common::attacks::assert_the_follow_up_is_opened_and_named(&h, 7);
}
