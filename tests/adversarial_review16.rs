//! Sixteenth adversarial review of issue 9 (fail closed). Each test plays
//! what only a pull request's author (write access to their own fork, none
//! on the base repository) or a user with triage access can do, through
//! signed deliveries to the real router and the real client talking to the
//! fake GitHub, and asserts the SAFE outcome (conclusion and wording). A
//! passing test is an attack that failed; a test marked
//! `#[ignore = "finding: …"]` is an attack that worked.

use crate::common;

use common::attacks::{self, text_of};
use common::fake_github::{CheckRunRec, PullSeed};
use common::harness::{HEAD_SHA, Harness, REPO};
use common::merged::{
    self, MERGE_SHA, assert_the_post_incident_review_is_opened, without_follow_up,
};
use common::twins::{
    TWIN, approved_p2_twin, assert_the_never_judged_p0_still_fails, edit_the_twin,
};

// ---- A P0 that never got a verdict, beside an approved twin ----------------

/// GitHub answers #`number`'s timeline 502 on every try (1,000 times) and
/// `opened` is delivered for it: its evaluation fails. Answers the
/// `hotfix-policy` run on the harness's head.
async fn opened_never_judged(h: &Harness, number: u64) -> CheckRunRec {
    h.gh.fail_next(
        "GET",
        &format!("/issues/{number}/timeline"),
        502,
        vec![],
        1_000,
    );
    h.pull_request("opened", number).await;
    h.check(HEAD_SHA)
}

/// The author's approved P2 twin #9 passes on the shared head; the P0 #7 is
/// opened on the same commit, but its evaluation fails on every try (here
/// GitHub answers #7's timeline 502: an outage, or any read of #7 that
/// keeps failing). The run shows #7's "could not evaluate" failure. The
/// author then edits #9's title: #9's `success` must not replace #7's
/// placeholder, because the P0 has never been judged and is still open on
/// the commit.
///
/// Reproduction: the placeholder is written as `RunOwner::Unevaluated`,
/// named `pr:7` over #9's `success` (`publish::unevaluated::plan`), and
/// records no commit verdict (`record_commit_verdict` runs only for
/// `RunOwner::Hotfix`); #9's `success` then finds no other unmet verdict:
/// `unmet_commit_verdicts` has none for #7, and `RunOwner::other_hotfix`
/// reads only `hotfix-pr:N`, not `pr:7`. The run on the P0's head shows
/// `success` with no approval of the P0.
#[tokio::test]
async fn a_twins_success_does_not_replace_the_placeholder_of_a_p0_never_judged() {
    let (h, pull) = attacks::p0().await;
    approved_p2_twin(&h, "dana");
    h.pull_request("opened", TWIN).await;
    let run = h.check(HEAD_SHA);
    assert_eq!(
        run.conclusion.as_deref(),
        Some("success"),
        "precondition: the twin passes: {}",
        text_of(&run)
    );
    let run = opened_never_judged(&h, pull.number).await;
    let text = text_of(&run);
    assert_eq!(run.conclusion.as_deref(), Some("failure"), "{text}");
    assert!(
        text.contains("hotfix-guard could not evaluate this pull request"),
        "precondition: the P0 was never judged: {text}"
    );

    edit_the_twin(&h).await;
    assert_the_never_judged_p0_still_fails(
        &h,
        "the P0 never judged must not pass on its twin's approval",
    );
}

// ---- A merged P0 whose change breaks the policy on the default branch ------

/// The P0's change also edits `.github/hotfix-policy.yml` into YAML that
/// does not parse. The edit is annotated ("Invalid hotfix policy") but is
/// not a requirement: both roles approve the P0, the check passes, alice
/// merges it. The merge makes the author's file the policy in force (the
/// `push` to `main` is delivered first, as it may be). The merged P0 must
/// still get its follow-up issue (and the sticky comment naming it): the
/// procedure's post-incident review is owed whatever the file now says.
///
/// Reproduction: `Engine::evaluate` loads the policy of the default branch
/// (`PolicyCache::get` → `policy::parse` errors) and returns after writing
/// the policy-error run, before `post_merge::run`: no follow-up, no
/// merge-back, no tag, for this hotfix ever (nothing re-runs the post-merge
/// steps once the policy is fixed by a later push).
///
/// Fixed: a pull request merged into the default branch is judged by the
/// policy before its own merge, the file at its `base.sha`
/// (`engine::merged`).
#[tokio::test]
async fn a_merged_p0_that_breaks_the_policy_file_still_gets_its_follow_up() {
    let h = merged_p0_editing_the_policy(BROKEN, true).await;
    assert_the_post_incident_review_is_opened(&h, 7);
}

