//! Group commit of intake (issue 10): deliveries arriving together through
//! the real router are committed in shared transactions, yet each is
//! answered as if it came alone, and none is answered 202 before the store
//! holds it.

use crate::common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;

use common::harness::{Harness, REPO, SECRET};
use common::webhook::{PrSpec, pull_request_event, sign};
use hotfix_guard::events::RepoName;
use hotfix_guard::store::Store;

/// Sends one signed delivery through the router; answers status and body.
async fn send(h: &Harness, id: &str, body: Vec<u8>) -> (StatusCode, String) {
    let req = Request::post("/webhook")
        .header("content-type", "application/json")
        .header("x-github-event", "pull_request")
        .header("x-github-delivery", common::webhook::delivery_guid(id))
        .header("x-hub-signature-256", sign(SECRET, &body))
        .body(Body::from(body))
        .expect("request");
    let res = h.app.router.clone().oneshot(req).await.expect("infallible");
    let status = res.status();
    let text = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .expect("body");
    (status, String::from_utf8_lossy(&text).into_owned())
}

const PULLS: u64 = 24;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_202_is_already_in_the_store_and_a_repeated_id_in_a_burst_is_taken_once() {
    let h = Arc::new(Harness::start().await);
    let pulls = h.seed_hotfixes(PULLS);
    // Another connection to the same store: what it reads is committed.
    let reader = Store::connect(&h.database_url).await.expect("store");
    let repo = RepoName {
        owner: "octo".into(),
        name: "app".into(),
    };

    // 40 deliveries at once: one `opened` per pull request, each with its
    // own id and head commit, and 16 more repeating the ids of pull
    // requests 1 to 16 (a repeat may land in the same batch as its first).
    let mut sends = Vec::new();
    for i in 0..(PULLS + 16) {
        let pull = &pulls[usize::try_from(i % PULLS).expect("small")];
        let id = format!("delivery-pr-{}", pull.number);
        let payload = pull_request_event("opened", &PrSpec::from_seed(REPO, pull, 1));
        let body = serde_json::to_vec(&payload).expect("json");
        let (h, reader, repo, number, sha) = (
            h.clone(),
            reader.clone(),
            repo.clone(),
            pull.number,
            pull.head_sha.clone(),
        );
        sends.push(tokio::spawn(async move {
            let (status, text) = send(&h, &id, body).await;
            // Read at once: a 202 must mean the store holds the delivery.
            let stored = reader
                .head_last_received(&repo, number, &sha)
                .await
                .expect("read");
            (id, sha, status, text, stored)
        }));
    }
    let mut accepted = std::collections::BTreeMap::new();
    let mut duplicates = std::collections::BTreeMap::new();
    for send in sends {
        let (id, sha, status, text, stored) = send.await.expect("task");
        match status {
            StatusCode::ACCEPTED => {
                assert_eq!(text, "queued\n");
                assert!(
                    stored.is_some(),
                    "delivery {id} was answered 202 before head {sha} was committed"
                );
                *accepted.entry(id).or_insert(0) += 1;
            }
            StatusCode::OK => {
                assert_eq!(text, "duplicate delivery\n");
                *duplicates.entry(id).or_insert(0) += 1;
            }
            other => panic!("delivery {id}: unexpected {other} {text}"),
        }
    }
    assert_eq!(accepted.len(), usize::try_from(PULLS).expect("small"));
    assert!(
        accepted.values().all(|n| *n == 1),
        "each id taken once: {accepted:?}"
    );
    // Every repeat is answered as one.
    assert_eq!(duplicates.values().sum::<u32>(), 16, "{duplicates:?}");

    // Every pull request was evaluated; GitHub shows one verdict per head.
    h.settle().await;
    for pull in &pulls {
        let run = h.check(&pull.head_sha);
        assert_eq!(run.status, "completed");
        assert_eq!(
            run.conclusion.as_deref(),
            Some("failure"),
            "#{}",
            pull.number
        );
        let title = run.title.unwrap_or_default();
        assert!(
            title.contains("engineering-lead") && title.contains("on-call-manager"),
            "#{}: {title}",
            pull.number
        );
        assert_eq!(
            h.bot_comments(pull.number).len(),
            1,
            "one sticky comment on #{}",
            pull.number
        );
    }
}
