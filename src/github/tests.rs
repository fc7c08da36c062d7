//! The GitHub client against a small stub server on loopback: what goes over
//! the wire (paths with the Enterprise prefix, credentials, conditional
//! headers) and how answers (errors, rate limits, pages) are handled.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Response, Uri};
use chrono::Utc;
use secrecy::SecretString;
use serde_json::json;

use super::*;

const KEY: &str = include_str!("../../tests/fixtures/test-app-key.pem");
const PUBLIC_KEY: &str = include_str!("../../tests/fixtures/test-app-key.pub.pem");
const APP_ID: u64 = 123;

/// A request as the stub saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    /// Path and query.
    uri: String,
    headers: HeaderMap,
    body: String,
}

impl Seen {
    fn path(&self) -> &str {
        self.uri.split('?').next().unwrap_or("")
    }

    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
    delay: Duration,
}

impl Reply {
    fn json(status: u16, body: serde_json::Value) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string(),
            delay: Duration::ZERO,
        }
    }

    fn status(status: u16) -> Reply {
        Reply::json(status, json!({"message": format!("status {status}")}))
    }

    fn header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    fn after(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

/// Answers a request, given how many identical ones (method and URI) came
/// before it.
type Handler = Arc<dyn Fn(&Seen, usize) -> Reply + Send + Sync>;

#[derive(Clone)]
struct StubState {
    seen: Arc<Mutex<Vec<Seen>>>,
    handler: Handler,
}

struct Stub {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Stub {
    async fn start(handler: impl Fn(&Seen, usize) -> Reply + Send + Sync + 'static) -> Stub {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let state = StubState {
            seen: seen.clone(),
            handler: Arc::new(handler),
        };
        let router = Router::new().fallback(answer).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        Stub { addr, seen }
    }

    /// The Enterprise-style API base this stub serves.
    fn ghes_url(&self) -> String {
        format!("http://{}/api/v3", self.addr)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn count(&self, method: &str, path: &str) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.method == method && s.path() == path)
            .count()
    }
}

async fn answer(
    State(state): State<StubState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> Response<Body> {
    let seen = Seen {
        method,
        uri: uri
            .path_and_query()
            .map(|pq| pq.as_str().to_string())
            .unwrap_or_default(),
        headers,
        body,
    };
    let before = {
        let mut log = state.seen.lock().unwrap();
        let n = log
            .iter()
            .filter(|s| s.method == seen.method && s.uri == seen.uri)
            .count();
        log.push(seen.clone());
        n
    };
    let reply = (state.handler)(&seen, before);
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut response = Response::builder().status(reply.status);
    for (k, v) in reply.headers {
        response = response.header(k, v);
    }
    response.body(Body::from(reply.body)).unwrap()
}

/// The token endpoint under the `/api/v3` prefix: `tok-1`, `tok-2`, ...
/// valid for an hour.
fn token_reply(seen: &Seen, n: usize) -> Option<Reply> {
    let is_token = seen.method == Method::POST
        && seen.path().starts_with("/api/v3/app/installations/")
        && seen.path().ends_with("/access_tokens");
    is_token.then(|| {
        Reply::json(
            201,
            json!({"token": format!("tok-{}", n + 1),
                   "expires_at": (Utc::now() + chrono::Duration::hours(1)).to_rfc3339()}),
        )
    })
}

fn repo_json() -> serde_json::Value {
    json!({"full_name": "acme/widgets", "default_branch": "main", "private": true})
}

fn fast_options() -> ClientOptions {
    ClientOptions {
        http: HttpOptions {
            request_timeout: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(1),
            max_attempts: 4,
            backoff_base: Duration::from_millis(1),
            backoff_max: Duration::from_millis(5),
            max_wait: Duration::from_millis(500),
            server_second: Duration::from_millis(50),
            ..HttpOptions::default()
        },
        ..ClientOptions::default()
    }
}

fn app_for(stub: &Stub, opts: ClientOptions) -> GitHubApp {
    let cfg = AppConfig {
        api_url: stub.ghes_url(),
        app_id: APP_ID,
        private_key_pem: SecretString::from(KEY),
    };
    GitHubApp::with_options(&cfg, opts).unwrap()
}

async fn repo_for(stub: &Stub) -> RepoClient {
    app_for(stub, fast_options())
        .installation(42)
        .await
        .unwrap()
        .repo("acme", "widgets")
}

#[derive(serde::Deserialize)]
struct Claims {
    iss: u64,
    iat: u64,
    exp: u64,
}

#[tokio::test]
async fn uses_the_enterprise_prefix_and_an_rs256_app_jwt() {
    let stub = Stub::start(|seen, n| {
        if let Some(reply) = token_reply(seen, n) {
            return reply;
        }
        match seen.path() {
            "/api/v3/repos/acme/widgets" => Reply::json(200, repo_json()),
            _ => Reply::status(404),
        }
    })
    .await;
    let repo = repo_for(&stub).await;
    let info = repo.get_repo().await.unwrap();
    assert_eq!(info.default_branch, "main");
    assert!(info.private);

    let seen = stub.seen();
    let mint = &seen[0];
    assert_eq!(mint.path(), "/api/v3/app/installations/42/access_tokens");
    let jwt = mint
        .header("authorization")
        .unwrap()
        .strip_prefix("Bearer ")
        .unwrap()
        .to_string();
    let header = jsonwebtoken::decode_header(&jwt).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(PUBLIC_KEY.as_bytes()).unwrap();
    let claims = jsonwebtoken::decode::<Claims>(
        &jwt,
        &key,
        &jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256),
    )
    .unwrap()
    .claims;
    assert_eq!(claims.iss, APP_ID);
    assert!(
        claims.exp - claims.iat <= 600,
        "GitHub refuses JWTs over 10 minutes"
    );

    let get = &seen[1];
    assert_eq!(get.uri, "/api/v3/repos/acme/widgets");
    assert_eq!(get.header("authorization").as_deref(), Some("Bearer tok-1"));
    assert_eq!(
        get.header("accept").as_deref(),
        Some("application/vnd.github+json")
    );
}

