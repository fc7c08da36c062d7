//! `GET /repos/{o}/{r}/activity`: the repository activity API, which records
//! each push, force push and branch creation with GitHub's own receipt time
//! (`timestamp`) and the sha it left the ref at (`after`). Newest first,
//! filtered by `ref` and `activity_type`, paginated like the real one.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::FakeGitHub;
use super::server::{Reply, Req};
use super::shapes::{self, Ctx};
use super::state::State;

/// One activity entry as seeded.
#[derive(Clone, Debug, PartialEq)]
pub struct ActivityRec {
    pub id: u64,
    /// `refs/heads/<branch>`.
    pub git_ref: String,
    pub before: String,
    pub after: String,
    /// `push`, `force_push`, `branch_creation`, `branch_deletion`, `pr_merge`,
    /// `merge_queue_merge`.
    pub activity_type: String,
    pub actor: String,
    pub timestamp: DateTime<Utc>,
}

impl FakeGitHub {
    /// GitHub received a push of `branch` to `after` at `at` (server time).
    pub fn add_push_activity(
        &self,
        repo: &str,
        branch: &str,
        after: &str,
        activity_type: &str,
        actor: &str,
        at: DateTime<Utc>,
    ) {
        self.with(|s| {
            let id = s.next_id();
            let r = s.repo_or_create(repo);
            let git_ref = format!("refs/heads/{branch}");
            let before = r
                .activity
                .iter()
                .filter(|a| a.git_ref == git_ref)
                .max_by_key(|a| a.timestamp)
                .map(|a| a.after.clone())
                .unwrap_or_else(|| "0".repeat(40));
            r.activity.push(ActivityRec {
                id,
                git_ref,
                before,
                after: after.to_string(),
                activity_type: activity_type.to_string(),
                actor: actor.to_string(),
                timestamp: at,
            });
        });
    }

    /// Every activity entry seeded for `repo`.
    pub fn activity(&self, repo: &str) -> Vec<ActivityRec> {
        self.with(|s| s.repo(repo).map(|r| r.activity.clone()).unwrap_or_default())
    }
}

pub(super) fn list(state: &State, cx: &Ctx, req: &Req<'_>, owner: &str, name: &str) -> Reply {
    let Some(repo) = state.repo(&format!("{owner}/{name}")) else {
        return Reply::not_found();
    };
    let wanted_ref = req.param("ref").map(|r| {
        if r.starts_with("refs/") {
            r.to_string()
        } else {
            format!("refs/heads/{r}")
        }
    });
    let wanted_type = req.param("activity_type");
    let mut items: Vec<&ActivityRec> = repo
        .activity
        .iter()
        .filter(|a| wanted_ref.as_ref().is_none_or(|r| *r == a.git_ref))
        .filter(|a| wanted_type.is_none_or(|t| t == a.activity_type))
        .collect();
    // Newest first unless `direction=asc`.
    items.sort_by_key(|a| std::cmp::Reverse(a.timestamp));
    if req.param("direction") == Some("asc") {
        items.reverse();
    }
    let items: Vec<Value> = items
        .into_iter()
        .map(|a| {
            json!({
                "id": a.id,
                "node_id": format!("RA_{}", a.id),
                "before": a.before,
                "after": a.after,
                "ref": a.git_ref,
                "timestamp": shapes::ts(a.timestamp),
                "activity_type": a.activity_type,
                "actor": shapes::user(cx, &a.actor, false),
            })
        })
        .collect();
    super::routes::paged(cx, req, items)
}
