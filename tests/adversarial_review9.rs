//! Ninth adversarial review of issue 9 (fail closed). As the other review
//! files: each test plays what only a pull request's author (write access
//! to their own fork, none on the base repository) or a user with triage
//! access (labels, close, reopen, lock; no push, no merge) can do, through
//! signed deliveries to the real router and the real client talking to the
//! fake GitHub, and asserts the SAFE outcome (conclusion and wording). A
//! passing test is an attack that failed; a test marked
//! `#[ignore = "finding: …"]` is an attack that worked (see its comment).
//!
//! This review starts from the two newest fixes (the unchanged-skip read
//! from the store only; a fork's re-run routed by the run's `external_id`)
//! and then looks at what an instance keeps in memory (the policy, team
//! memberships and permissions) and at approvals across a base change.

use crate::common;

use axum::http::StatusCode;
use chrono::Duration;

use common::attacks::{
    approve_by_comment, approved_by_both_roles, both_roles_approve_by_comment, delivered,
    fork_delivery, label_delivery_slow, text_concluded, text_of,
};
use common::fake_github::PullSeed;
use common::harness::{BASE_SHA, HEAD_SHA, Harness, POLICY, POLICY_PATH, REPO};
use common::pages::{DEVELOP_SHA, assert_stale_after_the_retarget, head_run};
use common::webhook::{self, CheckRunSpec, PrSpec, ReviewSpec};

/// A commit the author pushes after the approvals: unreviewed code.
const NEW_HEAD: &str = "a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9";

/// The harness's policy with P2 needing one approval from a writer (as it
/// does) and P0 needing its two roles: the policy in force before a
/// writer tightens it.
fn p2_count_policy() -> String {
    POLICY.to_string()
}

/// The same policy after a writer tightened P2 on `main`: an engineering
/// lead must approve it.
fn p2_lead_policy() -> String {
    POLICY.replace(
        "approvals: { count: 1 }",
        "approvals: { roles: [engineering-lead] }",
    )
}

/// A `pull_request.edited` delivery for `number` as the fake holds it now
/// (the author retitled it), on `instance`; waits for `all` to be idle.
async fn edited_on(instance: &Harness, all: &[&Harness], number: u64) {
    let seed = instance.gh.pull(REPO, number).expect("seeded pull request");
    let spec = PrSpec::from_seed(REPO, &seed, 1);
    let mut payload = webhook::pull_request_edited(
        &spec,
        serde_json::json!({"title": {"from": "fix: stop the login loop"}}),
    );
    if let Some((files, additions, deletions)) = instance.gh.pull_totals(REPO, number) {
        payload["pull_request"]["changed_files"] = files.into();
        payload["pull_request"]["additions"] = additions.into();
        payload["pull_request"]["deletions"] = deletions.into();
    }
    payload["pull_request"]["html_url"] =
        format!("{}/{REPO}/pull/{number}", instance.gh.url()).into();
    assert_eq!(
        instance.deliver("pull_request", &payload).await,
        StatusCode::ACCEPTED
    );
    for h in all {
        h.settle().await;
    }
}

/// The author retitles #7 (a `pull_request.edited` delivery the author can
/// cause at will).
fn retitle(h: &Harness, number: u64, title: &str) {
    h.gh.update_pull(REPO, number, |p| p.title = title.into());
}

// ---- 1. A policy tightened on main, and a replica that still has the old one

/// The P2 hotfix #7 (labels by dana, a writer), approved by bob (a writer
/// in no role), which the policy in force lets pass with one approval.
/// Both replicas evaluate it once, so both have loaded that policy.
async fn approved_p2_on_two_replicas(policy: &str) -> (Harness, Harness, PullSeed) {
    let h = Harness::start().await;
    let pull = PullSeed {
        labels: vec!["hotfix".into(), "P2".into()],
        ..h.p0()
    };
    h.seed(policy, &pull);
    h.label_events_by(&pull, "dana");
    h.clock.set(pull.created_at);
    h.gh.add_review(REPO, pull.number, "bob", "APPROVED", HEAD_SHA);
    let second = Harness::on_shared_store(&h).await;
    second.clock.set(pull.created_at);
    h.pull_request("opened", pull.number).await;
    retitle(&h, pull.number, "fix: stop the login loop (P2)");
    edited_on(&second, &[&h, &second], pull.number).await;
    let run = h.check(HEAD_SHA);
    assert_eq!(
        run.conclusion.as_deref(),
        Some("success"),
        "precondition: {}",
        text_of(&run)
    );
    (h, second, pull)
}

