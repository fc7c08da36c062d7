//! Our own small types for what we read from and write to GitHub.
//!
//! Answers are decoded into private `wire` structs that are lenient on
//! purpose (every field we can live without has a default, dates that do not
//! parse read as absent), so GitHub Enterprise Server versions and older
//! payload shapes never fail a whole evaluation; they are then converted into
//! the public types below, which hold only what the app uses (a pull request
//! into the engine's one [`Pull`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::pull::{GitRef, LabelName, Login, Pull, RepoFullName};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepoInfo {
    /// `owner/name`.
    pub full_name: String,
    pub default_branch: String,
    pub private: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewInfo {
    pub id: u64,
    pub user: String,
    /// GitHub's `user.type`: `User`, `Bot`; empty for a deleted account.
    #[serde(default)]
    pub user_type: String,
    /// `APPROVED`, `CHANGES_REQUESTED`, `COMMENTED`, `DISMISSED`, `PENDING`.
    pub state: String,
    pub commit_id: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub html_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentInfo {
    pub id: u64,
    pub user: String,
    /// GitHub's `user.type`: `User`, `Bot`; empty for a deleted account.
    #[serde(default)]
    pub user_type: String,
    pub body: String,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub html_url: Option<String>,
    /// `performed_via_github_app.id`: the app whose installation token wrote
    /// the comment (`None` for a person). What tells the app's own comments
    /// from a person's that quotes its markers.
    #[serde(default)]
    pub via_app: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueEventInfo {
    /// `labeled`, `unlabeled`, `review_dismissed`, ...
    pub event: String,
    /// Who caused it; `None` for a deleted account.
    pub actor: Option<String>,
    /// The label's name, for `labeled`/`unlabeled`.
    pub label: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileInfo {
    pub filename: String,
    pub additions: u64,
    pub deletions: u64,
    /// `added`, `removed`, `modified`, `renamed`, `copied`, `changed`, `unchanged`.
    pub status: String,
    /// The old name of a renamed file.
    pub previous_filename: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckRunInfo {
    pub id: u64,
    pub name: String,
    pub head_sha: String,
    /// `queued`, `in_progress`, `completed`, ...
    pub status: String,
    pub conclusion: Option<String>,
    pub output_title: Option<String>,
    pub output_summary: Option<String>,
    pub external_id: Option<String>,
    /// The app that owns the check run.
    pub app_id: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompareInfo {
    /// `identical`, `ahead`, `behind` or `diverged` (head relative to base).
    pub status: String,
    pub ahead_by: u64,
    pub behind_by: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BranchInfo {
    pub name: String,
    /// The commit the branch points at.
    pub sha: String,
    pub protected: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueInfo {
    pub number: u64,
    pub html_url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallationInfo {
    pub id: u64,
    /// The login of the user or organisation the app is installed on.
    pub account: String,
    pub suspended: bool,
}

/// One webhook delivery as `GET /app/hook/deliveries` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookDelivery {
    pub id: u64,
    /// The `X-GitHub-Delivery` value.
    pub guid: String,
    pub delivered_at: Option<DateTime<Utc>>,
    pub redelivery: bool,
    /// What our endpoint answered (0 when it could not be reached).
    pub status_code: u16,
    pub event: String,
    pub action: Option<String>,
    pub installation_id: Option<u64>,
    pub repository_id: Option<u64>,
}

// ---- what we write -------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Queued,
    InProgress,
    Completed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckConclusion {
    ActionRequired,
    Cancelled,
    Failure,
    Neutral,
    Success,
    Skipped,
    TimedOut,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnnotationLevel {
    Notice,
    Warning,
    Failure,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Annotation {
    pub path: String,
    pub start_line: u32,
    pub end_line: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_column: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_column: Option<u32>,
    pub annotation_level: AnnotationLevel,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw_details: Option<String>,
}

/// A check run's output. Title, summary and text longer than GitHub's 65,535
/// limit are cut (at a character boundary) before sending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CheckOutput {
    pub title: String,
    pub summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Any number: they are sent 50 a request, as GitHub requires.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub annotations: Vec<Annotation>,
}

/// A button on the check run (`requested_action` webhook). GitHub limits:
/// label 20 characters, description 40, identifier 20; at most 3 actions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckAction {
    pub label: String,
    pub description: String,
    pub identifier: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewCheckRun {
    pub name: String,
    pub head_sha: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<CheckStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conclusion: Option<CheckConclusion>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<CheckOutput>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<CheckAction>,
}

/// A partial update: only the fields that are `Some` are sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CheckRunUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<CheckStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conclusion: Option<CheckConclusion>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<CheckOutput>,
    /// `Some(vec![])` removes the buttons.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actions: Option<Vec<CheckAction>>,
}

/// The wire shapes of GitHub's answers, lenient by design. Kept instead of
/// octocrab's models, which reject a whole answer over one odd field.
pub(crate) mod wire {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer};

    /// A timestamp that reads as `None` when absent, null or unparsable.
    pub(crate) fn lenient_time<'de, D>(d: D) -> Result<Option<DateTime<Utc>>, D::Error>
    where
        D: Deserializer<'de>,
    {
        let raw: Option<serde_json::Value> = Option::deserialize(d)?;
        Ok(raw
            .as_ref()
            .and_then(|v| v.as_str())
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|t| t.with_timezone(&Utc)))
    }

    /// Numbers that may come as null.
    fn lenient_u64<'de, D>(d: D) -> Result<u64, D::Error>
    where
        D: Deserializer<'de>,
    {
        let raw: Option<serde_json::Value> = Option::deserialize(d)?;
        Ok(raw.as_ref().and_then(|v| v.as_u64()).unwrap_or(0))
    }

    /// Strings that may come as null.
    fn lenient_string<'de, D>(d: D) -> Result<String, D::Error>
    where
        D: Deserializer<'de>,
    {
        let raw: Option<String> = Option::deserialize(d)?;
        Ok(raw.unwrap_or_default())
    }

    #[derive(Deserialize, Default)]
    pub(crate) struct User {
        #[serde(default, deserialize_with = "lenient_string")]
        pub login: String,
        /// `User`, `Bot`, `Organization`.
        #[serde(default, rename = "type", deserialize_with = "lenient_string")]
        pub kind: String,
    }

    /// The account type of `user`; `""` for a deleted account (`null`).
    pub(crate) fn kind(user: &Option<User>) -> String {
        user.as_ref().map(|u| u.kind.clone()).unwrap_or_default()
    }

    /// GitHub shows a deleted account as `null`; it displays it as "ghost".
    pub(crate) fn login(user: Option<User>) -> String {
        user.map(|u| u.login)
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| crate::pull::DELETED_USER.to_string())
    }

    #[derive(Deserialize, Default)]
    pub(crate) struct Repo {
        #[serde(default, deserialize_with = "lenient_string")]
        pub full_name: String,
        #[serde(default, deserialize_with = "lenient_string")]
        pub default_branch: String,
        #[serde(default)]
        pub private: Option<bool>,
    }

    #[derive(Deserialize, Default)]
    pub(crate) struct Label {
        #[serde(default, deserialize_with = "lenient_string")]
        pub name: String,
    }

    #[derive(Deserialize, Default)]
    pub(crate) struct PullEnd {
        #[serde(default, rename = "ref", deserialize_with = "lenient_string")]
        pub ref_name: String,
        #[serde(default, deserialize_with = "lenient_string")]
        pub sha: String,
        #[serde(default)]
        pub repo: Option<Repo>,
    }

    #[derive(Deserialize)]
    pub(crate) struct Pull {
        pub number: u64,
        #[serde(default, deserialize_with = "lenient_string")]
        pub title: String,
        #[serde(default)]
        pub user: Option<User>,
        #[serde(default, deserialize_with = "lenient_string")]
        pub state: String,
        #[serde(default)]
        pub draft: Option<bool>,
        /// Absent from list answers; `merged_at` tells there.
        #[serde(default)]
        pub merged: Option<bool>,
        #[serde(default, deserialize_with = "lenient_time")]
        pub merged_at: Option<DateTime<Utc>>,
        #[serde(default)]
        pub merged_by: Option<User>,
        #[serde(default)]
        pub merge_commit_sha: Option<String>,
        #[serde(default)]
        pub head: Option<PullEnd>,
        #[serde(default)]
        pub base: Option<PullEnd>,
        #[serde(default)]
        pub labels: Option<Vec<Label>>,
        #[serde(default, deserialize_with = "lenient_time")]
        pub created_at: Option<DateTime<Utc>>,
        #[serde(default, deserialize_with = "lenient_string")]
        pub html_url: String,
        #[serde(default)]
        pub changed_files: Option<u64>,
        #[serde(default)]
        pub additions: Option<u64>,
        #[serde(default)]
        pub deletions: Option<u64>,
        #[serde(default)]
        pub locked: Option<bool>,
        #[serde(default)]
        pub active_lock_reason: Option<String>,
    }

    #[derive(Deserialize)]
    pub(crate) struct Review {
        pub id: u64,
        #[serde(default)]
        pub user: Option<User>,
        #[serde(default, deserialize_with = "lenient_string")]
        pub state: String,
        #[serde(default)]
        pub commit_id: Option<String>,
        #[serde(default, deserialize_with = "lenient_time")]
        pub submitted_at: Option<DateTime<Utc>>,
        #[serde(default)]
        pub html_url: Option<String>,
    }

    #[derive(Deserialize)]
    pub(crate) struct Comment {
        pub id: u64,
        #[serde(default)]
        pub user: Option<User>,
        #[serde(default, deserialize_with = "lenient_string")]
        pub body: String,
        #[serde(default, deserialize_with = "lenient_time")]
        pub created_at: Option<DateTime<Utc>>,
        #[serde(default, deserialize_with = "lenient_time")]
        pub updated_at: Option<DateTime<Utc>>,
        #[serde(default)]
        pub html_url: Option<String>,
        #[serde(default)]
        pub performed_via_github_app: Option<AppRef>,
    }

    /// One entry of the repository activity API.
    #[derive(Deserialize)]
    pub(crate) struct Activity {
        #[serde(default, deserialize_with = "lenient_string")]
        pub after: String,
        #[serde(default, rename = "ref", deserialize_with = "lenient_string")]
        pub git_ref: String,
        #[serde(default, deserialize_with = "lenient_time")]
        pub timestamp: Option<DateTime<Utc>>,
        #[serde(default, deserialize_with = "lenient_string")]
        pub activity_type: String,
    }

    #[derive(Deserialize)]
    pub(crate) struct IssueSummary {
        pub number: u64,
        #[serde(default, deserialize_with = "lenient_string")]
        pub html_url: String,
        #[serde(default, deserialize_with = "lenient_string")]
        pub body: String,
        #[serde(default)]
        pub user: Option<User>,
        #[serde(default)]
        pub performed_via_github_app: Option<AppRef>,
    }

    #[derive(Deserialize)]
    pub(crate) struct IssueEvent {
        #[serde(default, deserialize_with = "lenient_string")]
        pub event: String,
        #[serde(default)]
        pub actor: Option<User>,
        #[serde(default)]
        pub label: Option<Label>,
        #[serde(default, deserialize_with = "lenient_time")]
        pub created_at: Option<DateTime<Utc>>,
    }

    #[derive(Deserialize)]
    pub(crate) struct File {
        #[serde(default, deserialize_with = "lenient_string")]
        pub filename: String,
        #[serde(default, deserialize_with = "lenient_u64")]
        pub additions: u64,
        #[serde(default, deserialize_with = "lenient_u64")]
        pub deletions: u64,
        #[serde(default, deserialize_with = "lenient_string")]
        pub status: String,
        #[serde(default)]
        pub previous_filename: Option<String>,
    }

    #[derive(Deserialize, Default)]
    pub(crate) struct Output {
        #[serde(default)]
        pub title: Option<String>,
        #[serde(default)]
        pub summary: Option<String>,
    }

    #[derive(Deserialize, Default)]
    pub(crate) struct AppRef {
        #[serde(default)]
        pub id: Option<u64>,
    }

    #[derive(Deserialize)]
    pub(crate) struct CheckRun {
        pub id: u64,
        #[serde(default, deserialize_with = "lenient_string")]
        pub name: String,
        #[serde(default, deserialize_with = "lenient_string")]
        pub head_sha: String,
        #[serde(default, deserialize_with = "lenient_string")]
        pub status: String,
        #[serde(default)]
        pub conclusion: Option<String>,
        #[serde(default)]
        pub output: Option<Output>,
        #[serde(default)]
        pub external_id: Option<String>,
        #[serde(default)]
        pub app: Option<AppRef>,
    }

    #[derive(Deserialize)]
    pub(crate) struct CheckRunList {
        #[serde(default)]
        pub check_runs: Vec<CheckRun>,
    }

    #[derive(Deserialize)]
    pub(crate) struct Compare {
        #[serde(default, deserialize_with = "lenient_string")]
        pub status: String,
        #[serde(default, deserialize_with = "lenient_u64")]
        pub ahead_by: u64,
        #[serde(default, deserialize_with = "lenient_u64")]
        pub behind_by: u64,
    }

    #[derive(Deserialize, Default)]
    pub(crate) struct ShaRef {
        #[serde(default, deserialize_with = "lenient_string")]
        pub sha: String,
    }

    #[derive(Deserialize)]
    pub(crate) struct Branch {
        #[serde(default, deserialize_with = "lenient_string")]
        pub name: String,
        #[serde(default)]
        pub commit: ShaRef,
        #[serde(default)]
        pub protected: Option<bool>,
    }

    #[derive(Deserialize)]
    pub(crate) struct GitRef {
        #[serde(default)]
        pub object: ShaRef,
    }

    #[derive(Deserialize)]
    pub(crate) struct Issue {
        pub number: u64,
        #[serde(default, deserialize_with = "lenient_string")]
        pub html_url: String,
    }

    #[derive(Deserialize)]
    pub(crate) struct Membership {
        #[serde(default, deserialize_with = "lenient_string")]
        pub state: String,
    }

    #[derive(Deserialize)]
    pub(crate) struct Permission {
        #[serde(default, deserialize_with = "lenient_string")]
        pub permission: String,
    }

    #[derive(Deserialize)]
    pub(crate) struct Content {
        #[serde(default, rename = "type", deserialize_with = "lenient_string")]
        pub kind: String,
        #[serde(default)]
        pub encoding: Option<String>,
        #[serde(default, deserialize_with = "lenient_string")]
        pub content: String,
        #[serde(default, deserialize_with = "lenient_u64")]
        pub size: u64,
    }

    #[derive(Deserialize)]
    pub(crate) struct Token {
        pub token: String,
        #[serde(default, deserialize_with = "lenient_time")]
        pub expires_at: Option<DateTime<Utc>>,
    }

    #[derive(Deserialize)]
    pub(crate) struct Installation {
        pub id: u64,
        #[serde(default)]
        pub account: Option<User>,
        #[serde(default)]
        pub suspended_at: Option<serde_json::Value>,
    }

    #[derive(Deserialize)]
    pub(crate) struct Delivery {
        pub id: u64,
        #[serde(default, deserialize_with = "lenient_string")]
        pub guid: String,
        #[serde(default, deserialize_with = "lenient_time")]
        pub delivered_at: Option<DateTime<Utc>>,
        #[serde(default)]
        pub redelivery: Option<bool>,
        #[serde(default, deserialize_with = "lenient_u64")]
        pub status_code: u64,
        #[serde(default, deserialize_with = "lenient_string")]
        pub event: String,
        #[serde(default)]
        pub action: Option<String>,
        #[serde(default)]
        pub installation_id: Option<u64>,
        #[serde(default)]
        pub repository_id: Option<u64>,
    }
}

impl From<wire::Repo> for RepoInfo {
    fn from(w: wire::Repo) -> RepoInfo {
        RepoInfo {
            full_name: w.full_name,
            default_branch: w.default_branch,
            private: w.private.unwrap_or(false),
        }
    }
}

/// A REST answer's end of a pull request; a missing end reads as empty
/// (no branch, no sha), a repository without a name as a deleted fork.
impl From<wire::PullEnd> for GitRef {
    fn from(w: wire::PullEnd) -> GitRef {
        GitRef {
            ref_name: w.ref_name,
            sha: w.sha,
            repo: w
                .repo
                .filter(|r| !r.full_name.is_empty())
                .map(|r| RepoFullName {
                    full_name: r.full_name,
                    default_branch: Some(r.default_branch).filter(|b| !b.is_empty()),
                }),
        }
    }
}

/// The REST API's pull request (`GET .../pulls/{n}`, the lists, `GET
/// .../commits/{sha}/pulls`) as the engine's one [`Pull`]: the author of a
/// deleted account is [`crate::pull::DELETED_USER`], `merged` is also
/// true when only `merged_at` was sent, and an empty `merged_by` login or
/// lock reason reads as absent. `updated_at` is not read (`None`).
impl From<wire::Pull> for Pull {
    fn from(w: wire::Pull) -> Pull {
        let login = |login: String| Login { login };
        Pull {
            number: w.number,
            title: w.title,
            user: Some(login(wire::login(w.user))),
            state: w.state,
            draft: w.draft.unwrap_or(false),
            merged: Some(w.merged.unwrap_or(false) || w.merged_at.is_some()),
            merged_at: w.merged_at,
            merged_by: w
                .merged_by
                .map(|u| u.login)
                .filter(|l| !l.is_empty())
                .map(login),
            merge_commit_sha: w.merge_commit_sha,
            head: w.head.map(GitRef::from).unwrap_or_default(),
            base: w.base.map(GitRef::from).unwrap_or_default(),
            labels: w
                .labels
                .unwrap_or_default()
                .into_iter()
                .map(|l| LabelName { name: l.name })
                .collect(),
            created_at: w.created_at,
            updated_at: None,
            html_url: Some(w.html_url),
            changed_files: w.changed_files,
            additions: w.additions,
            deletions: w.deletions,
            locked: w.locked.unwrap_or(false),
            active_lock_reason: w.active_lock_reason.filter(|r| !r.is_empty()),
        }
    }
}

/// An issue as a list shows it: enough to recognise one the app opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueSummary {
    pub number: u64,
    pub html_url: String,
    pub body: String,
    /// The author's login.
    #[serde(default)]
    pub user: String,
    /// `performed_via_github_app.id`: the app that opened the issue.
    #[serde(default)]
    pub via_app: Option<u64>,
}

impl From<wire::IssueSummary> for IssueSummary {
    fn from(w: wire::IssueSummary) -> IssueSummary {
        IssueSummary {
            number: w.number,
            html_url: w.html_url,
            body: w.body,
            user: wire::login(w.user),
            via_app: w.performed_via_github_app.and_then(|a| a.id),
        }
    }
}

/// A pull request's conversation from the timeline API, in one list where
/// the comments, reviews and issue-events APIs would take three calls.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Timeline {
    pub comments: Vec<CommentInfo>,
    /// Submitted reviews, with the REST spelling of their state (`APPROVED`).
    pub reviews: Vec<ReviewInfo>,
    /// `labeled` and `unlabeled` events.
    pub label_events: Vec<IssueEventInfo>,
    /// `closed` and `reopened` events: who closed the pull request (or
    /// reopened it) and when, by GitHub's clock.
    pub state_events: Vec<IssueEventInfo>,
    /// `base_ref_changed` events: someone changed the pull request's base
    /// branch (retargeted it), at `created_at` by GitHub's clock. GitHub
    /// documents the event for the issue events API; when the timeline
    /// carries it too it is read from there.
    pub base_changes: Vec<IssueEventInfo>,
    /// `Some(items)` when the list was cut after `items` items (the client's
    /// page cap, `HttpOptions::max_pages` of 100): what came later is
    /// missing. `None`: the whole list.
    pub cut_after: Option<usize>,
}

impl Timeline {
    /// Sorts one timeline item by its `event`; items the app does not read
    /// (commits, references, assignments ...) are skipped, and one that
    /// does not decode is skipped rather than failing the whole list.
    pub(crate) fn push(&mut self, item: serde_json::Value) {
        let event = item
            .get("event")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_string();
        match event.as_str() {
            "commented" => {
                if let Ok(w) = serde_json::from_value::<wire::Comment>(item) {
                    self.comments.push(w.into());
                }
            }
            "reviewed" => {
                if let Ok(w) = serde_json::from_value::<wire::Review>(item) {
                    let mut review = ReviewInfo::from(w);
                    // The timeline writes states in lower case.
                    review.state = review.state.to_ascii_uppercase();
                    self.reviews.push(review);
                }
            }
            "labeled" | "unlabeled" => {
                if let Ok(w) = serde_json::from_value::<wire::IssueEvent>(item) {
                    self.label_events.push(w.into());
                }
            }
            "closed" | "reopened" => {
                if let Ok(w) = serde_json::from_value::<wire::IssueEvent>(item) {
                    self.state_events.push(w.into());
                }
            }
            "base_ref_changed" => {
                // An item that does not decode still says the base changed:
                // kept without a time, which makes the change's time unknown.
                let info = serde_json::from_value::<wire::IssueEvent>(item)
                    .map(IssueEventInfo::from)
                    .unwrap_or_else(|_| IssueEventInfo {
                        event: "base_ref_changed".to_string(),
                        actor: None,
                        label: None,
                        created_at: None,
                    });
                self.base_changes.push(info);
            }
            _ => {}
        }
    }
}

impl From<wire::Review> for ReviewInfo {
    fn from(w: wire::Review) -> ReviewInfo {
        ReviewInfo {
            id: w.id,
            user_type: wire::kind(&w.user),
            user: wire::login(w.user),
            state: w.state,
            commit_id: w.commit_id,
            submitted_at: w.submitted_at,
            html_url: w.html_url,
        }
    }
}

impl From<wire::Comment> for CommentInfo {
    fn from(w: wire::Comment) -> CommentInfo {
        CommentInfo {
            id: w.id,
            user_type: wire::kind(&w.user),
            user: wire::login(w.user),
            body: w.body,
            created_at: w.created_at,
            updated_at: w.updated_at,
            html_url: w.html_url,
            via_app: w.performed_via_github_app.and_then(|a| a.id),
        }
    }
}

impl From<wire::IssueEvent> for IssueEventInfo {
    fn from(w: wire::IssueEvent) -> IssueEventInfo {
        IssueEventInfo {
            event: w.event,
            actor: w.actor.map(|u| u.login).filter(|l| !l.is_empty()),
            label: w.label.map(|l| l.name),
            created_at: w.created_at,
        }
    }
}

impl From<wire::File> for FileInfo {
    fn from(w: wire::File) -> FileInfo {
        FileInfo {
            filename: w.filename,
            additions: w.additions,
            deletions: w.deletions,
            status: w.status,
            previous_filename: w.previous_filename,
        }
    }
}

impl From<wire::CheckRun> for CheckRunInfo {
    fn from(w: wire::CheckRun) -> CheckRunInfo {
        let output = w.output.unwrap_or_default();
        CheckRunInfo {
            id: w.id,
            name: w.name,
            head_sha: w.head_sha,
            status: w.status,
            conclusion: w.conclusion,
            output_title: output.title,
            output_summary: output.summary,
            external_id: w.external_id,
            app_id: w.app.and_then(|a| a.id),
        }
    }
}

impl From<wire::Compare> for CompareInfo {
    fn from(w: wire::Compare) -> CompareInfo {
        CompareInfo {
            status: w.status,
            ahead_by: w.ahead_by,
            behind_by: w.behind_by,
        }
    }
}

impl From<wire::Branch> for BranchInfo {
    fn from(w: wire::Branch) -> BranchInfo {
        BranchInfo {
            name: w.name,
            sha: w.commit.sha,
            protected: w.protected.unwrap_or(false),
        }
    }
}

impl From<wire::Issue> for IssueInfo {
    fn from(w: wire::Issue) -> IssueInfo {
        IssueInfo {
            number: w.number,
            html_url: w.html_url,
        }
    }
}

impl From<wire::Installation> for InstallationInfo {
    fn from(w: wire::Installation) -> InstallationInfo {
        InstallationInfo {
            id: w.id,
            account: w.account.map(|a| a.login).unwrap_or_default(),
            suspended: w.suspended_at.is_some_and(|v| !v.is_null()),
        }
    }
}

impl From<wire::Delivery> for HookDelivery {
    fn from(w: wire::Delivery) -> HookDelivery {
        HookDelivery {
            id: w.id,
            guid: w.guid,
            delivered_at: w.delivered_at,
            redelivery: w.redelivery.unwrap_or(false),
            status_code: u16::try_from(w.status_code).unwrap_or(0),
            event: w.event,
            action: w.action,
            installation_id: w.installation_id,
            repository_id: w.repository_id,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_minimal_pull_request_decodes() {
        // An older GHES answer: no draft, no merged, no labels, null user,
        // a head whose fork was deleted, a date it cannot parse.
        let json = r#"{"number": 7, "title": "fix: x", "state": "open", "user": null,
            "head": {"ref": "hotfix/x", "sha": "abc", "repo": null},
            "base": {"ref": "main", "sha": "def"},
            "created_at": "yesterday"}"#;
        let pull: Pull = serde_json::from_str::<wire::Pull>(json).unwrap().into();
        assert_eq!(pull.number, 7);
        assert_eq!(pull.author(), "ghost");
        assert!(!pull.draft && !pull.is_merged());
        assert_eq!(pull.head.ref_name, "hotfix/x");
        assert_eq!(pull.head.repo, None);
        assert_eq!(pull.created_at, None);
        assert!(pull.labels.is_empty());
    }

    #[test]
    fn a_listed_pull_request_is_merged_when_it_has_merged_at() {
        let json =
            r#"{"number": 1, "merged_at": "2024-05-01T10:00:00Z", "labels": [{"name": "hotfix"}]}"#;
        let pull: Pull = serde_json::from_str::<wire::Pull>(json).unwrap().into();
        assert_eq!(pull.merged, Some(true));
        assert_eq!(pull.label_names(), vec!["hotfix".to_string()]);
        assert_eq!(
            pull.merged_at.map(|t| t.to_rfc3339()),
            Some("2024-05-01T10:00:00+00:00".to_string())
        );
    }

    /// A pull request whose author deleted their account, as each path
    /// carries it: `user: null` in the webhook and in the REST answer.
    const DELETED_AUTHOR: &str = r#"{"number": 7, "title": "fix: x", "state": "open",
        "user": null,
        "head": {"ref": "hotfix/x", "sha": "abc"},
        "base": {"ref": "main", "sha": "def"}}"#;

    #[test]
    fn a_deleted_author_is_ghost_on_the_webhook_and_the_rest_path() {
        let webhook: Pull = serde_json::from_str(DELETED_AUTHOR).unwrap();
        let rest: Pull = serde_json::from_str::<wire::Pull>(DELETED_AUTHOR)
            .unwrap()
            .into();
        assert_eq!(webhook.author(), crate::pull::DELETED_USER);
        assert_eq!(rest.author(), crate::pull::DELETED_USER);
        assert_eq!(crate::pull::DELETED_USER, "ghost");
    }

    /// The two edges agree: every real delivery's `pull_request` (the
    /// REST shape), read as the webhook reads it and as the REST client
    /// converts it, is the same [`Pull`] but for what only one edge tells
    /// (`updated_at` is not read from REST; REST states `merged` and the
    /// author's spelling outright).
    #[test]
    fn every_real_pull_request_converts_as_the_webhook_reads_it() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/webhooks");
        let (mut compared, mut locked, mut totals) = (0, 0, 0);
        for dir in [root.clone(), root.join("ghes")] {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                let body: serde_json::Value = match std::fs::read(&path) {
                    Ok(b) if path.extension().is_some_and(|e| e == "json") => {
                        serde_json::from_slice(&b).unwrap()
                    }
                    _ => continue,
                };
                let Some(raw) = body.get("pull_request").filter(|p| p.get("head").is_some()) else {
                    continue;
                };
                let mut webhook: Pull = serde_json::from_value(raw.clone()).unwrap();
                let rest: Pull = serde_json::from_value::<wire::Pull>(raw.clone())
                    .unwrap()
                    .into();
                webhook.updated_at = None;
                webhook.merged = Some(webhook.is_merged());
                webhook.user = Some(Login {
                    login: webhook.author().to_string(),
                });
                assert_eq!(rest, webhook, "{}", path.display());
                compared += 1;
                locked += usize::from(rest.locked);
                totals += usize::from(rest.totals().is_some());
            }
        }
        assert!(
            compared > 50 && locked > 0 && totals > 0,
            "{compared} {locked} {totals}"
        );
    }

    #[test]
    fn an_empty_login_is_ghost_too() {
        let json = DELETED_AUTHOR.replace("\"user\": null", "\"user\": {\"login\": \"\"}");
        let webhook: Pull = serde_json::from_str(&json).unwrap();
        let rest: Pull = serde_json::from_str::<wire::Pull>(&json).unwrap().into();
        assert_eq!(webhook.author(), crate::pull::DELETED_USER);
        assert_eq!(rest.author(), crate::pull::DELETED_USER);
    }

    #[test]
    fn check_run_output_serialises_without_empty_fields() {
        let run = NewCheckRun {
            name: "hotfix-policy".into(),
            head_sha: "abc".into(),
            status: None,
            conclusion: Some(CheckConclusion::ActionRequired),
            completed_at: None,
            details_url: None,
            external_id: None,
            output: Some(CheckOutput {
                title: "t".into(),
                summary: "s".into(),
                ..CheckOutput::default()
            }),
            actions: vec![],
        };
        let v = serde_json::to_value(&run).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"name": "hotfix-policy", "head_sha": "abc",
                "conclusion": "action_required", "output": {"title": "t", "summary": "s"}})
        );
    }
}

