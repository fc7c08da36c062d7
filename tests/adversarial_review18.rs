//! Eighteenth adversarial review of issue 9 (fail closed): the post-merge
//! path, and the policy that judges a merged pull request (`engine::merged`:
//! the file at its `base.sha` when its own change edits the policy file,
//! else the policy in force). Each test plays what only a pull
//! request's author (write access to their own fork, none on the base
//! repository) or a user with triage access can do, through signed
//! deliveries to the real router and the real client talking to the fake
//! GitHub, and asserts the SAFE outcome (conclusion and wording). A passing
//! test is an attack that failed; a test marked `#[ignore = "finding: …"]`
//! is an attack that worked.

use crate::common;

use chrono::Duration;
use common::attacks::{self, text_of};
use common::harness::{BASE_SHA, HEAD_SHA, POLICY, POLICY_PATH, REPO};
use common::merged::{self, DEVELOP_AFTER, MERGE_SHA, TIGHTENED_SHA, without_follow_up};

// ---- Attack 1: a base.sha older than the policy the P0 was approved under --

/// GitHub's `base.sha` is the base branch's tip when the pull request was
/// opened (or last pushed to); it does not follow the base branch (github/
/// docs#431: "the latest commit of the base branch at the time the PR got
/// created"). The author opens the P0 while the policy on `main` owes no
/// follow-up for P0; a writer then adds P0's `follow_up` (the procedure's
/// post-incident review) to `main`'s policy. The author pushes nothing
/// more, so `base.sha` stays at the commit before the writer's change. The
/// P0 is judged open by the policy in force, which owes the follow-up (the
/// sticky comment says "After the merge: **Post-incident review** within
/// 24h"), is approved and merged. The merged P0 must get the follow-up
/// the policy in force at its merge (and the one it was approved under)
/// owes.
///
/// Reproduction: `merged::policy_before_merge` reads the policy at
/// `pull.base.sha` (`PolicyCache::get_at`), the policy of the commit the
/// pull request was opened on, older than the writer's change; under it P0
/// owes no follow-up, so `post_merge::run` opens none and the sticky
/// comment's after-merge section names none (nor says a step was
/// skipped). No attacker is needed (any hotfix open across a policy change
/// meets it), and an author chooses which earlier commit of `main` judges
/// their merge by when they open the pull request (and, where GitHub moves
/// `base.sha` on a push, by not pushing again).
///
/// A fix to consider: judge the merge by the default branch as it was just
/// before it, e.g. the `before` of the push whose `after` is
/// `merge_commit_sha` (the push delivery, or `GET /repos/{o}/{r}/activity`,
/// already read for heads), which holds for merge, squash and rebase
/// merges alike; or owe the union of what the policy at `base.sha` and the
/// policy of the last pre-merge verdict ask.
/// Fixed: a merged pull request that leaves the policy file alone is judged
/// by the policy in force, a writer's (`engine::merged::may_edit_policy`).
#[tokio::test]
async fn a_p0_opened_before_the_follow_up_was_required_still_gets_it_after_the_merge() {
    let h = opened_under_the_loose_policy_then_tightened().await;
    merged::assert_told_it_owes_the_follow_up(&h, 7);
    merged::main_moves_to_the_merge(&h, POLICY);
    attacks::merge(&h, 7, MERGE_SHA).await;
    merged::assert_the_post_incident_review_is_opened(&h, 7);
}

/// The control: the same P0, its `base.sha` at the writer's change (as
/// after a push of the head following it), gets its follow-up: only the
/// commit `base.sha` names makes the difference above.
#[tokio::test]
async fn with_its_base_sha_after_the_policy_change_the_merged_p0_gets_its_follow_up() {
    let h = opened_under_the_loose_policy_then_tightened().await;
    h.gh.update_pull(REPO, 7, |p| p.base_sha = TIGHTENED_SHA.into());
    h.gh.set_file(REPO, TIGHTENED_SHA, "VERSION", "1.2.3\n");
    merged::main_moves_to_the_merge(&h, POLICY);
    attacks::merge(&h, 7, MERGE_SHA).await;
    merged::assert_the_post_incident_review_is_opened(&h, 7);
}

