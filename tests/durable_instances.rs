//! Two `serve` processes on one store (PostgreSQL when `TEST_DATABASE_URL`
//! names one, as in CI; else one SQLite file both open), each receiving half
//! of a burst of 200 deliveries for 20 pull requests: each pull request is
//! evaluated by one worker at a time, and GitHub sees one check run per head
//! commit and one sticky comment per pull request.

mod common;

use std::time::{Duration, Instant};

use common::fake_github::FakeGitHub;
use common::harness::{Harness, REPO};
use common::serve::Serve;
use common::store::scratch_url;
use common::webhook::{PrSpec, pull_request_event};
use hotfix_guard::store::Store;

const PULLS: u64 = 20;

fn hotfix_runs(gh: &FakeGitHub, sha: &str) -> usize {
    gh.check_runs(REPO, sha)
        .iter()
        .filter(|r| r.name == "hotfix-policy")
        .count()
}

/// Sends deliveries `range` of the burst to `serve`: delivery `i` is for
/// pull request `i % 20 + 1`, alternating `opened` and `synchronize`.
async fn send_half(h: &Harness, serve: &Serve, range: std::ops::Range<u64>, tag: &str) -> usize {
    let mut accepted = 0;
    for i in range {
        let number = i % PULLS + 1;
        let seed = h.gh.pull(REPO, number).expect("pull");
        let action = if i % 2 == 0 { "opened" } else { "synchronize" };
        let payload = pull_request_event(action, &PrSpec::from_seed(REPO, &seed, 1));
        let status = serve
            .deliver("pull_request", &format!("{tag}-{i}"), &payload)
            .await;
        assert_eq!(status, Some(202), "delivery {i}");
        accepted += 1;
    }
    accepted
}

async fn two_instances_share_one_burst(first_half_to_a: bool) {
    let h = Harness::start().await;
    let pulls = h.seed_hotfixes(PULLS);
    // A slower GitHub widens the window in which both could evaluate one
    // pull request at once.
    h.gh.delay_next("GET", "/timeline", Duration::from_millis(50), 200);
    let db = scratch_url().await;
    let settings = [("DEBOUNCE", "0s"), ("WORKERS", "4")];
    let mut a = Serve::start(&h.gh, &db, &settings);
    let mut b = Serve::start(&h.gh, &db, &settings);
    a.ready().await;
    b.ready().await;
    let (to_a, to_b) = if first_half_to_a {
        (0..100, 100..200)
    } else {
        (100..200, 0..100)
    };
    let tag = if first_half_to_a { "ab" } else { "ba" };
    let (sent_a, sent_b) = tokio::join!(send_half(&h, &a, to_a, tag), send_half(&h, &b, to_b, tag));
    assert_eq!(sent_a + sent_b, 200);

    let store = Store::connect(&db).await.expect("store");
    let deadline = Instant::now() + Duration::from_secs(60);
    while store
        .job_stats(chrono::Utc::now())
        .await
        .expect("stats")
        .pending
        > 0
    {
        assert!(
            Instant::now() < deadline,
            "jobs left:\n{}\n{}",
            a.log(),
            b.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    for pull in &pulls {
        assert_eq!(
            hotfix_runs(&h.gh, &pull.head_sha),
            1,
            "PR {}: one check run on its head",
            pull.number
        );
        assert_eq!(
            h.bot_comments(pull.number).len(),
            1,
            "PR {}: one sticky comment",
            pull.number
        );
    }
    // From the store's log of evaluations: per pull request, no two
    // evaluations overlap in time, whichever instance ran them.
    let spans = store.evaluations().await.expect("evaluations");
    assert!(spans.len() >= usize::try_from(PULLS).expect("small"));
    let workers: std::collections::BTreeSet<&str> = spans
        .iter()
        .map(|s| s.worker.split('/').next().unwrap_or_default())
        .collect();
    assert_eq!(workers.len(), 2, "both instances evaluated: {workers:?}");
    for pair in spans.windows(2) {
        if pair[0].key == pair[1].key {
            assert!(
                pair[0].ended <= pair[1].started,
                "PR {} evaluated by {} and {} at once",
                pair[0].key.number,
                pair[0].worker,
                pair[1].worker
            );
        }
    }
    a.terminate();
    b.terminate();
    assert_eq!(a.exit(Duration::from_secs(10)).await.code(), Some(0));
    assert_eq!(b.exit(Duration::from_secs(10)).await.code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_a_burst_first_half_to_a() {
    two_instances_share_one_burst(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_a_burst_first_half_to_b() {
    two_instances_share_one_burst(false).await;
}
