//! Nineteenth adversarial review of issue 9 (fail closed): what review 18's
//! fixes changed in the post-merge path (`engine::merged::may_edit_policy`
//! choosing the policy at `base.sha` for a merged pull request that edits
//! the policy file or whose files list is cut; the follow-up issue), with
//! fresh eyes. Each test plays what only a pull request's author (write
//! access to their own fork, none on the base repository) or a user
//! without write access can do, through signed deliveries to the real
//! router and the real client talking to the fake GitHub, and asserts the
//! SAFE outcome (conclusion and wording). A passing test is an attack that
//! failed; a test marked `#[ignore = "finding: …"]` is an attack that
//! worked.

use crate::common;

use chrono::Duration;
use common::attacks::{self, text_of};
use common::fake_github::PullSeed;
use common::harness::{HEAD_SHA, Harness, POLICY, POLICY_PATH, REPO};
use common::merged::{self, MERGE_SHA, p0_files_with, with_authors_comment, without_follow_up};

// ---- Attack 1: a harmless-looking policy touch picks the older policy ----

/// The P0 (#7) opened while `main`'s policy owes no follow-up for P0
/// (`base.sha` = `BASE_SHA` holds it), its change touching the policy file
/// only with `with_authors_comment` (and `files` otherwise); a writer then
/// adds P0's follow-up on `main` (`TIGHTENED_SHA`, pushed and delivered);
/// both roles approve and the open P0 passes under the policy in force,
/// whose sticky comment says it owes the post-incident review (asserted);
/// then alice merges it (`main` holds the writer's policy plus the
/// author's comment: the two changes touch different lines and merge
/// cleanly).
async fn touched_policy_then_tightened_and_merged(files: Vec<(String, u64, u64)>) -> Harness {
    let loose = without_follow_up();
    let head = with_authors_comment(&loose);
    let (h, pull) =
        merged::opened_loose_then_tightened(&["hotfix", "P0"], &loose, &head, files, POLICY).await;
    let run = h.check(HEAD_SHA);
    assert!(
        run.annotations.is_empty(),
        "precondition: the author's valid policy edit is not annotated: {:#?}",
        run.annotations
    );
    merged::main_moves_to_the_merge(&h, &with_authors_comment(POLICY));
    attacks::merge(&h, pull.number, MERGE_SHA).await;
    h
}

/// The author opens the P0 while `main`'s policy owes no follow-up for P0,
/// and adds one comment line to the policy file ("Reformatted for
/// readability, no rule changes": valid, so nothing is annotated on the
/// diff, and the check and sticky comment say nothing about it). A writer
/// then adds P0's post-incident review to `main`'s policy; the open P0 is
/// judged by it (its sticky comment says "After the merge: **Post-incident
/// review**"), approved by both roles and merged. Every policy that was on
/// `main` from the writer's change to the merge (the one the P0 was
/// approved under, the one just before its merge, the one after it) owes
/// the follow-up: the merged P0 must get it.
///
/// Reproduction (on this commit): `engine::merged::may_edit_policy` sees
/// the policy file in the P0's files list, so `policy_before_merge` judges
/// the merged P0 by the file at its `base.sha`, the commit `main` was at
/// when the P0 was opened, before the writer's change: P0 owes no
/// follow-up there, `post_merge::run` opens none, and the sticky comment's
/// after-merge section names none (nor says a step was dropped). The author
/// chose that older policy: one harmless-looking comment line in the
/// policy file (GitHub's `base.sha` is set when the pull request is opened,
/// so the author also chose which commit of `main` judges the merge).
/// `engine::merged`'s docs and `docs/facts.md` accept this residual because
/// "its own edit is annotated on the diff", but `policy_edit_annotations`
/// annotates only a policy that does not parse: a valid edit shows nothing.
/// Severity: medium (silences the follow-up, and with the same trick any
/// after-merge step a writer's later change added: merge-back, release
/// tag; needs approvers who accept a policy-file touch without a word).
///
/// Fix to consider: judge the merge by the policy just before it, not by
/// `base.sha`: the `before` of the push whose `after` is
/// `merge_commit_sha` (the default branch's push delivery, or
/// `GET /repos/{o}/{r}/activity?ref=…`, already read for heads), which is
/// right for merge, squash and rebase merges; or owe the union of what the
/// policy at `base.sha` and the policy in force at the last pre-merge
/// verdict asked (the app wrote the latter in the sticky comment); or, at
/// least, say on the open pull request's check that its policy edit makes
/// the policy at `base.sha` (short sha) judge it after the merge whenever
/// that policy differs from the one in force.
///
/// Checked that the test can fail and pass: it fails on this commit (no
/// issue opened); the control below (the same P0 without the policy touch)
/// passes.
///
/// Fixed: the after-merge steps owe what the policy at `base.sha` or the
/// policy in force asks (`policy::after_merge::widened`).
#[tokio::test]
async fn a_harmless_policy_touch_does_not_let_the_merged_p0_drop_a_follow_up_added_since() {
    let h = touched_policy_then_tightened_and_merged(p0_files_with(&[POLICY_PATH])).await;
    merged::assert_the_post_incident_review_is_opened(&h, 7);
}