/// A writer merges a tightened policy into `main` (P2 now needs an
/// engineering lead); GitHub delivers the `push` to replica one only.
async fn tighten_the_policy_on_main(one: &Harness) {
    one.gh
        .set_file(REPO, "main", POLICY_PATH, &p2_lead_policy());
    let push = webhook::push_event(REPO, "refs/heads/main", &[POLICY_PATH], 1);
    delivered(one, "push", &push).await;
}

fn assert_needs_a_lead(h: &Harness, when: &str) {
    let run = h.check(HEAD_SHA);
    let text = text_of(&run);
    assert_eq!(run.conclusion.as_deref(), Some("failure"), "{when}: {text}");
    assert!(
        text.contains("needs engineering-lead approval"),
        "{when}: {text}"
    );
}

/// Control: one instance. The push that changes the policy drops the
/// policy this instance cached, so the author's next edit is judged by the
/// tightened policy: bob's approval no longer passes the P2.
#[tokio::test]
async fn a_policy_tightened_on_main_judges_the_authors_next_edit() {
    let (h, second, pull) = approved_p2_on_two_replicas(&p2_count_policy()).await;
    tighten_the_policy_on_main(&h).await;
    retitle(&h, pull.number, "fix: stop the login loop (P2, again)");
    edited_on(&h, &[&h, &second], pull.number).await;
    assert_needs_a_lead(&h, "evaluated by the replica that received the push");
}

/// Two replicas behind one load balancer, one store. A writer tightens the
/// policy on `main` (P2 now needs an engineering lead); GitHub delivers
/// that `push` to replica one, which drops its cached policy, and the
/// author's open P2 #7, approved only by bob, now fails there (replica one
/// evaluates it: a writer's Re-check, or any delivery). The author then
/// edits #7's title until a delivery lands on replica two, which still
/// holds the old policy in memory (`PolicyCache`, up to `TTL`, 10
/// minutes): the check must stay failing.
///
/// Was a finding, now fixed: replica two judged #7 by the policy it loaded
/// before the push and wrote `success`, which stood until an instance with
/// the new policy evaluated #7 again (branch protection let #7 merge
/// meanwhile); the cache was dropped only on the instance that received
/// the push. Now the push's intake bumps the repository's policy
/// generation in the store before it is answered, and every evaluation
/// uses a cached policy only when it was loaded at the generation the
/// store holds (`Store::policy_generation`, `Engine::policy`).
#[tokio::test]
async fn a_replica_that_missed_the_policy_push_does_not_pass_the_hotfix_on_its_old_policy() {
    let (h, second, pull) = approved_p2_on_two_replicas(&p2_count_policy()).await;
    tighten_the_policy_on_main(&h).await;
    retitle(&h, pull.number, "fix: stop the login loop (P2, again)");
    edited_on(&h, &[&h, &second], pull.number).await;
    assert_needs_a_lead(&h, "replica one, after the push");

    // The author's next edit lands on replica two.
    retitle(&h, pull.number, "fix: stop the login loop (P2, once more)");
    edited_on(&second, &[&h, &second], pull.number).await;
    assert_needs_a_lead(&h, "replica two, which did not receive the push");
}

// ---- 2. Approvals given against another base ---------------------------

/// The P0 #7 against `develop` (its head branched from there), seeded
/// (main's `VERSION` 1.2.3 too), labelled by dana, the clock at its
/// opening; not opened yet.
async fn p0_against_develop() -> (Harness, PullSeed) {
    let h = Harness::start().await;
    let pull = PullSeed {
        base_ref: "develop".into(),
        base_sha: DEVELOP_SHA.into(),
        ..h.p0()
    };
    h.seed(POLICY, &pull);
    h.gh.set_file(REPO, BASE_SHA, "VERSION", "1.2.3\n");
    h.label_events_by(&pull, "dana");
    h.clock.set(pull.created_at);
    (h, pull)
}

