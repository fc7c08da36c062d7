//! GitHub access: app auth, installation tokens, retries, the calls we make.
//!
//! - `app`: the app's key and JWT, installation tokens, `/app/*` calls.
//! - `http`: the one place requests are sent (timeouts, retries, rate
//!   limits, ETag cache, counters).
//! - `in_flight`: at most a few requests in flight per installation.
//! - `page_items`: list items by identity, and whether a page read again
//!   still holds what it held (the check on lists read page by page).
//! - `repo`: the calls on one repository, returning our own `types`.
//! - `convert`: REST answers into the webhook shapes the engine uses.
//!
//! Every call the app makes is listed in docs/contracts.md; `repo.rs` says
//! what each is for.

pub mod app;
mod error;
mod etag;
mod http;
mod identity;
pub mod in_flight;
mod key;
pub mod manifest;
mod memo;
mod options;
mod page_items;
pub mod repo;
mod stats;
pub mod types;

#[cfg(test)]
mod tests;

pub use app::{
    AppClient, AppConfig, ClientOptions, GitHubApp, InstallationClient, validate_private_key,
};
pub use error::{ErrorKind, GitHubError};
pub use http::HttpOptions;
pub use repo::{CommitCheckRun, CommitStatus, DeploymentInfo, FileRead, NotText, RepoClient};
pub use stats::{ApiStats, NO_RESPONSE};
pub use types::*;