/// The control: the same merged P0 with its policy edit not (yet) in
/// force on `main` gets its follow-up, so the broken policy alone makes
/// the difference above.
#[tokio::test]
async fn with_the_policy_on_main_still_readable_the_merged_p0_gets_its_follow_up() {
    let h = merged_p0_editing_the_policy(BROKEN, false).await;
    assert_the_post_incident_review_is_opened(&h, 7);
}

/// Policy text that does not parse.
const BROKEN: &str = "version: [\n";

/// The variant with a valid edit: the same P0's change also drops P0's
/// `follow_up` from the policy (the diff shows it; the pull request is not
/// judged by its own policy, so the check is unchanged and passes on both
/// roles' approvals). Once merged, that policy is in force: the merged P0,
/// which owed a post-incident review under the policy that judged it, must
/// still get it.
///
/// Reproduction: `post_merge::run` reads `severity.follow_up` from the
/// policy loaded when the `closed` delivery is evaluated; after the `push`
/// to `main` that is the author's edit, so no follow-up is opened and the
/// sticky comment names none. Without the push first (the delivery order is
/// GitHub's, not the app's) the same hotfix gets it.
///
/// Fixed as above: the policy at the pull request's `base.sha` judges it.
#[tokio::test]
async fn a_merged_p0_that_drops_its_follow_up_from_the_policy_still_gets_it() {
    let h = merged_p0_editing_the_policy(&without_follow_up(), true).await;
    assert_the_post_incident_review_is_opened(&h, 7);
}

/// The harness's P0 #7, its change also editing the policy file into
/// `edited` (`BROKEN` gets an annotation; a valid edit none), approved by
/// both roles (the check passes: asserted), then merged by alice; with
/// `in_force`, the merge made the file the policy on `main` and its `push`
/// is delivered first.
async fn merged_p0_editing_the_policy(edited: &str, in_force: bool) -> common::harness::Harness {
    let (h, pull) = attacks::p0().await;
    h.gh.set_file(REPO, &pull.head_sha, ".github/hotfix-policy.yml", edited);
    h.gh.set_pull_files(
        REPO,
        pull.number,
        [
            ("src/fix.rs", 3, 1),
            ("VERSION", 1, 1),
            (".github/hotfix-policy.yml", 1, 40),
        ],
    );
    attacks::approved_by_both_roles(&h, pull.number, HEAD_SHA);
    h.pull_request("opened", pull.number).await;
    let run = h.check(HEAD_SHA);
    let text = text_of(&run);
    assert_eq!(
        run.conclusion.as_deref(),
        Some("success"),
        "precondition: the approved P0 passes, its policy edit annotated: {text}"
    );
    assert_eq!(
        !run.annotations.is_empty(),
        edited == BROKEN,
        "precondition: only the broken policy edit is annotated: {text}"
    );
    if in_force {
        // The merge moves `main` to its merge commit, which carries the
        // author's file; the base commit keeps the policy it had (the
        // fake keys the seeded file by the branch name, so it is pinned at
        // the base commit before the branch moves).
        h.gh.set_file(
            REPO,
            common::harness::BASE_SHA,
            ".github/hotfix-policy.yml",
            common::harness::POLICY,
        );
        merged::main_moves_to_the_merge(&h, edited);
        merged::push_to_main(&h, &[".github/hotfix-policy.yml"]).await;
    }
    attacks::merge(&h, pull.number, MERGE_SHA).await;
    h
}

