//! What each endpoint answers. One function per endpoint, reading and writing
//! `State`; the envelope (auth, ETag, log) is `server`'s job.

use chrono::Utc;
use serde_json::{Value, json};

use super::paging::{self, PageRequest};
use super::server::{Reply, Req};
use super::shapes::{self, Ctx, PullCtx};
use super::state::{
    CheckRunRec, CommentRec, IssueRec, PullRec, PullSeed, RepoState, State, TokenRec,
};
use super::{APP_ID, BOT_LOGIN, auth};

pub(super) fn route(state: &mut State, cx: &Ctx, req: &Req<'_>) -> Reply {
    let segs: Vec<&str> = req.segments.iter().map(String::as_str).collect();
    let method = req.method.as_str();
    match (method, segs.as_slice()) {
        // Apps (JWT).
        ("GET", ["app"]) => Reply::ok(shapes::app(cx, APP_ID)),
        ("POST", ["app", "installations", id, "access_tokens"]) => issue_token(state, id),
        ("GET", ["app", "installations"]) => list_installations(state, cx, req),
        ("GET", ["app", "hook", "deliveries"]) => list_deliveries(state, cx, req),
        ("POST", ["app", "hook", "deliveries", id, "attempts"]) => redeliver(state, id),
        ("POST", ["app-manifests", code, "conversions"]) => convert_manifest(state, cx, code),

        // The installation's repositories (installation token). The fake
        // does not track which installation covers which repository: all
        // of them are listed, on one page.
        ("GET", ["installation", "repositories"]) => {
            let repositories: Vec<Value> = state
                .repos
                .values()
                .map(|repo| shapes::repository(cx, repo, state.is_org(&repo.owner)))
                .collect();
            Reply::ok(json!({
                "total_count": repositories.len(),
                "repository_selection": "all",
                "repositories": repositories,
            }))
        }

        // Organisations.
        ("GET", ["orgs", org, "teams", slug, "members"]) => {
            super::lists::team_members(state, cx, req, org, slug)
        }
        ("GET", ["repos", o, r, "collaborators"]) => {
            super::lists::collaborators(state, cx, req, o, r)
        }
        ("GET", ["orgs", org, "teams", slug, "memberships", login]) => {
            team_membership(state, cx, org, slug, login)
        }

        // Repositories.
        ("GET", ["repos", o, r]) => with_repo(state, o, r, |state, repo| {
            let is_org = state.is_org(&repo.owner);
            Reply::ok(shapes::repository(cx, repo, is_org))
        }),
        ("GET", ["repos", o, r, "branches", rest @ ..]) => {
            with_repo(state, o, r, |_, repo| get_branch(cx, repo, &rest.join("/")))
        }
        ("GET", ["repos", o, r, "compare", rest @ ..]) => {
            with_repo(state, o, r, |_, repo| compare(cx, repo, &rest.join("/")))
        }
        ("GET", ["repos", o, r, "collaborators", login, "permission"]) => {
            with_repo(state, o, r, |_, repo| permission(cx, repo, login))
        }
        ("GET", ["repos", o, r, "activity"]) => super::activity::list(state, cx, req, o, r),
        ("GET", ["repos", o, r, "contents", rest @ ..]) => with_repo(state, o, r, |_, repo| {
            contents(cx, repo, req, &rest.join("/"))
        }),
        ("GET", ["repos", o, r, "git", "ref" | "refs", rest @ ..]) => {
            with_repo(state, o, r, |_, repo| get_ref(cx, repo, &rest.join("/")))
        }
        ("POST", ["repos", o, r, "git", "refs"]) => {
            with_repo_mut(state, o, r, |_, repo| create_ref(cx, repo, req))
        }
        ("GET", ["repos", o, r, "commits", git_ref, "check-runs"]) => {
            with_repo(state, o, r, |_, repo| {
                list_check_runs(cx, repo, req, git_ref)
            })
        }
        ("GET", ["repos", o, r, "commits", git_ref]) => with_repo(state, o, r, |_, repo| {
            Reply::ok(shapes::commit(cx, repo, &repo.resolve_sha(git_ref)))
        }),
        ("POST", ["repos", o, r, "check-runs"]) => {
            with_repo_mut(state, o, r, |id, repo| create_check_run(cx, repo, req, id))
        }
        ("PATCH", ["repos", o, r, "check-runs", id]) => {
            with_repo_mut(state, o, r, |_, repo| update_check_run(cx, repo, req, id))
        }
        ("GET", ["repos", o, r, "pulls"]) => list_pulls(state, cx, req, o, r),
        ("POST", ["repos", o, r, "pulls"]) => create_pull(state, cx, req, o, r),
        ("GET", ["repos", o, r, "pulls", n]) => get_pull(state, cx, o, r, n),
        ("GET", ["repos", o, r, "pulls", n, "reviews"]) => with_pull(state, o, r, n, |repo, pr| {
            let full = repo.full_name();
            let full = full.as_str();
            let items = pr
                .reviews
                .iter()
                .map(|rv| lazy(move || shapes::review(cx, full, pr.seed.number, rv)))
                .collect();
            paged_shapes(cx, req, items)
        }),
        ("GET", ["repos", o, r, "pulls", n, "files"]) => with_pull(state, o, r, n, |repo, pr| {
            // GitHub lists at most 3,000 files.
            let full = repo.full_name();
            let full = full.as_str();
            let items = pr
                .files
                .iter()
                .take(3_000)
                .map(|f| lazy(move || shapes::pull_file(cx, full, &pr.seed.head_sha, f)))
                .collect();
            paged_shapes(cx, req, items)
        }),
        ("PATCH", ["repos", o, r, "issues", "comments", id]) => {
            edit_comment(state, cx, req, o, r, id)
        }
        ("GET", ["repos", o, r, "issues", n, "comments"]) => with_repo(state, o, r, |_, repo| {
            let Some(number) = issue_number(repo, n) else {
                return Reply::not_found();
            };
            let full = repo.full_name();
            let full = full.as_str();
            // GitHub's `since`: comments updated at or after it.
            let since = req
                .param("since")
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
            let items = repo
                .comments
                .iter()
                .filter(|c| c.issue_number == number)
                .filter(|c| since.is_none_or(|t| c.updated_at >= t))
                .map(|c| lazy(move || shapes::comment(cx, full, c)))
                .collect();
            paged_shapes(cx, req, items)
        }),
        ("POST", ["repos", o, r, "issues", n, "comments"]) => {
            create_comment(state, cx, req, o, r, n)
        }
        ("GET", ["repos", o, r, "issues", n, "events"]) => with_repo(state, o, r, |_, repo| {
            let Some(number) = issue_number(repo, n) else {
                return Reply::not_found();
            };
            let full = repo.full_name();
            let full = full.as_str();
            // GitHub's issue events: label and state events, oldest first.
            let mut items: Vec<(chrono::DateTime<Utc>, Shape<'_>)> = repo
                .label_events
                .iter()
                .filter(|e| e.issue_number == number)
                .map(|e| (e.created_at, lazy(move || shapes::label_event(cx, full, e))))
                .collect();
            items.extend(
                repo.state_events
                    .iter()
                    .filter(|e| e.issue_number == number)
                    .map(|e| {
                        (
                            e.created_at,
                            lazy(move || super::state_events::item(cx, full, e)),
                        )
                    }),
            );
            items.sort_by_key(|(at, _)| *at);
            paged_shapes(cx, req, items.into_iter().map(|(_, v)| v).collect())
        }),
        // The timeline: comments ("commented"), submitted reviews
        // ("reviewed", state in lower case as GitHub writes it there) and
        // label events, oldest first.
        ("GET", ["repos", o, r, "issues", n, "timeline"]) => {
            with_pull(state, o, r, n, |repo, pr| {
                let full = repo.full_name();
                let number = pr.seed.number;
                // Items are shaped only for the page asked for, so a
                // timeline of 10,000 comments is served in page time.
                let mut items: Vec<(chrono::DateTime<Utc>, Shape<'_>)> = Vec::new();
                for c in repo.comments.iter().filter(|c| c.issue_number == number) {
                    let full = full.clone();
                    items.push((
                        c.created_at,
                        Box::new(move || {
                            let mut v = shapes::comment(cx, &full, c);
                            v["event"] = json!("commented");
                            v["actor"] = v["user"].clone();
                            v
                        }),
                    ));
                }
                for rv in pr.reviews.iter().filter(|rv| rv.state != "PENDING") {
                    let full = full.clone();
                    items.push((
                        rv.submitted_at,
                        Box::new(move || {
                            let mut v = shapes::review(cx, &full, number, rv);
                            v["event"] = json!("reviewed");
                            v["state"] = json!(rv.state.to_lowercase());
                            v
                        }),
                    ));
                }
                for e in repo
                    .label_events
                    .iter()
                    .filter(|e| e.issue_number == number)
                {
                    let full = full.clone();
                    items.push((
                        e.created_at,
                        Box::new(move || shapes::label_event(cx, &full, e)),
                    ));
                }
                // GitHub documents `base_ref_changed` for the issue events
                // list only, not the timeline: the fake follows the docs.
                for e in repo
                    .state_events
                    .iter()
                    .filter(|e| e.issue_number == number && e.event != "base_ref_changed")
                {
                    let full = full.clone();
                    items.push((
                        e.created_at,
                        Box::new(move || super::state_events::item(cx, &full, e)),
                    ));
                }
                items.sort_by_key(|(at, _)| *at);
                paged_shapes(cx, req, items.into_iter().map(|(_, v)| v).collect())
            })
        }
        ("POST", ["repos", o, r, "issues"]) => create_issue(state, cx, req, o, r),
        // Issues opened through the API (the fake keeps pull requests
        // apart), filtered by `labels` (all of them must be present).
        ("GET", ["repos", o, r, "issues"]) => with_repo(state, o, r, |state, repo| {
            if state.issue_listing_lags {
                return paged(cx, req, Vec::new());
            }
            let wanted: Vec<String> = req
                .param("labels")
                .map(|l| l.split(',').map(str::to_string).collect())
                .unwrap_or_default();
            let full_name = repo.full_name();
            let items = repo
                .issues
                .values()
                .filter(|i| wanted.iter().all(|w| i.labels.contains(w)))
                .map(|i| {
                    let full_name = &full_name;
                    lazy(move || shapes::issue(cx, full_name, i))
                })
                .collect();
            paged_shapes(cx, req, items)
        }),
        _ => super::evidence::route(state, cx, req, &segs).unwrap_or_else(Reply::not_found),
    }
}

/// A list item, shaped only when its page is served: a list of 10,000
/// events costs one page of shaping per request, not 10,000 (the app reads
/// every page, so eager shaping made long lists quadratic).
type Shape<'a> = Box<dyn Fn() -> Value + 'a>;

fn lazy<'a>(shape: impl Fn() -> Value + 'a) -> Shape<'a> {
    Box::new(shape)
}

