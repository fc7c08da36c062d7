//! The README's table for `POST /webhook`, row by row, against the real
//! router built by `App::start` (the same wiring `serve` uses), with
//! GitHub's own payloads.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;

use hotfix_guard::app::App;
use hotfix_guard::config::ServeConfig;
use hotfix_guard::server::signature::{WebhookSecrets, sign};

use crate::common::store;

const SECRET: &str = "test-secret";

async fn config() -> ServeConfig {
    let key = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/test-app-key.pem"
    ))
    .expect("test key");
    ServeConfig {
        app_id: 4242,
        private_key: key.into(),
        secrets: WebhookSecrets::parse(&format!("old-secret,{SECRET}")).expect("secrets"),
        // Nothing listens here: these rows never reach GitHub.
        api_url: "http://127.0.0.1:9".into(),
        port: 0,
        workers: 1,
        queue_capacity: 16,
        shutdown_grace: Duration::from_secs(1),
        sweep_interval: None,
        debounce: Duration::ZERO,
        database_url: store::scratch_url().await,
        job_lease: Duration::from_secs(30),
        retry_backoff: Duration::from_secs(1),
        limits: Default::default(),
        github: Default::default(),
    }
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/webhooks/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture")
}

fn delivery(
    event: Option<&str>,
    id: &str,
    body: Vec<u8>,
    signature: Option<String>,
) -> Request<Body> {
    let mut req = Request::post("/webhook")
        .header("content-type", "application/json")
        .header("x-github-delivery", id);
    if let Some(event) = event {
        req = req.header("x-github-event", event);
    }
    if let Some(signature) = signature {
        req = req.header("x-hub-signature-256", signature);
    }
    req.body(Body::from(body)).expect("request")
}

fn signed(event: &str, id: &str, body: Vec<u8>) -> Request<Body> {
    let signature = sign(SECRET, &body);
    delivery(Some(event), id, body, Some(signature))
}

async fn send(app: &App, req: Request<Body>) -> (StatusCode, String) {
    let res = app.router.clone().oneshot(req).await.expect("infallible");
    let status = res.status();
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .expect("body");
    (status, String::from_utf8_lossy(&body).into_owned())
}

async fn metrics(app: &App) -> String {
    let req = Request::get("/metrics")
        .body(Body::empty())
        .expect("request");
    send(app, req).await.1
}

#[tokio::test]
async fn a_missing_or_wrong_signature_is_401_and_nothing_is_processed() {
    let app = App::start(&config().await).await.expect("app");
    let body = fixture("pull_request.opened.json");
    let cases = [
        ("missing", None),
        ("wrong secret", Some(sign("not-the-secret", &body))),
        ("malformed", Some("sha256=zz".to_string())),
        (
            "sha-1 only",
            Some("sha1=0000000000000000000000000000000000000000".to_string()),
        ),
    ];
    for (i, (case, signature)) in cases.into_iter().enumerate() {
        let (status, text) = send(
            &app,
            delivery(
                Some("pull_request"),
                &format!("d-{i}"),
                body.clone(),
                signature,
            ),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}: {text}");
    }
    assert_eq!(
        app.queue.in_flight().await.expect("store"),
        0,
        "nothing was queued"
    );
    assert!(metrics(&app).await.contains(
        "hotfix_guard_deliveries_total{event=\"pull_request\",outcome=\"bad_signature\"} 4"
    ));
}

