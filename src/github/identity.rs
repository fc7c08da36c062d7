//! Who the app is on GitHub: its id (from the configuration) and its bot
//! user's login, `<slug>[bot]`, learnt from `GET /app` (JWT) the first time
//! it is needed and kept for the life of the process.
//!
//! The login is only a fallback: GitHub names the app that wrote a comment
//! or issue in `performed_via_github_app`, and that id decides. Where an
//! answer leaves the field out (older GitHub Enterprise Server versions),
//! the author's login decides instead: only the app's installation tokens
//! write as `<slug>[bot]` (a person's login cannot contain brackets).

use std::sync::Arc;

use serde::Deserialize;
use tokio::sync::OnceCell;

use super::error::GitHubError;
use super::http::{Call, Core, Credential};

/// Shared by every client of one app.
pub(crate) struct AppIdentity {
    core: Arc<Core>,
    /// The app's JWT credential (`GET /app` takes no installation token).
    jwt: Credential,
    login: OnceCell<String>,
}

impl AppIdentity {
    pub(crate) fn new(core: Arc<Core>, jwt: Credential) -> AppIdentity {
        AppIdentity {
            core,
            jwt,
            login: OnceCell::new(),
        }
    }

    /// `<slug>[bot]`, from `GET /app` → `slug`, asked once per process.
    pub(crate) async fn bot_login(&self) -> Result<&str, GitHubError> {
        #[derive(Deserialize)]
        struct App {
            #[serde(default)]
            slug: String,
        }
        let login = self
            .login
            .get_or_try_init(|| async {
                let app: App = self
                    .core
                    .json(&self.jwt, &Call::get("GET /app", "/app".to_string()))
                    .await?;
                Ok::<String, GitHubError>(format!("{}[bot]", app.slug))
            })
            .await?;
        Ok(login.as_str())
    }
}