#[tokio::test]
async fn a_base_url_with_a_trailing_slash_is_joined_without_doubling_it() {
    let stub = Stub::start(|seen, _| match seen.path() {
        "/api/v3/repos/acme/widgets" => Reply::json(200, repo_json()),
        _ => Reply::status(404),
    })
    .await;
    let repo = RepoClient::with_token_and_options(
        &format!("{}/", stub.ghes_url()),
        SecretString::from("pat"),
        "acme",
        "widgets",
        fast_options(),
    )
    .unwrap();
    repo.get_repo().await.unwrap();
    let seen = stub.seen();
    assert_eq!(seen[0].uri, "/api/v3/repos/acme/widgets");
    assert_eq!(
        seen[0].header("authorization").as_deref(),
        Some("Bearer pat")
    );
}

#[tokio::test]
async fn many_deliveries_for_one_installation_mint_one_token() {
    let stub = Stub::start(|seen, n| {
        if let Some(reply) = token_reply(seen, n) {
            // Slow, so that the callers really overlap.
            return reply.after(Duration::from_millis(100));
        }
        Reply::json(200, repo_json())
    })
    .await;
    let app = app_for(&stub, fast_options());
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let app = app.clone();
        tasks.spawn(async move {
            let repo = app.installation(42).await.unwrap().repo("acme", "widgets");
            repo.get_repo().await.unwrap();
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    assert_eq!(
        stub.count("POST", "/api/v3/app/installations/42/access_tokens"),
        1
    );
    let auths: Vec<_> = stub
        .seen()
        .iter()
        .filter(|s| s.method == Method::GET)
        .map(|s| s.header("authorization").unwrap())
        .collect();
    assert_eq!(auths.len(), 10);
    assert!(auths.iter().all(|a| a == "Bearer tok-1"));

    // Another installation gets its own token.
    app.installation(7).await.unwrap();
    assert_eq!(
        stub.count("POST", "/api/v3/app/installations/7/access_tokens"),
        1
    );
}

#[tokio::test]
async fn a_token_close_to_expiry_is_renewed_before_use() {
    let stub = Stub::start(|seen, n| {
        if seen.path().ends_with("/access_tokens") {
            // The first token has 4 minutes left: inside the 5-minute margin.
            let left = if n == 0 {
                chrono::Duration::minutes(4)
            } else {
                chrono::Duration::minutes(60)
            };
            return Reply::json(
                201,
                json!({"token": format!("tok-{}", n + 1),
                       "expires_at": (Utc::now() + left).to_rfc3339()}),
            );
        }
        Reply::json(200, repo_json())
    })
    .await;
    let repo = repo_for(&stub).await;
    for _ in 0..3 {
        repo.get_repo().await.unwrap();
    }
    let auths: Vec<_> = stub
        .seen()
        .iter()
        .filter(|s| s.method == Method::GET)
        .map(|s| s.header("authorization").unwrap())
        .collect();
    assert_eq!(auths, vec!["Bearer tok-2", "Bearer tok-2", "Bearer tok-2"]);
    assert_eq!(
        stub.count("POST", "/api/v3/app/installations/42/access_tokens"),
        2
    );
}

#[tokio::test]
async fn a_refused_installation_token_is_minted_again_once() {
    let stub = Stub::start(|seen, n| {
        if let Some(reply) = token_reply(seen, n) {
            return reply;
        }
        if seen.header("authorization").as_deref() == Some("Bearer tok-1") {
            Reply::status(401)
        } else {
            Reply::json(200, repo_json())
        }
    })
    .await;
    let repo = repo_for(&stub).await;
    repo.get_repo().await.unwrap();
    assert_eq!(
        stub.count("POST", "/api/v3/app/installations/42/access_tokens"),
        2
    );
}

#[tokio::test]
async fn a_502_then_a_200_succeeds_after_one_retry() {
    let stub = Stub::start(|seen, n| {
        if let Some(reply) = token_reply(seen, n) {
            return reply;
        }
        if n == 0 {
            Reply::status(502)
        } else {
            Reply::json(
                200,
                json!([{"event": "reviewed", "id": 1, "user": {"login": "bob"}, "state": "approved"}]),
            )
        }
    })
    .await;
    let repo = repo_for(&stub).await;
    let reviews = repo.timeline(5).await.unwrap().reviews;
    assert_eq!(reviews.len(), 1);
    assert_eq!(reviews[0].user, "bob");
    assert_eq!(
        stub.count("GET", "/api/v3/repos/acme/widgets/issues/5/timeline"),
        2
    );
    let stats = repo.stats().snapshot();
    let route = "GET /repos/{owner}/{repo}/issues/{n}/timeline".to_string();
    assert!(stats.contains(&(route.clone(), 502, 1)), "{stats:?}");
    assert!(stats.contains(&(route, 200, 1)), "{stats:?}");
}

#[tokio::test]
async fn a_server_that_keeps_failing_is_reported_after_the_last_attempt() {
    let stub =
        Stub::start(|seen, n| token_reply(seen, n).unwrap_or_else(|| Reply::status(502))).await;
    let repo = repo_for(&stub).await;
    let err = repo.timeline(5).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Server { status: 502 });
    assert_eq!(
        err.to_string(),
        "GitHub answered 502 to GET /repos/{owner}/{repo}/issues/{n}/timeline after 4 attempts"
    );
    assert_eq!(
        stub.count("GET", "/api/v3/repos/acme/widgets/issues/5/timeline"),
        4
    );
}

#[tokio::test]
async fn a_429_with_retry_after_waits_then_succeeds() {
    let stub = Stub::start(|seen, n| {
        if let Some(reply) = token_reply(seen, n) {
            return reply;
        }
        if n == 0 {
            Reply::status(429).header("retry-after", "2")
        } else {
            Reply::json(200, repo_json())
        }
    })
    .await;
    let repo = repo_for(&stub).await;
    let started = Instant::now();
    repo.get_repo().await.unwrap();
    let waited = started.elapsed();
    // Two "GitHub seconds" of 50 ms each.
    assert!(
        waited >= Duration::from_millis(100),
        "waited only {waited:?}"
    );
    assert!(waited < Duration::from_millis(1500), "waited {waited:?}");
}

#[tokio::test]
async fn a_rate_limit_longer_than_the_cap_gives_up_at_once() {
    let stub = Stub::start(|seen, n| {
        if let Some(reply) = token_reply(seen, n) {
            return reply;
        }
        // Primary limit exhausted, reset in an hour.
        let reset = Utc::now().timestamp() + 3600;
        Reply::status(403)
            .header("x-ratelimit-remaining", "0")
            .header("x-ratelimit-reset", reset.to_string())
    })
    .await;
    let repo = repo_for(&stub).await;
    let started = Instant::now();
    let err = repo.get_repo().await.unwrap_err();
    assert!(started.elapsed() < Duration::from_millis(500));
    match err.kind {
        ErrorKind::RateLimited {
            retry_after: Some(wait),
        } => assert!(wait >= Duration::from_secs(3500), "{wait:?}"),
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert_eq!(stub.count("GET", "/api/v3/repos/acme/widgets"), 1);
    assert_eq!(repo.stats().rate_limit_remaining(), vec![(42, 0)]);
}

#[tokio::test]
async fn final_client_errors_are_not_retried() {
    let stub = Stub::start(|seen, n| {
        if let Some(reply) = token_reply(seen, n) {
            return reply;
        }
        match seen.path() {
            "/api/v3/repos/acme/widgets/pulls/404" => Reply::status(404),
            _ => Reply::json(
                403,
                json!({"message": "Resource not accessible by integration"}),
            )
            .header("x-ratelimit-remaining", "4999"),
        }
    })
    .await;
    let repo = repo_for(&stub).await;
    let err = repo.get_pull(404).await.unwrap_err();
    assert!(err.is_not_found());
    assert_eq!(stub.count("GET", "/api/v3/repos/acme/widgets/pulls/404"), 1);

    let err = repo.get_pull(1).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Forbidden);
    assert_eq!(stub.count("GET", "/api/v3/repos/acme/widgets/pulls/1"), 1);
}

#[tokio::test]
async fn a_304_is_served_from_the_etag_cache() {
    let stub = Stub::start(|seen, n| {
        if let Some(reply) = token_reply(seen, n) {
            return reply;
        }
        if seen.header("if-none-match").as_deref() == Some("\"v1\"") {
            return Reply {
                status: 304,
                headers: vec![],
                body: String::new(),
                delay: Duration::ZERO,
            };
        }
        Reply::json(
            200,
            json!([{"filename": "VERSION", "additions": 1, "deletions": 1, "status": "modified"}]),
        )
        .header("etag", "\"v1\"")
    })
    .await;
    let repo = repo_for(&stub).await;
    let first = repo.list_pull_files(3).await.unwrap();
    let second = repo.list_pull_files(3).await.unwrap();
    assert_eq!(first, second);
    assert_eq!(second[0].filename, "VERSION");
    let gets: Vec<_> = stub
        .seen()
        .into_iter()
        .filter(|s| s.method == Method::GET)
        .collect();
    assert_eq!(gets.len(), 2);
    assert_eq!(gets[0].header("if-none-match"), None);
    assert_eq!(gets[1].header("if-none-match").as_deref(), Some("\"v1\""));
    let stats = repo.stats().snapshot();
    assert!(stats.contains(&(
        "GET /repos/{owner}/{repo}/pulls/{n}/files".to_string(),
        304,
        1
    )));
}

#[tokio::test]
async fn pagination_follows_next_links_under_the_prefix() {
    let stub = Arc::new(Mutex::new(None::<SocketAddr>));
    let addr_cell = stub.clone();
    let server = Stub::start(move |seen, n| {
        if let Some(reply) = token_reply(seen, n) {
            return reply;
        }
        let addr = addr_cell.lock().unwrap().unwrap();
        let comment = |id: u64| json!({"id": id, "user": {"login": "u"}, "body": format!("c{id}")});
        match seen.uri.as_str() {
            "/api/v3/repos/acme/widgets/issues/9/comments?per_page=100" => {
                Reply::json(200, json!([comment(1), comment(2)])).header(
                    "link",
                    format!(
                        "<http://{addr}/api/v3/repositories/77/issues/9/comments?per_page=100&page=2>; rel=\"next\", \
                         <http://{addr}/api/v3/repositories/77/issues/9/comments?per_page=100&page=2>; rel=\"last\""
                    ),
                )
            }
            "/api/v3/repositories/77/issues/9/comments?per_page=100&page=2" => {
                Reply::json(200, json!([comment(3)])).header(
                    "link",
                    format!(
                        "<http://{addr}/api/v3/repositories/77/issues/9/comments?per_page=100&page=1>; rel=\"prev\""
                    ),
                )
            }
            "/api/v3/repos/acme/widgets/issues/10/comments?per_page=100" => {
                Reply::json(200, json!([comment(1)])).header(
                    "link",
                    "<http://evil.example/steal?page=2>; rel=\"next\"",
                )
            }
            _ => Reply::status(404),
        }
    })
    .await;
    *stub.lock().unwrap() = Some(server.addr);
    let repo = repo_for(&server).await;
    let comments = repo.list_issue_comments(9).await.unwrap();
    let ids: Vec<u64> = comments.iter().map(|c| c.id).collect();
    assert_eq!(ids, vec![1, 2, 3]);
    assert_eq!(comments[2].body, "c3");

    // A next link to another host would carry our token there: refused.
    let err = repo.list_issue_comments(10).await.unwrap_err();
    assert!(matches!(err.kind, ErrorKind::Decode(_)), "{err}");
    assert!(server.seen().iter().all(|s| !s.uri.contains("steal")));
}

#[tokio::test]
async fn missing_optional_fields_do_not_break_decoding() {
    let stub = Stub::start(|seen, n| {
        if let Some(reply) = token_reply(seen, n) {
            return reply;
        }
        match seen.path() {
            // No draft, merged, labels, dates, html_url; a deleted fork.
            "/api/v3/repos/acme/widgets/pulls/2" => Reply::json(
                200,
                json!({"number": 2, "title": "fix: a", "state": "open",
                       "user": {"login": "dev"},
                       "head": {"ref": "hotfix/a", "sha": "h1", "repo": null},
                       "base": {"ref": "main", "sha": "b1",
                                "repo": {"full_name": "acme/widgets", "default_branch": "main"}}}),
            ),
            "/api/v3/repos/acme/widgets/issues/2/timeline" => Reply::json(
                200,
                json!([{"event": "labeled", "actor": null, "label": {"name": "P0"},
                        "created_at": "2024-05-01T10:00:00Z"},
                       {"event": "head_ref_force_pushed"},
                       {"event": "unlabeled", "label": {"name": "P1"}}]),
            ),
            _ => Reply::status(404),
        }
    })
    .await;
    let repo = repo_for(&stub).await;
    let pull = repo.get_pull(2).await.unwrap();
    assert_eq!(pull.author(), "dev");
    assert_eq!(pull.head.sha, "h1");
    assert_eq!(pull.head.repo, None, "a deleted fork");
    // Which branch a merge changes the policy in force on (`engine::merged`).
    let base_repo = pull.base.repo.as_ref().expect("the base repository");
    assert_eq!(base_repo.default_branch.as_deref(), Some("main"));
    assert!(!pull.is_merged() && !pull.draft && pull.labels.is_empty());
    let events = repo.timeline(2).await.unwrap().label_events;
    assert_eq!(events.len(), 2, "the force-push is not a label event");
    assert_eq!(events[0].label.as_deref(), Some("P0"));
    assert_eq!(events[0].actor, None);
    assert_eq!(events[1].created_at, None);
}

#[tokio::test]
async fn reads_files_small_large_missing_and_refuses_directories() {
    use base64::Engine as _;
    let stub = Stub::start(|seen, n| {
        if let Some(reply) = token_reply(seen, n) {
            return reply;
        }
        let raw = seen.header("accept").as_deref() == Some("application/vnd.github.raw+json");
        match (seen.uri.as_str(), raw) {
            ("/api/v3/repos/acme/widgets/contents/.github/hotfix-policy.yml?ref=main", false) => {
                let encoded = base64::engine::general_purpose::STANDARD.encode("version: 1\n");
                // GitHub wraps base64 at 60 characters.
                let wrapped = format!("{}\n{}", &encoded[..8], &encoded[8..]);
                Reply::json(
                    200,
                    json!({"type": "file", "encoding": "base64", "content": wrapped, "size": 11}),
                )
            }
            // Not inline although under the limit: read raw.
            ("/api/v3/repos/acme/widgets/contents/big.txt?ref=hotfix%2Fx", false) => Reply::json(
                200,
                json!({"type": "file", "encoding": "none", "content": "", "size": 999_999}),
            ),
            // Over the limit: its `size` decides; the raw read would fail.
            ("/api/v3/repos/acme/widgets/contents/huge.txt?ref=hotfix%2Fx", false) => Reply::json(
                200,
                json!({"type": "file", "encoding": "none", "content": "", "size": 2_000_000}),
            ),
            ("/api/v3/repos/acme/widgets/contents/huge.txt?ref=hotfix%2Fx", true) => {
                Reply::status(500)
            }
            // The branch moved between the two reads: the bytes decide.
            ("/api/v3/repos/acme/widgets/contents/moved.txt?ref=hotfix%2Fx", false) => Reply::json(
                200,
                json!({"type": "file", "encoding": "none", "content": "", "size": 10}),
            ),
            ("/api/v3/repos/acme/widgets/contents/moved.txt?ref=hotfix%2Fx", true) => Reply {
                status: 200,
                headers: vec![],
                body: "x".repeat(1_000_001),
                delay: Duration::ZERO,
            },
            ("/api/v3/repos/acme/widgets/contents/big.txt?ref=hotfix%2Fx", true) => Reply {
                status: 200,
                headers: vec![],
                body: "large body".into(),
                delay: Duration::ZERO,
            },
            ("/api/v3/repos/acme/widgets/contents/src?ref=main", false) => {
                Reply::json(200, json!([{"type": "file", "name": "a.rs"}]))
            }
            _ => Reply::status(404),
        }
    })
    .await;
    let repo = repo_for(&stub).await;
    assert_eq!(
        repo.get_file(".github/hotfix-policy.yml", Some("main"))
            .await
            .unwrap()
            .as_deref(),
        Some("version: 1\n")
    );
    assert_eq!(
        repo.get_file("big.txt", Some("hotfix/x"))
            .await
            .unwrap()
            .as_deref(),
        Some("large body")
    );
    assert_eq!(
        repo.read_file("huge.txt", Some("hotfix/x")).await.unwrap(),
        crate::github::FileRead::NotText(crate::github::NotText::TooLarge { bytes: 2_000_000 })
    );
    assert_eq!(
        repo.read_file("moved.txt", Some("hotfix/x")).await.unwrap(),
        crate::github::FileRead::NotText(crate::github::NotText::TooLarge { bytes: 1_000_001 })
    );
    let err = repo
        .get_file("huge.txt", Some("hotfix/x"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("2000000 bytes"), "{err}");
    assert_eq!(repo.get_file("VERSION", Some("main")).await.unwrap(), None);
    let err = repo.get_file("src", Some("main")).await.unwrap_err();
    assert!(err.to_string().contains("directory"), "{err}");
}

#[tokio::test]
async fn check_runs_send_annotations_fifty_at_a_time() {
    let stub = Stub::start(|seen, n| {
        if let Some(reply) = token_reply(seen, n) {
            return reply;
        }
        let run = json!({"id": 555, "name": "hotfix-policy", "head_sha": "abc",
                         "status": "completed", "conclusion": "failure", "app": {"id": APP_ID}});
        match (seen.method.as_str(), seen.path()) {
            ("POST", "/api/v3/repos/acme/widgets/check-runs") => Reply::json(201, run),
            ("PATCH", "/api/v3/repos/acme/widgets/check-runs/555") => Reply::json(200, run),
            ("GET", "/api/v3/repos/acme/widgets/commits/abc/check-runs") => Reply::json(
                200,
                json!({"total_count": 3, "check_runs": [
                    {"id": 10, "name": "hotfix-policy", "head_sha": "abc", "status": "completed", "app": {"id": 999}},
                    {"id": 11, "name": "hotfix-policy", "head_sha": "abc", "status": "completed", "app": {"id": APP_ID},
                     "output": {"title": "ok", "summary": "all good"}},
                    {"id": 9, "name": "hotfix-policy", "head_sha": "abc", "status": "queued", "app": {"id": APP_ID}}
                ]}),
            ),
            _ => Reply::status(404),
        }
    })
    .await;
    let repo = repo_for(&stub).await;
    let annotation = |i: u32| Annotation {
        path: "VERSION".into(),
        start_line: i,
        end_line: i,
        start_column: None,
        end_column: None,
        annotation_level: AnnotationLevel::Warning,
        message: format!("note {i}"),
        title: None,
        raw_details: None,
    };
    let run = NewCheckRun {
        name: "hotfix-policy".into(),
        head_sha: "abc".into(),
        status: None,
        conclusion: Some(CheckConclusion::Failure),
        completed_at: None,
        details_url: None,
        external_id: Some("acme/widgets#5".into()),
        output: Some(CheckOutput {
            title: "needs approval".into(),
            summary: "s".into(),
            text: Some("t".into()),
            annotations: (1..=120).map(annotation).collect(),
        }),
        actions: vec![],
    };
    let created = repo.create_check_run(&run).await.unwrap();
    assert_eq!(created.id, 555);
    let writes: Vec<Seen> = stub
        .seen()
        .into_iter()
        .filter(|s| s.method != Method::GET && s.path().contains("check-runs"))
        .collect();
    let counts: Vec<usize> = writes
        .iter()
        .map(|s| s.json()["output"]["annotations"].as_array().unwrap().len())
        .collect();
    assert_eq!(counts, vec![50, 50, 20]);
    assert_eq!(writes[0].json()["conclusion"], "failure");
    assert_eq!(writes[0].json()["external_id"], "acme/widgets#5");
    assert_eq!(writes[2].json()["output"]["title"], "needs approval");
    assert_eq!(
        writes[2].json()["output"]["annotations"][19]["message"],
        "note 120"
    );

    let found = repo
        .find_check_run("abc", "hotfix-policy")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, 11, "newest of our app's runs");
    assert_eq!(found.output_summary.as_deref(), Some("all good"));
    let query = stub
        .seen()
        .into_iter()
        .find(|s| s.method == Method::GET && s.path().ends_with("/check-runs"))
        .unwrap()
        .uri;
    assert!(query.contains("check_name=hotfix-policy"), "{query}");

    let update = CheckRunUpdate {
        conclusion: Some(CheckConclusion::Success),
        ..CheckRunUpdate::default()
    };
    repo.update_check_run(555, &update).await.unwrap();
    let last = stub.seen().pop().unwrap();
    assert_eq!(last.json(), json!({"conclusion": "success"}));
}

#[tokio::test]
async fn writes_refs_pulls_labels_issues_and_comments() {
    let stub = Stub::start(|seen, n| {
        if let Some(reply) = token_reply(seen, n) {
            return reply;
        }
        match (seen.method.as_str(), seen.path()) {
            ("POST", "/api/v3/repos/acme/widgets/git/refs") => {
                if seen.json()["ref"] == "refs/tags/v1.0.1" {
                    Reply::json(422, json!({"message": "Reference already exists"}))
                } else {
                    Reply::json(201, json!({"ref": "refs/heads/merge-back/1.0.1"}))
                }
            }
            ("POST", "/api/v3/repos/acme/widgets/pulls") => Reply::json(
                201,
                json!({"number": 12, "title": seen.json()["title"], "state": "open",
                       "head": {"ref": "merge-back/1.0.1", "sha": "s"}, "base": {"ref": "develop", "sha": "d"}}),
            ),
            ("POST", "/api/v3/repos/acme/widgets/issues/12/labels") => {
                Reply::json(200, json!([{"name": "hotfix"}]))
            }
            ("POST", "/api/v3/repos/acme/widgets/issues") => Reply::json(
                201,
                json!({"number": 13, "html_url": "https://ghe/acme/widgets/issues/13"}),
            ),
            ("POST", "/api/v3/repos/acme/widgets/issues/12/comments") => Reply::json(
                201,
                json!({"id": 900, "user": {"login": "hotfix-guard[bot]"}, "body": seen.json()["body"]}),
            ),
            ("PATCH", "/api/v3/repos/acme/widgets/issues/comments/900") => {
                Reply::json(200, json!({"id": 900, "body": seen.json()["body"]}))
            }
            _ => Reply::status(404),
        }
    })
    .await;
    let repo = repo_for(&stub).await;
    repo.create_ref("refs/heads/merge-back/1.0.1", "abc")
        .await
        .unwrap();
    let err = repo
        .create_ref("refs/tags/v1.0.1", "abc")
        .await
        .unwrap_err();
    assert!(err.is_already_exists(), "{err}");
    assert_eq!(stub.count("POST", "/api/v3/repos/acme/widgets/git/refs"), 2);

    let pull = repo
        .create_pull(
            "chore: merge back 1.0.1",
            "merge-back/1.0.1",
            "develop",
            "body",
        )
        .await
        .unwrap();
    assert_eq!(pull.number, 12);
    assert_eq!(pull.base.ref_name, "develop");
    repo.add_labels(12, &["hotfix".to_string()]).await.unwrap();
    let issue = repo
        .create_issue(
            "Post-incident review",
            "b",
            &["hotfix".into()],
            &["alice".into()],
        )
        .await
        .unwrap();
    assert_eq!(issue.number, 13);
    let comment = repo
        .create_comment(12, "<!-- hotfix-guard -->\nhi")
        .await
        .unwrap();
    assert_eq!(comment.id, 900);
    let edited = repo
        .update_comment(900, "<!-- hotfix-guard -->\nbye")
        .await
        .unwrap();
    assert!(edited.body.ends_with("bye"));

    let bodies: Vec<serde_json::Value> = stub
        .seen()
        .iter()
        .filter(|s| s.method != Method::GET && !s.path().ends_with("access_tokens"))
        .map(Seen::json)
        .collect();
    assert_eq!(bodies[3]["labels"], json!(["hotfix"]));
    assert_eq!(bodies[4]["assignees"], json!(["alice"]));
}

#[tokio::test]
async fn memberships_and_permissions_are_remembered_per_installation() {
    let stub = Stub::start(|seen, n| {
        if let Some(reply) = token_reply(seen, n) {
            return reply;
        }
        match seen.path() {
            "/api/v3/orgs/acme/teams/eng-leads/memberships/alice" => {
                Reply::json(200, json!({"state": "active", "role": "member"}))
            }
            "/api/v3/orgs/acme/teams/eng-leads/memberships/pat" => {
                Reply::json(200, json!({"state": "pending", "role": "member"}))
            }
            "/api/v3/repos/acme/widgets/collaborators/bob/permission" => {
                Reply::json(200, json!({"permission": "write", "role_name": "maintain"}))
            }
            _ => Reply::status(404),
        }
    })
    .await;
    let repo = repo_for(&stub).await;
    assert!(
        repo.team_membership("acme", "eng-leads", "alice")
            .await
            .unwrap()
    );
    assert!(
        repo.team_membership("Acme", "eng-leads", "Alice")
            .await
            .unwrap()
    );
    assert!(
        !repo
            .team_membership("acme", "eng-leads", "pat")
            .await
            .unwrap()
    );
    assert!(
        !repo
            .team_membership("acme", "eng-leads", "mallory")
            .await
            .unwrap()
    );
    assert!(
        !repo
            .team_membership("acme", "eng-leads", "mallory")
            .await
            .unwrap()
    );
    assert_eq!(
        stub.count("GET", "/api/v3/orgs/acme/teams/eng-leads/memberships/alice"),
        1
    );
    assert_eq!(
        stub.count(
            "GET",
            "/api/v3/orgs/acme/teams/eng-leads/memberships/mallory"
        ),
        1
    );
    assert_eq!(repo.collaborator_permission("bob").await.unwrap(), "write");
    assert_eq!(repo.collaborator_permission("bob").await.unwrap(), "write");
    assert_eq!(repo.collaborator_permission("eve").await.unwrap(), "none");
    assert_eq!(
        stub.count(
            "GET",
            "/api/v3/repos/acme/widgets/collaborators/bob/permission"
        ),
        1
    );
}

#[tokio::test]
async fn branches_tags_compare_and_pull_lists() {
    let stub = Stub::start(|seen, n| {
        if let Some(reply) = token_reply(seen, n) {
            return reply;
        }
        match seen.uri.as_str() {
            "/api/v3/repos/acme/widgets/branches/release/1.0" => Reply::json(
                200,
                json!({"name": "release/1.0", "commit": {"sha": "r1"}, "protected": true}),
            ),
            "/api/v3/repos/acme/widgets/git/ref/tags/v1.0.0" => Reply::json(
                200,
                json!({"ref": "refs/tags/v1.0.0", "object": {"sha": "t1", "type": "commit"}}),
            ),
            "/api/v3/repos/acme/widgets/compare/develop...main?per_page=1" => Reply::json(
                200,
                json!({"status": "ahead", "ahead_by": 2, "behind_by": 0}),
            ),
            "/api/v3/repos/acme/widgets/pulls?state=all&head=acme%3Amerge-back%2F1.0.1&base=develop&per_page=100" => {
                Reply::json(200, json!([{"number": 4, "state": "closed", "merged_at": "2024-05-02T00:00:00Z"}]))
            }
            _ => Reply::status(404),
        }
    })
    .await;
    let repo = repo_for(&stub).await;
    let branch = repo.get_branch("release/1.0").await.unwrap().unwrap();
    assert_eq!((branch.sha.as_str(), branch.protected), ("r1", true));
    assert_eq!(repo.get_branch("develop").await.unwrap(), None);
    assert_eq!(
        repo.tag_exists("v1.0.0").await.unwrap().as_deref(),
        Some("t1")
    );
    assert_eq!(repo.tag_exists("v9").await.unwrap(), None);
    let cmp = repo.compare("develop", "main").await.unwrap();
    assert_eq!((cmp.status.as_str(), cmp.ahead_by), ("ahead", 2));
    let pulls = repo
        .list_pulls(Some("acme:merge-back/1.0.1"), Some("develop"), "all")
        .await
        .unwrap();
    assert_eq!(pulls.len(), 1);
    assert!(pulls[0].is_merged());
}

#[tokio::test]
async fn app_calls_use_the_jwt() {
    let stub = Stub::start(|seen, _| match (seen.method.as_str(), seen.path()) {
        ("GET", "/api/v3/app/installations") => Reply::json(
            200,
            json!([{"id": 42, "account": {"login": "acme"}, "suspended_at": null}]),
        ),
        ("GET", "/api/v3/app/hook/deliveries") => Reply::json(
            200,
            json!([{"id": 1, "guid": "g1", "status_code": 502, "event": "pull_request",
                    "action": "opened", "installation_id": 42, "redelivery": false},
                   {"id": 2, "guid": "g2", "status_code": 202, "event": "push"}]),
        ),
        ("POST", "/api/v3/app/hook/deliveries/1/attempts") => Reply::json(202, json!({})),
        _ => Reply::status(404),
    })
    .await;
    let app = app_for(&stub, fast_options());
    let client = app.app_client();
    let installs = client.list_installations().await.unwrap();
    assert_eq!(installs[0].account, "acme");
    assert!(!installs[0].suspended);
    let deliveries = client.list_hook_deliveries(1).await.unwrap();
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0].status_code, 502);
    client.redeliver(1).await.unwrap();
    for seen in stub.seen() {
        let auth = seen.header("authorization").unwrap();
        assert!(auth.starts_with("Bearer ey"), "a JWT, got {auth}");
    }
}