/// The harness's P0 (#7, base.sha `BASE_SHA`) opened while `main`'s policy
/// owes no follow-up for P0 (pinned at `BASE_SHA`); a writer's push then
/// puts the harness's policy (with the follow-up) on `main`; both roles
/// approve and the P0 is evaluated again: it passes (asserted).
async fn opened_under_the_loose_policy_then_tightened() -> common::harness::Harness {
    let (h, pull) = attacks::p0().await;
    let loose = without_follow_up();
    h.gh.set_file(REPO, "main", POLICY_PATH, &loose);
    h.gh.set_file(REPO, BASE_SHA, POLICY_PATH, &loose);
    h.pull_request("opened", pull.number).await;
    let sticky = attacks::sticky(&h, pull.number);
    assert!(
        !sticky.contains("Post-incident review"),
        "precondition: opened under a policy without the follow-up: {sticky}"
    );
    merged::tightened_then_approved(&h, pull.number, POLICY).await;
    merged::assert_approved_under_the_policy_in_force(&h);
    h
}

// ---- Attack 2: a triage user relabels the merged P0 before its steps ------

/// The P0 is merged (both roles approved it; dana, a writer, set `P0`).
/// Before any evaluation of the merge finished, trina (triage: she can
/// label a closed pull request, not push) removes `P0` and applies `P2`,
/// whose policy owes no follow-up. Her labels must not count: the merged
/// hotfix stays a P0 and gets its post-incident review, and the sticky
/// comment names the P0 and says who removed its label.
///
/// Checked that the test can fail: with `P2` applied by dana (a writer)
/// instead, the same deliveries open no follow-up (the assertion on the
/// opened issue fails), so the test tells a counted relabel from one that
/// is not.
#[tokio::test]
async fn a_triage_users_relabel_of_the_merged_p0_does_not_drop_its_follow_up() {
    let h = merged_p0_relabelled_by("trina").await;
    let sticky = attacks::assert_the_follow_up_is_opened_and_named(&h, 7);
    assert!(sticky.contains("P0 hotfix"), "{sticky}");
    assert!(
        sticky.contains("`P0` removed by `@trina`, who lacks write access"),
        "{sticky}"
    );
}

/// The harness's P0 merged by alice as `MERGE_SHA`, `P0` removed and `P2`
/// applied by `who` after the merge, each delivered.
async fn merged_p0_relabelled_by(who: &str) -> common::harness::Harness {
    let (h, pull) = attacks::merged_approved_p0(POLICY, MERGE_SHA).await;
    h.gh.set_permission(REPO, "trina", "triage");
    h.clock.set(pull.created_at + Duration::minutes(30));
    let at = pull.created_at + Duration::minutes(20);
    h.gh.add_label_event(REPO, pull.number, "P0", who, false, at);
    h.gh.add_label_event(REPO, pull.number, "P2", who, true, at);
    h.gh.set_labels(REPO, pull.number, &["hotfix", "P2"]);
    attacks::label_delivery(&h, pull.number, "unlabeled", "P0").await;
    attacks::label_delivery(&h, pull.number, "labeled", "P2").await;
    h.pull_request("closed", pull.number).await;
    h
}

// ---- Attack 3: the author's edit of the closed P0 after a policy change ---

