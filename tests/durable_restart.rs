//! The app's progress survives a restart: a merge-back waiting for
//! `develop` is completed by a push that reaches the next instance, and a
//! watched deadline is read from the store (no rediscovery on GitHub).

use crate::common;

use std::time::Duration;

use axum::http::StatusCode;
use common::harness::{HEAD_SHA, Harness, POLICY, REPO};

const MERGE_SHA: &str = "m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3";

fn merge_back_check(h: &Harness) -> (String, Option<String>) {
    let runs: Vec<_> =
        h.gh.check_runs(REPO, MERGE_SHA)
            .into_iter()
            .filter(|r| r.name == "hotfix-policy/merge-back")
            .collect();
    assert_eq!(runs.len(), 1, "{runs:#?}");
    (runs[0].status.clone(), runs[0].conclusion.clone())
}

#[tokio::test]
async fn a_push_to_develop_after_a_restart_completes_the_waiting_merge_back() {
    let (h, _pull) = common::attacks::merged_approved_p0(POLICY, MERGE_SHA).await;
    h.pull_request("closed", 7).await;
    assert_eq!(merge_back_check(&h).0, "in_progress");

    // A clean restart: the first instance drains and is gone. (Delivery ids
    // it saw stay seen: the new instance's ids are new.)
    let database_url = h.database_url.clone();
    let gh = h.gh.clone();
    let Harness { app, .. } = h;
    assert!(app.drain(Duration::from_secs(5)).await);
    let next = Harness::with_store(gh, database_url).await;

    // The merge-back is done by hand; GitHub tells the new instance.
    next.gh.set_compare(REPO, "develop", MERGE_SHA, "behind");
    let push = common::webhook::push_event(REPO, "refs/heads/develop", &["src/fix.rs"], 1);
    let repo = hotfix_guard::events::RepoName {
        owner: "octo".into(),
        name: "app".into(),
    };
    let waiting = || async {
        next.app
            .store
            .merge_backs_waiting_on(1, &repo, "develop")
            .await
            .expect("store")
    };
    assert_eq!(
        waiting().await,
        vec![7],
        "the new instance knows the merge-back waits on develop"
    );
    assert_eq!(
        next.deliver_as("push", "after-restart-1", &push).await,
        StatusCode::ACCEPTED
    );
    next.settle().await;
    assert_eq!(
        merge_back_check(&next),
        ("completed".to_string(), Some("success".to_string()))
    );
    assert!(
        next.bot_comments(7)[0]
            .body
            .contains("`develop` contains the fix")
    );
    // Settled: nothing waits on develop any more.
    assert_eq!(waiting().await, Vec::<u64>::new());
}

#[tokio::test]
async fn a_restart_reads_deadlines_from_the_store() {
    let h = Harness::start().await;
    let pull = h.p0();
    h.seed(POLICY, &pull);
    h.label_events_by(&pull, "dana");
    h.clock.set(pull.created_at);
    h.pull_request("opened", 7).await;
    let database_url = h.database_url.clone();
    let gh = h.gh.clone();
    let Harness { app, .. } = h;
    assert!(app.drain(Duration::from_secs(5)).await);

    let next = Harness::with_store(gh, database_url).await;
    next.clock
        .set(pull.created_at + chrono::Duration::minutes(130));
    assert_eq!(next.app.engine.watched().await, 1);
    assert_eq!(
        next.app.engine.sweep().await,
        1,
        "the deadline passed: escalated by the new instance"
    );
}

#[tokio::test]
async fn after_a_restart_the_check_run_is_found_in_the_store_not_looked_up() {
    let h = Harness::start().await;
    let pull = h.p0();
    h.seed(POLICY, &pull);
    h.label_events_by(&pull, "dana");
    h.pull_request("opened", 7).await;
    assert_eq!(h.check(HEAD_SHA).conclusion.as_deref(), Some("failure"));
    let database_url = h.database_url.clone();
    let gh = h.gh.clone();
    let Harness { app, .. } = h;
    assert!(app.drain(Duration::from_secs(5)).await);

    let next = Harness::with_store(gh, database_url).await;
    let before = next.gh.requests().len();
    let seed = next.gh.pull(REPO, 7).expect("pull");
    let payload = common::webhook::pull_request_event(
        "synchronize",
        &common::webhook::PrSpec::from_seed(REPO, &seed, 1),
    );
    assert_eq!(
        next.deliver_as("pull_request", "after-restart-sync", &payload)
            .await,
        StatusCode::ACCEPTED
    );
    next.settle().await;
    let lookups: Vec<String> = next.gh.requests()[before..]
        .iter()
        .filter(|r| r.method == "GET" && r.path.contains("check-runs"))
        .map(|r| r.path.clone())
        .collect();
    assert!(lookups.is_empty(), "looked up again: {lookups:?}");
    assert_eq!(next.check(HEAD_SHA).conclusion.as_deref(), Some("failure"));
}
