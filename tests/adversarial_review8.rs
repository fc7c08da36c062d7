//! Eighth adversarial review of issue 9 (fail closed). As the other review
//! files: each test plays what only a pull request's author (write access
//! to their own fork, none on the base repository) or a user with triage
//! access (labels, close, reopen, lock; no push, no merge) can do, through
//! signed deliveries to the real router and the real client talking to the
//! fake GitHub, and asserts the SAFE outcome (conclusion and wording). A
//! passing test is an attack that failed; a test marked
//! `#[ignore = "finding: …"]` is an attack that worked (see its comment).

use crate::common;

use common::attacks::text_of;
use common::fake_github::PullSeed;
use common::harness::{HEAD_SHA, Harness, POLICY, REPO};
use common::twins::{assert_the_p0_failure_holds, p0_with_an_approved_p2_twin};

/// A commit the author pushes to move a pull request off the shared head.
const AWAY_SHA: &str = "a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2";

/// `pull_request.<action>` for `number` as the fake holds it now,
/// delivered to `instance` under delivery id `id` (each harness counts its
/// own ids from zero, and a shared store would take a reused id for a
/// redelivery); waits for every instance in `all` to be idle.
async fn delivered_on(instance: &Harness, all: &[&Harness], action: &str, number: u64, id: &str) {
    let seed = instance.gh.pull(REPO, number).expect("seeded pull request");
    let mut payload = common::webhook::pull_request_event(
        action,
        &common::webhook::PrSpec::from_seed(REPO, &seed, 1),
    );
    if let Some((files, additions, deletions)) = instance.gh.pull_totals(REPO, number) {
        payload["pull_request"]["changed_files"] = files.into();
        payload["pull_request"]["additions"] = additions.into();
        payload["pull_request"]["deletions"] = deletions.into();
    }
    payload["pull_request"]["html_url"] =
        format!("{}/{REPO}/pull/{number}", instance.gh.url()).into();
    instance.deliver_as("pull_request", id, &payload).await;
    for h in all {
        h.settle().await;
    }
}

/// The author's push of `sha` to #7's branch in their fork: the commit's
/// date and GitHub's record of the push, and the pull request's new head.
fn push_p0_to(h: &Harness, pull: &PullSeed, sha: &str, minutes: i64) {
    let at = pull.created_at + chrono::Duration::minutes(minutes);
    h.gh.set_file(REPO, sha, "VERSION", "1.2.4\n");
    h.gh.set_commit_date(REPO, sha, at);
    h.gh.add_push_activity(REPO, &pull.head_ref, sha, "force_push", &pull.author, at);
    h.gh.update_pull(REPO, pull.number, |p| p.head_sha = sha.into());
}

// ---- Two replicas, and a pull request that leaves the head and comes back --

/// Two replicas share the store (PostgreSQL, several machines). Replica
/// one wrote the P0 #7's failure on the shared head. The author pushes #7
/// off the head (replica two evaluates it), edits the approved twin #9
/// (replica two: #7 is no longer on the head, so #9's `success` is
/// written, rightly), then force-pushes #7 back onto the head, and replica
/// one evaluates that. Replica one still remembers, in memory, that it
/// wrote exactly this failure on this run, while the store says the run
/// now shows #9's `success`: the P0's failure must be written again.
///
/// Was a finding, now fixed (`write_unserialised` reads what the run last
/// showed from the store only, never from this replica's memory): replica
/// one compared the new verdict with the fingerprint it kept in memory
/// (`PublishCache::checks`) before the store's record of the run's last
/// write, found "unchanged" and wrote nothing: the unapproved P0 #7 shows #9's
/// `success` on its head until #7 is evaluated again with another text
/// (its next delivery, or the escalation at its deadline) or by a replica
/// that does not remember that text. The test's clocks stand still; in
/// production the P0's title carries "… left" to the minute, so the three
/// moves must follow replica one's last write of #7 within that minute
/// (the author can make one by editing #7's title), and the deliveries
/// must land on the replicas this needs: a failed try leaves the failure,
/// so the author simply tries again. Closing and reopening #7 instead of
/// pushing it away does the same (next test).
#[tokio::test]
async fn a_p0_pushed_off_and_back_on_a_replica_that_wrote_its_failure_is_failing_again() {
    let (h, _second) = pushed_off_and_back(true, "8a8a8a8a").await;
    assert_the_p0_failure_holds(&h); // after #7 is back on the head
}

