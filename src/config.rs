//! `hotfix-guard serve` settings: each a flag and an environment variable
//! (the names in DESIGN.md are the contract deployments use).

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

use crate::server::signature::WebhookSecrets;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The GitHub App's id.
    #[arg(long, env = "GITHUB_APP_ID")]
    pub app_id: Option<String>,
    /// The App's private key, PEM text.
    #[arg(long, env = "GITHUB_PRIVATE_KEY", hide_env_values = true)]
    pub private_key: Option<String>,
    /// A file holding the App's private key (PEM).
    #[arg(long, env = "GITHUB_PRIVATE_KEY_PATH")]
    pub private_key_path: Option<PathBuf>,
    /// The webhook secret; several comma-separated while rotating.
    #[arg(long, env = "GITHUB_WEBHOOK_SECRET", hide_env_values = true)]
    pub webhook_secret: Option<String>,
    /// REST API base: https://api.github.com, or https://HOST/api/v3 for
    /// GitHub Enterprise Server.
    #[arg(long, env = "GITHUB_API_URL", default_value = "https://api.github.com")]
    pub api_url: String,
    /// Port to listen on (all interfaces).
    #[arg(long, env = "PORT", default_value_t = 8080)]
    pub port: u16,
    /// Evaluations run at once (each pull request by one worker at a time).
    #[arg(long, env = "WORKERS", default_value_t = 4)]
    pub workers: usize,
    /// Pull requests that may wait for evaluation; beyond it deliveries get 503.
    #[arg(long, env = "QUEUE_CAPACITY", default_value_t = 10_000)]
    pub queue_capacity: usize,
    /// On SIGTERM/SIGINT, how long queued evaluations may take to finish.
    #[arg(long, env = "SHUTDOWN_GRACE", default_value = "20s", value_parser = parse_interval)]
    pub shutdown_grace: Duration,
    /// How often deadlines are checked for escalation (also once at
    /// start-up, after open hotfixes are rediscovered); `0s` turns it off.
    #[arg(long, env = "SWEEP_INTERVAL", default_value = "5m", value_parser = parse_interval)]
    pub sweep_interval: Duration,
}

/// Validated settings.
#[derive(Debug)]
pub struct ServeConfig {
    pub app_id: u64,
    pub private_key: SecretString,
    pub secrets: WebhookSecrets,
    pub api_url: String,
    pub port: u16,
    pub workers: usize,
    pub queue_capacity: usize,
    pub shutdown_grace: Duration,
    /// `None`: no start-up discovery and no deadline sweeps (tests drive
    /// them by hand).
    pub sweep_interval: Option<Duration>,
}

/// One line naming what is wrong; `serve` prints it and exits non-zero.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(String);

impl ServeArgs {
    pub fn validate(self) -> Result<ServeConfig, ConfigError> {
        let app_id = match self.app_id.as_deref().map(str::trim) {
            None | Some("") => {
                return Err(ConfigError(
                    "GITHUB_APP_ID is not set (or pass --app-id)".into(),
                ));
            }
            Some(id) => id
                .parse::<u64>()
                .map_err(|_| ConfigError(format!("GITHUB_APP_ID must be a number, not `{id}`")))?,
        };
        let pem = match (self.private_key, self.private_key_path) {
            (Some(pem), _) if !pem.trim().is_empty() => pem,
            (_, Some(path)) => std::fs::read_to_string(&path).map_err(|e| {
                ConfigError(format!(
                    "GITHUB_PRIVATE_KEY_PATH: cannot read {}: {e}",
                    path.display()
                ))
            })?,
            _ => {
                return Err(ConfigError(
                    "GITHUB_PRIVATE_KEY or GITHUB_PRIVATE_KEY_PATH is not set (or pass --private-key / --private-key-path)".into(),
                ));
            }
        };
        // Deployments often store the PEM in one line with literal `\n`.
        let pem = if pem.contains("\\n") && !pem.contains('\n') {
            pem.replace("\\n", "\n")
        } else {
            pem
        };
        crate::github::validate_private_key(&pem).map_err(|e| {
            ConfigError(format!(
                "GITHUB_PRIVATE_KEY is not a valid RSA private key in PEM form: {e}"
            ))
        })?;
        let secrets = self
            .webhook_secret
            .as_deref()
            .and_then(WebhookSecrets::parse)
            .ok_or_else(|| {
                ConfigError("GITHUB_WEBHOOK_SECRET is not set (or pass --webhook-secret)".into())
            })?;
        let api_url = self.api_url.trim().trim_end_matches('/').to_string();
        if !(api_url.starts_with("https://") || api_url.starts_with("http://")) {
            return Err(ConfigError(format!(
                "GITHUB_API_URL must be an http(s) URL, not `{api_url}`"
            )));
        }
        Ok(ServeConfig {
            app_id,
            private_key: SecretString::from(pem),
            secrets,
            api_url,
            port: self.port,
            workers: self.workers.max(1),
            queue_capacity: self.queue_capacity.max(1),
            shutdown_grace: self.shutdown_grace,
            sweep_interval: (!self.sweep_interval.is_zero()).then_some(self.sweep_interval),
        })
    }
}

/// `500ms`, `20s`, `5m`, `1h`.
pub fn parse_interval(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{s}` is not an interval like 500ms, 20s, 5m or 1h"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n * 60)),
        "h" => Ok(Duration::from_secs(n * 3600)),
        _ => Err(format!(
            "`{s}` is not an interval like 500ms, 20s, 5m or 1h"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("20s"), Ok(Duration::from_secs(20)));
        assert_eq!(parse_interval("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_interval("5m"), Ok(Duration::from_secs(300)));
        assert!(parse_interval("5 minutes").is_err());
        assert!(parse_interval("").is_err());
    }
}
