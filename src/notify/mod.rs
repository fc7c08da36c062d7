//! Incident notices (issue 14): the procedure's initial alert, updates and
//! resolution notice, sent where the team talks (`notify` in the policy).
//!
//! After each evaluation the engine derives the procedure's events from the
//! verdict and facts it has (`plan`), renders each with the sticky
//! comment's renderer (`report::notices`) and records one notice per target
//! in the store's outbox (`record`) — before anything is sent. A sender task
//! (`sender`) claims due notices with a lease, sends them (`slack`,
//! `webhook`) and marks them sent; failures back off and are retried, never
//! touching the evaluation or its check run.

pub mod config;
mod error;
pub mod inert;
pub mod plan;
pub mod record;
pub mod sender;
mod slack;
pub mod startup;
mod webhook;

pub use config::NotifyConfig;
pub use plan::{Moment, planned_events};
pub use record::{after_evaluation, preview};

use serde::{Deserialize, Serialize};

/// What the sender sends, stored as JSON in the outbox's `payload`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// `declared`, `severity_changed`, `approved`, `escalated`, `merged`,
    /// `closed_unmerged`.
    pub event: String,
    /// The notice's text (Slack's `text`, the webhook's `text`).
    pub text: String,
    /// The incident's status now, for a Slack thread's parent
    /// (`chat.update`).
    pub status: String,
    /// The webhook's structured fields (`event`, `severity`, `repository`,
    /// `pull_request`, `url`, `title`, times as RFC 3339 UTC).
    pub fields: serde_json::Value,
}
