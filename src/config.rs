//! `hotfix-guard serve` settings: each a flag and an environment variable
//! (the names in docs/contracts.md are the contract deployments use).

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

use crate::github::ClientOptions;
use crate::recovery::RecoveryConfig;
use crate::server::limits::Limits;
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
    /// How long a pull request's first delivery waits for the rest of its
    /// burst before it is evaluated.
    #[arg(long, env = "DEBOUNCE", default_value = "250ms", value_parser = parse_interval)]
    pub debounce: Duration,
    /// The durable store: `sqlite://PATH` (one machine; created on first
    /// start) or `postgres://USER:PASSWORD@HOST/DB` (several machines).
    #[arg(long, env = "DATABASE_URL", default_value = crate::store::DEFAULT_DATABASE_URL, hide_env_values = true)]
    pub database_url: String,
    /// A claimed job is taken again by another worker if its worker has not
    /// renewed the lease for this long (it renews every third of it).
    #[arg(long, env = "JOB_LEASE", default_value = "30s", value_parser = parse_interval)]
    pub job_lease: Duration,
    /// Wait before the first retry of a failed evaluation; each next retry
    /// waits four times longer (at most an hour), five tries in all.
    #[arg(long, env = "RETRY_BACKOFF", default_value = "10s", value_parser = parse_interval)]
    pub retry_backoff: Duration,
    #[command(flatten)]
    pub ops: OpsArgs,
    #[command(flatten)]
    pub limits: LimitsArgs,
}

/// What one request or connection may cost (`docs/limits.md`).
#[derive(Debug, Clone, clap::Args)]
pub struct LimitsArgs {
    /// TCP connections served at once; one more is answered 503 and closed.
    #[arg(long, env = "MAX_CONNECTIONS", default_value_t = Limits::default().max_connections)]
    pub max_connections: usize,
    /// Time for a request's head (line and headers) to arrive; also how long
    /// a keep-alive connection may stay idle.
    #[arg(long, env = "HEADER_READ_TIMEOUT", default_value = "10s", value_parser = parse_interval)]
    pub header_read_timeout: Duration,
    /// Bytes a request head may take (at least 8192); larger heads get 431.
    #[arg(long, env = "MAX_REQUEST_HEAD_BYTES", default_value_t = Limits::default().max_request_head_bytes)]
    pub max_request_head_bytes: usize,
    /// Time for a webhook body to arrive once its head has; slower ones get 408.
    #[arg(long, env = "BODY_READ_TIMEOUT", default_value = "30s", value_parser = parse_interval)]
    pub body_read_timeout: Duration,
    /// Body bytes all unanswered webhook requests may hold together; beyond
    /// it 503 with Retry-After. At least 52428800 (a 25 MiB delivery and
    /// its copy).
    #[arg(long, env = "BODY_BUDGET_BYTES", default_value_t = Limits::default().body_budget_bytes)]
    pub body_budget_bytes: usize,
}