/// The control: the same P0 whose change leaves the policy file alone gets
/// its follow-up (review 18's fix): the touch alone makes the difference.
#[tokio::test]
async fn without_the_policy_touch_the_merged_p0_gets_the_follow_up_added_since() {
    let h = touched_policy_then_tightened_and_merged(p0_files_with(&[])).await;
    merged::assert_the_post_incident_review_is_opened(&h, 7);
}

/// Attack 1 without touching the policy file at all: the author's P0
/// changes 3,500 files (generated or vendored files beside the fix; the
/// harness's policy sets no size limit and requires no tests), so GitHub's
/// files list stops at 3,000 entries and `changed_files` says 3,500. None
/// of them is the policy file. The merged P0 must get the follow-up every
/// policy on `main` since the writer's change owes.
///
/// Reproduction (on this commit): `may_edit_policy` answers true for a cut
/// list ("the policy file may be past the cut"), so the merged P0 is judged
/// by the policy at its `base.sha` as in attack 1: no follow-up, nothing
/// said. Here the residual's premise ("a pull request that edits the
/// policy itself … its own edit is annotated") does not hold at all: the
/// pull request does not edit the policy file. Severity: medium (as attack
/// 1; a 3,500-file hotfix is conspicuous, but nothing the app says links
/// its size to the policy that will judge it).
///
/// Fix to consider: as attack 1 (the policy just before the merge needs no
/// files list); or read the policy file at `merge_commit_sha`'s parents /
/// compare `base.sha...merge_commit_sha` for the one path instead of
/// guessing from a cut list.
///
/// Checked that the test can fail and pass: it fails on this commit (no
/// issue opened); with 20 files instead of 3,500 it passes (the control
/// above is the same shape).
///
/// Fixed: as attack 1.
#[tokio::test]
async fn a_cut_files_list_does_not_let_the_merged_p0_drop_a_follow_up_added_since() {
    let mut files: Vec<(String, u64, u64)> = (0..3_500)
        .map(|i| (format!("vendor/gen/f{i:04}.rs"), 1, 0))
        .collect();
    files.extend(p0_files_with(&[]));
    let h = touched_policy_then_tightened_and_merged(files).await;
    merged::assert_the_post_incident_review_is_opened(&h, 7);
}

// ---- Attack 2: a follow-up body GitHub refuses, written by non-writers ----

/// GitHub's longest issue body, in characters: a longer one is answered 422
/// "Validation Failed", `body is too long (maximum is 65536 characters)`
/// (the fake does not enforce it, so the test reads what the app sent).
const GITHUB_BODY_LIMIT: usize = 65_536;

/// The bodies of the issues the app asked GitHub to open (`POST
/// /repos/{o}/{r}/issues`), as sent.
fn issue_bodies_sent(h: &Harness) -> Vec<String> {
    h.gh.requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with(&format!("/{REPO}/issues")))
        .map(|r| {
            let body: serde_json::Value = serde_json::from_str(&r.body).expect("a JSON request");
            body["body"].as_str().unwrap_or_default().to_string()
        })
        .collect()
}