#[tokio::test]
async fn a_body_over_25_mib_is_413() {
    let app = App::start(&config().await).await.expect("app");
    let body = vec![b' '; 25 * 1024 * 1024 + 1];
    let (status, _) = send(&app, signed("pull_request", "b16", body)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(metrics(&app).await.contains("outcome=\"too_large\"} 1"));
}

#[tokio::test]
async fn a_missing_event_header_or_a_non_json_body_is_400_with_a_reason() {
    let app = App::start(&config().await).await.expect("app");
    let body = fixture("pull_request.opened.json");
    let signature = sign(SECRET, &body);
    let (status, text) = send(&app, delivery(None, "a", body, Some(signature))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(text, "missing X-GitHub-Event header\n");
    let (status, text) = send(&app, signed("pull_request", "b", b"<xml/>".to_vec())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(text, "body is not a JSON webhook payload\n");
}

#[tokio::test]
async fn ping_is_200() {
    let app = App::start(&config().await).await.expect("app");
    for (i, name) in ["ping.json", "ping.2.json", "ping.3.json", "ping.4.json"]
        .iter()
        .enumerate()
    {
        let (status, _) = send(&app, signed("ping", &format!("0{i}"), fixture(name))).await;
        assert_eq!(status, StatusCode::OK, "{name}");
    }
}

#[tokio::test]
async fn events_and_actions_not_acted_on_are_200_and_ignored() {
    let app = App::start(&config().await).await.expect("app");
    for (i, (event, name)) in [
        ("pull_request", "pull_request.assigned.json"),
        ("pull_request", "pull_request.locked.json"),
        ("check_run", "check_run.completed.json"),
        ("installation", "installation.created.json"),
        ("push", "push.json"),
    ]
    .into_iter()
    .enumerate()
    {
        let (status, text) = send(&app, signed(event, &format!("e{i}"), fixture(name))).await;
        assert_eq!(status, StatusCode::OK, "{name}: {text}");
        assert_eq!(text, "ignored\n", "{name}");
    }
    assert_eq!(app.queue.in_flight().await.expect("store"), 0);
}

#[tokio::test]
async fn a_fresh_check_suite_is_200_noted_and_queues_nothing() {
    let app = App::start(&config().await).await.expect("app");
    let (status, text) = send(
        &app,
        signed("check_suite", "f5-1", fixture("check_suite.requested.json")),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!(text, "check suite noted\n");
    assert_eq!(app.queue.in_flight().await.expect("store"), 0);
}

#[tokio::test]
async fn an_acted_on_event_is_202_and_queued_and_a_repeated_delivery_is_200() {
    let app = App::start(&config().await).await.expect("app");
    let body = fixture("pull_request.opened.json");
    let (status, _) = send(&app, signed("pull_request", "5a3e-1d", body.clone())).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let (status, text) = send(&app, signed("pull_request", "5a3e-1d", body)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(text, "duplicate delivery\n");
    let text = metrics(&app).await;
    assert!(
        text.contains(
            "hotfix_guard_deliveries_total{event=\"pull_request\",outcome=\"accepted\"} 1"
        )
    );
    assert!(
        text.contains(
            "hotfix_guard_deliveries_total{event=\"pull_request\",outcome=\"duplicate\"} 1"
        )
    );
}

#[tokio::test]
async fn healthz_is_ok() {
    let app = App::start(&config().await).await.expect("app");
    let req = Request::get("/healthz")
        .body(Body::empty())
        .expect("request");
    assert_eq!(send(&app, req).await, (StatusCode::OK, "ok".to_string()));
}

#[tokio::test]
async fn a_full_queue_answers_503_and_forgets_the_delivery_so_a_redelivery_counts() {
    let mut config = config().await;
    config.queue_capacity = 1;
    let app = App::start(&config).await.expect("app");
    let mut payload: serde_json::Value =
        serde_json::from_slice(&fixture("pull_request.opened.json")).expect("json");
    let mut refused = None;
    for number in 1..=3u64 {
        payload["pull_request"]["number"] = number.into();
        let body = serde_json::to_vec(&payload).expect("json");
        let id = format!("f-{number}");
        let (status, text) = send(&app, signed("pull_request", &id, body.clone())).await;
        if status == StatusCode::SERVICE_UNAVAILABLE {
            assert_eq!(text, "work queue full; retry later\n");
            refused = Some((id, body));
            break;
        }
        assert_eq!(status, StatusCode::ACCEPTED);
    }
    let (id, body) = refused.expect("one pull request more than the queue holds is refused");
    let (_, text) = send(&app, signed("pull_request", &id, body)).await;
    assert_ne!(
        text, "duplicate delivery\n",
        "a refused delivery is not remembered"
    );
}
