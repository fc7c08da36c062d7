//! Group commit keeps each delivery's own outcome (`Store::accept_batch`).

use std::time::Duration;

use chrono::Utc;

use super::Intake;
use crate::events::{Job, PrKey, RepoName, Trigger};
use crate::store::Accepted;
use crate::store::testing::scratch;

fn job(number: u64, delivery: &str) -> Job {
    Job {
        key: PrKey {
            installation: 1,
            repo: RepoName {
                owner: "octo".into(),
                name: "app".into(),
            },
            number,
        },
        pull: None,
        trigger: Trigger::Full,
        deliveries: vec![delivery.to_string()],
    }
}

fn outcomes(got: Vec<Result<Accepted, crate::store::StoreError>>) -> Vec<Accepted> {
    got.into_iter()
        .map(|o| o.expect("the batch commits"))
        .collect()
}

#[tokio::test]
async fn a_batch_answers_each_delivery_as_if_it_came_alone() {
    let store = scratch().await;
    let now = Utc::now();
    let jobs: Vec<[Job; 1]> = (0..5).map(|n| [job(n + 1, &format!("d{n}"))]).collect();
    let again = [job(1, "d0")];
    let later = [job(1, "d4")];
    let batch = [
        // Pull requests 1 and 2: new, within the capacity of 2.
        Intake {
            delivery: Some("d0"),
            jobs: &jobs[0],
            heads: &[],
            received: now,
        },
        Intake {
            delivery: Some("d1"),
            jobs: &jobs[1],
            heads: &[],
            received: now,
        },
        // The same delivery id again, in the same batch: nothing written.
        Intake {
            delivery: Some("d0"),
            jobs: &again,
            heads: &[],
            received: now,
        },
        // A third pull request: the two this batch added fill the store.
        Intake {
            delivery: Some("d2"),
            jobs: &jobs[2],
            heads: &[],
            received: now,
        },
        // A delivery for a pull request already waiting folds in.
        Intake {
            delivery: Some("d4"),
            jobs: &later,
            heads: &[],
            received: now,
        },
    ];
    let got = outcomes(store.accept_batch(&batch, Duration::ZERO, 2).await);
    assert_eq!(
        got,
        [
            Accepted::Queued,
            Accepted::Queued,
            Accepted::Duplicate,
            Accepted::Full,
            Accepted::Queued,
        ]
    );
    let stats = store.job_stats(now).await.expect("stats");
    assert_eq!(stats.pending, 2, "pull request 3 was not written");

    // The refused delivery was not remembered: once there is room, its
    // redelivery is taken; a delivery acted on before stays a duplicate
    // even while the store is full.
    let d2 = [job(3, "d2")];
    let d1 = [job(9, "d1")];
    let batch = [
        Intake {
            delivery: Some("d1"),
            jobs: &d1,
            heads: &[],
            received: now,
        },
        Intake {
            delivery: Some("d2"),
            jobs: &d2,
            heads: &[],
            received: now,
        },
    ];
    let got = outcomes(store.accept_batch(&batch, Duration::ZERO, 2).await);
    assert_eq!(got, [Accepted::Duplicate, Accepted::Full]);
    let got = outcomes(store.accept_batch(&batch[1..], Duration::ZERO, 3).await);
    assert_eq!(got, [Accepted::Queued]);
}

#[tokio::test]
async fn each_delivery_of_a_batch_records_its_head_commits_at_its_own_arrival() {
    let store = scratch().await;
    let t0 = Utc::now() - chrono::TimeDelta::seconds(5);
    let t1 = t0 + chrono::TimeDelta::seconds(2);
    let repo = RepoName {
        owner: "octo".into(),
        name: "app".into(),
    };
    let first = [(repo.clone(), 1, "aaa".to_string())];
    let second = [(repo.clone(), 2, "bbb".to_string())];
    let batch = [
        Intake {
            delivery: Some("x"),
            jobs: &[],
            heads: &first,
            received: t0,
        },
        Intake {
            delivery: Some("y"),
            jobs: &[],
            heads: &second,
            received: t1,
        },
    ];
    let got = outcomes(store.accept_batch(&batch, Duration::ZERO, 10).await);
    assert_eq!(got, [Accepted::Queued, Accepted::Queued]);
    let seen = |number: u64, sha: &'static str| {
        let (store, repo) = (store.clone(), repo.clone());
        async move {
            store
                .head_last_received(&repo, number, sha)
                .await
                .expect("read")
        }
    };
    assert_eq!(
        seen(1, "aaa").await.map(|t| t.timestamp_millis()),
        Some(t0.timestamp_millis())
    );
    assert_eq!(
        seen(2, "bbb").await.map(|t| t.timestamp_millis()),
        Some(t1.timestamp_millis())
    );
}

