//! What the fake GitHub knows: repositories and everything in them, the
//! tokens it issued, teams, app-level data, and the log of requests.
//!
//! Plain data; the HTTP side (`server`, `routes`) reads and writes it under one
//! lock, and `FakeGitHub`'s seeding helpers and getters do the same.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::APP_ID;

/// A pull request: what tests seed with `add_pull`, and what the fake keeps
/// (pull requests the app opens are stored the same way).
#[derive(Clone, Debug, PartialEq)]
pub struct PullSeed {
    pub number: u64,
    pub title: String,
    pub body: Option<String>,
    pub author: String,
    pub head_ref: String,
    pub head_sha: String,
    /// "owner/name" of the repository the head branch lives in, for pull
    /// requests from forks; `None` means the base repository.
    pub head_repo: Option<String>,
    pub base_ref: String,
    pub base_sha: String,
    pub labels: Vec<String>,
    pub draft: bool,
    /// "open" or "closed". A merged pull request is closed whatever this says.
    pub state: String,
    pub merged: bool,
    pub merge_commit_sha: Option<String>,
    pub merged_by: Option<String>,
    /// Defaults to the time `add_pull` ran when `merged` is set.
    pub merged_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Defaults to `created_at`.
    pub updated_at: Option<DateTime<Utc>>,
    /// GitHub's `locked` and `active_lock_reason` (a triage user's lock).
    pub locked: bool,
    pub active_lock_reason: Option<String>,
}

impl Default for PullSeed {
    fn default() -> Self {
        PullSeed {
            number: 1,
            title: "fix: stop the bleeding".to_string(),
            body: None,
            author: "contributor".to_string(),
            head_ref: "hotfix/fix".to_string(),
            head_sha: "1111111111111111111111111111111111111111".to_string(),
            head_repo: None,
            base_ref: "main".to_string(),
            base_sha: "0000000000000000000000000000000000000000".to_string(),
            labels: Vec::new(),
            draft: false,
            state: "open".to_string(),
            merged: false,
            merge_commit_sha: None,
            merged_by: None,
            merged_at: None,
            created_at: Utc::now(),
            updated_at: None,
            locked: false,
            active_lock_reason: None,
        }
    }
}

impl PullSeed {
    pub fn is_open(&self) -> bool {
        !self.merged && self.state == "open"
    }
}

/// One entry of `GET /pulls/{n}/files`.
#[derive(Clone, Debug, PartialEq)]
pub struct PullFileSeed {
    pub filename: String,
    /// added | removed | modified | renamed | copied | changed | unchanged
    pub status: String,
    pub additions: u64,
    pub deletions: u64,
    pub previous_filename: Option<String>,
    pub patch: Option<String>,
}

impl From<(&str, u64, u64)> for PullFileSeed {
    fn from((filename, additions, deletions): (&str, u64, u64)) -> Self {
        PullFileSeed {
            filename: filename.to_string(),
            status: "modified".to_string(),
            additions,
            deletions,
            previous_filename: None,
            patch: None,
        }
    }
}

