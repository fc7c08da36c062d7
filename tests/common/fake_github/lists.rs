//! Listings that answer for many people at once: a team's active members
//! (`GET /orgs/{org}/teams/{slug}/members`) and a repository's writers
//! (`GET /repos/{o}/{r}/collaborators?permission=push`). Paginated like the
//! real ones; `simple-user` items.

use serde_json::Value;

use super::server::{Reply, Req};
use super::shapes::{self, Ctx};
use super::state::State;

/// Active members only (pending invitations are listed elsewhere on
/// GitHub); `role=member|maintainer` filters, `all` (default) does not.
pub(super) fn team_members(state: &State, cx: &Ctx, req: &Req<'_>, org: &str, slug: &str) -> Reply {
    let key = (org.to_ascii_lowercase(), slug.to_ascii_lowercase());
    let Some(team) = state.teams.get(&key) else {
        return Reply::not_found();
    };
    let role = req.param("role").unwrap_or("all");
    let items: Vec<Value> = team
        .members
        .iter()
        .filter(|(_, (r, s))| s == "active" && (role == "all" || r == role))
        .map(|(login, _)| shapes::user(cx, login, false))
        .collect();
    super::routes::paged_list(cx, req, items)
}

/// Collaborators, filtered by `permission` (`pull`, `triage`, `push`,
/// `maintain`, `admin`: that level or more), each with `role_name`.
pub(super) fn collaborators(state: &State, cx: &Ctx, req: &Req<'_>, o: &str, r: &str) -> Reply {
    let Some(repo) = state.repo(&format!("{o}/{r}")) else {
        return Reply::not_found();
    };
    let rank = |role: &str| match role {
        "admin" => 5,
        "maintain" => 4,
        "write" | "push" => 3,
        "triage" => 2,
        "read" | "pull" => 1,
        _ => 0,
    };
    let least = rank(req.param("permission").unwrap_or("pull")).max(1);
    let mut logins: Vec<(&String, &String)> = repo
        .permissions
        .iter()
        .filter(|(_, role)| rank(role) >= least)
        .collect();
    logins.sort();
    let items: Vec<Value> = logins
        .into_iter()
        .map(|(login, role)| {
            let mut user = shapes::user(cx, login, false);
            user["role_name"] = Value::String(role.clone());
            user
        })
        .collect();
    super::routes::paged_list(cx, req, items)
}
