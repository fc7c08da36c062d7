//! A merged hotfix's after-merge steps are taken, or the run says how to
//! have them taken: a merge-back done by hand into a `develop` that is the
//! repository's default branch (the push to it re-evaluates the hotfix
//! waiting on that merge-back, also when the push changes the policy file,
//! then a policy change as well: the cache dropped first); and a P0 merged
//! while the policy in force does not parse.

use crate::common;

use common::attacks;
use common::harness::{POLICY, POLICY_PATH, REPO};
use common::merged::{self, DEVELOP_AFTER};

/// GitHub refuses the app's merge-back branch (403), so the merge-back
/// check fails and says to merge back by hand; a writer does, and the push
/// to the default `develop` also modifies the policy file. The merge-back
/// check turns to success and the sticky comment says `develop` contains
/// the fix.
///
/// Checked that the test can fail: with `Intake::PolicyChanged`'s `pushed`
/// ignored in `server::webhook` (the cache dropped, no hotfix looked up),
/// the merge-back check stays `failure`.
#[tokio::test]
async fn a_merge_back_by_hand_that_also_changes_the_policy_completes_the_merge_back_check() {
    let (h, pull) = merged::merged_with_the_merge_back_refused_into_a_default_develop().await;
    h.gh.set_file(REPO, DEVELOP_AFTER, POLICY_PATH, POLICY);
    merged::merged_back_by_hand(&h, &["src/fix.rs", POLICY_PATH]).await;
    merged::assert_the_merge_back_by_hand_completes(&h, pull.number);
}

/// A P0 whose change leaves the policy file alone is merged while a
/// writer's broken policy is in force (the policy that judges it: the one in
/// force, `engine::merged`). The run fails closed naming the file, and says
/// that no after-merge step is taken now and how to have them taken; once a
/// writer fixes the file, a re-run of the check takes them (the follow-up
/// issue is opened).
///
/// Checked that the test can fail: without the section
/// (`report::post_merge::unreadable_policy_in_force_after_merge` not
/// appended in `Engine::evaluate`), the first assertion on the wording fails.
#[tokio::test]
async fn a_p0_merged_under_a_broken_policy_in_force_says_how_to_have_its_steps_taken() {
    use common::harness::HEAD_SHA;
    use common::webhook::CheckRunSpec;
    let (h, pull) = attacks::merged_approved_p0(POLICY, merged::MERGE_SHA).await;
    h.gh.set_file(REPO, "main", POLICY_PATH, "version: [\n");
    h.gh.clear_requests();
    h.pull_request("closed", pull.number).await;
    let run = h.check(HEAD_SHA);
    let text = attacks::text_of(&run);
    assert_eq!(run.conclusion.as_deref(), Some("failure"), "{text}");
    // The pull request is read once (then its timeline and files, to know
    // which policy judges it), not again with them.
    let pull_path = format!("/repos/{REPO}/pulls/{}", pull.number);
    let pull_reads = h.gh.requests().into_iter();
    let pull_reads = pull_reads.filter(|r| r.method == "GET" && r.path == pull_path);
    assert_eq!(pull_reads.count(), 1, "{:#?}", h.gh.requests());
    assert!(
        text.contains("merged into `main` and is judged by the policy in force")
            && text
                .contains("takes none of a hotfix's after-merge steps for this pull request now")
            && text.contains("re-run this check to have them taken"),
        "{text}"
    );
    assert!(
        h.gh.issues(REPO).is_empty(),
        "no step under a broken policy"
    );

    // A writer fixes the policy; someone re-runs the check.
    h.gh.set_file(REPO, "main", POLICY_PATH, POLICY);
    merged::push_to_main(&h, &[POLICY_PATH]).await;
    let spec = CheckRunSpec {
        repo: REPO.into(),
        name: "hotfix-policy".into(),
        head_sha: HEAD_SHA.into(),
        head_branch: "hotfix/login".into(),
        pull_numbers: vec![],
        check_run_id: run.id,
        sender: "alice".into(),
        ..CheckRunSpec::default()
    };
    let mut payload = common::webhook::check_run_rerequested(&spec);
    payload["check_run"]["external_id"] = run.external_id.clone().into();
    attacks::delivered(&h, "check_run", &payload).await;
    attacks::assert_the_follow_up_is_opened_and_named(&h, pull.number);
}
