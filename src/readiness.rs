//! `GET /readyz` and the start-up check that GitHub can be reached.
//!
//! `/healthz` answers as long as the process serves HTTP (liveness);
//! `/readyz` answers 503 until the app has authenticated to GitHub once,
//! then 200, so a load balancer or an operator can tell "running" from
//! "working". The check lists the app's installations with its JWT
//! (`GET /app/installations`, a call the app makes anyway at start-up): it
//! proves the URL, the network, the app id and the private key at once.
//! While it fails, one warning per attempt names the URL and what was tried.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;

use crate::github::GitHubApp;

/// Between two attempts while GitHub cannot be reached.
pub const RETRY_EVERY: Duration = Duration::from_secs(30);

/// Whether the app has authenticated to GitHub since it started.
#[derive(Clone, Default)]
pub struct Readiness(Arc<AtomicBool>);

impl Readiness {
    pub fn is_ready(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    pub fn set_ready(&self) {
        self.0.store(true, Ordering::Release);
    }
}

/// `GET /readyz`: `200 ready` once authenticated, else `503` saying why.
pub fn router(readiness: Readiness) -> Router {
    Router::new()
        .route("/readyz", get(readyz))
        .with_state(readiness)
}

async fn readyz(State(readiness): State<Readiness>) -> (StatusCode, &'static str) {
    if readiness.is_ready() {
        (StatusCode::OK, "ready\n")
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: not yet authenticated to GitHub (see the log)\n",
        )
    }
}

/// Tries until GitHub answers the app's JWT, then marks it ready and stops.
pub async fn check_github(github: GitHubApp, api_url: String, readiness: Readiness) {
    let mut attempt: u32 = 0;
    loop {
        attempt += 1;
        match github.app_client().list_installations().await {
            Ok(installations) => {
                readiness.set_ready();
                tracing::info!(
                    github = %api_url,
                    app_id = github.app_id(),
                    installations = installations.len(),
                    "authenticated to GitHub; ready"
                );
                return;
            }
            Err(e) => {
                tracing::warn!(
                    github = %api_url,
                    attempt,
                    tried = "GET /app/installations with the app's JWT",
                    error = %e,
                    retry_in = ?RETRY_EVERY,
                    "GitHub cannot be reached or refused the app; /readyz answers 503 until it works"
                );
            }
        }
        tokio::time::sleep(RETRY_EVERY).await;
    }
}
