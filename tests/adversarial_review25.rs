//! Twenty-fifth adversarial review of issue 9 (fail closed): review 24's
//! fixes (under a broken policy a lock holding an escalation back is named
//! from GitHub's `locked` and the store's watch; the watch keeps the
//! policy's `escalation` section, which the sweep follows under an
//! unreadable policy; a default-branch push that may hide its files counts
//! as a policy change; pull requests evaluated under an unreadable policy
//! are kept, `unjudged_pulls`, and evaluated again at the policy-changing
//! push). Each test plays what only a pull request's author (write access
//! to their own fork, none on the base repository) or a user without write
//! access (triage) can do, through signed deliveries to the real router
//! and the real client talking to the fake GitHub, and asserts the SAFE
//! outcome (conclusion and wording). A passing test is an attack that
//! failed; a test marked `#[ignore = "finding: …"]` is an attack that
//! worked (its doc comment has the reproduction).
//!
//! Attack 1: the repository has no policy file of its own and is judged by
//! the organisation's (`octo/.github`), which a writer broke by merging an
//! ordinary pull request; the author opens a P0 then and leaves it alone,
//! hoping the push that fixes the ORGANISATION's file does not evaluate the
//! P0 again (it is kept as unjudged under its own repository), so its
//! deadline is never watched. Attack 2: a writer's merge breaks the policy
//! and a triage user locks the P0 past its deadline, hoping the run names
//! nobody the held level would mention although the watch keeps them.
//! Attack 3: the same lock at the SECOND level, the run rendered by another
//! instance (review 24's fix C reads the watch for the first level only).
//! Attack 4: a writer tightens the organisation's policy; the author sends
//! nothing more, hoping the open P0's `success` stands in the repository
//! that falls back to it. Attack 5: a triage user swaps the writer's `P0`
//! for `P2` before the policy breaks, hoping the re-recorded watch keeps
//! no deadline or a weaker escalation section.
//!
//! Outcome: attacks 1 to 4 were findings (each with its reproduction and a
//! fix to consider), all fixed after the review, so their tests are no
//! longer ignored; attack 5 fails (held). Each has a
//! passing control that was checked to fail once its guarding code was
//! mutated.

use crate::common;

use common::attacks::{self, text_of};
use common::broken_policy::{
    assert_judged_and_escalated, assert_the_only_first_level_says, author_edits_on_b,
    erins_p0_watched_under, first_levels, locked_at_the_first_level, locked_by_triage,
    policy_broken_on_main,
};
use common::harness::{HEAD_SHA, Harness, POLICY, POLICY_PATH, REPO};
use common::org_policy::{self, erins_p0_opened_under_a_broken_org_policy, org_policy_fixed};

// ---- Attack 1: a P0 opened under a broken organisation policy -------------

/// Attack: the repository has no policy file and falls back to the
/// organisation's (`octo/.github:.github/hotfix-policy.yml`), which does
/// not parse (a writer merged an ordinary pull request there). The author
/// (erin, read access) opens a P0 (labels by dana, a writer) and leaves it
/// open and untouched. Three hours on, a writer fixes the organisation's
/// file. The author hopes that push re-evaluates only the pull requests of
/// `octo/.github` (open or kept as unjudged there), not the P0 kept as
/// unjudged under `octo/app`, so its deadline, long past, is never watched
/// nor escalated.
///
/// Safe outcome: after the fix the P0 is judged by the organisation's
/// fixed policy, its deadline watched, and the sweep escalates it.
///
/// Reproduction (on this commit): the test as written. The push to
/// `octo/.github` is a policy change of THAT repository
/// (`src/events.rs`, `Intake::PolicyChanged`): `Engine::commit_work`
/// (`src/engine/evidence.rs`, `work.policy_changed`) lists the open pull
/// requests of `octo/.github` and `Store::unjudged` of `octo/.github`
/// only, while the P0 was remembered under `octo/app`
/// (`Engine::evaluate`'s `remember_unjudged(&job.key)`). Its run keeps
/// saying "`octo/.github:.github/hotfix-policy.yml` on the default branch
/// is invalid … every open pull request is checked again after that push"
/// (untrue for the repositories that fall back to it), nothing is watched
/// (`Engine::watched() == 0`) and no sweep ever escalates it, until some
/// delivery on it (its author sends none) or a restart's discovery. The
/// same holds for every OPEN hotfix of every repository that falls back:
/// none is evaluated again when the organisation's file changes (review
/// 23's attack 4 and review 24's attack 1, for the organisation's file).
/// Needs: a writer's ordinary merge that breaks the organisation's file
/// and a later fix; then only the author's opening of the P0. Severity:
/// low to medium (no code ships: the run fails; but the P0's escalation is
/// silenced for good, the procedure's deadline never paged).
///
/// Fix to consider: on a policy change of the organisation's `.github`
/// repository, also queue the unjudged pull requests of every repository
/// of the installation that falls back to it (`unjudged_pulls` by
/// installation and owner, all names), and the open pull requests of those
/// repositories (as `discover_installation` lists them); or keep the
/// unjudged key under the repository whose file was unreadable
/// (`LoadedPolicy::source` is `Organization`: the fallback repository).
#[tokio::test]
async fn a_p0_opened_under_a_broken_org_policy_is_escalated_once_the_org_file_is_fixed() {
    let (h, pull) = erins_p0_opened_under_a_broken_org_policy().await;
    h.clock.advance(chrono::Duration::minutes(180));
    org_policy_fixed(&h).await;
    assert_judged_and_escalated(&h, pull.number).await;
}

