//! Two `serve` processes on one store (PostgreSQL when `TEST_DATABASE_URL`
//! names one, as in CI; else one SQLite file both open), each receiving half
//! of a burst of 200 deliveries for 20 pull requests — open hotfixes, merged
//! hotfixes and overdue ones — in both orders: each pull request is
//! evaluated by one worker at a time, and GitHub sees one check run per head
//! commit, one sticky comment per pull request, one merge-back pull request
//! and one follow-up issue per merged hotfix, and one escalation comment per
//! level per overdue hotfix (both instances sweep deadlines every second).

use crate::common;

use std::time::{Duration, Instant};

use common::fake_github::{FakeGitHub, PullSeed};
use common::harness::{Harness, POLICY, POLICY_PATH, REPO};
use common::serve::Serve;
use common::store::scratch_url;
use common::webhook::{PrSpec, pull_request_event};
use hotfix_guard::store::Store;

const PULLS: u64 = 20;
/// Pull requests 15–17 are merged hotfixes (merge-back, follow-up issue).
const MERGED: std::ops::RangeInclusive<u64> = 15..=17;
/// Pull requests 18–20 became P0 hotfixes ten hours ago: past the 2 h
/// deadline (level 1) and the 4 h after it (level 2).
const OVERDUE: std::ops::RangeInclusive<u64> = 18..=20;

fn policy() -> String {
    POLICY.replace(
        "escalation:\n  mention: [acme/incident-commanders]\n",
        "escalation:\n  mention: [acme/incident-commanders]\n  after: 4h\n  mention_after: [acme/cto]\n",
    )
}

fn merge_sha(n: u64) -> String {
    format!("{n:0>40}").replacen('0', "m", 1)
}

/// Pull requests 1–14 open hotfixes (as `seed_hotfixes`), 15–17 merged by
/// alice after the lead's and the on-call manager's approvals, 18–20 open
/// and labelled P0 ten hours ago.
fn seed(h: &Harness) -> Vec<PullSeed> {
    let mut pulls = h.seed_hotfixes(14);
    h.gh.set_file(REPO, "main", POLICY_PATH, &policy());
    let long_ago = chrono::Utc::now() - chrono::Duration::hours(10);
    for n in 15..=PULLS {
        let merged = MERGED.contains(&n);
        let pull = PullSeed {
            number: n,
            head_sha: format!("{n:0>40}"),
            head_ref: format!("hotfix/fix-{n}"),
            state: if merged { "closed" } else { "open" }.into(),
            merged,
            merge_commit_sha: merged.then(|| merge_sha(n)),
            merged_by: merged.then(|| "alice".to_string()),
            created_at: if merged {
                chrono::Utc::now() - chrono::Duration::minutes(30)
            } else {
                long_ago
            },
            ..h.p0()
        };
        h.gh.add_pull(REPO, pull.clone());
        h.gh.set_file(REPO, &pull.head_sha, "VERSION", "1.2.4\n");
        h.gh.set_commit_date(
            REPO,
            &pull.head_sha,
            pull.created_at - chrono::Duration::minutes(1),
        );
        h.gh.set_pull_files(REPO, n, [("src/fix.rs", 3, 1), ("VERSION", 1, 1)]);
        h.label_events_by(&pull, "dana");
        if merged {
            h.gh.add_review(REPO, n, "alice", "APPROVED", &pull.head_sha);
            h.gh.add_review(REPO, n, "oncall-olga", "APPROVED", &pull.head_sha);
        }
        pulls.push(pull);
    }
    pulls
}

fn escalations(h: &Harness, number: u64, level: u8) -> usize {
    let marker = hotfix_guard::report::post_merge::escalation_marker(level);
    h.bot_comments(number)
        .iter()
        .filter(|c| c.body.contains(&marker))
        .count()
}

fn hotfix_runs(gh: &FakeGitHub, sha: &str) -> usize {
    gh.check_runs(REPO, sha)
        .iter()
        .filter(|r| r.name == "hotfix-policy")
        .count()
}

/// Sends deliveries `range` of the burst to `serve`: delivery `i` is for
/// pull request `i % 20 + 1`, alternating `opened` and `synchronize` (a
/// merged one: `closed`, as GitHub sends it and redelivers it).
async fn send_half(h: &Harness, serve: &Serve, range: std::ops::Range<u64>, tag: &str) -> usize {
    let mut accepted = 0;
    for i in range {
        let number = i % PULLS + 1;
        let seed = h.gh.pull(REPO, number).expect("pull");
        let action = if MERGED.contains(&number) {
            "closed"
        } else if i % 2 == 0 {
            "opened"
        } else {
            "synchronize"
        };
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
    let pulls = seed(&h);
    // A slower GitHub widens the window in which both could evaluate one
    // pull request at once.
    h.gh.delay_next("GET", "/timeline", Duration::from_millis(50), 200);
    // A slow read of an overdue hotfix's comments (where a sweep looks for
    // escalations already posted) keeps a sweep in flight for more than
    // the sweep interval: two sweeps at once would both post.
    for n in OVERDUE {
        h.gh.delay_next(
            "GET",
            &format!("/issues/{n}/comments"),
            Duration::from_millis(1_500),
            8,
        );
    }
    let db = scratch_url().await;
    let settings = [
        ("DEBOUNCE", "0s"),
        ("WORKERS", "4"),
        ("SWEEP_INTERVAL", "1s"),
    ];
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
    // The sweeps (one instance at a time holds their lease) post what is
    // due; give them a few rounds after the last escalation appears.
    while OVERDUE.clone().any(|n| escalations(&h, n, 2) == 0) {
        assert!(
            Instant::now() < deadline,
            "escalations missing:\n{}\n{}",
            a.log(),
            b.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(2_500)).await;

    for pull in &pulls {
        assert_eq!(
            hotfix_runs(&h.gh, &pull.head_sha),
            1,
            "PR {}: one check run on its head",
            pull.number
        );
        let sticky = h
            .bot_comments(pull.number)
            .iter()
            .filter(|c| c.body.starts_with(hotfix_guard::report::COMMENT_MARKER))
            .count();
        assert_eq!(sticky, 1, "PR {}: one sticky comment", pull.number);
    }
    for n in MERGED {
        let merge_backs: Vec<PullSeed> =
            h.gh.pulls(REPO)
                .into_iter()
                .filter(|p| p.head_ref == format!("hotfix-guard/merge-back-{n}"))
                .collect();
        assert_eq!(
            merge_backs.len(),
            1,
            "PR {n}: one merge-back: {merge_backs:#?}"
        );
        let marker = hotfix_guard::report::post_merge::follow_up_of_marker(n);
        let follow_ups =
            h.gh.issues(REPO)
                .into_iter()
                .filter(|i| i.body.as_deref().is_some_and(|b| b.starts_with(&marker)))
                .count();
        assert_eq!(follow_ups, 1, "PR {n}: one follow-up issue");
    }
    for n in OVERDUE {
        for level in [1, 2] {
            assert_eq!(
                escalations(&h, n, level),
                1,
                "PR {n}: one escalation at level {level}"
            );
        }
    }
    for n in (1..=PULLS).filter(|n| !OVERDUE.contains(n)) {
        assert_eq!(escalations(&h, n, 1), 0, "PR {n} is not overdue");
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