/// The policy before a merge is read once per base commit: a commit never
/// changes, so a second evaluation of the merged P0 (a redelivery, a
/// re-run) reads it from the cache, whatever pushes changed the policy
/// generation since.
#[tokio::test]
async fn the_policy_before_a_merge_is_read_once_per_base_commit() {
    use common::harness::BASE_SHA;
    let h = merged_p0_editing_the_policy(&without_follow_up(), true).await;
    let at_base = |h: &common::harness::Harness| {
        h.gh.requests()
            .iter()
            .filter(|r| {
                r.method == "GET"
                    && r.path.ends_with("/contents/.github/hotfix-policy.yml")
                    && r.query.contains(&format!("ref={BASE_SHA}"))
            })
            .count()
    };
    assert_eq!(
        at_base(&h),
        1,
        "read once at the merge: {:#?}",
        h.gh.requests()
    );
    h.gh.clear_requests();
    h.pull_request("closed", 7).await;
    println!("merged P0, a second evaluation: {} calls", h.gh.api_calls());
    assert_eq!(at_base(&h), 0, "not read again: {:#?}", h.gh.requests());
    attacks::assert_the_follow_up_is_opened_and_named(&h, 7);
}

/// The repository has no policy file of its own: the organisation's
/// `.github` repository's judges it. The P0's change adds
/// `.github/hotfix-policy.yml` without P0's `follow_up` (a new file on the
/// diff, not a requirement; the check passes on both roles' approvals).
/// Once merged, the repository's own file is the policy in force; the
/// merged P0 is judged by what judged it before its merge (no file at its
/// base commit: the organisation's), and gets its follow-up.
#[tokio::test]
async fn a_merged_p0_that_adds_a_looser_policy_file_still_gets_its_follow_up() {
    use common::harness::{POLICY, POLICY_PATH, REPO};
    let loosened = without_follow_up();
    let (h, pull) = attacks::p0().await;
    h.gh.remove_file(REPO, "main", POLICY_PATH);
    h.gh.set_file("octo/.github", "main", POLICY_PATH, POLICY);
    h.gh.set_file(REPO, &pull.head_sha, POLICY_PATH, &loosened);
    h.gh.set_pull_files(
        REPO,
        pull.number,
        [
            ("src/fix.rs", 3, 1),
            ("VERSION", 1, 1),
            (POLICY_PATH, 40, 0),
        ],
    );
    attacks::approved_by_both_roles(&h, pull.number, HEAD_SHA);
    h.pull_request("opened", pull.number).await;
    let run = h.check(HEAD_SHA);
    let text = text_of(&run);
    assert_eq!(
        run.conclusion.as_deref(),
        Some("success"),
        "precondition: the approved P0 passes under the organisation's policy: {text}"
    );
    assert!(
        text.contains("using the organisation's policy from its `.github` repository"),
        "precondition: judged by the organisation's policy: {text}"
    );
    // The merge: `main` moves to the merge commit, which has the file.
    merged::main_moves_to_the_merge(&h, &loosened);
    merged::push_to_main(&h, &[POLICY_PATH]).await;
    attacks::merge(&h, pull.number, MERGE_SHA).await;
    assert_the_post_incident_review_is_opened(&h, 7);
}