#[tokio::test]
async fn a_silent_server_times_out_each_attempt() {
    let stub = Stub::start(|seen, n| {
        token_reply(seen, n)
            .unwrap_or_else(|| Reply::json(200, repo_json()).after(Duration::from_millis(500)))
    })
    .await;
    let mut opts = fast_options();
    opts.http.request_timeout = Duration::from_millis(50);
    opts.http.max_attempts = 2;
    let repo = app_for(&stub, opts)
        .installation(42)
        .await
        .unwrap()
        .repo("acme", "widgets");
    let started = Instant::now();
    let err = repo.get_repo().await.unwrap_err();
    assert!(matches!(err.kind, ErrorKind::Transport(_)), "{err}");
    assert_eq!(err.attempts, 2);
    assert!(started.elapsed() < Duration::from_millis(450));
    let stats = repo.stats().snapshot();
    assert!(stats.contains(&("GET /repos/{owner}/{repo}".to_string(), NO_RESPONSE, 2)));
}

#[tokio::test]
async fn an_unreachable_server_is_a_transport_error() {
    // Bind and drop, so nothing listens on the port.
    let addr = {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap()
    };
    let repo = RepoClient::with_token_and_options(
        &format!("http://{addr}"),
        SecretString::from("pat"),
        "acme",
        "widgets",
        fast_options(),
    )
    .unwrap();
    let err = repo.get_repo().await.unwrap_err();
    assert!(matches!(err.kind, ErrorKind::Transport(_)), "{err}");
    assert_eq!(err.attempts, 4);
    assert!(
        err.to_string()
            .starts_with("could not reach GitHub for GET /repos/{owner}/{repo} after 4 attempts"),
        "{err}"
    );
}