/// The control: the same P0, its author's title edit delivered after the
/// organisation's fix: judged by the fixed policy, watched and escalated.
/// (Checked that it can fail: with the organisation's generation ignored
/// in `Store::policy_generation` and `PolicyCache::forget` not dropping
/// organisation-sourced entries, the broken copy stays cached and it fails
/// at "the fix re-evaluates the P0".)
#[tokio::test]
async fn a_p0_opened_under_a_broken_org_policy_and_edited_after_the_fix_is_escalated() {
    let (h, pull) = erins_p0_opened_under_a_broken_org_policy().await;
    h.clock.advance(chrono::Duration::minutes(180));
    org_policy_fixed(&h).await;
    h.pull_request("edited", pull.number).await;
    h.settle().await;
    assert_judged_and_escalated(&h, pull.number).await;
}

// ---- Attack 2: a triage user's lock under a broken policy, the kept section

/// Attack: a writer's ordinary merge breaks the policy in force (the
/// author's other pull request); the P0's watch keeps the policy's
/// escalation section, so the sweep's first level would mention
/// `@acme/incident-commanders` (review 24's fix D). Past the deadline a
/// triage user (trina) locks the conversation: the level is refused, and
/// the run must say who it would have mentioned ("tell them another way
/// until the conversation is unlocked"). The triage user hopes the run
/// names nobody, so the people the procedure pages are told no other way.
///
/// Safe outcome: the run fails, names the lock and the level held back,
/// and names `@acme/incident-commanders` (as under a readable policy,
/// control below).
///
/// Reproduction (on this commit): the test as written. The run says
/// "Escalation level 1 is due and could not be posted. It would have
/// mentioned nobody it names (the policy's `escalation.mention` is empty,
/// or the policy cannot be read): tell them another way …", although the
/// store's watch keeps the section (`deadlines.escalation`) and the sweep
/// would mention `@acme/incident-commanders` once unlocked. The
/// invalid-policy branch of `Engine::evaluate` (`src/engine/mod.rs`,
/// `HeldEscalation { level, mention: Vec::new() }`) ignores the kept
/// section that `Store::deadline_of` has just read (`Watch::escalation`),
/// and `Refusals` keeps levels only. Needs: a writer's ordinary merge of a
/// broken policy edit and a triage user's lock, past the deadline.
/// Severity: low (the run fails; the level is posted, with its mentions,
/// once unlocked; what is lost is whom to tell meanwhile — the
/// maintainers reading the run are told "nobody").
///
/// Fix to consider: in the invalid-policy branch, build the held levels
/// from the watch as `lock::held` does from a policy, with
/// `Watch::escalation` (mention; level 2 with `mention_after` when
/// `after` has passed since `Watch::started`); say "unknown" only for a
/// watch without the kept section.
#[tokio::test]
async fn under_a_broken_policy_the_lock_names_whom_the_held_escalation_would_mention() {
    let (h, _) = locked_at_the_first_level(&attacks::two_level_policy(), true).await;
    let text = attacks::text_concluded(&h, HEAD_SHA, "failure");
    assert!(
        text.contains("is invalid")
            && text.contains("Escalation level 1 is due and could not be posted")
            && text.contains("@acme/incident-commanders"),
        "the lock names the held level and whom it would mention: {text}"
    );
}