/// A writer broke the policy on `main` before the P0 merged (the P0 never
/// passed: its run was the policy error), then fixed it after the merge.
/// The P0's own change edits the policy file too, so the merged P0 is
/// judged by the policy before its merge, which does not parse: the run
/// fails closed as before, and says that the after-merge steps are not
/// taken and must be taken by hand (never silent), rather than taking them
/// under a policy its own merge may have written. (Without the P0's own
/// edit, the writer's fix, the policy in force, judges it: review 18.)
#[tokio::test]
async fn a_merged_p0_whose_policy_was_broken_before_its_merge_says_its_steps_are_not_taken() {
    use common::harness::{BASE_SHA, POLICY, POLICY_PATH, REPO};
    let (h, pull) = attacks::p0().await;
    h.gh.set_pull_files(
        REPO,
        pull.number,
        [("src/fix.rs", 3, 1), ("VERSION", 1, 1), (POLICY_PATH, 1, 1)],
    );
    h.gh.set_file(REPO, "main", POLICY_PATH, BROKEN);
    attacks::approved_by_both_roles(&h, pull.number, HEAD_SHA);
    h.pull_request("opened", pull.number).await;
    let run = h.check(HEAD_SHA);
    assert_eq!(
        run.title.as_deref(),
        Some("hotfix-policy.yml is invalid"),
        "precondition: {}",
        text_of(&run)
    );
    // Merged on the broken policy; a writer's fix lands on `main` after.
    h.gh.set_file(REPO, BASE_SHA, POLICY_PATH, BROKEN);
    merged::main_moves_to_the_merge(&h, POLICY);
    merged::push_to_main(&h, &[POLICY_PATH]).await;
    attacks::merge(&h, pull.number, MERGE_SHA).await;
    let run = h.check(HEAD_SHA);
    let text = text_of(&run);
    assert_eq!(run.conclusion.as_deref(), Some("failure"), "{text}");
    assert_eq!(
        run.title.as_deref(),
        Some("hotfix-policy.yml is invalid"),
        "{text}"
    );
    assert!(
        text.contains("This pull request was merged into `main`")
            && text.contains("its base commit `b0b0b0b`")
            && text.contains(
                "hotfix-guard takes none of a hotfix's after-merge steps for this pull request (follow-up issue, merge-back, release tag)"
            )
            && text.contains("take them by hand"),
        "{text}"
    );
    assert!(
        h.gh.issues(REPO).is_empty(),
        "no follow-up under a policy written after the merge"
    );
}

// ---- A plain pull request on the head of a P0 never judged -----------------

/// The author opens a plain pull request #10 (branch `feature/login`, no
/// labels: not a hotfix) on the P0's head commit; its verdict, `neutral`,
/// is the run's. The P0 #7 on the same commit is then opened, and its
/// evaluation fails on every try (GitHub answers #7's timeline 502): the
/// run shows #7's "could not evaluate" failure. The author edits #10's
/// title: #10's not-a-hotfix verdict must not replace the failure of a P0
/// that is open on the commit and was never judged; `neutral` passes a
/// required check.
///
/// Reproduction: the placeholder over #10's `neutral` is named `pr:7`
/// (`publish::unevaluated::plan`: "over anything else … names the failing
/// pull request, `pr:N`"), and a not-a-hotfix verdict may replace any run
/// named `pr:…` (`RunOwner::may_replace_shown`), so #10's `neutral`
/// replaces the P0's only run with no approval at all.
#[tokio::test]
async fn a_plain_pull_requests_verdict_does_not_replace_the_placeholder_of_a_p0_never_judged() {
    let (h, pull) = attacks::p0().await;
    let plain = common::twins::pull_on_the_head(&h, 10, "feature/login");
    common::twins::add_with_the_fix(&h, &plain);
    h.pull_request("opened", plain.number).await;
    let run = h.check(HEAD_SHA);
    assert_eq!(
        run.conclusion.as_deref(),
        Some("neutral"),
        "precondition: the plain pull request is not a hotfix: {}",
        text_of(&run)
    );
    let run = opened_never_judged(&h, pull.number).await;
    let text = text_of(&run);
    assert_eq!(run.conclusion.as_deref(), Some("failure"), "{text}");
    assert!(
        text.contains("hotfix-guard could not evaluate this pull request"),
        "precondition: the P0 was never judged: {text}"
    );

    h.gh.update_pull(REPO, plain.number, |p| {
        p.title = "feat: tidy the login page".into()
    });
    h.pull_request("edited", plain.number).await;
    assert_the_never_judged_p0_still_fails(
        &h,
        "a plain pull request must not pass the P0 never judged",
    );
}

// ---- A P0 its author closed before any evaluation finished -----------------

