//! Twenty-third adversarial review of issue 9 (fail closed): review 22's
//! fixes (a policy file that is not text is an invalid policy,
//! `policy_cache::read_policy`; an unreadable policy in force no longer
//! silences an escalation, `Engine::escalate`). Each test plays what only
//! a pull request's author (write access to their own fork, none on the
//! base repository) or a user without write access (triage) can do,
//! through signed deliveries to the real router and the real client
//! talking to the fake GitHub, and asserts the SAFE outcome (conclusion
//! and wording). A passing test is an attack that failed. The two
//! findings (their "Reproduction" paragraphs) were fixed after the review:
//! the run under a broken policy names a lock that holds an escalation back
//! (`Engine::evaluate`), and a push that changes the policy file on the
//! default branch evaluates every open pull request again
//! (`CommitWork::policy_changed`, `Engine::commit_work`).
//!
//! The broken policy in force in attacks 1 and 2 is one a writer merged in
//! the ordinary way: the author's other, approved pull request that
//! rewrote the file (review 22's attack 2).
//!
//! Attack 1: under a broken policy in force, the P0's author churns their
//! watched P0 (title edit, close, reopen, close) so that every evaluation
//! runs under the broken policy, hoping one forgets the watch. Attack 2:
//! under a broken policy in force, a triage user locks the P0's
//! conversation, so the first level cannot be posted, hoping nothing says
//! so. Attack 3: in a repository judged by the organisation's `.github`
//! policy, the author's P0 ADDS a repository policy file that does not
//! parse, hoping the merge drops the follow-up the organisation's policy
//! owes. Attack 4: the author opens a P0 while the policy in force is
//! broken and does nothing after a writer fixes it, hoping nothing ever
//! watches its deadline.
//!
//! Outcome: attacks 1 and 3 fail (held); attack 2 is a finding (ignored
//! test, low severity: the run already fails and the held level, which
//! mentions nobody under a broken policy, is posted once unlocked, but
//! nothing says an escalation is due and held back); attack 4 is a finding
//! (ignored test, low to medium: the fixing push re-evaluates no open pull
//! request, so the P0's escalation is silenced and its run's promise of a
//! re-check is untrue).

use crate::common;

use common::attacks::{self, text_of};
use common::broken_policy::{
    assert_the_only_first_level_says, erins_p0_opened_under_a_broken_policy,
    erins_p0_watched_under, first_levels, fixed_three_hours_on, policy_broken_on_main,
};
use common::harness::{HEAD_SHA, Harness, POLICY, POLICY_PATH, REPO};
use common::merged;
use common::org_policy::falls_back_to_the_org;

/// The author's (erin's) churn of #`number`: with `retitled`, a title edit
/// first (`edited` delivered either way), then close, reopen, close, each
/// GitHub's state event by erin now and its delivery; settled.
async fn churned_by_its_author(h: &Harness, number: u64, retitled: bool) {
    if retitled {
        attacks::retitled(h, number);
    }
    h.pull_request("edited", number).await;
    for (state, event) in [
        ("closed", "closed"),
        ("open", "reopened"),
        ("closed", "closed"),
    ] {
        h.gh.update_pull(REPO, number, |p| p.state = state.into());
        h.gh.add_state_event(REPO, number, event, "erin", h.clock_now());
        h.pull_request(event, number).await;
    }
    h.settle().await;
}

// ---- Attack 1: the author's churn under a broken policy in force ---------

