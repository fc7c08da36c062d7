//! The HTTP envelope around every answer: enterprise prefix, injected
//! failures and delays, authentication, conditional requests (ETag / 304),
//! rate-limit headers, and the request log. What each route answers is in
//! `routes`.

use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State as AxumState};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use jsonwebtoken::DecodingKey;
use serde_json::Value;

use super::APP_ID;
use super::auth;
use super::routes;
use super::shapes::{self, Ctx};
use super::state::{Recorded, State};

pub(super) struct Inner {
    pub state: Mutex<State>,
    /// `http://127.0.0.1:PORT`
    pub origin: String,
    /// "" or e.g. "/api/v3"
    pub prefix: String,
    pub app_key: DecodingKey,
}

impl Inner {
    pub fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking test thread must not take every later assertion with it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn ctx(&self) -> Ctx {
        Ctx {
            api: format!("{}{}", self.origin, self.prefix),
            web: self.origin.clone(),
        }
    }
}

pub(super) enum ReplyBody {
    Json(Value),
    Text(String),
    Empty,
}

/// What a route answers, before the envelope adds headers.
pub(super) struct Reply {
    pub status: u16,
    pub body: ReplyBody,
    pub headers: Vec<(String, String)>,
}

impl Reply {
    pub fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            body: ReplyBody::Json(body),
            headers: Vec::new(),
        }
    }

    pub fn ok(body: Value) -> Reply {
        Reply::json(200, body)
    }

    pub fn text(status: u16, body: String) -> Reply {
        Reply {
            status,
            body: ReplyBody::Text(body),
            headers: Vec::new(),
        }
    }

    pub fn error(status: u16, message: &str) -> Reply {
        Reply::json(status, shapes::error_body(status, message, None))
    }

    pub fn not_found() -> Reply {
        Reply::error(404, "Not Found")
    }

    pub fn invalid(errors: Vec<Value>) -> Reply {
        Reply::json(
            422,
            shapes::error_body(422, "Validation Failed", Some(errors)),
        )
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    pub fn with_link(self, link: Option<String>) -> Reply {
        match link {
            Some(link) => self.with_header("link", link),
            None => self,
        }
    }
}

/// A request as the routes see it.
pub(super) struct Req<'a> {
    pub method: &'a Method,
    /// Path after the prefix, as sent (still percent-encoded).
    pub raw_path: &'a str,
    /// Path segments, percent-decoded, empty ones dropped.
    pub segments: Vec<String>,
    pub query: Vec<(String, String)>,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

impl Req<'_> {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub(super) async fn dispatch(AxumState(inner): AxumState<Arc<Inner>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let path = parts.uri.path().to_string();
    let answering = super::in_flight::enter(&inner);
    if let Some(delay) = take_delay(&inner, parts.method.as_str(), &path) {
        tokio::time::sleep(delay).await;
    }
    let response = answer(&inner, &parts.method, &parts.uri, &parts.headers, &bytes);
    drop(answering);
    response
}

fn take_delay(inner: &Inner, method: &str, path: &str) -> Option<std::time::Duration> {
    let mut state = inner.lock();
    let delay = state.delays.iter_mut().find(|d| {
        d.remaining > 0
            && (d.method == "*" || d.method.eq_ignore_ascii_case(method))
            && path.contains(&d.path_contains)
    })?;
    delay.remaining -= 1;
    Some(delay.delay)
}

fn answer(
    inner: &Inner,
    method: &Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Response {
    let cx = inner.ctx();
    let full_path = uri.path();
    let raw_query = uri.query().unwrap_or("");
    let if_none_match = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let mut state = inner.lock();

    // With a prefix, GitHub Enterprise serves the API under it and only there.
    let path = if inner.prefix.is_empty() {
        Some(full_path)
    } else {
        full_path
            .strip_prefix(inner.prefix.as_str())
            .filter(|rest| rest.starts_with('/'))
    };
    let recorded_path = path.unwrap_or(full_path).to_string();
    let mut reply = match path {
        None => Reply::not_found(),
        Some(path) => {
            let req = Req {
                method,
                raw_path: path,
                segments: path
                    .split('/')
                    .filter(|s| !s.is_empty())
                    .map(percent_decode)
                    .collect(),
                query: parse_query(raw_query),
                headers,
                body,
            };
            respond(inner, &mut state, &cx, &req)
        }
    };

    // Conditional requests: a GET answered 200 carries a strong ETag of its
    // body; the same ETag in If-None-Match turns the answer into a bodiless
    // 304, which GitHub does not count against the rate limit.
    let mut body_bytes = match &reply.body {
        ReplyBody::Json(value) => serde_json::to_vec(value).unwrap_or_default(),
        ReplyBody::Text(text) => text.clone().into_bytes(),
        ReplyBody::Empty => Vec::new(),
    };
    if method == Method::GET && reply.status == 200 {
        let etag = format!("\"{}\"", shapes::sha256_hex(&body_bytes));
        if if_none_match
            .as_deref()
            .is_some_and(|inm| etag_matches(inm, &etag))
        {
            reply.status = 304;
            reply.body = ReplyBody::Empty;
            body_bytes.clear();
        }
        reply.headers.push(("etag".to_string(), etag));
    }

    let counted = reply.status != 304 && !is_token_issuance(method, &recorded_path);
    if counted {
        state.rate_used += 1;
    }
    let rate_headers = [
        ("x-ratelimit-limit", state.rate_limit.to_string()),
        (
            "x-ratelimit-remaining",
            state.rate_limit.saturating_sub(state.rate_used).to_string(),
        ),
        ("x-ratelimit-reset", state.rate_reset.to_string()),
        ("x-ratelimit-used", state.rate_used.to_string()),
        ("x-ratelimit-resource", "core".to_string()),
    ];
    for (name, value) in rate_headers {
        // An injected failure may set its own (e.g. remaining: 0).
        if !reply
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            reply.headers.push((name.to_string(), value));
        }
    }
    state.requests.push(Recorded {
        method: method.as_str().to_string(),
        path: recorded_path,
        query: raw_query.to_string(),
        status: reply.status,
        if_none_match: if_none_match.is_some(),
        body: String::from_utf8_lossy(body).into_owned(),
    });
    drop(state);
    into_response(reply, body_bytes)
}

