//! Registering hotfix-guard as a GitHub App from the deployment itself,
//! through GitHub's manifest flow:
//!
//! 1. `GET /setup` serves a page whose button posts `app-manifest.json`,
//!    with this deployment's `PUBLIC_URL` filled in, to GitHub's new-app
//!    page (a user's, or an organisation's with `?org=NAME`), together with
//!    a random `state` that is also set in a cookie;
//! 2. the person names the app on GitHub and creates it; GitHub sends the
//!    browser back to `GET /setup/callback?code=…&state=…`;
//! 3. the callback checks the state against the cookie and the states this
//!    process issued, trades the code for the app's credentials (`POST
//!    /app-manifests/{code}/conversions`) and shows them once, with the
//!    `fly secrets set …` line to paste.
//!
//! The flow only runs in setup mode (`SETUP_MODE=1` and no app credentials,
//! see `config::ServeArgs::launch`). A configured deployment answers both
//! pages with 403 (`refused`): it already has an app, and a page that mints
//! app credentials should not stay open on a public address.
//!
//! Everything put into a page is HTML-escaped; the pages load nothing from
//! elsewhere and forbid it in their Content-Security-Policy.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use secrecy::ExposeSecret;
use serde::Deserialize;

use crate::github::manifest::{RegisteredApp, convert_manifest};

/// The permissions the app asks for: exactly what the calls in docs/contracts.md's
/// API table need. `app-manifest.json` and the README's table must agree
/// (tests/ops_manifest.rs).
pub const PERMISSIONS: &[(&str, &str)] = &[
    ("checks", "write"),
    ("pull_requests", "write"),
    ("issues", "write"),
    ("contents", "write"),
    ("members", "read"),
    ("metadata", "read"),
    ("statuses", "read"),
    ("deployments", "read"),
];

/// The webhook events the app subscribes to (README, "POST /webhook": the events
/// acted on). Installation events come without asking.
pub const EVENTS: &[&str] = &[
    "pull_request",
    "pull_request_review",
    "issue_comment",
    "check_run",
    "check_suite",
    "push",
    "status",
    "deployment_status",
];

/// The manifest, with placeholder URLs that `manifest` replaces.
pub const MANIFEST_TEMPLATE: &str = include_str!("../../app-manifest.json");

/// GitHub keeps a manifest code valid for an hour; so do we our states.
const STATE_TTL: Duration = Duration::from_secs(60 * 60);
/// Most used states remembered at once (to refuse a second use).
const MAX_STATES: usize = 1024;
const STATE_COOKIE: &str = "hotfix_guard_setup_state";
/// GitHub's limits on organisation logins and app names.
const MAX_ORG_LEN: usize = 39;
const MAX_APP_NAME_LEN: usize = 34;

/// The manifest to post for a deployment reachable at `public_url`
/// (`https://host`, no trailing slash): homepage, webhook and redirect URLs
/// point at it, and `name`, when given, replaces the default name.
pub fn manifest(public_url: &str, name: Option<&str>) -> Result<serde_json::Value, String> {
    let mut manifest: serde_json::Value = serde_json::from_str(MANIFEST_TEMPLATE)
        .map_err(|e| format!("app-manifest.json is not JSON: {e}"))?;
    let object = manifest
        .as_object_mut()
        .ok_or("app-manifest.json is not a JSON object")?;
    let base = public_url.trim_end_matches('/');
    object.insert("url".into(), base.into());
    object.insert(
        "redirect_url".into(),
        format!("{base}/setup/callback").into(),
    );
    object.insert(
        "hook_attributes".into(),
        serde_json::json!({ "url": format!("{base}/webhook"), "active": true }),
    );
    if let Some(name) = name {
        object.insert("name".into(), name.into());
    }
    Ok(manifest)
}

/// The web host of the GitHub behind `api_url`: `https://api.github.com` →
/// `https://github.com`; Enterprise Server `https://HOST/api/v3` →
/// `https://HOST`; GHE.com `https://api.SUB.ghe.com` → `https://SUB.ghe.com`.
/// Anything else is taken to serve both (a test double).
pub fn web_url(api_url: &str) -> String {
    let base = api_url.trim().trim_end_matches('/');
    if let Some(host) = base.strip_suffix("/api/v3") {
        return host.to_string();
    }
    for scheme in ["https://", "http://"] {
        if let Some(rest) = base.strip_prefix(scheme)
            && let Some(host) = rest.strip_prefix("api.")
        {
            return format!("{scheme}{host}");
        }
    }
    base.to_string()
}

