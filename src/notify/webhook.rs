//! `webhook:NAME`: a JSON POST of the notice (a Slack-compatible `text` and
//! structured fields) to the URL in `NOTIFY_WEBHOOK_<NAME>`, signed as
//! GitHub signs its webhooks when `NOTIFY_WEBHOOK_SECRET` is set:
//! `X-Hub-Signature-256: sha256=` and the hex HMAC-SHA256 of the body.

use hmac::{Hmac, Mac as _};
use secrecy::{ExposeSecret as _, SecretString};
use sha2::Sha256;

use super::Notice;
use super::error::SendError;
use super::inert::for_chat;

/// The signature header's value for `body`.
pub fn signature(secret: &SecretString, body: &[u8]) -> Option<String> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes()).ok()?;
    mac.update(body);
    Some(format!(
        "sha256={}",
        hex::encode(mac.finalize().into_bytes())
    ))
}

/// The body: `text` first (what Slack-compatible receivers such as
/// Mattermost show; escaped and defused as for Slack, `inert`), then the
/// structured fields (JSON data: `title` is the pull request's, one line,
/// capped, not escaped).
pub fn body(notice: &Notice) -> serde_json::Value {
    let mut body = serde_json::json!({ "text": for_chat(&notice.text) });
    if let (Some(map), Some(fields)) = (body.as_object_mut(), notice.fields.as_object()) {
        for (k, v) in fields {
            map.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    body
}

/// Sends `notice` to `url`; any 2xx is delivered.
pub async fn send(
    http: &reqwest::Client,
    url: &str,
    secret: Option<&SecretString>,
    notice: &Notice,
) -> Result<(), SendError> {
    let bytes = serde_json::to_vec(&body(notice))
        .map_err(|e| SendError::new(format!("webhook body: {e}")))?;
    let mut request = http
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(reqwest::header::USER_AGENT, "hotfix-guard");
    if let Some(signature) = secret.and_then(|s| signature(s, &bytes)) {
        request = request.header("X-Hub-Signature-256", signature);
    }
    let response = request
        .body(bytes)
        .send()
        .await
        .map_err(|e| SendError::new(format!("webhook: {}", super::error::reason(&e))))?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let retry_after = (status == reqwest::StatusCode::TOO_MANY_REQUESTS)
        .then(|| {
            response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(std::time::Duration::from_secs)
        })
        .flatten();
    Err(SendError {
        message: format!("webhook: HTTP {status}"),
        retry_after,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_like_github() {
        // GitHub's documented example: secret "It's a Secret to Everybody",
        // payload "Hello, World!".
        let secret = SecretString::from("It's a Secret to Everybody");
        assert_eq!(
            signature(&secret, b"Hello, World!").as_deref(),
            Some("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")
        );
    }
}
