//! The real `hotfix-guard serve` as an operator meets it: the start-up line,
//! `/readyz` against a reachable and an unreachable GitHub, `/metrics` on
//! `METRICS_PORT`, the image's `healthcheck`, and `replay` posting a saved
//! delivery to it.

use crate::common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use common::fake_github::{APP_ID, FakeGitHub};
use common::webhook::TestKey;

const BIN: &str = env!("CARGO_BIN_EXE_hotfix-guard");
const SECRET: &str = "ready-test-secret";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

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
    /// `serve` with only these variables (no RUST_LOG: the binary's own
    /// default filter is what an operator gets).
    fn spawn(api_url: &str, extra: &[(&str, String)]) -> Serve {
        static RUN: AtomicU32 = AtomicU32::new(0);
        let port = free_port();
        let log = std::env::temp_dir().join(format!(
            "hotfix-guard-ready-{}-{}.log",
            std::process::id(),
            RUN.fetch_add(1, Ordering::SeqCst)
        ));
        let stderr = std::fs::File::create(&log).expect("log file");
        let mut command = Command::new(BIN);
        command
            .arg("serve")
            .env_clear()
            .env("PORT", port.to_string())
            .env("GITHUB_API_URL", api_url)
            .env("GITHUB_APP_ID", APP_ID.to_string())
            .env("GITHUB_PRIVATE_KEY", TestKey::private_pem())
            .env("GITHUB_WEBHOOK_SECRET", SECRET)
            .env("RECOVERY_INTERVAL", "0s")
            .env("SWEEP_INTERVAL", "0s")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr);
        for (k, v) in extra {
            command.env(k, v);
        }
        let child = command.spawn().expect("spawn hotfix-guard");
        Serve { child, port, log }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    async fn status(&self, url: String) -> Option<u16> {
        reqwest::get(url).await.ok().map(|r| r.status().as_u16())
    }

    /// Waits until `path` answers `status`.
    async fn until(&mut self, path: &str, status: u16) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(exit)) = self.child.try_wait() {
                panic!("serve exited with {exit}:\n{}", self.log());
            }
            if self.status(self.url(path)).await == Some(status) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{path} never answered {status}:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test]
async fn readyz_waits_for_github_and_the_start_up_line_names_version_and_url() {
    let gh = FakeGitHub::start().await;
    gh.add_installation(1, "octo");
    let mut serve = Serve::spawn(&gh.url(), &[]);
    serve.until("/readyz", 200).await;
    assert_eq!(serve.status(serve.url("/healthz")).await, Some(200));
    let log = serve.log();
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        log.contains(&format!(
            "hotfix-guard {version} listening on port {}",
            serve.port
        )) && log.contains(&format!("GitHub API at {}", gh.url())),
        "{log}"
    );
    assert!(log.contains("authenticated to GitHub; ready"), "{log}");
}

#[tokio::test]
async fn an_unreachable_github_is_one_clear_warning_and_readyz_says_503() {
    // Nothing listens on this port.
    let nowhere = format!("http://127.0.0.1:{}", free_port());
    let mut serve = Serve::spawn(&nowhere, &[]);
    serve.until("/healthz", 200).await;
    assert_eq!(serve.status(serve.url("/readyz")).await, Some(503));
    let deadline = Instant::now() + Duration::from_secs(20);
    while !serve.log().contains("GitHub cannot be reached") {
        assert!(Instant::now() < deadline, "no warning:\n{}", serve.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let log = serve.log();
    let warnings: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("GitHub cannot be reached"))
        .collect();
    assert_eq!(warnings.len(), 1, "{log}");
    assert!(warnings[0].contains(&nowhere), "{}", warnings[0]);
    assert!(
        warnings[0].contains("GET /app/installations"),
        "{}",
        warnings[0]
    );
    assert!(
        !log.contains("octocrab"),
        "octocrab's bare lines leak:\n{log}"
    );
    assert_eq!(serve.status(serve.url("/readyz")).await, Some(503));
}

#[tokio::test]
async fn with_metrics_port_the_metrics_leave_the_public_port() {
    let gh = FakeGitHub::start().await;
    let metrics_port = free_port();
    let mut serve = Serve::spawn(&gh.url(), &[("METRICS_PORT", metrics_port.to_string())]);
    serve.until("/healthz", 200).await;
    let private = format!("http://127.0.0.1:{metrics_port}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while serve.status(format!("{private}/metrics")).await != Some(200) {
        assert!(Instant::now() < deadline, "{}", serve.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(serve.status(serve.url("/metrics")).await, Some(404));
    assert_eq!(serve.status(format!("{private}/healthz")).await, Some(404));
    let webhook = reqwest::Client::new()
        .post(format!("{private}/webhook"))
        .body("{}")
        .send()
        .await
        .expect("answers")
        .status();
    assert_eq!(webhook.as_u16(), 404, "no intake on the metrics port");
}

#[tokio::test]
async fn without_metrics_port_metrics_stay_on_the_main_port() {
    let gh = FakeGitHub::start().await;
    let mut serve = Serve::spawn(&gh.url(), &[]);
    serve.until("/healthz", 200).await;
    assert_eq!(serve.status(serve.url("/metrics")).await, Some(200));
}

fn run(args: &[&str], env: &[(&str, String)]) -> std::process::Output {
    let mut command = Command::new(BIN);
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .env_remove("GITHUB_WEBHOOK_SECRET")
        .env_remove("PORT");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("runs")
}

#[tokio::test]
async fn healthcheck_and_replay_talk_to_a_running_server() {
    let gh = FakeGitHub::start().await;
    let mut serve = Serve::spawn(&gh.url(), &[]);
    serve.until("/healthz", 200).await;
    let port = serve.port.to_string();
    let url = serve.url("/webhook");
    let out = tokio::task::spawn_blocking(move || {
        let health = run(&["healthcheck"], &[("PORT", port)]);
        let closed = run(&["healthcheck", "--port", &free_port().to_string()], &[]);
        let fixture = "tests/fixtures/webhooks/ping.json";
        let good = run(
            &["replay", fixture, "--url", &url],
            &[("GITHUB_WEBHOOK_SECRET", SECRET.to_string())],
        );
        let bad = run(
            &["replay", fixture, "--url", &url, "--secret", "wrong"],
            &[],
        );
        let not_json = run(
            &[
                "replay",
                "Cargo.toml",
                "--url",
                &url,
                "--secret",
                "x",
                "--event",
                "ping",
            ],
            &[],
        );
        (health, closed, good, bad, not_json)
    })
    .await
    .expect("joined");
    let (health, closed, good, bad, not_json) = out;
    assert_eq!(
        health.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&health.stderr)
    );
    assert_eq!(closed.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&closed.stderr).contains("cannot connect"));
    let said = String::from_utf8_lossy(&good.stdout);
    assert_eq!(
        good.status.code(),
        Some(0),
        "{said}{}",
        String::from_utf8_lossy(&good.stderr)
    );
    assert!(said.starts_with("ping delivery "), "{said}");
    assert!(said.contains(": 2"), "{said}");
    assert_eq!(
        bad.status.code(),
        Some(1),
        "a wrong secret is refused by the server"
    );
    assert!(
        String::from_utf8_lossy(&bad.stdout).contains(": 401"),
        "{}",
        String::from_utf8_lossy(&bad.stdout)
    );
    assert_eq!(not_json.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&not_json.stderr).contains("is not JSON"));
}
