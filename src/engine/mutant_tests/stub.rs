//! A small GitHub on loopback for the engine functions that take the
//! concrete [`RepoClient`] (the policy load, the merged pull request's
//! policy, who closed a pull request): answers by path and query, set per
//! test, and every request seen. Anything not set answers 404, as GitHub
//! does for a missing file or repository.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use secrecy::SecretString;

use crate::github::{ClientOptions, HttpOptions, RepoClient};

/// One answer: status and JSON body.
pub(super) type Reply = (u16, serde_json::Value);

/// GitHub as the stub serves it.
#[derive(Default)]
pub(super) struct Answers {
    /// `path?query` (or the path alone, for any query) → the replies, in
    /// turn: the n-th request gets the n-th, the last repeats.
    pub replies: BTreeMap<String, Vec<Reply>>,
    /// Keys whose answer says GitHub has a next page (`Link: rel="next"`).
    pub more_pages: BTreeSet<String>,
}

impl Answers {
    /// `key` always answers `reply`.
    pub(super) fn with(mut self, key: &str, reply: Reply) -> Answers {
        self.replies.insert(key.to_string(), vec![reply]);
        self
    }
}

struct Served {
    answers: Answers,
    /// Requests per key so far, and every request's `path?query`.
    counts: Mutex<BTreeMap<String, usize>>,
    seen: Arc<Mutex<Vec<String>>>,
}

pub(super) struct Stub {
    url: String,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Stub {
    pub(super) async fn start(answers: Answers) -> Stub {
        let seen: Arc<Mutex<Vec<String>>> = Arc::default();
        let served = Arc::new(Served {
            answers,
            counts: Mutex::default(),
            seen: seen.clone(),
        });
        let router = Router::new().fallback(answer).with_state(served);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let url = format!("http://{}", listener.local_addr().expect("an address"));
        tokio::spawn(async move { axum::serve(listener, router).await });
        Stub { url, seen }
    }

    /// A client of `octo/app` with a personal token, retrying fast.
    pub(super) fn client(&self) -> RepoClient {
        self.client_reading_pages(100)
    }

    /// The same, reading at most `max_pages` pages of a list (its page
    /// cap: a list with more is cut).
    pub(super) fn client_reading_pages(&self, max_pages: usize) -> RepoClient {
        let options = ClientOptions {
            http: HttpOptions {
                request_timeout: Duration::from_secs(2),
                connect_timeout: Duration::from_secs(1),
                max_attempts: 2,
                backoff_base: Duration::from_millis(1),
                backoff_max: Duration::from_millis(5),
                max_wait: Duration::from_millis(100),
                server_second: Duration::from_millis(10),
                max_pages,
                ..HttpOptions::default()
            },
            ..ClientOptions::default()
        };
        let token = SecretString::from("pat");
        RepoClient::with_token_and_options(&self.url, token, "octo", "app", options)
            .expect("a client")
    }

    /// Every request's `path?query`, in order.
    pub(super) fn seen(&self) -> Vec<String> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

async fn answer(State(served): State<Arc<Served>>, uri: Uri) -> Response {
    let full = uri
        .path_and_query()
        .map_or_else(|| uri.path().to_string(), |p| p.as_str().to_string());
    if let Ok(mut seen) = served.seen.lock() {
        seen.push(full.clone());
    }
    let key = if served.answers.replies.contains_key(&full) {
        full.clone()
    } else {
        uri.path().to_string()
    };
    let Some(replies) = served.answers.replies.get(&key) else {
        let missing = serde_json::json!({ "message": "Not Found" });
        return (StatusCode::NOT_FOUND, axum::Json(missing)).into_response();
    };
    let n = match served.counts.lock() {
        Ok(mut counts) => {
            let count = counts.entry(key.clone()).or_default();
            *count += 1;
            *count - 1
        }
        Err(_) => 0,
    };
    let (status, body) = replies[n.min(replies.len() - 1)].clone();
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, axum::Json(body)).into_response();
    if served.answers.more_pages.contains(&key) {
        let next = format!("<{full}&page=2>; rel=\"next\"");
        if let Ok(value) = next.parse() {
            response.headers_mut().insert(header::LINK, value);
        }
    }
    response
}

/// The contents API's answer for a text file.
pub(super) fn file(text: &str) -> Reply {
    (
        200,
        serde_json::json!({
            "type": "file",
            "size": text.len(),
            "encoding": "base64",
            "content": base64::engine::general_purpose::STANDARD.encode(text),
        }),
    )
}

/// GitHub's refusal or failure with `status`.
pub(super) fn refused(status: u16) -> Reply {
    (
        status,
        serde_json::json!({ "message": "refused by the stub" }),
    )
}
