//! The reads behind `require_checks`, `require_deployment` and the
//! direct-push audit: check runs, commit statuses and deployments of one
//! commit, and the pull requests a commit belongs to. Every one is a GET,
//! so the client's ETag cache makes repeats conditional (a `304` costs no
//! rate limit).

use super::RepoClient;
use crate::github::error::GitHubError;
use crate::github::http::{encode_path, query};
use crate::pull::Pull;

/// Check runs read at most per commit (3 pages of 100).
const MAX_CHECK_RUN_PAGES: u64 = 3;
/// Deployments of one commit to one environment whose statuses are read.
pub const MAX_DEPLOYMENTS: usize = 5;

/// A check run as `GET /repos/{o}/{r}/commits/{sha}/check-runs` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitCheckRun {
    pub id: u64,
    pub name: String,
    pub status: String,
    pub conclusion: Option<String>,
    /// `app.id` and `app.slug` of the app that created it.
    pub app_id: Option<u64>,
    pub app_slug: Option<String>,
    pub html_url: Option<String>,
}

/// One context of `GET /repos/{o}/{r}/commits/{sha}/status` (the latest
/// status per context).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitStatus {
    pub context: String,
    pub state: String,
    pub creator: Option<String>,
    pub target_url: Option<String>,
}

/// A deployment with its newest status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentInfo {
    pub id: u64,
    pub sha: String,
    pub environment: String,
    /// `None` when it has no status yet.
    pub state: Option<String>,
    pub url: Option<String>,
}

mod wire {
    use serde::Deserialize;

    #[derive(Deserialize)]
    pub struct App {
        #[serde(default)]
        pub id: Option<u64>,
        #[serde(default)]
        pub slug: Option<String>,
    }

    #[derive(Deserialize)]
    pub struct CheckRun {
        pub id: u64,
        #[serde(default)]
        pub name: String,
        #[serde(default)]
        pub status: String,
        #[serde(default)]
        pub conclusion: Option<String>,
        #[serde(default)]
        pub app: Option<App>,
        #[serde(default)]
        pub html_url: Option<String>,
        #[serde(default)]
        pub details_url: Option<String>,
    }

    #[derive(Deserialize)]
    pub struct CheckRunList {
        #[serde(default)]
        pub total_count: u64,
        #[serde(default)]
        pub check_runs: Vec<CheckRun>,
    }

    #[derive(Deserialize)]
    pub struct Login {
        #[serde(default)]
        pub login: String,
    }

    #[derive(Deserialize)]
    pub struct Status {
        #[serde(default)]
        pub context: String,
        #[serde(default)]
        pub state: String,
        #[serde(default)]
        pub creator: Option<Login>,
        #[serde(default)]
        pub target_url: Option<String>,
    }

    #[derive(Deserialize)]
    pub struct Combined {
        #[serde(default)]
        pub statuses: Vec<Status>,
    }

    #[derive(Deserialize)]
    pub struct Deployment {
        pub id: u64,
        #[serde(default)]
        pub sha: String,
        #[serde(default)]
        pub environment: String,
    }

    #[derive(Deserialize)]
    pub struct DeploymentStatus {
        #[serde(default)]
        pub state: String,
        #[serde(default)]
        pub log_url: Option<String>,
        #[serde(default)]
        pub target_url: Option<String>,
        #[serde(default)]
        pub environment_url: Option<String>,
    }
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.is_empty())
}

impl RepoClient {
    /// `GET /repos/{owner}/{repo}/commits/{sha}/check-runs?check_name=NAME&filter=latest`:
    /// the newest check run named `name` per app on `sha`, every app's.
    /// Returns the runs and whether they are all of them: `false` when
    /// GitHub's `total_count` is more than the 300 read (a run not read
    /// could be a failing one, so the caller fails closed). Filtering by
    /// name keeps other checks, however many, from pushing it out of the
    /// pages read. Needs Checks: read.
    pub async fn commit_check_runs(
        &self,
        sha: &str,
        name: &str,
    ) -> Result<(Vec<CommitCheckRun>, bool), GitHubError> {
        let mut out = Vec::new();
        let mut total = 0;
        for page in 1..=MAX_CHECK_RUN_PAGES {
            let path = format!(
                "{}/commits/{}/check-runs?{}",
                self.prefix,
                encode_path(sha, true),
                query(&[
                    ("check_name", name),
                    ("filter", "latest"),
                    ("per_page", "100"),
                    ("page", &page.to_string())
                ])
            );
            let list: wire::CheckRunList = self
                .get("GET /repos/{owner}/{repo}/commits/{sha}/check-runs", path)
                .await?;
            let got = list.check_runs.len();
            out.extend(list.check_runs.into_iter().map(|w| CommitCheckRun {
                id: w.id,
                name: w.name,
                status: w.status,
                conclusion: w.conclusion,
                app_id: w.app.as_ref().and_then(|a| a.id),
                app_slug: w.app.and_then(|a| a.slug),
                html_url: non_empty(w.html_url).or(non_empty(w.details_url)),
            }));
            total = list.total_count;
            if got < 100 || out.len() as u64 >= list.total_count {
                break;
            }
        }
        let complete = out.len() as u64 >= total;
        Ok((out, complete))
    }