/// The P0 #7 opened against `develop` (its head branched from there), so
/// that reviewers see its diff against `develop`. Both roles approve it by
/// comment (after the head was pushed, so the comments are fresh). The
/// check fails only for the target.
async fn p0_approved_against_develop() -> (Harness, PullSeed) {
    let (h, pull) = p0_against_develop().await;
    h.pull_request("opened", pull.number).await;
    both_roles_approve_by_comment(
        &h,
        pull.number,
        pull.created_at + Duration::minutes(1),
        pull.created_at + Duration::minutes(2),
    )
    .await;
    let text = text_concluded(&h, HEAD_SHA, "failure");
    assert!(
        text.contains("targets develop; hotfixes must target main"),
        "precondition: {text}"
    );
    assert!(
        !text.contains("needs engineering-lead"),
        "precondition: both roles approved: {text}"
    );
    (h, pull)
}

/// The author changes #7's base to `main` (`pull_request.edited` with
/// `changes.base`) ten minutes after it was opened; GitHub records a
/// `base_ref_changed` event (issue events, and the timeline) with its time.
async fn retarget_to_main(h: &Harness, pull: &PullSeed) {
    h.gh.update_pull(REPO, pull.number, |p| {
        p.base_ref = "main".into();
        p.base_sha = BASE_SHA.into();
    });
    h.gh.add_base_change(
        REPO,
        pull.number,
        &pull.author,
        pull.created_at + Duration::minutes(10),
    );
    let spec = PrSpec::from_seed(REPO, &h.gh.pull(REPO, pull.number).expect("pull"), 1);
    let payload = webhook::pull_request_edited(
        &spec,
        serde_json::json!({"base": {"ref": {"from": "develop"}, "sha": {"from": DEVELOP_SHA}}}),
    );
    delivered(h, "pull_request", &payload).await;
}

/// Control: approvals given after the retarget pass the hotfix (the attack
/// below is about approvals given against another base, not about
/// retargeting as such).
#[tokio::test]
async fn approvals_given_after_retargeting_to_main_pass_the_hotfix() {
    let (h, pull) = p0_against_develop().await;
    h.pull_request("opened", pull.number).await;
    retarget_to_main(&h, &pull).await;
    assert_eq!(h.check(HEAD_SHA).conclusion.as_deref(), Some("failure"));
    both_roles_approve_by_comment(
        &h,
        pull.number,
        pull.created_at + Duration::minutes(11),
        pull.created_at + Duration::minutes(12),
    )
    .await;
    text_concluded(&h, HEAD_SHA, "success");
}

/// The author opens the P0 against `develop`, from a head branched from
/// `develop`: the reviewers see a one-file diff and approve it (their
/// `/hotfix approve` comments follow the push). The author then retargets
/// #7 to `main`: without a push, the same head now brings everything
/// `develop` has and `main` lacks. GitHub itself treats a changed base as
/// making approvals stale (branch protection's "dismiss stale approvals"
/// dismisses reviews with "The base branch was changed"; "the merge-base
/// changed after approval" blocks a merge); a comment approval is never
/// dismissed by GitHub, so only the app can say it was given against
/// another base. The check must not pass on approvals given before the
/// base changed.
///
/// Was a finding: approvals were bound to the head commit only (a
/// review's `commit_id`; a comment's time against the head's push), never
/// to the base, so #7 passed on `main` with approvals given against
/// `develop`. Fixed: the latest `base_ref_changed` event's `created_at`
/// (server time) is a fact, and approvals (comments and reviews) given at
/// or before it are stale, each named in the report.
#[tokio::test]
async fn approvals_given_against_develop_do_not_pass_the_hotfix_retargeted_to_main() {
    let (h, pull) = p0_approved_against_develop().await;
    retarget_to_main(&h, &pull).await;
    let (conclusion, text) = head_run(&h);
    assert_stale_after_the_retarget(conclusion, &text);
}