/// Where the manifest is posted: the signed-in user's new-app page, or an
/// organisation's.
pub fn new_app_url(web_url: &str, org: Option<&str>, state: &str) -> String {
    match org {
        Some(org) => format!("{web_url}/organizations/{org}/settings/apps/new?state={state}"),
        None => format!("{web_url}/settings/apps/new?state={state}"),
    }
}

/// What setup mode needs: where GitHub is, where we are, and the flow's
/// short-lived memory.
pub struct SetupState {
    api_url: String,
    web_url: String,
    public_url: String,
    /// States already used at the callback (not issued ones: those are
    /// signed, see `issue_state`).
    states: Mutex<HashMap<String, Instant>>,
    /// This process's key for signing states; 256 random bits.
    state_key: [u8; 32],
    /// Set once an app was registered: the flow does not run twice.
    registered: AtomicBool,
}

impl SetupState {
    /// `api_url` as `GITHUB_API_URL`; `public_url` as `PUBLIC_URL`.
    pub fn new(api_url: &str, public_url: &str) -> SetupState {
        let api_url = api_url.trim().trim_end_matches('/').to_string();
        SetupState {
            web_url: web_url(&api_url),
            api_url,
            public_url: public_url.trim().trim_end_matches('/').to_string(),
            states: Mutex::new(HashMap::new()),
            state_key: random_key(),
            registered: AtomicBool::new(false),
        }
    }

    /// A state token needing no memory until it is used:
    /// `<issued, unix seconds>.<128 random bits, hex>.<HMAC-SHA256 of the two
    /// under this process's random key, hex>`. Anonymous page views cannot
    /// evict anything: nothing is stored per view.
    fn issue_state(&self) -> String {
        let issued = unix_now();
        let body = format!("{issued}.{}", random_token());
        let mac = hex::encode(self.state_mac(&body));
        format!("{body}.{mac}")
    }

    fn state_mac(&self, body: &str) -> [u8; 32] {
        use hmac::Mac as _;
        let mut mac = match hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.state_key) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        };
        mac.update(body.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// True once for a state this process signed within the last hour. The
    /// MAC is compared in constant time; only used states are remembered
    /// (at most `MAX_STATES`, oldest forgotten first), so that one cannot
    /// complete two registrations.
    fn take_state(&self, state: &str) -> bool {
        use hmac::Mac as _;
        let Some((body, mac_hex)) = state.rsplit_once('.') else {
            return false;
        };
        let mut given = [0u8; 32];
        if mac_hex.len() != 64 || hex::decode_to_slice(mac_hex, &mut given).is_err() {
            return false;
        }
        let mut mac = match hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.state_key) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        };
        mac.update(body.as_bytes());
        if mac.verify_slice(&given).is_err() {
            return false;
        }
        let Some(issued) = body
            .split_once('.')
            .and_then(|(t, _)| t.parse::<u64>().ok())
        else {
            return false;
        };
        if unix_now().saturating_sub(issued) >= STATE_TTL.as_secs() {
            return false;
        }
        let mut spent = self.states.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        spent.retain(|_, at| now.duration_since(*at) < STATE_TTL);
        if spent.contains_key(state) {
            return false;
        }
        if spent.len() >= MAX_STATES
            && let Some(oldest) = spent
                .iter()
                .min_by_key(|(_, at)| **at)
                .map(|(s, _)| s.clone())
        {
            spent.remove(&oldest);
        }
        spent.insert(state.to_string(), now);
        true
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Setup mode's whole router: the two pages, liveness, and a `/webhook`
/// that says no app is configured yet (GitHub pings it on creation).
pub fn router(state: Arc<SetupState>) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to("/setup") }))
        .route("/setup", get(setup_page))
        .route("/setup/callback", get(callback))
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/webhook",
            post(|| async {
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "hotfix-guard is in setup mode: no GitHub App is configured yet\n",
                )
            }),
        )
        .with_state(state)
}