impl From<(String, u64, u64)> for PullFileSeed {
    fn from((filename, additions, deletions): (String, u64, u64)) -> Self {
        PullFileSeed::from((filename.as_str(), additions, deletions))
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ReviewRec {
    pub id: u64,
    pub user: String,
    /// REST spelling: APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED, PENDING.
    pub state: String,
    pub commit_id: String,
    pub body: String,
    pub submitted_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CommentRec {
    pub id: u64,
    pub issue_number: u64,
    pub user: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LabelEventRec {
    pub id: u64,
    pub issue_number: u64,
    pub label: String,
    pub actor: String,
    /// true: "labeled"; false: "unlabeled".
    pub added: bool,
    pub created_at: DateTime<Utc>,
}

/// An issue opened through `POST /repos/{o}/{r}/issues`.
#[derive(Clone, Debug, PartialEq)]
pub struct IssueRec {
    pub number: u64,
    pub id: u64,
    pub title: String,
    pub body: Option<String>,
    pub labels: Vec<String>,
    pub assignees: Vec<String>,
    pub user: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CheckRunRec {
    pub id: u64,
    pub name: String,
    pub head_sha: String,
    pub status: String,
    pub conclusion: Option<String>,
    pub title: Option<String>,
    pub summary: Option<String>,
    pub text: Option<String>,
    /// Every annotation ever sent, in order (PATCH appends, like GitHub).
    pub annotations: Vec<Value>,
    pub actions: Vec<Value>,
    pub details_url: Option<String>,
    pub external_id: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    /// The app that owns the run; `APP_ID` for runs the app created.
    pub app_id: u64,
    /// How many PATCHes the run received.
    pub update_count: usize,
}

/// A check run that exists before the test starts (e.g. from an earlier
/// process, or another app's run with the same name).
#[derive(Clone, Debug, PartialEq)]
pub struct CheckRunSeed {
    pub name: String,
    pub head_sha: String,
    pub status: String,
    pub conclusion: Option<String>,
    pub title: Option<String>,
    pub summary: Option<String>,
    pub app_id: u64,
}

impl Default for CheckRunSeed {
    fn default() -> Self {
        CheckRunSeed {
            name: "hotfix-policy".to_string(),
            head_sha: "1111111111111111111111111111111111111111".to_string(),
            status: "completed".to_string(),
            conclusion: Some("neutral".to_string()),
            title: None,
            summary: None,
            app_id: APP_ID,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct DeliveryRec {
    pub id: u64,
    pub guid: String,
    pub status_code: u16,
    pub redelivery: bool,
    pub delivered_at: DateTime<Utc>,
    pub event: String,
    pub action: Option<String>,
    pub installation_id: Option<u64>,
    pub repository_id: Option<u64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct InstallationRec {
    pub id: u64,
    pub account: String,
    /// "Organization" or "User".
    pub target_type: String,
}

/// What `POST /app-manifests/{code}/conversions` answers for a seeded code.
#[derive(Clone, Debug, PartialEq)]
pub struct ManifestConversion {
    pub id: u64,
    pub slug: String,
    pub name: String,
    pub client_id: String,
    pub client_secret: String,
    pub webhook_secret: String,
    pub pem: String,
    pub html_url: String,
}

/// One request as the fake saw it.
#[derive(Clone, Debug, PartialEq)]
pub struct Recorded {
    pub method: String,
    /// Path without the enterprise prefix, still percent-encoded.
    pub path: String,
    /// Raw query string, "" when none.
    pub query: String,
    pub status: u16,
    pub if_none_match: bool,
    /// Request body (lossy UTF-8), "" when none.
    pub body: String,
}

impl Recorded {
    /// The request body parsed as JSON (`Value::Null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

#[derive(Clone, Debug)]
pub(super) struct Failure {
    pub method: String,
    pub path_contains: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Option<Value>,
    pub remaining: usize,
}

#[derive(Clone, Debug)]
pub(super) struct Delay {
    pub method: String,
    pub path_contains: String,
    pub delay: Duration,
    pub remaining: usize,
}

#[derive(Clone, Debug)]
pub(super) struct TokenRec {
    pub installation_id: u64,
    pub expires_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Default)]
pub(super) struct TeamRec {
    pub id: u64,
    /// login → (role, state): ("member" | "maintainer", "active" | "pending").
    pub members: BTreeMap<String, (String, String)>,
}

#[derive(Clone, Debug)]
pub(super) struct PullRec {
    pub id: u64,
    pub seed: PullSeed,
    pub files: Vec<PullFileSeed>,
    pub reviews: Vec<ReviewRec>,
}

#[derive(Clone, Debug)]
pub(super) struct CommitRec {
    pub date: DateTime<Utc>,
    pub message: String,
}

#[derive(Clone, Debug)]
pub(super) struct RepoState {
    pub id: u64,
    pub owner: String,
    pub name: String,
    pub default_branch: String,
    pub created_at: DateTime<Utc>,
    pub branches: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
    /// (git ref as given: branch name or sha, path) → text.
    pub files: HashMap<(String, String), String>,
    pub commits: HashMap<String, CommitRec>,
    /// (base, head) as given → compare status.
    pub compare: HashMap<(String, String), String>,
    /// login → role name (admin, maintain, write, triage, read, none).
    pub permissions: HashMap<String, String>,
    /// Answer for users without an entry; `None` answers 404.
    pub unknown_user_permission: Option<String>,
    pub pulls: BTreeMap<u64, PullRec>,
    pub issues: BTreeMap<u64, IssueRec>,
    pub comments: Vec<CommentRec>,
    pub label_events: Vec<LabelEventRec>,
    /// `closed`/`reopened` timeline events.
    pub state_events: Vec<super::state_events::StateEventRec>,
    pub check_runs: Vec<CheckRunRec>,
    /// `GET /activity` entries (pushes with server times).
    pub activity: Vec<super::activity::ActivityRec>,
}

impl RepoState {
    pub fn new(id: u64, owner: &str, name: &str) -> Self {
        RepoState {
            id,
            owner: owner.to_string(),
            name: name.to_string(),
            default_branch: "main".to_string(),
            created_at: Utc::now(),
            branches: BTreeMap::new(),
            tags: BTreeMap::new(),
            files: HashMap::new(),
            commits: HashMap::new(),
            compare: HashMap::new(),
            permissions: HashMap::new(),
            unknown_user_permission: Some("none".to_string()),
            pulls: BTreeMap::new(),
            issues: BTreeMap::new(),
            comments: Vec::new(),
            label_events: Vec::new(),
            state_events: Vec::new(),
            check_runs: Vec::new(),
            activity: Vec::new(),
        }
    }

    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }

    /// Pull requests and issues share one number sequence, like on GitHub.
    pub fn next_number(&self) -> u64 {
        let last_pull = self.pulls.keys().next_back().copied().unwrap_or(0);
        let last_issue = self.issues.keys().next_back().copied().unwrap_or(0);
        last_pull.max(last_issue) + 1
    }

    pub fn has_issue(&self, number: u64) -> bool {
        self.pulls.contains_key(&number) || self.issues.contains_key(&number)
    }

    /// A branch name resolves to its sha; anything else is taken as a sha.
    pub fn resolve_sha(&self, git_ref: &str) -> String {
        let name = git_ref.strip_prefix("refs/heads/").unwrap_or(git_ref);
        self.branches
            .get(name)
            .cloned()
            .unwrap_or_else(|| git_ref.to_string())
    }

    /// Finds a file at a ref the way GitHub would: the ref may be a branch
    /// name, `refs/heads/<name>`, a tag, or a commit sha. Tests may have seeded
    /// the file under the branch name or under the sha it points at.
    pub fn file_at(&self, git_ref: &str, path: &str) -> Option<&String> {
        let name = git_ref
            .strip_prefix("refs/heads/")
            .or_else(|| git_ref.strip_prefix("refs/tags/"))
            .unwrap_or(git_ref);
        let mut candidates = vec![git_ref.to_string(), name.to_string()];
        if let Some(sha) = self.branches.get(name).or_else(|| self.tags.get(name)) {
            candidates.push(sha.clone());
        }
        for (branch, sha) in &self.branches {
            if sha == name {
                candidates.push(branch.clone());
            }
        }
        candidates
            .into_iter()
            .find_map(|r| self.files.get(&(r, path.to_string())))
    }
}

pub(super) struct State {
    pub repos: BTreeMap<String, RepoState>,
    pub orgs: BTreeSet<String>,
    pub tokens: HashMap<String, TokenRec>,
    pub tokens_issued: usize,
    pub token_lifetime: chrono::Duration,
    pub installations: Vec<InstallationRec>,
    pub teams: BTreeMap<(String, String), TeamRec>,
    pub deliveries: Vec<DeliveryRec>,
    pub redeliveries: Vec<u64>,
    pub manifests: HashMap<String, ManifestConversion>,
    /// PATCH count per issue comment id.
    pub comment_edits: HashMap<u64, usize>,
    pub requests: Vec<Recorded>,
    pub failures: Vec<Failure>,
    pub delays: Vec<Delay>,
    pub next_id: u64,
    pub rate_limit: u64,
    pub rate_used: u64,
    pub rate_reset: i64,
    /// Repository (lower case) → commit statuses and deployments.
    pub evidence: BTreeMap<String, super::evidence::EvidenceState>,
    /// Issue lists answer as if no issue had been opened yet (`lag`).
    pub issue_listing_lags: bool,
    /// Requests being answered at once (`in_flight`).
    pub in_flight: super::in_flight::InFlightCount,
}

impl State {
    pub fn new() -> Self {
        State {
            repos: BTreeMap::new(),
            orgs: BTreeSet::new(),
            tokens: HashMap::new(),
            tokens_issued: 0,
            token_lifetime: chrono::Duration::hours(1),
            installations: Vec::new(),
            teams: BTreeMap::new(),
            deliveries: Vec::new(),
            redeliveries: Vec::new(),
            manifests: HashMap::new(),
            comment_edits: HashMap::new(),
            requests: Vec::new(),
            failures: Vec::new(),
            delays: Vec::new(),
            next_id: 1000,
            rate_limit: 5000,
            rate_used: 0,
            rate_reset: (Utc::now() + chrono::Duration::hours(1)).timestamp(),
            evidence: BTreeMap::new(),
            issue_listing_lags: false,
            in_flight: Default::default(),
        }
    }

    /// Ids are unique across every kind of object, like GitHub's database ids.
    pub fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn repo(&self, full_name: &str) -> Option<&RepoState> {
        self.repos.get(&full_name.to_ascii_lowercase())
    }

    pub fn repo_mut(&mut self, full_name: &str) -> Option<&mut RepoState> {
        self.repos.get_mut(&full_name.to_ascii_lowercase())
    }

    /// Seeding helpers create the repository on first mention, so a test
    /// does not have to call `add_repo` before everything else.
    pub fn repo_or_create(&mut self, full_name: &str) -> &mut RepoState {
        let key = full_name.to_ascii_lowercase();
        if !self.repos.contains_key(&key) {
            let id = self.next_id();
            let (owner, name) = full_name.split_once('/').unwrap_or((full_name, full_name));
            self.repos
                .insert(key.clone(), RepoState::new(id, owner, name));
        }
        match self.repos.get_mut(&key) {
            Some(repo) => repo,
            None => unreachable!("inserted above"),
        }
    }

    pub fn is_org(&self, login: &str) -> bool {
        self.orgs.contains(&login.to_ascii_lowercase())
    }
}
