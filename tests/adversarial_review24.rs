//! Twenty-fourth adversarial review of issue 9 (fail closed): review 23's
//! fixes (a push that changes the policy file on the default branch
//! evaluates every open pull request again, `CommitWork::policy_changed`,
//! `Engine::commit_work`; under a broken policy a lock that holds an
//! escalation back is named on the run, `Engine::evaluate`). Each test
//! plays what only a pull request's author (write access to their own
//! fork, none on the base repository) or a user without write access
//! (triage) can do, through signed deliveries to the real router and the
//! real client talking to the fake GitHub, and asserts the SAFE outcome
//! (conclusion and wording). A passing test is an attack that failed; a
//! test marked `#[ignore = "finding: …"]` is an attack that worked (its
//! doc comment has the reproduction).
//!
//! As in review 23, the broken policy in force is one a writer merged in
//! the ordinary way (the author's other, approved pull request that
//! rewrote the file), and a writer fixes it later.
//!
//! Attack 1: the author opens a P0 while the policy in force is broken and
//! closes it themselves; the fixing push re-evaluates only OPEN pull
//! requests, hoping the closed P0 (a non-writer's close keeps a hotfix
//! escalating) is never watched. Attack 2: the fix is the author's own
//! pull request, so large that GitHub's push delivery lists no file for
//! its squashed commit ("for extremely large commits … this may be empty
//! even if files were modified"), hoping the fixing push is not seen as a
//! policy change and the open P0 is never evaluated again. Attack 3: a
//! triage user locks the P0 under the broken policy; the sweep's refusal
//! is remembered by one instance only, hoping the run rendered by the
//! other instance says nothing of the held escalation. Attack 4: a writer
//! tightens the policy while the author's title edit is being evaluated
//! under the loose one, hoping that evaluation's `success` outlives the
//! re-evaluation the push queues. Attack 5: the P0's deadline falls due
//! while the policy is broken, so its one escalation level is posted
//! mentioning nobody, hoping the people it must page never are, even once
//! the file is fixed.
//!
//! Outcome: attacks 1, 2, 3 and 5 were findings (each with its
//! reproduction and a fix to consider), all fixed after the review, so
//! their tests are no longer ignored; attack 4 fails (held). Each has a
//! passing control that was checked to fail once its guarding code was
//! mutated.

use crate::common;

use common::attacks::{self, text_of};
use common::broken_policy::{
    assert_judged_and_escalated, author_edits_on_b, closed_by_its_author,
    erins_p0_opened_under_a_broken_policy, erins_p0_watched_under, first_levels,
    fixed_three_hours_on, locked_at_the_first_level, policy_broken_on_main, policy_fixed_on_main,
};
use common::harness::{HEAD_SHA, Harness, POLICY, POLICY_PATH, REPO};

// ---- Attack 1: the author closes a P0 opened under a broken policy -------

