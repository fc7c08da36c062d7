//! The real `hotfix-guard serve` process, configured through its
//! environment like a deployment, against the fake GitHub on loopback:
//! graceful shutdown on SIGTERM, recovery at start-up, setup mode, and the
//! one-line refusals when its configuration is incomplete.

use crate::common;

use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};

use common::fake_github::{APP_ID, FakeGitHub};
use common::harness::{HEAD_SHA, Harness, POLICY, REPO};
use common::webhook::{PrSpec, TestKey, pull_request_event, sign};

const BIN: &str = env!("CARGO_BIN_EXE_hotfix-guard");
const SECRET: &str = "binary-test-secret";

fn scratch_sqlite() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let path = std::env::temp_dir().join(format!(
        "hotfix-guard-ops-{}-{}-{}.db",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst),
        Utc::now().timestamp_micros()
    ));
    format!("sqlite://{}", path.display())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A running `serve`; killed if the test ends without it exiting.
struct Serve {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Drop for Serve {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let _ = std::fs::remove_file(&self.log);
    }
}

impl Serve {
    /// `serve` with only `env` in its environment (nothing inherited, so a
    /// developer's GITHUB_* variables cannot leak in).
    fn spawn(env: &[(&str, String)]) -> Serve {
        static RUN: AtomicU32 = AtomicU32::new(0);
        let port = free_port();
        let log = std::env::temp_dir().join(format!(
            "hotfix-guard-ops-{}-{}.log",
            std::process::id(),
            RUN.fetch_add(1, Ordering::SeqCst)
        ));
        let stderr = std::fs::File::create(&log).expect("log file");
        let mut command = Command::new(BIN);
        command
            .arg("serve")
            .env_clear()
            .env("PORT", port.to_string())
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr);
        for (k, v) in env {
            command.env(k, v);
        }
        let child = command.spawn().expect("spawn hotfix-guard");
        Serve { child, port, log }
    }

    fn app(gh: &FakeGitHub, extra: &[(&str, &str)]) -> Serve {
        let mut env = vec![
            ("GITHUB_API_URL", gh.url()),
            ("GITHUB_APP_ID", APP_ID.to_string()),
            ("GITHUB_PRIVATE_KEY", TestKey::private_pem()),
            ("GITHUB_WEBHOOK_SECRET", SECRET.to_string()),
            // A store of its own (a temporary SQLite file), not the default
            // in the working directory.
            ("DATABASE_URL", scratch_sqlite()),
        ];
        env.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        Serve::spawn(&env)
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    async fn ready(&mut self) {
        let client = client();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "serve exited with {status} before it was ready:\n{}",
                    self.log()
                );
            }
            if let Ok(res) = client.get(self.url("/healthz")).send().await
                && res.status() == 200
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "serve never answered /healthz:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `kill -TERM <pid>`: what Fly, Docker and Kubernetes send.
    fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed");
    }

    async fn exit(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "serve still running after {within:?}:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client")
}

async fn seeded() -> Harness {
    let h = Harness::start().await;
    let pull = h.p0();
    h.seed(POLICY, &pull);
    h.label_events_by(&pull, "dana");
    h
}