/// mallory (no write access) comments `/hotfix approve` 1,500 times on
/// `pull`, a second apart from its opening; nothing is delivered.
fn mallorys_approval_flood(h: &Harness, pull: &PullSeed) {
    for i in 0..1_500 {
        h.gh.add_comment_at(
            REPO,
            pull.number,
            "mallory",
            "/hotfix approve",
            pull.created_at + Duration::seconds(i),
        );
    }
}

/// Before the P0 is merged, mallory, who has no write access (anyone who
/// can read a public repository can comment), posts `/hotfix approve`
/// 1,500 times (GitHub's content-creation limit is about 80 a minute per
/// account: twenty minutes, or a minute with twenty accounts). None of
/// them counts, and the P0 is approved by both roles and merged. The
/// follow-up issue the app opens must be one GitHub accepts: its body
/// within GitHub's 65,536 characters.
///
/// Reproduction (on this commit): `post_merge::follow_up_issue` puts every
/// approval command (`PullRequestFacts::comments`: every `/hotfix approve`,
/// whoever wrote it, counted or not) and every approving review into the
/// incident report's timeline (`report::post_merge::incident_report`), one
/// row each, without a bound: 1,500 rows make a body of about 73,000
/// characters. On GitHub the 422 is not transient, so every evaluation
/// ends in `FollowUp::Refused` and the post-incident review is never opened
/// (visible: the sticky comment says the issue could not be opened; the
/// step falls to people). Severity: low (visible), the class of review 18's
/// title finding, for the body.
///
/// Fix to consider: list only the approvals that counted (the verdict's
/// role slots and counted approvals, already computed), and bound the body
/// like the titles (`report::title`): cut the timeline with "… n more" so
/// the body fits 65,536 characters whatever the pull request holds.
///
/// Checked that the test can fail and pass: it fails on this commit (the
/// body sent is over the limit); with 50 comments instead of 1,500 it
/// passes.
///
/// Fixed: the report lists only the approvals that counted, and
/// `report::title::fit_body` cuts its timeline to fit, saying so (the test
/// fails again only when both are reverted).
#[tokio::test]
async fn a_non_writers_approval_flood_does_not_make_github_refuse_the_follow_up() {
    let (h, pull) = merged::merged_approved_p0().await;
    mallorys_approval_flood(&h, &pull);
    h.pull_request("closed", pull.number).await;
    attacks::assert_the_follow_up_is_opened_and_named(&h, pull.number);
    let bodies = issue_bodies_sent(&h);
    assert_eq!(bodies.len(), 1, "one follow-up issue is asked for");
    let chars = bodies[0].chars().count();
    assert!(
        chars <= GITHUB_BODY_LIMIT,
        "the follow-up's body is {chars} characters, over GitHub's {GITHUB_BODY_LIMIT}"
    );
}

// ---- Attack 3: the incident record names approvals that did not count ----

/// The author (dana) and mallory (no write access) each comment
/// `/hotfix approve` on the P0 (neither counts: the author may not approve
/// their own hotfix, mallory cannot write); both roles approve by review
/// and alice merges it. The follow-up issue's incident report is the
/// procedure's record of who approved the hotfix: it must name the
/// approvals that counted (alice, oncall-olga), not the author's
/// self-approval or a non-writer's.
///
/// Reproduction (on this commit): `post_merge::follow_up_issue` builds the
/// report's approvals from every approving review and every approval
/// command, counted or not, so the timeline reads "Approved by @dana" and
/// "Approved by @mallory". Severity: low (the check and the after-merge
/// steps are right; the record of who approved a production change is
/// not, and a non-writer can write themselves into it).
///
/// Fix to consider: take the approvals from the verdict (those that filled
/// a role or counted), as the sticky comment's "Approvals" list does.
///
/// Checked that the test can fail and pass: it fails on this commit (the
/// body has both rows); without the two comments it passes.
///
/// Fixed: `post_merge::follow_up_issue` takes the approvals from the
/// verdict's `ApprovalReport::approvals`.
#[tokio::test]
async fn the_incident_report_names_only_the_approvals_that_counted() {
    let (h, pull) = merged::merged_approved_p0().await;
    for who in ["dana", "mallory"] {
        h.gh.add_comment_at(
            REPO,
            pull.number,
            who,
            "/hotfix approve",
            pull.created_at + Duration::minutes(3),
        );
    }
    h.pull_request("closed", pull.number).await;
    attacks::assert_the_follow_up_is_opened_and_named(&h, pull.number);
    let bodies = issue_bodies_sent(&h);
    assert_eq!(bodies.len(), 1, "one follow-up issue is asked for");
    let body = &bodies[0];
    assert!(body.contains("Approved by @alice"), "{body}");
    assert!(body.contains("Approved by @oncall-olga"), "{body}");
    assert!(!body.contains("Approved by @mallory"), "{body}");
    assert!(!body.contains("Approved by @dana"), "{body}");
}