/// Attack: the policy in force does not parse (a writer merged the
/// author's other pull request). Every evaluation of the P0 then returns
/// at "policy invalid" before the deadline bookkeeping; the author (erin,
/// read access) edits the P0's title, closes it, reopens it and closes it
/// again, so four evaluations run under the broken policy, hoping one of
/// them forgets the watched deadline (as a verdict without a running
/// deadline does) and the sweep has nothing left to escalate. The author's
/// close does not take a P0 out of the procedure.
///
/// Safe outcome: the deadline stays watched and, past it, the sweep posts
/// the first level, saying the policy in force cannot be read.
///
/// Outcome: the attack fails. Checked that the test can fail: with
/// `self.store.forget_deadline(&job.key).await?` added to the
/// invalid-policy branch of `Engine::evaluate` (`src/engine/mod.rs`), the
/// watch is gone after the churn and the test fails ("watched").
#[tokio::test]
async fn the_authors_churn_under_a_broken_policy_in_force_does_not_forget_the_p0s_deadline() {
    let (h, pull) = erins_p0_watched_under(POLICY).await;
    h.clock.advance(chrono::Duration::minutes(10));
    policy_broken_on_main(&h, POLICY).await;
    // The author's churn: a title edit, close, reopen, close.
    churned_by_its_author(&h, pull.number, true).await;
    let text = attacks::text_concluded(&h, HEAD_SHA, "failure");
    assert_eq!(
        h.app.engine.watched().await,
        1,
        "the author's churn under a broken policy does not forget the deadline: {text}"
    );
    h.clock.advance(chrono::Duration::minutes(120));
    assert_eq!(h.app.engine.sweep().await, 1, "the first level is posted");
    h.settle().await;
    assert_the_only_first_level_says(
        &first_levels(&h, pull.number),
        &["The policy in force (`.github/hotfix-policy.yml`) cannot be read"],
    );
}

/// The control: the same churn under a readable policy in force (the
/// other pull request's rewrite parses): the author's close keeps the
/// deadline and the first level mentions the policy's escalation team.
#[tokio::test]
async fn the_authors_churn_under_a_readable_policy_does_not_forget_the_p0s_deadline() {
    let (h, pull) = erins_p0_watched_under(POLICY).await;
    h.clock.advance(chrono::Duration::minutes(10));
    churned_by_its_author(&h, pull.number, false).await;
    assert_eq!(h.app.engine.watched().await, 1);
    h.clock.advance(chrono::Duration::minutes(120));
    assert_eq!(h.app.engine.sweep().await, 1);
    h.settle().await;
    assert_the_only_first_level_says(
        &first_levels(&h, pull.number),
        &["@acme/incident-commanders"],
    );
}

// ---- Attack 2: a triage user's lock under a broken policy in force -------

/// Attack: the policy in force does not parse (a writer merged the
/// author's other pull request). Past the P0's deadline, a triage user
/// (trina) locks the P0's conversation: GitHub refuses the app's comments
/// (403 "Unable to create comment because issue is locked."). The sweep's
/// first level is held back; with a readable policy the P0's run then names
/// the lock and the escalation held back (`report::locked`,
/// `adversarial_review4`); under the broken policy the evaluation returns
/// at "policy invalid" before the lock is looked at, hoping the held
/// escalation goes unsaid.
///
/// Safe outcome: the escalation is posted, or the P0's run fails saying
/// the conversation is locked and the escalation cannot be posted.
///
/// Reproduction (on this commit): the test as written. The P0 (#7, by
/// erin, unapproved, watched) is past its deadline; `main`'s policy does
/// not parse; trina locks the conversation. Each sweep's
/// `escalation::escalate` tries the first level, GitHub refuses it
/// (`done.held = Some(1)`), and `Engine::sweep` re-renders the P0
/// (`rerender`). `Engine::evaluate` (`src/engine/mod.rs`) takes the
/// `Err(errors)` branch of `let policy = match &loaded.policy` and writes
/// `report::policy_error_output` only: the run fails, "hotfix-policy.yml is
/// invalid", its errors, approvals and version bump, and nothing about the
/// lock or the escalation held back (the `lock::held` /
/// `report::locked::locked_section` step comes after that branch). No
/// escalation comment exists, nobody is told one is due, and it stays so
/// for as long as both the lock and the broken file last (a later
/// `edited` delivery renders the same). Needs: a writer to merge a policy
/// edit that does not parse (the author's other pull request) and a
/// triage user's lock, both ordinary. Severity: low (the run already
/// fails; the escalation posted under a broken policy mentions nobody;
/// the sweep posts it once the conversation is unlocked).
///
/// Fix to consider: in the invalid-policy branch of `Engine::evaluate`,
/// for a pull request whose deadline is watched (the store's watch:
/// severity, deadline) and whose conversation is locked or refused
/// (`self.refusals.lock`), append `report::locked::locked_section` with
/// the level held back (mention: none, as `Engine::escalate` posts it).
#[tokio::test]
async fn a_triage_users_lock_under_a_broken_policy_in_force_does_not_silently_hold_the_escalation()
{
    let (h, pull) = erins_p0_watched_under(POLICY).await;
    h.clock.advance(chrono::Duration::minutes(10));
    policy_broken_on_main(&h, POLICY).await;
    locked_past_the_deadline(&h, pull.number).await;
    let run = h.check(HEAD_SHA);
    let text = text_of(&run);
    assert!(
        !first_levels(&h, pull.number).is_empty()
            || (run.conclusion.as_deref() == Some("failure")
                && text.contains("locked")
                && text.contains("escalation")),
        "the held escalation is neither posted nor said: conclusion {:?}\n{text}",
        run.conclusion
    );
}