fn respond(inner: &Inner, state: &mut State, cx: &Ctx, req: &Req<'_>) -> Reply {
    if let Some(reply) = injected_failure(state, req) {
        return reply;
    }
    let authorization = req.header("authorization");
    let refused = match req.segments.first().map(String::as_str) {
        Some("app-manifests") => Ok(()),
        Some("app") => auth::verify_app_jwt(&inner.app_key, APP_ID, authorization),
        _ => auth::verify_installation_token(state, authorization),
    };
    if let Err(auth::Refused(message)) = refused {
        return Reply::error(401, message);
    }
    routes::route(state, cx, req)
}

fn injected_failure(state: &mut State, req: &Req<'_>) -> Option<Reply> {
    let method = req.method.as_str();
    let failure = state.failures.iter_mut().find(|f| {
        f.remaining > 0
            && (f.method == "*" || f.method.eq_ignore_ascii_case(method))
            && req.raw_path.contains(&f.path_contains)
    })?;
    failure.remaining -= 1;
    let body = failure
        .body
        .clone()
        .unwrap_or_else(|| default_failure_body(failure.status, &failure.headers));
    let mut reply = Reply::json(failure.status, body);
    reply.headers.extend(failure.headers.iter().cloned());
    Some(reply)
}

/// The body GitHub sends with each kind of failure.
fn default_failure_body(status: u16, headers: &[(String, String)]) -> Value {
    let has = |name: &str, value: Option<&str>| {
        headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case(name) && value.is_none_or(|want| v == want))
    };
    let message = match status {
        401 => "Bad credentials",
        403 if has("x-ratelimit-remaining", Some("0")) => {
            "API rate limit exceeded for installation. If you reach out to GitHub Support for help, please include the request ID."
        }
        403 | 429 if has("retry-after", None) || status == 429 => {
            "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID."
        }
        403 => "Resource not accessible by integration",
        404 => "Not Found",
        409 => "Conflict",
        422 => {
            return shapes::error_body(422, "Validation Failed", Some(Vec::new()));
        }
        500 | 502 => "Server Error",
        503 => "Service Unavailable",
        _ => StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Error"),
    };
    shapes::error_body(status, message, None)
}

fn is_token_issuance(method: &Method, path: &str) -> bool {
    method == Method::POST
        && path.starts_with("/app/installations/")
        && path.ends_with("/access_tokens")
}

fn etag_matches(if_none_match: &str, etag: &str) -> bool {
    if_none_match.split(',').map(str::trim).any(|candidate| {
        candidate == "*" || candidate.strip_prefix("W/").unwrap_or(candidate) == etag
    })
}

fn into_response(reply: Reply, body: Vec<u8>) -> Response {
    let content_type = match reply.body {
        ReplyBody::Json(_) => Some("application/json; charset=utf-8"),
        ReplyBody::Text(_) => Some("text/plain; charset=utf-8"),
        ReplyBody::Empty => None,
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    if let Some(content_type) = content_type {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    headers.insert(
        HeaderName::from_static("x-github-media-type"),
        HeaderValue::from_static("github.v3; format=json"),
    );
    headers.insert(
        HeaderName::from_static("x-github-api-version-selected"),
        HeaderValue::from_static("2022-11-28"),
    );
    for (name, value) in reply.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            headers.insert(name, value);
        }
    }
    response
}

fn parse_query(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (form_decode(k), form_decode(v))
        })
        .collect()
}

fn form_decode(text: &str) -> String {
    percent_decode(&text.replace('+', " "))
}

pub(super) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let hex = |b: u8| char::from(b).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