// ---- Attack 4: a push to the author's own fork, through their own install --

/// The P0 is merged into `main` and its merge-back pull request into
/// `develop` is open: the merge-back check waits, and a push to `develop`
/// re-evaluates the hotfix (`server::webhook::waiting_merge_backs`).
/// mallory (no write access on `octo/app`) forks it to `mallory/app` and
/// installs the app there (anyone may install a public GitHub App on
/// their own repositories; GitHub signs that installation's deliveries
/// with the same webhook secret), then pushes to her fork's `develop`
/// (which, say, already holds the merged fix). GitHub's signed `push`
/// delivery names `mallory/app` and her installation. It must neither
/// complete the merge-back nor make the app evaluate anything of
/// `octo/app`: the merge-back check still waits, naming the pull request.
///
/// Outcome: the attack fails (`Store::merge_backs_waiting_on` is keyed by
/// installation and repository).
///
/// Checked that the test can fail: its last step delivers the same push
/// for `octo/app` (GitHub's delivery of a push to the real `develop`),
/// which re-evaluates the hotfix (the pull request is read again), so the
/// "nothing of `octo/app` is read" assertion tells an evaluation from
/// none.
#[tokio::test]
async fn a_push_to_the_authors_fork_through_their_own_installation_completes_no_merge_back() {
    let (h, pull) = merged::merged_approved_p0().await;
    h.pull_request("closed", pull.number).await;
    let merge_back = merged::merge_back_run;
    let waiting = merge_back(&h);
    assert_eq!(waiting.status, "in_progress", "precondition: {waiting:?}");
    let title = waiting.title.clone().unwrap_or_default();
    assert!(
        title.starts_with("Waiting for #") && title.ends_with("to merge into develop"),
        "precondition: {title}"
    );

    const FORK: &str = "mallory/app";
    const FORK_INSTALLATION: u64 = 99;
    h.gh.set_compare(FORK, "develop", MERGE_SHA, "behind");
    // Every request about `octo/app` (the fork's own installation reads
    // its own policy for its push audit: that is mallory's repository).
    let upstream = |h: &Harness| {
        h.gh.requests()
            .iter()
            .filter(|r| r.path.starts_with(&format!("/repos/{REPO}/")))
            .count()
    };
    let before = upstream(&h);
    let mut push = common::webhook::push_event(
        FORK,
        "refs/heads/develop",
        &["src/fix.rs"],
        FORK_INSTALLATION,
    );
    push["sender"]["login"] = "mallory".into();
    push["pusher"]["name"] = "mallory".into();
    let status = h.deliver("push", &push).await;
    assert!(status.is_success(), "{status}");
    h.settle().await;
    assert_eq!(upstream(&h), before, "nothing of {REPO} is read or written");
    let still = merge_back(&h);
    assert_eq!(
        (still.status.as_str(), still.title.as_deref()),
        ("in_progress", Some(title.as_str())),
        "{still:?}"
    );
    assert_eq!(
        still.update_count, waiting.update_count,
        "the merge-back check is not written again"
    );

    // The measure tells an evaluation from none: GitHub's delivery of a
    // push to `octo/app`'s `develop` re-evaluates the hotfix (which still
    // waits: `develop` does not contain the fix).
    let push = common::webhook::push_event(REPO, "refs/heads/develop", &["src/fix.rs"], 1);
    attacks::delivered(&h, "push", &push).await;
    assert!(upstream(&h) > before, "the hotfix is evaluated");
    assert_eq!(merge_back(&h).status, "in_progress");
}

