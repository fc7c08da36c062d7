//! A minimal fake GitHub for the load benchmarks (`scripts/loadbench.sh`,
//! `scripts/store-bench.sh`):
//! just the REST routes an evaluation of a pull request that is not a hotfix
//! needs, answered with canned JSON on loopback, and counters of every call
//! so the benchmark can report GitHub calls per evaluation.
//!
//! It is not the fake of the integration tests (which holds pull requests,
//! reviews and files and verifies the app's JWT); it only has to be cheap
//! enough not to be what the benchmark measures.
//!
//! `PORT=9990 cargo run --release --example fake_github_min`; `GET /_stats`
//! answers the counters as JSON; `PUT /_latency/{ms}` makes every API answer
//! wait that long first, as github.com's do (tens to hundreds of ms), which
//! decides how many deliveries arrive while an evaluation runs.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use std::time::Duration;

use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post, put};
use axum::{Json, Router};
use serde_json::{Value, json};

/// The benchmark's app id; check runs carry it so the app recognises them.
const APP_ID: u64 = 4242;
/// Check runs remembered per head commit before the fake starts over.
const MAX_SHAS: usize = 200_000;
/// The pull request's changed files never change here, so one ETag serves.
const FILES_ETAG: &str = "\"bench-files-v1\"";

#[derive(Default)]
struct Fake {
    calls: Mutex<BTreeMap<&'static str, u64>>,
    unmatched: Mutex<BTreeMap<String, u64>>,
    next_id: AtomicU64,
    /// head sha → check run ids created on it.
    runs: Mutex<HashMap<String, Vec<u64>>>,
    /// Head sha of the latest check run written (created or updated).
    last_written_sha: Mutex<String>,
    writes: AtomicU64,
    latency_ms: AtomicU64,
}

type Shared = Arc<Fake>;

impl Fake {
    fn count(&self, route: &'static str) {
        *lock(&self.calls).entry(route).or_default() += 1;
    }

    fn wrote(&self, sha: &str) {
        self.writes.fetch_add(1, Ordering::Relaxed);
        *lock(&self.last_written_sha) = sha.to_string();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({
            "message": "Not Found",
            "documentation_url": "https://docs.github.com/rest",
            "status": "404"
        })),
    )
        .into_response()
}

async fn access_token(State(fake): State<Shared>, Path(id): Path<u64>) -> Response {
    fake.count("POST /app/installations/{id}/access_tokens");
    let expires = chrono::Utc::now() + chrono::Duration::hours(1);
    (
        StatusCode::CREATED,
        Json(json!({
            "token": format!("ghs_bench_installation_{id}"),
            "expires_at": expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "permissions": {"checks": "write", "contents": "read", "pull_requests": "read"},
            "repository_selection": "all"
        })),
    )
        .into_response()
}

/// No installations to rediscover and no failed deliveries to redeliver:
/// the start-up sweep and recovery find nothing to do.
async fn installations(State(fake): State<Shared>) -> Json<Value> {
    fake.count("GET /app/installations");
    Json(json!([]))
}

async fn hook_deliveries(State(fake): State<Shared>) -> Json<Value> {
    fake.count("GET /app/hook/deliveries");
    Json(json!([]))
}

/// The pull request as GitHub answers it now (every evaluation reads it,
/// never the delivery's snapshot): open, no labels, its head the commit
/// `examples/burst` gives the first version of pull request `n`
/// (`{n:020x}{1:020x}`), empty totals.
async fn pull(
    State(fake): State<Shared>,
    Path((owner, repo, n)): Path<(String, String, u64)>,
) -> Json<Value> {
    fake.count("GET /repos/{owner}/{repo}/pulls/{n}");
    let full_name = format!("{owner}/{repo}");
    let side = |git_ref: &str, sha: String| {
        json!({
            "ref": git_ref,
            "sha": sha,
            "repo": {"full_name": full_name, "fork": false}
        })
    };
    Json(json!({
        "number": n,
        "state": "open",
        "locked": false,
        "title": "Benchmark pull request",
        "user": {"login": "bench-author", "type": "User"},
        "html_url": format!("https://github.com/{full_name}/pull/{n}"),
        "draft": false,
        "merged": false,
        "merged_at": null,
        "merge_commit_sha": null,
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
        "labels": [],
        "head": side("new-added-branch", format!("{n:020x}{:020x}", 1)),
        "base": side("main", "a0d1e8a8a457bcea7550865cae33caf3a06699a6".to_string()),
        "changed_files": 0,
        "additions": 0,
        "deletions": 0
    }))
}

/// No timeline items: nobody ever labelled it.
async fn timeline(State(fake): State<Shared>) -> Json<Value> {
    fake.count("GET /repos/{owner}/{repo}/issues/{n}/timeline");
    Json(json!([]))
}

/// No policy file anywhere (repository or organisation): the built-in
/// default applies.
async fn contents(State(fake): State<Shared>) -> Response {
    fake.count("GET /repos/{owner}/{repo}/contents/{path}");
    not_found()
}

async fn pull_files(State(fake): State<Shared>, headers: HeaderMap) -> Response {
    fake.count("GET /repos/{owner}/{repo}/pulls/{n}/files");
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == FILES_ETAG.as_bytes())
    {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, FILES_ETAG)]).into_response();
    }
    ([(header::ETAG, FILES_ETAG)], Json(json!([]))).into_response()
}