#[tokio::test]
async fn a_stray_304_is_an_error_not_a_loop() {
    let stub = Stub::start(|seen, n| {
        token_reply(seen, n).unwrap_or(Reply {
            status: 304,
            headers: vec![],
            body: String::new(),
            delay: Duration::ZERO,
        })
    })
    .await;
    let repo = repo_for(&stub).await;
    let err = repo.get_repo().await.unwrap_err();
    assert!(matches!(err.kind, ErrorKind::Decode(_)), "{err}");
    assert_eq!(stub.count("GET", "/api/v3/repos/acme/widgets"), 1);
}

#[tokio::test]
async fn the_apps_own_writing_is_known_by_app_id_else_by_its_bot_login_asked_once() {
    let stub = Stub::start(|seen, n| {
        if let Some(reply) = token_reply(seen, n) {
            return reply;
        }
        match seen.path() {
            "/api/v3/app" => Reply::json(200, json!({"id": APP_ID, "slug": "hotfix-guard"})),
            _ => Reply::json(404, json!({"message": "Not Found"})),
        }
    })
    .await;
    let repo = repo_for(&stub).await;
    // GitHub names the app: the id decides, no call.
    assert!(repo.wrote(Some(APP_ID), "anyone").await.unwrap());
    assert!(
        !repo
            .wrote(Some(APP_ID + 1), "hotfix-guard[bot]")
            .await
            .unwrap()
    );
    // A person is never the app, whatever they type; no call either.
    assert!(!repo.wrote(None, "dana").await.unwrap());
    assert_eq!(stub.count("GET", "/api/v3/app"), 0);
    // The field left out (older Enterprise Server): the bot login decides.
    assert!(repo.wrote(None, "hotfix-guard[bot]").await.unwrap());
    assert!(!repo.wrote(None, "other-app[bot]").await.unwrap());
    assert_eq!(stub.count("GET", "/api/v3/app"), 1, "asked once");
    let jwt = stub
        .seen()
        .into_iter()
        .find(|s| s.path() == "/api/v3/app")
        .and_then(|s| s.header("authorization"))
        .unwrap();
    assert!(jwt.starts_with("Bearer ey"), "{jwt}");
    // A personal-token client owns nothing.
    let token = RepoClient::with_token(&stub.ghes_url(), "t".into(), "acme", "widgets").unwrap();
    assert!(
        !token
            .wrote(Some(APP_ID), "hotfix-guard[bot]")
            .await
            .unwrap()
    );
}

