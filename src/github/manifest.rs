//! The one call of the GitHub App manifest flow: trading the temporary code
//! GitHub hands back after someone registered the app for its credentials.
//!
//! `POST /app-manifests/{code}/conversions` needs no authentication (the
//! code, valid one hour and only once, is the proof), so it does not go
//! through `http::Core`, whose every request carries a credential. It is
//! sent once, never retried: a second attempt with a spent code can only
//! fail, and the person waiting in the browser can simply start again.

use std::time::Duration;

use http::header::ACCEPT;
use http::{Method, Uri};
use octocrab::Octocrab;
use secrecy::SecretString;
use serde::Deserialize;

use super::error::{ErrorKind, GitHubError};
use super::http::{JSON, encode_path};

const ROUTE: &str = "POST /app-manifests/{code}/conversions";

/// How long the exchange may take before the page reports a failure.
const TIMEOUT: Duration = Duration::from_secs(15);

/// The app GitHub registered from our manifest, with its secrets. GitHub
/// shows the private key and the webhook secret only in this answer.
#[derive(Debug)]
pub struct RegisteredApp {
    pub id: u64,
    pub slug: String,
    pub name: String,
    /// `https://github.com/apps/{slug}`: where it is installed from.
    pub html_url: String,
    pub owner: Option<String>,
    pub webhook_secret: SecretString,
    /// The app's private key, PEM text.
    pub pem: SecretString,
}

#[derive(Deserialize)]
struct Wire {
    id: u64,
    #[serde(default)]
    slug: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    html_url: String,
    #[serde(default)]
    owner: Option<WireOwner>,
    #[serde(default)]
    webhook_secret: Option<String>,
    pem: String,
}

#[derive(Deserialize)]
struct WireOwner {
    login: String,
}

/// `POST {api_url}/app-manifests/{code}/conversions`. `api_url` is the
/// REST base (`https://api.github.com`, or `https://HOST/api/v3`).
pub async fn convert_manifest(api_url: &str, code: &str) -> Result<RegisteredApp, GitHubError> {
    let code = code.trim();
    if code.is_empty() || code.len() > 256 {
        return Err(GitHubError::new(
            ErrorKind::Validation("the code from GitHub is missing or malformed".into()),
            ROUTE,
        ));
    }
    let base: Uri = api_url
        .trim()
        .trim_end_matches('/')
        .parse()
        .map_err(|e| GitHubError::config(format!("API URL {api_url:?} is not a URL: {e}")))?;
    let octo = Octocrab::builder()
        .base_uri(base)
        .map_err(|e| GitHubError::config(format!("API URL {api_url:?}: {e}")))?
        .set_connect_timeout(Some(TIMEOUT))
        .set_read_timeout(Some(TIMEOUT))
        .build()
        .map_err(|e| GitHubError::config(format!("HTTP client: {e}")))?;
    let path = format!("/app-manifests/{}/conversions", encode_path(code, false));
    let request = http::Request::builder()
        .method(Method::POST)
        .uri(path.as_str())
        .header(ACCEPT, JSON);
    let request = octo
        .build_request::<()>(request, None)
        .map_err(|e| decode_error(format!("building the request: {e}")))?;
    let exchange = async {
        let response = octo
            .execute(request)
            .await
            .map_err(|e| GitHubError::new(ErrorKind::Transport(one_line(&e)), ROUTE))?;
        let status = response.status().as_u16();
        let body = octo
            .body_to_string(response)
            .await
            .map_err(|e| GitHubError::new(ErrorKind::Transport(one_line(&e)), ROUTE))?;
        Ok::<_, GitHubError>((status, body))
    };
    let (status, body) = tokio::time::timeout(TIMEOUT, exchange)
        .await
        .map_err(|_| {
            GitHubError::new(
                ErrorKind::Transport(format!("no answer within {} s", TIMEOUT.as_secs())),
                ROUTE,
            )
        })??;
    if !(200..300).contains(&status) {
        let kind = match status {
            404 => ErrorKind::NotFound,
            401 => ErrorKind::Unauthorized,
            403 => ErrorKind::Forbidden,
            s if s >= 500 => ErrorKind::Server { status: s },
            _ => ErrorKind::Validation(message(&body)),
        };
        return Err(GitHubError::new(kind, ROUTE)
            .with_status(status)
            .with_attempts(1));
    }
    let wire: Wire = serde_json::from_str(&body).map_err(|e| decode_error(e.to_string()))?;
    if !wire.pem.contains("-----BEGIN") {
        return Err(decode_error("the answer holds no PEM private key".into()));
    }
    Ok(RegisteredApp {
        id: wire.id,
        slug: wire.slug,
        name: wire.name,
        html_url: wire.html_url,
        owner: wire.owner.map(|o| o.login),
        webhook_secret: SecretString::from(wire.webhook_secret.unwrap_or_default()),
        pem: SecretString::from(wire.pem),
    })
}

fn decode_error(message: String) -> GitHubError {
    GitHubError::new(ErrorKind::Decode(message), ROUTE)
}

/// GitHub's `message`, else the start of the body, on one line.
fn message(body: &str) -> String {
    #[derive(Deserialize)]
    struct Wire {
        message: String,
    }
    let text = serde_json::from_str::<Wire>(body)
        .map(|w| w.message)
        .unwrap_or_else(|_| body.chars().take(200).collect());
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn one_line(error: &dyn std::error::Error) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(e) = source {
        parts.push(e.to_string());
        source = e.source();
    }
    parts
        .join(": ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}
