//! Nothing answered 202 is lost: the real `serve` process killed with
//! SIGKILL before or during an evaluation, stopped with SIGTERM in the
//! middle of a burst, and restarted on the same store, against the fake
//! GitHub. Every test runs on SQLite by default and on PostgreSQL when
//! `TEST_DATABASE_URL` names one (as `.ci/run` does).

use crate::common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::fake_github::{FakeGitHub, PullSeed};
use common::harness::{HEAD_SHA, Harness, POLICY, REPO};
use common::serve::Serve;
use common::store::scratch_url;
use common::webhook::{PrSpec, pull_request_event};
use hotfix_guard::store::Store;

const MERGE_SHA: &str = "m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3";

async fn seeded() -> Harness {
    let h = Harness::start().await;
    let pull = h.p0();
    h.seed(POLICY, &pull);
    h.label_events_by(&pull, "dana");
    h
}

fn opened(h: &Harness, number: u64) -> serde_json::Value {
    let seed = h.gh.pull(REPO, number).expect("seeded pull request");
    pull_request_event("opened", &PrSpec::from_seed(REPO, &seed, 1))
}

fn hotfix_runs(gh: &FakeGitHub, sha: &str) -> usize {
    gh.check_runs(REPO, sha)
        .iter()
        .filter(|r| r.name == "hotfix-policy")
        .count()
}