/// The control: the same moves, with the push back onto the head
/// evaluated by replica two (the one that wrote #9's `success`), write the
/// P0's failure again. Shows that the assertion above can pass and that
/// what differs is only which replica evaluates the push back.
#[tokio::test]
async fn a_p0_pushed_off_and_back_on_the_replica_that_wrote_the_success_is_failing_again() {
    let (h, _second) = pushed_off_and_back(false, "8b8b8b8b").await;
    assert_the_p0_failure_holds(&h); // after #7 is back on the head
}

/// Two replicas on one store (replica one: the harness that seeded the P0
/// #7 and its approved P2 twin #9, `p0_with_an_approved_p2_twin`). The
/// author pushes #7 off the head (replica two evaluates it), edits #9
/// (replica two writes #9's `success` on the head: asserted), then pushes
/// #7 back onto the head, evaluated by replica one when `back_on_first`,
/// else by replica two. Delivery ids are `{prefix}-0000-4000-8000-00000000000N`
/// (N = 1, 2, 3). Answers both replicas (the second kept alive).
async fn pushed_off_and_back(back_on_first: bool, prefix: &str) -> (Harness, Harness) {
    let (h, pull) = p0_with_an_approved_p2_twin("dana").await;
    let second = Harness::on_shared_store(&h).await;
    second.clock.set(pull.created_at);
    let both = [&h, &second];
    let id = |n: u32| format!("{prefix}-0000-4000-8000-00000000000{n}");

    push_p0_to(&h, &pull, AWAY_SHA, 10);
    delivered_on(&second, &both, "synchronize", 7, &id(1)).await;
    h.gh.update_pull(REPO, 9, |p| {
        p.title = "fix: stop the login loop (P2)".into()
    });
    delivered_on(&second, &both, "edited", 9, &id(2)).await;
    let run = h.check(HEAD_SHA);
    assert_eq!(
        run.conclusion.as_deref(),
        Some("success"),
        "precondition: with #7 off the head, the twin's success is shown: {}",
        text_of(&run)
    );

    push_p0_to(&h, &pull, HEAD_SHA, 20);
    let back = if back_on_first { &h } else { &second };
    delivered_on(back, &both, "synchronize", 7, &id(3)).await;
    (h, second)
}

/// The same laundering through close and reopen, which any author may do
/// to their own pull request: replica one wrote the P0 #7's failure; the
/// author closes #7 (replica two), edits the approved twin #9 (replica
/// two: #7 is closed, so #9's `success` is written, rightly), and reopens
/// #7 (replica one). The reopened P0's failure must be written again.
///
/// Was a finding (fixed, same cause as above): replica one's memory said
/// it already wrote this failure, so the reopened, unapproved P0 showed
/// #9's `success`.
#[tokio::test]
async fn a_p0_closed_and_reopened_around_the_twins_success_on_two_replicas_is_failing_again() {
    let (h, pull) = p0_with_an_approved_p2_twin("dana").await;
    let second = Harness::on_shared_store(&h).await;
    second.clock.set(pull.created_at);
    let both = [&h, &second];

    h.gh.update_pull(REPO, pull.number, |p| p.state = "closed".into());
    delivered_on(
        &second,
        &both,
        "closed",
        7,
        "8c8c8c8c-0000-4000-8000-000000000001",
    )
    .await;
    h.gh.update_pull(REPO, 9, |p| {
        p.title = "fix: stop the login loop (P2)".into()
    });
    delivered_on(
        &second,
        &both,
        "edited",
        9,
        "8c8c8c8c-0000-4000-8000-000000000002",
    )
    .await;
    let run = h.check(HEAD_SHA);
    assert_eq!(
        run.conclusion.as_deref(),
        Some("success"),
        "precondition: with #7 closed, the twin's success is shown: {}",
        text_of(&run)
    );

    h.gh.update_pull(REPO, pull.number, |p| p.state = "open".into());
    delivered_on(
        &h,
        &both,
        "reopened",
        7,
        "8c8c8c8c-0000-4000-8000-000000000003",
    )
    .await;
    assert_the_p0_failure_holds(&h); // after #7 is reopened
}

