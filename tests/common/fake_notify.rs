//! An in-memory Slack Web API (`chat.postMessage`, `chat.update`: bot token
//! checked, channel and thread recorded) and a webhook receiver (signature
//! verified), on loopback, for the notice tests.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use hmac::{Hmac, Mac as _};
use serde_json::{Value, json};
use sha2::Sha256;

pub const SLACK_TOKEN: &str = "xoxb-test-token";
pub const WEBHOOK_SECRET: &str = "notice-secret";
/// The ID Slack gives `#incidents`.
pub const CHANNEL_ID: &str = "C0INCIDENTS";

#[derive(Debug, Clone)]
pub struct SlackPost {
    pub channel: String,
    pub text: String,
    pub thread_ts: Option<String>,
    /// The ts Slack answered.
    pub ts: String,
    pub at: Instant,
}

#[derive(Debug, Clone)]
pub struct SlackUpdate {
    pub channel: String,
    pub ts: String,
    pub text: String,
}

/// How the fake answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Up,
    /// Never answers (a target that is down and hangs).
    Hang,
}

#[derive(Default)]
pub struct Inner {
    pub posts: Vec<SlackPost>,
    pub updates: Vec<SlackUpdate>,
    /// Answers to requests with a wrong token.
    pub bad_auth: u64,
    /// Requests answered 429, and when.
    pub limited: Vec<Instant>,
    /// Answer this many more postMessage calls with 429 + Retry-After: 1.
    pub limit_next: u32,
    pub mode: Option<Mode>,
    /// Webhook bodies whose signature verified, by name.
    pub hooks: Vec<(String, Value)>,
    pub bad_signatures: u64,
}

#[derive(Clone, Default)]
pub struct FakeNotify {
    pub inner: Arc<Mutex<Inner>>,
    pub url: String,
}

impl FakeNotify {
    pub async fn start() -> FakeNotify {
        let inner: Arc<Mutex<Inner>> = Arc::default();
        let app = Router::new()
            .route("/api/chat.postMessage", post(post_message))
            .route("/api/chat.update", post(update))
            .route("/hooks/{name}", post(hook))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeNotify { inner, url }
    }

    pub fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn posts(&self) -> Vec<SlackPost> {
        self.lock().posts.clone()
    }

    pub fn updates(&self) -> Vec<SlackUpdate> {
        self.lock().updates.clone()
    }

    pub fn hooks(&self) -> Vec<(String, Value)> {
        self.lock().hooks.clone()
    }

    /// Waits (at most 10 s) until `f` holds.
    pub async fn wait_for(&self, what: &str, f: impl Fn(&Inner) -> bool) {
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            if f(&self.lock()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("timed out waiting for {what}");
    }

    /// The deployment's notice settings pointing here.
    pub fn config(&self) -> hotfix_guard::notify::NotifyConfig {
        hotfix_guard::notify::NotifyConfig::from_vars([
            ("SLACK_BOT_TOKEN".to_string(), SLACK_TOKEN.to_string()),
            ("SLACK_API_URL".to_string(), format!("{}/api", self.url)),
            (
                "NOTIFY_WEBHOOK_STATUS".to_string(),
                format!("{}/hooks/status", self.url),
            ),
            (
                "NOTIFY_WEBHOOK_SECRET".to_string(),
                WEBHOOK_SECRET.to_string(),
            ),
        ])
    }
}

fn authorized(headers: &HeaderMap) -> bool {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {SLACK_TOKEN}"))
}

async fn hang_if_down(inner: &Arc<Mutex<Inner>>) {
    let mode = inner.lock().unwrap_or_else(|p| p.into_inner()).mode;
    if mode == Some(Mode::Hang) {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
}

async fn post_message(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    hang_if_down(&inner).await;
    let mut s = inner.lock().unwrap_or_else(|p| p.into_inner());
    if !authorized(&headers) {
        s.bad_auth += 1;
        return axum::Json(json!({"ok": false, "error": "invalid_auth"})).into_response();
    }
    if s.limit_next > 0 {
        s.limit_next -= 1;
        s.limited.push(Instant::now());
        return (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "1")], "").into_response();
    }
    let Ok(req) = serde_json::from_slice::<Value>(&body) else {
        return axum::Json(json!({"ok": false, "error": "invalid_json"})).into_response();
    };
    let channel = match req["channel"].as_str() {
        Some("incidents" | "#incidents") | Some(CHANNEL_ID) => CHANNEL_ID.to_string(),
        _ => return axum::Json(json!({"ok": false, "error": "channel_not_found"})).into_response(),
    };
    let Some(text) = req["text"].as_str() else {
        return axum::Json(json!({"ok": false, "error": "no_text"})).into_response();
    };
    let ts = format!("1764400000.{:06}", s.posts.len() + 1);
    s.posts.push(SlackPost {
        channel: req["channel"].as_str().unwrap_or_default().to_string(),
        text: text.to_string(),
        thread_ts: req["thread_ts"].as_str().map(str::to_string),
        ts: ts.clone(),
        at: Instant::now(),
    });
    axum::Json(json!({"ok": true, "channel": channel, "ts": ts, "message": {"text": text}}))
        .into_response()
}

async fn update(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    axum::Json(req): axum::Json<Value>,
) -> Response {
    hang_if_down(&inner).await;
    let mut s = inner.lock().unwrap_or_else(|p| p.into_inner());
    if !authorized(&headers) {
        s.bad_auth += 1;
        return axum::Json(json!({"ok": false, "error": "invalid_auth"})).into_response();
    }
    let ts = req["ts"].as_str().unwrap_or_default().to_string();
    // chat.update needs the channel's ID and an existing message.
    if req["channel"] != CHANNEL_ID || !s.posts.iter().any(|p| p.ts == ts) {
        return axum::Json(json!({"ok": false, "error": "message_not_found"})).into_response();
    }
    s.updates.push(SlackUpdate {
        channel: CHANNEL_ID.to_string(),
        ts: ts.clone(),
        text: req["text"].as_str().unwrap_or_default().to_string(),
    });
    axum::Json(json!({"ok": true, "channel": CHANNEL_ID, "ts": ts})).into_response()
}

async fn hook(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let mut s = inner.lock().unwrap_or_else(|p| p.into_inner());
    let mut mac = Hmac::<Sha256>::new_from_slice(WEBHOOK_SECRET.as_bytes()).expect("key");
    mac.update(&body);
    let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    let given = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if given != expected {
        s.bad_signatures += 1;
        return StatusCode::UNAUTHORIZED;
    }
    match serde_json::from_slice::<Value>(&body) {
        Ok(v) => {
            s.hooks.push((name, v));
            StatusCode::OK
        }
        Err(_) => StatusCode::BAD_REQUEST,
    }
}