/// The control: the same lock under the readable policy names the held
/// level and `@acme/incident-commanders`. (Checked that it can fail: with
/// `lock::held`'s first level mentioning nobody, `src/engine/lock.rs`, it
/// fails.)
#[tokio::test]
async fn under_a_readable_policy_the_lock_names_whom_the_held_escalation_would_mention() {
    let (h, _) = locked_at_the_first_level(&attacks::two_level_policy(), false).await;
    let text = attacks::text_concluded(&h, HEAD_SHA, "failure");
    assert!(
        text.contains("Escalation level 1 is due and could not be posted")
            && text.contains("@acme/incident-commanders"),
        "{text}"
    );
}

// ---- Attack 3: the second level held by a lock, rendered by another instance

/// erin's P0 (#7; labels by dana) under `two_level_policy`, watched; 130
/// minutes on (past the 2h deadline) instance A's sweep posts the first
/// level. Then the policy breaks when `broken`, trina (triage) locks the
/// conversation, and 4h10m after the start A's sweep meets the refusal of
/// the second level. Returns instance A and the P0's number.
async fn locked_at_the_second_level_on_a(broken: bool) -> (Harness, u64) {
    let policy = attacks::two_level_policy();
    let (h, pull) = erins_p0_watched_under(&policy).await;
    h.clock.advance(chrono::Duration::minutes(130));
    h.app.engine.sweep().await;
    h.settle().await;
    assert_eq!(
        first_levels(&h, pull.number).len(),
        1,
        "precondition: first level"
    );
    if broken {
        policy_broken_on_main(&h, &policy).await;
    }
    locked_by_triage(&h, pull.number);
    h.clock.advance(chrono::Duration::minutes(120));
    h.app.engine.sweep().await;
    h.settle().await;
    let second = h
        .bot_comments(pull.number)
        .into_iter()
        .filter(|c| c.body.starts_with("<!-- hotfix-guard:escalation level=2"))
        .count();
    assert_eq!(second, 0, "locked");
    (h, pull.number)
}

/// Attack: the P0's first level was posted; a writer's ordinary merge then
/// breaks the policy in force, and a triage user (trina) locks the
/// conversation. At 4h the second level (kept with the watch, review 24's
/// fix D) is due and refused; instance A, which met the refusal, names it.
/// The author then edits the title and the evaluation runs on instance B
/// (after a restart, or a replica without the sweep lease; the author can
/// repeat the edit until one lands there), hoping B's run drops the lock
/// and the second level held back (review 24's fix C reads the store's
/// watch for the first level only).
///
/// Safe outcome: B's run fails, names the locked conversation and the
/// second level held back (as under a readable policy, control below).
///
/// Reproduction (on this commit): the test as written. On B,
/// `self.refusals.last_refused(&job.key)` is `None` (A's memory), and the
/// invalid-policy branch of `Engine::evaluate` (`src/engine/mod.rs`)
/// reads the store's watch but counts a lock as holding a level only for
/// `Some((watch, 0))` past the deadline (level 1): with level 1 posted
/// (`levels_posted = 1`) and level 2 due by the kept section
/// (`Watch::escalation.after` since `Watch::started`), it appends nothing.
/// B's run — "hotfix-policy.yml is invalid" and its errors only —
/// replaces A's, which named the lock and level 2. A re-renders only when
/// a higher level is first held, and there is none above 2: nothing says
/// the second level (the procedure's "notify CEO/CTO") is due and held
/// until the conversation is unlocked. Needs: a writer's ordinary merge of
/// a broken policy edit and a triage user's lock, then the author's title
/// edit. Severity: low (the run fails; level 2 is posted once unlocked;
/// what is lost is the statement that it is due and held).
///
/// Fix to consider: derive the held levels in the invalid-policy branch
/// from the watch as `lock::held` does from a policy: level 1 when
/// `posted == 0` past the deadline, level 2 when `posted < 2` and the kept
/// `after` has passed since `Watch::started` (with the kept mentions,
/// attack 2); or keep the sweep's refusal in the store beside the watch.
#[tokio::test]
async fn under_a_broken_policy_another_instance_names_the_lock_holding_the_second_level() {
    let (a, number) = locked_at_the_second_level_on_a(true).await;
    let text = text_of(&a.check(HEAD_SHA));
    assert!(
        text.contains("Conversation locked") && text.contains("Escalation level 2 is due"),
        "precondition: A names the second level held under the broken policy: {text}"
    );
    let b = author_edits_on_b(a, number).await;
    let text = attacks::text_concluded(&b, HEAD_SHA, "failure");
    assert!(
        text.contains("is invalid")
            && text.contains("Conversation locked")
            && text.contains("Escalation level 2 is due and could not be posted"),
        "B's run names the lock and the second level held back: {text}"
    );
}