// ---- One instance: the P0 closed, the twin passes, the P0 reopened ---------

/// The author closes the unapproved P0 #7 (a closed pull request holds no
/// commit, so the approved twin #9's `success` may then be written: the
/// sixth review's rule), edits #9 so that its `success` is written, and
/// reopens #7. Reopening must put the P0's failure back on the shared
/// head: the `success` written while #7 was closed must not outlive it.
#[tokio::test]
async fn a_p0_reopened_after_the_twins_success_is_failing_again() {
    let (h, pull) = p0_with_an_approved_p2_twin("dana").await;
    h.gh.update_pull(REPO, pull.number, |p| p.state = "closed".into());
    h.pull_request("closed", pull.number).await;
    h.gh.update_pull(REPO, 9, |p| {
        p.title = "fix: stop the login loop (P2)".into()
    });
    h.pull_request("edited", 9).await;
    assert_eq!(
        h.check(HEAD_SHA).conclusion.as_deref(),
        Some("success"),
        "precondition: with #7 closed, the twin's success is shown"
    );
    h.gh.update_pull(REPO, pull.number, |p| p.state = "open".into());
    h.pull_request("reopened", pull.number).await;
    assert_the_p0_failure_holds(&h); // after #7 is reopened
    // And the twin, edited again, does not take the run back.
    h.gh.update_pull(REPO, 9, |p| p.title = "fix: login loop (P2)".into());
    h.pull_request("edited", 9).await;
    assert_the_p0_failure_holds(&h); // after #9 is edited again
}

// ---- Two replicas racing on a fresh head -----------------------------------

/// The author opens the approved P2 twin #9 and the P0 #7 on a fresh head
/// at the same moment, and GitHub's deliveries land on two replicas that
/// share the store (GitHub delivered a fresh check suite, so the first
/// writer may skip the lookup), with GitHub slow to create the first run.
/// The replicas must not make two `hotfix-policy` runs, and the one run
/// must end on the P0's failure, also after the twin is edited again on
/// either replica.
#[tokio::test]
async fn the_twin_and_the_p0_opened_at_once_on_two_replicas_leave_one_failing_run() {
    let h = Harness::start().await;
    let pull = h.p0();
    h.seed(POLICY, &pull);
    h.label_events_by(&pull, "dana");
    h.clock.set(pull.created_at);
    let twin = PullSeed {
        number: 9,
        head_ref: "hotfix/twin".into(),
        head_sha: HEAD_SHA.into(),
        labels: vec!["hotfix".into(), "P2".into()],
        ..h.p0()
    };
    h.gh.add_pull(REPO, twin.clone());
    h.gh.set_pull_files(REPO, 9, [("src/fix.rs", 3, 1), ("VERSION", 1, 1)]);
    h.label_events_by(&twin, "dana");
    h.gh.add_review(REPO, 9, "bob", "APPROVED", HEAD_SHA);
    let second = Harness::on_shared_store(&h).await;
    second.clock.set(pull.created_at);
    let both = [&h, &second];

    let suite = common::webhook::check_suite_requested(REPO, HEAD_SHA, &pull.head_ref, 1, 0);
    h.deliver("check_suite", &suite).await;
    h.settle().await;
    h.gh.delay_next(
        "POST",
        "/check-runs",
        std::time::Duration::from_millis(500),
        1,
    );
    let _ = tokio::join!(
        delivered_on(&h, &[], "opened", 9, "8d8d8d8d-0000-4000-8000-000000000001"),
        delivered_on(
            &second,
            &[],
            "opened",
            7,
            "8d8d8d8d-0000-4000-8000-000000000002"
        ),
    );
    h.settle().await;
    second.settle().await;
    // `check` also asserts that the commit has exactly one run.
    assert_the_p0_failure_holds(&h); // after both opened

    h.gh.update_pull(REPO, 9, |p| {
        p.title = "fix: stop the login loop (P2)".into()
    });
    delivered_on(
        &h,
        &both,
        "edited",
        9,
        "8d8d8d8d-0000-4000-8000-000000000003",
    )
    .await;
    assert_the_p0_failure_holds(&h); // after #9 is edited on replica one
    h.gh.update_pull(REPO, 9, |p| p.title = "fix: login loop (P2)".into());
    delivered_on(
        &second,
        &both,
        "edited",
        9,
        "8d8d8d8d-0000-4000-8000-000000000004",
    )
    .await;
    assert_the_p0_failure_holds(&h); // after #9 is edited on replica two
}

