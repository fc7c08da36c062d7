//! Wiring: the store, the GitHub client, the engine, the durable queue and
//! its workers, and the HTTP router, assembled once for `serve` and for
//! in-process tests alike.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use tokio::task::JoinHandle;
use tracing::Instrument;

use crate::clock::{Clock, SystemClock};
use crate::config::{Launch, OpsConfig, ServeConfig, SetupConfig};
use crate::engine::{Engine, EngineError};
use crate::github::ErrorKind;
use crate::github::{AppConfig, GitHubApp};
use crate::metrics::{Gauges, Metrics};
use crate::queue::{QueueTiming, WorkQueue};
use crate::server::{self, AppState};
use crate::store::{Claimed, EvaluationSpan, Store};

/// Tries of one evaluation before its check run says it failed.
pub const MAX_ATTEMPTS: u32 = 5;

/// Singleton task names in the store's `leaders`.
const SWEEP_TASK: &str = "deadline-sweep";

pub struct App {
    pub router: Router,
    pub queue: Arc<WorkQueue>,
    pub engine: Arc<Engine>,
    /// The client the engine uses; recovery shares its counters.
    pub github: GitHubApp,
    /// Set once GitHub has answered the app's JWT (`GET /readyz`).
    pub readiness: crate::readiness::Readiness,
    pub store: Store,
    /// Counters `GET /metrics` renders; the listener counts refusals here.
    pub metrics: Arc<Metrics>,
    workers: Vec<JoinHandle<()>>,
    sweeper: Option<JoinHandle<()>>,
    stats: JoinHandle<()>,
    /// The incident notice sender (`notify::sender`).
    notices: JoinHandle<()>,
}

impl App {
    /// Opens the store, builds everything and starts the workers (inside a
    /// tokio runtime).
    pub async fn start(config: &ServeConfig) -> anyhow::Result<App> {
        App::start_with_clock(config, Arc::new(SystemClock)).await
    }