/// The same with reviews: both roles approve #7's head by review while it
/// targets `develop` (the head is the same commit after the retarget, so
/// `commit_id` alone would count them); after the retarget they are
/// stale, and approving again counts.
#[tokio::test]
async fn reviews_given_against_develop_are_stale_after_the_retarget_and_count_when_given_again() {
    let (h, pull) = p0_against_develop().await;
    for (who, minutes) in [("alice", 1), ("oncall-olga", 2)] {
        h.gh.add_review_at(
            REPO,
            pull.number,
            who,
            "APPROVED",
            HEAD_SHA,
            pull.created_at + Duration::minutes(minutes),
        );
    }
    h.pull_request("opened", pull.number).await;
    retarget_to_main(&h, &pull).await;
    let text = text_concluded(&h, HEAD_SHA, "failure");
    assert!(
        text.contains("@alice's review came before the base branch changed to `main`"),
        "{text}"
    );

    for (who, minutes, id) in [("alice", 11, 101), ("oncall-olga", 12, 102)] {
        h.gh.add_review_at(
            REPO,
            pull.number,
            who,
            "APPROVED",
            HEAD_SHA,
            pull.created_at + Duration::minutes(minutes),
        );
        let spec = PrSpec::from_seed(REPO, &h.gh.pull(REPO, pull.number).expect("pull"), 1);
        let review = ReviewSpec::approved(id, who, HEAD_SHA);
        let payload = webhook::review_event("submitted", &spec, &review);
        delivered(&h, "pull_request_review", &payload).await;
    }
    let run = h.check(HEAD_SHA);
    assert_eq!(
        run.conclusion.as_deref(),
        Some("success"),
        "{}",
        text_of(&run)
    );
}

// ---- 3. A fork's re-run routed by the run's external_id -----------------

/// A fork pull request's run left on a head the pull request no longer
/// has: the P0 #7 from `mallory/app` was approved by both roles on its
/// first head; mallory then pushes unreviewed code (a new head, failing).
/// A re-run of the OLD head's run (its `external_id` still `hotfix-pr:7`;
/// GitHub lists no pull request for a fork head) must evaluate #7's
/// current head, never write the old head's `success` onto the new head,
/// and leave the new head failing, written again (the re-run visibly
/// happens).
#[tokio::test]
async fn a_re_run_of_a_fork_pull_requests_run_on_an_old_head_re_judges_its_current_head() {
    let h = Harness::start().await;
    let pull = PullSeed {
        author: "mallory".into(),
        head_repo: Some("mallory/app".into()),
        ..h.p0()
    };
    h.seed(POLICY, &pull);
    h.label_events_by(&pull, "dana");
    h.clock.set(pull.created_at);
    approved_by_both_roles(&h, pull.number, HEAD_SHA);
    fork_delivery(&h, "opened", pull.number).await;
    let old = h.check(HEAD_SHA);
    assert_eq!(old.conclusion.as_deref(), Some("success"), "precondition");
    assert_eq!(old.external_id.as_deref(), Some("hotfix-pr:7"));

    h.gh.set_file(REPO, NEW_HEAD, "VERSION", "1.2.4\n");
    h.gh.set_commit_date(REPO, NEW_HEAD, pull.created_at + Duration::minutes(5));
    h.gh.update_pull(REPO, pull.number, |p| p.head_sha = NEW_HEAD.into());
    fork_delivery(&h, "synchronize", pull.number).await;
    let new = h.check(NEW_HEAD);
    assert_eq!(
        new.conclusion.as_deref(),
        Some("failure"),
        "{}",
        text_of(&new)
    );

    let spec = CheckRunSpec {
        repo: REPO.into(),
        name: "hotfix-policy".into(),
        head_sha: HEAD_SHA.into(),
        head_branch: pull.head_ref.clone(),
        pull_numbers: vec![],
        check_run_id: old.id,
        sender: "dana".into(),
        ..CheckRunSpec::default()
    };
    let mut payload = webhook::check_run_rerequested(&spec);
    payload["check_run"]["external_id"] = old.external_id.clone().into();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    delivered(&h, "check_run", &payload).await;

    let after = h.check(NEW_HEAD);
    let text = text_of(&after);
    assert_eq!(after.conclusion.as_deref(), Some("failure"), "{text}");
    assert!(
        text.contains("needs engineering-lead and on-call-manager approval"),
        "{text}"
    );
    assert_eq!(
        after.update_count,
        new.update_count + 1,
        "the re-run writes the current head's run again"
    );
    assert_eq!(
        h.check(HEAD_SHA).update_count,
        old.update_count,
        "the old head's run is not rewritten"
    );
}

// ---- 4. A role holder's write access, remembered by one replica ---------

