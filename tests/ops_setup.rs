//! The registration flow (`GET /setup`, `GET /setup/callback`) against the
//! fake GitHub: the page posts our manifest with a state bound to the
//! browser, the callback exchanges the code (`POST
//! /app-manifests/{code}/conversions`) and shows the credentials once, and a
//! configured app refuses both pages.

use crate::common;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::Value;
use tower::ServiceExt;

use common::fake_github::{APP_ID, FakeGitHub};
use common::harness::Harness;
use common::webhook::TestKey;
use hotfix_guard::server::setup::{self, SetupState};

const PUBLIC: &str = "https://guard.example.org";

struct Page {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    html: String,
}

async fn get(router: &Router, uri: &str, cookie: Option<&str>) -> Page {
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
    let headers = res.headers().clone();
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .expect("body");
    Page {
        status,
        headers,
        html: String::from_utf8(body.to_vec()).expect("utf-8"),
    }
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The value of `attr="…"` right after `marker` in the page.
fn attribute(html: &str, marker: &str, attr: &str) -> String {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in {html}"));
    let rest = &html[at..];
    let start = rest.find(&format!("{attr}=\"")).expect("attribute") + attr.len() + 2;
    let end = rest[start..].find('"').expect("closing quote");
    unescape(&rest[start..start + end])
}

/// The page's form target, its manifest and the cookie it set.
fn form(page: &Page) -> (String, Value, String) {
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    let action = attribute(&page.html, "<form method=\"post\"", "action");
    let manifest = attribute(&page.html, "name=\"manifest\"", "value");
    let manifest: Value = serde_json::from_str(&manifest).expect("the manifest is JSON");
    let cookie = page
        .headers
        .get(header::SET_COOKIE)
        .expect("a state cookie")
        .to_str()
        .expect("ascii")
        .split(';')
        .next()
        .expect("name=value")
        .to_string();
    (action, manifest, cookie)
}

fn state_of(action: &str) -> String {
    action
        .split("state=")
        .nth(1)
        .expect("a state parameter")
        .to_string()
}

fn setup_router(gh: &FakeGitHub) -> Router {
    setup::router(Arc::new(SetupState::new(&gh.url(), PUBLIC)))
}

#[tokio::test]
async fn registers_an_app_and_shows_its_credentials_once() {
    let gh = FakeGitHub::start().await;
    let router = setup_router(&gh);

    let page = get(&router, "/setup", None).await;
    let (action, manifest, cookie) = form(&page);
    // The fake serves GitHub's web pages at its origin, like github.com.
    let state = state_of(&action);
    assert_eq!(
        action,
        format!("{}/settings/apps/new?state={state}", gh.origin())
    );
    assert!(state.len() >= 32, "{state}");
    assert_eq!(
        manifest["hook_attributes"]["url"],
        format!("{PUBLIC}/webhook")
    );
    assert_eq!(manifest["redirect_url"], format!("{PUBLIC}/setup/callback"));
    assert_eq!(manifest["url"], PUBLIC);
    assert_eq!(manifest["public"], false);
    assert_eq!(cookie, format!("hotfix_guard_setup_state={state}"));
    let csp = page.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .expect("csp");
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(
        csp.contains(&gh.origin()),
        "the form may post to GitHub: {csp}"
    );
    assert_eq!(page.headers[header::CACHE_CONTROL], "no-store");

    // GitHub created the app and sends the browser back.
    let conversion = gh.add_manifest_code("code-123");
    let done = get(
        &router,
        &format!("/setup/callback?code=code-123&state={state}"),
        Some(&cookie),
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.html);
    assert_eq!(gh.count("POST", "/app-manifests/code-123/conversions"), 1);
    let text = unescape(&done.html);
    assert!(text.contains(&format!("<code>{APP_ID}</code>")), "{text}");
    assert!(text.contains(&conversion.webhook_secret));
    assert!(
        text.contains(TestKey::private_pem().trim()),
        "the whole key is shown"
    );
    assert!(
        text.contains(&format!(
            "fly secrets set GITHUB_APP_ID={APP_ID} GITHUB_WEBHOOK_SECRET={} GITHUB_PRIVATE_KEY=\"$(cat key.pem)\"",
            conversion.webhook_secret
        )),
        "{text}"
    );
    assert!(text.contains(&format!("{}/installations/new", conversion.html_url)));
    assert_eq!(done.headers[header::CACHE_CONTROL], "no-store");

    // Once: neither the page nor the callback runs again.
    let again = get(&router, "/setup", None).await;
    assert_eq!(again.status, StatusCode::FORBIDDEN);
    let replay = get(
        &router,
        &format!("/setup/callback?code=code-123&state={state}"),
        Some(&cookie),
    )
    .await;
    assert_eq!(replay.status, StatusCode::FORBIDDEN);
    assert_eq!(gh.count("POST", "/app-manifests/"), 1);
}

#[tokio::test]
async fn an_organisation_gets_its_own_new_app_page_and_bad_names_are_refused() {
    let gh = FakeGitHub::start().await;
    let router = setup_router(&gh);
    let page = get(&router, "/setup?org=acme-corp&name=Acme%20Guard", None).await;
    let (action, manifest, _) = form(&page);
    assert!(
        action.starts_with(&format!(
            "{}/organizations/acme-corp/settings/apps/new?state=",
            gh.origin()
        )),
        "{action}"
    );
    assert_eq!(manifest["name"], "Acme Guard");

    for bad in [
        "/setup?org=%3Cscript%3E",
        "/setup?org=acme/evil",
        "/setup?org=-acme",
        "/setup?name=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    ] {
        let page = get(&router, bad, None).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(!page.html.contains("<script>"), "{bad}: {}", page.html);
    }
}

#[tokio::test]
async fn what_a_name_holds_is_escaped_into_the_page() {
    let gh = FakeGitHub::start().await;
    let router = setup_router(&gh);
    let page = get(&router, "/setup?name=%22%3E%3Cb%3Eguard%3C%2Fb%3E", None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.html.contains("<b>guard"), "{}", page.html);
    let (_, manifest, _) = form(&page);
    assert_eq!(manifest["name"], "\"><b>guard</b>");
}

#[tokio::test]
async fn a_callback_needs_the_state_this_browser_was_given() {
    let gh = FakeGitHub::start().await;
    let router = setup_router(&gh);
    let (action, _, cookie) = form(&get(&router, "/setup", None).await);
    let state = state_of(&action);
    let (other_action, _, other_cookie) = form(&get(&router, "/setup", None).await);
    gh.add_manifest_code("c1");

    let cases = [
        (
            "no state",
            "/setup/callback?code=c1".to_string(),
            Some(cookie.clone()),
        ),
        (
            "no cookie",
            format!("/setup/callback?code=c1&state={state}"),
            None,
        ),
        (
            "made-up state",
            "/setup/callback?code=c1&state=feedface".to_string(),
            Some("hotfix_guard_setup_state=feedface".to_string()),
        ),
        (
            "another browser's state",
            format!("/setup/callback?code=c1&state={}", state_of(&other_action)),
            Some(cookie.clone()),
        ),
        (
            "no code",
            format!("/setup/callback?state={state}"),
            Some(cookie.clone()),
        ),
    ];
    for (case, uri, cookie) in cases {
        let page = get(&router, &uri, cookie.as_deref()).await;
        assert_eq!(
            page.status,
            StatusCode::BAD_REQUEST,
            "{case}: {}",
            page.html
        );
    }
    assert_eq!(gh.count("POST", "/app-manifests/"), 0, "no code was spent");

    // The other browser can still finish with its own state and cookie.
    let other_state = state_of(&other_action);
    let done = get(
        &router,
        &format!("/setup/callback?code=c1&state={other_state}"),
        Some(&other_cookie),
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.html);
}

#[tokio::test]
async fn a_code_github_does_not_know_is_reported_and_can_be_started_again() {
    let gh = FakeGitHub::start().await;
    let router = setup_router(&gh);
    let (action, _, cookie) = form(&get(&router, "/setup", None).await);
    let state = state_of(&action);
    let page = get(
        &router,
        &format!("/setup/callback?code=expired&state={state}"),
        Some(&cookie),
    )
    .await;
    assert_eq!(page.status, StatusCode::BAD_GATEWAY);
    assert!(page.html.contains("404"), "{}", page.html);
    assert!(page.html.contains("href=\"/setup\""));
    // Nothing was registered: the page still works.
    assert_eq!(get(&router, "/setup", None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn works_against_github_enterprise_server() {
    let gh = FakeGitHub::start_with_prefix("/api/v3").await;
    let router = setup::router(Arc::new(SetupState::new(&gh.url(), PUBLIC)));
    let (action, _, cookie) = form(&get(&router, "/setup", None).await);
    // https://HOST/api/v3 → https://HOST
    assert!(
        action.starts_with(&format!("{}/settings/apps/new", gh.origin())),
        "{action}"
    );
    gh.add_manifest_code("ghes");
    let done = get(
        &router,
        &format!("/setup/callback?code=ghes&state={}", state_of(&action)),
        Some(&cookie),
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.html);
}

#[tokio::test]
async fn a_configured_app_refuses_the_registration_pages() {
    let h = Harness::start().await;
    for uri in [
        "/setup",
        "/setup?org=acme",
        "/setup/callback?code=x&state=y",
    ] {
        let page = get(&h.app.router, uri, None).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{uri}");
        assert!(page.html.contains("already"), "{}", page.html);
    }
    assert_eq!(h.gh.count("POST", "/app-manifests/"), 0);
}

#[tokio::test]
async fn setup_mode_answers_health_checks_and_turns_webhooks_away() {
    let gh = FakeGitHub::start().await;
    let router = setup_router(&gh);
    let health = get(&router, "/healthz", None).await;
    assert_eq!(
        (health.status, health.html.as_str()),
        (StatusCode::OK, "ok")
    );
    let res = router
        .clone()
        .oneshot(
            Request::post("/webhook")
                .body(Body::from("{}"))
                .expect("request"),
        )
        .await
        .expect("infallible");
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
}