#[cfg(test)]
mod timeline_tests {
    use super::Timeline;
    use serde_json::json;

    #[test]
    fn sorts_items_by_event_and_spells_review_states_as_rest_does() {
        let mut t = Timeline::default();
        for item in [
            json!({"event": "commented", "id": 1, "user": {"login": "olga"}, "body": "/hotfix approve",
                   "created_at": "2026-11-26T10:00:00Z", "updated_at": "2026-11-26T10:00:00Z"}),
            json!({"event": "reviewed", "id": 2, "user": {"login": "alice"}, "state": "approved",
                   "commit_id": "abc", "submitted_at": "2026-11-26T10:01:00Z"}),
            json!({"event": "labeled", "actor": {"login": "dana"}, "label": {"name": "P0"},
                   "created_at": "2026-11-26T09:00:00Z"}),
            json!({"event": "committed", "sha": "abc"}),
            json!({"event": "reviewed", "id": "not a number"}),
        ] {
            t.push(item);
        }
        assert_eq!(t.comments.len(), 1);
        assert_eq!(t.comments[0].user, "olga");
        assert_eq!(t.reviews.len(), 1, "the malformed review is skipped");
        assert_eq!(t.reviews[0].state, "APPROVED");
        assert_eq!(t.reviews[0].commit_id.as_deref(), Some("abc"));
        assert_eq!(t.label_events.len(), 1);
        assert_eq!(t.label_events[0].label.as_deref(), Some("P0"));
        assert_eq!(t.label_events[0].actor.as_deref(), Some("dana"));
    }

    /// A retarget is kept with GitHub's time; one that does not decode is
    /// kept too, without a time (the change is then of unknown time, never
    /// ignored).
    #[test]
    fn keeps_every_base_change_even_one_that_does_not_decode() {
        let mut t = Timeline::default();
        t.push(
            json!({"event": "base_ref_changed", "actor": {"login": "dave"},
                      "created_at": "2026-11-26T10:05:00Z"}),
        );
        t.push(json!({"event": "base_ref_changed", "actor": "not an object"}));
        assert_eq!(t.base_changes.len(), 2);
        assert_eq!(t.base_changes[0].actor.as_deref(), Some("dave"));
        assert_eq!(
            t.base_changes[0].created_at.map(|at| at.to_rfc3339()),
            Some("2026-11-26T10:05:00+00:00".to_string())
        );
        assert_eq!(t.base_changes[1].created_at, None);
        assert!(t.state_events.is_empty() && t.label_events.is_empty());
    }
}