/// `paged` for items shaped lazily: only the page asked for is shaped.
fn paged_shapes(cx: &Ctx, req: &Req<'_>, items: Vec<Shape<'_>>) -> Reply {
    let indices = (0..items.len()).map(|i| json!(i)).collect();
    let page = paging::paginate(
        cx,
        &PageRequest {
            raw_path: req.raw_path,
            query: &req.query,
        },
        indices,
    );
    let shaped = page
        .items
        .iter()
        .filter_map(|i| i.as_u64().and_then(|i| items.get(i as usize)))
        .map(|shape| shape())
        .collect();
    Reply::ok(Value::Array(shaped)).with_link(page.link)
}

/// `paged` for sibling route files.
pub(super) fn paged_list(cx: &Ctx, req: &Req<'_>, items: Vec<Value>) -> Reply {
    paged(cx, req, items)
}

/// A pull request as lists show it, for sibling route files.
pub(super) fn pull_simple(state: &State, cx: &Ctx, repo: &RepoState, pr: &PullRec) -> Value {
    shapes::pull(cx, &pull_ctx(state, repo, pr), pr, false)
}

pub(super) fn paged(cx: &Ctx, req: &Req<'_>, items: Vec<Value>) -> Reply {
    let page = paging::paginate(
        cx,
        &PageRequest {
            raw_path: req.raw_path,
            query: &req.query,
        },
        items,
    );
    Reply::ok(Value::Array(page.items)).with_link(page.link)
}

