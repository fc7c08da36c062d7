//! The app's id and private key, and the JWTs signed with it. Apart from
//! the client (`app`) so that the request layer (`http`) can sign with it
//! without depending on the client.

use jsonwebtoken::EncodingKey;
use octocrab::models::AppId;

use super::error::GitHubError;

/// Checks that `pem` is an RSA private key in PEM form that can sign a JWT.
/// For `serve` to refuse to start with a clear message.
pub fn validate_private_key(pem: &str) -> Result<(), String> {
    AppKey::parse(0, pem).map(|_| ())
}

/// The app's id and signing key.
pub(crate) struct AppKey {
    id: u64,
    key: EncodingKey,
}

impl AppKey {
    pub(crate) fn parse(id: u64, pem: &str) -> Result<AppKey, String> {
        let pem = normalise_pem(pem);
        if !pem.contains("-----BEGIN") {
            return Err("the private key is not in PEM format (no -----BEGIN line)".to_string());
        }
        let key = EncodingKey::from_rsa_pem(pem.as_bytes())
            .map_err(|e| format!("the private key is not a valid RSA PEM key: {e}"))?;
        let app_key = AppKey { id, key };
        // Parsing accepts some keys that cannot sign; find out now, not on
        // the first webhook.
        app_key
            .jwt()
            .map_err(|e| format!("the private key cannot sign a JWT: {e}"))?;
        Ok(app_key)
    }

    /// A JWT for the app: RS256, `iss` = app id, issued a minute in the past
    /// and valid 9 minutes (GitHub allows 10), from octocrab.
    pub(crate) fn jwt(&self) -> Result<String, GitHubError> {
        octocrab::auth::create_jwt(AppId(self.id), &self.key)
            .map_err(|e| GitHubError::config(format!("signing the app JWT: {e}")))
    }
}

/// Keys pasted into an environment variable often arrive with literal `\n`.
fn normalise_pem(pem: &str) -> String {
    let trimmed = pem.trim();
    if !trimmed.contains('\n') && trimmed.contains("\\n") {
        trimmed.replace("\\n", "\n")
    } else {
        trimmed.to_string()
    }
}
