//! Twenty-sixth adversarial review of issue 9 (fail closed): review 25's
//! fixes (a push that changes the organisation's policy file,
//! `{owner}/.github`, evaluates again the open and unjudged pull requests
//! of every repository of the installation that falls back to it,
//! `Engine::judged_by_the_org_policy`; under a broken policy the held
//! escalation levels come from the store's watch, `lock::held_for`). Each
//! test plays what only a pull request's author (write access to their own
//! fork, none on the base repository) or a user without write access
//! (triage) can do, through signed deliveries to the real router and the
//! real client talking to the fake GitHub, and asserts the SAFE outcome
//! (conclusion and wording). A passing test is an attack that failed; a
//! test marked `#[ignore = "finding: …"]` is an attack that worked (its doc
//! comment has the reproduction).
//!
//! Attack 1: under a broken ORGANISATION policy the author opens a P0 and
//! closes it at once (a closed P0 is not among the open pull requests the
//! organisation's fix lists), hoping the fix never judges it, so its
//! deadline is never watched. Attack 2: a writer tightens the
//! organisation's policy while the installation also holds a repository
//! whose own policy file is broken and another with nothing to evaluate,
//! hoping the walk over the installation's repositories stops before (or
//! skips) the author's repository, so the open P0's `success` stands.
//! Attack 3: the same tightening delivered as a push whose commit lists no
//! file, hoping it is not taken for a change of the organisation's policy.
//!
//! Outcome: all three attacks fail (held): no findings. Each has a control;
//! each test was checked to fail with its guarding code mutated once (see
//! the doc comments). Noted, not findings (nothing an author or a
//! non-writer controls): the walk over the installation's repositories
//! stops silently at 1,000 (`ORG_REPOSITORIES`), and one repository whose
//! listing or policy read errs (e.g. more than 100 pages of open pull
//! requests) makes the whole walk err and be retried, every other
//! falling-back repository's pull requests waiting with it; and
//! `forget_unjudged` deletes by number after the queueing, so an
//! evaluation of the queued job that re-records the number (the policy
//! still unreadable) and finishes before that one `DELETE` would lose it (a
//! window of one store round trip, not reproducible through the harness).

use crate::common;

use common::attacks;
use common::broken_policy::{assert_judged_and_escalated, closed_by_its_author};
use common::harness::{Harness, POLICY, POLICY_PATH};
use common::org_policy::{self, erins_p0_opened_under_a_broken_org_policy, org_policy_fixed};

// ---- Attack 1: a P0 closed by its author under a broken organisation policy

/// erin's P0 (#7) opened under a broken organisation policy
/// (`org_policy::erins_p0_opened_under_a_broken_org_policy`: its run fails
/// on the organisation's file, nothing watched); with `closed`, erin
/// closes it at once. Three hours on a writer fixes the organisation's
/// file and the push is delivered and settled.
async fn erins_p0_under_a_broken_org_policy_then_fixed(closed: bool) -> (Harness, u64) {
    let (h, pull) = erins_p0_opened_under_a_broken_org_policy().await;
    if closed {
        closed_by_its_author(&h, pull.number).await;
    }
    h.clock.advance(chrono::Duration::minutes(180));
    org_policy_fixed(&h).await;
    (h, pull.number)
}

/// Attack: the repository has no policy file of its own and falls back to
/// the organisation's, which does not parse (a writer's ordinary merge in
/// `octo/.github`). The author (erin, read access) opens a P0 (labels by
/// dana, a writer) and closes it at once: a closed P0 is not among the
/// open pull requests the organisation's fix lists (`GET
/// /repos/octo/app/pulls?state=open`), and review 25's tests of the
/// organisation's fix only left the P0 open. Three hours on a writer
/// fixes the organisation's file; erin hopes the deadline of the P0 is
/// never watched, so the procedure's escalation never pages anyone.
///
/// Safe outcome: the push to `octo/.github` evaluates the closed P0 again
/// (it is kept as unjudged under `octo/app` and read back by
/// `Engine::judged_by_the_org_policy`): judged by the fixed policy,
/// watched, escalated with the incident commanders' mention. Held.
/// (Checked that it can fail: with `judged_by_the_org_policy` not
/// extending the numbers with `Store::unjudged` of the repository, the P0
/// stays judged by the broken file and it fails at "the fix re-evaluates
/// the P0".)
#[tokio::test]
async fn a_p0_its_author_closed_under_a_broken_org_policy_is_escalated_once_the_org_file_is_fixed()
{
    let (h, number) = erins_p0_under_a_broken_org_policy_then_fixed(true).await;
    assert_judged_and_escalated(&h, number).await;
}