impl LimitsArgs {
    /// Checks each limit; one line naming the variable when one is unusable.
    pub fn validate(&self) -> Result<Limits, ConfigError> {
        use crate::server::limits::MAX_BODY_BYTES;
        use crate::server::listen::MIN_REQUEST_HEAD_BYTES;
        if self.max_connections == 0 {
            return Err(ConfigError("MAX_CONNECTIONS must be at least 1".into()));
        }
        if self.header_read_timeout.is_zero() || self.body_read_timeout.is_zero() {
            return Err(ConfigError(
                "HEADER_READ_TIMEOUT and BODY_READ_TIMEOUT must be longer than 0s".into(),
            ));
        }
        if self.max_request_head_bytes < MIN_REQUEST_HEAD_BYTES {
            return Err(ConfigError(format!(
                "MAX_REQUEST_HEAD_BYTES must be at least {MIN_REQUEST_HEAD_BYTES}, not {}",
                self.max_request_head_bytes
            )));
        }
        let budget_floor = 2 * MAX_BODY_BYTES;
        if self.body_budget_bytes < budget_floor || self.body_budget_bytes > u32::MAX as usize {
            return Err(ConfigError(format!(
                "BODY_BUDGET_BYTES must be between {budget_floor} (a 25 MiB delivery and its copy) and {}, not {}",
                u32::MAX,
                self.body_budget_bytes
            )));
        }
        Ok(Limits {
            max_connections: self.max_connections,
            header_read_timeout: self.header_read_timeout,
            max_request_head_bytes: self.max_request_head_bytes,
            body_read_timeout: self.body_read_timeout,
            body_budget_bytes: self.body_budget_bytes,
        })
    }
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
    pub debounce: Duration,
    /// `DATABASE_URL`, its scheme checked (`store::backend_of`).
    pub database_url: String,
    /// `JOB_LEASE`: at least one second.
    pub job_lease: Duration,
    /// `RETRY_BACKOFF`.
    pub retry_backoff: Duration,
    /// What one request or connection may cost.
    pub limits: Limits,
    /// Retries, timeouts and caches of the GitHub client. No environment
    /// variable sets it: `serve` uses `ClientOptions::default()` (first
    /// retry after 0.5–1 s, at most 4 attempts a call); tests shrink the
    /// waits so an outage they stage costs milliseconds, not seconds.
    pub github: ClientOptions,
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
        let database_url = self.database_url.trim().to_string();
        crate::store::backend_of(&database_url).map_err(|e| ConfigError(e.to_string()))?;
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
            debounce: self.debounce,
            database_url,
            job_lease: self.job_lease.max(Duration::from_secs(1)),
            retry_backoff: self.retry_backoff,
            limits: self.limits.validate()?,
            github: ClientOptions::default(),
        })
    }
}

/// Operations settings of `serve`: app registration and delivery recovery.
#[derive(Debug, Clone, clap::Args)]
pub struct OpsArgs {
    /// This deployment's public base URL, e.g. https://hotfix-guard.fly.dev
    /// (for app registration). On Fly.io it defaults to
    /// https://$FLY_APP_NAME.fly.dev.
    #[arg(long, env = "PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Without app credentials: serve only the app registration pages
    /// (/setup). Ignored once the credentials are set.
    #[arg(long, env = "SETUP_MODE", value_parser = clap::builder::FalseyValueParser::new())]
    pub setup_mode: bool,
    /// How often failed webhook deliveries are looked for and redelivered;
    /// 0s turns it off.
    #[arg(long, env = "RECOVERY_INTERVAL", default_value = "10m", value_parser = parse_interval)]
    pub recovery_interval: Duration,
    /// Pages of 100 deliveries listed per recovery run.
    #[arg(long, env = "RECOVERY_MAX_PAGES", default_value_t = RecoveryConfig::default().max_pages)]
    pub recovery_max_pages: usize,
    /// Redeliveries requested per recovery run.
    #[arg(long, env = "RECOVERY_MAX_REDELIVERIES", default_value_t = RecoveryConfig::default().max_redeliveries)]
    pub recovery_max_redeliveries: usize,
    /// Serve GET /metrics on this port (all interfaces) instead of PORT.
    #[arg(long, env = "METRICS_PORT")]
    pub metrics_port: Option<u16>,
}

/// What `serve` runs: the app, or (in setup mode) the registration pages.
#[derive(Debug)]
pub enum Launch {
    /// Boxed: the app's settings are far larger than setup mode's.
    App {
        config: Box<ServeConfig>,
        ops: OpsConfig,
    },
    Setup(SetupConfig),
}

/// Validated operations settings of a configured app.
#[derive(Debug, Clone, Default)]
pub struct OpsConfig {
    pub public_url: Option<String>,
    pub recovery: RecoveryConfig,
    /// `SETUP_MODE` was set but the credentials are there: worth a warning.
    pub setup_mode_ignored: bool,
    /// `METRICS_PORT`: `/metrics` there, and not on the main port.
    pub metrics_port: Option<u16>,
}

/// Setup mode: no app yet; serve `/setup` on `port`.
#[derive(Debug, Clone)]
pub struct SetupConfig {
    pub api_url: String,
    pub public_url: String,
    pub port: u16,
    pub limits: Limits,
}