// ---- The same cause without a twin (not the author's move) -----------------

/// `pull_request_review.<action>` for `review` on `number`, delivered to
/// `instance` under delivery id `id`; waits for every instance in `all`.
async fn review_on(
    instance: &Harness,
    all: &[&Harness],
    action: &str,
    number: u64,
    review: &common::webhook::ReviewSpec,
    id: &str,
) {
    let seed = instance.gh.pull(REPO, number).expect("seeded pull request");
    let spec = common::webhook::PrSpec::from_seed(REPO, &seed, 1);
    let payload = common::webhook::review_event(action, &spec, review);
    instance
        .deliver_as("pull_request_review", id, &payload)
        .await;
    for h in all {
        h.settle().await;
    }
}

/// Not an attack by the author, but the same cause shown on the P0 alone,
/// to size it: replica one wrote the unapproved P0's failure; alice and
/// oncall-olga approve and replica two writes the `success`; then a writer
/// dismisses both approvals (a mistake, or a reviewer who spotted a
/// problem), and replica one evaluates the dismissal. The verdict is again
/// exactly the failure replica one remembers writing, so it must not be
/// taken for "unchanged": the run must fail again.
///
/// Was a finding (fixed, same cause as above): the dismissed P0 kept
/// `success`.
#[tokio::test]
async fn approvals_dismissed_after_another_replica_wrote_the_success_fail_the_p0_again() {
    let h = Harness::start().await;
    let pull = h.p0();
    h.seed(POLICY, &pull);
    h.label_events_by(&pull, "dana");
    h.clock.set(pull.created_at);
    h.pull_request("opened", pull.number).await;
    assert_the_p0_failure_holds(&h); // precondition
    let second = Harness::on_shared_store(&h).await;
    second.clock.set(pull.created_at);
    let both = [&h, &second];

    let alice = h.gh.add_review(REPO, 7, "alice", "APPROVED", HEAD_SHA);
    let olga =
        h.gh.add_review(REPO, 7, "oncall-olga", "APPROVED", HEAD_SHA);
    let review = common::webhook::ReviewSpec::approved(olga, "oncall-olga", HEAD_SHA);
    review_on(
        &second,
        &both,
        "submitted",
        7,
        &review,
        "8e8e8e8e-0000-4000-8000-000000000001",
    )
    .await;
    assert_eq!(
        h.check(HEAD_SHA).conclusion.as_deref(),
        Some("success"),
        "precondition: approved by both roles"
    );

    h.gh.set_review_state(REPO, 7, alice, "DISMISSED");
    h.gh.set_review_state(REPO, 7, olga, "DISMISSED");
    let dismissed = common::webhook::ReviewSpec {
        state: "dismissed".into(),
        ..review
    };
    review_on(
        &h,
        &both,
        "dismissed",
        7,
        &dismissed,
        "8e8e8e8e-0000-4000-8000-000000000002",
    )
    .await;
    assert_the_p0_failure_holds(&h); // after both approvals are dismissed
}

// ---- Re-run of a pull request from a fork ----------------------------------

