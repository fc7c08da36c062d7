//! The floor: the least any webhook receiver must do per delivery — read the
//! body and check its HMAC-SHA256 — on the same axum/hyper stack and with the
//! same verifier and body limit as hotfix-guard. Shared by the criterion bench
//! (`benches/ingest.rs`) and the floor server of the load benchmark
//! (`examples/floor.rs`) through `#[path]`, so both measure the same handler.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use hotfix_guard::server::MAX_BODY_BYTES;
use hotfix_guard::server::signature::WebhookSecrets;

pub fn router(secrets: WebhookSecrets) -> Router {
    Router::new()
        .route("/webhook", post(receive))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(Arc::new(secrets))
}

/// The floor plus the one other thing the webhook contract demands of every receiver:
/// a body that is not JSON gets 400, so every byte must be scanned as JSON
/// (the cheapest way serde_json has: `IgnoredAny`, building nothing).
#[allow(dead_code)] // the load benchmark's floor server does not use it
pub fn router_checking_json(secrets: WebhookSecrets) -> Router {
    Router::new()
        .route("/webhook", post(receive_checking_json))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(Arc::new(secrets))
}

async fn receive_checking_json(
    State(secrets): State<Arc<WebhookSecrets>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    match receive(State(secrets), headers, body.clone()).await {
        StatusCode::ACCEPTED => {}
        refused => return refused,
    }
    match serde_json::from_slice::<serde::de::IgnoredAny>(&body) {
        Ok(_) => StatusCode::ACCEPTED,
        Err(_) => StatusCode::BAD_REQUEST,
    }
}

async fn receive(
    State(secrets): State<Arc<WebhookSecrets>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let signature = headers.get("x-hub-signature-256").map(|v| v.as_bytes());
    if secrets.verify(signature, &body) {
        StatusCode::ACCEPTED
    } else {
        StatusCode::UNAUTHORIZED
    }
}