fn with_repo(
    state: &State,
    owner: &str,
    name: &str,
    f: impl FnOnce(&State, &RepoState) -> Reply,
) -> Reply {
    match state.repo(&format!("{owner}/{name}")) {
        Some(repo) => f(state, repo),
        None => Reply::not_found(),
    }
}

/// Gives the handler a fresh id up front: the repository is borrowed
/// mutably, so the handler cannot ask `State` for one itself.
fn with_repo_mut(
    state: &mut State,
    owner: &str,
    name: &str,
    f: impl FnOnce(u64, &mut RepoState) -> Reply,
) -> Reply {
    let id = state.next_id();
    match state.repo_mut(&format!("{owner}/{name}")) {
        Some(repo) => f(id, repo),
        None => Reply::not_found(),
    }
}

fn with_pull(
    state: &State,
    owner: &str,
    name: &str,
    number: &str,
    f: impl FnOnce(&RepoState, &PullRec) -> Reply,
) -> Reply {
    with_repo(state, owner, name, |_, repo| {
        match number.parse::<u64>().ok().and_then(|n| repo.pulls.get(&n)) {
            Some(pr) => f(repo, pr),
            None => Reply::not_found(),
        }
    })
}

fn issue_number(repo: &RepoState, n: &str) -> Option<u64> {
    n.parse::<u64>().ok().filter(|n| repo.has_issue(*n))
}

fn parse_body(req: &Req<'_>) -> Result<Value, Reply> {
    if req.body.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(req.body).map_err(|_| Reply::error(400, "Problems parsing JSON"))
}

fn missing_field(resource: &str, field: &str) -> Reply {
    Reply::invalid(vec![
        json!({"resource": resource, "code": "missing_field", "field": field}),
    ])
}

fn str_field<'a>(body: &'a Value, field: &str) -> Option<&'a str> {
    body.get(field).and_then(Value::as_str)
}

// ---------------------------------------------------------------- apps

fn issue_token(state: &mut State, id: &str) -> Reply {
    let Ok(installation_id) = id.parse::<u64>() else {
        return Reply::not_found();
    };
    let token = auth::mint_token(state);
    let expires_at = Utc::now() + state.token_lifetime;
    state.tokens.insert(
        token.clone(),
        TokenRec {
            installation_id,
            expires_at,
        },
    );
    state.tokens_issued += 1;
    Reply::json(201, shapes::token(&token, expires_at))
}

