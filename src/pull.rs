//! The one pull request type the engine works on, and the small types it
//! holds (logins, labels, branch ends).
//!
//! Each edge converts into it: a webhook's `pull_request` object
//! deserializes straight into [`Pull`] (`events`), and the REST API's
//! answers (`GET /repos/{o}/{r}/pulls/{n}`, the pull request lists,
//! `GET .../commits/{sha}/pulls`) are decoded by `github`'s lenient wire
//! structs and converted into it there. Its serde shape is the webhook's
//! (`user.login`, `labels[].name`, `head.ref`, `head.repo.full_name`): the
//! store keeps a job's pull request as this JSON, so the field names stay.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// GitHub's login for a deleted account: the REST API and the web show
/// `ghost` where a webhook may carry `null`. Both paths convert to this one
/// spelling, so rules see one value.
pub const DELETED_USER: &str = "ghost";

/// A pull request as GitHub described it, by a delivery or a REST answer.
/// Fields absent from an older or smaller answer read as their default.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct Pull {
    pub number: u64,
    #[serde(default)]
    pub title: String,
    /// The author; read it through [`Pull::author`], which spells a deleted
    /// account [`DELETED_USER`].
    #[serde(default)]
    pub user: Option<Login>,
    /// `open` or `closed` (a merged pull request is `closed`).
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub draft: bool,
    /// Absent from list answers, where `merged_at` tells: read it through
    /// [`Pull::is_merged`].
    #[serde(default)]
    pub merged: Option<bool>,
    #[serde(default)]
    pub merged_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub merged_by: Option<Login>,
    #[serde(default)]
    pub merge_commit_sha: Option<String>,
    pub head: GitRef,
    pub base: GitRef,
    #[serde(default)]
    pub labels: Vec<LabelName>,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    /// Orders two deliveries' snapshots of one pull request; `None` from
    /// the REST path, which does not read it.
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub html_url: Option<String>,
    /// GitHub's own totals for the whole pull request (absent from list
    /// answers): `changed_files`, `additions`, `deletions`.
    #[serde(default)]
    pub changed_files: Option<u64>,
    #[serde(default)]
    pub additions: Option<u64>,
    #[serde(default)]
    pub deletions: Option<u64>,
    /// GitHub's `locked` (same in the webhook and `GET .../pulls/{n}`): the
    /// conversation is locked and GitHub refuses the app's comments.
    #[serde(default)]
    pub locked: bool,
    /// GitHub's `active_lock_reason` (`off-topic`, `too heated`,
    /// `resolved`, `spam`); `None` when none was given or not locked.
    #[serde(default)]
    pub active_lock_reason: Option<String>,
}

impl Pull {
    /// The pull request's totals, when GitHub's answer carried all three.
    pub fn totals(&self) -> Option<crate::rules::ChangeTotals> {
        Some(crate::rules::ChangeTotals {
            changed_files: self.changed_files?,
            additions: self.additions?,
            deletions: self.deletions?,
        })
    }

    /// Whether the head branch lives in another repository than the base
    /// (a fork), as `head.repo.full_name` says; a deleted fork (`null`)
    /// counts as another repository.
    pub fn head_in_fork(&self) -> bool {
        match (&self.head.repo, &self.base.repo) {
            (Some(head), Some(base)) => !head.full_name.eq_ignore_ascii_case(&base.full_name),
            (None, Some(_)) => true,
            // Not told: the payload does not carry repositories at all.
            (_, None) => false,
        }
    }

    /// `user.login`; a deleted account (`null` or an empty login in the
    /// webhook) is [`DELETED_USER`], as the REST API spells it.
    pub fn author(&self) -> &str {
        self.user
            .as_ref()
            .map(|u| u.login.as_str())
            .filter(|l| !l.is_empty())
            .unwrap_or(DELETED_USER)
    }

    /// `labels[].name`, in GitHub's order.
    pub fn label_names(&self) -> Vec<String> {
        self.labels.iter().map(|l| l.name.clone()).collect()
    }

    /// `merged`, or a `merged_at` (list answers carry only that).
    pub fn is_merged(&self) -> bool {
        self.merged.unwrap_or(false) || self.merged_at.is_some()
    }
}

/// An account as GitHub names it: `{"login": ...}`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct Login {
    pub login: String,
}

/// A label as a pull request lists it: `{"name": ...}`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct LabelName {
    pub name: String,
}

/// One end of a pull request (`head` or `base`).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq, Default)]
pub struct GitRef {
    /// The branch name (GitHub's `ref`).
    #[serde(rename = "ref")]
    pub ref_name: String,
    pub sha: String,
    /// The repository the branch lives in; `null` for a deleted fork.
    #[serde(default)]
    pub repo: Option<RepoFullName>,
}

/// A repository as a pull request's end names it: `owner/name`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct RepoFullName {
    pub full_name: String,
    /// The repository's `default_branch` as GitHub sent it with the pull
    /// request's end (`base.repo.default_branch`); `None` when absent or
    /// empty. Which branch a merge changes the policy in force on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_branch: Option<String>,
}
