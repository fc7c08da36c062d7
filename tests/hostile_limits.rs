//! What the public webhook URL may cost an unauthenticated sender, and that
//! GitHub's real deliveries still get through: the app as `serve` wires it
//! (`App::start`, `server::listen::serve`), on loopback, with the limits
//! made small enough to hit in a test.

use crate::common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tower::ServiceExt;

use common::fake_github::{APP_ID, FakeGitHub};
use common::webhook::{TestKey, fixture_bytes, sign};
use hotfix_guard::app::App;
use hotfix_guard::config::ServeConfig;
use hotfix_guard::server::Limits;
use hotfix_guard::server::signature::WebhookSecrets;

const SECRET: &str = "hostile-secret";
const GUID: &str = "72d3162e-cc78-11e3-81ab-4c9367dc0958";

async fn config(gh: &FakeGitHub, limits: Limits) -> ServeConfig {
    ServeConfig {
        app_id: APP_ID,
        private_key: TestKey::private_pem().into(),
        secrets: WebhookSecrets::parse(SECRET).expect("secret"),
        api_url: gh.url(),
        port: 0,
        workers: 1,
        queue_capacity: 64,
        shutdown_grace: Duration::from_secs(1),
        sweep_interval: None,
        debounce: Duration::from_secs(60),
        database_url: common::store::scratch_url().await,
        job_lease: Duration::from_secs(30),
        retry_backoff: Duration::from_secs(1),
        limits,
        github: Default::default(),
    }
}

