//! The seam between the gather and GitHub: every read the gather makes of
//! one repository (`gather`, and the `evidence` and `commit_files` reads it
//! starts), and nothing it writes. [`RepoClient`] implements it by
//! delegation, so the app's behaviour is the client's; the engine's unit
//! tests implement it in memory (`reads::memory`), so the gather's logic
//! (which reads it makes, in which case, and what it concludes from them)
//! is tested without HTTP. Writes (check runs, comments, refs) and the
//! policy load stay on the concrete client: they are not part of the
//! gather.
//!
//! The futures are `Send` so that a generic gather can run inside a
//! spawned task, as the engine's evaluations do.

use std::future::Future;

use chrono::{DateTime, Utc};

use crate::events::RepoName;
use crate::github::{
    CommentInfo, CommitCheckRun, CommitStatus, DeploymentInfo, FileInfo, FileRead, GitHubError,
    RepoClient, ReviewInfo, Timeline,
};
use crate::pull::Pull;

#[cfg(test)]
pub(crate) mod memory;

/// The reads the gather makes of one repository. Each method's shape,
/// errors and source are those of the [`RepoClient`] method of the same
/// name, which documents the REST call it makes.
pub trait GitHubReads: Sync {
    /// `owner/name`, as configured (keys the gather's caches).
    fn full_name(&self) -> String;

    /// The repository, for the facts (`PullRequestFacts::repository`).
    fn repo_name(&self) -> RepoName;

    /// This app's id (`None` for a personal-token client): its own check
    /// runs are never evidence.
    fn own_app_id(&self) -> Option<u64>;

    /// `GET /pulls/{n}`: GitHub's current pull request.
    fn get_pull(&self, number: u64) -> impl Future<Output = Result<Pull, GitHubError>> + Send;

    /// `GET /issues/{n}/timeline`, up to the page cap (`cut_after` set
    /// past it).
    fn timeline(&self, number: u64) -> impl Future<Output = Result<Timeline, GitHubError>> + Send;

    /// `GET /issues/{n}/events`, up to the page cap: label, state and
    /// retarget events only.
    fn issue_events(
        &self,
        number: u64,
    ) -> impl Future<Output = Result<Timeline, GitHubError>> + Send;

    /// `GET /issues/{n}/comments`, up to the page cap, each page read once
    /// (may miss a comment deleted meanwhile).
    fn list_issue_comments_unchecked(
        &self,
        number: u64,
    ) -> impl Future<Output = Result<Vec<CommentInfo>, GitHubError>> + Send;

    /// `GET /pulls/{n}/files`, every page (GitHub stops at 3,000).
    fn list_pull_files(
        &self,
        number: u64,
    ) -> impl Future<Output = Result<Vec<FileInfo>, GitHubError>> + Send;

    /// `GET /pulls/{n}/reviews`, up to the page cap: submitted reviews, and
    /// `true` when the list was cut.
    fn list_reviews(
        &self,
        number: u64,
    ) -> impl Future<Output = Result<(Vec<ReviewInfo>, bool), GitHubError>> + Send;

    /// `GET /collaborators/{user}/permission` → `permission` (`admin`,
    /// `write`, `read`, `none`).
    fn collaborator_permission(
        &self,
        user: &str,
    ) -> impl Future<Output = Result<String, GitHubError>> + Send;

    /// `GET /orgs/{org}/teams/{slug}/memberships/{user}`: an active member.
    fn team_membership(
        &self,
        org: &str,
        slug: &str,
        user: &str,
    ) -> impl Future<Output = Result<bool, GitHubError>> + Send;

    /// `GET /orgs/{org}/teams/{slug}/members`, every page: active members'
    /// logins.
    fn list_team_members(
        &self,
        org: &str,
        slug: &str,
    ) -> impl Future<Output = Result<Vec<String>, GitHubError>> + Send;

    /// `GET /collaborators?permission=push`, every page: everyone with
    /// write access or more.
    fn list_writers(&self) -> impl Future<Output = Result<Vec<String>, GitHubError>> + Send;

    /// `GET /contents/{path}?ref=`: the file's text, [`FileRead::Missing`]
    /// when absent, [`FileRead::NotText`] when something else is there (a
    /// directory, a symbolic link, a submodule, bytes that are not UTF-8).
    fn read_file(
        &self,
        path: &str,
        git_ref: Option<&str>,
    ) -> impl Future<Output = Result<FileRead, GitHubError>> + Send;

