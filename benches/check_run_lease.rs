//! What serialising a check run's write costs beyond the write itself:
//! taking the store's write lease (`Store::lease_check_run_write`, one
//! upsert) and giving it back (`release_check_run_write`, one delete), as
//! `engine::publish::serial` does around every create or update of a
//! check run. No GitHub call is added (`tests/intake_api_calls.rs` pins
//! them). The in-process keyed lock is not measured: an uncontended tokio
//! mutex plus a hash-map entry, far below one store statement.
//!
//! `cargo bench --bench check_run_lease` (a fresh SQLite file; with
//! `TEST_DATABASE_URL` set, a fresh schema in that PostgreSQL). Prints the
//! median and 90th percentile of one lease + release over 2,000 writes of
//! distinct runs, then of one run written 2,000 times in a row.

use std::time::{Duration, Instant};

use hotfix_guard::events::RepoName;
use hotfix_guard::store::Store;

#[path = "../tests/common/store.rs"]
mod scratch;

const WRITES: usize = 2_000;

async fn lease_and_release(store: &Store, repo: &RepoName, sha: &str) -> Duration {
    let started = Instant::now();
    let held = store
        .lease_check_run_write(repo, sha, "hotfix-policy", "bench", chrono::Utc::now())
        .await
        .expect("the store answers");
    assert!(held, "nobody else holds it");
    store
        .release_check_run_write(repo, sha, "hotfix-policy", "bench")
        .await
        .expect("the store answers");
    started.elapsed()
}

fn report(label: &str, mut times: Vec<Duration>) {
    times.sort();
    let at = |q: f64| times[((times.len() as f64 - 1.0) * q) as usize];
    println!(
        "{label}: median {:.1} µs, p90 {:.1} µs over {} writes",
        at(0.5).as_secs_f64() * 1e6,
        at(0.9).as_secs_f64() * 1e6,
        times.len()
    );
}

fn main() {
    // `cargo test --benches` passes `--bench`-less args: run a few only.
    let quick = !std::env::args().any(|a| a == "--bench");
    let writes = if quick { 20 } else { WRITES };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let url = scratch::scratch_url().await;
        let backend = if url.starts_with("postgres") {
            "PostgreSQL"
        } else {
            "SQLite"
        };
        let store = Store::connect(&url).await.expect("the store opens");
        let repo = RepoName {
            owner: "acme".into(),
            name: "shop".into(),
        };
        let mut distinct = Vec::with_capacity(writes);
        for n in 0..writes {
            distinct.push(lease_and_release(&store, &repo, &format!("{n:040x}")).await);
        }
        report(&format!("{backend}, distinct runs"), distinct);
        let mut same = Vec::with_capacity(writes);
        for _ in 0..writes {
            same.push(lease_and_release(&store, &repo, &"a".repeat(40)).await);
        }
        report(&format!("{backend}, one run"), same);
    });
}
