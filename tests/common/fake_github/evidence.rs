//! The fake's commit statuses, deployments (with their statuses) and the
//! pull requests of a commit: what `require_checks`, `require_deployment`
//! and the direct-push audit read. Shapes follow GitHub's REST examples for
//! `GET /repos/{o}/{r}/commits/{ref}/status`, `GET /repos/{o}/{r}/deployments`,
//! `GET /repos/{o}/{r}/deployments/{id}/statuses` and `GET
//! /repos/{o}/{r}/commits/{sha}/pulls`.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::FakeGitHub;
use super::server::{Reply, Req};
use super::shapes::{self, Ctx};
use super::state::{RepoState, State};

/// A commit status, newest last.
#[derive(Clone, Debug, PartialEq)]
pub struct StatusRec {
    pub id: u64,
    pub sha: String,
    pub context: String,
    /// success | pending | failure | error
    pub state: String,
    pub creator: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DeploymentRec {
    pub id: u64,
    pub sha: String,
    pub git_ref: String,
    pub environment: String,
    pub creator: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DeploymentStatusRec {
    pub id: u64,
    pub deployment_id: u64,
    /// success | failure | error | inactive | in_progress | queued | pending
    pub state: String,
    pub created_at: DateTime<Utc>,
}

/// One repository's evidence.
#[derive(Clone, Debug, Default)]
pub struct EvidenceState {
    pub statuses: Vec<StatusRec>,
    pub deployments: Vec<DeploymentRec>,
    pub deployment_statuses: Vec<DeploymentStatusRec>,
}

impl FakeGitHub {
    /// A commit status on `sha`, posted by `creator`.
    pub fn add_status(&self, repo: &str, sha: &str, context: &str, state: &str, creator: &str) {
        self.with(|s| {
            let id = s.next_id();
            s.repo_or_create(repo);
            s.evidence
                .entry(repo.to_ascii_lowercase())
                .or_default()
                .statuses
                .push(StatusRec {
                    id,
                    sha: sha.to_string(),
                    context: context.to_string(),
                    state: state.to_string(),
                    creator: creator.to_string(),
                    created_at: Utc::now(),
                });
        })
    }

    /// A deployment of `sha` (from `git_ref`) to `environment`; returns its id.
    pub fn add_deployment(&self, repo: &str, sha: &str, git_ref: &str, environment: &str) -> u64 {
        self.with(|s| {
            let id = s.next_id();
            s.repo_or_create(repo);
            s.evidence
                .entry(repo.to_ascii_lowercase())
                .or_default()
                .deployments
                .push(DeploymentRec {
                    id,
                    sha: sha.to_string(),
                    git_ref: git_ref.to_string(),
                    environment: environment.to_string(),
                    creator: "deployer".to_string(),
                    created_at: Utc::now(),
                });
            id
        })
    }

    /// A new status of deployment `id` (the newest is the deployment's state).
    pub fn add_deployment_status(&self, repo: &str, deployment_id: u64, state: &str) {
        self.with(|s| {
            let id = s.next_id();
            s.evidence
                .entry(repo.to_ascii_lowercase())
                .or_default()
                .deployment_statuses
                .push(DeploymentStatusRec {
                    id,
                    deployment_id,
                    state: state.to_string(),
                    created_at: Utc::now(),
                });
        })
    }
}

/// The routes of this file; `None` for any other path.
pub(super) fn route(state: &State, cx: &Ctx, req: &Req<'_>, segs: &[&str]) -> Option<Reply> {
    let ["repos", o, r, rest @ ..] = segs else {
        return None;
    };
    if req.method.as_str() != "GET" {
        return None;
    }
    let full = format!("{o}/{r}");
    let repo = state.repo(&full)?;
    let empty = EvidenceState::default();
    let ev = state
        .evidence
        .get(&full.to_ascii_lowercase())
        .unwrap_or(&empty);
    Some(match rest {
        ["commits", git_ref, "status"] => combined_status(cx, repo, ev, &repo.resolve_sha(git_ref)),
        ["commits", sha, "pulls"] => commit_pulls(state, cx, req, repo, sha),
        ["deployments"] => deployments(cx, req, repo, ev),
        ["deployments", id, "statuses"] => deployment_statuses(cx, req, repo, ev, id),
        _ => return None,
    })
}

fn combined_status(cx: &Ctx, repo: &RepoState, ev: &EvidenceState, sha: &str) -> Reply {
    let full = repo.full_name();
    let api = format!("{}/repos/{}", cx.api, full);
    // The latest status per context, newest first.
    let mut latest: Vec<&StatusRec> = Vec::new();
    for s in ev.statuses.iter().rev().filter(|s| s.sha == sha) {
        if !latest.iter().any(|l| l.context == s.context) {
            latest.push(s);
        }
    }
    let overall = if latest
        .iter()
        .any(|s| s.state == "failure" || s.state == "error")
    {
        "failure"
    } else if latest.is_empty() || latest.iter().any(|s| s.state == "pending") {
        "pending"
    } else {
        "success"
    };
    let statuses: Vec<Value> = latest
        .iter()
        .map(|s| {
            json!({
                "url": format!("{api}/statuses/{sha}"),
                "avatar_url": null,
                "id": s.id,
                "node_id": format!("SC_{}", s.id),
                "state": s.state,
                "description": format!("{} {}", s.context, s.state),
                "target_url": format!("https://ci.example.com/{}/{}", s.context, s.id),
                "context": s.context,
                "created_at": s.created_at.to_rfc3339(),
                "updated_at": s.created_at.to_rfc3339(),
                "creator": shapes::user(cx, &s.creator, false),
            })
        })
        .collect();
    Reply::ok(json!({
        "state": overall,
        "statuses": statuses,
        "sha": sha,
        "total_count": latest.len(),
        "repository": {"id": repo.id, "name": repo.name, "full_name": full},
        "commit_url": format!("{api}/commits/{sha}"),
        "url": format!("{api}/commits/{sha}/status"),
    }))
}

fn deployment_json(cx: &Ctx, repo: &RepoState, d: &DeploymentRec) -> Value {
    let api = format!("{}/repos/{}", cx.api, repo.full_name());
    json!({
        "url": format!("{api}/deployments/{}", d.id),
        "id": d.id,
        "node_id": format!("DE_{}", d.id),
        "sha": d.sha,
        "ref": d.git_ref,
        "task": "deploy",
        "payload": {},
        "original_environment": d.environment,
        "environment": d.environment,
        "description": null,
        "creator": shapes::user(cx, &d.creator, false),
        "created_at": d.created_at.to_rfc3339(),
        "updated_at": d.created_at.to_rfc3339(),
        "statuses_url": format!("{api}/deployments/{}/statuses", d.id),
        "repository_url": api,
        "transient_environment": false,
        "production_environment": false,
    })
}

fn deployments(cx: &Ctx, req: &Req<'_>, repo: &RepoState, ev: &EvidenceState) -> Reply {
    let items: Vec<Value> = ev
        .deployments
        .iter()
        .rev()
        .filter(|d| req.param("sha").is_none_or(|sha| d.sha == sha))
        .filter(|d| req.param("environment").is_none_or(|e| d.environment == e))
        .filter(|d| req.param("ref").is_none_or(|r| d.git_ref == r))
        .map(|d| deployment_json(cx, repo, d))
        .collect();
    super::routes::paged_list(cx, req, items)
}

fn deployment_statuses(
    cx: &Ctx,
    req: &Req<'_>,
    repo: &RepoState,
    ev: &EvidenceState,
    id: &str,
) -> Reply {
    let Some(deployment) = ev.deployments.iter().find(|d| id.parse() == Ok(d.id)) else {
        return Reply::not_found();
    };
    let api = format!("{}/repos/{}", cx.api, repo.full_name());
    let items: Vec<Value> = ev
        .deployment_statuses
        .iter()
        .rev()
        .filter(|s| s.deployment_id == deployment.id)
        .map(|s| {
            json!({
                "url": format!("{api}/deployments/{}/statuses/{}", deployment.id, s.id),
                "id": s.id,
                "node_id": format!("DES_{}", s.id),
                "state": s.state,
                "creator": shapes::user(cx, &deployment.creator, false),
                "description": "",
                "environment": deployment.environment,
                "target_url": "",
                "log_url": format!("https://deploy.example.com/logs/{}", s.id),
                "environment_url": "",
                "created_at": s.created_at.to_rfc3339(),
                "updated_at": s.created_at.to_rfc3339(),
                "deployment_url": format!("{api}/deployments/{}", deployment.id),
                "repository_url": api,
            })
        })
        .collect();
    super::routes::paged_list(cx, req, items)
}

/// Open pull requests whose head is `sha`, and merged ones whose merge
/// commit it is (GitHub also lists pull requests that merely contain it;
/// the fake knows no commit graph).
fn commit_pulls(state: &State, cx: &Ctx, req: &Req<'_>, repo: &RepoState, sha: &str) -> Reply {
    let items: Vec<Value> = repo
        .pulls
        .values()
        .filter(|pr| pr.seed.head_sha == sha || pr.seed.merge_commit_sha.as_deref() == Some(sha))
        .map(|pr| super::routes::pull_simple(state, cx, repo, pr))
        .collect();
    super::routes::paged_list(cx, req, items)
}
