//! The GitHub App: its key, the JWT for `/app/*` calls, and installation
//! tokens cached per installation.
//!
//! Octocrab (0.54) keeps an installation token inside each `Octocrab` made by
//! `Octocrab::installation(id)` (a fresh, empty cache every call), renews it
//! only when under 30 s remain, and lets concurrent requests that find it
//! stale each mint their own. We mint through `POST
//! /app/installations/{id}/access_tokens` ourselves instead: one cache entry
//! per installation for the app's lifetime, renewed a margin (5 min by
//! default) before expiry, with a single mint in flight per installation.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::Utc;
use secrecy::{ExposeSecret, SecretString};

use super::error::{ErrorKind, GitHubError};
use super::http::{Call, Core, Credential, TokenSource, encode_path};
use super::key::AppKey;
pub use super::key::validate_private_key;
use super::memo::Memo;
pub use super::options::ClientOptions;
use super::repo::RepoClient;
use super::stats::ApiStats;
use super::types::{HookDelivery, InstallationInfo, wire};

/// What identifies the app (from `GITHUB_API_URL`, `GITHUB_APP_ID`,
/// `GITHUB_PRIVATE_KEY`).
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// `https://api.github.com`, or `https://HOST/api/v3` for GitHub
    /// Enterprise Server.
    pub api_url: String,
    pub app_id: u64,
    pub private_key_pem: SecretString,
}

/// How long GitHub says an installation token lives; assumed when its answer
/// has no readable `expires_at`.
const TOKEN_LIFETIME: Duration = Duration::from_secs(60 * 60);

/// The GitHub App client: cheap to clone, shared by all workers.
#[derive(Clone)]
pub struct GitHubApp {
    inner: Arc<AppInner>,
}

struct AppInner {
    app_id: u64,
    core: Arc<Core>,
    key: Arc<AppKey>,
    tokens: Mutex<HashMap<u64, Arc<InstallationTokens>>>,
    /// Time to live and capacity of the memo each repository client gets.
    memo_settings: (std::time::Duration, usize),
    refresh_margin: Duration,
    /// The bot login, learnt once (see `identity`).
    identity: Arc<super::identity::AppIdentity>,
}

impl GitHubApp {
    /// Must be called inside a Tokio runtime.
    pub fn new(cfg: &AppConfig) -> Result<GitHubApp, GitHubError> {
        GitHubApp::with_options(cfg, ClientOptions::default())
    }

    pub fn with_options(cfg: &AppConfig, opts: ClientOptions) -> Result<GitHubApp, GitHubError> {
        let key = AppKey::parse(cfg.app_id, cfg.private_key_pem.expose_secret())
            .map_err(GitHubError::config)?;
        let core = Arc::new(Core::new(
            &cfg.api_url,
            opts.http,
            Arc::new(ApiStats::new()),
        )?);
        let key = Arc::new(key);
        let identity = Arc::new(super::identity::AppIdentity::new(
            core.clone(),
            Credential::App(key.clone()),
        ));
        Ok(GitHubApp {
            inner: Arc::new(AppInner {
                app_id: cfg.app_id,
                core,
                key,
                identity,
                tokens: Mutex::new(HashMap::new()),
                memo_settings: (opts.membership_ttl, opts.membership_capacity),
                refresh_margin: opts.token_refresh_margin,
            }),
        })
    }

    pub fn app_id(&self) -> u64 {
        self.inner.app_id
    }

    /// Counters of every request sent through this app, for `/metrics`.
    pub fn stats(&self) -> Arc<ApiStats> {
        self.inner.core.stats().clone()
    }

    /// At most `limit` (at least 1) requests of one installation in
    /// flight at once, from now on (default
    /// [`in_flight::PER_INSTALLATION`](super::in_flight::PER_INSTALLATION)).
    /// With 1, every call waits for the one before, as before the
    /// concurrent gather: `tests/critical_path.rs` measures both.
    pub fn limit_requests_in_flight(&self, limit: usize) {
        self.inner.core.in_flight().set_limit(limit);
    }

    /// A client acting as installation `id`. Its token is fetched now (so a
    /// removed installation fails here) and reused by every client for the
    /// same installation until shortly before it expires.
    pub async fn installation(&self, id: u64) -> Result<InstallationClient, GitHubError> {
        let tokens = {
            let mut map = self
                .inner
                .tokens
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            map.entry(id)
                .or_insert_with(|| {
                    Arc::new(InstallationTokens {
                        installation: id,
                        core: self.inner.core.clone(),
                        app: Credential::App(self.inner.key.clone()),
                        margin: self.inner.refresh_margin,
                        current: Mutex::new(None),
                        minting: tokio::sync::Mutex::new(()),
                    })
                })
                .clone()
        };
        if let Err(e) = tokens.token().await {
            if matches!(e.kind, ErrorKind::NotFound | ErrorKind::Unauthorized) {
                // An installation that is gone should not keep a slot.
                self.forget_installation(id);
            }
            return Err(e);
        }
        Ok(InstallationClient {
            id,
            app_id: self.inner.app_id,
            core: self.inner.core.clone(),
            cred: Credential::Installation { id, tokens },
            memo_settings: self.inner.memo_settings,
            identity: self.inner.identity.clone(),
        })
    }