/// The app serving on a loopback port under `limits`.
struct Served {
    addr: SocketAddr,
    app: Arc<App>,
    _gh: FakeGitHub,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn serve(limits: Limits) -> Served {
    let gh = FakeGitHub::start().await;
    let app = Arc::new(
        App::start(&config(&gh, limits.clone()).await)
            .await
            .expect("app starts"),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let router = app.router.clone();
    let metrics = app.metrics.clone();
    tokio::spawn(async move {
        hotfix_guard::server::listen::serve(listener, router, &limits, metrics, async {
            let _ = stopped.await;
        })
        .await;
    });
    Served {
        addr,
        app,
        _gh: gh,
        stop: Some(stop),
    }
}

/// A real `pull_request.opened` delivery, signed: acted on, so 202.
fn opened() -> Vec<u8> {
    fixture_bytes("pull_request.opened.4.json")
}

fn head(event: &str, id: &str, body: &[u8]) -> String {
    format!(
        "POST /webhook HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
         x-github-event: {event}\r\nx-github-delivery: {id}\r\n\
         x-hub-signature-256: {}\r\ncontent-length: {}\r\n\r\n",
        sign(SECRET, body),
        body.len()
    )
}

/// Sends `bytes` and reads the answer until the server closes or `within`
/// passes; the text read and how long it took.
async fn exchange(addr: SocketAddr, bytes: &[u8], within: Duration) -> (String, Duration) {
    let started = Instant::now();
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let _ = stream.write_all(bytes).await;
    let text = read_until_closed(&mut stream, within).await;
    (text, started.elapsed())
}

async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One signed delivery over a fresh connection (`connection: close`); the
/// whole answer.
async fn deliver(addr: SocketAddr, event: &str, id: &str, body: &[u8]) -> String {
    let head = head(event, id, body).replacen("\r\n", "\r\nconnection: close\r\n", 1);
    let request = [head.into_bytes(), body.to_vec()].concat();
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(&request).await.expect("send");
    read_until_closed(&mut stream, Duration::from_secs(5)).await
}

async fn metrics(app: &App) -> String {
    let res = app
        .router
        .clone()
        .oneshot(Request::get("/metrics").body(Body::empty()).expect("req"))
        .await
        .expect("infallible");
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .expect("body");
    String::from_utf8(body.to_vec()).expect("utf-8")
}

fn refusals(text: &str, limit: &str) -> u64 {
    let prefix = format!("hotfix_guard_limit_refusals_total{{limit=\"{limit}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn small() -> Limits {
    Limits {
        max_connections: 64,
        header_read_timeout: Duration::from_millis(600),
        max_request_head_bytes: 16 * 1024,
        body_read_timeout: Duration::from_millis(600),
        body_budget_bytes: 64 * 1024,
    }
}

async fn via_router(app: &App, event: &str, id: &str, body: Vec<u8>) -> (StatusCode, String) {
    let req = Request::post("/webhook")
        .header("content-type", "application/json")
        .header("x-github-event", event)
        .header("x-github-delivery", id)
        .header("x-hub-signature-256", sign(SECRET, &body))
        .body(Body::from(body))
        .expect("request");
    let res = app.router.clone().oneshot(req).await.expect("infallible");
    let status = res.status();
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .expect("body");
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn every_captured_real_delivery_still_answers_2xx() {
    let gh = FakeGitHub::start().await;
    let app = App::start(&config(&gh, Limits::default()).await)
        .await
        .expect("app");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/webhooks");
    let mut files = Vec::new();
    for sub in [dir.clone(), dir.join("ghes")] {
        for entry in std::fs::read_dir(&sub).expect("fixtures") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "json") {
                files.push(path);
            }
        }
    }
    assert!(files.len() >= 100, "{} fixtures", files.len());
    for (i, path) in files.iter().enumerate() {
        let name = path.file_name().and_then(|n| n.to_str()).expect("name");
        let event = name.split('.').next().expect("event");
        let body = std::fs::read(path).expect("read");
        // GitHub's delivery GUID shape (a v1 UUID), upper- and lower-case.
        let id = format!("{:08x}-4a7c-11ef-8465-fadda1832ea4", i);
        let id = if i % 2 == 0 { id } else { id.to_uppercase() };
        let (status, text) = via_router(&app, event, &id, body).await;
        assert!(status.is_success(), "{}: {status} {text}", path.display());
    }
}

/// A `tracing` writer into a shared buffer, to measure what a refusal logs.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_delivery_id_not_shaped_like_a_guid_is_400_and_logged_cut_short() {
    let gh = FakeGitHub::start().await;
    let app = App::start(&config(&gh, Limits::default()).await)
        .await
        .expect("app");
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("debug"))
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let huge = "a".repeat(300_000);
    for id in [
        huge.as_str(),
        &"b".repeat(37),
        "delivery-1",
        "72d3162e cc78",
    ] {
        let before = captured.0.lock().expect("lock").len();
        // Unsigned: refused before the signature is even looked at.
        let req = Request::post("/webhook")
            .header("x-github-event", "ping")
            .header("x-github-delivery", id)
            .body(Body::from("{}"))
            .expect("request");
        let res = app.router.clone().oneshot(req).await.expect("infallible");
        assert_eq!(
            res.status(),
            StatusCode::BAD_REQUEST,
            "{}",
            &id[..id.len().min(40)]
        );
        let body = axum::body::to_bytes(res.into_body(), 1024)
            .await
            .expect("body");
        assert_eq!(
            body,
            "X-GitHub-Delivery is not a delivery GUID (at most 36 hex digits and dashes)\n"
        );
        let logged = captured.0.lock().expect("lock").len() - before;
        assert!(logged > 0, "the refusal is logged");
        assert!(logged < 600, "{logged} bytes logged for one refusal");
    }
    // An event name is bounded the same way.
    let (status, text) = via_router(&app, &"x".repeat(10_000), GUID, b"{}".to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        text.starts_with("X-GitHub-Event is not an event name"),
        "{text}"
    );
    let m = metrics(&app).await;
    assert_eq!(refusals(&m, "delivery_id"), 4, "{m}");
    assert_eq!(refusals(&m, "event_name"), 1, "{m}");
    // A GUID-shaped id is taken.
    let (status, _) = via_router(&app, "pull_request", GUID, opened()).await;
    assert_eq!(status, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn a_declared_length_over_25_mib_is_413_before_any_byte_of_it_is_read() {
    let served = serve(small()).await;
    let request = format!(
        "POST /webhook HTTP/1.1\r\nhost: x\r\nx-github-event: ping\r\nx-github-delivery: {GUID}\r\ncontent-length: 26214401\r\n\r\n"
    );
    let (text, took) = exchange(served.addr, request.as_bytes(), Duration::from_secs(5)).await;
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.ends_with("payload too large\n"), "{text}");
    assert!(took < Duration::from_secs(1), "{took:?}");
    assert_eq!(refusals(&metrics(&served.app).await, "body_size"), 1);
}

#[tokio::test]
async fn a_body_that_trickles_is_cut_off_at_its_timeout_while_a_real_delivery_gets_through() {
    let served = serve(small()).await;
    // Claims 25 MiB, sends 10 bytes, then nothing: holds 10 bytes of the
    // budget, not 25 MiB, and is cut off after the body read timeout.
    let slow = tokio::spawn({
        let addr = served.addr;
        async move {
            let request = format!(
                "POST /webhook HTTP/1.1\r\nhost: x\r\nx-github-event: ping\r\nx-github-delivery: {GUID}\r\ncontent-length: 26214400\r\n\r\n0123456789"
            );
            exchange(addr, request.as_bytes(), Duration::from_secs(5)).await
        }
    });
    // And a connection that never finishes its head.
    let silent = tokio::spawn({
        let addr = served.addr;
        async move {
            exchange(
                addr,
                b"POST /webhook HTTP/1.1\r\nhost:",
                Duration::from_secs(5),
            )
            .await
        }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    let answer = deliver(served.addr, "pull_request", GUID, &opened()).await;
    assert!(answer.starts_with("HTTP/1.1 202"), "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );

    let (text, took) = slow.await.expect("slow sender");
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(
        text.ends_with("request body not received in time\n"),
        "{text}"
    );
    assert!(took < Duration::from_millis(1500), "closed after {took:?}");
    let (text, took) = silent.await.expect("silent sender");
    assert!(
        took < Duration::from_millis(1500),
        "closed after {took:?}: {text}"
    );
    let m = metrics(&served.app).await;
    assert_eq!(refusals(&m, "body_read_timeout"), 1, "{m}");
    assert_eq!(refusals(&m, "header_read_timeout"), 1, "{m}");
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_header_timeout() {
    let served = serve(small()).await;
    let body = opened();
    let mut request = head("pull_request", GUID, &body).into_bytes();
    request.extend_from_slice(&body);
    let mut stream = TcpStream::connect(served.addr).await.expect("connect");
    stream.write_all(&request).await.expect("send");
    let started = Instant::now();
    let text = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    assert!(text.starts_with("HTTP/1.1 202"), "{text}");
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "idle for {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn bodies_beyond_the_shared_budget_are_503_with_retry_after_and_the_budget_comes_back() {
    let served = serve(Limits {
        body_read_timeout: Duration::from_secs(5),
        ..small()
    })
    .await;
    // One sender holds 50 KiB of the 64 KiB budget and waits.
    let mut holder = TcpStream::connect(served.addr).await.expect("connect");
    let held = vec![b' '; 50 * 1024];
    let claim = format!(
        "POST /webhook HTTP/1.1\r\nhost: x\r\nx-github-event: ping\r\nx-github-delivery: {GUID}\r\ncontent-length: 1048576\r\n\r\n"
    );
    holder.write_all(claim.as_bytes()).await.expect("head");
    holder.write_all(&held).await.expect("50 KiB");
    tokio::time::sleep(Duration::from_millis(200)).await;
    // A 20 KiB body does not fit beside it (it counts twice while its
    // chunks are joined).
    let body = [br#"{"zen": ""#.as_slice(), &vec![b'x'; 20 * 1024], br#""}"#].concat();
    let answer = deliver(served.addr, "ping", "0e-2", &body).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.to_lowercase().contains("retry-after: 5"), "{answer}");
    assert!(
        answer.ends_with("too many request bodies in flight; retry later\n"),
        "{answer}"
    );
    // Once the holder goes away, its bytes are released.
    drop(holder);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let answer = deliver(served.addr, "ping", "0e-3", &body).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(refusals(&metrics(&served.app).await, "body_budget"), 1);
}

#[tokio::test]
async fn connections_over_the_cap_are_503_and_a_large_head_is_431() {
    let served = serve(Limits {
        max_connections: 2,
        header_read_timeout: Duration::from_secs(5),
        ..small()
    })
    .await;
    let _a = TcpStream::connect(served.addr).await.expect("a");
    let _b = TcpStream::connect(served.addr).await.expect("b");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (text, _) = exchange(served.addr, b"", Duration::from_secs(2)).await;
    assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    assert!(text.ends_with("too many connections\n"), "{text}");
    drop((_a, _b));
    tokio::time::sleep(Duration::from_millis(100)).await;

    let big = format!(
        "GET /healthz HTTP/1.1\r\nhost: x\r\nx-pad: {}\r\n\r\n",
        "p".repeat(32 * 1024)
    );
    let (text, _) = exchange(served.addr, big.as_bytes(), Duration::from_secs(2)).await;
    assert!(text.starts_with("HTTP/1.1 431"), "{text}");
    let m = metrics(&served.app).await;
    assert_eq!(refusals(&m, "connections"), 1, "{m}");
    assert_eq!(refusals(&m, "request_head_size"), 1, "{m}");
    // Still serving.
    let answer = deliver(served.addr, "pull_request", GUID, &opened()).await;
    assert!(answer.starts_with("HTTP/1.1 202"), "{answer}");
}