/// The author (erin, no write access) closes the P0 a writer (dana)
/// labelled before any evaluation of it finished; every evaluation then
/// fails after the labels are read (GitHub answers the version file's
/// read 502 on every try: an outage, or any later read that keeps
/// failing). The close
/// is by someone who could not take the pull request out of the procedure,
/// so the escalation must not be silenced: the deadline is watched from
/// the designation as for an open pull request, and the sweep posts the
/// escalation when it passes.
///
/// Reproduction: `early_watch::record` returns without recording for any
/// closed pull request (`pull.state == "closed"`), whoever closed it; the
/// full evaluation, which judges the close (`closer::judge`) and would keep
/// the watch for a non-writer's close, never finishes. Nothing is watched,
/// and no sweep ever posts the escalation. (Open, the same failing P0 is
/// watched: `unreadable_head_files`; closed by its author with evaluations
/// that succeed, it is escalated: `adversarial_review`.)
#[tokio::test]
async fn a_p0_closed_by_its_author_before_any_verdict_still_has_its_deadline_watched() {
    let (h, pull, text) = erins_p0_closed_by_before_any_verdict("erin").await;
    assert_eq!(
        h.app.engine.watched().await,
        1,
        "the P0's deadline is watched though its author closed it: {text}"
    );
    h.clock.advance(chrono::Duration::minutes(125));
    assert_eq!(h.app.engine.sweep().await, 1, "{text}");
    assert_eq!(attacks::escalations(&h, pull.number), 1, "{text}");
}

/// erin's P0 (she has read access; labels by dana, a writer) closed by
/// `closer` while GitHub answers the version file's read 502 on every try:
/// every evaluation fails after the labels are read (asserted, as a
/// precondition). Answers the harness, the pull request and the run's text.
async fn erins_p0_closed_by_before_any_verdict(closer: &str) -> (Harness, PullSeed, String) {
    let (h, pull) = attacks::p0_with(|p0| PullSeed {
        author: "erin".into(),
        ..p0
    })
    .await;
    h.gh.set_permission(REPO, "erin", "read");
    h.gh.fail_next("GET", "/contents/VERSION", 502, vec![], 1_000);
    h.gh.update_pull(REPO, pull.number, |p| p.state = "closed".into());
    h.gh.add_state_event(REPO, pull.number, "closed", closer, chrono::Utc::now());
    h.pull_request("closed", pull.number).await;
    let text = text_of(&h.check(HEAD_SHA));
    assert!(
        text.contains("hotfix-guard could not evaluate this pull request"),
        "precondition: every evaluation failed: {text}"
    );
    (h, pull, text)
}

/// The control: the same P0, its evaluations failing the same way, closed
/// by alice (write access). The early watch records it too (it does not
/// read who closed it), but the sweep judges the close from the timeline:
/// a writer's close takes the pull request out of the procedure, so no
/// escalation is posted and the watch is dropped.
#[tokio::test]
async fn a_p0_closed_by_a_writer_before_any_verdict_is_not_escalated() {
    let (h, pull, text) = erins_p0_closed_by_before_any_verdict("alice").await;
    h.clock.advance(chrono::Duration::minutes(125));
    assert_eq!(h.app.engine.sweep().await, 0, "{text}");
    assert_eq!(attacks::escalations(&h, pull.number), 0, "{text}");
    assert_eq!(
        h.app.engine.watched().await,
        0,
        "a writer's close ends the watch at the sweep"
    );
}

// ---- The placeholder of a P0 never judged, laundered another way -----------

/// The twin #9 is not approved yet: its `failure` is the run's. The P0 #7
/// on the same commit is opened and its evaluation fails on every try: the
/// run already shows a failure, so the placeholder keeps the twin's name
/// (`hotfix-pr:9`) and says #7 could not be evaluated. bob then approves
/// the twin and the author edits it: the twin's `success` must still be
/// held back, since the P0 was never judged.
///
/// Checked that the test can fail: without the placeholder's record in
/// `commit_verdicts` (`RunOwner::Unevaluated` recording nothing), the run
/// names only the twin, nothing else is unmet, and the twin's `success`
/// replaces it.
#[tokio::test]
async fn a_twin_cannot_launder_the_placeholder_of_a_p0_never_judged_through_its_own_failure() {
    let (h, pull) = attacks::p0().await;
    let twin = PullSeed {
        labels: vec!["hotfix".into(), "P2".into()],
        ..common::twins::pull_on_the_head(&h, TWIN, "hotfix/twin")
    };
    common::twins::add_with_the_fix(&h, &twin);
    h.label_events_by(&twin, "dana");
    h.pull_request("opened", TWIN).await;
    let run = h.check(HEAD_SHA);
    assert_eq!(
        (run.conclusion.as_deref(), run.external_id.as_deref()),
        (Some("failure"), Some("hotfix-pr:9")),
        "precondition: the unapproved twin fails: {}",
        text_of(&run)
    );
    let run = opened_never_judged(&h, pull.number).await;
    let text = text_of(&run);
    assert!(
        text.contains("hotfix-guard could not evaluate this pull request"),
        "precondition: the P0 was never judged: {text}"
    );

    h.gh.add_review(REPO, TWIN, "bob", "APPROVED", HEAD_SHA);
    edit_the_twin(&h).await;
    assert_the_never_judged_p0_still_fails(
        &h,
        "the twin's approval must not pass the P0 never judged",
    );
}