    /// Drops the cached token of an installation (after `installation.deleted`).
    pub fn forget_installation(&self, id: u64) {
        self.inner
            .tokens
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id);
    }

    /// A client for the `/app/*` calls, authenticated by JWT.
    pub fn app_client(&self) -> AppClient {
        AppClient {
            core: self.inner.core.clone(),
            cred: Credential::App(self.inner.key.clone()),
        }
    }
}

impl std::fmt::Debug for GitHubApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHubApp")
            .field("app_id", &self.inner.app_id)
            .finish_non_exhaustive()
    }
}

/// A token, and when to stop using it.
struct Token {
    secret: SecretString,
    renew_at: Instant,
}

/// The token cache of one installation. Kept rather than a moka entry: a
/// token lives until GitHub's `expires_at` less a margin, not a fixed TTL,
/// and the mint is single-flight behind one async lock.
struct InstallationTokens {
    installation: u64,
    core: Arc<Core>,
    app: Credential,
    margin: Duration,
    current: Mutex<Option<Token>>,
    /// Held while minting, so concurrent callers wait for one new token.
    minting: tokio::sync::Mutex<()>,
}

impl InstallationTokens {
    fn fresh(&self) -> Option<SecretString> {
        let current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        current
            .as_ref()
            .filter(|t| Instant::now() < t.renew_at)
            .map(|t| t.secret.clone())
    }

    async fn mint(&self) -> Result<Token, GitHubError> {
        let body = serde_json::json!({});
        let path = format!(
            "/app/installations/{}/access_tokens",
            encode_path(&self.installation.to_string(), false)
        );
        let call = Call::post(
            "POST /app/installations/{installation_id}/access_tokens",
            path,
            &body,
        );
        let answer: wire::Token = self.core.json(&self.app, &call).await?;
        // Measure the lifetime on our own monotonic clock; GitHub's clock and
        // ours may disagree, and a lifetime over an hour is not believed.
        let lifetime = answer
            .expires_at
            .and_then(|at| (at - Utc::now()).to_std().ok())
            .unwrap_or(TOKEN_LIFETIME)
            .min(TOKEN_LIFETIME);
        tracing::debug!(
            installation = self.installation,
            lifetime_s = lifetime.as_secs(),
            "minted an installation token"
        );
        Ok(Token {
            secret: SecretString::from(answer.token),
            renew_at: Instant::now() + lifetime.saturating_sub(self.margin),
        })
    }
}

#[async_trait]
impl TokenSource for InstallationTokens {
    async fn token(&self) -> Result<SecretString, GitHubError> {
        if let Some(token) = self.fresh() {
            return Ok(token);
        }
        let _one_at_a_time = self.minting.lock().await;
        // Another caller may have minted while we waited.
        if let Some(token) = self.fresh() {
            return Ok(token);
        }
        let token = self.mint().await?;
        let secret = token.secret.clone();
        *self.current.lock().unwrap_or_else(PoisonError::into_inner) = Some(token);
        Ok(secret)
    }