fn list_installations(state: &State, cx: &Ctx, req: &Req<'_>) -> Reply {
    let items = state
        .installations
        .iter()
        .map(|i| shapes::installation(cx, i))
        .collect();
    paged(cx, req, items)
}

/// Deliveries use cursor pagination (newest first), not page numbers.
fn list_deliveries(state: &State, cx: &Ctx, req: &Req<'_>) -> Reply {
    let mut deliveries: Vec<_> = state.deliveries.iter().collect();
    deliveries.sort_by_key(|d| std::cmp::Reverse(d.id));
    let start = req
        .param("cursor")
        .and_then(|c| c.strip_prefix("v1_"))
        .and_then(|id| id.parse::<u64>().ok())
        .map(|first| deliveries.iter().take_while(|d| d.id > first).count())
        .unwrap_or(0);
    let size = paging::per_page(&req.query);
    let page: Vec<_> = deliveries.iter().skip(start).take(size).collect();
    let next = deliveries.get(start + size).map(|d| {
        let mut pairs: Vec<String> = req
            .query
            .iter()
            .filter(|(k, _)| k != "cursor")
            .map(|(k, v)| format!("{}={}", paging::encode(k), paging::encode(v)))
            .collect();
        pairs.push(format!("cursor=v1_{}", d.id));
        format!(
            "<{}{}?{}>; rel=\"next\"",
            cx.api,
            req.raw_path,
            pairs.join("&")
        )
    });
    let items = page.iter().map(|d| shapes::delivery(d)).collect();
    Reply::ok(Value::Array(items)).with_link(next)
}

fn redeliver(state: &mut State, id: &str) -> Reply {
    match id.parse::<u64>() {
        Ok(id) if state.deliveries.iter().any(|d| d.id == id) => {
            state.redeliveries.push(id);
            Reply::json(202, json!({}))
        }
        _ => Reply::not_found(),
    }
}

fn convert_manifest(state: &mut State, cx: &Ctx, code: &str) -> Reply {
    // A code works once, like GitHub's (which also expire after an hour).
    match state.manifests.remove(code) {
        Some(conversion) => Reply::json(201, shapes::manifest_conversion(cx, &conversion)),
        None => Reply::not_found(),
    }
}

// ---------------------------------------------------------------- orgs

fn team_membership(state: &State, cx: &Ctx, org: &str, slug: &str, login: &str) -> Reply {
    let key = (org.to_ascii_lowercase(), slug.to_ascii_lowercase());
    let Some(team) = state.teams.get(&key) else {
        return Reply::not_found();
    };
    match team.members.get(&login.to_ascii_lowercase()) {
        Some((role, member_state)) => {
            Reply::ok(shapes::membership(cx, team.id, login, role, member_state))
        }
        None => Reply::not_found(),
    }
}

// ---------------------------------------------------------------- repos

fn get_branch(cx: &Ctx, repo: &RepoState, name: &str) -> Reply {
    match repo.branches.get(name) {
        Some(sha) => Reply::ok(shapes::branch(cx, repo, name, sha)),
        None => Reply::error(404, "Branch not found"),
    }
}

fn compare(cx: &Ctx, repo: &RepoState, basehead: &str) -> Reply {
    let Some((base, head)) = basehead.split_once("...") else {
        return Reply::not_found();
    };
    let seeded = repo
        .compare
        .get(&(base.to_string(), head.to_string()))
        .or_else(|| {
            repo.compare
                .get(&(repo.resolve_sha(base), repo.resolve_sha(head)))
        });
    let status = seeded.map(String::as_str).unwrap_or("diverged");
    let (ahead, behind) = match status {
        "ahead" => (1, 0),
        "behind" => (0, 1),
        "identical" => (0, 0),
        _ => (1, 1),
    };
    Reply::ok(shapes::compare(cx, repo, base, head, status, ahead, behind))
}

fn permission(cx: &Ctx, repo: &RepoState, login: &str) -> Reply {
    let role = repo
        .permissions
        .get(&login.to_ascii_lowercase())
        .or(repo.unknown_user_permission.as_ref());
    match role {
        Some(role) => Reply::ok(shapes::permission(cx, login, role)),
        None => Reply::error(404, &format!("{login} is not a user")),
    }
}

fn contents(cx: &Ctx, repo: &RepoState, req: &Req<'_>, path: &str) -> Reply {
    let git_ref = req.param("ref").unwrap_or(&repo.default_branch);
    let Some(text) = repo.file_at(git_ref, path) else {
        return Reply::not_found();
    };
    let raw = req.header("accept").is_some_and(|accept| {
        accept.contains("vnd.github.raw") || accept.contains("vnd.github.v3.raw")
    });
    if raw {
        Reply::text(200, text.clone())
    } else {
        Reply::ok(shapes::content(cx, &repo.full_name(), git_ref, path, text))
    }
}

