//! The deployment's notice settings, from the environment: Slack's bot
//! token and API URL, the webhooks' URLs and their signing secret.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::Duration;

use secrecy::{ExposeSecret as _, SecretString};

use crate::policy::Target;

/// Slack's Web API, unless `SLACK_API_URL` says otherwise.
pub const DEFAULT_SLACK_API_URL: &str = "https://slack.com/api";

/// Where and how notices are sent.
#[derive(Debug)]
pub struct NotifyConfig {
    /// `SLACK_BOT_TOKEN`: a bot token (`xoxb-…`) with the `chat:write` scope.
    pub slack_token: Option<SecretString>,
    /// `SLACK_API_URL` without a trailing `/` (default
    /// [`DEFAULT_SLACK_API_URL`]): a Slack-compatible server, or a test's.
    pub slack_api_url: String,
    /// `NOTIFY_WEBHOOK_<NAME>`: NAME (upper case) → URL. Secrets: never
    /// logged, never in the repository.
    pub webhooks: BTreeMap<String, SecretString>,
    /// `NOTIFY_WEBHOOK_SECRET`: signs webhook bodies
    /// (`X-Hub-Signature-256: sha256=HMAC-SHA256(body)`).
    pub webhook_secret: Option<SecretString>,
    /// First wait after a failed send; doubled per failure, at most an hour.
    pub retry_base: Duration,
    /// One request's limit (connect and answer).
    pub timeout: Duration,
    /// Problems already logged (each once per process).
    logged: Mutex<BTreeSet<String>>,
    /// Targets already noted in the store as named by a policy (each once
    /// per process: a write per target per start, not per evaluation).
    noted: Mutex<BTreeSet<String>>,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            slack_token: None,
            slack_api_url: DEFAULT_SLACK_API_URL.to_string(),
            webhooks: BTreeMap::new(),
            webhook_secret: None,
            retry_base: Duration::from_secs(5),
            timeout: Duration::from_secs(10),
            logged: Mutex::default(),
            noted: Mutex::default(),
        }
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

impl NotifyConfig {
    /// Reads `SLACK_BOT_TOKEN`, `SLACK_API_URL`, every `NOTIFY_WEBHOOK_<NAME>`
    /// and `NOTIFY_WEBHOOK_SECRET`. What is configured is logged at start-up
    /// (`notify::startup`), without a secret.
    pub fn from_env() -> NotifyConfig {
        Self::from_vars(std::env::vars())
    }

    /// As `from_env`, from the given variables.
    pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> NotifyConfig {
        let mut config = NotifyConfig::default();
        for (key, value) in vars {
            match key.as_str() {
                "SLACK_BOT_TOKEN" => config.slack_token = non_empty(Some(value)).map(Into::into),
                "SLACK_API_URL" => {
                    if let Some(url) = non_empty(Some(value)) {
                        config.slack_api_url = url.trim_end_matches('/').to_string();
                    }
                }
                "NOTIFY_WEBHOOK_SECRET" => {
                    config.webhook_secret = non_empty(Some(value)).map(Into::into);
                }
                _ => {
                    if let Some(name) = key.strip_prefix("NOTIFY_WEBHOOK_")
                        && let Some(url) = non_empty(Some(value))
                    {
                        config
                            .webhooks
                            .insert(name.to_ascii_uppercase(), url.into());
                    }
                }
            }
        }
        config
    }

    /// The targets this deployment can send to, for the log: `slack:*`
    /// (when `SLACK_BOT_TOKEN` is set) and `webhook:NAME` per
    /// `NOTIFY_WEBHOOK_<NAME>`. Names only: never a token or URL.
    pub fn configured(&self) -> Vec<String> {
        self.slack_token
            .iter()
            .map(|_| "slack:*".to_string())
            .chain(self.webhooks.keys().map(|name| format!("webhook:{name}")))
            .collect()
    }

    /// Why notices to `target` cannot be sent from this deployment, in one
    /// line; `None` when they can. Pure: nothing is logged.
    pub fn problem_text(&self, target: &Target) -> Option<String> {
        match target {
            Target::Slack { .. } if self.slack_token.is_none() => Some(format!(
                "{target}: SLACK_BOT_TOKEN is not set on this deployment; its notices wait until it is"
            )),
            Target::Webhook { name } if !self.webhooks.contains_key(name) => Some(format!(
                "{target}: {} is not set on this deployment; its notices wait until it is",
                Target::webhook_env(name)
            )),
            _ => None,
        }
    }

    /// Marks `problem` as logged; true the first time in this process.
    pub(crate) fn first_report(&self, problem: &str) -> bool {
        self.logged
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(problem.to_string())
    }

    /// Of `targets`, those not yet noted in the store by this process (and
    /// takes them as noted). `forget_noted` undoes it when the write fails.
    pub(crate) fn not_yet_noted(&self, targets: &[String]) -> Vec<String> {
        let mut noted = self.noted.lock().unwrap_or_else(|p| p.into_inner());
        targets
            .iter()
            .filter(|t| noted.insert((*t).clone()))
            .cloned()
            .collect()
    }

    pub(crate) fn forget_noted(&self, targets: &[String]) {
        let mut noted = self.noted.lock().unwrap_or_else(|p| p.into_inner());
        for t in targets {
            noted.remove(t);
        }
    }

    /// Why notices to `target` cannot be sent from this deployment, in one
    /// line; `None` when they can. Logged once per process the first time
    /// it is found.
    pub fn problem(&self, target: &Target) -> Option<String> {
        let problem = self.problem_text(target)?;
        if self.first_report(&problem) {
            tracing::warn!(%target, "{problem}");
        }
        Some(problem)
    }

    pub(crate) fn webhook_url(&self, name: &str) -> Option<&str> {
        self.webhooks.get(name).map(|url| url.expose_secret())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_variables_and_names_what_is_missing() {
        let config = NotifyConfig::from_vars([
            (
                "SLACK_API_URL".to_string(),
                "http://127.0.0.1:9/api/".to_string(),
            ),
            (
                "NOTIFY_WEBHOOK_teams".to_string(),
                "https://example.test/h".to_string(),
            ),
            ("NOTIFY_WEBHOOK_SECRET".to_string(), "s".to_string()),
        ]);
        assert_eq!(config.slack_api_url, "http://127.0.0.1:9/api");
        assert_eq!(config.webhook_url("TEAMS"), Some("https://example.test/h"));
        assert!(!config.webhooks.contains_key("SECRET"));
        let slack = Target::Slack {
            channel: "incidents".into(),
        };
        assert!(
            config
                .problem(&slack)
                .is_some_and(|p| p.contains("SLACK_BOT_TOKEN"))
        );
        let ops = Target::Webhook { name: "OPS".into() };
        assert!(
            config
                .problem(&ops)
                .is_some_and(|p| p.contains("NOTIFY_WEBHOOK_OPS"))
        );
        let teams = Target::Webhook {
            name: "TEAMS".into(),
        };
        assert_eq!(config.problem(&teams), None);
    }
}