/// For a configured deployment: both pages answer 403.
pub fn refused<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/setup", get(refused_page))
        .route("/setup/callback", get(refused_page))
}

async fn refused_page() -> Response {
    page(
        StatusCode::FORBIDDEN,
        "Already configured",
        "<p>This hotfix-guard deployment already runs as a registered GitHub App \
         (<code>GITHUB_APP_ID</code> is set), so app registration is off here.</p>\
         <p>To register another app, start a separate instance with \
         <code>SETUP_MODE=1</code> and without <code>GITHUB_APP_ID</code>, \
         <code>GITHUB_PRIVATE_KEY</code> and <code>GITHUB_WEBHOOK_SECRET</code>, \
         and open its <code>/setup</code> page.</p>",
        None,
    )
}

fn already_registered() -> Response {
    page(
        StatusCode::FORBIDDEN,
        "Already registered",
        "<p>An app was already registered through this page. Set its credentials \
         (<code>GITHUB_APP_ID</code>, <code>GITHUB_WEBHOOK_SECRET</code>, \
         <code>GITHUB_PRIVATE_KEY</code>) and restart; to register another app, \
         restart in setup mode first.</p>",
        None,
    )
}

#[derive(Deserialize)]
struct SetupQuery {
    org: Option<String>,
    name: Option<String>,
}

async fn setup_page(State(state): State<Arc<SetupState>>, Query(q): Query<SetupQuery>) -> Response {
    if state.registered.load(Ordering::SeqCst) {
        return already_registered();
    }
    let org = match q.org.as_deref().map(str::trim).filter(|o| !o.is_empty()) {
        None => None,
        Some(org) if valid_org(org) => Some(org),
        Some(_) => {
            return page(
                StatusCode::BAD_REQUEST,
                "Not an organisation name",
                "<p>An organisation name has at most 39 letters, digits and \
                 single hyphens, and does not start with a hyphen.</p>\
                 <p><a href=\"/setup\">Back</a></p>",
                None,
            );
        }
    };
    let name = match q.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        None => None,
        Some(name)
            if name.chars().count() <= MAX_APP_NAME_LEN && !name.contains(char::is_control) =>
        {
            Some(name)
        }
        Some(_) => {
            return page(
                StatusCode::BAD_REQUEST,
                "Not an app name",
                "<p>A GitHub App name has at most 34 characters.</p>\
                 <p><a href=\"/setup\">Back</a></p>",
                None,
            );
        }
    };
    let manifest = match manifest(&state.public_url, name) {
        Ok(manifest) => manifest.to_string(),
        Err(e) => {
            tracing::error!(error = %e, "cannot build the app manifest");
            return page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Broken manifest",
                &format!("<p>{}</p>", escape(&e)),
                None,
            );
        }
    };
    let token = state.issue_state();
    let action = new_app_url(&state.web_url, org, &token);
    let owner = match org {
        Some(org) => format!("the organisation <strong>{}</strong>", escape(org)),
        None => "your own account (the one signed in on GitHub)".to_string(),
    };
    let mut body = String::new();
    let _ = write!(
        body,
        "<p>This creates a GitHub App for {owner} on <code>{web}</code>, set up for this \
         deployment: GitHub will send its webhooks to <code>{hook}</code>. GitHub lets you \
         change the app's name before you create it.</p>\
         <form method=\"post\" action=\"{action}\">\
         <input type=\"hidden\" name=\"manifest\" value=\"{manifest}\">\
         <button type=\"submit\">Create the GitHub App on GitHub</button></form>\
         <h2>Permissions it asks for</h2><ul>",
        web = escape(&state.web_url),
        hook = escape(&format!("{}/webhook", state.public_url)),
        action = escape(&action),
        manifest = escape(&manifest),
    );
    for (permission, access) in PERMISSIONS {
        let _ = write!(
            body,
            "<li><code>{}</code>: {}</li>",
            escape(permission),
            escape(access)
        );
    }
    let _ = write!(body, "</ul><h2>Events it receives</h2><p>");
    let events: Vec<String> = EVENTS
        .iter()
        .map(|e| format!("<code>{}</code>", escape(e)))
        .collect();
    let _ = write!(
        body,
        "{}</p>\
         <h2>For an organisation, or under another name</h2>\
         <form method=\"get\" action=\"/setup\">\
         <label>Organisation <input name=\"org\" value=\"{org}\" maxlength=\"39\"></label> \
         <label>App name <input name=\"name\" value=\"{name}\" maxlength=\"34\"></label> \
         <button type=\"submit\">Update</button></form>",
        events.join(", "),
        org = escape(org.unwrap_or("")),
        name = escape(name.unwrap_or("")),
    );
    let mut response = page(
        StatusCode::OK,
        "Register hotfix-guard",
        &body,
        Some(&state.web_url),
    );
    let secure = if state.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{STATE_COOKIE}={token}; Path=/setup; Max-Age={}; HttpOnly; SameSite=Lax{secure}",
        STATE_TTL.as_secs()
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
}