/// The control: the same lock under a readable policy in force: the run
/// fails naming the lock and the escalation held back.
#[tokio::test]
async fn a_triage_users_lock_under_a_readable_policy_is_named_on_the_run() {
    let (h, pull) = erins_p0_watched_under(POLICY).await;
    h.clock.advance(chrono::Duration::minutes(10));
    locked_past_the_deadline(&h, pull.number).await;
    let run = h.check(HEAD_SHA);
    let text = text_of(&run);
    assert!(first_levels(&h, pull.number).is_empty(), "locked");
    assert_eq!(run.conclusion.as_deref(), Some("failure"), "{text}");
    assert!(
        text.contains("Conversation locked") && text.contains("escalation"),
        "{text}"
    );
}

/// trina (triage) locks #`number`'s conversation: GitHub refuses the app's
/// comments there. 120 minutes on (past the P0's deadline) three sweeps
/// run, then an `edited` delivery re-renders the run.
async fn locked_past_the_deadline(h: &Harness, number: u64) {
    attacks::refuse_comment_posts(h, number, 1000);
    h.clock.advance(chrono::Duration::minutes(120));
    for _ in 0..3 {
        h.app.engine.sweep().await;
        h.settle().await;
    }
    h.pull_request("edited", number).await;
    h.settle().await;
}

// ---- Attack 3: the author adds a broken repository policy under the
// organisation's ---------------------------------------------------------

/// The repository has no policy file: the organisation's `.github`
/// repository's (the harness's policy: a P0 owes the post-incident
/// review) is in force. The author's P0 (#7) adds
/// `.github/hotfix-policy.yml` (its changed files name it; the head's copy
/// `head_policy`). Both roles approve; alice merges: from the merge on
/// `main`'s file is `head_policy`. Returns the harness after the merge.
async fn org_judged_p0_adding_a_policy_merged(head_policy: &str) -> Harness {
    let (h, pull) = attacks::p0().await;
    falls_back_to_the_org(&h, POLICY);
    h.gh.set_file(REPO, HEAD_SHA, POLICY_PATH, head_policy);
    h.gh.set_pull_files(REPO, pull.number, merged::p0_files_with_the_policy(40, 0));
    attacks::approved_by_both_roles(&h, pull.number, HEAD_SHA);
    h.pull_request("opened", pull.number).await;
    let run = h.check(HEAD_SHA);
    assert!(
        text_of(&run).contains("using the organisation's policy"),
        "precondition: judged by the organisation's policy: {}",
        text_of(&run)
    );
    merged::merged_with(&h, pull.number, head_policy).await;
    h
}

/// Attack: the author's P0 adds a repository policy file that does not
/// parse (an unknown key) to a repository judged by the organisation's
/// policy; a writer merges the approved P0. After the merge the policy in
/// force (the repository's new file) is invalid, and at `base.sha` there
/// is no repository file at all, hoping the merged P0 is judged by neither
/// and its follow-up (the organisation's policy owes it) is dropped.
///
/// Safe outcome: judged by the organisation's policy (in force at
/// `base.sha`), the follow-up is opened and the run fails saying the
/// policy in force cannot be read.
///
/// Outcome: the attack fails. Checked that the test can fail: with the
/// `in_force_unknown` section left out of `Engine::evaluate`
/// (`src/engine/mod.rs`), the run passes and the test fails; with
/// `merged::policy_before_merge` always answering `None` (judged by the
/// broken policy in force), no follow-up is opened and it fails.
#[tokio::test]
async fn an_authors_broken_policy_added_under_the_organisations_keeps_the_follow_up() {
    let h = org_judged_p0_adding_a_policy_merged(&common::broken_policy::broken_policy()).await;
    attacks::assert_the_follow_up_is_opened_and_named(&h, 7);
    let text = attacks::text_concluded(&h, HEAD_SHA, "failure");
    assert!(
        text.contains("Policy in force cannot be read: after-merge steps unknown"),
        "{text}"
    );
}