/// The author's P0 comes from their fork (the usual case for an author
/// without write access). A writer clicks "Re-run" on its `hotfix-policy`
/// run, then the run's Re-check button: GitHub lists no pull request in
/// `check_run.pull_requests` for a head in a fork, but the run is still
/// ours and names its pull request (`external_id` `hotfix-pr:7`). Issue 9
/// asks that a re-run always writes the run again (a fresh
/// `completed_at`), so that the re-run visibly happens; and a re-run is
/// what the docs tell a writer to use when a held or stale verdict must be
/// evaluated again.
///
/// Was a finding, now fixed: both were ignored ("check run has no pull
/// request (fork or deleted branch)", `events::classify`): nothing was
/// written and a stale verdict was not refreshed. The run's `external_id`
/// (`hotfix-pr:7`, written by this app, which alone can change it) now
/// names the pull request.
#[tokio::test]
async fn a_re_run_of_a_fork_pull_requests_run_writes_it_again() {
    let h = Harness::start().await;
    let pull = h.p0();
    h.seed(POLICY, &pull);
    h.label_events_by(&pull, "dana");
    h.clock.set(pull.created_at);
    common::attacks::fork_delivery(&h, "opened", pull.number).await;
    let before = h.check(HEAD_SHA);
    assert_eq!(
        before.external_id.as_deref(),
        Some("hotfix-pr:7"),
        "precondition: the run names #7"
    );
    let spec = common::webhook::CheckRunSpec {
        repo: REPO.into(),
        name: "hotfix-policy".into(),
        head_sha: HEAD_SHA.into(),
        head_branch: pull.head_ref.clone(),
        pull_numbers: vec![],
        check_run_id: before.id,
        sender: "dana".into(),
        ..common::webhook::CheckRunSpec::default()
    };
    // GitHub's check_run payload carries the run as it is, its
    // `external_id` included.
    let with_run_id = |mut payload: serde_json::Value| {
        payload["check_run"]["external_id"] = before.external_id.clone().into();
        payload
    };
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    h.deliver(
        "check_run",
        &with_run_id(common::webhook::check_run_rerequested(&spec)),
    )
    .await;
    h.settle().await;
    let after = h.check(HEAD_SHA);
    assert_eq!(
        after.update_count,
        before.update_count + 1,
        "re-run: written again"
    );
    assert!(
        after.completed_at > before.completed_at,
        "a fresh completed_at"
    );

    h.deliver(
        "check_run",
        &with_run_id(common::webhook::check_run_requested_action(
            &spec, "recheck",
        )),
    )
    .await;
    h.settle().await;
    assert_eq!(
        h.check(HEAD_SHA).update_count,
        after.update_count + 1,
        "Re-check: written again"
    );
}

// ---- A triage user takes the P0's severity away while the twin waits ------

/// A triage user (trina: labels, close, reopen; GitHub says `read`) removes
/// `P0` and `hotfix` from the P0 #7, hoping that #7 stops counting as an
/// open hotfix with an unmet verdict on the shared head, and the author
/// then edits the approved P2 twin #9. A label a writer applied holds until
/// a writer removes it, so #7 is still a hotfix whose verdict is unmet:
/// the twin's `success` must stay held, and the run must say why #7 fails.
#[tokio::test]
async fn a_triage_user_removing_the_p0s_labels_does_not_let_the_twin_pass_it() {
    let (h, pull) = p0_with_an_approved_p2_twin("dana").await;
    h.gh.set_permission(REPO, "trina", "triage");
    for (i, label) in ["P0", "hotfix"].iter().enumerate() {
        h.gh.add_label_event(
            REPO,
            pull.number,
            label,
            "trina",
            false,
            pull.created_at + chrono::Duration::minutes(10 + i as i64),
        );
    }
    h.gh.set_labels(REPO, pull.number, &[]);
    h.pull_request("unlabeled", pull.number).await;
    h.gh.update_pull(REPO, 9, |p| {
        p.title = "fix: stop the login loop (P2)".into()
    });
    h.pull_request("edited", 9).await;

    let run = h.check(HEAD_SHA);
    let text = text_of(&run);
    assert_eq!(run.conclusion.as_deref(), Some("failure"), "{text}");
    assert_eq!(run.external_id.as_deref(), Some("hotfix-pr:7"), "{text}");
    assert!(
        text.contains("was removed by @trina (read access)"),
        "{text}"
    );
    assert!(!text.contains("all requirements met"), "{text}");
}
