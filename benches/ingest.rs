//! The ingest path's CPU cost per delivery (issue 2, item 10): the whole
//! `POST /webhook` path through hotfix-guard's real router (size limit →
//! HMAC → lenient parse → de-duplicate → queue) against the floor, a bare
//! axum handler that only reads the body and checks the HMAC. Both on one
//! core (a current-thread runtime), both fed the same real 29 KB
//! `pull_request.opened` delivery with a fresh `X-GitHub-Delivery` each time,
//! so every request is new to the de-duplication set and acted on.
//!
//! A second floor also scans the body as JSON (the contract wants 400 for a
//! body that is not JSON, so any conforming receiver pays for that scan).
//! The components (HMAC alone, the lenient parse alone, and what building
//! the whole JSON tree would cost instead) are measured too, to show where
//! the time goes. The README's "Performance" section has the figures.
//!
//! `cargo bench --bench ingest`; `cargo test --benches` runs each case once
//! and checks the answers (202 for both; 401 for a wrong signature).

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, Request, StatusCode};
use criterion::{Criterion, Throughput, criterion_group};
use tower::ServiceExt;

use hotfix_guard::events;
use hotfix_guard::metrics::{Gauges, Metrics};
use hotfix_guard::queue::{QueueTiming, WorkQueue};
use hotfix_guard::server::signature::{WebhookSecrets, sign};
use hotfix_guard::server::{self, AppState};
use hotfix_guard::store::Store;

#[path = "support/floor.rs"]
mod floor;

const SECRET: &str = "bench-secret";

/// A real delivery GitHub sent to an app (29,677 bytes, as captured).
const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/webhooks/pull_request.opened.4.json"
);

/// One signed delivery, replayed with a new delivery id per request.
struct Deliveries {
    body: Bytes,
    signature: HeaderValue,
    sent: u64,
}

impl Deliveries {
    fn load() -> Deliveries {
        let body = std::fs::read(FIXTURE).expect("the benchmark's fixture is readable");
        let signature = HeaderValue::from_str(&sign(SECRET, &body)).expect("hex is a header");
        Deliveries {
            body: Bytes::from(body),
            signature,
            sent: 0,
        }
    }

    /// The headers GitHub sends, with a delivery id never used before.
    fn next(&mut self) -> Request<Body> {
        self.sent += 1;
        Request::post("/webhook")
            .header("accept", "*/*")
            .header("user-agent", "GitHub-Hookshot/5f1a2e3")
            .header("content-type", "application/json")
            .header("x-github-event", "pull_request")
            .header(
                "x-github-delivery",
                format!("00000000-0000-4000-8000-{:012x}", self.sent),
            )
            .header("x-github-hook-id", "512345678")
            .header("x-github-hook-installation-target-id", "1234567")
            .header("x-github-hook-installation-target-type", "integration")
            .header("x-hub-signature-256", self.signature.clone())
            .body(Body::from(self.body.clone()))
            .expect("a well-formed request")
    }
}

/// hotfix-guard's router with the state `App::start` builds, minus the
/// workers, on a SQLite store in a temporary file (the durable write before
/// each 202 is part of the path): every delivery here is for the same pull
/// request, so each one after the first is folded into the waiting job and
/// the queue never fills.
fn hotfix_guard_router() -> Router {
    let path = std::env::temp_dir().join(format!(
        "hotfix-guard-bench-{}-{}.db",
        std::process::id(),
        Instant::now().elapsed().as_nanos()
            + u128::from(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.subsec_nanos())
                    .unwrap_or(0)
            )
    ));
    let url = format!("sqlite://{}", path.display());
    let store = std::thread::spawn(move || {
        runtime()
            .block_on(Store::connect(&url))
            .expect("the bench store opens")
    })
    .join()
    .expect("store thread");
    let queue = Arc::new(WorkQueue::new(
        store,
        QueueTiming {
            debounce: Duration::from_millis(250),
            lease: Duration::from_secs(30),
            capacity: 10_000,
        },
    ));
    server::router(AppState {
        secrets: WebhookSecrets::parse(SECRET).expect("one secret"),
        queue: queue.clone(),
        metrics: Arc::new(Metrics::default()),
        on_policy_change: Arc::new(|_| {}),
        gauges: Arc::new(move || Gauges {
            queue_depth: 0,
            oldest_pending_seconds: 0.0,
            lease_expiries: 0,
            api_calls: Vec::new(),
            rate_limit_remaining: Vec::new(),
        }),
    })
}

fn floor_router() -> Router {
    floor::router(WebhookSecrets::parse(SECRET).expect("one secret"))
}

async fn status(router: &Router, request: Request<Body>) -> StatusCode {
    match router.clone().oneshot(request).await {
        Ok(response) => response.status(),
        Err(never) => match never {},
    }
}