/// The placeholder `pr:7` over the twin's `success`, as in the first test;
/// then the store is lost (a replacement instance on a store of its own)
/// and the author edits the twin. With no record, the run GitHub lists is
/// all there is: its placeholder names #7, still open on the commit, so
/// the twin's `success` is held back.
///
/// Checked that the test can fail: with `RunOwner::other_unmet` reading
/// only `hotfix-pr:N` (not another pull request's placeholder), the
/// twin's `success` replaces the placeholder.
#[tokio::test]
async fn with_the_store_lost_a_twins_success_still_does_not_replace_the_placeholder() {
    let (h, pull) = attacks::p0().await;
    approved_p2_twin(&h, "dana");
    h.pull_request("opened", TWIN).await;
    let run = opened_never_judged(&h, pull.number).await;
    assert_eq!(
        (run.conclusion.as_deref(), run.external_id.as_deref()),
        (Some("failure"), Some("pr:7")),
        "precondition: the placeholder names the P0: {}",
        text_of(&run)
    );

    let replacement = common::harness::Harness::on_shared(&h).await;
    edit_the_twin(&replacement).await;
    assert_the_never_judged_p0_still_fails(&replacement, "the replacement instance");
}

/// A plain pull request #10 (not a hotfix) on the twin's commit, whose
/// evaluation fails on every try, holds the twin's `success` back only
/// until it is judged: once GitHub answers again and #10 is evaluated
/// (`neutral`, replacing its own placeholder), its record is removed, and
/// the twin edited again passes.
///
/// Checked that the test can fail: with a not-a-hotfix verdict not
/// removing its pull request's record, the twin stays held back.
#[tokio::test]
async fn a_plain_pull_requests_placeholder_holds_a_twin_back_only_until_it_is_judged() {
    let (h, _pull) = attacks::p0().await;
    h.gh.update_pull(REPO, 7, |p| p.state = "closed".into());
    approved_p2_twin(&h, "dana");
    let plain = common::twins::pull_on_the_head(&h, 10, "feature/login");
    common::twins::add_with_the_fix(&h, &plain);
    h.pull_request("opened", TWIN).await;
    assert_eq!(h.check(HEAD_SHA).conclusion.as_deref(), Some("success"));
    let run = opened_never_judged(&h, plain.number).await;
    assert_eq!(
        (run.conclusion.as_deref(), run.external_id.as_deref()),
        (Some("failure"), Some("pr:10")),
        "precondition: #10's placeholder: {}",
        text_of(&run)
    );
    edit_the_twin(&h).await;
    assert_eq!(
        h.check(HEAD_SHA).conclusion.as_deref(),
        Some("failure"),
        "held back while #10 is not judged"
    );

    assert!(h.gh.recover("/issues/10/timeline") > 0);
    h.pull_request("edited", plain.number).await;
    let run = h.check(HEAD_SHA);
    assert_eq!(
        (run.conclusion.as_deref(), run.external_id.as_deref()),
        (Some("neutral"), Some("pr:10")),
        "#10 judged: {}",
        text_of(&run)
    );
    edit_the_twin(&h).await;
    let run = h.check(HEAD_SHA);
    assert_eq!(
        (run.conclusion.as_deref(), run.external_id.as_deref()),
        (Some("success"), Some("hotfix-pr:9")),
        "{}",
        text_of(&run)
    );
}