/// Attack: the policy in force does not parse (a writer merged the
/// author's other pull request). The author (erin, read access) opens a
/// P0 (labels by dana, a writer) and closes it herself at once. Every
/// evaluation under the broken policy returns before the deadline is
/// watched. Three hours on, a writer fixes the file: that push evaluates
/// every OPEN pull request again (`list_pulls(…, "open")` in
/// `Engine::commit_work`); the author hopes the closed P0 is left out and
/// its deadline, long past, never escalated, although a close by someone
/// without write access does not take a hotfix out of the procedure.
///
/// Safe outcome: after the fix the closed P0 is judged by the fixed
/// policy, its deadline watched (closed by a non-writer), and the sweep
/// escalates it.
///
/// Reproduction (on this commit): the test as written. `Engine::commit_work`
/// (`src/engine/evidence.rs`, `work.policy_changed`) lists
/// `GET /pulls?state=open` only; the closed P0 (#7) is not among them. Its
/// run stays "hotfix-policy.yml is invalid … every open pull request is
/// checked again after that push", nothing is watched
/// (`Engine::watched() == 0`), and no sweep ever escalates it (nor does a
/// restart: start-up discovery lists open pull requests too). Needs: a
/// writer to merge a policy edit that does not parse (the author's other
/// pull request, review 22's attack 2) and later a writer's fix, both
/// ordinary; then only the author's own open and close. Severity: low to
/// medium (no code ships: the P0 is closed, its run fails; but the
/// incident's escalation, which the procedure keeps running after a
/// non-writer's close, is silenced for good).
///
/// Fix to consider: under an invalid policy in force, record the pull
/// request as "judged by a broken policy" in the store (the evaluation
/// already knows the key), and on `policy_changed` queue those keys beside
/// the open pull requests; or list `state=all` pull requests updated since
/// the policy generation broke (`sort=updated`, bounded by the page cap).
#[tokio::test]
async fn a_p0_its_author_closed_under_a_broken_policy_is_escalated_once_the_file_is_fixed() {
    let (h, pull) = erins_p0_opened_under_a_broken_policy("is invalid").await;
    closed_by_its_author(&h, pull.number).await;
    assert_eq!(h.app.engine.watched().await, 0, "nothing watched yet");
    fixed_three_hours_on(&h, true).await;
    assert_judged_and_escalated(&h, pull.number).await;
}

/// The control: the same P0 closed by its author only AFTER the fix (the
/// fixing push evaluated it while open, and the close is delivered): it
/// stays watched and is escalated. (Checked that it can fail: with a
/// non-writer's close no longer keeping the watch, `Engine::evaluate`'s
/// `closed.as_ref().is_some_and(|c| !c.stops_escalation())` made false,
/// it fails at "watched".)
#[tokio::test]
async fn a_p0_its_author_closed_after_the_fix_is_escalated() {
    let (h, pull) = erins_p0_opened_under_a_broken_policy("is invalid").await;
    fixed_three_hours_on(&h, true).await;
    closed_by_its_author(&h, pull.number).await;
    assert_judged_and_escalated(&h, pull.number).await;
}

// ---- Attack 2: a fixing push whose file lists are empty ------------------

/// Attack: the policy in force does not parse (a writer merged the
/// author's other pull request). The author (erin) opens a P0 (labels by
/// dana) while it is broken, and leaves it open and untouched. The fix of
/// the file is the author's own pull request that also vendors thousands
/// of files; a writer squash-merges it. GitHub's push delivery then lists
/// the squashed commit with empty `added`/`modified`/`removed` ("For
/// extremely large commits where GitHub is unable to calculate this list
/// in a timely manner, this may be empty even if files were modified",
/// GitHub's push webhook schema; likewise `commits` holds at most 2,048
/// commits). The author hopes the fixing push is not seen as a policy
/// change, so the open P0 is never evaluated again and never escalated.
///
/// Safe outcome: the P0 is judged by the fixed policy, its deadline
/// watched, and the sweep escalates it.
///
/// Reproduction (on this commit): the test as written. `intake`
/// (`src/events.rs`, `event == "push"`) sets `touches` only when a listed
/// commit (or `head_commit`) names `.github/hotfix-policy.yml`; empty
/// lists read as "not touched" (unknown read as fine), so the push is a
/// `BranchPushed` with no `policy_changed`: the policy generation is not
/// bumped (other instances keep their cached copy up to 10 minutes) and no
/// open pull request is evaluated again. The P0's run stays "… is invalid
/// … every open pull request is checked again after that push", nothing
/// is watched, and no sweep escalates it until some delivery on it (its
/// author sends none) or a restart's discovery. Needs: a writer to merge a
/// broken policy edit and later a very large pull request of the author's
/// that fixes it (both ordinary merges of approved pull requests); GitHub
/// decides when a commit is "extremely large". Severity: low.
///
/// Fix to consider: treat a push to the default branch as a policy change
/// whenever its lists cannot show the file was left alone — a commit with
/// all three lists empty, a list at GitHub's cap, or 2,048 commits — or,
/// cheaper and exact, compare the file's blob at `before` and `after`
/// (`GET /contents/{path}?ref=` → `sha`, conditional) for every push to
/// the default branch whose lists are not known complete.
#[tokio::test]
async fn a_fixing_push_that_lists_no_file_still_re_evaluates_the_open_p0() {
    let (h, pull) = erins_p0_opened_under_a_broken_policy("is invalid").await;
    fixed_three_hours_on(&h, false).await;
    assert_judged_and_escalated(&h, pull.number).await;
}