/// The P0 is merged and gets its follow-up. Later a writer's push changes
/// `main`'s policy so that P0 owes no follow-up (and any label or branch
/// it once matched may no longer); the author then edits the title of
/// their merged pull request (GitHub delivers `edited` for a closed one),
/// and a second instance with a store of its own (its memory of the
/// follow-up lost) evaluates it. The P0's own change edits the policy file,
/// so it is judged by the policy at its `base.sha` (`engine::merged`). The
/// repeated evaluation must not re-decide the merge under the later policy:
/// the sticky comment still names the follow-up, and no second issue is
/// opened. (A merged pull request that leaves the policy file alone is
/// judged by the policy in force, a writer's, like an open one: there a
/// writer's later change legitimately applies.)
///
/// Checked that the test can fail: with `merged::policy_before_merge`
/// answering `None` (the policy in force judges a merged pull request),
/// the edited P0's sticky comment names no follow-up.
#[tokio::test]
async fn an_authors_edit_after_a_later_policy_change_does_not_re_decide_the_merged_p0() {
    let (h, pull) = merged::merged_approved_p0().await;
    h.gh.set_pull_files(
        REPO,
        pull.number,
        [("src/fix.rs", 3, 1), ("VERSION", 1, 1), (POLICY_PATH, 1, 0)],
    );
    h.pull_request("closed", pull.number).await;
    attacks::assert_the_follow_up_is_opened_and_named(&h, pull.number);

    merged::writer_pushes_policy(&h, TIGHTENED_SHA, &without_follow_up()).await;
    let other = common::harness::Harness::on_shared(&h).await;
    h.gh.update_pull(REPO, pull.number, |p| {
        p.title = "fix: stop the login loop (follow-up: none needed)".into()
    });
    other.pull_request("edited", pull.number).await;
    let sticky = merged::assert_the_post_incident_review_is_opened(&other, pull.number);
    assert!(sticky.contains("P0 hotfix"), "{sticky}");
}

// ---- Attack 4: Git Flow with `develop` as the default branch ---------------

/// A Git Flow repository whose default branch is `develop` (common: the
/// branch pull requests target by default), the policy naming `main` as
/// production. The policy in force is `develop`'s file. The P0 targets
/// `main` and its change also drops P0's `follow_up` from the policy file
/// (shown on the diff, not a requirement: approved by both roles, it
/// passes). Merged into `main`, which is not the default branch, the merge
/// changes nothing in force: the P0 gets its follow-up and its merge-back
/// pull request into `develop`. That merge-back carries the author's
/// policy edit; a writer merges it as the procedure asks: the `push` to
/// `develop` puts the author's file in force, and the merge-back's
/// `closed` re-evaluates the hotfix (the merge-back is complete). The re-evaluation must not drop
/// what the merged P0 owes: the sticky comment still names its follow-up.
///
/// Reproduction: `merged::policy_before_merge` returns `None` for a pull
/// request merged into a branch other than the default one ("whose merge
/// does not change the policy in force"), so the re-evaluation is judged
/// by `develop`'s file, which the merge-back made the author's: P0 owes no
/// follow-up, and the after-merge section of the sticky comment loses the
/// "Post-incident review: [#n]" line (the issue itself stays open; nothing
/// names it on the pull request any more, and the procedure's record of
/// what is owed is rewritten by the author's policy).
/// Fixed: a merged pull request whose own change edits the policy file is
/// judged by the file at its `base.sha` whatever branch it merged into
/// (here `main`'s before the merge), never by what its merge-back wrote.
#[tokio::test]
async fn a_merge_back_into_a_default_develop_does_not_let_the_p0s_policy_edit_re_judge_it() {
    let h = merged_back_into_a_default_develop(&without_follow_up()).await;
    merged::assert_the_post_incident_review_is_opened(&h, 7);
}

/// The control: the same P0 with its change leaving the policy file as it
/// is keeps its follow-up named after the merge-back, so the author's
/// policy edit alone makes the difference above.
#[tokio::test]
async fn without_a_policy_edit_the_merge_back_into_a_default_develop_keeps_the_follow_up() {
    let h = merged_back_into_a_default_develop(POLICY).await;
    merged::assert_the_post_incident_review_is_opened(&h, 7);
}

