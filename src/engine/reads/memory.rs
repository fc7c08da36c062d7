//! An in-memory [`GitHubReads`] for the engine's unit tests: one
//! repository's answers, set up per test as plain fields, and every call
//! recorded (`"team_membership acme/on-call erin"`), so a test can assert
//! what was asked and what was not. What a field does not hold reads as
//! GitHub's answer for "nothing there" (no permission, not a member, no
//! file, no tag).

use std::collections::BTreeMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use super::GitHubReads;
use crate::events::RepoName;
use crate::github::{
    CommentInfo, CommitCheckRun, CommitStatus, DeploymentInfo, FileInfo, FileRead, GitHubError,
    ReviewInfo, Timeline,
};
use crate::pull::Pull;

pub(crate) struct MemoryReads {
    pub owner: String,
    pub name: String,
    pub pull: Pull,
    /// `GET /issues/{n}/timeline`.
    pub timeline: Timeline,
    /// The timeline read fails as a list that kept changing.
    pub timeline_kept_changing: bool,
    /// `GET /issues/{n}/events`.
    pub events: Timeline,
    /// The events list read fails as a list that kept changing.
    pub events_kept_changing: bool,
    /// `GET /issues/{n}/comments`.
    pub comments: Vec<CommentInfo>,
    /// `GET /pulls/{n}/reviews`, and whether that list was cut.
    pub reviews: (Vec<ReviewInfo>, bool),
    pub files: Vec<FileInfo>,
    /// Login → `permission`; anyone else has `none`.
    pub permissions: BTreeMap<String, String>,
    /// `"org/slug"` → active members' logins.
    pub teams: BTreeMap<String, Vec<String>>,
    /// Everyone with write access (`list_writers`).
    pub writers: Vec<String>,
    /// `(path, ref)` → text.
    pub contents: BTreeMap<(String, String), String>,
    /// Tag name → sha.
    pub tags: BTreeMap<String, String>,
    /// The repository activity's time for the head push.
    pub pushed_at: Option<DateTime<Utc>>,
    /// Check run name → the head's runs of that name and whether the list
    /// is complete; a name not here has none (complete).
    pub check_runs: BTreeMap<String, (Vec<CommitCheckRun>, bool)>,
    /// The head's commit statuses.
    pub statuses: Vec<CommitStatus>,
    /// The head's deployments.
    pub deployments: Vec<DeploymentInfo>,
    /// Read (`"commit_statuses"`) → the HTTP status GitHub refuses it with.
    pub refusals: BTreeMap<&'static str, u16>,
    calls: Mutex<Vec<String>>,
}

impl MemoryReads {
    /// `octo/app`, serving `pull` and nothing else.
    pub fn new(pull: Pull) -> MemoryReads {
        MemoryReads {
            owner: "octo".into(),
            name: "app".into(),
            pull,
            timeline: Timeline::default(),
            timeline_kept_changing: false,
            events: Timeline::default(),
            events_kept_changing: false,
            comments: Vec::new(),
            reviews: (Vec::new(), false),
            files: Vec::new(),
            permissions: BTreeMap::new(),
            teams: BTreeMap::new(),
            writers: Vec::new(),
            contents: BTreeMap::new(),
            tags: BTreeMap::new(),
            pushed_at: None,
            check_runs: BTreeMap::new(),
            statuses: Vec::new(),
            deployments: Vec::new(),
            refusals: BTreeMap::new(),
            calls: Mutex::new(Vec::new()),
        }
    }

    /// Every call so far, in the order made.
    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// The calls whose first word is `read` (`"issue_events"`).
    pub fn calls_to(&self, read: &str) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter(|c| c.split(' ').next() == Some(read))
            .collect()
    }

    /// GitHub's refusal of `read`, when `refusals` names one: 401 and 403
    /// as `Unauthorized`/`Forbidden`, 404 as `NotFound`, anything else as a
    /// server error.
    fn refusal(&self, read: &'static str) -> Result<(), GitHubError> {
        let Some(&status) = self.refusals.get(read) else {
            return Ok(());
        };
        let kind = match status {
            401 => crate::github::ErrorKind::Unauthorized,
            403 => crate::github::ErrorKind::Forbidden,
            404 => crate::github::ErrorKind::NotFound,
            _ => crate::github::ErrorKind::Server { status },
        };
        let mut error = GitHubError::new(kind, read);
        error.status = Some(status);
        Err(error)
    }

    fn record(&self, read: &'static str, args: &[&str]) {
        let mut call = read.to_string();
        for arg in args {
            call.push(' ');
            call.push_str(arg);
        }
        if let Ok(mut calls) = self.calls.lock() {
            calls.push(call);
        }
    }
}