/// A timeline longer than the page cap comes back cut, not as an error:
/// the first 100 pages, with `cut_after` saying how many items they held.
/// The issue events list, read then, keeps label and state events only.
#[tokio::test]
async fn a_timeline_past_the_page_cap_comes_back_cut_and_the_events_list_is_read_whole() {
    let stub = Arc::new(Mutex::new(None::<SocketAddr>));
    let addr_cell = stub.clone();
    let server = Stub::start(move |seen, n| {
        if let Some(reply) = token_reply(seen, n) {
            return reply;
        }
        let addr = addr_cell.lock().unwrap().unwrap();
        let uri = seen.uri.as_str();
        if uri.starts_with("/api/v3/repos/acme/widgets/issues/9/timeline") {
            // Every page is full and names a next one: endless.
            let page: u64 = uri
                .split("page=")
                .nth(2)
                .and_then(|p| p.parse().ok())
                .unwrap_or(1);
            let items: Vec<_> = (0..100)
                .map(|i| {
                    json!({"event": "commented", "id": page * 100 + i, "user": {"login": "u"},
                           "body": "bump", "created_at": "2026-01-01T00:00:00Z"})
                })
                .collect();
            return Reply::json(200, json!(items)).header(
                "link",
                format!(
                    "<http://{addr}/api/v3/repos/acme/widgets/issues/9/timeline?per_page=100&page={}>; rel=\"next\"",
                    page + 1
                ),
            );
        }
        if uri == "/api/v3/repos/acme/widgets/issues/9/events?per_page=100" {
            return Reply::json(
                200,
                json!([
                    {"event": "labeled", "actor": {"login": "alice"}, "label": {"name": "P0"},
                     "created_at": "2026-01-01T00:20:00Z"},
                    {"event": "renamed", "actor": {"login": "u"}, "created_at": "2026-01-01T00:21:00Z"},
                    {"event": "closed", "actor": {"login": "dana"}, "created_at": "2026-01-01T00:22:00Z"},
                    {"event": "base_ref_changed", "actor": {"login": "u"}, "created_at": "2026-01-01T00:23:00Z"}
                ]),
            );
        }
        Reply::status(404)
    })
    .await;
    *stub.lock().unwrap() = Some(server.addr);
    let repo = repo_for(&server).await;
    let timeline = repo.timeline(9).await.unwrap();
    assert_eq!(timeline.cut_after, Some(10_000));
    assert_eq!(timeline.comments.len(), 10_000);
    // Pages 1 to 100, each read once and pages 1 to 99 asked for again once
    // the list is read (a deletion between two reads would shift items).
    let timeline_pages: std::collections::BTreeSet<usize> = server
        .seen()
        .iter()
        .filter(|s| s.uri.contains("/timeline"))
        .map(|s| {
            s.uri
                .split(['?', '&'])
                .find_map(|p| p.strip_prefix("page="))
                .and_then(|n| n.parse().ok())
                .unwrap_or(1)
        })
        .collect();
    assert_eq!(
        timeline_pages.last(),
        Some(&100),
        "no page past the cap is asked for"
    );
    assert_eq!(timeline_pages.len(), 100);

    let events = repo.issue_events(9).await.unwrap();
    assert_eq!(events.cut_after, None);
    assert!(events.comments.is_empty() && events.reviews.is_empty());
    assert_eq!(events.label_events.len(), 1);
    assert_eq!(events.label_events[0].actor.as_deref(), Some("alice"));
    assert_eq!(events.state_events.len(), 1);
    // GitHub documents `base_ref_changed` for this list: read from here
    // when the timeline was cut.
    assert_eq!(events.base_changes.len(), 1);
}