impl ServeArgs {
    /// Decides between setup mode and the app, validating what each needs.
    ///
    /// Setup mode needs `SETUP_MODE` *and* none of the app's credentials:
    /// once `fly secrets set GITHUB_APP_ID=… …` (or any deployment's
    /// equivalent) adds them, the restart runs the app, even if
    /// `SETUP_MODE` is still set, and `/setup` answers 403.
    pub fn launch(self) -> Result<Launch, ConfigError> {
        let blank = |v: &Option<String>| v.as_deref().is_none_or(|v| v.trim().is_empty());
        let no_credentials = blank(&self.app_id)
            && blank(&self.private_key)
            && self.private_key_path.is_none()
            && blank(&self.webhook_secret);
        let ops = self.ops.clone();
        let public_url = ops
            .public_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(str::to_string)
            .or_else(|| {
                std::env::var("FLY_APP_NAME")
                    .ok()
                    .filter(|n| !n.trim().is_empty())
                    .map(|n| format!("https://{}.fly.dev", n.trim()))
            })
            .map(|u| validate_public_url(&u))
            .transpose()?;
        if no_credentials && !ops.setup_mode {
            return Err(ConfigError(
                "GITHUB_APP_ID is not set (or pass --app-id); to register a new GitHub App, start with SETUP_MODE=1 and open /setup".into(),
            ));
        }
        if no_credentials {
            let public_url = public_url.ok_or_else(|| {
                ConfigError(
                    "PUBLIC_URL is not set: setup mode needs this deployment's public URL, e.g. https://hotfix-guard.example.com".into(),
                )
            })?;
            let api_url = validate_api_url(&self.api_url)?;
            return Ok(Launch::Setup(SetupConfig {
                api_url,
                public_url,
                port: self.port,
                limits: self.limits.validate()?,
            }));
        }
        let config = Box::new(self.validate()?);
        Ok(Launch::App {
            config,
            ops: OpsConfig {
                public_url,
                recovery: RecoveryConfig {
                    interval: ops.recovery_interval,
                    max_pages: ops.recovery_max_pages.max(1),
                    max_redeliveries: ops.recovery_max_redeliveries,
                },
                setup_mode_ignored: ops.setup_mode,
                metrics_port: ops.metrics_port,
            },
        })
    }
}

fn validate_api_url(api_url: &str) -> Result<String, ConfigError> {
    let api_url = api_url.trim().trim_end_matches('/').to_string();
    if !(api_url.starts_with("https://") || api_url.starts_with("http://")) {
        return Err(ConfigError(format!(
            "GITHUB_API_URL must be an http(s) URL, not `{api_url}`"
        )));
    }
    Ok(api_url)
}

/// An http(s) origin with an optional path, no query: webhook and callback
/// URLs are made by appending to it.
fn validate_public_url(url: &str) -> Result<String, ConfigError> {
    let url = url.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(rest)
            if !rest.is_empty()
                && !rest.starts_with('/')
                && !rest.contains(['?', '#', ' ', '"', '<', '>', '\\']) =>
        {
            Ok(url.to_string())
        }
        _ => Err(ConfigError(format!(
            "PUBLIC_URL must be this deployment's http(s) base URL without query, like https://hotfix-guard.example.com, not `{url}`"
        ))),
    }
}

/// The longest interval a setting takes: longer ones are refused rather
/// than overflowing a clock or a timestamp later (no setting needs a year).
pub const MAX_INTERVAL: Duration = Duration::from_secs(365 * 24 * 3600);