/// The control: the author's added file is a valid but looser policy (no
/// follow-up for P0): the union with the organisation's policy at
/// `base.sha` still opens the follow-up. (With `merged::policy_before_merge`
/// always answering `None`, no follow-up is opened and it fails.)
#[tokio::test]
async fn an_authors_looser_policy_added_under_the_organisations_keeps_the_follow_up() {
    let h = org_judged_p0_adding_a_policy_merged(&merged::without_follow_up()).await;
    attacks::assert_the_follow_up_is_opened_and_named(&h, 7);
}

// ---- Attack 4: a P0 opened while the policy in force is broken ----------

/// Attack: the policy in force does not parse (a writer merged the
/// author's other pull request). The author (erin) opens a P0 (labels by
/// dana) while it is broken: its run fails naming the policy's errors,
/// and no deadline is watched (no verdict). Three hours on, a writer fixes
/// the file; the author then does nothing, hoping that nothing evaluates
/// the P0 again and its deadline, long past, is never escalated.
///
/// Safe outcome: the push that fixes the file re-evaluates the open P0
/// ("every open pull request is checked again after that push", as its
/// run says), whose deadline is then watched; the next sweep escalates.
///
/// Reproduction (on this commit): the test as written. The fixing push is
/// `Intake::PolicyChanged` (`src/events.rs`); `src/server/webhook.rs`
/// drops the cache, bumps the policy generation and queues only the
/// waiting merge-backs and the push audit: no open pull request is
/// evaluated again. The P0's run stays "hotfix-policy.yml is invalid …
/// every open pull request is checked again after that push" (untrue),
/// nothing is watched (`Engine::watched() == 0`), and no sweep escalates
/// the P0, its 2h deadline long past, until a delivery on it (its author,
/// who opened it and wants it quiet, sends none) or a restart's
/// discovery. Needs: a writer to merge a policy edit that does not parse
/// (the author's other pull request, review 22's attack 2) and the
/// author's P0 opened before it is fixed. Severity: low to medium (the
/// P0 cannot pass, its run fails; its escalation is silenced, and the
/// run's wording promises a re-check that does not happen).
///
/// Fix to consider: on `PolicyChanged`, queue the repository's open
/// pull requests (as start-up discovery does, `Engine::discover`,
/// bounded), or at least those whose last run was "policy invalid"
/// (recorded in the store when written); otherwise drop the promise from
/// `report::check` ("every open pull request is checked again").
#[tokio::test]
async fn a_p0_opened_under_a_broken_policy_is_escalated_once_the_file_is_fixed() {
    opened_under_a_broken_policy_then_fixed(false).await;
}

/// The control: the same, with a delivery on the P0 after the fix (dana
/// edits its description): the P0 is evaluated under the fixed policy,
/// watched, and escalated by the next sweep.
#[tokio::test]
async fn a_p0_opened_under_a_broken_policy_and_touched_after_the_fix_is_escalated() {
    opened_under_a_broken_policy_then_fixed(true).await;
}

/// Attack 4's steps; `touched`: an `edited` delivery on the P0 after the
/// fixing push.
async fn opened_under_a_broken_policy_then_fixed(touched: bool) {
    let (h, pull) = erins_p0_opened_under_a_broken_policy(
        "every open pull request is checked again after that push",
    )
    .await;
    fixed_three_hours_on(&h, true).await;
    if touched {
        h.pull_request("edited", pull.number).await;
        h.settle().await;
    }
    let run = h.check(HEAD_SHA);
    let text = text_of(&run);
    assert!(
        !text.contains("is invalid"),
        "the fix re-evaluates the open P0: {text}"
    );
    assert_eq!(h.app.engine.watched().await, 1, "{text}");
    h.clock.advance(chrono::Duration::minutes(1));
    assert_eq!(h.app.engine.sweep().await, 1, "{text}");
    h.settle().await;
    assert_eq!(first_levels(&h, pull.number).len(), 1, "{text}");
}
