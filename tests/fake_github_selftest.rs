//! Keeps the fake GitHub honest: it must authenticate, cache, paginate and
//! fail like GitHub, and answer with GitHub's shapes (checked against the
//! templates in tests/fixtures/api/).

use crate::common;

use chrono::{Duration, Utc};
use common::fake_github::{APP_ID, BOT_LOGIN, CheckRunSeed, FakeGitHub, PullFileSeed, PullSeed};
use common::webhook::{self, PrSpec, TestKey};
use reqwest::StatusCode;
use serde_json::{Value, json};

const REPO: &str = "acme/shop";
const HEAD: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const BASE: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

fn http() -> reqwest::Client {
    reqwest::Client::new()
}

struct Answer {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap_or_default().to_string())
    }
}

async fn send(request: reqwest::RequestBuilder) -> Answer {
    let response = request.send().await.expect("request reaches the fake");
    Answer {
        status: response.status(),
        headers: response.headers().clone(),
        text: response.text().await.expect("body"),
    }
}

async fn installation_token(gh: &FakeGitHub) -> String {
    let answer = send(
        http()
            .post(format!("{}/app/installations/1/access_tokens", gh.url()))
            .bearer_auth(TestKey::app_jwt(APP_ID)),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    answer.json()["token"].as_str().expect("token").to_string()
}

async fn get(gh: &FakeGitHub, token: &str, path: &str) -> Answer {
    send(
        http()
            .get(format!("{}{path}", gh.url()))
            .header("authorization", format!("token {token}")),
    )
    .await
}

async fn write(gh: &FakeGitHub, token: &str, method: &str, path: &str, body: Value) -> Answer {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    send(
        http()
            .request(method, format!("{}{path}", gh.url()))
            .header("authorization", format!("Bearer {token}"))
            .json(&body),
    )
    .await
}

/// A repository with everything the app reads: branches, policy file,
/// pull request #7 with reviews, files, comments, label events, a check run.
fn seed(gh: &FakeGitHub) {
    gh.add_repo(REPO);
    gh.set_branch(REPO, "main", BASE);
    gh.set_branch(REPO, "develop", "dddddddddddddddddddddddddddddddddddddddd");
    gh.set_file(REPO, "main", ".github/hotfix-policy.yml", "version: 1\n");
    gh.add_pull(
        REPO,
        PullSeed {
            number: 7,
            title: "fix: null check".into(),
            author: "dev".into(),
            head_ref: "hotfix/null".into(),
            head_sha: HEAD.into(),
            base_ref: "main".into(),
            base_sha: BASE.into(),
            labels: vec!["hotfix".into(), "P1".into()],
            ..PullSeed::default()
        },
    );
    gh.add_review(REPO, 7, "alice", "approved", HEAD);
    gh.set_pull_files(REPO, 7, [("src/lib.rs", 3, 1), ("VERSION", 1, 1)]);
    gh.add_comment(REPO, 7, "carol", "looks fine");
    gh.add_label_event(
        REPO,
        7,
        "hotfix",
        "dev",
        true,
        Utc::now() - Duration::minutes(5),
    );
    gh.add_team_member("acme", "eng-leads", "alice");
    gh.set_permission(REPO, "alice", "maintain");
    gh.set_tag(REPO, "v1.2.3", BASE);
    gh.add_check_run(
        REPO,
        CheckRunSeed {
            head_sha: HEAD.into(),
            ..CheckRunSeed::default()
        },
    );
}

// ---------------------------------------------------------------- auth

#[tokio::test]
async fn issues_installation_tokens_for_a_valid_app_jwt() {
    let gh = FakeGitHub::start().await;
    // octocrab puts the app id in `iss` as a number; both forms are valid.
    let now = Utc::now().timestamp();
    let numeric =
        TestKey::jwt_with_claims(&json!({"iss": APP_ID, "iat": now - 60, "exp": now + 540}));
    for jwt in [TestKey::app_jwt(APP_ID), numeric] {
        let answer = send(
            http()
                .post(format!("{}/app/installations/99/access_tokens", gh.url()))
                .bearer_auth(jwt),
        )
        .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
        let body = answer.json();
        let token = body["token"].as_str().expect("token");
        assert!(token.starts_with("ghs_") && token.len() == 40, "{token}");
        assert_eq!(body["repository_selection"], "all");
        let expires =
            chrono::DateTime::parse_from_rfc3339(body["expires_at"].as_str().expect("expires_at"))
                .expect("RFC 3339");
        let lifetime = expires.with_timezone(&Utc) - Utc::now();
        assert!(
            lifetime > Duration::minutes(59) && lifetime <= Duration::hours(1),
            "{lifetime}"
        );
    }
    assert_eq!(gh.tokens_issued(), 2);
    assert_eq!(gh.token_installations(), vec![99, 99]);
    // Token issuance does not count as an API call.
    assert_eq!(gh.api_calls(), 0);
}

#[tokio::test]
async fn refuses_jwts_github_would_refuse() {
    let gh = FakeGitHub::start().await;
    let now = Utc::now().timestamp();
    let valid = TestKey::app_jwt(APP_ID);
    // Same header and signature, claims swapped for another app's: the
    // signature no longer matches.
    let forged = {
        let parts: Vec<&str> = valid.split('.').collect();
        let claims =
            base64_url(&json!({"iss": "1", "iat": now - 60, "exp": now + 540}).to_string());
        format!("{}.{claims}.{}", parts[0], parts[2])
    };
    let cases = [
        ("garbage", Some("not-a-jwt".to_string())),
        ("forged signature", Some(forged)),
        ("wrong app", Some(TestKey::app_jwt(1))),
        (
            "expired",
            Some(TestKey::jwt_with_claims(
                &json!({"iss": APP_ID, "iat": now - 1200, "exp": now - 600}),
            )),
        ),
        (
            "issued in the future",
            Some(TestKey::jwt_with_claims(
                &json!({"iss": APP_ID, "iat": now + 600, "exp": now + 900}),
            )),
        ),
        (
            "lives too long",
            Some(TestKey::jwt_with_claims(
                &json!({"iss": APP_ID, "iat": now, "exp": now + 3600}),
            )),
        ),
        ("no credentials", None),
    ];
    for (what, jwt) in cases {
        let mut request = http().post(format!("{}/app/installations/1/access_tokens", gh.url()));
        if let Some(jwt) = jwt {
            request = request.bearer_auth(jwt);
        }
        let answer = send(request).await;
        assert_eq!(
            answer.status,
            StatusCode::UNAUTHORIZED,
            "{what}: {}",
            answer.text
        );
        assert!(answer.json()["message"].is_string(), "{what}");
    }
    let garbage = send(
        http()
            .post(format!("{}/app/installations/1/access_tokens", gh.url()))
            .bearer_auth("not-a-jwt"),
    )
    .await;
    assert_eq!(
        garbage.json()["message"],
        "A JSON web token could not be decoded"
    );
    assert_eq!(gh.tokens_issued(), 0);
}

fn base64_url(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

#[tokio::test]
async fn repository_routes_need_an_issued_installation_token() {
    let gh = FakeGitHub::start().await;
    seed(&gh);
    let token = installation_token(&gh).await;
    let url = format!("{}/repos/{REPO}", gh.url());

    let none = send(http().get(&url)).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(none.json()["message"], "Bad credentials");
    let made_up = send(http().get(&url).header("authorization", "token ghs_madeup")).await;
    assert_eq!(made_up.status, StatusCode::UNAUTHORIZED);
    let jwt = send(http().get(&url).bearer_auth(TestKey::app_jwt(APP_ID))).await;
    assert_eq!(
        jwt.status,
        StatusCode::UNAUTHORIZED,
        "an app JWT is not an installation token"
    );

    assert_eq!(
        get(&gh, &token, &format!("/repos/{REPO}")).await.status,
        StatusCode::OK
    );
    let bearer = send(http().get(&url).bearer_auth(&token)).await;
    assert_eq!(bearer.status, StatusCode::OK);
    let org = send(
        http()
            .get(format!(
                "{}/orgs/acme/teams/eng-leads/memberships/alice",
                gh.url()
            ))
            .bearer_auth(&token),
    )
    .await;
    assert_eq!(org.status, StatusCode::OK);

    // An installation token is no good for /app routes.
    let app = send(
        http()
            .get(format!("{}/app/installations", gh.url()))
            .bearer_auth(&token),
    )
    .await;
    assert_eq!(app.status, StatusCode::UNAUTHORIZED);

    gh.expire_tokens();
    let expired = get(&gh, &token, &format!("/repos/{REPO}")).await;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
    assert_eq!(expired.json()["message"], "Bad credentials");
}

// ---------------------------------------------------------------- caching, rate limit

#[tokio::test]
async fn conditional_requests_answer_304_and_are_not_counted() {
    let gh = FakeGitHub::start().await;
    seed(&gh);
    let token = installation_token(&gh).await;
    let path = format!("/repos/{REPO}/pulls/7");

    let first = get(&gh, &token, &path).await;
    assert_eq!(first.status, StatusCode::OK);
    let etag = first.header("etag").expect("ETag on every GET");
    assert!(
        etag.starts_with('"') && etag.ends_with('"') && !etag.starts_with("W/"),
        "strong: {etag}"
    );
    let remaining = |a: &Answer| {
        a.header("x-ratelimit-remaining")
            .expect("remaining")
            .parse::<u64>()
            .expect("number")
    };
    assert_eq!(first.header("x-ratelimit-limit").as_deref(), Some("5000"));
    assert_eq!(
        first.header("x-ratelimit-resource").as_deref(),
        Some("core")
    );
    assert_eq!(remaining(&first), 4999);

    let again = send(
        http()
            .get(format!("{}{path}", gh.url()))
            .header("authorization", format!("token {token}"))
            .header("if-none-match", &etag),
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.text.is_empty());
    assert_eq!(again.header("etag").as_deref(), Some(etag.as_str()));
    assert_eq!(remaining(&again), 4999, "a 304 costs nothing");
    assert_eq!(gh.api_calls(), 1);
    assert_eq!(gh.count("GET", "/pulls/7"), 2);
    let log = gh.requests();
    assert!(log.iter().any(|r| r.status == 304 && r.if_none_match));

    // A change to the pull request changes the ETag: the same
    // If-None-Match now gets the new body.
    gh.set_labels(REPO, 7, &["hotfix", "P0"]);
    let changed = send(
        http()
            .get(format!("{}{path}", gh.url()))
            .header("authorization", format!("token {token}"))
            .header("if-none-match", &etag),
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK);
    assert_ne!(changed.header("etag"), Some(etag));
    assert_eq!(gh.api_calls(), 2);
    assert_eq!(gh.rate_limit_remaining(), 4998);
}

// ---------------------------------------------------------------- pagination

#[tokio::test]
async fn lists_paginate_with_absolute_link_headers() {
    let gh = FakeGitHub::start().await;
    seed(&gh);
    for i in 0..4 {
        gh.add_comment(REPO, 7, "dev", &format!("comment {i}"));
    }
    let token = installation_token(&gh).await;
    let path = format!("/repos/{REPO}/issues/7/comments");

    let page1 = get(&gh, &token, &format!("{path}?per_page=2")).await;
    let bodies = |a: &Answer| -> Vec<String> {
        a.json()
            .as_array()
            .expect("array")
            .iter()
            .map(|c| c["body"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(bodies(&page1), ["looks fine", "comment 0"]);
    let link = page1.header("link").expect("Link header");
    let base = format!("{}{path}", gh.url());
    assert_eq!(
        link,
        format!(
            "<{base}?per_page=2&page=2>; rel=\"next\", <{base}?per_page=2&page=3>; rel=\"last\""
        )
    );

    // Following rel="next" as a client would.
    let next = link
        .split(", ")
        .find(|l| l.ends_with("rel=\"next\""))
        .expect("next");
    let next_url = next.trim_start_matches('<').split('>').next().expect("url");
    let page2 = send(
        http()
            .get(next_url)
            .header("authorization", format!("token {token}")),
    )
    .await;
    assert_eq!(bodies(&page2), ["comment 1", "comment 2"]);

    let page3 = get(&gh, &token, &format!("{path}?per_page=2&page=3")).await;
    assert_eq!(bodies(&page3), ["comment 3"]);
    assert_eq!(
        page3.header("link").expect("Link on the last page"),
        format!(
            "<{base}?per_page=2&page=2>; rel=\"prev\", <{base}?per_page=2&page=1>; rel=\"first\""
        )
    );

    // Defaults: 30 a page, no Link when one page holds everything.
    let all = get(&gh, &token, &path).await;
    assert_eq!(bodies(&all).len(), 5);
    assert!(all.header("link").is_none());
}

#[tokio::test]
async fn per_page_defaults_to_30_and_caps_at_100() {
    let gh = FakeGitHub::start().await;
    seed(&gh);
    let files: Vec<PullFileSeed> = (0..130)
        .map(|i| (format!("src/f{i}.rs"), 1, 0).into())
        .collect();
    gh.set_pull_files(REPO, 7, files);
    let token = installation_token(&gh).await;
    let path = format!("/repos/{REPO}/pulls/7/files");
    let count = |a: &Answer| a.json().as_array().map_or(0, Vec::len);

    let default = get(&gh, &token, &path).await;
    assert_eq!(count(&default), 30);
    assert!(
        default
            .header("link")
            .expect("link")
            .contains("page=5>; rel=\"last\"")
    );
    let capped = get(&gh, &token, &format!("{path}?per_page=500")).await;
    assert_eq!(count(&capped), 100);
    let last = get(&gh, &token, &format!("{path}?per_page=100&page=2")).await;
    assert_eq!(count(&last), 30);
    assert_eq!(last.json()[29]["filename"], "src/f129.rs");
}

// ---------------------------------------------------------------- failures

#[tokio::test]
async fn injected_failures_hit_the_next_matching_requests_only() {
    let gh = FakeGitHub::start().await;
    seed(&gh);
    let token = installation_token(&gh).await;
    let path = format!("/repos/{REPO}/pulls/7");

    gh.fail_next("GET", "/pulls/7", 502, vec![], 2);
    assert_eq!(
        get(&gh, &token, &path).await.status,
        StatusCode::BAD_GATEWAY
    );
    // Other paths are untouched while the failure is pending.
    assert_eq!(
        get(&gh, &token, &format!("/repos/{REPO}")).await.status,
        StatusCode::OK
    );
    let second = get(&gh, &token, &path).await;
    assert_eq!(second.status, StatusCode::BAD_GATEWAY);
    assert_eq!(second.json()["message"], "Server Error");
    assert_eq!(get(&gh, &token, &path).await.status, StatusCode::OK);

    gh.fail_next(
        "GET",
        "/pulls/7",
        429,
        vec![("retry-after".into(), "3".into())],
        1,
    );
    let limited = get(&gh, &token, &path).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.header("retry-after").as_deref(), Some("3"));
    assert!(
        limited.json()["message"]
            .as_str()
            .unwrap_or_default()
            .contains("secondary rate limit")
    );

    gh.fail_next(
        "*",
        "/pulls/7",
        403,
        vec![("retry-after".into(), "60".into())],
        1,
    );
    let secondary = get(&gh, &token, &path).await;
    assert_eq!(secondary.status, StatusCode::FORBIDDEN);
    assert!(
        secondary.json()["message"]
            .as_str()
            .unwrap_or_default()
            .contains("secondary rate limit")
    );

    gh.fail_next(
        "GET",
        "/pulls/7",
        403,
        vec![("x-ratelimit-remaining".into(), "0".into())],
        1,
    );
    let primary = get(&gh, &token, &path).await;
    assert_eq!(
        primary.header("x-ratelimit-remaining").as_deref(),
        Some("0")
    );
    assert!(
        primary.json()["message"]
            .as_str()
            .unwrap_or_default()
            .contains("API rate limit exceeded")
    );

    // Methods must match; failures can hit token issuance too.
    gh.fail_next("POST", "/pulls/7", 500, vec![], 1);
    assert_eq!(get(&gh, &token, &path).await.status, StatusCode::OK);
    gh.fail_next("POST", "/access_tokens", 500, vec![], 1);
    let failed_token = send(
        http()
            .post(format!("{}/app/installations/1/access_tokens", gh.url()))
            .bearer_auth(TestKey::app_jwt(APP_ID)),
    )
    .await;
    assert_eq!(failed_token.status, StatusCode::INTERNAL_SERVER_ERROR);
    installation_token(&gh).await;

    gh.fail_next_with_body(
        "POST",
        "/check-runs",
        422,
        vec![],
        json!({"message": "custom"}),
        1,
    );
    let custom = write(
        &gh,
        &token,
        "POST",
        &format!("/repos/{REPO}/check-runs"),
        json!({"name": "x", "head_sha": HEAD}),
    )
    .await;
    assert_eq!(custom.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(custom.json(), json!({"message": "custom"}));
}

#[tokio::test]
async fn injected_delays_hold_the_answer() {
    let gh = FakeGitHub::start().await;
    seed(&gh);
    let token = installation_token(&gh).await;
    gh.delay_next("GET", "/pulls/7", std::time::Duration::from_millis(400), 1);
    let slow = http()
        .get(format!("{}/repos/{REPO}/pulls/7", gh.url()))
        .header("authorization", format!("token {token}"))
        .timeout(std::time::Duration::from_millis(100))
        .send()
        .await;
    assert!(slow.is_err_and(|e| e.is_timeout()));
    assert_eq!(
        get(&gh, &token, &format!("/repos/{REPO}/pulls/7"))
            .await
            .status,
        StatusCode::OK
    );
}

// ---------------------------------------------------------------- prefix, unknown routes

#[tokio::test]
async fn an_enterprise_prefix_serves_everything_under_it_and_only_there() {
    let gh = FakeGitHub::start_with_prefix("/api/v3").await;
    seed(&gh);
    assert!(gh.url().ends_with("/api/v3"));
    assert_eq!(gh.url(), format!("{}/api/v3", gh.origin()));

    gh.add_comment(REPO, 7, "dev", "second");
    let token = installation_token(&gh).await;
    let inside = get(
        &gh,
        &token,
        &format!("/repos/{REPO}/issues/7/comments?per_page=1"),
    )
    .await;
    assert_eq!(inside.status, StatusCode::OK);
    let link = inside.header("link").unwrap_or_default();
    assert!(
        link.starts_with(&format!(
            "<{}/api/v3/repos/{REPO}/issues/7/comments?",
            gh.origin()
        )),
        "{link}"
    );
    // URLs in bodies use the prefix too, and never github.com.
    let pull = get(&gh, &token, &format!("/repos/{REPO}/pulls/7"))
        .await
        .json();
    assert_eq!(pull["url"], format!("{}/repos/{REPO}/pulls/7", gh.url()));

    let outside = send(
        http()
            .get(format!("{}/repos/{REPO}", gh.origin()))
            .header("authorization", format!("token {token}")),
    )
    .await;
    assert_eq!(outside.status, StatusCode::NOT_FOUND);
    let outside_token = send(
        http()
            .post(format!("{}/app/installations/1/access_tokens", gh.origin()))
            .bearer_auth(TestKey::app_jwt(APP_ID)),
    )
    .await;
    assert_eq!(outside_token.status, StatusCode::NOT_FOUND);

    let log = gh.requests();
    assert!(
        log.iter()
            .any(|r| r.path == format!("/repos/{REPO}/pulls/7") && r.status == 200),
        "logged without prefix"
    );
    assert!(
        log.iter()
            .any(|r| r.path == format!("/repos/{REPO}") && r.status == 404)
    );
}

#[tokio::test]
async fn unknown_routes_are_404_and_logged() {
    let gh = FakeGitHub::start().await;
    seed(&gh);
    let token = installation_token(&gh).await;
    let answer = get(&gh, &token, &format!("/repos/{REPO}/environments")).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.json()["message"], "Not Found");
    assert_eq!(
        answer.json()["documentation_url"],
        "https://docs.github.com/rest"
    );
    let deleted = write(
        &gh,
        &token,
        "DELETE",
        &format!("/repos/{REPO}/pulls/7"),
        json!({}),
    )
    .await;
    assert_eq!(deleted.status, StatusCode::NOT_FOUND);
    assert_eq!(gh.requests_with_status(404).len(), 2);
    assert_eq!(gh.count("*", "/environments"), 1);
}

// ---------------------------------------------------------------- endpoints

#[tokio::test]
async fn contents_are_base64_in_60_character_lines_at_any_ref() {
    let gh = FakeGitHub::start().await;
    seed(&gh);
    let long = "x".repeat(200);
    gh.set_file(REPO, "main", "VERSION", &long);
    gh.set_file(REPO, HEAD, "VERSION", "1.2.4\n");
    let token = installation_token(&gh).await;

    let default_branch = get(&gh, &token, &format!("/repos/{REPO}/contents/VERSION"))
        .await
        .json();
    assert_eq!(default_branch["encoding"], "base64");
    assert_eq!(default_branch["type"], "file");
    let content = default_branch["content"].as_str().expect("content");
    assert!(content.ends_with('\n'));
    assert!(content.lines().all(|line| line.len() <= 60));
    assert_eq!(content.lines().next().map(str::len), Some(60));
    assert_eq!(decode_content(content), long);
    assert_eq!(default_branch["size"], 200);

    // By branch name, by the sha the branch points at, by refs/heads/...
    let by_sha = get(
        &gh,
        &token,
        &format!("/repos/{REPO}/contents/.github/hotfix-policy.yml?ref={BASE}"),
    )
    .await;
    assert_eq!(
        decode_content(by_sha.json()["content"].as_str().unwrap_or_default()),
        "version: 1\n"
    );
    assert_eq!(by_sha.json()["path"], ".github/hotfix-policy.yml");
    assert_eq!(by_sha.json()["name"], "hotfix-policy.yml");
    let by_head = get(
        &gh,
        &token,
        &format!("/repos/{REPO}/contents/VERSION?ref=hotfix%2Fnull"),
    )
    .await;
    assert_eq!(
        decode_content(by_head.json()["content"].as_str().unwrap_or_default()),
        "1.2.4\n"
    );

    let missing = get(
        &gh,
        &token,
        &format!("/repos/{REPO}/contents/Cargo.toml?ref=main"),
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.json()["message"], "Not Found");

    let raw = send(
        http()
            .get(format!(
                "{}/repos/{REPO}/contents/VERSION?ref={HEAD}",
                gh.url()
            ))
            .header("authorization", format!("token {token}"))
            .header("accept", "application/vnd.github.raw+json"),
    )
    .await;
    assert_eq!(raw.text, "1.2.4\n");
}

fn decode_content(content: &str) -> String {
    use base64::Engine as _;
    let joined: String = content.lines().collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(joined)
        .expect("base64");
    String::from_utf8(bytes).expect("utf-8")
}

#[tokio::test]
async fn pull_requests_filter_and_creation_is_validated() {
    let gh = FakeGitHub::start().await;
    seed(&gh);
    gh.add_pull(
        REPO,
        PullSeed {
            number: 8,
            head_ref: "feature/x".into(),
            base_ref: "develop".into(),
            state: "closed".into(),
            ..PullSeed::default()
        },
    );
    let token = installation_token(&gh).await;
    let numbers = |a: &Answer| -> Vec<u64> {
        a.json()
            .as_array()
            .expect("array")
            .iter()
            .filter_map(|p| p["number"].as_u64())
            .collect()
    };
    let list = format!("/repos/{REPO}/pulls");
    assert_eq!(numbers(&get(&gh, &token, &list).await), [7]);
    assert_eq!(
        numbers(&get(&gh, &token, &format!("{list}?state=all")).await),
        [8, 7]
    );
    assert_eq!(
        numbers(
            &get(
                &gh,
                &token,
                &format!("{list}?state=all&head=acme:hotfix/null")
            )
            .await
        ),
        [7]
    );
    assert_eq!(
        numbers(
            &get(
                &gh,
                &token,
                &format!("{list}?state=all&head=other:hotfix/null")
            )
            .await
        ),
        Vec::<u64>::new()
    );
    assert_eq!(
        numbers(&get(&gh, &token, &format!("{list}?state=closed&base=develop")).await),
        [8]
    );

    // Opening the merge-back pull request.
    let create = |head: &str| json!({"title": "Merge back", "head": head, "base": "develop", "body": "auto"});
    let created = write(&gh, &token, "POST", &list, create("hotfix/null")).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let body = created.json();
    assert_eq!(body["number"], 9);
    assert_eq!(body["user"]["login"], BOT_LOGIN);
    assert_eq!(body["head"]["sha"], HEAD);
    assert_eq!(body["base"]["ref"], "develop");
    assert_eq!(
        gh.pull(REPO, 9).map(|p| p.body),
        Some(Some("auto".to_string()))
    );

    let duplicate = write(&gh, &token, "POST", &list, create("acme:hotfix/null")).await;
    assert_eq!(duplicate.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(duplicate.json()["message"], "Validation Failed");
    assert_eq!(
        duplicate.json()["errors"][0]["message"],
        "A pull request already exists for acme:hotfix/null."
    );
    let no_branch = write(&gh, &token, "POST", &list, create("nope")).await;
    assert_eq!(no_branch.status, StatusCode::UNPROCESSABLE_ENTITY);

    gh.set_branch(REPO, "hotfix/old", BASE);
    gh.set_compare(REPO, "develop", "hotfix/old", "behind");
    let nothing = write(&gh, &token, "POST", &list, create("hotfix/old")).await;
    assert_eq!(nothing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        nothing
            .text
            .contains("No commits between develop and hotfix/old")
    );
}

#[tokio::test]
async fn check_runs_are_created_updated_listed_and_validated() {
    let gh = FakeGitHub::start().await;
    seed(&gh);
    let token = installation_token(&gh).await;
    let annotation = json!({"path": "VERSION", "start_line": 1, "end_line": 1, "annotation_level": "failure", "message": "not bumped"});
    let created = write(
        &gh,
        &token,
        "POST",
        &format!("/repos/{REPO}/check-runs"),
        json!({
            "name": "hotfix-policy", "head_sha": HEAD, "status": "in_progress",
            "output": {"title": "Evaluating", "summary": "…", "annotations": [annotation]},
        }),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let run = created.json();
    let id = run["id"].as_u64().expect("id");
    assert_eq!(run["status"], "in_progress");
    assert_eq!(run["conclusion"], Value::Null);
    assert_eq!(run["app"]["id"], APP_ID);
    assert_eq!(run["pull_requests"][0]["number"], 7);

    let updated = write(
        &gh,
        &token,
        "PATCH",
        &format!("/repos/{REPO}/check-runs/{id}"),
        json!({"conclusion": "failure", "output": {"title": "VERSION not bumped", "summary": "1 rule failed", "text": "details", "annotations": [annotation]}}),
    )
    .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
    assert_eq!(
        updated.json()["status"],
        "completed",
        "a conclusion completes the run"
    );
    assert!(updated.json()["completed_at"].is_string());
    assert_eq!(updated.json()["output"]["annotations_count"], 2);

    let runs = gh.check_runs(REPO, HEAD);
    let ours = runs.iter().find(|r| r.id == id).expect("stored");
    assert_eq!(ours.title.as_deref(), Some("VERSION not bumped"));
    assert_eq!(ours.summary.as_deref(), Some("1 rule failed"));
    assert_eq!(ours.text.as_deref(), Some("details"));
    assert_eq!(ours.annotations.len(), 2, "annotations accumulate");
    assert_eq!(ours.update_count, 1);

    let listed = get(
        &gh,
        &token,
        &format!("/repos/{REPO}/commits/{HEAD}/check-runs?check_name=hotfix-policy"),
    )
    .await
    .json();
    assert_eq!(listed["total_count"], 1, "latest only: one run per name");
    assert_eq!(listed["check_runs"][0]["id"], id);
    let other = get(
        &gh,
        &token,
        &format!("/repos/{REPO}/commits/{HEAD}/check-runs?check_name=other"),
    )
    .await
    .json();
    assert_eq!(other["total_count"], 0);

    let runs_path = format!("/repos/{REPO}/check-runs");
    let post = |body: Value| write(&gh, &token, "POST", &runs_path, body);
    let too_many: Vec<Value> = (0..51).map(|_| annotation.clone()).collect();
    let cases = [
        json!({"name": "x", "head_sha": HEAD, "output": {"title": "t", "summary": "s", "annotations": too_many}}),
        json!({"name": "x", "head_sha": HEAD, "status": "completed"}),
        json!({"name": "x", "head_sha": HEAD, "conclusion": "great"}),
        json!({"name": "x", "head_sha": HEAD, "output": {"title": "t"}}),
        json!({"name": "x", "head_sha": HEAD, "output": {"title": "t", "summary": "s".repeat(65536)}}),
        json!({"name": "x", "head_sha": HEAD, "actions": [{"label": "a label that is far too long", "description": "d", "identifier": "i"}]}),
        json!({"head_sha": HEAD}),
    ];
    for body in cases {
        let answer = post(body.clone()).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }
    // Another app's run cannot be changed.
    let foreign = gh.add_check_run(
        REPO,
        CheckRunSeed {
            app_id: 1,
            head_sha: HEAD.into(),
            ..CheckRunSeed::default()
        },
    );
    let refused = write(
        &gh,
        &token,
        "PATCH",
        &format!("/repos/{REPO}/check-runs/{foreign}"),
        json!({"conclusion": "success"}),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn comments_are_written_by_the_bot_and_edits_are_counted() {
    let gh = FakeGitHub::start().await;
    seed(&gh);
    let token = installation_token(&gh).await;
    let created = write(
        &gh,
        &token,
        "POST",
        &format!("/repos/{REPO}/issues/7/comments"),
        json!({"body": "<!-- hotfix-guard -->\nv1"}),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let id = created.json()["id"].as_u64().expect("id");
    assert_eq!(created.json()["user"]["login"], BOT_LOGIN);
    assert_eq!(created.json()["user"]["type"], "Bot");

    let edited = write(
        &gh,
        &token,
        "PATCH",
        &format!("/repos/{REPO}/issues/comments/{id}"),
        json!({"body": "<!-- hotfix-guard -->\nv2"}),
    )
    .await;
    assert_eq!(edited.status, StatusCode::OK);
    let comments = gh.comments(REPO, 7);
    assert_eq!(comments.len(), 2);
    assert_eq!(comments[1].body, "<!-- hotfix-guard -->\nv2");
    assert_eq!(comments[1].user, BOT_LOGIN);
    assert!(comments[1].updated_at >= comments[1].created_at);
    assert_eq!(gh.comment_edits(id), 1);
    assert_eq!(gh.comment_edits(comments[0].id), 0);

    let on_missing = write(
        &gh,
        &token,
        "POST",
        &format!("/repos/{REPO}/issues/99/comments"),
        json!({"body": "x"}),
    )
    .await;
    assert_eq!(on_missing.status, StatusCode::NOT_FOUND);
    let empty = write(
        &gh,
        &token,
        "POST",
        &format!("/repos/{REPO}/issues/7/comments"),
        json!({}),
    )
    .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    let huge = write(
        &gh,
        &token,
        "POST",
        &format!("/repos/{REPO}/issues/7/comments"),
        json!({"body": "x".repeat(65537)}),
    )
    .await;
    assert_eq!(huge.status, StatusCode::UNPROCESSABLE_ENTITY);
    let missing_comment = write(
        &gh,
        &token,
        "PATCH",
        &format!("/repos/{REPO}/issues/comments/1"),
        json!({"body": "x"}),
    )
    .await;
    assert_eq!(missing_comment.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn refs_tags_issues_teams_permissions_compare() {
    let gh = FakeGitHub::start().await;
    seed(&gh);
    gh.set_team_membership("acme", "on-call", "bob", "member", "pending");
    gh.set_compare(REPO, "develop", HEAD, "behind");
    gh.set_unknown_user_permission("acme/private", None);
    let token = installation_token(&gh).await;

    let tag = get(&gh, &token, &format!("/repos/{REPO}/git/ref/tags/v1.2.3")).await;
    assert_eq!(tag.json()["ref"], "refs/tags/v1.2.3");
    assert_eq!(tag.json()["object"]["sha"], BASE);
    assert_eq!(
        get(&gh, &token, &format!("/repos/{REPO}/git/ref/tags/v9"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    let refs = format!("/repos/{REPO}/git/refs");
    let new_tag = write(
        &gh,
        &token,
        "POST",
        &refs,
        json!({"ref": "refs/tags/v1.2.4", "sha": HEAD}),
    )
    .await;
    assert_eq!(new_tag.status, StatusCode::CREATED);
    assert_eq!(gh.tag_sha(REPO, "v1.2.4").as_deref(), Some(HEAD));
    let again = write(
        &gh,
        &token,
        "POST",
        &refs,
        json!({"ref": "refs/tags/v1.2.4", "sha": HEAD}),
    )
    .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(again.json()["message"], "Reference already exists");
    let branch = write(
        &gh,
        &token,
        "POST",
        &refs,
        json!({"ref": "refs/heads/merge-back/7", "sha": HEAD}),
    )
    .await;
    assert_eq!(branch.status, StatusCode::CREATED);
    assert_eq!(gh.branch_sha(REPO, "merge-back/7").as_deref(), Some(HEAD));
    let branch_get = get(&gh, &token, &format!("/repos/{REPO}/branches/merge-back/7"))
        .await
        .json();
    assert_eq!(branch_get["commit"]["sha"], HEAD);
    assert_eq!(branch_get["protected"], false);
    assert_eq!(
        get(&gh, &token, &format!("/repos/{REPO}/branches/nope"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    let issue = write(
        &gh, &token, "POST", &format!("/repos/{REPO}/issues"),
        json!({"title": "Post-incident review for #7", "body": "due", "labels": ["hotfix-follow-up"], "assignees": ["dev"]}),
    )
    .await;
    assert_eq!(issue.status, StatusCode::CREATED);
    assert_eq!(
        issue.json()["number"],
        8,
        "issues and pull requests share numbers"
    );
    let issues = gh.issues(REPO);
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].labels, ["hotfix-follow-up"]);
    assert_eq!(issues[0].assignees, ["dev"]);

    let member = get(&gh, &token, "/orgs/acme/teams/eng-leads/memberships/alice")
        .await
        .json();
    assert_eq!(
        (member["state"].as_str(), member["role"].as_str()),
        (Some("active"), Some("member"))
    );
    let pending = get(&gh, &token, "/orgs/acme/teams/on-call/memberships/bob")
        .await
        .json();
    assert_eq!(pending["state"], "pending");
    assert_eq!(
        get(&gh, &token, "/orgs/acme/teams/eng-leads/memberships/bob")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&gh, &token, "/orgs/acme/teams/nope/memberships/alice")
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    let alice = get(
        &gh,
        &token,
        &format!("/repos/{REPO}/collaborators/alice/permission"),
    )
    .await
    .json();
    assert_eq!(
        (alice["permission"].as_str(), alice["role_name"].as_str()),
        (Some("write"), Some("maintain"))
    );
    let stranger = get(
        &gh,
        &token,
        &format!("/repos/{REPO}/collaborators/zed/permission"),
    )
    .await
    .json();
    assert_eq!(stranger["permission"], "none");
    gh.add_repo("acme/private");
    let private = get(
        &gh,
        &token,
        "/repos/acme/private/collaborators/zed/permission",
    )
    .await;
    assert_eq!(private.status, StatusCode::NOT_FOUND);

    let compare = get(
        &gh,
        &token,
        &format!("/repos/{REPO}/compare/develop...{HEAD}"),
    )
    .await
    .json();
    assert_eq!(compare["status"], "behind");
    assert_eq!(compare["ahead_by"], 0);
    let default = get(
        &gh,
        &token,
        &format!("/repos/{REPO}/compare/main...hotfix/null"),
    )
    .await
    .json();
    assert_eq!(default["status"], "diverged");

    let at = Utc::now() - Duration::hours(3);
    gh.set_commit_date(REPO, HEAD, at);
    let commit = get(&gh, &token, &format!("/repos/{REPO}/commits/{HEAD}"))
        .await
        .json();
    assert_eq!(
        commit["commit"]["committer"]["date"],
        at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );

    let events = get(&gh, &token, &format!("/repos/{REPO}/issues/7/events"))
        .await
        .json();
    assert_eq!(events[0]["event"], "labeled");
    assert_eq!(events[0]["label"]["name"], "hotfix");
    assert_eq!(events[0]["actor"]["login"], "dev");
}

#[tokio::test]
async fn app_endpoints_deliveries_installations_manifests() {
    let gh = FakeGitHub::start().await;
    let now = Utc::now();
    for id in 1..=5 {
        gh.add_delivery(
            id,
            &format!("guid-{id}"),
            if id == 3 { 502 } else { 202 },
            false,
            now,
            "pull_request",
            Some("opened"),
        );
    }
    gh.add_org("acme");
    gh.add_installation(31, "acme");
    let jwt = TestKey::app_jwt(APP_ID);
    let app_get = |path: &str| send(http().get(format!("{}{path}", gh.url())).bearer_auth(&jwt));

    let first = app_get("/app/hook/deliveries?per_page=2").await;
    let ids = |a: &Answer| -> Vec<u64> {
        a.json()
            .as_array()
            .expect("array")
            .iter()
            .filter_map(|d| d["id"].as_u64())
            .collect()
    };
    assert_eq!(ids(&first), [5, 4], "newest first");
    let link = first.header("link").expect("cursor link");
    let next = link
        .trim_start_matches('<')
        .split('>')
        .next()
        .expect("url")
        .to_string();
    assert!(next.contains("cursor="), "{next}");
    let second = send(http().get(next).bearer_auth(&jwt)).await;
    assert_eq!(ids(&second), [3, 2]);
    assert_eq!(second.json()[0]["status"], "Invalid HTTP Response: 502");

    let retry = send(
        http()
            .post(format!("{}/app/hook/deliveries/3/attempts", gh.url()))
            .bearer_auth(&jwt),
    )
    .await;
    assert_eq!(retry.status, StatusCode::ACCEPTED);
    let unknown = send(
        http()
            .post(format!("{}/app/hook/deliveries/77/attempts", gh.url()))
            .bearer_auth(&jwt),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(gh.redelivery_attempts(), [3]);

    let installations = app_get("/app/installations").await.json();
    assert_eq!(installations[0]["id"], 31);
    assert_eq!(installations[0]["account"]["login"], "acme");
    assert_eq!(installations[0]["account"]["type"], "Organization");
    assert_eq!(app_get("/app").await.json()["id"], APP_ID);

    let conversion = gh.add_manifest_code("abc123");
    let converted =
        send(http().post(format!("{}/app-manifests/abc123/conversions", gh.url()))).await;
    assert_eq!(
        converted.status,
        StatusCode::CREATED,
        "no authentication needed"
    );
    let body = converted.json();
    assert_eq!(body["id"], APP_ID);
    assert_eq!(body["webhook_secret"], conversion.webhook_secret.as_str());
    assert!(
        body["pem"]
            .as_str()
            .unwrap_or_default()
            .contains("PRIVATE KEY")
    );
    assert!(
        body["client_id"].is_string()
            && body["client_secret"].is_string()
            && body["slug"].is_string()
    );
    let reused = send(http().post(format!("{}/app-manifests/abc123/conversions", gh.url()))).await;
    assert_eq!(reused.status, StatusCode::NOT_FOUND, "codes are single-use");
}

// ---------------------------------------------------------------- shapes

/// Every key of GitHub's example is in the fake's answer (recursively,
/// where both sides have an object).
fn assert_has_keys(template: &Value, actual: &Value, at: &str) {
    match (template, actual) {
        (Value::Object(t), Value::Object(a)) => {
            for (key, t_value) in t {
                let Some(a_value) = a.get(key) else {
                    panic!("{at}: missing key {key:?}");
                };
                // A map of permission name → level: its keys are data.
                if key == "permissions" {
                    continue;
                }
                assert_has_keys(t_value, a_value, &format!("{at}.{key}"));
            }
        }
        (Value::Array(t), Value::Array(a)) => {
            if let (Some(t0), Some(a0)) = (t.first(), a.first()) {
                assert_has_keys(t0, a0, &format!("{at}[0]"));
            }
        }
        (Value::Object(_), Value::Null) => {} // e.g. milestone, merged_by
        (Value::Object(_), other) => panic!("{at}: expected an object, got {other}"),
        _ => {}
    }
}

/// No value copied from a template survives: every string is the fake's own.
fn assert_no_template_leftovers(value: &Value, at: &str) {
    const LEFTOVERS: [&str; 26] = [
        "octocat",
        "Hello-World",
        "hello-world",
        "api.github.com",
        "//github.com",
        "octoapp",
        "octokit",
        "gagbo",
        "github-product-roadmap",
        "mighty_readme",
        "my_repo",
        "Monalisa",
        "Codertocat",
        "flastname",
        "2011-",
        "2016-",
        "2017-",
        "2018-",
        "2019-",
        "2022-",
        "2023-",
        "1296269",
        "ABTLWH",
        "e5bd3914",
        "6dcb09b5",
        "ce587453",
    ];
    match value {
        Value::String(s) => {
            for leftover in LEFTOVERS {
                assert!(!s.contains(leftover), "{at}: template value leaked: {s:?}");
            }
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .for_each(|(i, v)| assert_no_template_leftovers(v, &format!("{at}[{i}]"))),
        Value::Object(map) => map
            .iter()
            .for_each(|(k, v)| assert_no_template_leftovers(v, &format!("{at}.{k}"))),
        _ => {}
    }
}

fn template(path: &str) -> Value {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/api")
        .join(path);
    serde_json::from_str(&std::fs::read_to_string(&file).expect("template")).expect("JSON")
}

#[tokio::test]
async fn answers_have_githubs_shapes_and_nothing_from_the_templates() {
    let gh = FakeGitHub::start().await;
    seed(&gh);
    gh.set_file(REPO, "main", "VERSION", "1.2.3\n");
    gh.add_delivery(
        1,
        "guid",
        200,
        false,
        Utc::now(),
        "pull_request",
        Some("opened"),
    );
    gh.add_installation(1, "acme");
    let token = installation_token(&gh).await;
    let jwt = TestKey::app_jwt(APP_ID);
    let r = |p: &str| format!("/repos/{REPO}{p}");

    let created_run = write(&gh, &token, "POST", &r("/check-runs"), json!({"name": "hotfix-policy", "head_sha": HEAD, "conclusion": "success", "output": {"title": "t", "summary": "s"}})).await.json();
    let created_ref = write(
        &gh,
        &token,
        "POST",
        &r("/git/refs"),
        json!({"ref": "refs/heads/mb", "sha": HEAD}),
    )
    .await
    .json();
    let created_issue = write(
        &gh,
        &token,
        "POST",
        &r("/issues"),
        json!({"title": "Follow up", "labels": ["x"]}),
    )
    .await
    .json();
    let created_comment = write(
        &gh,
        &token,
        "POST",
        &r("/issues/7/comments"),
        json!({"body": "hi"}),
    )
    .await
    .json();
    let created_pull = write(
        &gh,
        &token,
        "POST",
        &r("/pulls"),
        json!({"title": "Merge back", "head": "mb", "base": "develop"}),
    )
    .await
    .json();
    let token_body = send(
        http()
            .post(format!("{}/app/installations/1/access_tokens", gh.url()))
            .bearer_auth(&jwt),
    )
    .await
    .json();
    let get_json = |path: String| {
        let token = token.clone();
        let gh = &gh;
        async move { get(gh, &token, &path).await.json() }
    };
    let app_json = |path: &str| {
        let request = http().get(format!("{}{path}", gh.url())).bearer_auth(&jwt);
        async move { send(request).await.json() }
    };

    let mut token_template =
        template("openapi-examples/apps.create-installation-access-token.201.default.json");
    let repository_template = token_template["repositories"][0].clone();
    if let Value::Object(map) = &mut token_template {
        map.remove("repositories");
    }
    let events = template("octocrab-0.54.9/issues_list_timeline_events.json");
    let labeled = events
        .as_array()
        .and_then(|e| e.iter().find(|e| e["event"] == "labeled").cloned())
        .expect("labeled");
    let recorded_issue =
        template("octokit-fixtures/add-labels-to-issue.json")[0]["response"].clone();
    let check_runs_list = template("octocrab/commit_check_runs.json");
    // octocrab's file went through its own Author model, which adds a
    // `patch_url` GitHub does not send.
    let mut commit_template = template("octocrab/repos_list_commits.json")[0].clone();
    for who in ["author", "committer"] {
        if let Some(user) = commit_template[who].as_object_mut() {
            user.remove("patch_url");
        }
    }

    let pairs: Vec<(&str, Value, Value)> = vec![
        ("token", token_template, token_body),
        ("repository", repository_template, get_json(r("")).await),
        (
            "pull",
            template("openapi-examples/pulls.create.201.default.json"),
            get_json(r("/pulls/7")).await,
        ),
        (
            "created pull",
            template("openapi-examples/pulls.create.201.default.json"),
            created_pull,
        ),
        (
            "pull list",
            template("openapi-examples/pulls.list.200.default.json"),
            get_json(r("/pulls")).await,
        ),
        (
            "reviews",
            template("openapi-examples/pulls.list-reviews.200.default.json"),
            get_json(r("/pulls/7/reviews")).await,
        ),
        (
            "files",
            template("openapi-examples/pulls.list-files.200.default.json"),
            get_json(r("/pulls/7/files")).await,
        ),
        (
            "comment",
            template("openapi-examples/issues.create-comment.201.default.json"),
            created_comment,
        ),
        (
            "comments",
            json!([template("captured/issues.list-comments.hoonsubin-TestyMcTest-18.json")[0]]),
            get_json(r("/issues/7/comments")).await,
        ),
        ("issue", recorded_issue, created_issue),
        (
            "events",
            json!([labeled]),
            get_json(r("/issues/7/events")).await,
        ),
        (
            "check run",
            template("openapi-examples/checks.create.201.example-of-completed-conclusion.json"),
            created_run,
        ),
        (
            "check runs",
            check_runs_list,
            get_json(r(&format!("/commits/{HEAD}/check-runs"))).await,
        ),
        (
            "ref",
            template("openapi-examples/git.create-ref.201.default.json"),
            created_ref,
        ),
        (
            "tag",
            template("openapi-examples/git.create-ref.201.default.json"),
            get_json(r("/git/ref/tags/v1.2.3")).await,
        ),
        (
            "compare",
            template("openapi-examples/repos.compare-commits-with-basehead.200.default.json"),
            get_json(r("/compare/main...develop")).await,
        ),
        (
            "commit",
            commit_template,
            get_json(r(&format!("/commits/{HEAD}"))).await,
        ),
        (
            "branch",
            template("octocrab-0.54.9/repo_branch.json"),
            get_json(r("/branches/main")).await,
        ),
        (
            "content",
            template("openapi-examples/repos.get-content.200.response-if-content-is-a-file.json"),
            get_json(r("/contents/VERSION")).await,
        ),
        (
            "membership",
            template(
                "openapi-examples/teams.get-membership-for-user-in-org.200.response-if-user-is-a-team-maintainer.json",
            ),
            get_json("/orgs/acme/teams/eng-leads/memberships/alice".into()).await,
        ),
        (
            "permission",
            template(
                "openapi-examples/repos.get-collaborator-permission-level.200.response-if-user-has-admin-permissions.json",
            ),
            get_json(r("/collaborators/alice/permission")).await,
        ),
        (
            "installations",
            json!([template("octocrab-0.54.9/installation_event.json")["installation"]]),
            app_json("/app/installations").await,
        ),
        (
            "deliveries",
            template("octocrab-0.54.9/hooks_delivery_list.json"),
            app_json("/app/hook/deliveries").await,
        ),
    ];
    for (what, template, actual) in &pairs {
        if let Value::Array(items) = actual {
            assert!(!items.is_empty(), "{what}: empty list proves nothing");
        }
        assert_has_keys(template, actual, what);
        assert_no_template_leftovers(actual, what);
    }
}

// ---------------------------------------------------------------- webhook helpers

#[test]
fn signatures_match_githubs_documented_example() {
    // From GitHub's "Validating webhook deliveries" documentation.
    assert_eq!(
        webhook::sign("It's a Secret to Everybody", b"Hello, World!"),
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    );
}

#[test]
fn payload_builders_describe_the_test_pull_request() {
    let spec = PrSpec {
        repo: "acme/shop".into(),
        number: 42,
        title: "fix: crash".into(),
        author: "dev".into(),
        head_ref: "hotfix/crash".into(),
        head_sha: HEAD.into(),
        base_ref: "main".into(),
        base_sha: BASE.into(),
        labels: vec!["hotfix".into(), "P0".into()],
        installation_id: 31,
        ..PrSpec::default()
    };
    for action in [
        "opened",
        "reopened",
        "synchronize",
        "labeled",
        "unlabeled",
        "edited",
        "ready_for_review",
        "closed",
    ] {
        let payload = webhook::pull_request_event(action, &spec);
        assert_eq!(payload["action"], action);
        assert_eq!(payload["number"], 42);
        assert_eq!(payload["repository"]["full_name"], "acme/shop");
        assert_eq!(payload["repository"]["owner"]["login"], "acme");
        assert_eq!(payload["repository"]["default_branch"], "main");
        assert_eq!(payload["installation"]["id"], 31);
        let pr = &payload["pull_request"];
        assert_eq!(pr["number"], 42);
        assert_eq!(pr["user"]["login"], "dev");
        assert_eq!(pr["head"]["ref"], "hotfix/crash");
        assert_eq!(pr["head"]["sha"], HEAD);
        assert_eq!(pr["base"]["sha"], BASE);
        assert_eq!(pr["labels"][1]["name"], "P0");
        assert_eq!(pr["url"], "https://api.github.com/repos/acme/shop/pulls/42");
        assert!(
            !payload.to_string().contains("Hello-World"),
            "{action}: old repository left in the payload"
        );
    }
    assert_eq!(
        webhook::pull_request_event("synchronize", &spec)["after"],
        HEAD
    );
    assert_eq!(
        webhook::pull_request_label_event("labeled", &spec, "P1")["label"]["name"],
        "P1"
    );
    let merged = webhook::pull_request_event(
        "closed",
        &PrSpec {
            merged: true,
            merge_commit_sha: Some("m".repeat(40)),
            merged_by: Some("lead".into()),
            ..spec.clone()
        },
    );
    assert_eq!(merged["pull_request"]["merged"], true);
    assert_eq!(merged["pull_request"]["state"], "closed");
    assert_eq!(merged["pull_request"]["merged_by"]["login"], "lead");

    let review = webhook::review_event(
        "submitted",
        &spec,
        &webhook::ReviewSpec::approved(5, "alice", HEAD),
    );
    assert_eq!(review["review"]["state"], "approved");
    assert_eq!(review["review"]["user"]["login"], "alice");
    assert_eq!(review["sender"]["login"], "alice");
    assert_eq!(review["pull_request"]["number"], 42);

    let comment = webhook::issue_comment_event(
        "created",
        "acme/shop",
        42,
        "alice",
        "/hotfix approve",
        99,
        31,
    );
    assert_eq!(comment["issue"]["number"], 42);
    assert!(comment["issue"]["pull_request"]["url"].is_string());
    assert_eq!(comment["comment"]["id"], 99);
    assert_eq!(comment["comment"]["body"], "/hotfix approve");
    assert_eq!(comment["comment"]["user"]["login"], "alice");
    assert_eq!(comment["installation"]["id"], 31);

    let rerun = webhook::check_run_rerequested(&webhook::CheckRunSpec {
        repo: "acme/shop".into(),
        check_run_id: 77,
        head_sha: HEAD.into(),
        pull_numbers: vec![42],
        installation_id: 31,
        ..webhook::CheckRunSpec::default()
    });
    assert_eq!(rerun["check_run"]["id"], 77);
    assert_eq!(rerun["check_run"]["name"], "hotfix-policy");
    assert_eq!(rerun["check_run"]["app"]["id"], APP_ID);
    assert_eq!(rerun["check_run"]["pull_requests"][0]["number"], 42);

    let push = webhook::push_event(
        "acme/shop",
        "refs/heads/main",
        &[".github/hotfix-policy.yml"],
        31,
    );
    assert_eq!(push["ref"], "refs/heads/main");
    assert_eq!(
        push["commits"][0]["modified"][0],
        ".github/hotfix-policy.yml"
    );
    assert_eq!(push["head_commit"]["id"], push["after"]);
    assert_eq!(push["repository"]["full_name"], "acme/shop");
    assert_eq!(push["installation"]["id"], 31);

    let mut pointed = webhook::pull_request_event("opened", &spec);
    webhook::point_urls_at(&mut pointed, "http://127.0.0.1:9/api/v3");
    assert_eq!(
        pointed["pull_request"]["url"],
        "http://127.0.0.1:9/api/v3/repos/acme/shop/pulls/42"
    );
    assert_eq!(
        pointed["pull_request"]["html_url"],
        "http://127.0.0.1:9/acme/shop/pull/42"
    );
}

#[test]
fn delivery_headers_sign_the_body() {
    let body = webhook::fixture_bytes("ping.json");
    let headers = webhook::delivery_headers("ping", "d-1", "s3cret", &body);
    let signature = headers
        .iter()
        .find(|(n, _)| n == "x-hub-signature-256")
        .map(|(_, v)| v.clone());
    assert_eq!(signature, Some(webhook::sign("s3cret", &body)));
    assert_ne!(
        webhook::sign("other", &body),
        webhook::sign("s3cret", &body)
    );
    assert_eq!(
        webhook::fixture("ping")["hook_id"],
        webhook::fixture("ping.json")["hook_id"]
    );
}