    fn invalidate(&self) {
        *self.current.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

/// Acting as one installation; hands out per-repository clients.
#[derive(Clone)]
pub struct InstallationClient {
    id: u64,
    app_id: u64,
    core: Arc<Core>,
    cred: Credential,
    /// Time to live and capacity of the memo each repository client gets.
    memo_settings: (std::time::Duration, usize),
    identity: Arc<super::identity::AppIdentity>,
}

impl InstallationClient {
    pub fn id(&self) -> u64 {
        self.id
    }

    /// `GET /installation/repositories`: the repositories this installation
    /// covers, at most `limit` (pages of 100).
    pub async fn list_repositories(
        &self,
        limit: usize,
    ) -> Result<Vec<crate::events::RepoName>, GitHubError> {
        #[derive(serde::Deserialize)]
        struct Page {
            #[serde(default)]
            repositories: Vec<Repo>,
        }
        #[derive(serde::Deserialize)]
        struct Repo {
            #[serde(default)]
            full_name: String,
        }
        let mut names = Vec::new();
        for page in 1.. {
            let call = Call::get(
                "GET /installation/repositories",
                format!("/installation/repositories?per_page=100&page={page}"),
            );
            let Page { repositories } = self.core.json(&self.cred, &call).await?;
            let done = repositories.len() < 100;
            names.extend(repositories.into_iter().filter_map(|r| {
                let (owner, name) = r.full_name.split_once('/')?;
                Some(crate::events::RepoName {
                    owner: owner.to_string(),
                    name: name.to_string(),
                })
            }));
            if done || names.len() >= limit {
                break;
            }
        }
        names.truncate(limit);
        Ok(names)
    }

    pub fn repo(&self, owner: &str, repo: &str) -> RepoClient {
        RepoClient::new(
            self.core.clone(),
            self.cred.clone(),
            // A memo per repository client, that is per evaluation (and per
            // sweep): within one evaluation a question is asked once; the
            // next evaluation asks GitHub again (conditionally: an
            // unchanged answer is a free 304), so a membership or a write
            // access taken away counts at once, on every replica.
            Arc::new(Memo::new(self.memo_settings.0, self.memo_settings.1)),
            Some(self.app_id),
            owner,
            repo,
        )
        .with_identity(self.identity.clone())
    }
}

impl std::fmt::Debug for InstallationClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstallationClient")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// The `/app/*` calls, authenticated as the app itself.
#[derive(Clone)]
pub struct AppClient {
    core: Arc<Core>,
    cred: Credential,
}

impl std::fmt::Debug for AppClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppClient").finish_non_exhaustive()
    }
}

impl AppClient {
    /// `GET /app/installations`, all pages.
    pub async fn list_installations(&self) -> Result<Vec<InstallationInfo>, GitHubError> {
        let items: Vec<wire::Installation> = self
            .core
            .all_pages(
                &self.cred,
                "GET /app/installations",
                "/app/installations?per_page=100".to_string(),
            )
            .await?;
        Ok(items.into_iter().map(InstallationInfo::from).collect())
    }

    /// `GET /app/hook/deliveries`, newest first, at most `limit` of them.
    pub async fn list_hook_deliveries(
        &self,
        limit: usize,
    ) -> Result<Vec<HookDelivery>, GitHubError> {
        let items: Vec<wire::Delivery> = self
            .core
            .pages(
                &self.cred,
                "GET /app/hook/deliveries",
                "/app/hook/deliveries?per_page=100".to_string(),
                limit,
            )
            .await?;
        Ok(items.into_iter().map(HookDelivery::from).collect())
    }

    /// `POST /app/hook/deliveries/{id}/attempts`: asks GitHub to deliver
    /// that webhook again.
    pub async fn redeliver(&self, delivery_id: u64) -> Result<(), GitHubError> {
        let body = serde_json::json!({});
        let call = Call::post(
            "POST /app/hook/deliveries/{delivery_id}/attempts",
            format!("/app/hook/deliveries/{delivery_id}/attempts"),
            &body,
        );
        self.core.send(&self.cred, &call).await.map(|_| ())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const KEY: &str = include_str!("../../tests/fixtures/test-app-key.pem");

    #[test]
    fn accepts_the_test_key_and_rejects_others() {
        assert_eq!(validate_private_key(KEY), Ok(()));
        let escaped = KEY.trim().replace('\n', "\\n");
        assert_eq!(validate_private_key(&escaped), Ok(()));
        let err = validate_private_key("hello").unwrap_err();
        assert!(err.contains("PEM"), "{err}");
        let public = include_str!("../../tests/fixtures/test-app-key.pub.pem");
        assert!(validate_private_key(public).is_err());
        let broken = KEY.replace("MIIE", "MIIX");
        assert!(validate_private_key(&broken).is_err());
    }

    #[test]
    fn new_outside_a_runtime_is_an_error_not_a_panic() {
        let cfg = AppConfig {
            api_url: "https://api.github.com".into(),
            app_id: 1,
            private_key_pem: SecretString::from(KEY),
        };
        let err = GitHubApp::new(&cfg).err().unwrap();
        assert!(matches!(err.kind, ErrorKind::Config(_)), "{err}");
    }

    #[tokio::test]
    async fn new_rejects_a_bad_key_and_a_bad_url() {
        let mut cfg = AppConfig {
            api_url: "https://ghe.example.com/api/v3".into(),
            app_id: 1,
            private_key_pem: SecretString::from("not a key"),
        };
        assert!(GitHubApp::new(&cfg).is_err());
        cfg.private_key_pem = SecretString::from(KEY);
        let app = GitHubApp::new(&cfg).unwrap();
        assert_eq!(app.app_id(), 1);
        cfg.api_url = "ghe.example.com".into();
        assert!(GitHubApp::new(&cfg).is_err());
    }
}