    /// `GET /repos/{owner}/{repo}/commits/{sha}/status`: the latest commit
    /// status per context (first 100 contexts). Needs Commit statuses: read.
    pub async fn commit_statuses(&self, sha: &str) -> Result<Vec<CommitStatus>, GitHubError> {
        let path = format!(
            "{}/commits/{}/status?per_page=100",
            self.prefix,
            encode_path(sha, true)
        );
        let combined: wire::Combined = self
            .get("GET /repos/{owner}/{repo}/commits/{sha}/status", path)
            .await?;
        Ok(combined
            .statuses
            .into_iter()
            .map(|s| CommitStatus {
                context: s.context,
                state: s.state,
                creator: s.creator.map(|c| c.login).filter(|l| !l.is_empty()),
                target_url: non_empty(s.target_url),
            })
            .collect())
    }

    /// `GET /repos/{owner}/{repo}/deployments?sha=&environment=` (newest
    /// first, at most `MAX_DEPLOYMENTS`), each with its newest status from
    /// `GET /repos/{owner}/{repo}/deployments/{id}/statuses?per_page=1`.
    /// Needs Deployments: read.
    pub async fn commit_deployments(
        &self,
        sha: &str,
        environment: &str,
    ) -> Result<Vec<DeploymentInfo>, GitHubError> {
        let path = format!(
            "{}/deployments?{}",
            self.prefix,
            query(&[
                ("sha", sha),
                ("environment", environment),
                ("per_page", &MAX_DEPLOYMENTS.to_string())
            ])
        );
        let list: Vec<wire::Deployment> = self
            .get("GET /repos/{owner}/{repo}/deployments", path)
            .await?;
        let mut out = Vec::new();
        for d in list.into_iter().take(MAX_DEPLOYMENTS) {
            let path = format!("{}/deployments/{}/statuses?per_page=1", self.prefix, d.id);
            let statuses: Vec<wire::DeploymentStatus> = self
                .get(
                    "GET /repos/{owner}/{repo}/deployments/{deployment_id}/statuses",
                    path,
                )
                .await?;
            let latest = statuses.into_iter().next();
            out.push(DeploymentInfo {
                id: d.id,
                sha: d.sha,
                environment: d.environment,
                url: latest.as_ref().and_then(|s| {
                    non_empty(s.log_url.clone())
                        .or(non_empty(s.target_url.clone()))
                        .or(non_empty(s.environment_url.clone()))
                }),
                state: latest.map(|s| s.state),
            });
        }
        Ok(out)
    }

    /// `GET /repos/{owner}/{repo}/commits/{sha}/pulls`: the pull requests
    /// that contain `sha` (open ones whose head it is, and merged ones).
    /// Needs Pull requests: read.
    pub async fn commit_pulls(&self, sha: &str) -> Result<Vec<Pull>, GitHubError> {
        let items: Vec<crate::github::types::wire::Pull> = self
            .core
            .pages(
                &self.cred,
                "GET /repos/{owner}/{repo}/commits/{sha}/pulls",
                format!(
                    "{}/commits/{}/pulls?per_page=100",
                    self.prefix,
                    encode_path(sha, true)
                ),
                100,
            )
            .await?;
        Ok(items.into_iter().map(Pull::from).collect())
    }

    /// Our app's id, to leave our own check runs out of the evidence.
    pub fn own_app_id(&self) -> Option<u64> {
        self.app_id
    }
}