/// Waits until the store holds no job, then a little longer, so that a
/// duplicate evaluation would have time to show.
async fn settled(database_url: &str, serve: &Serve) {
    let store = Store::connect(database_url).await.expect("store");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let stats = store.job_stats(chrono::Utc::now()).await.expect("stats");
        if stats.pending == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} jobs left:\n{}",
            stats.pending,
            serve.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hotfix_opened_and_killed_before_its_evaluation_is_evaluated_once_after_restart() {
    let h = seeded().await;
    let db = scratch_url().await;
    // The burst window holds the evaluation back: the 202 is answered, the
    // evaluation has not begun when the process dies.
    let mut first = Serve::start(&h.gh, &db, &[("DEBOUNCE", "5s")]);
    first.ready().await;
    assert_eq!(
        first
            .deliver("pull_request", "kill-a-1", &opened(&h, 7))
            .await,
        Some(202)
    );
    first.kill9();
    assert_eq!(
        hotfix_runs(&h.gh, HEAD_SHA),
        0,
        "nothing was evaluated before the kill"
    );

    let mut second = Serve::start(&h.gh, &db, &[("DEBOUNCE", "0s")]);
    second.ready().await;
    settled(&db, &second).await;
    assert_eq!(hotfix_runs(&h.gh, HEAD_SHA), 1, "{}", second.log());
    let run = h.check(HEAD_SHA);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    assert!(
        run.title.unwrap_or_default().contains("engineering-lead"),
        "a real verdict, not an error"
    );
    assert_eq!(h.bot_comments(7).len(), 1, "one sticky comment");
    // The same delivery again (an operator's redelivery) is a duplicate.
    assert_eq!(
        second
            .deliver("pull_request", "kill-a-1", &opened(&h, 7))
            .await,
        Some(200)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_during_its_evaluation_leaves_the_job_to_the_next_start() {
    let h = seeded().await;
    let db = scratch_url().await;
    // GitHub holds the evaluation: the process dies in the middle of it.
    h.gh.delay_next("GET", "/timeline", Duration::from_secs(3), 1);
    let mut first = Serve::start(&h.gh, &db, &[("DEBOUNCE", "0s"), ("JOB_LEASE", "2s")]);
    first.ready().await;
    assert_eq!(
        first
            .deliver("pull_request", "kill-mid-1", &opened(&h, 7))
            .await,
        Some(202)
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    first.kill9();
    assert_eq!(hotfix_runs(&h.gh, HEAD_SHA), 0);

    let mut second = Serve::start(&h.gh, &db, &[("DEBOUNCE", "0s"), ("JOB_LEASE", "2s")]);
    second.ready().await;
    settled(&db, &second).await;
    assert_eq!(hotfix_runs(&h.gh, HEAD_SHA), 1, "{}", second.log());
    assert_eq!(h.bot_comments(7).len(), 1);
    assert!(
        second
            .log()
            .contains("took over a job whose worker's lease expired"),
        "{}",
        second.log()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merged_hotfix_killed_before_its_evaluation_gets_its_merge_back_tag_and_follow_up_once() {
    let h = Harness::start().await;
    let pull = PullSeed {
        state: "closed".into(),
        merged: true,
        merge_commit_sha: Some(MERGE_SHA.into()),
        merged_by: Some("alice".into()),
        ..h.p0()
    };
    h.seed(
        &format!("{POLICY}release: {{ tag: true, prefix: v }}\n"),
        &pull,
    );
    h.label_events_by(&pull, "dana");
    h.gh.add_review(REPO, 7, "alice", "APPROVED", HEAD_SHA);
    h.gh.add_review(REPO, 7, "oncall-olga", "APPROVED", HEAD_SHA);
    let seed = h.gh.pull(REPO, 7).expect("pull");
    let closed = pull_request_event("closed", &PrSpec::from_seed(REPO, &seed, 1));

    let db = scratch_url().await;
    let mut first = Serve::start(&h.gh, &db, &[("DEBOUNCE", "5s")]);
    first.ready().await;
    assert_eq!(
        first.deliver("pull_request", "kill-b-1", &closed).await,
        Some(202)
    );
    first.kill9();
    assert!(h.gh.issues(REPO).is_empty(), "nothing done before the kill");

    let mut second = Serve::start(&h.gh, &db, &[("DEBOUNCE", "0s")]);
    second.ready().await;
    settled(&db, &second).await;
    let log = second.log();
    assert_eq!(hotfix_runs(&h.gh, HEAD_SHA), 1, "{log}");
    let merge_backs: Vec<_> =
        h.gh.pulls(REPO)
            .into_iter()
            .filter(|p| p.head_ref == "hotfix-guard/merge-back-7")
            .collect();
    assert_eq!(merge_backs.len(), 1, "one merge-back pull request: {log}");
    assert_eq!(h.gh.tag_sha(REPO, "v1.2.4").as_deref(), Some(MERGE_SHA));
    let tag_writes =
        h.gh.requests()
            .iter()
            .filter(|r| r.method == "POST" && r.body.contains("refs/tags/"))
            .count();
    assert_eq!(tag_writes, 1, "one tag");
    assert_eq!(h.gh.issues(REPO).len(), 1, "one follow-up issue");
    assert_eq!(h.bot_comments(7).len(), 1, "one sticky comment");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_in_a_burst_loses_none_of_the_accepted_deliveries() {
    let h = Harness::start().await;
    let pulls = h.seed_hotfixes(20);
    // Slow GitHub: most of the burst is still queued at SIGTERM.
    for _ in 0..20 {
        h.gh.delay_next("GET", "/timeline", Duration::from_millis(300), 1);
    }
    let db = scratch_url().await;
    let mut first = Serve::start(
        &h.gh,
        &db,
        &[
            ("DEBOUNCE", "100ms"),
            ("SHUTDOWN_GRACE", "1s"),
            ("WORKERS", "2"),
        ],
    );
    first.ready().await;
    let mut accepted = BTreeSet::new();
    let mut refused = 0;
    for i in 0..100u64 {
        let pull = &pulls[usize::try_from(i % 20).expect("small")];
        let payload = opened(&h, pull.number);
        match first
            .deliver("pull_request", &format!("burst-{i}"), &payload)
            .await
        {
            Some(202) => {
                accepted.insert(pull.number);
            }
            Some(200) => panic!("no delivery here is a duplicate"),
            Some(503) | None => refused += 1,
            Some(other) => panic!("unexpected {other}"),
        }
        if i == 40 {
            first.terminate();
        }
    }
    assert!(
        refused > 0,
        "deliveries after SIGTERM are refused (503 or closed)"
    );
    let status = first.exit(Duration::from_secs(10)).await;
    assert_eq!(status.code(), Some(0), "{}", first.log());
    let done_before: usize = pulls
        .iter()
        .filter(|p| hotfix_runs(&h.gh, &p.head_sha) > 0)
        .count();
    assert!(
        done_before < accepted.len(),
        "the test must stop the app with work left ({done_before} of {})",
        accepted.len()
    );

    let mut second = Serve::start(&h.gh, &db, &[("DEBOUNCE", "0s")]);
    second.ready().await;
    settled(&db, &second).await;
    for pull in &pulls {
        let runs = hotfix_runs(&h.gh, &pull.head_sha);
        if accepted.contains(&pull.number) {
            assert_eq!(
                runs, 1,
                "PR {} accepted before SIGTERM: one check run",
                pull.number
            );
        }
        assert!(runs <= 1, "PR {}: {runs} check runs", pull.number);
    }
}
