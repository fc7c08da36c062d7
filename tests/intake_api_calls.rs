//! What an evaluation costs on GitHub (issue 10: "API calls not higher than
//! today; the stored check-run id removes the lookup"). The fake GitHub
//! records every call; these tests pin the exact calls of a pull request
//! that is not a hotfix, first and later, across a restart, with the store
//! lost, and when the recorded run is gone — and that each ends with one
//! check run on the head, never two.

use crate::common;

use axum::http::StatusCode;
use common::attacks::{delivered, fresh_suite};
use common::fake_github::PullSeed;
use common::harness::{HEAD_SHA, Harness, POLICY, REPO};
use common::webhook::{CheckRunSpec, check_run_requested_action};

/// The calls made since the last `clear_requests`, as `METHOD path` with
/// ids and shas kept (they name what was read or written).
fn calls(h: &Harness) -> Vec<String> {
    let mut calls: Vec<String> =
        h.gh.requests()
            .into_iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect();
    // The pull request, its timeline and its files are read together
    // (`gather::first_reads`) and reach GitHub in any order: only within
    // that batch is the order not compared (it is put in the order the
    // lists below spell it); what is called, and everything else's order,
    // still is.
    let batch = [PULL, TIMELINE, FILES];
    if let Some(start) = calls.iter().position(|c| batch.contains(&c.as_str())) {
        let end = (start + batch.len()).min(calls.len());
        calls[start..end].sort_by_key(|c| batch.iter().position(|b| b == c));
    }
    calls
}

const TOKEN: &str = "POST /app/installations/1/access_tokens";
const POLICY_READ: &str = "GET /repos/octo/app/contents/.github/hotfix-policy.yml";
const FILES: &str = "GET /repos/octo/app/pulls/3/files";
const CREATE: &str = "POST /repos/octo/app/check-runs";
/// Every evaluation reads the pull request fresh: a delivery's snapshot
/// may be older than what GitHub holds now.
const PULL: &str = "GET /repos/octo/app/pulls/3";
/// Read for a pull request that is not a hotfix too: a hotfix label that
/// someone without write access removed still applies.
const TIMELINE: &str = "GET /repos/octo/app/issues/3/timeline";

fn lookup() -> String {
    format!("GET /repos/octo/app/commits/{HEAD_SHA}/check-runs")
}

fn update(id: u64) -> String {
    format!("PATCH /repos/octo/app/check-runs/{id}")
}

/// The calls of an evaluation on an instance that has not called GitHub
/// yet (a first delivery, a restart): a token, the policy, the first
/// reads, then `writes` (the check run's lookup and write).
fn cold(writes: &[&str]) -> Vec<String> {
    [TOKEN, POLICY_READ]
        .iter()
        .map(ToString::to_string)
        .chain(warm(writes))
        .collect()
}

/// The calls of an evaluation with the token and the policy cached: the
/// first reads, then `writes`.
fn warm(writes: &[&str]) -> Vec<String> {
    [PULL, TIMELINE, FILES]
        .iter()
        .chain(writes)
        .map(ToString::to_string)
        .collect()
}

/// Asserts that the calls since the last `clear_requests` are `expected`,
/// in order (within the first reads, in any order: see `calls`).
fn assert_calls(h: &Harness, expected: &[String]) {
    assert_eq!(calls(h), expected, "{:#?}", h.gh.requests());
}

/// Asserts that the check runs on the head were looked up since the last
/// `clear_requests`.
fn assert_looked_up(h: &Harness) {
    assert!(calls(h).contains(&lookup()), "{:#?}", h.gh.requests());
}

fn plain(h: &Harness) -> PullSeed {
    PullSeed {
        number: 3,
        head_ref: "feature/search".into(),
        labels: vec!["enhancement".into()],
        ..h.p0()
    }
}

