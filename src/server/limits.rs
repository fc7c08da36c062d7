//! Budgets every request gets before it is authenticated: what the public
//! webhook URL may cost anyone who can reach it.
//!
//! Connection-level limits (connections at once, the request head's size and
//! read time, idle keep-alive) are applied in [`super::listen`]; the
//! request-level ones (`X-GitHub-Delivery`/`X-GitHub-Event` shapes, body
//! size, body read time, body bytes held across all requests) by
//! [`guard_webhook`], which runs in front of `POST /webhook`. `docs/limits.md`
//! names each limit, its default and its environment variable.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt as _;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::metrics::Metrics;

/// GitHub caps webhook payloads at 25 MiB; anything larger is not GitHub's.
pub const MAX_BODY_BYTES: usize = 25 * 1024 * 1024;

/// A delivery GUID as GitHub writes it: `72d3162e-cc78-11e3-81ab-4c9367dc0958`.
pub const MAX_DELIVERY_ID_LEN: usize = 36;

/// GitHub's event names are short snake_case words
/// (`pull_request_review_thread` is among the longest).
pub const MAX_EVENT_NAME_LEN: usize = 64;

/// How much of a refused header value reaches the log.
pub const LOGGED_VALUE_LEN: usize = 40;

/// The limits, with their defaults. Each is a `serve` flag and an
/// environment variable (see `crate::config::LimitsArgs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// `MAX_CONNECTIONS`: TCP connections served at once; one more is answered
    /// 503 and closed.
    pub max_connections: usize,
    /// `HEADER_READ_TIMEOUT`: the whole request head (request line and
    /// headers) must arrive within this, counted from the connection's
    /// first byte wait, and from the moment a keep-alive connection goes
    /// idle, so it is the idle keep-alive timeout too.
    pub header_read_timeout: Duration,
    /// `MAX_REQUEST_HEAD_BYTES`: a connection's read buffer, which bounds the
    /// request head; a larger head is answered 431 by hyper. At least 8192.
    pub max_request_head_bytes: usize,
    /// `BODY_READ_TIMEOUT`: the whole body must arrive within this, counted
    /// from the end of the head; a slower one is answered 408.
    pub body_read_timeout: Duration,
    /// `BODY_BUDGET_BYTES`: body bytes held by all unanswered requests
    /// together (a body being assembled counts twice while it is copied into
    /// one piece); beyond it the request is answered 503 with `Retry-After`.
    pub body_budget_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_connections: 1024,
            header_read_timeout: Duration::from_secs(10),
            max_request_head_bytes: 32 * 1024,
            body_read_timeout: Duration::from_secs(30),
            body_budget_bytes: 64 * 1024 * 1024,
        }
    }
}

/// What the body budget shares between requests.
#[derive(Clone)]
pub struct BodyGuard {
    budget: Arc<Semaphore>,
    body_read_timeout: Duration,
    metrics: Arc<Metrics>,
}

impl BodyGuard {
    pub fn new(limits: &Limits, metrics: Arc<Metrics>) -> BodyGuard {
        BodyGuard {
            budget: Arc::new(Semaphore::new(
                limits.body_budget_bytes.min(Semaphore::MAX_PERMITS),
            )),
            body_read_timeout: limits.body_read_timeout,
            metrics,
        }
    }

    /// Counts a refusal; an oversized body also as the delivery outcome
    /// `too_large`, as before the limits existed.
    fn count(&self, refusal: Refusal, headers: &HeaderMap) {
        self.metrics.limit(refusal.label());
        if refusal == Refusal::BodyTooLarge {
            let event = headers
                .get("x-github-event")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("none");
            self.metrics.delivery(event, "too_large");
        }
    }

    /// Body bytes currently held against the budget (for tests and metrics).
    pub fn available(&self) -> usize {
        self.budget.available_permits()
    }
}

/// Why a request was refused before it reached the handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    DeliveryId,
    EventName,
    BodyTooLarge,
    BodyBudget,
    BodyTimeout,
    BodyUnreadable,
}