/// The P0 #7 approved by `/hotfix approve` comments of erin (in the
/// `acme/eng-leads` team, so an engineering lead, with write access) and
/// oncall-olga, evaluated by replica one, which so asked GitHub erin's
/// team membership and write access. A second replica shares the store.
async fn p0_approved_by_erin() -> (Harness, Harness, PullSeed) {
    let h = Harness::start().await;
    let pull = h.p0();
    h.seed(POLICY, &pull);
    h.label_events_by(&pull, "dana");
    h.clock.set(pull.created_at);
    h.gh.add_team_member("acme", "eng-leads", "erin");
    h.gh.set_permission(REPO, "erin", "write");
    let second = Harness::on_shared_store(&h).await;
    second.clock.set(pull.created_at);
    h.pull_request("opened", pull.number).await;
    approve_by_comment(
        &h,
        pull.number,
        "erin",
        pull.created_at + Duration::minutes(1),
    )
    .await;
    approve_by_comment(
        &h,
        pull.number,
        "oncall-olga",
        pull.created_at + Duration::minutes(2),
    )
    .await;
    let run = h.check(HEAD_SHA);
    assert_eq!(
        run.conclusion.as_deref(),
        Some("success"),
        "precondition: {}",
        text_of(&run)
    );
    (h, second, pull)
}

fn assert_erin_fills_no_role(h: &Harness, when: &str) {
    let run = h.check(HEAD_SHA);
    let text = text_of(&run);
    assert_eq!(run.conclusion.as_deref(), Some("failure"), "{when}: {text}");
    assert!(
        text.contains(
            "@erin is in engineering-lead but does not have write access; their approval does not count"
        ),
        "{when}: {text}"
    );
}

/// Control: a replica that never asked about erin reads her access fresh.
#[tokio::test]
async fn a_role_holders_lost_write_access_is_read_fresh_by_a_replica_that_never_asked() {
    let (h, second, pull) = p0_approved_by_erin().await;
    h.gh.set_permission(REPO, "erin", "read");
    retitle(&h, pull.number, "fix: stop the login loop (again)");
    edited_on(&second, &[&h, &second], pull.number).await;
    assert_erin_fills_no_role(&h, "replica two");
}

/// An administrator takes erin's write access away (she left the on-call
/// rotation's repository access, or her account is suspected); a writer
/// then re-evaluates #7 (replica two, which reads her access fresh: #7
/// fails, erin fills no role). Within the next five minutes the author
/// edits #7's title until the delivery lands on replica one, which asked
/// about erin minutes ago: the check must keep failing.
///
/// Was a finding, now fixed (`github::memo` is per repository client, that
/// is per evaluation): replica one answered from its memo (5 minutes, per
/// instance) that erin has write access and writes `success` again; it
/// stands until #7 is evaluated again after the memo expired. What it
/// needs: the access to be taken away within five minutes of an
/// evaluation that asked about erin on that replica, and the author's edit
/// (repeated until it lands there) inside the same five minutes. The memo
/// outranks GitHub's answer across replicas and over time; one instance
/// alone shows the same until its memo expires. Fix: keep the memo per
/// evaluation (or a few seconds) for permissions that let someone approve,
/// or drop it on GitHub's `member`/`membership`/`organization` deliveries
/// through the store, as the policy cache should be (finding 1).
#[tokio::test]
async fn a_replica_that_remembers_a_role_holders_write_access_does_not_pass_the_p0_after_it_was_taken()
 {
    let (h, second, pull) = p0_approved_by_erin().await;
    h.gh.set_permission(REPO, "erin", "read");
    retitle(&h, pull.number, "fix: stop the login loop (again)");
    edited_on(&second, &[&h, &second], pull.number).await;
    assert_erin_fills_no_role(&h, "replica two");

    retitle(&h, pull.number, "fix: stop the login loop (once more)");
    edited_on(&h, &[&h, &second], pull.number).await;
    assert_erin_fills_no_role(&h, "replica one, which asked about erin before");
}

// ---- 5. A fork's re-run after its author closed the P0 -----------------