/// The control: the same fix, its push listing the policy file: the open
/// P0 is evaluated again and escalated (review 23's attack 4, fixed).
/// (Checked that it can fail: with the `policy_changed` listing in
/// `Engine::commit_work` dropping the pull requests it lists, it fails at
/// "the fix re-evaluates the P0".)
#[tokio::test]
async fn a_fixing_push_that_lists_the_file_re_evaluates_the_open_p0() {
    let (h, pull) = erins_p0_opened_under_a_broken_policy("is invalid").await;
    fixed_three_hours_on(&h, true).await;
    assert_judged_and_escalated(&h, pull.number).await;
}

// ---- Attack 3: the lock under a broken policy, rendered by another instance

/// Attack: the policy in force does not parse (a writer merged the
/// author's other pull request). Past the P0's deadline a triage user
/// (trina) locks its conversation; the sweep's first level is refused and
/// the instance that swept (A) renders the run naming the lock and the
/// level held back (`Engine::evaluate`'s invalid-policy branch, from
/// `self.refusals.last_refused`, review 23's fix). The refusal is
/// remembered in A's memory only. The author then edits the P0's title;
/// the evaluation runs on instance B (the same store; after a restart, or
/// a replica without the sweep lease — the author can repeat the edit until
/// one lands there), hoping B's run drops the lock and the escalation held
/// back.
///
/// Safe outcome: B's run fails AND names the locked conversation and the
/// escalation held back (as it does under a readable policy, from
/// GitHub's `locked`, control below).
///
/// Reproduction (on this commit): the test as written. On B,
/// `self.refusals.last_refused(&job.key)` is `None` (in memory, per
/// instance), so the invalid-policy branch of `Engine::evaluate`
/// (`src/engine/mod.rs`) appends nothing, though GitHub's `pull.locked`
/// is true and the store still watches the P0's deadline (level 1 due, not
/// posted). B's run — "hotfix-policy.yml is invalid" and its errors only —
/// replaces A's, which named the lock. A's later sweeps re-render only when
/// a higher level is first held (`Refusals::refused`), so with two
/// replicas nothing says the escalation is held back until level 2 falls
/// due (and, again, only if A renders it). Needs: a writer's merge of a
/// broken policy edit and a triage user's lock (both ordinary), then the
/// author's title edit. Severity: low (the run fails anyway; the level held
/// back mentions nobody under a broken policy and is posted once unlocked;
/// what is lost is the statement that an escalation is due and held).
///
/// Fix to consider: in the invalid-policy branch, take the lock from
/// GitHub's `pull.locked` as `Refusals::lock` does, and the levels held
/// from the store's watch (`due_deadlines`/the watched deadline and the
/// level posted) rather than from this instance's memory; or keep the
/// refusal in the store beside the watch.
#[tokio::test]
async fn under_a_broken_policy_another_instance_still_names_the_lock_holding_the_escalation() {
    let (a, number) = locked_at_the_first_level(POLICY, true).await;
    let text = text_of(&a.check(HEAD_SHA));
    assert!(
        text.contains("Conversation locked") && text.contains("is invalid"),
        "precondition: A names the lock under the broken policy: {text}"
    );
    let b = author_edits_on_b(a, number).await;
    let text = attacks::text_concluded(&b, HEAD_SHA, "failure");
    assert!(
        text.contains("Conversation locked") && text.contains("escalation"),
        "B's run names the lock and the escalation held back: {text}"
    );
}