    pub async fn start_with_clock(
        config: &ServeConfig,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<App> {
        let notify = Arc::new(crate::notify::NotifyConfig::from_env());
        App::start_with_notify(config, clock, notify).await
    }

    /// As `start_with_clock`, with the notice settings given rather than
    /// read from the environment (tests, several apps in one process).
    pub async fn start_with_notify(
        config: &ServeConfig,
        clock: Arc<dyn Clock>,
        notify: Arc<crate::notify::NotifyConfig>,
    ) -> anyhow::Result<App> {
        let github = GitHubApp::with_options(
            &AppConfig {
                api_url: config.api_url.clone(),
                app_id: config.app_id,
                private_key_pem: config.private_key.clone(),
            },
            config.github.clone(),
        )
        .context("cannot set up the GitHub client")?;
        let store = Store::connect(&config.database_url)
            .await
            .context("cannot open the store (DATABASE_URL)")?;
        crate::notify::startup::report(&notify, &store, chrono::Utc::now()).await;
        let metrics = Arc::new(Metrics::default());
        let engine = Arc::new(
            Engine::with_clock(github.clone(), metrics.clone(), clock, store.clone())
                .with_notify(notify.clone()),
        );
        let queue = Arc::new(WorkQueue::new(
            store.clone(),
            QueueTiming {
                debounce: config.debounce,
                lease: config.job_lease,
                capacity: u64::try_from(config.queue_capacity).unwrap_or(u64::MAX),
            },
        ));
        let backoff = config.retry_backoff;
        let workers: Vec<JoinHandle<()>> = (0..config.workers)
            .map(|n| {
                tokio::spawn(work(
                    queue.clone(),
                    engine.clone(),
                    queue.worker_id(n),
                    backoff,
                ))
            })
            .collect();
        let notices = crate::notify::sender::spawn(
            store.clone(),
            notify,
            metrics.clone(),
            format!("{}-notices", queue.instance()),
        )
        .context("cannot set up the notice sender")?;
        let sweeper = config
            .sweep_interval
            .map(|interval| tokio::spawn(sweeps(queue.clone(), engine.clone(), interval)));
        let stats = tokio::spawn({
            let queue = queue.clone();
            async move {
                loop {
                    queue.refresh_stats().await;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        });
        let state = AppState {
            secrets: config.secrets.clone(),
            queue: queue.clone(),
            metrics: metrics.clone(),
            on_policy_change: {
                let engine = engine.clone();
                Arc::new(move |repo| engine.forget_policy(repo))
            },
            gauges: {
                let queue = queue.clone();
                let github = github.clone();
                Arc::new(move || {
                    let (jobs, lease_expiries) = queue.stats();
                    Gauges {
                        queue_depth: usize::try_from(jobs.pending).unwrap_or(usize::MAX),
                        oldest_pending_seconds: jobs.oldest_age_seconds,
                        lease_expiries,
                        api_calls: github.stats().snapshot(),
                        rate_limit_remaining: github.stats().rate_limit_remaining(),
                    }
                })
            },
        };
        let readiness = crate::readiness::Readiness::default();
        Ok(App {
            router: server::router_with(state, &config.limits)
                .merge(crate::readiness::router(readiness.clone())),
            readiness,
            queue,
            engine,
            github,
            store,
            metrics,
            workers,
            sweeper,
            stats,
            notices,
        })
    }

    /// Waits until no evaluation runs here and no job in the store (of any
    /// instance on it) is due within the next ten seconds: a job backing off
    /// for longer (a rate limit's wait) counts as settled. For tests.
    pub async fn idle(&self) {
        const SOON: Duration = Duration::from_secs(10);
        loop {
            let busy = self.store.busy(chrono::Utc::now(), SOON).await;
            if matches!(busy, Ok(false)) && self.queue.running() == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Stops taking deliveries and jobs, and lets the evaluations under way
    /// finish, for at most `grace`; then gives back the leases of those
    /// still running, so the next start (or another instance) takes them
    /// at once. True when everything under way finished in time. Jobs not
    /// started stay in the store either way.
    pub async fn drain(self, grace: Duration) -> bool {
        self.queue.close();
        // Sweeps only post escalations, which the next sweep posts just as
        // well: stop them rather than wait for them.
        if let Some(sweeper) = self.sweeper {
            sweeper.abort();
        }
        self.stats.abort();
        // A notice being sent now keeps its lease; if it is cut short it is
        // sent once the lease expires (notify::sender).
        self.notices.abort();
        let _ = self.store.resign(SWEEP_TASK, self.queue.instance()).await;
        let workers = self.workers;
        let aborts: Vec<_> = workers.iter().map(JoinHandle::abort_handle).collect();
        let all = async move {
            for worker in workers {
                let _ = worker.await;
            }
        };
        let finished = tokio::time::timeout(grace, all).await.is_ok();
        if !finished {
            for abort in aborts {
                abort.abort();
            }
            let released = self.queue.release_all().await;
            tracing::warn!(
                released,
                "grace over: unfinished jobs given back to the store"
            );
        }
        self.store.close().await;
        finished
    }
}

/// Wait before retry `attempt` (1-based) of a failed evaluation: `base`,
/// then four times longer each time, at most an hour.
pub fn backoff(base: Duration, attempt: u32) -> Duration {
    let factor = 4u32.saturating_pow(attempt.saturating_sub(1));
    base.saturating_mul(factor).min(Duration::from_secs(3600))
}

/// One worker: claims a pull request's job, evaluates it, and removes the
/// job once its writes succeeded. Each evaluation runs in its own task so
/// that a panic there (a bug) is logged and the job retried, instead of
/// killing the worker.
async fn work(queue: Arc<WorkQueue>, engine: Arc<Engine>, worker: String, base: Duration) {
    while let Some(claimed) = queue.next(&worker).await {
        let key = claimed.job.key.clone();
        let span = tracing::info_span!(
            "evaluate",
            repository = %key.repo,
            pr = key.number,
            deliveries = ?claimed.job.deliveries,
            attempt = claimed.attempts + 1,
        );
        let lease = queue.keep_leased(&claimed);
        let started = chrono::Utc::now();
        let run = {
            let engine = engine.clone();
            let job = retried(&claimed);
            tokio::spawn(async move { engine.run(job).await }.instrument(span.clone()))
        };
        let result = run.await;
        let span_log = EvaluationSpan {
            key: key.clone(),
            worker: worker.clone(),
            started,
            ended: chrono::Utc::now(),
        };
        if let Err(e) = queue.store().log_evaluation(&span_log).await {
            tracing::debug!(error = %e, "evaluation not logged in the store");
        }
        let (error, retry_after) = match result {
            Ok(Ok(())) => {
                lease.abort();
                queue.done(&claimed).await;
                continue;
            }
            Ok(Err(e)) => {
                let retry_after = match &e {
                    EngineError::GitHub(g) => match &g.kind {
                        ErrorKind::RateLimited { retry_after } => {
                            Some(retry_after.unwrap_or(Duration::from_secs(60)))
                        }
                        _ => None,
                    },
                    EngineError::Store(_) => None,
                };
                (e.to_string(), retry_after)
            }
            Err(e) => {
                span.in_scope(|| tracing::error!(error = %e, "evaluation panicked"));
                (format!("the evaluation stopped: {e}"), None)
            }
        };
        // Still leased while the failure is said on the check run: no
        // retry (here or on another instance) can write a verdict that
        // this older failure would then overwrite.
        finish_failed(&queue, &engine, &claimed, &error, retry_after, base)
            .instrument(span)
            .await;
        lease.abort();
    }
}

/// The job to run for `claimed`. A comment job that failed before is
/// evaluated fully: the failed try may have written the "could not
/// evaluate" failure on the check run, and a comment that turns out not
/// to be the approval command would otherwise end the job without a
/// verdict, leaving that failure standing.
fn retried(claimed: &Claimed) -> crate::events::Job {
    let mut job = claimed.job.clone();
    if claimed.attempts > 0 && matches!(job.trigger, crate::events::Trigger::Comment { .. }) {
        job.trigger = crate::events::Trigger::Full;
    }
    job
}

/// A failed evaluation: retried after a back-off (at least as long as a
/// rate limit asks). The check run says so at once (unless it already
/// shows a failure), so that the older verdict does not stand while the
/// tries go on, and again when the tries are used up.
async fn finish_failed(
    queue: &WorkQueue,
    engine: &Engine,
    claimed: &Claimed,
    error: &str,
    retry_after: Option<Duration>,
    base: Duration,
) {
    let attempt = claimed.attempts + 1;
    if attempt < MAX_ATTEMPTS {
        let wait = backoff(base, attempt).max(retry_after.unwrap_or_default());
        tracing::warn!(attempt, retry_in = ?wait, %error, "evaluation failed; will retry");
        engine
            .report_retrying(&claimed.job, error, wait, retry_after.is_some())
            .await;
        queue.failed(claimed, wait).await;
        return;
    }
    tracing::error!(attempt, %error, "evaluation failed for the last time; said so on the check run");
    engine.report_failure(&claimed.job, attempt, error).await;
    queue.done(claimed).await;
}

/// With several instances, one at a time: at a fresh store (first start,
/// or a store lost), rediscover open hotfixes; then every `interval` post
/// the escalations due (deadlines from the store) and prune what is too old
/// to matter.
async fn sweeps(queue: Arc<WorkQueue>, engine: Arc<Engine>, interval: Duration) {
    const MAX_REPOSITORIES: usize = 1_000;
    let store = queue.store().clone();
    let me = queue.instance().to_string();
    let lead = || async {
        store
            .try_lead(
                SWEEP_TASK,
                &me,
                chrono::Utc::now(),
                interval.saturating_mul(2),
            )
            .await
            .unwrap_or(false)
    };
    if store.is_fresh() && lead().await {
        let jobs = engine.discover(MAX_REPOSITORIES).await;
        if let Err(e) = queue.accept(None, &jobs, &[]).await {
            tracing::warn!(error = %e, "rediscovered hotfixes not queued; the next change brings them");
        }
    }
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        if !lead().await {
            continue;
        }
        let posted = engine.sweep().await;
        if posted > 0 {
            tracing::info!(posted, "escalation comments posted");
        }
        let now = chrono::Utc::now();
        // GitHub redelivers only within three days.
        let _ = store.prune_deliveries(now - crate::recovery::WINDOW).await;
        let _ = store
            .prune_evaluations(now - chrono::TimeDelta::days(7))
            .await;
    }
}

/// `hotfix-guard serve`: the app, or in setup mode the registration pages.
pub async fn run(launch: Launch) -> anyhow::Result<()> {
    match launch {
        Launch::App { config, ops } => serve_with(*config, ops).await,
        Launch::Setup(setup) => serve_setup(setup).await,
    }
}

/// `hotfix-guard serve`: listen on `PORT` until SIGTERM/SIGINT, then drain.
pub async fn serve(config: ServeConfig) -> anyhow::Result<()> {
    serve_with(config, OpsConfig::default()).await
}

async fn serve_with(config: ServeConfig, ops: OpsConfig) -> anyhow::Result<()> {
    let app = App::start(&config).await?;
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", config.port))
        .await
        .with_context(|| format!("cannot listen on port {}", config.port))?;
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        port = config.port,
        github = %config.api_url,
        app_id = config.app_id,
        "hotfix-guard {} listening on port {}; GitHub API at {}",
        env!("CARGO_PKG_VERSION"),
        config.port,
        config.api_url
    );
    tokio::spawn(crate::readiness::check_github(
        app.github.clone(),
        config.api_url.clone(),
        app.readiness.clone(),
    ));
    let router = match ops.metrics_port {
        Some(port) => {
            let metrics = tokio::net::TcpListener::bind(("0.0.0.0", port))
                .await
                .with_context(|| format!("cannot listen on METRICS_PORT {port}"))?;
            tracing::info!(port, "GET /metrics served on METRICS_PORT only");
            let only = crate::metrics_port::only_metrics(app.router.clone());
            tokio::spawn(async move {
                if let Err(e) = axum::serve(metrics, only).await {
                    tracing::error!(error = %e, "the metrics listener failed");
                }
            });
            crate::metrics_port::without_metrics(app.router.clone())
        }
        None => app.router.clone(),
    };
    if ops.setup_mode_ignored {
        tracing::warn!(
            "SETUP_MODE is set but the app is configured: serving the app; unset SETUP_MODE"
        );
    }
    // Only once we listen: redeliveries must find us.
    let recovery = crate::recovery::spawn(
        &app.github,
        ops.recovery.clone(),
        Some((app.store.clone(), app.queue.instance().to_string())),
    );
    let queue = app.queue.clone();
    server::listen::serve(
        listener,
        router,
        &config.limits,
        app.metrics.clone(),
        async move {
            shutdown_signal().await;
            // From now on deliveries are answered 503 (GitHub marks them
            // failed; recovery redelivers them) and no job is claimed.
            queue.close();
        },
    )
    .await;
    if let Some(recovery) = recovery {
        recovery.abort();
    }
    tracing::info!(
        running = app.queue.running(),
        grace = ?config.shutdown_grace,
        "shutting down: finishing the evaluations under way"
    );
    if app.drain(config.shutdown_grace).await {
        tracing::info!(
            "all evaluations finished that were under way; jobs not started stay in the store; bye"
        );
    } else {
        tracing::warn!("grace period over; unfinished jobs stay in the store for the next start");
    }
    Ok(())
}

/// Setup mode: only the registration pages, until SIGTERM/SIGINT.
async fn serve_setup(setup: SetupConfig) -> anyhow::Result<()> {
    let state = Arc::new(server::setup::SetupState::new(
        &setup.api_url,
        &setup.public_url,
    ));
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", setup.port))
        .await
        .with_context(|| format!("cannot listen on port {}", setup.port))?;
    tracing::warn!(
        port = setup.port,
        setup_page = %format!("{}/setup", setup.public_url),
        "setup mode: no GitHub App is configured; open the setup page to register one"
    );
    server::listen::serve(
        listener,
        server::setup::router(state),
        &setup.limits,
        Arc::new(Metrics::default()),
        shutdown_signal(),
    )
    .await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