/// An interval setting, in humantime's grammar: `500ms`, `20s`, `5m`, `1h`
/// (the spellings the contracts list), also `2d` or `1h 30m`; `0s` is zero.
/// Errors name the text and say what is accepted; clap prefixes the flag
/// and the variable (`--sweep-interval <SWEEP_INTERVAL>`).
pub fn parse_interval(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let interval = humantime::parse_duration(s).map_err(|e| match e {
        humantime::DurationError::NumberOverflow => {
            format!("`{s}` is too long an interval (at most 365d)")
        }
        other => format!("`{s}` is not an interval like 500ms, 20s, 5m or 1h: {other}"),
    })?;
    if interval > MAX_INTERVAL {
        return Err(format!("`{s}` is too long an interval (at most 365d)"));
    }
    Ok(interval)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("20s"), Ok(Duration::from_secs(20)));
        assert_eq!(parse_interval("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_interval("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_interval("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_interval("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_interval(" 2d "), Ok(Duration::from_secs(48 * 3600)));
        assert_eq!(parse_interval("1h 30m"), Ok(Duration::from_secs(5400)));
        assert!(parse_interval("5 parsecs").is_err());
        assert!(parse_interval("5").is_err());
        assert!(parse_interval("").is_err());
        assert!(parse_interval("-5s").is_err());
    }

    #[test]
    fn an_interval_too_long_is_a_config_error_naming_the_variable() {
        use clap::Parser as _;
        // `n * 3600` overflowed u64 here before: 2^64 / 3600 + 1 hours.
        for too_long in ["5124095576030432h", "99999999999999999999s", "366d"] {
            let argv = ["serve", "--sweep-interval", too_long];
            let e = match Cli::try_parse_from(argv) {
                Ok(_) => panic!("{too_long} accepted"),
                Err(e) => e.to_string(),
            };
            assert!(e.contains("SWEEP_INTERVAL"), "{e}");
            assert!(e.contains("too long an interval (at most 365d)"), "{e}");
        }
        assert_eq!(parse_interval("365d"), Ok(MAX_INTERVAL));
    }

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        serve: ServeArgs,
    }

    fn launch(args: &[&str]) -> Result<Launch, ConfigError> {
        use clap::Parser as _;
        let argv = std::iter::once("serve").chain(args.iter().copied());
        match Cli::try_parse_from(argv) {
            Ok(cli) => cli.serve.launch(),
            Err(e) => panic!("{e}"),
        }
    }

    const KEY: &str = include_str!("../tests/fixtures/test-app-key.pem");

    #[test]
    fn setup_mode_needs_the_flag_no_credentials_and_a_public_url() {
        match launch(&["--setup-mode", "--public-url", "https://guard.example.com/"]) {
            Ok(Launch::Setup(setup)) => {
                assert_eq!(setup.public_url, "https://guard.example.com");
                assert_eq!(setup.api_url, "https://api.github.com");
            }
            other => panic!("expected setup mode, got {other:?}"),
        }
        let e = launch(&[]).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            e.starts_with("GITHUB_APP_ID is not set") && e.contains("SETUP_MODE=1"),
            "{e}"
        );
        if std::env::var_os("FLY_APP_NAME").is_none() {
            let e = launch(&["--setup-mode"])
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(e.starts_with("PUBLIC_URL is not set"), "{e}");
        }
        let e = launch(&["--setup-mode", "--public-url", "guard.example.com"])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.starts_with("PUBLIC_URL must be"), "{e}");
    }

    #[test]
    fn credentials_win_over_setup_mode() {
        let args = [
            "--setup-mode",
            "--app-id",
            "12",
            &format!("--private-key={KEY}"),
            "--webhook-secret",
            "s",
            "--recovery-interval",
            "0s",
        ];
        match launch(&args) {
            Ok(Launch::App { config, ops }) => {
                assert_eq!(config.app_id, 12);
                assert!(ops.setup_mode_ignored);
                assert!(ops.recovery.interval.is_zero());
            }
            other => panic!("expected the app, got {other:?}"),
        }
        // A store URL of another kind: one line naming the variable.
        let key = format!("--private-key={KEY}");
        let e = launch(&[
            "--app-id",
            "12",
            &key,
            "--webhook-secret",
            "s",
            "--database-url",
            "mysql://u:hunter2@db/x",
        ])
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(
            e.starts_with("DATABASE_URL must start with sqlite://"),
            "{e}"
        );
        assert!(!e.contains("hunter2"), "the password is not repeated: {e}");
        // Some credentials but not all: the usual one-line refusal.
        let e = launch(&["--setup-mode", "--app-id", "12", "--webhook-secret", "s"])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.starts_with("GITHUB_PRIVATE_KEY or GITHUB_PRIVATE_KEY_PATH is not set"),
            "{e}"
        );
    }
}