/// "Re-check" clicked on the pull request's run: a re-evaluation that
/// writes the run again even though the verdict did not change.
async fn recheck(h: &Harness, run: u64, delivery: &str) {
    let spec = CheckRunSpec {
        check_run_id: run,
        pull_numbers: vec![3],
        ..CheckRunSpec::default()
    };
    h.gh.clear_requests();
    assert_eq!(
        h.deliver_as(
            "check_run",
            delivery,
            &check_run_requested_action(&spec, "recheck")
        )
        .await,
        StatusCode::ACCEPTED
    );
    h.settle().await;
}

fn one_neutral_run(h: &Harness) -> u64 {
    let runs = h.gh.check_runs(REPO, HEAD_SHA);
    assert_eq!(runs.len(), 1, "one check run on the head: {runs:#?}");
    assert_eq!(runs[0].conclusion.as_deref(), Some("neutral"));
    assert_eq!(runs[0].title.as_deref(), Some("No hotfix policy applies"));
    runs[0].id
}

#[tokio::test]
async fn a_first_evaluation_looks_the_run_up_once_and_later_ones_use_the_stored_id() {
    let h = Harness::start().await;
    h.seed(POLICY, &plain(&h));
    h.gh.clear_requests();
    h.pull_request("opened", 3).await;
    let run = one_neutral_run(&h);
    // First evaluation of a head nobody recorded: the lookup guards against
    // a run written before this store existed (a lost store).
    assert_calls(&h, &cold(&[&lookup(), CREATE]));

    // Later evaluations of the same head: the store knows the run and what
    // it shows, so no lookup (before: always one for a pull request that is
    // not a hotfix, to see whose verdict the run shows).
    recheck(&h, run, "recheck-1").await;
    assert_calls(&h, &warm(&[&update(run)]));
    assert_eq!(one_neutral_run(&h), run);

    // A restart (same store): a new token and policy read, still no lookup.
    let next = Harness::on_shared_store(&h).await;
    drop(h);
    recheck(&next, run, "recheck-2").await;
    assert_calls(&next, &cold(&[&update(run)]));
    assert_eq!(one_neutral_run(&next), run);
}

#[tokio::test]
async fn with_the_store_lost_the_run_is_found_on_github_and_not_written_twice() {
    let h = Harness::start().await;
    h.seed(POLICY, &plain(&h));
    h.pull_request("opened", 3).await;
    let run = one_neutral_run(&h);

    let lost = Harness::on_shared(&h).await;
    drop(h);
    recheck(&lost, run, "recheck-lost").await;
    assert_calls(&lost, &cold(&[&lookup(), &update(run)]));
    assert_eq!(one_neutral_run(&lost), run);
}

#[tokio::test]
async fn a_recorded_run_that_github_does_not_know_is_looked_up_not_duplicated() {
    let h = Harness::start().await;
    h.seed(POLICY, &plain(&h));
    h.pull_request("opened", 3).await;
    let run = one_neutral_run(&h);

    // The store names a run this GitHub answers 404 for (a store restored
    // from another installation of the app, say): on a restart (nothing in
    // memory) the update fails, the run is looked up and written.
    h.app
        .store
        .remember_check(
            &repo(),
            &recorded(),
            987_654,
            1,
            Some((Some("pr:3"), Some("neutral"))),
        )
        .await
        .expect("store");
    let next = Harness::on_shared_store(&h).await;
    drop(h);
    recheck(&next, run, "recheck-gone").await;
    assert_calls(&next, &cold(&[&update(987_654), &lookup(), &update(run)]));
    assert_eq!(one_neutral_run(&next), run);
    let stored = next
        .app
        .store
        .published_check(&repo(), &recorded())
        .await
        .expect("store")
        .expect("recorded again");
    assert_eq!(stored.id, run, "the record names the real run now");
}

// ---- the first write without a lookup (store::claims) -------------------

fn repo() -> hotfix_guard::events::RepoName {
    hotfix_guard::events::RepoName {
        owner: "octo".into(),
        name: "app".into(),
    }
}

fn recorded() -> String {
    format!("check:hotfix-policy@{HEAD_SHA}")
}

