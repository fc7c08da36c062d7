//! What the rules know about a pull request. The engine gathers these from
//! GitHub (only what the applicable rules need); `simulate` reads them from a
//! JSON file. Serde shapes here are the `simulate` file format.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum PrState {
    #[default]
    Open,
    Closed,
    Merged,
}

/// A repository permission level, as the collaborator permission API names it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Permission {
    None,
    Read,
    Triage,
    Write,
    Maintain,
    Admin,
}

impl Permission {
    /// GitHub answers `admin`, `write`, `read` or `none` (and `maintain`/`triage`
    /// in `role_name`); anything unknown is treated as no access.
    pub fn from_api(s: &str) -> Permission {
        match s {
            "admin" => Permission::Admin,
            "maintain" => Permission::Maintain,
            "write" | "push" => Permission::Write,
            "triage" => Permission::Triage,
            "read" | "pull" => Permission::Read,
            _ => Permission::None,
        }
    }

    pub fn can_write(self) -> bool {
        self >= Permission::Write
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReviewState {
    Approved,
    ChangesRequested,
    Commented,
    Dismissed,
    Pending,
}

impl ReviewState {
    pub fn from_api(s: &str) -> ReviewState {
        match s {
            "APPROVED" => ReviewState::Approved,
            "CHANGES_REQUESTED" => ReviewState::ChangesRequested,
            "DISMISSED" => ReviewState::Dismissed,
            "PENDING" => ReviewState::Pending,
            _ => ReviewState::Commented,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Review {
    pub id: u64,
    pub user: String,
    /// `true` unless GitHub's `user.type` is `User`: an app's bot or a
    /// deleted account, whose approval is no person's.
    #[serde(default)]
    pub not_a_person: bool,
    pub state: ReviewState,
    /// The commit the review was given on.
    #[serde(default)]
    pub commit_id: Option<String>,
    #[serde(default)]
    pub submitted_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub html_url: Option<String>,
}

/// An issue comment on the pull request (only those that may be approval
/// commands are gathered).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Comment {
    pub id: u64,
    pub user: String,
    /// `true` unless GitHub's `user.type` is `User` (see [`Review`]).
    #[serde(default)]
    pub not_a_person: bool,
    pub body: String,
    pub created_at: DateTime<Utc>,
    /// GitHub's `updated_at`; an edited command is ignored.
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub html_url: Option<String>,
}

/// A label on the pull request and, where known, who applied it and when
/// (issue events API).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Label {
    pub name: String,
    #[serde(default)]
    pub applied_by: Option<String>,
    #[serde(default)]
    pub applied_at: Option<DateTime<Utc>>,
}

/// One `labeled`/`unlabeled` event from the issue events API, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LabelEvent {
    pub label: String,
    /// `true` for `labeled`, `false` for `unlabeled`.
    pub added: bool,
    pub actor: String,
    pub at: DateTime<Utc>,
}

/// Which server-side record gave the head's push time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PushTimeSource {
    /// `GET /repos/{o}/{r}/activity`: the `timestamp` of the latest
    /// `push`/`force_push`/`branch_creation` whose `after` is the head sha.
    RepositoryActivity,
    /// When this app first received a delivery (`opened`, `synchronize`,
    /// `reopened`) naming the head sha, as recorded by the app: later than
    /// the push itself, so never too early.
    FirstDelivery,
}

/// The latest change of the pull request's base branch (a retarget), from
/// GitHub's `base_ref_changed` issue events (`created_at`, server time).
/// An approval given before it was given against another base: the same
/// head brings a different diff once the base changes, so it is stale
/// (GitHub's "dismiss stale approvals" dismisses reviews on a base change
/// too; it never touches a comment).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum BaseChange {
    /// The whole list was read and names no base change.
    #[default]
    Never,
    /// The latest `base_ref_changed` event's `created_at`.
    At { at: DateTime<Utc> },
    /// A base change cannot be ruled out or dated: the issue events list
    /// was cut at the page cap (a change past the cut is unread), or a
    /// listed change carries no time. Every approval is stale.
    Unknown,
}

impl BaseChange {
    /// From the `created_at` of every `base_ref_changed` event listed
    /// (`None` where an event had none) and whether the list was cut.
    pub fn latest(times: &[Option<DateTime<Utc>>], cut: bool) -> BaseChange {
        if cut || times.iter().any(Option::is_none) {
            return BaseChange::Unknown;
        }
        times
            .iter()
            .flatten()
            .max()
            .map_or(BaseChange::Never, |at| BaseChange::At { at: *at })
    }
}