fn get_ref(cx: &Ctx, repo: &RepoState, rest: &str) -> Reply {
    let full = repo.full_name();
    let rest = rest.strip_prefix("refs/").unwrap_or(rest);
    let found = if let Some(tag) = rest.strip_prefix("tags/") {
        repo.tags.get(tag)
    } else if let Some(branch) = rest.strip_prefix("heads/") {
        repo.branches.get(branch)
    } else {
        None
    };
    match found {
        Some(sha) => Reply::ok(shapes::git_ref(cx, &full, &format!("refs/{rest}"), sha)),
        None => Reply::not_found(),
    }
}

fn create_ref(cx: &Ctx, repo: &mut RepoState, req: &Req<'_>) -> Reply {
    let body = match parse_body(req) {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let (Some(full_ref), Some(sha)) = (str_field(&body, "ref"), str_field(&body, "sha")) else {
        return Reply::invalid(vec![
            json!({"resource": "Reference", "code": "missing_field", "field": "ref"}),
        ]);
    };
    let target = if let Some(tag) = full_ref.strip_prefix("refs/tags/") {
        Some((&mut repo.tags, tag))
    } else if let Some(branch) = full_ref.strip_prefix("refs/heads/") {
        Some((&mut repo.branches, branch))
    } else {
        None
    };
    let Some((refs, name)) = target.filter(|(_, name)| !name.is_empty()) else {
        return Reply::error(
            422,
            "Reference name must start with 'refs/' and have at least two slashes.",
        );
    };
    if refs.contains_key(name) {
        return Reply::error(422, "Reference already exists");
    }
    refs.insert(name.to_string(), sha.to_string());
    Reply::json(201, shapes::git_ref(cx, &repo.full_name(), full_ref, sha))
}

// ---------------------------------------------------------------- checks

const CONCLUSIONS: [&str; 8] = [
    "action_required",
    "cancelled",
    "failure",
    "neutral",
    "success",
    "skipped",
    "stale",
    "timed_out",
];

fn list_check_runs(cx: &Ctx, repo: &RepoState, req: &Req<'_>, git_ref: &str) -> Reply {
    let sha = repo.resolve_sha(git_ref);
    let mut runs: Vec<&CheckRunRec> = repo
        .check_runs
        .iter()
        .filter(|run| run.head_sha == sha)
        .filter(|run| req.param("check_name").is_none_or(|name| run.name == name))
        .collect();
    // Newest first; "latest" (GitHub's default, and what the app asks for)
    // keeps the newest run per name and app.
    runs.sort_by_key(|run| std::cmp::Reverse(run.id));
    let mut seen = std::collections::HashSet::new();
    runs.retain(|run| seen.insert((run.name.clone(), run.app_id)));
    let total = runs.len();
    let items = runs
        .into_iter()
        .map(|run| shapes::check_run(cx, repo, run))
        .collect();
    let page = paging::paginate(
        cx,
        &PageRequest {
            raw_path: req.raw_path,
            query: &req.query,
        },
        items,
    );
    Reply::ok(json!({"total_count": total, "check_runs": page.items})).with_link(page.link)
}

/// GitHub's checks validation: what a sloppy client gets a 422 for.
fn validate_check_run(body: &Value, creating: bool) -> Result<(), Reply> {
    if let Some(status) = body.get("status") {
        let allowed = ["queued", "in_progress", "completed"];
        if !status.as_str().is_some_and(|s| allowed.contains(&s)) {
            return Err(Reply::invalid(vec![
                json!({"resource": "CheckRun", "code": "invalid", "field": "status"}),
            ]));
        }
    }
    if let Some(conclusion) = body.get("conclusion").filter(|c| !c.is_null()) {
        if !conclusion
            .as_str()
            .is_some_and(|c| CONCLUSIONS.contains(&c))
        {
            return Err(Reply::invalid(vec![
                json!({"resource": "CheckRun", "code": "invalid", "field": "conclusion"}),
            ]));
        }
    } else if str_field(body, "status") == Some("completed") || body.get("completed_at").is_some() {
        return Err(Reply::invalid(vec![
            json!({"resource": "CheckRun", "code": "missing_field", "field": "conclusion"}),
        ]));
    }
    if let Some(output) = body.get("output") {
        let required: &[&str] = if creating {
            &["title", "summary"]
        } else {
            &["summary"]
        };
        for field in required {
            if str_field(output, field).is_none() {
                return Err(missing_field("CheckRun", &format!("output.{field}")));
            }
        }
        for field in ["summary", "text"] {
            if str_field(output, field).is_some_and(|s| s.chars().count() > 65535) {
                return Err(Reply::invalid(vec![json!({
                    "resource": "CheckRun", "code": "custom", "field": format!("output.{field}"),
                    "message": format!("output.{field} is too long (maximum is 65535 characters)"),
                })]));
            }
        }
        if let Some(annotations) = output.get("annotations") {
            let Some(annotations) = annotations.as_array() else {
                return Err(Reply::invalid(vec![
                    json!({"resource": "CheckRun", "code": "invalid", "field": "output.annotations"}),
                ]));
            };
            if annotations.len() > 50 {
                return Err(Reply::invalid(vec![json!({
                    "resource": "CheckRun", "code": "custom", "field": "output.annotations",
                    "message": "Only 50 annotations are allowed per request",
                })]));
            }
            for annotation in annotations {
                for field in [
                    "path",
                    "start_line",
                    "end_line",
                    "annotation_level",
                    "message",
                ] {
                    if annotation.get(field).is_none_or(Value::is_null) {
                        return Err(missing_field(
                            "CheckRun",
                            &format!("output.annotations.{field}"),
                        ));
                    }
                }
                if !str_field(annotation, "annotation_level")
                    .is_some_and(|l| ["notice", "warning", "failure"].contains(&l))
                {
                    return Err(Reply::invalid(vec![
                        json!({"resource": "CheckRun", "code": "invalid", "field": "output.annotations.annotation_level"}),
                    ]));
                }
            }
        }
    }
    if let Some(actions) = body.get("actions") {
        let actions = actions.as_array().cloned().unwrap_or_default();
        let too_long = |a: &Value, field: &str, max: usize| {
            str_field(a, field).is_none_or(|s| s.chars().count() > max)
        };
        if actions.len() > 3
            || actions.iter().any(|a| {
                too_long(a, "label", 20)
                    || too_long(a, "description", 40)
                    || too_long(a, "identifier", 20)
            })
        {
            return Err(Reply::invalid(vec![
                json!({"resource": "CheckRun", "code": "invalid", "field": "actions"}),
            ]));
        }
    }
    Ok(())
}

/// Applies the fields of a create or update body to a run.
fn apply_check_run_fields(run: &mut CheckRunRec, body: &Value) {
    let now = Utc::now();
    let text = |field: &str| str_field(body, field).map(str::to_string);
    let time = |field: &str| {
        str_field(body, field)
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc))
    };
    if let Some(name) = text("name") {
        run.name = name;
    }
    if let Some(url) = text("details_url") {
        run.details_url = Some(url);
    }
    if let Some(id) = text("external_id") {
        run.external_id = Some(id);
    }
    if let Some(status) = text("status") {
        run.status = status;
    }
    if let Some(started) = time("started_at") {
        run.started_at = Some(started);
    }
    // A conclusion completes the run, whatever status says.
    if let Some(conclusion) = text("conclusion") {
        run.conclusion = Some(conclusion);
        run.status = "completed".to_string();
    }
    if run.status == "completed" {
        run.completed_at = time("completed_at").or(run.completed_at).or(Some(now));
    }
    if let Some(output) = body.get("output") {
        if let Some(title) = str_field(output, "title") {
            run.title = Some(title.to_string());
        }
        if let Some(summary) = str_field(output, "summary") {
            run.summary = Some(summary.to_string());
        }
        if let Some(text) = str_field(output, "text") {
            run.text = Some(text.to_string());
        }
        if let Some(annotations) = output.get("annotations").and_then(Value::as_array) {
            run.annotations.extend(annotations.iter().cloned());
        }
    }
    if let Some(actions) = body.get("actions").and_then(Value::as_array) {
        run.actions = actions.clone();
    }
}