/// The control: the same under a readable policy: B's run names the lock
/// and the second level held back (from the verdict's deadline and the
/// app's own level-1 comment). (Checked that it can fail: with
/// `lock::held` no longer holding level 2, `src/engine/lock.rs`, it fails.)
#[tokio::test]
async fn under_a_readable_policy_another_instance_names_the_lock_holding_the_second_level() {
    let (a, number) = locked_at_the_second_level_on_a(false).await;
    let b = author_edits_on_b(a, number).await;
    let text = attacks::text_concluded(&b, HEAD_SHA, "failure");
    assert!(
        text.contains("Conversation locked")
            && text.contains("Escalation level 2 is due and could not be posted")
            && text.contains("@acme/cto"),
        "{text}"
    );
}

// ---- Attack 4: the organisation's policy tightened under an open P0 -------

/// The harness's P0 (#7) in a repository without a policy file of its
/// own, judged by the organisation's (`octo/.github`), which lets P0 pass
/// with the engineering lead's approval; alice approves by review:
/// `success`. A writer then tightens the organisation's policy (P0 needs
/// the on-call manager too) and the push to `octo/.github` is delivered.
/// With `edited`, the author's title edit is delivered after it. Returns
/// the harness, settled.
async fn org_policy_tightened_under_the_p0(edited: bool) -> Harness {
    let (h, pull) = org_policy::p0_passing_under_a_loose_org_policy(false).await;
    org_policy::org_policy_pushed(&h, POLICY, &[POLICY_PATH]).await;
    if edited {
        attacks::retitled(&h, pull.number);
        h.pull_request("edited", pull.number).await;
        h.settle().await;
    }
    h
}

/// Attack: the repository falls back to the organisation's policy, under
/// which the author's P0 passes with the engineering lead's approval
/// alone. A writer tightens the organisation's policy (P0 needs the
/// on-call manager too). The author sends nothing more, hoping the push to
/// `octo/.github` evaluates only that repository's pull requests, so the
/// P0's `success` stands and a writer, trusting the required check, merges
/// it without the approval the policy in force now asks (a writer's
/// ordinary merge of a PR whose required check is green).
///
/// Safe outcome: the P0's run fails, naming the on-call manager's missing
/// approval (as the repository's own policy change does, review 24's
/// attack 4 control).
///
/// Reproduction (on this commit): the test as written. The push to
/// `octo/.github` bumps that repository's policy generation (so every
/// instance reads the tightened file at its NEXT evaluation of `octo/app`)
/// but `Engine::commit_work` (`src/engine/evidence.rs`,
/// `work.policy_changed`) queues only `octo/.github`'s open pull requests
/// (`client` is that repository's); `octo/app`'s open P0 is not evaluated
/// again. Its run stays "P0 hotfix: all requirements met — 2h left to
/// deploy … using the organisation's policy", green, with the on-call
/// manager's approval missing, until some delivery on it; the author sends
/// none, and a writer merges on the green required check. Needs: a
/// writer's tightening of the organisation's policy (ordinary) and a
/// writer's merge trusting the green check (ordinary); the author only
/// refrains from touching the P0. Severity: medium (a P0 merges without
/// an approval the policy in force requires; the same class as review 23's
/// attack 4, fixed for the repository's own file only).
///
/// Fix to consider: on a policy change of an organisation's `.github`
/// repository, queue the open pull requests (and the unjudged ones,
/// attack 1) of every repository of the installation that falls back to
/// the organisation's policy (those without a file of their own: the
/// discovery's listing of repositories, then `list_pulls(open)`, bounded
/// like `discover_installation`); or, cheaper, of every repository whose
/// last loaded policy came from the organisation (`LoadedPolicy::source`
/// == `Organization`, recorded in the store at evaluation).
#[tokio::test]
async fn a_tightening_of_the_org_policy_does_not_leave_an_open_p0s_success() {
    let h = org_policy_tightened_under_the_p0(false).await;
    attacks::assert_fails_for_the_on_call_manager(&h);
}