/// mallory (no write access) opened the P0 #7 from the fork `mallory/app`
/// (labels by dana, a writer), closes it, then asks a writer to re-run its
/// run (`external_id` `hotfix-pr:7`, no pull request listed): the re-run
/// evaluates the closed pull request. A close by someone without write
/// access must not stop the escalation, re-run or not: the check keeps
/// failing and says so, and the deadline's escalation is posted once.
#[tokio::test]
async fn a_re_run_of_a_fork_p0_its_author_closed_neither_passes_nor_silences_the_escalation() {
    let h = Harness::start().await;
    let pull = PullSeed {
        author: "mallory".into(),
        head_repo: Some("mallory/app".into()),
        ..h.p0()
    };
    h.seed(POLICY, &pull);
    h.label_events_by(&pull, "dana");
    h.clock.set(pull.created_at);
    fork_delivery(&h, "opened", pull.number).await;
    h.gh.update_pull(REPO, pull.number, |p| p.state = "closed".into());
    h.gh.add_state_event(
        REPO,
        pull.number,
        "closed",
        "mallory",
        pull.created_at + Duration::minutes(3),
    );
    fork_delivery(&h, "closed", pull.number).await;
    let closed = h.check(HEAD_SHA);

    let spec = CheckRunSpec {
        repo: REPO.into(),
        name: "hotfix-policy".into(),
        head_sha: HEAD_SHA.into(),
        head_branch: pull.head_ref.clone(),
        pull_numbers: vec![],
        check_run_id: closed.id,
        sender: "dana".into(),
        ..CheckRunSpec::default()
    };
    let mut payload = webhook::check_run_rerequested(&spec);
    payload["check_run"]["external_id"] = closed.external_id.clone().into();
    delivered(&h, "check_run", &payload).await;

    let run = h.check(HEAD_SHA);
    let text = text_of(&run);
    assert_eq!(run.update_count, closed.update_count + 1, "re-run: {text}");
    assert_eq!(run.conclusion.as_deref(), Some("failure"), "{text}");
    assert!(
        text.contains("Closed without merging by @mallory at ")
            && text.contains(", who lacks write access: escalation continues"),
        "{text}"
    );
    h.clock.advance(Duration::minutes(130));
    assert_eq!(h.app.engine.sweep().await, 1, "the escalation is posted");
    assert_eq!(common::attacks::escalations(&h, pull.number), 1);
}

// ---- 6. A re-run of the merge-back check -------------------------------

const MERGE_SHA: &str = "m9m9m9m9m9m9m9m9m9m9m9m9m9m9m9m9m9m9m9m9";
const MERGE_BACK_BRANCH: &str = "hotfix-guard/merge-back-7";

fn merge_back_run(h: &Harness) -> common::fake_github::CheckRunRec {
    let runs: Vec<_> =
        h.gh.check_runs(REPO, MERGE_SHA)
            .into_iter()
            .filter(|r| r.name == "hotfix-policy/merge-back")
            .collect();
    assert_eq!(runs.len(), 1, "{runs:#?}");
    runs.into_iter().next().expect("one")
}