fn create_check_run(cx: &Ctx, repo: &mut RepoState, req: &Req<'_>, id: u64) -> Reply {
    let body = match parse_body(req) {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let (Some(name), Some(head_sha)) = (str_field(&body, "name"), str_field(&body, "head_sha"))
    else {
        let field = if str_field(&body, "name").is_none() {
            "name"
        } else {
            "head_sha"
        };
        return missing_field("CheckRun", field);
    };
    if let Err(reply) = validate_check_run(&body, true) {
        return reply;
    }
    let mut run = CheckRunRec {
        id,
        name: name.to_string(),
        head_sha: head_sha.to_string(),
        status: "queued".to_string(),
        conclusion: None,
        title: None,
        summary: None,
        text: None,
        annotations: Vec::new(),
        actions: Vec::new(),
        details_url: None,
        external_id: None,
        started_at: Some(Utc::now()),
        completed_at: None,
        app_id: APP_ID,
        update_count: 0,
    };
    apply_check_run_fields(&mut run, &body);
    let reply = Reply::json(201, shapes::check_run(cx, repo, &run));
    repo.check_runs.push(run);
    reply
}

fn update_check_run(cx: &Ctx, repo: &mut RepoState, req: &Req<'_>, id: &str) -> Reply {
    let body = match parse_body(req) {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    if let Err(reply) = validate_check_run(&body, false) {
        return reply;
    }
    let Some(index) = id
        .parse::<u64>()
        .ok()
        .and_then(|id| repo.check_runs.iter().position(|run| run.id == id))
    else {
        return Reply::not_found();
    };
    // GitHub only lets an app change its own runs.
    if repo.check_runs[index].app_id != APP_ID {
        return Reply::error(
            403,
            "Invalid app_id `4242` - check run can only be modified by the GitHub App that created it.",
        );
    }
    let mut run = repo.check_runs[index].clone();
    apply_check_run_fields(&mut run, &body);
    run.update_count += 1;
    let reply = Reply::ok(shapes::check_run(cx, repo, &run));
    repo.check_runs[index] = run;
    reply
}

// ---------------------------------------------------------------- pulls

fn pull_ctx<'a>(state: &'a State, repo: &'a RepoState, pr: &PullRec) -> PullCtx<'a> {
    let head = pr
        .seed
        .head_repo
        .as_deref()
        .filter(|h| !h.eq_ignore_ascii_case(&repo.full_name()))
        .and_then(|h| state.repo(h));
    PullCtx {
        base: repo,
        head,
        // A fork that no longer exists (`delete_fork`): `head.repo` null.
        head_deleted: head.is_none()
            && pr.seed.head_repo.as_deref().is_some_and(|h| {
                !h.eq_ignore_ascii_case(&repo.full_name()) && state.repo(h).is_none()
            }),
        base_owner_is_org: state.is_org(&repo.owner),
        head_owner_is_org: head.is_some_and(|h| state.is_org(&h.owner)),
        comment_count: repo
            .comments
            .iter()
            .filter(|c| c.issue_number == pr.seed.number)
            .count(),
    }
}

fn get_pull(state: &State, cx: &Ctx, o: &str, r: &str, n: &str) -> Reply {
    with_pull(state, o, r, n, |repo, pr| {
        Reply::ok(shapes::pull(cx, &pull_ctx(state, repo, pr), pr, true))
    })
}

/// "owner:branch" as GitHub's `head` filter means it.
fn head_label(state: &State, repo: &RepoState, pr: &PullSeed) -> String {
    let owner = pr
        .head_repo
        .as_deref()
        .and_then(|h| state.repo(h))
        .map(|h| h.owner.clone())
        .unwrap_or_else(|| repo.owner.clone());
    format!("{owner}:{}", pr.head_ref)
}

fn list_pulls(state: &State, cx: &Ctx, req: &Req<'_>, o: &str, r: &str) -> Reply {
    with_repo(state, o, r, |state, repo| {
        let wanted_state = req.param("state").unwrap_or("open");
        let mut pulls: Vec<&PullRec> = repo
            .pulls
            .values()
            .filter(|pr| match wanted_state {
                "all" => true,
                "closed" => !pr.seed.is_open(),
                _ => pr.seed.is_open(),
            })
            .filter(|pr| {
                req.param("head")
                    .is_none_or(|head| match head.split_once(':') {
                        Some(_) => head_label(state, repo, &pr.seed).eq_ignore_ascii_case(head),
                        None => pr.seed.head_ref == head,
                    })
            })
            .filter(|pr| {
                req.param("base")
                    .is_none_or(|base| pr.seed.base_ref == base)
            })
            .collect();
        let by_updated = req.param("sort") == Some("updated");
        pulls.sort_by_key(|pr| {
            let seed = &pr.seed;
            let at = if by_updated {
                seed.updated_at.unwrap_or(seed.created_at)
            } else {
                seed.created_at
            };
            (at, seed.number)
        });
        if req.param("direction") != Some("asc") {
            pulls.reverse();
        }
        let items = pulls
            .into_iter()
            .map(|pr| shapes::pull(cx, &pull_ctx(state, repo, pr), pr, false))
            .collect();
        paged(cx, req, items)
    })
}

fn create_pull(state: &mut State, cx: &Ctx, req: &Req<'_>, o: &str, r: &str) -> Reply {
    let body = match parse_body(req) {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let id = state.next_id();
    let full = format!("{o}/{r}");
    let Some(repo) = state.repo(&full) else {
        return Reply::not_found();
    };
    let (Some(head), Some(base)) = (str_field(&body, "head"), str_field(&body, "base")) else {
        let field = if str_field(&body, "head").is_none() {
            "head"
        } else {
            "base"
        };
        return missing_field("PullRequest", field);
    };
    let Some(title) = str_field(&body, "title") else {
        return missing_field("PullRequest", "title");
    };
    let head_ref = head.split_once(':').map_or(head, |(_, branch)| branch);
    let label = match head.split_once(':') {
        Some(_) => head.to_string(),
        None => format!("{}:{head}", repo.owner),
    };
    let (Some(head_sha), Some(base_sha)) = (repo.branches.get(head_ref), repo.branches.get(base))
    else {
        let field = if repo.branches.contains_key(head_ref) {
            "base"
        } else {
            "head"
        };
        return Reply::invalid(vec![
            json!({"resource": "PullRequest", "code": "invalid", "field": field}),
        ]);
    };
    let duplicate = repo.pulls.values().any(|pr| {
        pr.seed.is_open()
            && pr.seed.base_ref == base
            && head_label(state, repo, &pr.seed).eq_ignore_ascii_case(&label)
    });
    if duplicate {
        return Reply::invalid(vec![json!({
            "resource": "PullRequest", "code": "custom",
            "message": format!("A pull request already exists for {label}."),
        })]);
    }
    let seeded = repo.compare.get(&(base.to_string(), head_ref.to_string()));
    if seeded.is_some_and(|s| s == "identical" || s == "behind") {
        return Reply::invalid(vec![json!({
            "resource": "PullRequest", "code": "custom",
            "message": format!("No commits between {base} and {head_ref}"),
        })]);
    }
    let seed = PullSeed {
        number: repo.next_number(),
        title: title.to_string(),
        body: str_field(&body, "body").map(str::to_string),
        author: BOT_LOGIN.to_string(),
        head_ref: head_ref.to_string(),
        head_sha: head_sha.clone(),
        head_repo: None,
        base_ref: base.to_string(),
        base_sha: base_sha.clone(),
        labels: Vec::new(),
        draft: body.get("draft").and_then(Value::as_bool).unwrap_or(false),
        state: "open".to_string(),
        merged: false,
        merge_commit_sha: None,
        merged_by: None,
        merged_at: None,
        created_at: Utc::now(),
        updated_at: None,
        ..PullSeed::default()
    };
    let pr = PullRec {
        id,
        seed,
        files: Vec::new(),
        reviews: Vec::new(),
    };
    let reply = Reply::json(
        201,
        shapes::pull(cx, &pull_ctx(state, repo, &pr), &pr, true),
    );
    if let Some(repo) = state.repo_mut(&full) {
        repo.pulls.insert(pr.seed.number, pr);
    }
    reply
}

// ---------------------------------------------------------------- issues

fn create_comment(state: &mut State, cx: &Ctx, req: &Req<'_>, o: &str, r: &str, n: &str) -> Reply {
    let body = match parse_body(req) {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let id = state.next_id();
    let Some(repo) = state.repo_mut(&format!("{o}/{r}")) else {
        return Reply::not_found();
    };
    let Some(number) = issue_number(repo, n) else {
        return Reply::not_found();
    };
    let Some(text) = str_field(&body, "body") else {
        return missing_field("IssueComment", "body");
    };
    if let Err(reply) = check_comment_length(text) {
        return reply;
    }
    let now = Utc::now();
    let comment = CommentRec {
        id,
        issue_number: number,
        user: BOT_LOGIN.to_string(),
        body: text.to_string(),
        created_at: now,
        updated_at: now,
    };
    let reply = Reply::json(201, shapes::comment(cx, &repo.full_name(), &comment)).with_header(
        "location",
        format!("{}/repos/{}/issues/comments/{id}", cx.api, repo.full_name()),
    );
    repo.comments.push(comment);
    reply
}

fn check_comment_length(text: &str) -> Result<(), Reply> {
    if text.chars().count() > 65536 {
        return Err(Reply::invalid(vec![json!({
            "resource": "IssueComment", "code": "custom", "field": "body",
            "message": "body is too long (maximum is 65536 characters)",
        })]));
    }
    Ok(())
}

fn edit_comment(state: &mut State, cx: &Ctx, req: &Req<'_>, o: &str, r: &str, id: &str) -> Reply {
    let body = match parse_body(req) {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let Some(text) = str_field(&body, "body") else {
        return missing_field("IssueComment", "body");
    };
    if let Err(reply) = check_comment_length(text) {
        return reply;
    }
    let Some(repo) = state.repo_mut(&format!("{o}/{r}")) else {
        return Reply::not_found();
    };
    let full = repo.full_name();
    let Some(comment) = repo.comments.iter_mut().find(|c| id.parse() == Ok(c.id)) else {
        return Reply::not_found();
    };
    comment.body = text.to_string();
    comment.updated_at = Utc::now();
    let reply = Reply::ok(shapes::comment(cx, &full, comment));
    let comment_id = comment.id;
    *state.comment_edits.entry(comment_id).or_insert(0) += 1;
    reply
}

fn create_issue(state: &mut State, cx: &Ctx, req: &Req<'_>, o: &str, r: &str) -> Reply {
    let body = match parse_body(req) {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let id = state.next_id();
    let Some(repo) = state.repo_mut(&format!("{o}/{r}")) else {
        return Reply::not_found();
    };
    let Some(title) = str_field(&body, "title") else {
        return missing_field("Issue", "title");
    };
    // Labels may be names or {name} objects; assignees are logins.
    let names = |field: &str| -> Vec<String> {
        body.get(field)
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|item| item.as_str().or_else(|| str_field(item, "name")))
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let issue = IssueRec {
        number: repo.next_number(),
        id,
        title: title.to_string(),
        body: str_field(&body, "body").map(str::to_string),
        labels: names("labels"),
        assignees: names("assignees"),
        user: BOT_LOGIN.to_string(),
        created_at: Utc::now(),
    };
    let full = repo.full_name();
    let reply = Reply::json(201, shapes::issue(cx, &full, &issue)).with_header(
        "location",
        format!("{}/repos/{full}/issues/{}", cx.api, issue.number),
    );
    repo.issues.insert(issue.number, issue);
    reply
}
