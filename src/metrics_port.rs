//! `METRICS_PORT`: `/metrics` on a listener of its own (a private port a
//! scraper reaches, such as Fly's `[metrics]`), and then not on the public
//! port. Unset, `/metrics` stays on the main port, as it always was.

use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};

/// The path the metrics are served at.
pub const METRICS_PATH: &str = "/metrics";

/// The public router without `/metrics` (404, as for any unknown path).
pub fn without_metrics(router: Router) -> Router {
    router.layer(middleware::from_fn(hide_metrics))
}

/// The same router answering only `/metrics` (everything else 404), for the
/// private listener: no webhook intake there.
pub fn only_metrics(router: Router) -> Router {
    router.layer(middleware::from_fn(only_metrics_path))
}

async fn hide_metrics(request: Request, next: Next) -> Response {
    if request.uri().path() == METRICS_PATH {
        return StatusCode::NOT_FOUND.into_response();
    }
    next.run(request).await
}

async fn only_metrics_path(request: Request, next: Next) -> Response {
    if request.uri().path() != METRICS_PATH {
        return StatusCode::NOT_FOUND.into_response();
    }
    next.run(request).await
}