/// The control: the author's title edit after the organisation's push is
/// judged by the tightened policy: the P0 fails, naming the on-call
/// manager. (Checked that it can fail: with the organisation's generation
/// ignored in `Store::policy_generation` and `PolicyCache::forget` not
/// dropping organisation-sourced entries, the loose copy stays cached, the
/// P0 passes and it fails.)
#[tokio::test]
async fn after_the_org_policy_is_tightened_the_authors_edit_fails_the_p0() {
    let h = org_policy_tightened_under_the_p0(true).await;
    attacks::assert_fails_for_the_on_call_manager(&h);
}

// ---- Attack 5: a triage user's relabel before the policy breaks ----------

/// erin's P0 (#7; labels by dana) under `two_level_policy`, watched. Ten
/// minutes on, when `relabel`, trina (triage) swaps `P0` for `P2` (a
/// severity without deadline or escalation), and the re-evaluation of the
/// `labeled` delivery records the watch again. Then a writer's merge
/// breaks the policy, and 121 minutes on (past the 2h deadline) the sweep
/// runs. Returns the harness and the app's level-1 comments.
async fn relabelled_by_triage_then_broken(relabel: bool) -> (Harness, Vec<String>) {
    use chrono::Duration;
    let policy = attacks::two_level_policy();
    let (h, pull) = erins_p0_watched_under(&policy).await;
    let t0 = pull.created_at;
    h.clock.set(t0 + Duration::minutes(10));
    if relabel {
        let at = t0 + Duration::minutes(10);
        h.gh.add_label_event(REPO, pull.number, "P0", "trina", false, at);
        h.gh.add_label_event(REPO, pull.number, "P2", "trina", true, at);
        h.gh.set_labels(REPO, pull.number, &["hotfix", "P2"]);
        attacks::label_delivery(&h, pull.number, "unlabeled", "P0").await;
        attacks::label_delivery(&h, pull.number, "labeled", "P2").await;
        h.settle().await;
        let text = text_of(&h.check(HEAD_SHA));
        assert!(
            text.contains("`P0` was removed by @trina"),
            "precondition: the removal is named and does not count: {text}"
        );
    }
    policy_broken_on_main(&h, &policy).await;
    h.clock.set(t0 + Duration::minutes(131));
    assert_eq!(h.app.engine.sweep().await, 1, "escalated");
    h.settle().await;
    let first = first_levels(&h, pull.number);
    (h, first)
}

/// Attack: the watch keeps the escalation section of the policy of the
/// LAST evaluation that recorded it. A triage user (trina) swaps the
/// writer's `P0` label for `P2` (no deadline, nothing to escalate) before
/// a writer's ordinary merge breaks the policy, hoping the re-evaluation
/// re-records the watch from the severity she chose (no deadline: the
/// watch forgotten) or with a weaker section, so the sweep under the broken
/// policy mentions nobody.
///
/// Safe outcome: the P0's deadline is still watched and its first level,
/// posted under the broken policy, mentions `@acme/incident-commanders`
/// and says the policy cannot be read.
///
/// Outcome: the attack fails (a non-writer's removal does not count; the
/// watch is re-recorded from P0 with the policy's section). Checked that
/// the test can fail: with `Watch::of` keeping no section
/// (`escalation: None`, `src/engine/escalation.rs`), the level mentions
/// nobody and it fails.
#[tokio::test]
async fn a_triage_users_relabel_before_the_policy_breaks_keeps_the_escalations_mentions() {
    let (_h, first) = relabelled_by_triage_then_broken(true).await;
    assert_the_only_first_level_says(&first, &["@acme/incident-commanders", "cannot be read"]);
}

/// The control: without the relabel, the same broken window: the level
/// mentions `@acme/incident-commanders` (review 24's fix D). (Same
/// mutation: it fails.)
#[tokio::test]
async fn without_a_relabel_the_level_under_a_broken_policy_keeps_its_mentions() {
    let (_h, first) = relabelled_by_triage_then_broken(false).await;
    assert_the_only_first_level_says(&first, &["@acme/incident-commanders", "cannot be read"]);
}
