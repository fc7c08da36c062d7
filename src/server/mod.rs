//! HTTP: the axum router. `POST /webhook` verifies and queues deliveries;
//! `GET /healthz` and `GET /metrics` serve operators.

pub mod limits;
pub mod listen;
pub mod setup;
pub mod signature;
mod webhook;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};

use crate::events::RepoName;
use crate::metrics::{Gauges, Metrics};
use crate::queue::WorkQueue;
use signature::WebhookSecrets;

pub use limits::{Limits, MAX_BODY_BYTES};

/// What the HTTP layer needs from the rest of the app.
#[derive(Clone)]
pub struct AppState {
    pub secrets: WebhookSecrets,
    /// The durable queue: de-duplication and jobs, committed before 202.
    pub queue: Arc<WorkQueue>,
    pub metrics: Arc<Metrics>,
    /// Called when a push changed a repository's policy file.
    pub on_policy_change: Arc<dyn Fn(&RepoName) + Send + Sync>,
    /// Read at `GET /metrics` time from their owners.
    pub gauges: Arc<dyn Fn() -> Gauges + Send + Sync>,
}

/// The app's routes under the default [`Limits`].
pub fn router(state: AppState) -> Router {
    router_with(state, &Limits::default())
}

/// The app's routes; `POST /webhook` behind [`limits::guard_webhook`]
/// (header shapes, body size, body read time, the shared body budget).
/// Must run on a tokio runtime with its timer enabled (`serve` builds one
/// with everything enabled): the body read is timed.
pub fn router_with(state: AppState, limits: &Limits) -> Router {
    let guard = limits::BodyGuard::new(limits, state.metrics.clone());
    Router::new()
        .route("/webhook", post(webhook::receive))
        .route_layer(axum::middleware::from_fn_with_state(
            guard,
            limits::guard_webhook,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics))
        .merge(setup::refused())
        .with_state(state)
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let text = state.metrics.render(&(state.gauges)());
    ([(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], text)
}
