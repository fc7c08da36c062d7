//! Registration state cannot be evicted by anonymous traffic: the state an
//! administrator's `/setup` page was given still completes the callback
//! after any number of anonymous page views, because states are signed
//! rather than stored.

use crate::common;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tower::ServiceExt;

use common::fake_github::FakeGitHub;
use hotfix_guard::server::setup::{self, SetupState};

async fn get(
    router: &Router,
    uri: &str,
    cookie: Option<&str>,
) -> (StatusCode, Option<String>, String) {
    let mut req = Request::get(uri);
    if let Some(cookie) = cookie {
        req = req.header(header::COOKIE, cookie);
    }
    let res = router
        .clone()
        .oneshot(req.body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    let status = res.status();
    let cookie = res
        .headers()
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_string);
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .expect("body");
    (status, cookie, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn an_administrators_pending_registration_survives_a_flood_of_anonymous_page_views() {
    let gh = FakeGitHub::start().await;
    let router = setup::router(Arc::new(SetupState::new(
        &gh.url(),
        "https://guard.example.org",
    )));
    let (status, cookie, _) = get(&router, "/setup", None).await;
    assert_eq!(status, StatusCode::OK);
    let cookie = cookie.expect("a state cookie");
    let state = cookie
        .strip_prefix("hotfix_guard_setup_state=")
        .expect("the state cookie")
        .to_string();

    // More page views than the old in-memory store held (1,024).
    for _ in 0..1_100 {
        let (status, _, _) = get(&router, "/setup", None).await;
        assert_eq!(status, StatusCode::OK);
    }

    gh.add_manifest_code("code-9");
    let (status, _, html) = get(
        &router,
        &format!("/setup/callback?code=code-9&state={state}"),
        Some(&cookie),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("GitHub App registered"), "{html}");
    assert_eq!(gh.count("POST", "/app-manifests/code-9/conversions"), 1);
}

#[tokio::test]
async fn a_forged_state_with_a_matching_cookie_is_refused() {
    let gh = FakeGitHub::start().await;
    let router = setup::router(Arc::new(SetupState::new(
        &gh.url(),
        "https://guard.example.org",
    )));
    gh.add_manifest_code("code-1");
    // Time and nonce in the right shape, a MAC made up.
    let forged = format!(
        "{}.{}.{}",
        1_900_000_000u64,
        "ab".repeat(16),
        "cd".repeat(32)
    );
    let (status, _, html) = get(
        &router,
        &format!("/setup/callback?code=code-1&state={forged}"),
        Some(&format!("hotfix_guard_setup_state={forged}")),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
    assert!(html.contains("Unknown or expired request"), "{html}");
    assert_eq!(gh.count("POST", "/app-manifests/"), 0);
}