impl Refusal {
    /// The `limit` label of `hotfix_guard_limit_refusals_total`.
    pub fn label(self) -> &'static str {
        match self {
            Refusal::DeliveryId => "delivery_id",
            Refusal::EventName => "event_name",
            Refusal::BodyTooLarge => "body_size",
            Refusal::BodyBudget => "body_budget",
            Refusal::BodyTimeout => "body_read_timeout",
            Refusal::BodyUnreadable => "body_unreadable",
        }
    }

    fn answer(self) -> Response {
        let (status, reason) = match self {
            Refusal::DeliveryId => (
                StatusCode::BAD_REQUEST,
                "X-GitHub-Delivery is not a delivery GUID (at most 36 hex digits and dashes)\n",
            ),
            Refusal::EventName => (
                StatusCode::BAD_REQUEST,
                "X-GitHub-Event is not an event name (at most 64 lowercase letters and underscores)\n",
            ),
            Refusal::BodyTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload too large\n"),
            Refusal::BodyBudget => (
                StatusCode::SERVICE_UNAVAILABLE,
                "too many request bodies in flight; retry later\n",
            ),
            Refusal::BodyTimeout => (
                StatusCode::REQUEST_TIMEOUT,
                "request body not received in time\n",
            ),
            Refusal::BodyUnreadable => (StatusCode::BAD_REQUEST, "could not read the body\n"),
        };
        let mut response = (status, reason).into_response();
        let headers = response.headers_mut();
        if self == Refusal::BodyBudget {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        if matches!(
            self,
            Refusal::BodyTooLarge | Refusal::BodyBudget | Refusal::BodyTimeout
        ) {
            // The rest of the body is not read: the connection cannot carry
            // another request.
            headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

/// True for what GitHub sends as `X-GitHub-Delivery`: a GUID, so at most 36
/// characters, each a hex digit or a dash.
pub fn valid_delivery_id(id: &[u8]) -> bool {
    !id.is_empty()
        && id.len() <= MAX_DELIVERY_ID_LEN
        && id.iter().all(|b| b.is_ascii_hexdigit() || *b == b'-')
}

/// True for an `X-GitHub-Event` value of GitHub's shape: snake_case ASCII.
pub fn valid_event_name(name: &[u8]) -> bool {
    !name.is_empty()
        && name.len() <= MAX_EVENT_NAME_LEN
        && name
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_')
}

/// At most [`LOGGED_VALUE_LEN`] bytes of an untrusted header value, lossily
/// decoded, for a log line; the original length is logged beside it.
pub fn loggable(value: &[u8]) -> String {
    let cut = &value[..value.len().min(LOGGED_VALUE_LEN)];
    String::from_utf8_lossy(cut).into_owned()
}

/// The headers `POST /webhook` reads before the signature is checked; a
/// value of the wrong shape refuses the request before its body is read.
fn check_headers(headers: &HeaderMap) -> Result<(), Refusal> {
    if let Some(id) = headers.get("x-github-delivery")
        && !valid_delivery_id(id.as_bytes())
    {
        tracing::warn!(
            delivery = ?loggable(id.as_bytes()),
            len = id.len(),
            "X-GitHub-Delivery is not a GUID; delivery refused"
        );
        return Err(Refusal::DeliveryId);
    }
    if let Some(event) = headers.get("x-github-event")
        && !valid_event_name(event.as_bytes())
    {
        tracing::warn!(
            event = ?loggable(event.as_bytes()),
            len = event.len(),
            "X-GitHub-Event is not an event name; delivery refused"
        );
        return Err(Refusal::EventName);
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        tracing::warn!(
            declared,
            "Content-Length over {MAX_BODY_BYTES} bytes; delivery refused"
        );
        return Err(Refusal::BodyTooLarge);
    }
    Ok(())
}

/// Reads the whole body under the size cap and the shared budget: each
/// chunk is charged as it arrives (a `Content-Length` alone reserves
/// nothing), and the copy into one piece is charged before it is made. The
/// returned permit holds the body's bytes against the budget until dropped.
async fn read_body(
    body: Body,
    guard: &BodyGuard,
) -> Result<(Bytes, OwnedSemaphorePermit), Refusal> {
    let mut held = guard
        .budget
        .clone()
        .try_acquire_many_owned(0)
        .map_err(|_| Refusal::BodyBudget)?;
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut total = 0usize;
    let mut body = body;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| Refusal::BodyUnreadable)?;
        let Ok(chunk) = frame.into_data() else {
            continue; // trailers carry nothing the app reads
        };
        total += chunk.len();
        if total > MAX_BODY_BYTES {
            return Err(Refusal::BodyTooLarge);
        }
        held.merge(charge(guard, chunk.len())?);
        chunks.push(chunk);
    }
    if chunks.len() <= 1 {
        return Ok((chunks.pop().unwrap_or_default(), held));
    }
    // The copy exists beside the chunks until they are dropped.
    let whole = charge(guard, total)?;
    let mut joined = Vec::with_capacity(total);
    for chunk in chunks {
        joined.extend_from_slice(&chunk);
    }
    drop(held);
    Ok((Bytes::from(joined), whole))
}

fn charge(guard: &BodyGuard, bytes: usize) -> Result<OwnedSemaphorePermit, Refusal> {
    let n = u32::try_from(bytes).map_err(|_| Refusal::BodyBudget)?;
    guard
        .budget
        .clone()
        .try_acquire_many_owned(n)
        .map_err(|_| Refusal::BodyBudget)
}

/// Middleware in front of `POST /webhook`: header shapes, then the body
/// read within [`Limits::body_read_timeout`] under the size cap and the
/// budget. The handler gets the body in one piece; its bytes stay charged
/// to the budget until the handler has answered.
pub async fn guard_webhook(
    State(guard): State<BodyGuard>,
    request: Request,
    next: Next,
) -> Response {
    if let Err(refusal) = check_headers(request.headers()) {
        guard.count(refusal, request.headers());
        return refusal.answer();
    }
    let (parts, body) = request.into_parts();
    let read = tokio::time::timeout(guard.body_read_timeout, read_body(body, &guard)).await;
    let refusal = match read {
        Ok(Ok((bytes, permit))) => {
            let response = next
                .run(Request::from_parts(parts, Body::from(bytes)))
                .await;
            drop(permit);
            return response;
        }
        Ok(Err(refusal)) => refusal,
        Err(_elapsed) => Refusal::BodyTimeout,
    };
    guard.count(refusal, &parts.headers);
    tracing::warn!(
        limit = refusal.label(),
        "delivery refused while reading its body"
    );
    refusal.answer()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_ids_of_githubs_shape_pass() {
        for id in [
            "72d3162e-cc78-11e3-81ab-4c9367dc0958",
            "14D5F0E0-4A7C-11EF-8465-FADDA1832EA4",
            "d-1",
        ] {
            assert!(valid_delivery_id(id.as_bytes()), "{id}");
        }
        for id in [
            "",
            "72d3162e-cc78-11e3-81ab-4c9367dc09580",
            "delivery-1",
            "72d3162e cc78",
            "72d3162e\u{e9}",
        ] {
            assert!(!valid_delivery_id(id.as_bytes()), "{id}");
        }
    }

    #[test]
    fn event_names() {
        assert!(valid_event_name(b"pull_request_review_thread"));
        assert!(!valid_event_name(b"Pull-Request"));
        assert!(!valid_event_name(&[b'a'; 65]));
        assert!(!valid_event_name(b""));
    }

    #[test]
    fn logged_values_are_cut() {
        let long = vec![b'x'; 300_000];
        assert_eq!(loggable(&long).len(), LOGGED_VALUE_LEN);
        assert_eq!(loggable(b"\xff\xfeab"), "\u{fffd}\u{fffd}ab");
    }
}