/// The control: the same P0 left open is judged by the organisation's fix,
/// watched and escalated. (Checked that it can fail: with
/// `judged_by_the_org_policy` skipped in `Engine::commit_work`, the P0
/// stays judged by the broken file and it fails at "the fix re-evaluates
/// the P0".)
#[tokio::test]
async fn a_p0_left_open_under_a_broken_org_policy_is_escalated_once_the_org_file_is_fixed() {
    let (h, number) = erins_p0_under_a_broken_org_policy_then_fixed(false).await;
    assert_judged_and_escalated(&h, number).await;
}

// ---- Attack 2: the organisation tightened, a sibling's own file broken ----

/// The harness's P0 (#7) passing under the organisation's loose policy
/// (`org_policy::p0_passing_under_a_loose_org_policy(siblings)`: with
/// `siblings`, `octo/aaa-lib` with a broken own file and `octo/aaa-docs`
/// with nothing, both listed before `octo/app`). A writer then tightens
/// the organisation's policy (P0 needs the on-call manager too) and the
/// push to `octo/.github` is delivered and settled; with `listed` false its
/// commit lists no file (as GitHub's delivery of a commit too large to
/// list).
async fn org_policy_tightened_beside(siblings: bool, listed: bool) -> Harness {
    let (h, _) = org_policy::p0_passing_under_a_loose_org_policy(siblings).await;
    let files: &[&str] = if listed { &[POLICY_PATH] } else { &[] };
    org_policy::org_policy_pushed(&h, POLICY, files).await;
    h
}

/// Attack: as review 25's attack 4 (the author's open P0 passes under the
/// organisation's loose policy; a writer tightens it; the author sends
/// nothing more, and a writer merges on the green required check), in an
/// installation that also holds a repository whose OWN policy file is
/// broken and one with nothing to evaluate, both listed before the
/// author's. The author hopes the walk over the installation's
/// repositories stops at the first one judged by its own file (or errs on
/// the broken file), so the P0's `success` stands.
///
/// Safe outcome: the P0's run fails, naming the on-call manager's missing
/// approval. Held: `judged_by_the_org_policy` passes over a repository
/// whose own file exists (readable or not: `PolicySource::Repository`)
/// and goes on. (Checked that it can fail: with that `continue` replaced
/// by `return Ok(found)`, the walk stops at `octo/aaa-lib`, the P0 stays
/// `success` and it fails; and with `judged_by_the_org_policy` skipped in
/// `Engine::commit_work`.)
#[tokio::test]
async fn a_sibling_with_a_broken_own_policy_does_not_keep_the_org_tightening_from_failing_the_p0() {
    let h = org_policy_tightened_beside(true, true).await;
    attacks::assert_fails_for_the_on_call_manager(&h);
}

/// The control: without the siblings, the organisation's tightening fails
/// the P0 the same way (review 25's attack 4). (Checked that it can fail:
/// with `judged_by_the_org_policy` skipped in `Engine::commit_work`, the
/// P0 stays `success` and it fails.)
#[tokio::test]
async fn without_siblings_the_org_tightening_fails_the_p0() {
    let h = org_policy_tightened_beside(false, true).await;
    attacks::assert_fails_for_the_on_call_manager(&h);
}

/// Attack: review 25's attack 4 again, the writer's tightening of the
/// organisation's policy delivered as a push whose commit lists no file
/// (GitHub's delivery of a commit too large to list: review 24's finding B,
/// for the organisation's repository). The author hopes that push is not
/// taken for a change of the organisation's policy, so the P0's `success`
/// stands.
///
/// Safe outcome: the P0's run fails, naming the on-call manager. Held: the
/// push may hide its files, counts as a policy change (`src/events.rs`,
/// `may_hide`), and the walk evaluates the P0. (Checked that it can fail:
/// with `may_hide` forced to `false`, the push is no policy change, the
/// P0 stays `success` and it fails.)
#[tokio::test]
async fn an_org_tightening_whose_push_lists_no_file_still_fails_the_p0() {
    let h = org_policy_tightened_beside(false, false).await;
    attacks::assert_fails_for_the_on_call_manager(&h);
}