impl GitHubReads for MemoryReads {
    fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }

    fn repo_name(&self) -> RepoName {
        RepoName {
            owner: self.owner.clone(),
            name: self.name.clone(),
        }
    }

    fn own_app_id(&self) -> Option<u64> {
        Some(1)
    }

    async fn get_pull(&self, number: u64) -> Result<Pull, GitHubError> {
        self.record("get_pull", &[&number.to_string()]);
        Ok(self.pull.clone())
    }

    async fn timeline(&self, number: u64) -> Result<Timeline, GitHubError> {
        self.record("timeline", &[&number.to_string()]);
        if self.timeline_kept_changing {
            return Err(kept_changing(
                "GET /repos/{owner}/{repo}/issues/{n}/timeline",
            ));
        }
        Ok(self.timeline.clone())
    }

    async fn issue_events(&self, number: u64) -> Result<Timeline, GitHubError> {
        self.record("issue_events", &[&number.to_string()]);
        if self.events_kept_changing {
            return Err(kept_changing("GET /repos/{owner}/{repo}/issues/{n}/events"));
        }
        Ok(self.events.clone())
    }

    async fn list_issue_comments_unchecked(
        &self,
        number: u64,
    ) -> Result<Vec<CommentInfo>, GitHubError> {
        self.record("list_issue_comments_unchecked", &[&number.to_string()]);
        Ok(self.comments.clone())
    }

    async fn list_pull_files(&self, number: u64) -> Result<Vec<FileInfo>, GitHubError> {
        self.record("list_pull_files", &[&number.to_string()]);
        Ok(self.files.clone())
    }

    async fn list_reviews(&self, number: u64) -> Result<(Vec<ReviewInfo>, bool), GitHubError> {
        self.record("list_reviews", &[&number.to_string()]);
        Ok(self.reviews.clone())
    }

    async fn collaborator_permission(&self, user: &str) -> Result<String, GitHubError> {
        self.record("collaborator_permission", &[user]);
        Ok(self
            .permissions
            .get(user)
            .cloned()
            .unwrap_or_else(|| "none".into()))
    }

    async fn team_membership(
        &self,
        org: &str,
        slug: &str,
        user: &str,
    ) -> Result<bool, GitHubError> {
        let team = format!("{org}/{slug}");
        self.record("team_membership", &[&team, user]);
        Ok(self
            .teams
            .get(&team)
            .is_some_and(|members| members.iter().any(|m| m.eq_ignore_ascii_case(user))))
    }

    async fn list_team_members(&self, org: &str, slug: &str) -> Result<Vec<String>, GitHubError> {
        let team = format!("{org}/{slug}");
        self.record("list_team_members", &[&team]);
        Ok(self.teams.get(&team).cloned().unwrap_or_default())
    }

    async fn list_writers(&self) -> Result<Vec<String>, GitHubError> {
        self.record("list_writers", &[]);
        Ok(self.writers.clone())
    }

    async fn read_file(&self, path: &str, git_ref: Option<&str>) -> Result<FileRead, GitHubError> {
        let git_ref = git_ref.unwrap_or("HEAD");
        self.record("read_file", &[path, git_ref]);
        Ok(self
            .contents
            .get(&(path.to_string(), git_ref.to_string()))
            .cloned()
            .map_or(FileRead::Missing, FileRead::Text))
    }

    async fn tag_exists(&self, tag: &str) -> Result<Option<String>, GitHubError> {
        self.record("tag_exists", &[tag]);
        Ok(self.tags.get(tag).cloned())
    }

    async fn head_pushed_at(
        &self,
        branch: &str,
        sha: &str,
    ) -> Result<Option<DateTime<Utc>>, GitHubError> {
        self.record("head_pushed_at", &[branch, sha]);
        Ok(self.pushed_at)
    }

    async fn commit_check_runs(
        &self,
        sha: &str,
        name: &str,
    ) -> Result<(Vec<CommitCheckRun>, bool), GitHubError> {
        self.record("commit_check_runs", &[sha, name]);
        self.refusal("commit_check_runs")?;
        Ok(self
            .check_runs
            .get(name)
            .cloned()
            .unwrap_or((Vec::new(), true)))
    }

    async fn commit_statuses(&self, sha: &str) -> Result<Vec<CommitStatus>, GitHubError> {
        self.record("commit_statuses", &[sha]);
        self.refusal("commit_statuses")?;
        Ok(self.statuses.clone())
    }

    async fn commit_deployments(
        &self,
        sha: &str,
        environment: &str,
    ) -> Result<Vec<DeploymentInfo>, GitHubError> {
        self.record("commit_deployments", &[sha, environment]);
        self.refusal("commit_deployments")?;
        Ok(self.deployments.clone())
    }
}

/// What the client answers for a list that changed at every read.
fn kept_changing(route: &'static str) -> GitHubError {
    GitHubError::new(
        crate::github::ErrorKind::ListKeptChanging { tries: 3 },
        route,
    )
}