/// The control: the same lock and edit under a readable policy: B's run
/// names the lock (GitHub's `locked`) and the escalation held back (from
/// the verdict's deadline). (With `Refusals::lock` answering `None`, it
/// fails.)
#[tokio::test]
async fn under_a_readable_policy_another_instance_names_the_lock_holding_the_escalation() {
    let (a, number) = locked_at_the_first_level(POLICY, false).await;
    let b = author_edits_on_b(a, number).await;
    let text = attacks::text_concluded(&b, HEAD_SHA, "failure");
    assert!(
        text.contains("Conversation locked") && text.contains("escalation"),
        "{text}"
    );
}

// ---- Attack 4: a tightening push during the author's evaluation ---------

/// `main` after a writer tightened the policy.
const TIGHTENED_SHA: &str = "t1t1t1t1t1t1t1t1t1t1t1t1t1t1t1t1t1t1t1t1";

/// The harness's P0 (#7) under the loose policy, approved by alice (the
/// engineering lead) only: `success`. Then a writer tightens the policy
/// (P0 needs the on-call manager too) and pushes it to `main`; when
/// `during` the push lands 150 ms into an evaluation of the P0 for the
/// author's title edit (which loaded the loose policy before the push),
/// otherwise after that evaluation. Returns the harness, settled.
async fn tightened_while_the_author_edits(during: bool) -> Harness {
    let (h, pull) = attacks::p0_under(&attacks::loose_policy()).await;
    h.clock.set(pull.created_at);
    h.gh.add_review(REPO, pull.number, "alice", "APPROVED", HEAD_SHA);
    h.pull_request("opened", pull.number).await;
    attacks::text_concluded(&h, HEAD_SHA, "success");
    let tighten = async {
        h.gh.set_branch(REPO, "main", TIGHTENED_SHA);
        h.gh.set_file(REPO, TIGHTENED_SHA, POLICY_PATH, POLICY);
        h.gh.set_file(REPO, "main", POLICY_PATH, POLICY);
        let push = common::webhook::push_event(REPO, "refs/heads/main", &[POLICY_PATH], 1);
        h.deliver("push", &push).await;
    };
    attacks::retitled(&h, pull.number);
    if during {
        attacks::during_an_evaluation(&h, pull.number, tighten).await;
    } else {
        h.pull_request("edited", pull.number).await;
        tighten.await;
    }
    h.settle().await;
    h
}

/// Attack: the P0 passes under the policy in force with the engineering
/// lead's approval alone. A writer tightens the policy (P0 needs the
/// on-call manager too). The author times a title edit so that its
/// evaluation, which loaded the loose policy, is still in flight when the
/// tightening push arrives, hoping the re-evaluation the push queues for
/// the P0 is swallowed by (or runs before the end of) the evaluation that
/// holds the P0's lease, so the old `success` stands and a writer merges.
///
/// Safe outcome: the P0's final run fails, naming the on-call manager's
/// missing approval.
///
/// Outcome: the attack fails. Checked that the test can fail: with the
/// pull requests listed for `policy_changed` in `Engine::commit_work`
/// dropped, the in-flight evaluation's `success` stands and the test
/// fails.
#[tokio::test]
async fn a_tightening_push_during_the_authors_evaluation_does_not_leave_its_success() {
    let h = tightened_while_the_author_edits(true).await;
    attacks::assert_fails_for_the_on_call_manager(&h);
}

/// The control: the push after the author's evaluation: the re-evaluation
/// fails the P0, naming the missing role. (With the same mutation it keeps
/// "all requirements met" and fails.)
#[tokio::test]
async fn a_tightening_push_after_the_authors_evaluation_fails_the_p0() {
    let h = tightened_while_the_author_edits(false).await;
    attacks::assert_fails_for_the_on_call_manager(&h);
}

// ---- Attack 5: the page an escalation under a broken policy withheld ----