/// The P0 above: `develop` the default branch (the harness's policy
/// there), the P0's head carrying `loose` as the policy file, approved,
/// merged into `main` (follow-up and merge-back asserted), then its
/// merge-back merged by alice (`develop` now holds `loose`), the push and
/// the merge-back's `closed` delivered (the merge-back's completion
/// asserted).
async fn merged_back_into_a_default_develop(loose: &str) -> common::harness::Harness {
    let (h, pull) = attacks::p0().await;
    h.gh.set_default_branch(REPO, "develop");
    h.gh.set_file(REPO, "develop", POLICY_PATH, POLICY);
    // `main`'s file before the merge (the fake keeps files by name, and
    // `main` moves to the merge commit below).
    h.gh.set_file(REPO, BASE_SHA, POLICY_PATH, POLICY);
    h.gh.set_file(REPO, &pull.head_sha, POLICY_PATH, loose);
    h.gh.set_pull_files(
        REPO,
        pull.number,
        [("src/fix.rs", 3, 1), ("VERSION", 1, 1), (POLICY_PATH, 0, 1)],
    );
    attacks::approved_by_both_roles(&h, pull.number, HEAD_SHA);
    h.pull_request("opened", pull.number).await;
    let run = h.check(HEAD_SHA);
    assert_eq!(
        run.conclusion.as_deref(),
        Some("success"),
        "precondition: {}",
        text_of(&run)
    );
    merged::main_moves_to_the_merge(&h, loose);
    attacks::merge(&h, pull.number, MERGE_SHA).await;
    let sticky = attacks::assert_the_follow_up_is_opened_and_named(&h, pull.number);
    assert!(
        sticky.contains("Merge-back"),
        "precondition: the merge-back is under way: {sticky}"
    );

    // A writer merges the merge-back pull request: `develop` now holds the
    // fix and the author's policy file.
    h.gh.set_file(REPO, DEVELOP_AFTER, POLICY_PATH, loose);
    h.gh.set_file(REPO, "develop", POLICY_PATH, loose);
    merged::merged_back_by_hand(&h, &["src/fix.rs", "VERSION", POLICY_PATH]).await;
    // GitHub also delivers the merge-back pull request's `closed`, which
    // re-evaluates its hotfix (a push to the default branch does not).
    let merge_back =
        h.gh.pulls(REPO)
            .into_iter()
            .find(|p| p.head_ref == "hotfix-guard/merge-back-7")
            .expect("the merge-back pull request");
    attacks::merge(&h, merge_back.number, DEVELOP_AFTER).await;
    let sticky = attacks::sticky(&h, pull.number);
    assert!(
        sticky.contains("`develop` contains the fix"),
        "precondition: the merge-back's close re-evaluated the hotfix: {sticky}"
    );
    h
}

/// Attack 1, wider: the same stale `base.sha`, where the policy the P0 was
/// opened on did not yet call it a hotfix (the team's labels and branch
/// prefix were `urgent`, `urgent/`; a writer renamed them to `hotfix`,
/// `hotfix/` before the approvals). The open P0 is judged a P0 hotfix by
/// the policy in force and approved by both roles; once merged it must
/// still get every after-merge step: merge-back, follow-up.
///
/// Reproduction: as above; under the policy at `base.sha` the merged pull
/// request is not a hotfix (`rules::classify`), so `after_merge` is `None`:
/// no merge-back pull request, no follow-up issue, and nothing on the
/// pull request says any step was skipped.
/// Fixed: as attack 1 (the policy in force judges it).
#[tokio::test]
async fn a_p0_opened_before_its_labels_named_a_hotfix_still_gets_its_after_merge_steps() {
    let (h, pull) = attacks::p0().await;
    let old = POLICY
        .replace("labels: [hotfix]", "labels: [urgent]")
        .replace("branch_prefixes: [hotfix/]", "branch_prefixes: [urgent/]");
    assert_ne!(old, POLICY);
    h.gh.set_file(REPO, BASE_SHA, POLICY_PATH, &old);
    h.clock.advance(Duration::minutes(10));
    merged::writer_pushes_policy(&h, TIGHTENED_SHA, POLICY).await;
    attacks::approved_by_both_roles(&h, pull.number, HEAD_SHA);
    h.pull_request("opened", pull.number).await;
    let run = h.check(HEAD_SHA);
    assert_eq!(
        run.conclusion.as_deref(),
        Some("success"),
        "precondition: a P0 hotfix under the policy in force: {}",
        text_of(&run)
    );
    merged::main_moves_to_the_merge(&h, POLICY);
    attacks::merge(&h, pull.number, MERGE_SHA).await;
    let sticky = attacks::assert_the_follow_up_is_opened_and_named(&h, pull.number);
    assert!(
        h.gh.pulls(REPO)
            .iter()
            .any(|p| p.head_ref == "hotfix-guard/merge-back-7"),
        "the merge-back is opened: {sticky}"
    );
}