/// A pull request's size as GitHub counts it, whatever the files list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ChangeTotals {
    /// GitHub's `changed_files`.
    pub changed_files: u64,
    pub additions: u64,
    pub deletions: u64,
}

/// GitHub's pull-request files API lists at most this many files.
pub const FILES_LIST_LIMIT: u64 = 3_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ChangedFile {
    pub filename: String,
    #[serde(default)]
    pub additions: u64,
    #[serde(default)]
    pub deletions: u64,
}

/// Largest file hotfix-guard reads for the rules (version files), in
/// bytes: 1 MB, the largest the contents API answers inline (base64
/// `content`). A larger file is never downloaded (GitHub serves up to
/// 100 MB raw); its `size` is the fact ([`FileAtRefs::head_too_large`]).
/// Real version files are a few hundred bytes; the policy file has its
/// own, smaller limit (`policy::limits::MAX_POLICY_BYTES`).
pub const MAX_FILE_BYTES: u64 = 1_000_000;

/// A file's text at the base and head commits; `None` where it does not
/// exist or is not a text file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema, Default)]
pub struct FileAtRefs {
    #[serde(default)]
    pub base: Option<String>,
    #[serde(default)]
    pub head: Option<String>,
    /// What the path is at the base commit when it exists there but holds
    /// no text (GitHub's contents API: a list of entries, `type` `dir`,
    /// `symlink` or `submodule`, or bytes that are not UTF-8), e.g.
    /// `"a directory"`; `None` otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_not_text: Option<String>,
    /// The same at the head commit (the pull request author's choice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_not_text: Option<String>,
    /// The file's size in bytes at the base commit when it is larger than
    /// [`MAX_FILE_BYTES`] (the contents API's `size`): not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_too_large: Option<u64>,
    /// The same at the head commit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_too_large: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PullRequestFacts {
    /// `owner/name`.
    pub repository: String,
    pub number: u64,
    pub title: String,
    pub author: String,
    #[serde(default)]
    pub html_url: Option<String>,
    #[serde(default)]
    pub state: PrState,
    #[serde(default)]
    pub draft: bool,
    pub head_ref: String,
    pub head_sha: String,
    pub base_ref: String,
    #[serde(default)]
    pub base_sha: Option<String>,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub merged_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub merged_by: Option<String>,
    /// When GitHub's servers received the push that made `head_sha` the
    /// head (server time, never a commit date, which the author's machine
    /// writes). An approval command counts only when created after it.
    /// `None` when no server-side source could say: command approvals are
    /// then stale.
    #[serde(default)]
    pub head_pushed_at: Option<DateTime<Utc>>,
    /// Where `head_pushed_at` came from.
    #[serde(default)]
    pub head_pushed_source: Option<PushTimeSource>,
    /// The latest change of the base branch (`base_ref_changed`, server
    /// time): approvals given at or before it are stale.
    #[serde(default)]
    pub base_changed: BaseChange,
    /// The pull request's own totals (`changed_files`, `additions`,
    /// `deletions` of `GET /pulls/{n}` or the webhook's `pull_request`);
    /// `None` when GitHub's answer did not carry them.
    #[serde(default)]
    pub totals: Option<ChangeTotals>,
    #[serde(default)]
    pub labels: Vec<Label>,
    #[serde(default)]
    pub label_events: Vec<LabelEvent>,
    #[serde(default)]
    pub reviews: Vec<Review>,
    #[serde(default)]
    pub comments: Vec<Comment>,
    /// `None` when not gathered (no rule needed it).
    #[serde(default)]
    pub changed_files: Option<Vec<ChangedFile>>,
    /// Path → contents at base and head (version files).
    #[serde(default)]
    pub files: BTreeMap<String, FileAtRefs>,
    /// Tags known to exist among those the version rule asked about (e.g. `v1.2.4`).
    #[serde(default)]
    pub existing_tags: Vec<String>,
    /// `org/slug` → member logins.
    #[serde(default)]
    pub team_members: BTreeMap<String, Vec<String>>,
    /// login → permission on the repository.
    #[serde(default)]
    pub permissions: BTreeMap<String, Permission>,
    /// Check runs, commit statuses and deployments of the head commit; read
    /// only when the severity's policy requires evidence (`None` otherwise).
    #[serde(default)]
    pub evidence: Option<crate::rules::evidence::EvidenceFacts>,
}
