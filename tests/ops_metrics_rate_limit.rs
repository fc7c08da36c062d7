//! Operations through the real router and the real client against the fake
//! GitHub: `/metrics` after known traffic, and rate-limit answers obeyed by
//! an evaluation end to end.

use crate::common;

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;

use common::harness::{HEAD_SHA, Harness, POLICY, REPO};
use common::webhook::{PrSpec, fixture, pull_request_event, sign};

async fn p0() -> Harness {
    let h = Harness::start().await;
    let pull = h.p0();
    h.seed(POLICY, &pull);
    h.label_events_by(&pull, "dana");
    h
}

async fn metrics(h: &Harness) -> String {
    let res = h
        .app
        .router
        .clone()
        .oneshot(
            Request::get("/metrics")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("infallible");
    assert_eq!(res.status(), StatusCode::OK);
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .expect("body");
    String::from_utf8(body.to_vec()).expect("utf-8")
}

/// The value of the sample whose name and labels are exactly `series`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn metrics_count_what_happened() {
    let h = p0().await;
    let seed = h.gh.pull(REPO, 7).expect("pull");
    let payload = pull_request_event("opened", &PrSpec::from_seed(REPO, &seed, 1));

    assert_eq!(
        h.deliver_as("pull_request", "d-1", &payload).await,
        StatusCode::ACCEPTED
    );
    h.settle().await;
    // GitHub retrying the same delivery.
    assert_eq!(
        h.deliver_as("pull_request", "d-1", &payload).await,
        StatusCode::OK
    );
    // Signed with another secret, twice.
    for id in ["f0-1", "f0-2"] {
        let body = serde_json::to_vec(&payload).expect("json");
        let req = Request::post("/webhook")
            .header("x-github-event", "pull_request")
            .header("x-github-delivery", id)
            .header("x-hub-signature-256", sign("not-the-secret", &body))
            .body(Body::from(body))
            .expect("request");
        let res = h.app.router.clone().oneshot(req).await.expect("infallible");
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        h.deliver_as("ping", "b-1", &fixture("ping")).await,
        StatusCode::OK
    );
    // An action the app does not act on.
    let assigned = pull_request_event("assigned", &PrSpec::from_seed(REPO, &seed, 1));
    let status = h.deliver_as("pull_request", "a-1", &assigned).await;
    assert!(
        status == StatusCode::OK || status == StatusCode::ACCEPTED,
        "{status}"
    );
    h.settle().await;

    // The queue gauges are the store's figures as read once a second
    // (a scrape never touches the store): wait for a read made after the
    // queue emptied, at most a few refreshes.
    let mut text = metrics(&h).await;
    for _ in 0..30 {
        if sample(&text, "hotfix_guard_queue_depth") == Some(0.0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        text = metrics(&h).await;
    }
    let delivery = |outcome: &str, event: &str| {
        sample(
            &text,
            &format!("hotfix_guard_deliveries_total{{event=\"{event}\",outcome=\"{outcome}\"}}"),
        )
    };
    assert_eq!(delivery("accepted", "pull_request"), Some(1.0), "{text}");
    assert_eq!(delivery("duplicate", "pull_request"), Some(1.0), "{text}");
    assert_eq!(
        delivery("bad_signature", "pull_request"),
        Some(2.0),
        "{text}"
    );
    assert_eq!(delivery("ping", "ping"), Some(1.0), "{text}");
    assert_eq!(delivery("ignored", "pull_request"), Some(1.0), "{text}");
    // One evaluation: the P0 still waits for its approvals.
    assert_eq!(
        sample(
            &text,
            "hotfix_guard_evaluations_total{conclusion=\"failure\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "hotfix_guard_evaluation_duration_seconds_count"),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            "hotfix_guard_evaluation_duration_seconds_bucket{le=\"+Inf\"}"
        ),
        Some(1.0)
    );
    // The check run was written once, and the metric says so.
    assert_eq!(
        sample(
            &text,
            "hotfix_guard_github_api_calls_total{route=\"POST /repos/{owner}/{repo}/check-runs\",status=\"201\"}"
        ),
        Some(1.0),
        "{text}"
    );
    // The fake's budget, as the last answer told it, for installation 1.
    let remaining = sample(
        &text,
        "hotfix_guard_github_rate_limit_remaining{installation=\"1\"}",
    )
    .expect("remaining for installation 1");
    assert!(remaining > 0.0 && remaining < 5000.0, "{remaining}");
    assert_eq!(sample(&text, "hotfix_guard_queue_depth"), Some(0.0));
    // Every series is announced with HELP and TYPE.
    for name in [
        "hotfix_guard_deliveries_total",
        "hotfix_guard_evaluations_total",
        "hotfix_guard_evaluation_duration_seconds",
        "hotfix_guard_github_api_calls_total",
        "hotfix_guard_github_rate_limit_remaining",
        "hotfix_guard_queue_depth",
    ] {
        assert!(text.contains(&format!("# TYPE {name} ")), "{name}");
    }
}

/// Sends `pull_request.opened` for #7 and waits for its evaluation;
/// answers how long that took.
async fn evaluate(h: &Harness) -> Duration {
    let started = Instant::now();
    assert_eq!(h.pull_request("opened", 7).await, StatusCode::ACCEPTED);
    started.elapsed()
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out_and_the_write_lands() {
    let h = p0().await;
    h.gh.fail_next(
        "POST",
        "/check-runs",
        429,
        vec![("retry-after".into(), "2".into())],
        1,
    );
    let took = evaluate(&h).await;
    let limited = h.gh.requests_with_status(429);
    assert_eq!(limited.len(), 1, "{limited:?}");
    assert_eq!(limited[0].method, "POST");
    // Retry-After: 2 means two seconds, not the half-second backoff a
    // plain failure gets.
    assert!(took >= Duration::from_secs(2), "retried after {took:?}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert_eq!(h.gh.count("POST", "/check-runs"), 2, "tried again once");
    let run = h.check(HEAD_SHA);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    assert!(run.title.unwrap_or_default().contains("on-call-manager"));
    let text = metrics(&h).await;
    assert_eq!(
        sample(
            &text,
            "hotfix_guard_github_api_calls_total{route=\"POST /repos/{owner}/{repo}/check-runs\",status=\"429\"}"
        ),
        Some(1.0),
        "{text}"
    );
}

#[tokio::test]
async fn an_exhausted_primary_limit_is_waited_out_until_its_reset() {
    let h = p0().await;
    let reset = chrono::Utc::now().timestamp() + 1;
    h.gh.fail_next(
        "GET",
        "/timeline",
        403,
        vec![
            ("x-ratelimit-remaining".into(), "0".into()),
            ("x-ratelimit-reset".into(), reset.to_string()),
        ],
        1,
    );
    let took = evaluate(&h).await;
    assert_eq!(h.gh.requests_with_status(403).len(), 1);
    // Until the reset, plus a second for clocks that disagree.
    assert!(took >= Duration::from_secs(1), "retried after {took:?}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert_eq!(h.check(HEAD_SHA).conclusion.as_deref(), Some("failure"));
}

#[tokio::test]
async fn a_wait_longer_than_a_minute_is_not_held_and_the_check_says_why() {
    let h = p0().await;
    h.gh.fail_next(
        "GET",
        "/timeline",
        429,
        vec![("retry-after".into(), "3600".into())],
        1,
    );
    let took = evaluate(&h).await;
    assert!(took < Duration::from_secs(10), "held a worker for {took:?}");
    let run = h.check(HEAD_SHA);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    let summary = run.summary.unwrap_or_default();
    assert!(summary.contains("rate limit"), "{summary}");
}
