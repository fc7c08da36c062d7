//! Wiring: the GitHub client, the engine, the queue and its workers, and the
//! HTTP router, assembled once for `serve` and for in-process tests alike.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use tokio::task::JoinHandle;
use tracing::Instrument;

use crate::clock::{Clock, SystemClock};
use crate::config::{Launch, OpsConfig, ServeConfig, SetupConfig};
use crate::engine::Engine;
use crate::github::{AppConfig, GitHubApp};
use crate::metrics::{Gauges, Metrics};
use crate::queue::WorkQueue;
use crate::server::dedupe::RecentDeliveries;
use crate::server::{self, AppState};

pub struct App {
    pub router: Router,
    pub queue: Arc<WorkQueue>,
    pub engine: Arc<Engine>,
    /// The client the engine uses; recovery shares its counters.
    pub github: GitHubApp,
    /// Counters `GET /metrics` renders; the listener counts refusals here.
    pub metrics: Arc<Metrics>,
    workers: Vec<JoinHandle<()>>,
    sweeper: Option<JoinHandle<()>>,
}

impl App {
    /// Builds everything and starts the workers (inside a tokio runtime).
    pub fn start(config: &ServeConfig) -> anyhow::Result<App> {
        App::start_with_clock(config, Arc::new(SystemClock))
    }

    pub fn start_with_clock(config: &ServeConfig, clock: Arc<dyn Clock>) -> anyhow::Result<App> {
        let github = GitHubApp::new(&AppConfig {
            api_url: config.api_url.clone(),
            app_id: config.app_id,
            private_key_pem: config.private_key.clone(),
        })
        .context("cannot set up the GitHub client")?;
        let metrics = Arc::new(Metrics::default());
        let engine = Arc::new(Engine::with_clock(github.clone(), metrics.clone(), clock));
        let queue = Arc::new(WorkQueue::with_debounce(
            config.queue_capacity,
            config.debounce,
        ));
        let workers: Vec<JoinHandle<()>> = (0..config.workers)
            .map(|_| tokio::spawn(work(queue.clone(), engine.clone())))
            .collect();
        let sweeper = config
            .sweep_interval
            .map(|interval| tokio::spawn(sweeps(queue.clone(), engine.clone(), interval)));
        let state = AppState {
            secrets: config.secrets.clone(),
            queue: queue.clone(),
            seen: Arc::new(RecentDeliveries::new(server::RECENT_DELIVERIES)),
            metrics: metrics.clone(),
            on_branch_push: {
                let engine = engine.clone();
                Arc::new(move |installation, repo, branch| {
                    engine.merge_backs_waiting_on(installation, repo, branch)
                })
            },
            on_policy_change: {
                let engine = engine.clone();
                Arc::new(move |repo| engine.forget_policy(repo))
            },
            gauges: {
                let queue = queue.clone();
                let github = github.clone();
                Arc::new(move || Gauges {
                    queue_depth: queue.depth(),
                    api_calls: github.stats().snapshot(),
                    rate_limit_remaining: github.stats().rate_limit_remaining(),
                })
            },
        };
        Ok(App {
            router: server::router_with(state, &config.limits),
            queue,
            engine,
            github,
            metrics,
            workers,
            sweeper,
        })
    }

    /// Waits until no evaluation is queued or running (tests, shutdown).
    pub async fn idle(&self) {
        while self.queue.in_flight() > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Stops taking work and lets the workers finish what is queued, for at
    /// most `grace`. True when everything finished in time.
    pub async fn drain(self, grace: Duration) -> bool {
        self.queue.close();
        // Sweeps only post escalations, which the next start's sweep posts
        // just as well: stop them rather than wait for them.
        if let Some(sweeper) = self.sweeper {
            sweeper.abort();
        }
        let workers = self.workers;
        let all = async move {
            for worker in workers {
                let _ = worker.await;
            }
        };
        tokio::time::timeout(grace, all).await.is_ok()
    }
}

/// One worker: takes a pull request, evaluates it, marks it done. Each
/// evaluation runs in its own task so that a panic there (a bug) is logged
/// and the pull request released, instead of killing the worker.
async fn work(queue: Arc<WorkQueue>, engine: Arc<Engine>) {
    while let Some(job) = queue.next().await {
        let key = job.key.clone();
        let span = tracing::info_span!(
            "evaluate",
            repository = %key.repo,
            pr = key.number,
            deliveries = ?job.deliveries,
        );
        let engine = engine.clone();
        let run = tokio::spawn(async move { engine.run(job).await }.instrument(span.clone()));
        if let Err(e) = run.await {
            span.in_scope(|| tracing::error!(error = %e, "evaluation panicked"));
        }
        queue.done(&key);
    }
}

/// At start-up, rediscover open hotfixes (re-evaluating what may have been
/// missed while down, and watching their deadlines again); then check
/// deadlines every `interval` until the queue closes.
async fn sweeps(queue: Arc<WorkQueue>, engine: Arc<Engine>, interval: Duration) {
    const MAX_REPOSITORIES: usize = 1_000;
    for job in engine.discover(MAX_REPOSITORIES).await {
        if queue.push(job).is_err() {
            tracing::warn!("queue full or closing; the rest of discovery waits for the next start");
            break;
        }
    }
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        for job in engine.take_failed() {
            // A full queue keeps it for the next sweep.
            if let Err(refused) = queue.push(job.clone()) {
                tracing::warn!(%refused, pr = job.key.number, "retry postponed");
                engine.retry_later(job.key);
            }
        }
        let posted = engine.sweep().await;
        if posted > 0 {
            tracing::info!(posted, "escalation comments posted");
        }
    }
}

/// `hotfix-guard serve`: the app, or in setup mode the registration pages.
pub async fn run(launch: Launch) -> anyhow::Result<()> {
    match launch {
        Launch::App { config, ops } => serve_with(config, ops).await,
        Launch::Setup(setup) => serve_setup(setup).await,
    }
}

/// `hotfix-guard serve`: listen on `PORT` until SIGTERM/SIGINT, then drain.
pub async fn serve(config: ServeConfig) -> anyhow::Result<()> {
    serve_with(config, OpsConfig::default()).await
}

async fn serve_with(config: ServeConfig, ops: OpsConfig) -> anyhow::Result<()> {
    let app = App::start(&config)?;
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", config.port))
        .await
        .with_context(|| format!("cannot listen on port {}", config.port))?;
    tracing::info!(
        port = config.port,
        api = %config.api_url,
        app_id = config.app_id,
        "hotfix-guard listening"
    );
    if ops.setup_mode_ignored {
        tracing::warn!(
            "SETUP_MODE is set but the app is configured: serving the app; unset SETUP_MODE"
        );
    }
    // Only once we listen: redeliveries must find us.
    let recovery = crate::recovery::spawn(&app.github, ops.recovery.clone());
    server::listen::serve(
        listener,
        app.router.clone(),
        &config.limits,
        app.metrics.clone(),
        shutdown_signal(),
    )
    .await;
    if let Some(recovery) = recovery {
        recovery.abort();
    }
    tracing::info!(
        queued = app.queue.in_flight(),
        grace = ?config.shutdown_grace,
        "shutting down: finishing queued evaluations"
    );
    if app.drain(config.shutdown_grace).await {
        tracing::info!("all evaluations finished; bye");
    } else {
        tracing::warn!(
            "grace period over; unfinished evaluations are picked up by the next start's sweep"
        );
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