    /// `GET /git/ref/tags/{tag}`: the sha it points at, `None` when absent.
    fn tag_exists(
        &self,
        tag: &str,
    ) -> impl Future<Output = Result<Option<String>, GitHubError>> + Send;

    /// `GET /activity?ref=refs/heads/{branch}`: when GitHub received the
    /// push that made `sha` the branch's tip, by its clock.
    fn head_pushed_at(
        &self,
        branch: &str,
        sha: &str,
    ) -> impl Future<Output = Result<Option<DateTime<Utc>>, GitHubError>> + Send;

    /// `GET /commits/{sha}/check-runs?check_name=`: the runs, and `false`
    /// when GitHub has more than were read.
    fn commit_check_runs(
        &self,
        sha: &str,
        name: &str,
    ) -> impl Future<Output = Result<(Vec<CommitCheckRun>, bool), GitHubError>> + Send;

    /// `GET /commits/{sha}/status`: the latest status per context.
    fn commit_statuses(
        &self,
        sha: &str,
    ) -> impl Future<Output = Result<Vec<CommitStatus>, GitHubError>> + Send;

    /// `GET /deployments?sha=&environment=`, each with its newest status.
    fn commit_deployments(
        &self,
        sha: &str,
        environment: &str,
    ) -> impl Future<Output = Result<Vec<DeploymentInfo>, GitHubError>> + Send;
}

/// Delegation only: the inherent methods are the behaviour.
impl GitHubReads for RepoClient {
    fn full_name(&self) -> String {
        RepoClient::full_name(self)
    }

    fn repo_name(&self) -> RepoName {
        RepoClient::repo_name(self)
    }

    fn own_app_id(&self) -> Option<u64> {
        RepoClient::own_app_id(self)
    }

    async fn get_pull(&self, number: u64) -> Result<Pull, GitHubError> {
        RepoClient::get_pull(self, number).await
    }

    async fn timeline(&self, number: u64) -> Result<Timeline, GitHubError> {
        RepoClient::timeline(self, number).await
    }

    async fn issue_events(&self, number: u64) -> Result<Timeline, GitHubError> {
        RepoClient::issue_events(self, number).await
    }

    async fn list_issue_comments_unchecked(
        &self,
        number: u64,
    ) -> Result<Vec<CommentInfo>, GitHubError> {
        RepoClient::list_issue_comments_unchecked(self, number).await
    }

    async fn list_pull_files(&self, number: u64) -> Result<Vec<FileInfo>, GitHubError> {
        RepoClient::list_pull_files(self, number).await
    }

    async fn list_reviews(&self, number: u64) -> Result<(Vec<ReviewInfo>, bool), GitHubError> {
        RepoClient::list_reviews(self, number).await
    }

    async fn collaborator_permission(&self, user: &str) -> Result<String, GitHubError> {
        RepoClient::collaborator_permission(self, user).await
    }

    async fn team_membership(
        &self,
        org: &str,
        slug: &str,
        user: &str,
    ) -> Result<bool, GitHubError> {
        RepoClient::team_membership(self, org, slug, user).await
    }

    async fn list_team_members(&self, org: &str, slug: &str) -> Result<Vec<String>, GitHubError> {
        RepoClient::list_team_members(self, org, slug).await
    }

    async fn list_writers(&self) -> Result<Vec<String>, GitHubError> {
        RepoClient::list_writers(self).await
    }

    async fn read_file(&self, path: &str, git_ref: Option<&str>) -> Result<FileRead, GitHubError> {
        RepoClient::read_file(self, path, git_ref).await
    }

    async fn tag_exists(&self, tag: &str) -> Result<Option<String>, GitHubError> {
        RepoClient::tag_exists(self, tag).await
    }

    async fn head_pushed_at(
        &self,
        branch: &str,
        sha: &str,
    ) -> Result<Option<DateTime<Utc>>, GitHubError> {
        RepoClient::head_pushed_at(self, branch, sha).await
    }

    async fn commit_check_runs(
        &self,
        sha: &str,
        name: &str,
    ) -> Result<(Vec<CommitCheckRun>, bool), GitHubError> {
        RepoClient::commit_check_runs(self, sha, name).await
    }

    async fn commit_statuses(&self, sha: &str) -> Result<Vec<CommitStatus>, GitHubError> {
        RepoClient::commit_statuses(self, sha).await
    }

    async fn commit_deployments(
        &self,
        sha: &str,
        environment: &str,
    ) -> Result<Vec<DeploymentInfo>, GitHubError> {
        RepoClient::commit_deployments(self, sha, environment).await
    }
}
