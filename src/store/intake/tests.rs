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
    let first = [(repo.clone(), "aaa".to_string())];
    let second = [(repo.clone(), "bbb".to_string())];
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
    let seen = |sha: &'static str| {
        let (store, repo) = (store.clone(), repo.clone());
        async move { store.head_last_received(&repo, sha).await.expect("read") }
    };
    assert_eq!(
        seen("aaa").await.map(|t| t.timestamp_millis()),
        Some(t0.timestamp_millis())
    );
    assert_eq!(
        seen("bbb").await.map(|t| t.timestamp_millis()),
        Some(t1.timestamp_millis())
    );
}