async fn send_opened(h: &Harness, serve: &Serve, delivery: &str) -> reqwest::StatusCode {
    let seed = h.gh.pull(REPO, 7).expect("pull");
    let payload = pull_request_event("opened", &PrSpec::from_seed(REPO, &seed, 1));
    let body = serde_json::to_vec(&payload).expect("json");
    client()
        .post(serve.url("/webhook"))
        .header("content-type", "application/json")
        .header("x-github-event", "pull_request")
        .header("x-github-delivery", delivery)
        .header("x-hub-signature-256", sign(SECRET, &body))
        .body(body)
        .send()
        .await
        .expect("delivery")
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_accepting_finishes_the_queued_evaluation_and_exits_zero() {
    let h = seeded().await;
    // Hold the evaluation inside GitHub for a while, so that SIGTERM finds
    // it unfinished.
    h.gh.delay_next("GET", "/timeline", Duration::from_secs(2), 1);
    let mut serve = Serve::app(
        &h.gh,
        &[("RECOVERY_INTERVAL", "0s"), ("SHUTDOWN_GRACE", "20s")],
    );
    serve.ready().await;

    assert_eq!(send_opened(&h, &serve, "5e-1").await, 202);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let signalled = Instant::now();
    serve.terminate();

    // It stops taking deliveries while it drains.
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        let refused = client().get(serve.url("/healthz")).send().await.is_err();
        if refused {
            break;
        }
        assert!(Instant::now() < deadline, "still accepting after SIGTERM");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        matches!(serve.child.try_wait(), Ok(None)),
        "exited before the evaluation finished:\n{}",
        serve.log()
    );

    let status = serve.exit(Duration::from_secs(15)).await;
    assert_eq!(status.code(), Some(0), "{}", serve.log());
    assert!(
        signalled.elapsed() >= Duration::from_millis(1500),
        "did not wait for the work"
    );
    // The work finished: the check run is on the head commit, completed.
    let runs = h.gh.check_runs(REPO, HEAD_SHA);
    assert_eq!(runs.len(), 1, "{runs:#?}");
    assert_eq!(runs[0].status, "completed");
    assert_eq!(runs[0].conclusion.as_deref(), Some("failure"));
    assert_eq!(h.bot_comments(7).len(), 1);
    assert!(
        serve.log().contains("all evaluations finished"),
        "{}",
        serve.log()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_longer_than_the_grace_period_does_not_hold_the_exit() {
    let h = seeded().await;
    h.gh.delay_next("GET", "/timeline", Duration::from_secs(8), 1);
    let mut serve = Serve::app(
        &h.gh,
        &[("RECOVERY_INTERVAL", "0s"), ("SHUTDOWN_GRACE", "500ms")],
    );
    serve.ready().await;
    assert_eq!(send_opened(&h, &serve, "9ace-1").await, 202);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let signalled = Instant::now();
    serve.terminate();
    let status = serve.exit(Duration::from_secs(5)).await;
    assert_eq!(status.code(), Some(0), "{}", serve.log());
    assert!(signalled.elapsed() < Duration::from_secs(4));
    assert!(serve.log().contains("grace period over"), "{}", serve.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_start_up_a_failed_delivery_is_redelivered() {
    let gh = FakeGitHub::start().await;
    let now = Utc::now();
    gh.add_delivery(
        41,
        "guid-ok",
        202,
        false,
        now - TimeDelta::minutes(50),
        "pull_request",
        Some("opened"),
    );
    // Sent while the app was down.
    gh.add_delivery(
        42,
        "guid-lost",
        503,
        false,
        now - TimeDelta::minutes(5),
        "pull_request",
        Some("synchronize"),
    );
    let mut serve = Serve::app(&gh, &[]);
    serve.ready().await;
    let deadline = Instant::now() + Duration::from_secs(15);
    while gh.redelivery_attempts().is_empty() {
        assert!(
            Instant::now() < deadline,
            "nothing redelivered:\n{}",
            serve.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(gh.redelivery_attempts(), vec![42]);
    let metrics = client()
        .get(serve.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains("hotfix_guard_github_api_calls_total{route=\"GET /app/hook/deliveries\",status=\"200\"} 1"),
        "{metrics}"
    );
    serve.terminate();
    assert_eq!(serve.exit(Duration::from_secs(10)).await.code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_mode_serves_only_the_registration_page() {
    let gh = FakeGitHub::start().await;
    let public = "https://guard.example.org".to_string();
    let mut serve = Serve::spawn(&[
        ("GITHUB_API_URL", gh.url()),
        ("SETUP_MODE", "1".into()),
        ("PUBLIC_URL", public.clone()),
    ]);
    serve.ready().await;
    let page = client()
        .get(serve.url("/setup"))
        .send()
        .await
        .expect("setup");
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert!(
        html.contains(&format!("{}/settings/apps/new?state=", gh.origin())),
        "{html}"
    );
    assert!(html.contains(&format!("{public}/webhook")), "{html}");
    let hook = client()
        .post(serve.url("/webhook"))
        .body("{}")
        .send()
        .await
        .expect("webhook");
    assert_eq!(hook.status(), 503);
    assert_eq!(
        gh.api_calls(),
        0,
        "setup mode calls GitHub only to convert a code"
    );
    serve.terminate();
    assert_eq!(serve.exit(Duration::from_secs(10)).await.code(), Some(0));

    // On Fly.io the public URL comes from the app's name.
    let mut fly = Serve::spawn(&[
        ("GITHUB_API_URL", gh.url()),
        ("SETUP_MODE", "true".into()),
        ("FLY_APP_NAME", "acme-guard".into()),
    ]);
    fly.ready().await;
    let html = client()
        .get(fly.url("/setup"))
        .send()
        .await
        .expect("setup")
        .text()
        .await
        .expect("html");
    assert!(
        html.contains("https://acme-guard.fly.dev/webhook"),
        "{html}"
    );
    fly.terminate();
    assert_eq!(fly.exit(Duration::from_secs(10)).await.code(), Some(0));
}

type Env = Vec<(&'static str, String)>;

/// Runs `serve` with `env` to its end; answers its exit code and stderr.
fn refusal(env: &[(&str, String)]) -> (Option<i32>, String) {
    let mut serve = Serve::spawn(env);
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = serve.child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "serve started instead of refusing:\n{}",
            serve.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    (status.code(), serve.log())
}

#[test]
fn serve_refuses_to_start_with_one_line_naming_what_is_missing() {
    let key = TestKey::private_pem();
    let id = ("GITHUB_APP_ID", APP_ID.to_string());
    let pem = ("GITHUB_PRIVATE_KEY", key.clone());
    let secret = ("GITHUB_WEBHOOK_SECRET", SECRET.to_string());
    let cases: Vec<(&str, Env, &str)> = vec![
        (
            "no app id",
            vec![pem.clone(), secret.clone()],
            "GITHUB_APP_ID",
        ),
        (
            "an app id that is not a number",
            vec![
                ("GITHUB_APP_ID", "hotfix".into()),
                pem.clone(),
                secret.clone(),
            ],
            "GITHUB_APP_ID",
        ),
        (
            "no key",
            vec![id.clone(), secret.clone()],
            "GITHUB_PRIVATE_KEY",
        ),
        (
            "no secret",
            vec![id.clone(), pem.clone()],
            "GITHUB_WEBHOOK_SECRET",
        ),
        ("nothing at all", vec![], "GITHUB_APP_ID"),
        (
            "a key that is not PEM",
            vec![
                id.clone(),
                ("GITHUB_PRIVATE_KEY", "not a key".into()),
                secret.clone(),
            ],
            "GITHUB_PRIVATE_KEY",
        ),
        (
            "a public key",
            vec![
                id.clone(),
                ("GITHUB_PRIVATE_KEY", TestKey::public_pem()),
                secret.clone(),
            ],
            "GITHUB_PRIVATE_KEY",
        ),
        (
            "a damaged RSA key",
            vec![
                id.clone(),
                ("GITHUB_PRIVATE_KEY", key.replace("MIIE", "MIIX")),
                secret.clone(),
            ],
            "GITHUB_PRIVATE_KEY",
        ),
        (
            "a key file that is not there",
            vec![
                id.clone(),
                ("GITHUB_PRIVATE_KEY_PATH", "/nonexistent/key.pem".into()),
                secret.clone(),
            ],
            "GITHUB_PRIVATE_KEY_PATH",
        ),
        (
            "setup mode without a public URL",
            vec![("SETUP_MODE", "1".into())],
            "PUBLIC_URL",
        ),
    ];
    for (case, env, variable) in cases {
        let (code, stderr) = refusal(&env);
        assert!(code.is_some_and(|c| c != 0), "{case}: exit {code:?}");
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{case}: one line, got:\n{stderr}");
        assert!(
            lines[0].contains(variable),
            "{case}: {:?} does not name {variable}",
            lines[0]
        );
        assert!(
            !lines[0].contains("MII"),
            "{case}: the key leaked into the message"
        );
    }
}