/// The harness's P0 (#7) by erin (read access; labels by dana), opened
/// and watched under the readable policy (one escalation level, mentioning
/// `@acme/incident-commanders`). Ten minutes on, the policy in force
/// breaks when `broken` (a writer merged the author's other pull request);
/// 120 minutes on (past the 2h deadline) the sweep posts the first level;
/// then a writer fixes the file (when `broken`) and, a minute on, the
/// sweep runs again. Returns the harness and the app's escalation comments.
async fn escalated_across_a_broken_window(broken: bool) -> (Harness, Vec<String>) {
    let (h, pull) = erins_p0_watched_under(POLICY).await;
    h.clock.advance(chrono::Duration::minutes(10));
    if broken {
        policy_broken_on_main(&h, POLICY).await;
    }
    h.clock.advance(chrono::Duration::minutes(120));
    assert_eq!(h.app.engine.sweep().await, 1, "the first level is posted");
    h.settle().await;
    if broken {
        let first = first_levels(&h, pull.number);
        assert!(
            first.len() == 1 && first[0].contains("cannot be read"),
            "precondition: the first level says the policy cannot be read: {first:?}"
        );
        policy_fixed_on_main(&h, true).await;
    }
    h.clock.advance(chrono::Duration::minutes(1));
    h.app.engine.sweep().await;
    h.settle().await;
    let escalations = h
        .bot_comments(pull.number)
        .into_iter()
        .filter(|c| c.body.starts_with("<!-- hotfix-guard:escalation"))
        .map(|c| c.body)
        .collect();
    (h, escalations)
}

/// Attack: the P0's deadline falls due while the policy in force does not
/// parse (a writer merged the author's other pull request, review 22's
/// attack 2). The sweep then posts the first level mentioning nobody
/// ("this escalation mentions nobody it names, and a further escalation
/// it may ask for waits until the file is fixed"), and keeps the watch. A
/// writer fixes the file; the author hopes that the people the policy
/// names for the escalation (`@acme/incident-commanders`) are never
/// mentioned, since the first level counts as posted and the policy asks
/// for no second level.
///
/// Safe outcome: once the policy can be read again, an escalation comment
/// of the app's mentions `@acme/incident-commanders` (the first level's
/// withheld mention made good), as without the broken window (control).
///
/// Reproduction (on this commit): the test as written. After the fix the
/// re-evaluation keeps the watch; the next sweep's `escalation::escalate`
/// (`src/engine/escalation.rs`) finds level 1 posted (`posted >= 1`) and
/// no `escalation.after` (`second_done`), so it posts nothing and reports
/// `finished`: `Engine::sweep` forgets the deadline. The only escalation
/// comment mentions nobody; the incident commanders are never notified.
/// With a two-level policy the second level (mention + mention_after)
/// names them, late (`adversarial_review22`). Needs: a writer's merge of a
/// broken policy edit (ordinary) spanning the P0's deadline, then a
/// writer's fix; nothing else from the author. Severity: low to medium
/// (the escalation is visible on the pull request and its run fails, but
/// the people it must page never are).
///
/// Fix to consider: record in the store that level 1 was posted without
/// its mentions (the note's case), and once the policy is read again post
/// (or edit the comment into) the level's mentions before finishing; i.e.
/// in `escalate`, with `Ok(settings)` and a level posted "unreadable",
/// post a short follow-up mentioning `settings.mention`.
#[tokio::test]
async fn the_mentions_withheld_under_a_broken_policy_are_made_once_it_is_fixed() {
    let (h, escalations) = escalated_across_a_broken_window(true).await;
    let watched = h.app.engine.watched().await;
    assert!(
        escalations
            .iter()
            .any(|c| c.contains("@acme/incident-commanders")),
        "nobody the policy names was ever mentioned (deadlines still watched: {watched}): \
         {escalations:#?}"
    );
}

/// The control: no broken window: the first level mentions the incident
/// commanders. (Checked that it can fail: with `escalation_comment`'s
/// mention list emptied in `escalation::escalate`'s first level, it fails.)
#[tokio::test]
async fn without_a_broken_window_the_first_level_mentions_the_incident_commanders() {
    let (_h, escalations) = escalated_across_a_broken_window(false).await;
    assert_eq!(escalations.len(), 1, "{escalations:#?}");
    assert!(
        escalations[0].contains("@acme/incident-commanders"),
        "{escalations:#?}"
    );
}