/// The approved P0 #7 is merged; the app opens the merge-back pull request
/// into `develop` and its `hotfix-policy/merge-back` run waits for it. A
/// writer clicks Re-run on that run (GitHub lists the merge-back pull
/// request, whose head is the merge commit). Issue 9: a re-run always
/// writes the run again, so that it visibly happens; the merge-back run
/// must be written again and still wait (never pass while `develop` lacks
/// the fix).
///
/// Was a finding, now fixed (the run's `external_id` is `merge-back:7`,
/// and `events::classify` routes its re-run to #7). Not an author's
/// attack (the "Re-run re-runs" class): the re-run evaluated the pull request GitHub lists, the merge-back pull
/// request itself, as a pull request into `develop` (not a hotfix): it
/// writes a `hotfix-policy` run on the merge commit and never the
/// merge-back run, which stays as it was (`events::classify`, `check_run`
/// arm: `each(run.pull_requests)` for both check names). A re-run of the
/// merge-back run with no pull request listed (the merge-back pull request
/// merged or closed) is ignored. Fix: route a `hotfix-policy/merge-back`
/// run's re-run to its hotfix (write the hotfix's number as the run's
/// `external_id`, e.g. `merge-back:7`, and evaluate that pull request with
/// `Trigger::Rerun`).
#[tokio::test]
async fn a_re_run_of_the_merge_back_check_writes_it_again_and_it_still_waits() {
    let h = Harness::start().await;
    let pull = PullSeed {
        state: "closed".into(),
        merged: true,
        merge_commit_sha: Some(MERGE_SHA.into()),
        merged_by: Some("alice".into()),
        ..h.p0()
    };
    h.seed(POLICY, &pull);
    h.label_events_by(&pull, "dana");
    h.clock.set(pull.created_at);
    approved_by_both_roles(&h, pull.number, HEAD_SHA);
    h.pull_request("closed", pull.number).await;
    let before = merge_back_run(&h);
    assert_eq!(before.status, "in_progress", "precondition");
    let merge_back =
        h.gh.pulls(REPO)
            .into_iter()
            .find(|p| p.head_ref == MERGE_BACK_BRANCH)
            .expect("the merge-back pull request");

    let spec = CheckRunSpec {
        repo: REPO.into(),
        name: "hotfix-policy/merge-back".into(),
        head_sha: MERGE_SHA.into(),
        head_branch: MERGE_BACK_BRANCH.into(),
        pull_numbers: vec![merge_back.number],
        check_run_id: before.id,
        sender: "dana".into(),
        ..CheckRunSpec::default()
    };
    let mut payload = webhook::check_run_rerequested(&spec);
    payload["check_run"]["external_id"] = before.external_id.clone().into();
    delivered(&h, "check_run", &payload).await;

    let after = merge_back_run(&h);
    assert_eq!(
        after.update_count,
        before.update_count + 1,
        "the re-run writes the merge-back run again"
    );
    assert_eq!(after.status, "in_progress");
    assert_eq!(
        after.title.as_deref(),
        Some(format!("Waiting for #{} to merge into develop", merge_back.number).as_str())
    );
}

// ---- 7. A refused escalation behind a flood of comments -----------------

/// GitHub's answer to a comment on a locked conversation.
fn locked_body() -> serde_json::Value {
    serde_json::json!({
        "message": "Unable to create comment because issue is locked.",
        "documentation_url": "https://docs.github.com/articles/locking-conversations/"
    })
}

/// Escalation comments of `level` the app posted on `number`.
fn level_posts(h: &Harness, number: u64, level: u8) -> usize {
    let marker = format!("<!-- hotfix-guard:escalation level={level} -->");
    h.bot_comments(number)
        .into_iter()
        .filter(|c| c.body.starts_with(&marker))
        .count()
}

/// Control: without the flood, the sweep after the refusal reads the
/// app's own comments, finds no level 1, and posts it once.
#[tokio::test]
async fn a_refused_escalation_is_posted_once_after_the_unlock() {
    let (h, pull) = refused_escalation(0).await;
    assert_eq!(h.app.engine.sweep().await, 1, "posted after the unlock");
    assert_eq!(h.app.engine.sweep().await, 0, "and only once");
    assert_eq!(level_posts(&h, pull.number, 1), 1);
}

/// The unapproved P0 #7, watched; `flood` comments by anyone (the author
/// can post them); its deadline passes. A triage user locks the
/// conversation after the sweep read the pull request (`locked` false)
/// and before its escalation comment: GitHub refuses the comment (403
/// "… because issue is locked."), and unlocks it right after. The test
/// plays the lock by that one 403; the pull request never shows `locked`.
async fn refused_escalation(flood: usize) -> (Harness, PullSeed) {
    let h = Harness::start().await;
    let pull = h.p0();
    h.seed(POLICY, &pull);
    h.label_events_by(&pull, "dana");
    h.clock.set(pull.created_at);
    h.pull_request("opened", pull.number).await;
    for n in 0..flood {
        h.gh.add_comment_at(
            REPO,
            pull.number,
            "mallory",
            &format!("+1 ({n})"),
            pull.created_at + Duration::seconds(10),
        );
    }
    h.clock.advance(Duration::minutes(130));
    h.gh.fail_next_with_body("POST", "/comments", 403, Vec::new(), locked_body(), 1);
    assert_eq!(h.app.engine.sweep().await, 0, "refused: held back");
    assert_eq!(level_posts(&h, pull.number, 1), 0);
    (h, pull)
}