#[tokio::test]
async fn on_a_freshly_pushed_head_the_first_evaluation_creates_the_run_without_a_lookup() {
    let h = Harness::start().await;
    h.seed(POLICY, &plain(&h));
    h.gh.clear_requests();
    fresh_suite(&h, HEAD_SHA, "feature/search").await;
    h.pull_request("opened", 3).await;
    let run = one_neutral_run(&h);
    assert_calls(&h, &cold(&[CREATE]));
    // A re-evaluation uses the stored id, as before.
    recheck(&h, run, "recheck-fresh").await;
    assert_calls(&h, &warm(&[&update(run)]));
    assert_eq!(one_neutral_run(&h), run);
}

#[tokio::test]
async fn a_suite_that_already_holds_runs_proves_nothing() {
    let h = Harness::start().await;
    h.seed(POLICY, &plain(&h));
    let payload = common::webhook::check_suite_requested(REPO, HEAD_SHA, "feature/search", 1, 1);
    assert_eq!(h.deliver("check_suite", &payload).await, StatusCode::OK);
    h.gh.clear_requests();
    h.pull_request("opened", 3).await;
    one_neutral_run(&h);
    assert_looked_up(&h);
}

#[tokio::test]
async fn a_crash_between_creating_the_run_and_recording_its_id_costs_a_lookup_not_a_duplicate() {
    let h = Harness::start().await;
    h.seed(POLICY, &plain(&h));
    fresh_suite(&h, HEAD_SHA, "feature/search").await;
    h.pull_request("opened", 3).await;
    let run = one_neutral_run(&h);
    // The POST went through but its id never reached the store: the claim
    // made before the POST is all that is left.
    h.app
        .store
        .forget_check(&repo(), &recorded())
        .await
        .expect("store");
    let next = Harness::on_shared_store(&h).await;
    drop(h);
    recheck(&next, run, "recheck-after-crash").await;
    assert_calls(&next, &cold(&[&lookup(), &update(run)]));
    assert_eq!(one_neutral_run(&next), run);
}

#[tokio::test]
async fn with_the_store_lost_after_a_fresh_suite_a_reopened_pull_request_looks_the_run_up() {
    let h = Harness::start().await;
    h.seed(POLICY, &plain(&h));
    fresh_suite(&h, HEAD_SHA, "feature/search").await;
    h.pull_request("opened", 3).await;
    let run = one_neutral_run(&h);
    // A new store: the head's receipt comes again (reopened names the same
    // head), but GitHub never sends a second fresh suite for a commit.
    let lost = Harness::on_shared(&h).await;
    drop(h);
    lost.gh.clear_requests();
    lost.pull_request("reopened", 3).await;
    assert_looked_up(&lost);
    assert_eq!(one_neutral_run(&lost), run);
}

#[tokio::test]
async fn a_second_pull_request_on_the_same_head_on_another_instance_looks_the_run_up() {
    // Hotfix #7 fails on its head; an unlabelled #3 is opened on the same
    // commit and evaluated by a second instance while the hotfix's record
    // is missing (its instance died after the POST). The claim is per
    // commit and check name, not per pull request: #3 looks the run up,
    // sees the hotfix's verdict, and leaves it.
    let h = Harness::start().await;
    let hotfix = h.p0();
    h.seed(POLICY, &hotfix);
    h.label_events_by(&hotfix, "dana");
    fresh_suite(&h, HEAD_SHA, &hotfix.head_ref).await;
    h.pull_request("opened", 7).await;
    let runs = h.gh.check_runs(REPO, HEAD_SHA);
    assert_eq!(runs.len(), 1, "{runs:#?}");
    assert_eq!(runs[0].conclusion.as_deref(), Some("failure"));
    let run = runs[0].id;
    h.app
        .store
        .forget_check(&repo(), &recorded())
        .await
        .expect("store");

    let other = Harness::on_shared_store(&h).await;
    other.gh.add_pull(
        REPO,
        PullSeed {
            number: 3,
            head_ref: "feature/search".into(),
            labels: vec!["enhancement".into()],
            ..hotfix.clone()
        },
    );
    other.gh.clear_requests();
    other.pull_request("opened", 3).await;
    assert_looked_up(&other);
    let runs = other.gh.check_runs(REPO, HEAD_SHA);
    assert_eq!(runs.len(), 1, "one run on the commit: {runs:#?}");
    assert_eq!(runs[0].id, run);
    assert_eq!(runs[0].conclusion.as_deref(), Some("failure"));
    assert_eq!(runs[0].external_id.as_deref(), Some("hotfix-pr:7"));
}