/// A timeline comment as GitHub lists it, `id` with `body`.
fn timeline_comment(id: u64, body: &str) -> serde_json::Value {
    json!({"event": "commented", "id": id, "node_id": format!("IC_{id}"),
           "user": {"login": "u"}, "body": body,
           "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"})
}

/// A stub timeline of issue 7 in two pages: page
/// 2 what `page2(n)` says on its `n`-th read (from 0), page 1 what
/// `page1(n)` says. Page 1 names page 2; page 2 names a page 3 (one more
/// comment) on a later read that finds it full. Answers the stub and what
/// `RepoClient::timeline` read.
async fn churned_timeline(
    page1: impl Fn(usize) -> Vec<serde_json::Value> + Send + Sync + 'static,
    page2: impl Fn(usize) -> Vec<serde_json::Value> + Send + Sync + 'static,
) -> (Stub, Result<Timeline, GitHubError>) {
    let cell = Arc::new(Mutex::new(None::<SocketAddr>));
    let addr_cell = cell.clone();
    let stub = Stub::start(move |seen, n| {
        if let Some(reply) = token_reply(seen, n) {
            return reply;
        }
        let addr = addr_cell.lock().unwrap().unwrap();
        let link = |page: usize| {
            format!(
                "<http://{addr}/api/v3/repositories/77/issues/7/timeline?per_page=100&page={page}>; rel=\"next\""
            )
        };
        match seen.uri.as_str() {
            "/api/v3/repos/acme/widgets/issues/7/timeline?per_page=100" => {
                Reply::json(200, json!(page1(n))).header("link", link(2))
            }
            "/api/v3/repositories/77/issues/7/timeline?per_page=100&page=2" => {
                let items = page2(n);
                let full = items.len() >= 100;
                let reply = Reply::json(200, json!(items));
                // A page 3 exists once page 2 has overflowed.
                if full && n > 0 {
                    reply.header("link", link(3))
                } else {
                    reply
                }
            }
            "/api/v3/repositories/77/issues/7/timeline?per_page=100&page=3" => {
                Reply::json(200, json!([timeline_comment(999, "late")]))
            }
            _ => Reply::status(404),
        }
    })
    .await;
    *cell.lock().unwrap() = Some(stub.addr);
    let repo = repo_for(&stub).await;
    let read = repo.timeline(7).await;
    (stub, read)
}

