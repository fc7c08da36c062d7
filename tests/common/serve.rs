//! The real `hotfix-guard serve` process for the durability tests: started
//! on a given store, killed with SIGKILL or stopped with SIGTERM, and
//! restarted on the same store.

use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::fake_github::{APP_ID, FakeGitHub};
use super::webhook::{TestKey, sign};

const BIN: &str = env!("CARGO_BIN_EXE_hotfix-guard");
pub const SECRET: &str = "durable-test-secret";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A running `serve`; killed if the test ends without it exiting.
pub struct Serve {
    pub child: Child,
    pub port: u16,
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
    /// `serve` against `gh` on the store `database_url`, with `extra`
    /// settings; nothing inherited from the test's environment.
    pub fn start(gh: &FakeGitHub, database_url: &str, extra: &[(&str, &str)]) -> Serve {
        static RUN: AtomicU32 = AtomicU32::new(0);
        let port = free_port();
        let log = std::env::temp_dir().join(format!(
            "hotfix-guard-durable-{}-{}.log",
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
            .env("GITHUB_API_URL", gh.url())
            .env("GITHUB_APP_ID", APP_ID.to_string())
            .env("GITHUB_PRIVATE_KEY", TestKey::private_pem())
            .env("GITHUB_WEBHOOK_SECRET", SECRET)
            .env("DATABASE_URL", database_url)
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

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub async fn ready(&mut self) {
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

    /// `kill -9`: no chance to clean up.
    pub fn kill9(&mut self) {
        self.child.kill().expect("SIGKILL");
        let _ = self.child.wait();
    }

    /// `kill -TERM <pid>`.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed");
    }

    pub async fn exit(&mut self, within: Duration) -> ExitStatus {
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

    /// Sends a signed delivery; the status, or `None` when the connection
    /// was refused or cut (the process is gone or going).
    pub async fn deliver(
        &self,
        event: &str,
        delivery: &str,
        payload: &serde_json::Value,
    ) -> Option<u16> {
        let body = serde_json::to_vec(payload).expect("json");
        client()
            .post(self.url("/webhook"))
            .header("content-type", "application/json")
            .header("x-github-event", event)
            .header("x-github-delivery", super::webhook::delivery_guid(delivery))
            .header("x-hub-signature-256", sign(SECRET, &body))
            .body(body)
            .send()
            .await
            .ok()
            .map(|r| r.status().as_u16())
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}