fn check_run(id: u64, sha: &str, body: &Value) -> Value {
    json!({
        "id": id,
        "head_sha": sha,
        "name": body.get("name").cloned().unwrap_or_else(|| json!("hotfix-policy")),
        "status": body.get("status").cloned().unwrap_or_else(|| json!("completed")),
        "conclusion": body.get("conclusion").cloned().unwrap_or(Value::Null),
        "output": body.get("output").cloned().unwrap_or_else(|| json!({})),
        "app": {"id": APP_ID, "slug": "hotfix-guard-bench"}
    })
}

async fn list_check_runs(
    State(fake): State<Shared>,
    Path((_owner, _repo, sha)): Path<(String, String, String)>,
) -> Json<Value> {
    fake.count("GET /repos/{owner}/{repo}/commits/{sha}/check-runs");
    let ids = lock(&fake.runs).get(&sha).cloned().unwrap_or_default();
    let runs: Vec<Value> = ids
        .iter()
        .map(|id| check_run(*id, &sha, &json!({})))
        .collect();
    Json(json!({"total_count": runs.len(), "check_runs": runs}))
}

async fn create_check_run(State(fake): State<Shared>, Json(body): Json<Value>) -> Response {
    fake.count("POST /repos/{owner}/{repo}/check-runs");
    let sha = body
        .get("head_sha")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let id = fake.next_id.fetch_add(1, Ordering::Relaxed) + 1;
    {
        let mut runs = lock(&fake.runs);
        if runs.len() >= MAX_SHAS {
            runs.clear();
        }
        runs.entry(sha.clone()).or_default().push(id);
    }
    fake.wrote(&sha);
    (StatusCode::CREATED, Json(check_run(id, &sha, &body))).into_response()
}

async fn update_check_run(
    State(fake): State<Shared>,
    Path((_owner, _repo, id)): Path<(String, String, u64)>,
    Json(body): Json<Value>,
) -> Json<Value> {
    fake.count("PATCH /repos/{owner}/{repo}/check-runs/{id}");
    let sha = lock(&fake.runs)
        .iter()
        .find(|(_, ids)| ids.contains(&id))
        .map(|(sha, _)| sha.clone())
        .unwrap_or_default();
    fake.wrote(&sha);
    Json(check_run(id, &sha, &body))
}

async fn set_latency(State(fake): State<Shared>, Path(ms): Path<u64>) -> StatusCode {
    fake.latency_ms.store(ms, Ordering::Relaxed);
    StatusCode::NO_CONTENT
}

/// GitHub's answer time, for the API routes (not the fake's own `/_*`).
async fn latency(State(fake): State<Shared>, request: Request, next: Next) -> Response {
    let ms = fake.latency_ms.load(Ordering::Relaxed);
    if ms > 0 && !request.uri().path().starts_with("/_") {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    next.run(request).await
}

async fn stats(State(fake): State<Shared>) -> Json<Value> {
    let calls = lock(&fake.calls).clone();
    let total: u64 = calls.values().sum();
    Json(json!({
        "total_calls": total,
        "calls": calls,
        "unmatched": lock(&fake.unmatched).clone(),
        "check_run_writes": fake.writes.load(Ordering::Relaxed),
        "last_check_run_head_sha": lock(&fake.last_written_sha).clone(),
    }))
}

/// Anything else is a route this fake does not know: counted, so that the
/// benchmark shows it rather than measuring failed evaluations unawares.
async fn unmatched(State(fake): State<Shared>, request: Request) -> Response {
    let what = format!("{} {}", request.method(), request.uri().path());
    eprintln!("fake_github_min: no route for {what}");
    let mut unmatched = lock(&fake.unmatched);
    if unmatched.len() < 1_000 {
        *unmatched.entry(what).or_default() += 1;
    }
    not_found()
}

fn router(fake: Shared) -> Router {
    Router::new()
        .route("/app/installations/{id}/access_tokens", post(access_token))
        .route("/app/installations", get(installations))
        .route("/app/hook/deliveries", get(hook_deliveries))
        .route("/repos/{owner}/{repo}/contents/{*path}", get(contents))
        .route("/repos/{owner}/{repo}/pulls/{n}", get(pull))
        .route("/repos/{owner}/{repo}/pulls/{n}/files", get(pull_files))
        .route("/repos/{owner}/{repo}/issues/{n}/timeline", get(timeline))
        .route(
            "/repos/{owner}/{repo}/commits/{sha}/check-runs",
            get(list_check_runs),
        )
        .route("/repos/{owner}/{repo}/check-runs", post(create_check_run))
        .route(
            "/repos/{owner}/{repo}/check-runs/{id}",
            patch(update_check_run),
        )
        .route("/_stats", get(stats))
        .route("/_latency/{ms}", put(set_latency))
        .fallback(unmatched)
        .layer(middleware::from_fn_with_state(fake.clone(), latency))
        .with_state(fake)
}

fn main() -> anyhow::Result<()> {
    let port: u16 = std::env::var("PORT")
        .unwrap_or_else(|_| "9990".into())
        .parse()?;
    // One thread: the fake must not compete with the servers under test for
    // more than its share of the machine.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        eprintln!("fake_github_min: listening on 127.0.0.1:{port}");
        axum::serve(listener, router(Arc::new(Fake::default()))).await?;
        Ok(())
    })
}