fn page_of(ids: std::ops::RangeInclusive<u64>) -> Vec<serde_json::Value> {
    ids.map(|id| timeline_comment(id, "note")).collect()
}

fn timeline_gets(stub: &Stub) -> Vec<String> {
    stub.seen()
        .into_iter()
        .filter(|s| s.method == Method::GET && s.path().contains("/timeline"))
        .map(|s| s.uri)
        .collect()
}

/// The author edits a comment on page 1 and appends one to page 2 while
/// the timeline is read: one pass and one verification, the first pass's
/// items kept (the edit and the append each have their own delivery).
#[tokio::test]
async fn a_timeline_edited_and_appended_to_while_read_is_read_once() {
    let (stub, read) = churned_timeline(
        |n| {
            let mut page = page_of(1..=100);
            if n > 0 {
                page[4] = timeline_comment(5, "edited");
            }
            page
        },
        |n| {
            if n == 0 {
                page_of(101..=102)
            } else {
                page_of(101..=103)
            }
        },
    )
    .await;
    let timeline = read.expect("edits and appends are not changes");
    assert_eq!(timeline.comments.len(), 102);
    assert_eq!(timeline.comments[4].body, "note");
    assert_eq!(timeline_gets(&stub).len(), 4, "{:?}", timeline_gets(&stub));
}

