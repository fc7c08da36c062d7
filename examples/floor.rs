//! The load benchmark's floor server (`scripts/loadbench.sh`): a bare axum
//! server that only reads the body and checks its HMAC-SHA256, on the same
//! runtime (tokio, one worker thread per core) and stack as
//! `hotfix-guard serve`. Whatever hotfix-guard costs above it is the price of
//! parsing, de-duplicating, queueing and evaluating.
//!
//! `GITHUB_WEBHOOK_SECRET=s PORT=9991 cargo run --release --example floor`

#[path = "../benches/support/floor.rs"]
mod floor;

use anyhow::Context as _;
use hotfix_guard::server::signature::WebhookSecrets;

fn main() -> anyhow::Result<()> {
    let secrets = std::env::var("GITHUB_WEBHOOK_SECRET")
        .ok()
        .as_deref()
        .and_then(WebhookSecrets::parse)
        .context("GITHUB_WEBHOOK_SECRET is not set")?;
    let port: u16 = std::env::var("PORT")
        .unwrap_or_else(|_| "9991".into())
        .parse()
        .context("PORT is not a port number")?;
    // The same runtime `hotfix-guard serve` builds.
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .with_context(|| format!("cannot listen on port {port}"))?;
        eprintln!("floor: listening on 127.0.0.1:{port}");
        axum::serve(listener, floor::router(secrets)).await?;
        Ok(())
    })
}