// ---- Attack 5: an after-merge step GitHub refuses for the author's title --

/// GitHub's longest title for an issue or a pull request: a longer one is
/// answered 422 "Validation Failed", `title is too long (maximum is 256
/// characters)` (the fake does not enforce it, so the test reads what the
/// app sent).
const GITHUB_TITLE_LIMIT: usize = 256;

/// The author gives the P0 a title of GitHub's maximum length. The app
/// writes the author's title into the follow-up issue's title ("Post-
/// incident review: …") and the merge-back pull request's ("Merge back
/// hotfix #7: …"), both then longer than GitHub accepts: on GitHub each is
/// refused, on every evaluation, for as long as the title stays, and the
/// P0's follow-up and merge-back are not opened (the sticky comment says
/// "the issue could not be opened" and "GitHub refused to open it"). The
/// safe outcome: what the app asks GitHub to open fits GitHub's limit, so
/// nothing the author writes keeps the after-merge steps from being taken.
///
/// Reproduction: `report::post_merge::follow_up_title` and the merge-back
/// title in `engine::post_merge::merge_back` prefix the whole quoted title
/// without a bound; GitHub's 422 is not transient, so each becomes
/// `FollowUp::Refused` / `MergeBack::Refused` (visible, not silent: the
/// steps fall to people).
/// Fixed: both titles are cut to 256 characters (`report::title::fit_title`).
#[tokio::test]
async fn an_authors_longest_title_does_not_keep_the_after_merge_steps_from_being_opened() {
    let title = format!("fix: {}", "x".repeat(GITHUB_TITLE_LIMIT - 5));
    assert_eq!(title.chars().count(), GITHUB_TITLE_LIMIT);
    let (h, pull) = merged::merged_approved_p0().await;
    h.gh.update_pull(REPO, pull.number, |p| p.title = title.clone());
    h.pull_request("closed", pull.number).await;
    attacks::assert_the_follow_up_is_opened_and_named(&h, pull.number);
    let sent: Vec<(String, usize)> = h
        .gh
        .requests()
        .iter()
        .filter(|r| {
            r.method == "POST"
                && (r.path.ends_with(&format!("/{REPO}/issues"))
                    || r.path.ends_with(&format!("/{REPO}/pulls")))
        })
        .map(|r| {
            let body: serde_json::Value = serde_json::from_str(&r.body).expect("a JSON request");
            let title = body["title"].as_str().unwrap_or_default().to_string();
            (r.path.clone(), title.chars().count())
        })
        .collect();
    assert_eq!(
        sent.len(),
        2,
        "a follow-up issue and a merge-back: {sent:?}"
    );
    assert!(
        sent.iter().all(|(_, chars)| *chars <= GITHUB_TITLE_LIMIT),
        "every title fits GitHub's limit: {sent:?}"
    );
}

// ---- Attack 6: a follow-up GitHub refuses for its assignee ------------------

/// The P0's author is erin, an outside contributor (read access, not a
/// member of the organisation; the pull request from her fork). Both roles
/// approve it and alice merges it. The app opens the follow-up issue with
/// the author and the merger as assignees; GitHub assigns an issue only to
/// people with write access, members of the organisation and people who
/// commented on that issue, and answers a new issue naming anyone else
/// 422 "Validation Failed" (`{"resource":"Issue","field":"assignees",
/// "code":"invalid"}`), so for every P0 by such an author the follow-up
/// issue is refused on every evaluation ("the issue could not be opened").
/// The fake does not enforce the rule, so the test reads whom the app
/// asked GitHub to assign: only people GitHub would accept (here, with
/// write access).
///
/// Reproduction: `engine::post_merge::follow_up_issue` sends
/// `assignees: [author, merger]` with `POST /repos/{o}/{r}/issues`; the
/// 422 is not transient, so it becomes `FollowUp::Refused` (visible in the
/// sticky comment, not silent; the post-incident review falls to people).
/// Fixed: the author is assigned only with write access; the merger always
/// (`engine::post_merge::follow_up_assignees`).
#[tokio::test]
async fn a_p0_by_an_author_without_write_access_still_gets_its_follow_up_opened() {
    let (h, pull) = merged::merged_p0_by_a_reader("erin", None).await;
    h.pull_request("closed", pull.number).await;
    attacks::assert_the_follow_up_is_opened_and_named(&h, pull.number);
    let issue =
        h.gh.issues(REPO)
            .into_iter()
            .next()
            .expect("the follow-up issue");
    assert!(
        !issue.assignees.is_empty(),
        "someone owns the follow-up: {:?}",
        issue.assignees
    );
    assert!(
        issue.assignees.iter().all(|who| matches!(
            who.as_str(),
            "alice" | "bob" | "carol" | "dana" | "oncall-olga"
        )),
        "only people GitHub lets the app assign (write access): {:?}",
        issue.assignees
    );
}

