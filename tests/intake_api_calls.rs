//! What an evaluation costs on GitHub (issue 10: "API calls not higher than
//! today; the stored check-run id removes the lookup"). The fake GitHub
//! records every call; these tests pin the exact calls of a pull request
//! that is not a hotfix, first and later, across a restart, with the store
//! lost, and when the recorded run is gone — and that each ends with one
//! check run on the head, never two.

mod common;

use axum::http::StatusCode;
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
    assert_eq!(
        calls(&h),
        [TOKEN, POLICY_READ, PULL, TIMELINE, FILES, &lookup(), CREATE],
        "{:#?}",
        h.gh.requests()
    );

    // Later evaluations of the same head: the store knows the run and what
    // it shows, so no lookup (before: always one for a pull request that is
    // not a hotfix, to see whose verdict the run shows).
    recheck(&h, run, "recheck-1").await;
    assert_eq!(
        calls(&h),
        [PULL, TIMELINE, FILES, &update(run)],
        "{:#?}",
        h.gh.requests()
    );
    assert_eq!(one_neutral_run(&h), run);

    // A restart (same store): a new token and policy read, still no lookup.
    let next = Harness::on_shared_store(&h).await;
    drop(h);
    recheck(&next, run, "recheck-2").await;
    assert_eq!(
        calls(&next),
        [TOKEN, POLICY_READ, PULL, TIMELINE, FILES, &update(run)],
        "{:#?}",
        next.gh.requests()
    );
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
    assert_eq!(
        calls(&lost),
        [
            TOKEN,
            POLICY_READ,
            PULL,
            TIMELINE,
            FILES,
            &lookup(),
            &update(run)
        ],
        "{:#?}",
        lost.gh.requests()
    );
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
    let repo = hotfix_guard::events::RepoName {
        owner: "octo".into(),
        name: "app".into(),
    };
    let what = format!("check:hotfix-policy@{HEAD_SHA}");
    h.app
        .store
        .remember_check(
            &repo,
            &what,
            987_654,
            1,
            Some((Some("pr:3"), Some("neutral"))),
        )
        .await
        .expect("store");
    let next = Harness::on_shared_store(&h).await;
    drop(h);
    recheck(&next, run, "recheck-gone").await;
    assert_eq!(
        calls(&next),
        [
            TOKEN,
            POLICY_READ,
            PULL,
            TIMELINE,
            FILES,
            &update(987_654),
            &lookup(),
            &update(run)
        ],
        "{:#?}",
        next.gh.requests()
    );
    assert_eq!(one_neutral_run(&next), run);
    let stored = next
        .app
        .store
        .published_check(&repo, &what)
        .await
        .expect("store")
        .expect("recorded again");
    assert_eq!(stored.id, run, "the record names the real run now");
}
