//! hotfix-guard: a GitHub App that enforces a team's hotfix procedure on pull
//! requests. The binary (`src/main.rs`) is a thin CLI over this library.
//!
//! Layers, outermost first: `server` (HTTP, signatures) → `queue` (per pull
//! request coalescing) → `engine` (gather facts from GitHub, evaluate, publish)
//! → `rules` and `report` (pure) over `policy` (the YAML file, validated).
//! Only `github` and `engine` perform I/O against GitHub.
//! `pull` is the one pull request type: `events` (webhooks) and `github`
//! (REST answers) convert into it at their edge, and the engine uses only it.

pub mod app;
pub mod clock;
pub mod config;
pub mod engine;
pub mod events;
pub mod github;
pub mod healthcheck;
pub mod metrics;
pub mod metrics_port;
pub mod notify;
pub mod policy;
pub mod pull;
pub mod queue;
pub mod readiness;
pub mod recovery;
pub mod replay;
pub mod report;
pub mod rules;
pub mod server;
pub mod simulate;
pub mod simulate_schema;
pub mod store;
pub mod telemetry;