/// The same with more than 10,000 comments on #7 (anyone who can comment
/// can post them; GitHub's comment list stops at 100 pages). The refused
/// comment was never created, so level 1 must be posted, once, by a
/// sweep after the unlock.
///
/// Was a finding, now fixed (`escalation::post`): the sweep marks a
/// level's posting as started before the comment and left the mark when
/// GitHub refused it as locked, so every later sweep had to list the app's
/// own comments to learn whether it was posted; past 100 pages that
/// listing fails, and the escalation was silenced for good. A refusal (any
/// 4xx: nothing was written) now clears the mark; only an unknown outcome
/// (a 5xx, no answer) keeps it.
#[tokio::test]
async fn a_refused_escalation_behind_10001_comments_is_posted_once_after_the_unlock() {
    let (h, pull) = refused_escalation(10_001).await;
    assert_eq!(h.app.engine.sweep().await, 1, "posted after the unlock");
    assert_eq!(h.app.engine.sweep().await, 0, "and only once");
    assert_eq!(level_posts(&h, pull.number, 1), 1);
}

// ---- 2b. A base change behind a flooded timeline or events list ---------

/// What can flood a list: comments (anyone who can comment) cut the
/// timeline only; events the author can cause at will (renaming the pull
/// request) cut the issue events list too.
#[derive(Clone, Copy)]
enum Flood {
    Comments,
    AuthorRenames,
}

/// #7 against `develop`, approved by both roles by review (reviews are read
/// in full from their own list when the timeline is cut), 10,001 items of
/// `flood` before the approvals, then retargeted to `main`. Returns the
/// check run's conclusion and text.
async fn reviewed_flooded_and_retargeted(flood: Flood) -> (Option<String>, String) {
    let (h, pull) = p0_against_develop().await;
    h.pull_request("opened", pull.number).await;
    let early = pull.created_at + Duration::seconds(30);
    for n in 0..10_001 {
        match flood {
            Flood::Comments => {
                h.gh.add_comment_at(REPO, pull.number, "chatty", &format!("+1 ({n})"), early);
            }
            Flood::AuthorRenames => {
                h.gh.add_state_event(REPO, pull.number, "renamed", &pull.author, early);
            }
        }
    }
    for (who, minutes) in [("alice", 1), ("oncall-olga", 2)] {
        h.gh.add_review_at(
            REPO,
            pull.number,
            who,
            "APPROVED",
            HEAD_SHA,
            pull.created_at + Duration::minutes(minutes),
        );
    }
    h.gh.update_pull(REPO, pull.number, |p| {
        p.base_ref = "main".into();
        p.base_sha = BASE_SHA.into();
    });
    h.gh.add_base_change(
        REPO,
        pull.number,
        &pull.author,
        pull.created_at + Duration::minutes(10),
    );
    h.clock.set(pull.created_at + Duration::minutes(11));
    // The evaluation reads hundreds of pages: wait for its write.
    label_delivery_slow(&h, pull.number, "labeled", "P0").await;
    let run = h.check(HEAD_SHA);
    (run.conclusion.clone(), text_of(&run))
}

/// The timeline is cut after 10,000 comments, so the retarget is past its
/// cut; the issue events list (read then, and where GitHub documents
/// `base_ref_changed`) still shows it: the reviews given against `develop`
/// are stale.
#[tokio::test]
async fn a_retarget_past_a_cut_timeline_is_read_from_the_events_list() {
    let (conclusion, text) = reviewed_flooded_and_retargeted(Flood::Comments).await;
    assert_eq!(conclusion.as_deref(), Some("failure"), "{text}");
    assert!(
        text.contains("@alice's review came before the base branch changed to `main`"),
        "{text}"
    );
    assert!(
        text.contains("needs engineering-lead and on-call-manager approval"),
        "{text}"
    );
}

/// The author's renames cut the events list too: a retarget past its cut
/// is unread, so no approval is known to follow the latest base change.
/// Fail closed: every approval is stale, and the report says why.
#[tokio::test]
async fn a_cut_events_list_makes_every_approval_stale_for_an_unknown_retarget() {
    let (conclusion, text) = reviewed_flooded_and_retargeted(Flood::AuthorRenames).await;
    assert_eq!(conclusion.as_deref(), Some("failure"), "{text}");
    assert!(
        text.contains(
            "@alice's review is stale — approve again: could not confirm it came after the latest change of the base branch (now `main`)"
        ),
        "{text}"
    );
    assert!(text.contains("more than 10,000 issue events"), "{text}");
}