/// A full last page that gained a page after it (an item appended) is not
/// a change: the new page is not read, and the read ends.
#[tokio::test]
async fn a_new_page_after_a_full_last_page_is_not_a_change() {
    let (stub, read) = churned_timeline(|_| page_of(1..=100), |_| page_of(101..=200)).await;
    let timeline = read.expect("an appended page is not a change");
    assert_eq!(timeline.comments.len(), 200);
    let gets = timeline_gets(&stub);
    assert_eq!(gets.len(), 4, "{gets:?}");
    assert!(gets.iter().all(|uri| !uri.contains("page=3")), "{gets:?}");
}

/// A comment deleted on page 1 after it was read (page 2's first item
/// moved onto page 1) is a change at every try: the read fails closed.
#[tokio::test]
async fn a_removal_on_page_1_at_every_try_fails_the_read() {
    // Every second read of page 1 (n odd) lacks comment 50 and holds 101.
    let (stub, read) = churned_timeline(
        |n| {
            if n % 2 == 1 {
                page_of(1..=49)
                    .into_iter()
                    .chain(page_of(51..=101))
                    .collect()
            } else {
                page_of(1..=100)
            }
        },
        |_| page_of(101..=102),
    )
    .await;
    let err = read.expect_err("a removal is a change");
    assert!(
        err.to_string()
            .contains("the list changed while it was read, 3 times in a row"),
        "{err}"
    );
    // Its own kind, which the gather reads around (not a transport error).
    assert_eq!(err.kind, ErrorKind::ListKeptChanging { tries: 3 });
    assert!(err.is_list_kept_changing() && err.is_transient());
    assert_eq!(timeline_gets(&stub).len(), 9, "three tries of three reads");
}