// ---- Attack 5: the same flood against the open P0's check and comment ----

/// GitHub's longest check run `output.summary` or `output.text`, in
/// characters (a longer one is refused, 422).
const GITHUB_CHECK_OUTPUT_LIMIT: usize = 65_535;

/// mallory (no write access) posts `/hotfix approve` 1,500 times on the
/// open, unapproved P0, then once more (delivered). None of them counts:
/// the check fails naming the missing roles, and what the app writes
/// (the check run's summary and text, the sticky comment) stays within
/// GitHub's limits, so nothing she writes makes GitHub refuse the verdict
/// or the comment (a refused write would leave an older verdict standing
/// or the comment unposted).
///
/// Outcome: the attack fails (the report lists the approvals that fill a
/// role, not every command).
///
/// Checked that the test can fail: with the limits at 1,000 characters
/// the sticky comment's assertion fails (1,712 characters: the measure
/// reads what was written).
#[tokio::test]
async fn a_non_writers_approval_flood_neither_passes_nor_overflows_the_open_p0s_report() {
    let (h, pull) = attacks::p0().await;
    mallorys_approval_flood(&h, &pull);
    attacks::approve_by_comment(
        &h,
        pull.number,
        "mallory",
        pull.created_at + Duration::hours(1),
    )
    .await;
    let run = h.check(HEAD_SHA);
    let text = text_of(&run);
    assert_eq!(run.conclusion.as_deref(), Some("failure"), "{text}");
    assert_eq!(
        run.title.as_deref(),
        Some("needs engineering-lead and on-call-manager approval — 2h left to deploy"),
        "{text}"
    );
    assert!(
        text.contains("engineering-lead: missing; on-call-manager: missing"),
        "{text}"
    );
    for (what, len) in [
        (
            "summary",
            run.summary.as_deref().unwrap_or_default().chars().count(),
        ),
        (
            "text",
            run.text.as_deref().unwrap_or_default().chars().count(),
        ),
    ] {
        assert!(
            len <= GITHUB_CHECK_OUTPUT_LIMIT,
            "the check run's {what} is {len} characters"
        );
    }
    let sticky = attacks::sticky(&h, pull.number);
    assert!(
        sticky.chars().count() <= GITHUB_BODY_LIMIT,
        "the sticky comment is {} characters",
        sticky.chars().count()
    );
}

// ---- Attack 6: the author deletes their fork once the P0 is merged --------

/// erin (no write access) sent the P0 from her fork `erin/app`; both roles
/// approve it and alice merges it. Before the merge is evaluated erin
/// deletes her fork (any owner may delete their repository): GitHub then
/// answers the pull request with `head.repo: null` (its head commit stays
/// readable in the base repository). The merged P0 must still get every
/// after-merge step: the follow-up issue and the merge-back pull request
/// (which the app opens from its own branch at the merge commit, never
/// from the fork).
///
/// Outcome: the attack fails (`Pull::head_in_fork` reads a deleted fork as
/// another repository; nothing after the merge needs the fork).
///
/// Checked that the test can fail: with the merge-back refused by GitHub
/// (`POST /git/refs` answered 403) the merge-back assertion fails; the
/// fake's `GET /pulls/7` answer was checked (once, by printing it) to
/// carry `head.repo: null` after `delete_fork`.
#[tokio::test]
async fn a_fork_deleted_by_its_author_after_the_merge_does_not_drop_the_after_merge_steps() {
    const FORK: &str = "erin/app";
    let (h, pull) = merged::merged_p0_by_a_reader("erin", Some(FORK)).await;
    assert!(h.gh.delete_fork(FORK), "precondition: the fork existed");
    h.pull_request("closed", pull.number).await;
    let sticky = attacks::assert_the_follow_up_is_opened_and_named(&h, pull.number);
    assert!(
        h.gh.pulls(REPO)
            .iter()
            .any(|p| p.head_ref == "hotfix-guard/merge-back-7" && p.base_ref == "develop"),
        "the merge-back pull request is opened: {sticky}"
    );
    assert!(sticky.contains("P0 hotfix"), "{sticky}");
}