// ---- Attack 7: a triage user locks the merged P0's conversation ------------

/// Right after alice merges the P0, trina (triage) locks its conversation,
/// before the merge is evaluated: the sticky comment, where the
/// after-merge section lives, cannot be written. The follow-up must still
/// be opened (on its own issue, which the lock does not cover), and the
/// check run, which then carries the verdict, must say the conversation is
/// locked.
///
/// Checked that the test can fail: with the follow-up's creation refused
/// (GitHub answering `POST /issues` 403 on every try), no issue is opened
/// and the first assertion fails.
#[tokio::test]
async fn a_triage_users_lock_on_the_merged_p0_does_not_stop_its_follow_up() {
    let (h, pull) = merged::merged_approved_p0().await;
    h.gh.set_permission(REPO, "trina", "triage");
    h.gh.update_pull(REPO, pull.number, |p| {
        p.locked = true;
        p.active_lock_reason = Some("too heated".into());
    });
    attacks::refuse_comment_posts(&h, pull.number, 100);
    h.pull_request("closed", pull.number).await;
    let opened = merged::issues_the_app_opened(&h);
    let run = h.check(HEAD_SHA);
    let text = text_of(&run);
    assert_eq!(opened.len(), 1, "the follow-up is opened: {text}");
    assert!(
        opened[0].title.starts_with("Post-incident review"),
        "{:?}",
        opened[0].title
    );
    assert!(
        text.contains("The conversation on this pull request is locked (reason: too heated)"),
        "{text}"
    );
}

// ---- Not an attack: a merge-back by hand into a default `develop` ----------

/// Git Flow with `develop` as the default branch. GitHub refuses the app's
/// merge-back branch (403 to `POST /git/refs`), so the merge-back check
/// fails and says to merge it back by hand; a writer does, and GitHub
/// delivers the push to `develop`. The hotfix must be evaluated again, so
/// that the merge-back check turns to success ("`develop` contains the
/// fix"), as it does when `develop` is not the default branch
/// (`post_merge_flow::a_push_that_brings_the_fix_into_develop_completes_the_merge_back`).
///
/// Reproduction: `events::intake` routes a push as `BranchPushed` (which
/// re-evaluates hotfixes waiting on that branch) only when it is not on
/// the default branch; a push to the default branch is a policy change or
/// an audit only. The merge-back check stays `failure` (fails closed: no
/// one is misled, but the hotfix's merge-back never completes until
/// someone re-runs the check). Not something an author or a triage user
/// causes; found while attacking the merge-back watch. Checked: the same
/// steps with `main` as the default branch (the push to `develop` then a
/// `BranchPushed`) pass.
/// Fixed: a push to the default branch is a `BranchPushed` too (and a
/// `PolicyChanged` looks the waiting hotfixes up as well).
#[tokio::test]
async fn a_merge_back_by_hand_into_a_default_develop_completes_the_merge_back_check() {
    let (h, pull) = merged::merged_with_the_merge_back_refused_into_a_default_develop().await;
    merged::merged_back_by_hand(&h, &["src/fix.rs"]).await;
    merged::assert_the_merge_back_by_hand_completes(&h, pull.number);
}