fn runtime() -> tokio::runtime::Runtime {
    // With a timer, as `serve` runs: the webhook route times body reads.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// `iters` deliveries through `router`, each answered `expected`.
fn drive(
    rt: &tokio::runtime::Runtime,
    router: &Router,
    deliveries: &mut Deliveries,
    iters: u64,
) -> Duration {
    rt.block_on(async {
        let start = Instant::now();
        for _ in 0..iters {
            let answer = status(router, deliveries.next()).await;
            assert_eq!(answer, StatusCode::ACCEPTED, "delivery not accepted");
        }
        start.elapsed()
    })
}

/// Every router must really verify, and those that read JSON must refuse a
/// body that is not JSON: otherwise the comparison would flatter them.
fn check_answers(rt: &tokio::runtime::Runtime, deliveries: &mut Deliveries) {
    let secrets = || WebhookSecrets::parse(SECRET).expect("one secret");
    let routers = [
        (hotfix_guard_router(), true),
        (floor_router(), false),
        (floor::router_checking_json(secrets()), true),
    ];
    for (router, reads_json) in routers {
        let mut request = deliveries.next();
        request.headers_mut().insert(
            "x-hub-signature-256",
            HeaderValue::from_static(
                "sha256=0000000000000000000000000000000000000000000000000000000000000000",
            ),
        );
        assert_eq!(
            rt.block_on(status(&router, request)),
            StatusCode::UNAUTHORIZED
        );
        if reads_json {
            let not_json = b"{\"action\": \"opened\", oops".to_vec();
            let mut request = deliveries.next();
            let signature = HeaderValue::from_str(&sign(SECRET, &not_json)).expect("hex");
            request
                .headers_mut()
                .insert("x-hub-signature-256", signature);
            *request.body_mut() = Body::from(not_json);
            assert_eq!(
                rt.block_on(status(&router, request)),
                StatusCode::BAD_REQUEST
            );
        }
    }
}

fn post_webhook(c: &mut Criterion) {
    let rt = runtime();
    let mut deliveries = Deliveries::load();
    check_answers(&rt, &mut deliveries);

    let mut group = c.benchmark_group("post_webhook");
    group.throughput(Throughput::Elements(1));
    let floor = floor_router();
    group.bench_function("floor", |b| {
        b.iter_custom(|iters| drive(&rt, &floor, &mut deliveries, iters))
    });
    let floor_json = floor::router_checking_json(WebhookSecrets::parse(SECRET).expect("secret"));
    group.bench_function("floor_checking_json", |b| {
        b.iter_custom(|iters| drive(&rt, &floor_json, &mut deliveries, iters))
    });
    let ingest = hotfix_guard_router();
    group.bench_function("hotfix_guard", |b| {
        b.iter_custom(|iters| drive(&rt, &ingest, &mut deliveries, iters))
    });
    // As deployed: `RUST_LOG=info` writes one line per accepted delivery.
    // Last, so that its subscriber's callsite interest cannot leak into the
    // cases above.
    let logged = hotfix_guard_router();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
        .with_writer(std::io::sink)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        group.bench_function("hotfix_guard_info_logs", |b| {
            b.iter_custom(|iters| drive(&rt, &logged, &mut deliveries, iters))
        });
    });
    group.finish();
}

fn components(c: &mut Criterion) {
    let deliveries = Deliveries::load();
    let body = deliveries.body.clone();
    let signature = deliveries.signature.clone();
    let secrets = WebhookSecrets::parse(SECRET).expect("one secret");

    let mut group = c.benchmark_group("components");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("hmac_sha256_verify", |b| {
        b.iter(|| assert!(secrets.verify(Some(signature.as_bytes()), black_box(&body))))
    });
    group.bench_function("classify_lenient_parse", |b| {
        b.iter(|| {
            let parsed = events::classify("pull_request", black_box(&body));
            assert!(matches!(parsed, Ok((events::Intake::Evaluate(_), _))));
        })
    });
    // The least any JSON check can cost: validate and skip every byte.
    group.bench_function("serde_json_ignored_any", |b| {
        b.iter(|| {
            serde_json::from_slice::<serde::de::IgnoredAny>(black_box(&body))
                .expect("the fixture is JSON")
        })
    });
    // What parsing the whole payload into a tree would cost instead.
    group.bench_function("serde_json_value_tree", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(&body)).expect("JSON"))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    // Modest: the whole bench takes about half a minute, and `cargo test
    // --benches` (which CI runs) executes each case once.
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = post_webhook, components
}

/// `criterion_main!`, plus a profiling mode: with `INGEST_PROFILE=CASE:N`
/// (CASE one of `floor`, `floor_checking_json`, `hotfix_guard`,
/// `hotfix_guard_info_logs`) the
/// binary sends N deliveries through that router in `profile_loop` and
/// exits, for `valgrind --tool=callgrind --toggle-collect=*profile_loop*`
/// (instructions per delivery = collected / N) or `perf record`.
fn main() {
    if let Ok(spec) = std::env::var("INGEST_PROFILE") {
        profile(&spec);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}

fn profile(spec: &str) {
    let (case, n) = spec.split_once(':').unwrap_or((spec, "10000"));
    let n: u64 = n.parse().expect("INGEST_PROFILE=CASE:N with N a number");
    let rt = runtime();
    let mut deliveries = Deliveries::load();
    let (router, logs) = match case {
        "floor" => (floor_router(), false),
        "floor_checking_json" => (
            floor::router_checking_json(WebhookSecrets::parse(SECRET).expect("secret")),
            false,
        ),
        "hotfix_guard" => (hotfix_guard_router(), false),
        "hotfix_guard_info_logs" => (hotfix_guard_router(), true),
        other => panic!("unknown INGEST_PROFILE case {other}"),
    };
    let mut run = || {
        // Warm the allocator, the de-duplication set and lazy statics
        // outside the measured function.
        drive(&rt, &router, &mut deliveries, 20_000.min(n));
        profile_loop(&rt, &router, &mut deliveries, n)
    };
    let took = if logs {
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
            .with_writer(std::io::sink)
            .finish();
        tracing::subscriber::with_default(subscriber, run)
    } else {
        run()
    };
    eprintln!(
        "{case}: {n} deliveries in {:.3}s, {:.2} us each",
        took.as_secs_f64(),
        took.as_secs_f64() * 1e6 / n as f64
    );
}

#[inline(never)]
fn profile_loop(
    rt: &tokio::runtime::Runtime,
    router: &Router,
    deliveries: &mut Deliveries,
    n: u64,
) -> Duration {
    drive(rt, router, deliveries, n)
}