#[tokio::test]
async fn a_run_the_direct_push_audit_wrote_is_looked_up_by_a_pull_request_on_that_commit() {
    // erin pushes C2 straight to main; GitHub sends the fresh suite for
    // C2 and the push, and the audit writes `action_required` on C2. Then
    // an unlabelled pull request is opened with C2 as its head: the audit
    // claimed the run before creating it, so the evaluation looks it up,
    // sees the audit's verdict, and leaves it (no second, neutral run).
    const C2: &str = "c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2";
    let h = Harness::start().await;
    let trunk = POLICY
        .replace("workflow: git-flow", "workflow: trunk")
        .replace("  merge_back: true\n", "");
    let pull = PullSeed {
        number: 3,
        head_ref: "feature/x".into(),
        head_sha: C2.into(),
        labels: vec![],
        ..h.p0()
    };
    h.seed(&trunk, &pull);
    fresh_suite(&h, C2, "main").await;
    let mut push = common::webhook::push_event(REPO, "refs/heads/main", &["src/session.rs"], 1);
    push["head_commit"]["id"] = C2.into();
    push["commits"] = serde_json::json!([push["head_commit"].clone()]);
    push["after"] = C2.into();
    push["pusher"] = serde_json::json!({"name": "erin", "email": "erin@example.com"});
    delivered(&h, "push", &push).await;
    let runs = h.gh.check_runs(REPO, C2);
    assert_eq!(runs.len(), 1, "the audit's run: {runs:#?}");
    assert_eq!(runs[0].conclusion.as_deref(), Some("action_required"));

    h.gh.clear_requests();
    h.pull_request("opened", 3).await;
    assert!(
        calls(&h).contains(&format!("GET /repos/octo/app/commits/{C2}/check-runs")),
        "{:#?}",
        h.gh.requests()
    );
    let runs = h.gh.check_runs(REPO, C2);
    assert_eq!(runs.len(), 1, "one run on the commit: {runs:#?}");
    assert_eq!(runs[0].conclusion.as_deref(), Some("action_required"));
}

#[tokio::test]
async fn a_run_recorded_before_claims_existed_is_not_taken_for_absent() {
    // A store written by a version that recorded runs but not claims (or a
    // record whose claim is missing for any reason): the record's content
    // is unknown, the commit's suite was fresh, and this is the first
    // claim. The record still says a run exists: it is looked up, and a
    // failing run without an owner is not replaced by a neutral verdict.
    let h = Harness::start().await;
    h.seed(POLICY, &plain(&h));
    let run = h.gh.add_check_run(
        REPO,
        common::fake_github::CheckRunSeed {
            head_sha: HEAD_SHA.into(),
            conclusion: Some("failure".into()),
            ..common::fake_github::CheckRunSeed::default()
        },
    );
    h.app
        .store
        .remember_check(&repo(), &recorded(), run, 1, None)
        .await
        .expect("store");
    fresh_suite(&h, HEAD_SHA, "feature/search").await;
    let next = Harness::on_shared_store(&h).await;
    drop(h);
    next.gh.clear_requests();
    next.pull_request("opened", 3).await;
    assert_looked_up(&next);
    let runs = next.gh.check_runs(REPO, HEAD_SHA);
    assert_eq!(runs.len(), 1, "{runs:#?}");
    assert_eq!(runs[0].conclusion.as_deref(), Some("failure"));
}

