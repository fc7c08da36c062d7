//! Slack's Web API: `chat.postMessage` (the thread's parent, then replies
//! with `thread_ts`) and `chat.update` (the parent's status), with the bot
//! token as a Bearer token.
//!
//! Slack answers most errors with HTTP 200 and `{"ok": false, "error":
//! "channel_not_found"}`; rate limits with HTTP 429 and `Retry-After`
//! (seconds). Both are errors here, the latter with its wait.

use std::time::Duration;

use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;

use super::error::SendError;
use super::inert::for_chat;

/// What `chat.postMessage` answered: the channel's ID and the message's
/// `ts`, which name the message for `thread_ts` and `chat.update`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    pub channel: String,
    pub ts: String,
}

#[derive(Deserialize)]
struct Answer {
    ok: bool,
    error: Option<String>,
    channel: Option<String>,
    ts: Option<String>,
}

pub struct Slack<'a> {
    pub http: &'a reqwest::Client,
    pub api_url: &'a str,
    pub token: &'a SecretString,
}

impl Slack<'_> {
    async fn call(&self, method: &str, body: serde_json::Value) -> Result<Answer, SendError> {
        let response = self
            .http
            .post(format!("{}/{method}", self.api_url))
            .bearer_auth(self.token.expose_secret())
            .json(&body)
            .send()
            .await
            .map_err(|e| SendError::new(format!("Slack {method}: {}", super::error::reason(&e))))?;
        let status = response.status();
        if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            let wait = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            return Err(SendError {
                message: format!("Slack {method}: rate limited (429)"),
                retry_after: Some(wait.unwrap_or(Duration::from_secs(30))),
            });
        }
        if !status.is_success() {
            return Err(SendError::new(format!("Slack {method}: HTTP {status}")));
        }
        let answer: Answer = response
            .json()
            .await
            .map_err(|e| SendError::new(format!("Slack {method}: unreadable answer: {e}")))?;
        if !answer.ok {
            return Err(SendError::new(format!(
                "Slack {method}: {}",
                answer.error.as_deref().unwrap_or("ok: false")
            )));
        }
        Ok(answer)
    }

    /// Posts `text` to `channel` (a name or an ID), as a reply when
    /// `thread_ts` is given.
    pub async fn post(
        &self,
        channel: &str,
        text: &str,
        thread_ts: Option<&str>,
    ) -> Result<Posted, SendError> {
        let mut body = serde_json::json!({
            "channel": channel,
            "text": for_chat(text),
            "unfurl_links": false,
            "unfurl_media": false,
        });
        if let Some(ts) = thread_ts {
            body["thread_ts"] = ts.into();
        }
        let answer = self.call("chat.postMessage", body).await?;
        match (answer.channel, answer.ts) {
            (Some(channel), Some(ts)) => Ok(Posted { channel, ts }),
            _ => Err(SendError::new(
                "Slack chat.postMessage: the answer has no channel or ts".to_string(),
            )),
        }
    }

    /// Replaces the text of the message `ts` in `channel` (an ID, as
    /// `post` returned it).
    pub async fn update(&self, channel: &str, ts: &str, text: &str) -> Result<(), SendError> {
        self.call(
            "chat.update",
            serde_json::json!({ "channel": channel, "ts": ts, "text": for_chat(text) }),
        )
        .await
        .map(|_| ())
    }
}