async fn callback(
    State(state): State<Arc<SetupState>>,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> Response {
    if state.registered.load(Ordering::SeqCst) {
        return already_registered();
    }
    let start_again = "<p><a href=\"/setup\">Start again</a></p>";
    let Some(code) = q.code.as_deref().filter(|c| !c.trim().is_empty()) else {
        return page(
            StatusCode::BAD_REQUEST,
            "No code",
            &format!(
                "<p>GitHub sends the browser here with a <code>code</code>; this request has none.</p>{start_again}"
            ),
            None,
        );
    };
    let given = q.state.as_deref().unwrap_or("");
    let cookie = cookie_value(&headers, STATE_COOKIE);
    // The state must be one we issued *and* the one this browser was given:
    // otherwise someone could have us show their app's credentials to us.
    if given.is_empty() || cookie.as_deref() != Some(given) || !state.take_state(given) {
        tracing::warn!("setup callback with an unknown, expired or foreign state refused");
        return page(
            StatusCode::BAD_REQUEST,
            "Unknown or expired request",
            &format!(
                "<p>This registration was not started from this browser's <code>/setup</code> \
                 page within the last hour, or was already completed.</p>{start_again}"
            ),
            None,
        );
    }
    match convert_manifest(&state.api_url, code).await {
        Ok(app) => {
            state.registered.store(true, Ordering::SeqCst);
            tracing::info!(app_id = app.id, slug = %app.slug, "GitHub App registered from the manifest");
            let mut response = page(
                StatusCode::OK,
                "GitHub App registered",
                &credentials(&app),
                None,
            );
            // The cookie has done its job.
            if let Ok(value) = HeaderValue::from_str(&format!(
                "{STATE_COOKIE}=; Path=/setup; Max-Age=0; HttpOnly; SameSite=Lax"
            )) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            response
        }
        Err(e) => {
            tracing::warn!(error = %e, "manifest code exchange failed");
            page(
                StatusCode::BAD_GATEWAY,
                "GitHub did not hand over the app",
                &format!(
                    "<p>Exchanging the code failed: {}</p>\
                     <p>Codes are valid for an hour and only once. If the app was created, \
                     delete it in GitHub's settings (Developer settings → GitHub Apps) or \
                     generate a private key and webhook secret there by hand.</p>{start_again}",
                    escape(&e.to_string())
                ),
                None,
            )
        }
    }
}

/// The one page that shows the new app's secrets.
fn credentials(app: &RegisteredApp) -> String {
    let secret = app.webhook_secret.expose_secret();
    let pem = app.pem.expose_secret().trim();
    let mut fly = format!("fly secrets set GITHUB_APP_ID={}", app.id);
    if !secret.is_empty() {
        let _ = write!(fly, " GITHUB_WEBHOOK_SECRET={}", shell_quote(secret));
    }
    fly.push_str(" GITHUB_PRIVATE_KEY=\"$(cat key.pem)\"");
    let mut body = format!(
        "<p><strong>GitHub shows the private key and the webhook secret only now, and this page \
         is not stored anywhere: copy them before you leave it.</strong></p>\
         <dl><dt>Name</dt><dd>{name}</dd><dt>App id</dt><dd><code>{id}</code></dd>",
        name = escape(&app.name),
        id = app.id,
    );
    if secret.is_empty() {
        body.push_str(
            "<dt>Webhook secret</dt><dd>GitHub generated none: set one in the app's settings \
             and use it as <code>GITHUB_WEBHOOK_SECRET</code>.</dd>",
        );
    } else {
        let _ = write!(
            body,
            "<dt>Webhook secret</dt><dd><code>{}</code></dd>",
            escape(secret)
        );
    }
    let _ = write!(
        body,
        "</dl><h2>Private key</h2><p>Save this as <code>key.pem</code>:</p><pre>{pem}</pre>\
         <h2>Configure this deployment</h2>\
         <p>On Fly.io, in the directory with <code>fly.toml</code> and <code>key.pem</code>:</p>\
         <pre>{fly}</pre>\
         <p>Fly restarts the app with these secrets; it then receives webhooks, and this page \
         answers 403. Anywhere else, set the same three variables (or \
         <code>GITHUB_PRIVATE_KEY_PATH</code> to the file) and restart without \
         <code>SETUP_MODE</code>. Afterwards delete <code>key.pem</code> or keep it in a \
         password manager.</p>",
        pem = escape(pem),
        fly = escape(&fly),
    );
    let html_url = app.html_url.trim_end_matches('/');
    if html_url.starts_with("https://") || html_url.starts_with("http://") {
        let _ = write!(
            body,
            "<h2>Install it</h2><p><a href=\"{url}/installations/new\">Install {name}</a> on \
             the repositories it should guard, then make <code>hotfix-policy</code> a required \
             status check with this app as its source.</p>",
            url = escape(html_url),
            name = escape(&app.name),
        );
    }
    body
}

/// A whole page. `form_target` is the origin the page's button may post to.
fn page(status: StatusCode, title: &str, body: &str, form_target: Option<&str>) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · hotfix-guard</title><style>\
         body{{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1f2328}}\
         code,pre{{font-family:ui-monospace,monospace;background:#f6f8fa;border-radius:4px}}\
         code{{padding:0 .2em}}pre{{padding:.75rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all}}\
         button{{font-size:1rem;padding:.5rem 1rem;cursor:pointer}}label{{margin-right:1rem}}\
         </style></head><body><h1>{title}</h1>{body}</body></html>",
        title = escape(title),
    );
    let form_action = match form_target {
        Some(target) => format!("'self' {target}"),
        None => "'self'".to_string(),
    };
    let csp = format!(
        "default-src 'none'; style-src 'unsafe-inline'; form-action {form_action}; \
         frame-ancestors 'none'; base-uri 'none'"
    );
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if let Ok(value) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// Text made safe for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A POSIX shell word that stands for `text` exactly.
fn shell_quote(text: &str) -> String {
    if !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.+/=:".contains(c))
    {
        return text.to_string();
    }
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// GitHub logins: letters, digits and single hyphens, not at either end.
fn valid_org(org: &str) -> bool {
    !org.is_empty()
        && org.len() <= MAX_ORG_LEN
        && org.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !org.starts_with('-')
        && !org.ends_with('-')
        && !org.contains("--")
}

fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_string())
}

/// 256 random bits for the state key, from the OS (`getrandom`).
fn random_key() -> [u8; 32] {
    let mut key = [0u8; 32];
    random_bytes(&mut key);
    key
}

/// 128 random bits as hex, from the OS (`getrandom`).
fn random_token() -> String {
    let mut bytes = [0u8; 16];
    random_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Fills `bytes` from the OS; should the OS refuse (it does not on the
/// platforms we ship), from std's randomly keyed SipHash, unpredictable
/// without its key, which never leaves the process.
fn random_bytes(bytes: &mut [u8]) {
    if getrandom::fill(bytes).is_ok() {
        return;
    }
    use std::hash::BuildHasher as _;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let keyed = std::collections::hash_map::RandomState::new();
    for (i, chunk) in bytes.chunks_mut(8).enumerate() {
        let word = keyed.hash_one((nanos, i)).to_le_bytes();
        chunk.copy_from_slice(&word[..chunk.len()]);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_points_at_this_deployment() {
        let m = manifest("https://guard.fly.dev/", Some("acme-guard")).unwrap();
        assert_eq!(m["url"], "https://guard.fly.dev");
        assert_eq!(m["hook_attributes"]["url"], "https://guard.fly.dev/webhook");
        assert_eq!(m["hook_attributes"]["active"], true);
        assert_eq!(m["redirect_url"], "https://guard.fly.dev/setup/callback");
        assert_eq!(m["name"], "acme-guard");
        assert_eq!(m["public"], false);
        let unnamed = manifest("https://guard.fly.dev", None).unwrap();
        assert_eq!(unnamed["name"], "hotfix-guard");
    }

    #[test]
    fn the_manifest_file_asks_for_what_the_code_lists() {
        let m = manifest("https://x", None).unwrap();
        let permissions: Vec<(String, String)> = m["default_permissions"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect();
        let mut want: Vec<(String, String)> = PERMISSIONS
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut got = permissions;
        got.sort();
        want.sort();
        assert_eq!(got, want);
        let events: Vec<&str> = m["default_events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap())
            .collect();
        assert_eq!(events, EVENTS);
    }

    #[test]
    fn derives_the_web_host_from_the_api_url() {
        let cases = [
            ("https://api.github.com", "https://github.com"),
            ("https://api.github.com/", "https://github.com"),
            ("https://ghe.acme.com/api/v3", "https://ghe.acme.com"),
            ("https://ghe.acme.com/api/v3/", "https://ghe.acme.com"),
            ("https://api.acme.ghe.com", "https://acme.ghe.com"),
            ("http://127.0.0.1:4000", "http://127.0.0.1:4000"),
        ];
        for (api, web) in cases {
            assert_eq!(web_url(api), web, "{api}");
        }
    }

    #[test]
    fn posts_to_the_user_or_the_organisation() {
        assert_eq!(
            new_app_url("https://github.com", None, "s1"),
            "https://github.com/settings/apps/new?state=s1"
        );
        assert_eq!(
            new_app_url("https://ghe.acme.com", Some("acme"), "s2"),
            "https://ghe.acme.com/organizations/acme/settings/apps/new?state=s2"
        );
    }

    #[test]
    fn escapes_html_and_shell() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(shell_quote("abc123"), "abc123");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote("$(rm -rf /)"), "'$(rm -rf /)'");
    }

    #[test]
    fn organisation_names() {
        for ok in ["acme", "acme-corp", "a", "A1-b2"] {
            assert!(valid_org(ok), "{ok}");
        }
        let long = "a".repeat(40);
        for bad in [
            "",
            "-acme",
            "acme-",
            "ac--me",
            "ac me",
            "acme/x",
            "<b>",
            long.as_str(),
        ] {
            assert!(!valid_org(bad), "{bad}");
        }
    }

    #[test]
    fn states_are_random_single_use_and_expire_from_the_store() {
        let state = SetupState::new("https://api.github.com", "https://x");
        let a = state.issue_state();
        let b = state.issue_state();
        assert_ne!(a, b);
        assert!(state.take_state(&a));
        assert!(!state.take_state(&a), "a state works once");
        assert!(!state.take_state("made-up"));
        // Anonymous page views store nothing, so they evict nothing.
        for _ in 0..MAX_STATES + 10 {
            state.issue_state();
        }
        assert_eq!(state.states.lock().unwrap().len(), 1);
        assert!(state.take_state(&b), "b survives any number of page views");
        // Another process's (or a forged) signature, a changed time, an
        // expired state.
        let other = SetupState::new("https://api.github.com", "https://x");
        assert!(!state.take_state(&other.issue_state()));
        let c = state.issue_state();
        let (issued, rest) = c.split_once('.').unwrap();
        let moved = format!("{}.{rest}", issued.parse::<u64>().unwrap() + 1);
        assert!(!state.take_state(&moved));
        let old = format!("{}.{}", unix_now() - STATE_TTL.as_secs(), random_token());
        let old = format!("{old}.{}", hex::encode(state.state_mac(&old)));
        assert!(!state.take_state(&old), "an hour-old state has expired");
        assert!(state.take_state(&c));
    }

    #[test]
    fn reads_one_cookie_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; hotfix_guard_setup_state=abc; b=2"),
        );
        assert_eq!(cookie_value(&headers, STATE_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie_value(&headers, "c"), None);
    }
}