/// The figures in `docs/store.md`: API calls per evaluation, counted from
/// the fake GitHub's request log, for a first evaluation with and without
/// a fresh check suite, and a re-evaluation. Run with `--nocapture` to
/// see them; the assertions pin what the lookup saves (one call).
#[tokio::test]
async fn calls_per_evaluation_with_and_without_a_fresh_suite() {
    async fn first(fresh: bool, hotfix: bool) -> (usize, usize) {
        let h = Harness::start().await;
        let pull = if hotfix { h.p0() } else { plain(&h) };
        h.seed(POLICY, &pull);
        if hotfix {
            h.label_events_by(&pull, "dana");
        }
        if fresh {
            fresh_suite(&h, HEAD_SHA, &pull.head_ref).await;
        }
        h.gh.clear_requests();
        h.pull_request("opened", pull.number).await;
        let first = h.gh.requests().len();
        println!("first (fresh suite: {fresh}): {:?}", calls(&h));
        assert_eq!(h.gh.check_runs(REPO, HEAD_SHA).len(), 1);
        // A re-evaluation: another delivery for the pull request (a label
        // someone added), warm caches, verdict unchanged.
        h.gh.clear_requests();
        h.pull_request("labeled", pull.number).await;
        let again = h.gh.requests().len();
        println!("again: {:?}", calls(&h));
        assert_eq!(h.gh.check_runs(REPO, HEAD_SHA).len(), 1);
        (first, again)
    }
    for hotfix in [false, true] {
        let (before, again_before) = first(false, hotfix).await;
        let (after, again_after) = first(true, hotfix).await;
        println!(
            "{}: first evaluation {before} calls without a fresh suite, {after} with; re-evaluation {again_before} / {again_after}",
            if hotfix { "P0 hotfix" } else { "not a hotfix" }
        );
        assert_eq!(after + 1, before, "the fresh suite saves the lookup");
        assert_eq!(again_after, again_before, "a re-evaluation is unchanged");
    }
}

#[tokio::test]
async fn a_claim_left_by_a_crash_before_the_post_costs_a_lookup_and_the_run_is_created_once() {
    let h = Harness::start().await;
    h.seed(POLICY, &plain(&h));
    fresh_suite(&h, HEAD_SHA, "feature/search").await;
    // An earlier attempt claimed the run and died before its POST.
    h.app
        .store
        .claim_check_run(&repo(), HEAD_SHA, "hotfix-policy", chrono::Utc::now())
        .await
        .expect("store");
    h.gh.clear_requests();
    h.pull_request("opened", 3).await;
    assert_calls(&h, &cold(&[&lookup(), CREATE]));
    one_neutral_run(&h);
}

#[tokio::test]
async fn the_merge_back_check_on_a_fresh_merge_commit_is_created_without_a_lookup() {
    const MERGE_SHA: &str = "m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3";
    for fresh in [false, true] {
        let (h, pull) = common::attacks::merged_approved_p0(POLICY, MERGE_SHA).await;
        if fresh {
            // The merge commit GitHub pushed to main, and the head before.
            fresh_suite(&h, MERGE_SHA, "main").await;
            fresh_suite(&h, HEAD_SHA, &pull.head_ref).await;
        }
        h.gh.clear_requests();
        h.pull_request("closed", 7).await;
        let lookups: Vec<String> = calls(&h)
            .into_iter()
            .filter(|c| c.starts_with("GET ") && c.ends_with("/check-runs"))
            .collect();
        let merge_back: Vec<_> =
            h.gh.check_runs(REPO, MERGE_SHA)
                .into_iter()
                .filter(|r| r.name == "hotfix-policy/merge-back")
                .collect();
        assert_eq!(merge_back.len(), 1, "{merge_back:#?}");
        assert_eq!(h.gh.check_runs(REPO, HEAD_SHA).len(), 1);
        let on_merge = format!("GET /repos/octo/app/commits/{MERGE_SHA}/check-runs");
        assert_eq!(
            lookups.contains(&on_merge),
            !fresh,
            "fresh suite: {fresh}: {lookups:#?}"
        );
    }
}