/// What a store holds after intake, for comparing two stores: each job's
/// fields intake writes, the delivery ids, the head commits.
async fn snapshot(store: &crate::store::Store) -> Vec<String> {
    use sqlx::Row as _;
    let mut out = Vec::new();
    for row in sqlx::query(
        "SELECT number, pull_updated, trigger_kind, deliveries, first_queued, ready_at, version \
         FROM jobs ORDER BY number",
    )
    .fetch_all(&store.pool)
    .await
    .expect("jobs")
    {
        let updated: Option<i64> = row.get("pull_updated");
        out.push(format!(
            "job {} updated={updated:?} trigger={} deliveries={} first={} ready={} version={}",
            row.get::<i64, _>("number"),
            row.get::<String, _>("trigger_kind"),
            row.get::<String, _>("deliveries"),
            row.get::<i64, _>("first_queued"),
            row.get::<i64, _>("ready_at"),
            row.get::<i64, _>("version"),
        ));
    }
    for row in sqlx::query("SELECT id, seen_at FROM deliveries ORDER BY id")
        .fetch_all(&store.pool)
        .await
        .expect("deliveries")
    {
        out.push(format!(
            "delivery {} {}",
            row.get::<String, _>("id"),
            row.get::<i64, _>("seen_at")
        ));
    }
    for row in sqlx::query("SELECT number, sha, received FROM pull_heads ORDER BY number")
        .fetch_all(&store.pool)
        .await
        .expect("heads")
    {
        out.push(format!(
            "head #{} {} {}",
            row.get::<i64, _>("number"),
            row.get::<String, _>("sha"),
            row.get::<i64, _>("received")
        ));
    }
    out
}

/// The multi-row statements (a batch that fits the capacity) write exactly
/// what one delivery after another writes (a batch that might not fit):
/// repeated ids within the batch and from before, several deliveries for
/// one pull request folding in order, one head commit named twice.
#[tokio::test]
async fn multi_row_statements_write_what_one_delivery_after_another_writes() {
    let t0 = Utc::now() - chrono::TimeDelta::seconds(30);
    let at = |s: i64| t0 + chrono::TimeDelta::seconds(s);
    let repo = RepoName {
        owner: "octo".into(),
        name: "app".into(),
    };
    let rerun = |number: u64, delivery: &str| Job {
        trigger: Trigger::Rerun,
        ..job(number, delivery)
    };
    let j: Vec<[Job; 1]> = vec![
        [job(1, "a")],
        [job(2, "b")],
        [rerun(1, "c")],
        [job(1, "b")],
        [job(3, "d")],
        [job(1, "e")],
        [job(2, "f")],
    ];
    let head = |sha: &str| [(repo.clone(), 1, sha.to_string())];
    let (h1, h2, h3) = (head("h1"), head("h2"), head("h1"));
    let batch = [
        Intake {
            delivery: Some("a"),
            jobs: &j[0],
            heads: &h1,
            received: at(1),
        },
        Intake {
            delivery: Some("b"),
            jobs: &j[1],
            heads: &h2,
            received: at(2),
        },
        Intake {
            delivery: Some("c"),
            jobs: &j[2],
            heads: &[],
            received: at(3),
        },
        // Repeats "b" of this batch: nothing written, not even its job.
        Intake {
            delivery: Some("b"),
            jobs: &j[3],
            heads: &h3,
            received: at(4),
        },
        // Seen before the batch (below): nothing written.
        Intake {
            delivery: Some("old"),
            jobs: &j[4],
            heads: &[],
            received: at(5),
        },
        // No id (the app's own work): always taken.
        Intake {
            delivery: None,
            jobs: &j[5],
            heads: &h3,
            received: at(6),
        },
        Intake {
            delivery: Some("f"),
            jobs: &j[6],
            heads: &[],
            received: at(7),
        },
    ];
    let mut seen = Vec::new();
    for capacity in [4, 1_000] {
        let store = scratch().await;
        let before = [job(9, "old")];
        let first = [Intake {
            delivery: Some("old"),
            jobs: &before,
            heads: &[],
            received: t0,
        }];
        assert_eq!(
            outcomes(
                store
                    .accept_batch(&first, Duration::from_secs(1), 1_000)
                    .await
            ),
            [Accepted::Queued]
        );
        // Capacity 4: one job waits after the first batch, so this batch's
        // seven cannot be known to fit and go one delivery at a time (none
        // is refused: only pull requests 1–3 are named); 1,000: multi-row.
        let got = outcomes(
            store
                .accept_batch(&batch, Duration::from_secs(1), capacity + 1)
                .await,
        );
        assert_eq!(
            got,
            [
                Accepted::Queued,
                Accepted::Queued,
                Accepted::Queued,
                Accepted::Duplicate,
                Accepted::Duplicate,
                Accepted::Queued,
                Accepted::Queued,
            ],
            "capacity {capacity}"
        );
        seen.push(snapshot(&store).await);
    }
    assert_eq!(seen[0], seen[1]);
    let jobs: Vec<&String> = seen[1].iter().filter(|l| l.starts_with("job ")).collect();
    assert_eq!(jobs.len(), 3, "{jobs:#?}");
    assert!(
        jobs[0].contains("trigger=rerun") && jobs[0].contains("version=3"),
        "{}",
        jobs[0]
    );
    assert!(jobs[0].contains("deliveries=a,c,e"), "{}", jobs[0]);
    assert!(
        jobs[1].contains("deliveries=b,f") && jobs[1].contains("version=2"),
        "{}",
        jobs[1]
    );
    // Pull request 1's latest receipt: h1 again at 6 (the repeated "b"
    // wrote nothing), not h2 at 2.
    let heads: Vec<&String> = seen[1].iter().filter(|l| l.starts_with("head ")).collect();
    assert_eq!(heads, [&format!("head #1 h1 {}", at(6).timestamp_millis())]);
}
