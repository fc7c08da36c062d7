//! GitHub-shaped JSON for every object the fake serves.
//!
//! Each shape starts from a real response (`tests/fixtures/api/`, see its
//! SOURCE.md) so that the key set is GitHub's, and every value is then
//! overwritten from the fake's state. Nothing from a template may survive into
//! a response: the self-test scans responses for template leftovers.

use std::sync::LazyLock;

use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::state::{
    CheckRunRec, CommentRec, DeliveryRec, InstallationRec, IssueRec, LabelEventRec, PullFileSeed,
    PullRec, RepoState, ReviewRec,
};
use super::{APP_ID, APP_SLUG, BOT_LOGIN};

/// Where the fake lives: `api` is what clients use as their base URL (with the
/// enterprise prefix), `web` is the HTML side (the bare origin, like GHES).
#[derive(Clone, Debug)]
pub(super) struct Ctx {
    pub api: String,
    pub web: String,
}

impl Ctx {
    fn host(&self) -> &str {
        self.web
            .split_once("://")
            .map(|(_, host)| host)
            .unwrap_or(&self.web)
    }

    pub(super) fn repo_api(&self, full_name: &str) -> String {
        format!("{}/repos/{}", self.api, full_name)
    }

    fn repo_web(&self, full_name: &str) -> String {
        format!("{}/{}", self.web, full_name)
    }
}

macro_rules! template {
    ($path:literal) => {
        parse_template($path, include_str!(concat!("../../fixtures/api/", $path)))
    };
}

fn parse_template(path: &str, text: &str) -> Value {
    serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("tests/fixtures/api/{path} is not JSON: {e}"))
}

fn first(value: Value, what: &str) -> Value {
    match value {
        Value::Array(mut items) if !items.is_empty() => items.swap_remove(0),
        _ => panic!("template for {what} is not a non-empty array"),
    }
}

/// The parsed templates, each reduced to the one object the fake needs.
struct Templates {
    user: Value,
    repository: Value,
    label: Value,
    pull_full: Value,
    pull_simple: Value,
    review: Value,
    pull_file: Value,
    comment: Value,
    issue: Value,
    label_event: Value,
    check_run: Value,
    app: Value,
    git_ref: Value,
    compare: Value,
    commit: Value,
    branch: Value,
    content: Value,
    membership: Value,
    permission: Value,
    token: Value,
    installation: Value,
    delivery: Value,
}

static T: LazyLock<Templates> = LazyLock::new(|| {
    let token =
        template!("openapi-examples/apps.create-installation-access-token.201.default.json");
    let mut repository = token["repositories"][0].clone();
    let pull_full = template!("openapi-examples/pulls.create.201.default.json");
    // The token example's repository lacks two fields the pull request's
    // head.repo (same "repository" schema, newer) has; take the union.
    for key in ["allow_forking", "has_discussions"] {
        repository[key] = pull_full["head"]["repo"][key].clone();
    }
    let comment = template!("openapi-examples/issues.create-comment.201.default.json");
    let recorded_issue = template!("octokit-fixtures/add-labels-to-issue.json");
    let recorded = recorded_issue.as_array().cloned().unwrap_or_default();
    let find = |suffix: &str| {
        recorded
            .iter()
            .find(|r| {
                r["method"] == "post" && r["path"].as_str().is_some_and(|p| p.ends_with(suffix))
            })
            .map(|r| r["response"].clone())
            .unwrap_or_else(|| panic!("add-labels-to-issue.json has no POST ...{suffix}"))
    };
    let issue = find("/issues");
    let label = first(find("/labels"), "label");
    let timeline = template!("octocrab-0.54.9/issues_list_timeline_events.json");
    let label_event = timeline
        .as_array()
        .and_then(|events| events.iter().find(|e| e["event"] == "labeled").cloned())
        .unwrap_or_else(|| panic!("issues_list_timeline_events.json has no labeled event"));
    let check_run =
        template!("openapi-examples/checks.create.201.example-of-completed-conclusion.json");
    let app = check_run["app"].clone();
    Templates {
        user: comment["user"].clone(),
        repository,
        label,
        pull_simple: first(
            template!("openapi-examples/pulls.list.200.default.json"),
            "pulls.list",
        ),
        pull_full,
        review: first(
            template!("openapi-examples/pulls.list-reviews.200.default.json"),
            "reviews",
        ),
        pull_file: first(
            template!("openapi-examples/pulls.list-files.200.default.json"),
            "files",
        ),
        comment,
        issue,
        label_event,
        check_run,
        app,
        git_ref: template!("openapi-examples/git.create-ref.201.default.json"),
        compare: template!("openapi-examples/repos.compare-commits-with-basehead.200.default.json"),
        commit: first(template!("octocrab/repos_list_commits.json"), "commits"),
        branch: template!("octocrab-0.54.9/repo_branch.json"),
        content: template!(
            "openapi-examples/repos.get-content.200.response-if-content-is-a-file.json"
        ),
        membership: template!(
            "openapi-examples/teams.get-membership-for-user-in-org.200.response-if-user-is-a-team-maintainer.json"
        ),
        permission: template!(
            "openapi-examples/repos.get-collaborator-permission-level.200.response-if-user-has-admin-permissions.json"
        ),
        token,
        installation: template!("octocrab-0.54.9/installation_event.json")["installation"].clone(),
        delivery: first(
            template!("octocrab-0.54.9/hooks_delivery_list.json"),
            "deliveries",
        ),
    }
});

/// Copies `template` and sets every key of `fields` on it. Keys the template
/// lacks are added (GitHub adds fields over time; a client must cope).
fn fill(template: &Value, fields: Value) -> Value {
    let mut out = template.clone();
    if let (Value::Object(out_map), Value::Object(fields)) = (&mut out, fields) {
        for (key, value) in fields {
            out_map.insert(key, value);
        }
    }
    out
}

pub(super) fn ts(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn opt_ts(at: Option<DateTime<Utc>>) -> Value {
    at.map(|at| Value::String(ts(at))).unwrap_or(Value::Null)
}

/// A stable small number derived from a string: user ids, label colours.
pub(super) fn stable_hash(text: &str) -> u64 {
    // FNV-1a: deterministic across runs, unlike std's RandomState.
    text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

pub(super) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A git-looking 40-hex id for something that has no real object id.
pub(super) fn fake_sha(seed: &str) -> String {
    sha256_hex(seed.as_bytes())[..40].to_string()
}

fn node_id(kind: &str, id: u64) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{kind}{id}"))
}

pub(super) fn user_id(login: &str) -> u64 {
    stable_hash(&login.to_ascii_lowercase()) % 90_000_000 + 1_000_000
}

/// A user (or bot, or organization) object: `simple-user` in GitHub's schema.
pub(super) fn user(cx: &Ctx, login: &str, is_org: bool) -> Value {
    let id = user_id(login);
    let bot_slug = login.strip_suffix("[bot]");
    let encoded = login.replace('[', "%5B").replace(']', "%5D");
    let api = format!("{}/users/{}", cx.api, encoded);
    let html = match bot_slug {
        Some(slug) => format!("{}/apps/{}", cx.web, slug),
        None => format!("{}/{}", cx.web, login),
    };
    let kind = match (bot_slug, is_org) {
        (Some(_), _) => "Bot",
        (None, true) => "Organization",
        (None, false) => "User",
    };
    fill(
        &T.user,
        json!({
            "login": login,
            "id": id,
            "node_id": node_id("04:User", id),
            "avatar_url": format!("{}/avatars/u/{id}?v=4", cx.web),
            "gravatar_id": "",
            "url": api,
            "html_url": html,
            "followers_url": format!("{api}/followers"),
            "following_url": format!("{api}/following{{/other_user}}"),
            "gists_url": format!("{api}/gists{{/gist_id}}"),
            "starred_url": format!("{api}/starred{{/owner}}{{/repo}}"),
            "subscriptions_url": format!("{api}/subscriptions"),
            "organizations_url": format!("{api}/orgs"),
            "repos_url": format!("{api}/repos"),
            "events_url": format!("{api}/events{{/privacy}}"),
            "received_events_url": format!("{api}/received_events"),
            "type": kind,
            "site_admin": false,
        }),
    )
}

/// A repository object (`full-repository` / `repository` schema).
pub(super) fn repository(cx: &Ctx, repo: &RepoState, owner_is_org: bool) -> Value {
    let full = repo.full_name();
    let api = cx.repo_api(&full);
    let web = cx.repo_web(&full);
    let host = cx.host();
    let mut out = T.repository.clone();
    rewrite_strings(
        &mut out,
        &[
            (
                "https://api.github.com/repos/octocat/Hello-World",
                api.as_str(),
            ),
            ("https://github.com/octocat/Hello-World", web.as_str()),
            (
                "git:github.com/octocat/Hello-World.git",
                &format!("git://{host}/{full}.git"),
            ),
            (
                "git@github.com:octocat/Hello-World.git",
                &format!("git@{host}:{full}.git"),
            ),
            ("https://svn.github.com/octocat/Hello-World", web.as_str()),
        ],
    );
    let created = ts(repo.created_at);
    let open_issues = repo.pulls.values().filter(|p| p.seed.is_open()).count() + repo.issues.len();
    let out = fill(
        &out,
        json!({
            "id": repo.id,
            "node_id": node_id("010:Repository", repo.id),
            "name": repo.name,
            "full_name": full,
            "owner": user(cx, &repo.owner, owner_is_org),
            // The app reads neither, so the fake serves public repositories only.
            "private": false,
            "visibility": "public",
            "description": null,
            "fork": false,
            "mirror_url": null,
            "homepage": null,
            "language": null,
            "forks_count": 0,
            "stargazers_count": 0,
            "watchers_count": 0,
            "size": 0,
            "default_branch": repo.default_branch,
            "open_issues_count": open_issues,
        }),
    );
    // Split in two: one json! this size exceeds the macro recursion limit.
    fill(
        &out,
        json!({
            "is_template": false,
            "topics": [],
            "has_issues": true,
            "has_projects": false,
            "has_wiki": false,
            "has_pages": false,
            "has_downloads": true,
            "has_discussions": false,
            "archived": false,
            "disabled": false,
            "pushed_at": created,
            "created_at": created,
            "updated_at": created,
            "permissions": {"admin": false, "maintain": false, "push": true, "triage": true, "pull": true},
            "allow_rebase_merge": true,
            "template_repository": null,
            "temp_clone_token": null,
            "allow_squash_merge": true,
            "allow_auto_merge": false,
            "delete_branch_on_merge": false,
            "allow_merge_commit": true,
            "allow_forking": true,
            "subscribers_count": 0,
            "network_count": 0,
            "license": null,
            "forks": 0,
            "open_issues": open_issues,
            "watchers": 0,
        }),
    )
}

/// Replaces substrings in every string value, recursively.
fn rewrite_strings(value: &mut Value, pairs: &[(&str, &str)]) {
    match value {
        Value::String(text) => {
            for (from, to) in pairs {
                if text.contains(from) {
                    *text = text.replace(from, to);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rewrite_strings(v, pairs)),
        Value::Object(map) => map.values_mut().for_each(|v| rewrite_strings(v, pairs)),
        _ => {}
    }
}

pub(super) fn label(cx: &Ctx, full_name: &str, name: &str) -> Value {
    let id = stable_hash(&format!("{full_name}#{name}")) % 9_000_000_000 + 1_000_000_000;
    fill(
        &T.label,
        json!({
            "id": id,
            "node_id": node_id("05:Label", id),
            "url": format!("{}/labels/{}", cx.repo_api(full_name), name.replace(' ', "%20")),
            "name": name,
            "color": label_color(name),
            "default": false,
            "description": null,
        }),
    )
}

/// The `{name, color}` label of issue events.
fn label_color(name: &str) -> String {
    format!("{:06x}", stable_hash(name) & 0x00ff_ffff)
}

/// What a pull request needs to know about the repositories around it.
pub(super) struct PullCtx<'a> {
    pub base: &'a RepoState,
    /// The head repository when it differs from the base (forks).
    pub head: Option<&'a RepoState>,
    /// The head lived in a fork since deleted: `head.repo` is `null`.
    pub head_deleted: bool,
    pub base_owner_is_org: bool,
    pub head_owner_is_org: bool,
    pub comment_count: usize,
}

/// A pull request. `full` is the single-PR shape (`GET /pulls/{n}`, `POST
/// /pulls`); otherwise the list shape (`pull-request-simple`).
pub(super) fn pull(cx: &Ctx, pcx: &PullCtx<'_>, pr: &PullRec, full: bool) -> Value {
    let p = &pr.seed;
    let base_full = pcx.base.full_name();
    let api = cx.repo_api(&base_full);
    let web = cx.repo_web(&base_full);
    let n = p.number;
    let head_repo = pcx.head.unwrap_or(pcx.base);
    let updated = p.updated_at.unwrap_or(p.created_at);
    let closed_at = if p.merged || p.state != "open" {
        Some(p.merged_at.unwrap_or(updated))
    } else {
        None
    };
    let merged_at = if p.merged {
        Some(p.merged_at.unwrap_or(updated))
    } else {
        None
    };
    let branch =
        |template: &Value, owner: &str, git_ref: &str, sha: &str, repo: &RepoState, org| {
            fill(
                template,
                json!({
                    "label": format!("{owner}:{git_ref}"),
                    "ref": git_ref,
                    "sha": sha,
                    "user": user(cx, owner, org),
                    "repo": repository(cx, repo, org),
                }),
            )
        };
    let template = if full { &T.pull_full } else { &T.pull_simple };
    let links = json!({
        "self": {"href": format!("{api}/pulls/{n}")},
    "html": {"href": format!("{web}/pull/{n}")},
    "issue": {"href": format!("{api}/issues/{n}")},
    "comments": {"href": format!("{api}/issues/{n}/comments")},
    "review_comments": {"href": format!("{api}/pulls/{n}/comments")},
    "review_comment": {"href": format!("{api}/pulls/comments{{/number}}")},
    "commits": {"href": format!("{api}/pulls/{n}/commits")},
    "statuses": {"href": format!("{api}/statuses/{}", p.head_sha)},
    });
    let head = branch(
        &template["head"],
        &head_repo.owner,
        &p.head_ref,
        &p.head_sha,
        head_repo,
        pcx.head_owner_is_org,
    );
    let mut head = head;
    if pcx.head_deleted {
        head["repo"] = Value::Null;
    }
    let base = branch(
        &template["base"],
        &pcx.base.owner,
        &p.base_ref,
        &p.base_sha,
        pcx.base,
        pcx.base_owner_is_org,
    );
    let mut fields = json!({
        "url": format!("{api}/pulls/{n}"),
        "id": pr.id,
        "node_id": node_id("011:PullRequest", pr.id),
        "html_url": format!("{web}/pull/{n}"),
        "diff_url": format!("{web}/pull/{n}.diff"),
        "patch_url": format!("{web}/pull/{n}.patch"),
        "issue_url": format!("{api}/issues/{n}"),
        "commits_url": format!("{api}/pulls/{n}/commits"),
        "review_comments_url": format!("{api}/pulls/{n}/comments"),
        "review_comment_url": format!("{api}/pulls/comments{{/number}}"),
        "comments_url": format!("{api}/issues/{n}/comments"),
        "statuses_url": format!("{api}/statuses/{}", p.head_sha),
        "number": n,
        "state": if p.is_open() { "open" } else { "closed" },
        "locked": p.locked,
        "title": p.title,
        "user": user(cx, &p.author, false),
        "body": p.body,
        "labels": p.labels.iter().map(|l| label(cx, &base_full, l)).collect::<Vec<_>>(),
        "milestone": null,
        "active_lock_reason": p.active_lock_reason,
        "created_at": ts(p.created_at),
        "updated_at": ts(updated),
        "closed_at": opt_ts(closed_at),
        "merged_at": opt_ts(merged_at),
        "merge_commit_sha": p.merge_commit_sha,
        "assignee": null,
        "assignees": [],
        "requested_reviewers": [],
        "requested_teams": [],
        "head": head,
        "base": base,
        "_links": links,
        "author_association": if p.author.eq_ignore_ascii_case(&pcx.base.owner) { "OWNER" } else { "CONTRIBUTOR" },
        "auto_merge": null,
        "draft": p.draft,
    });
    if full {
        let additions: u64 = pr.files.iter().map(|f| f.additions).sum();
        let deletions: u64 = pr.files.iter().map(|f| f.deletions).sum();
        let extra = json!({
            "merged": p.merged,
            "mergeable": if p.is_open() { Value::Bool(true) } else { Value::Null },
            "rebaseable": if p.is_open() { Value::Bool(true) } else { Value::Null },
            "mergeable_state": if p.is_open() { "clean" } else { "unknown" },
            "merged_by": p.merged_by.as_deref().map(|login| user(cx, login, false)),
            "comments": pcx.comment_count,
            "review_comments": 0,
            "maintainer_can_modify": false,
            "commits": 1,
            "additions": additions,
            "deletions": deletions,
            "changed_files": pr.files.len(),
        });
        merge_objects(&mut fields, extra);
    }
    fill(template, fields)
}

fn merge_objects(into: &mut Value, from: Value) {
    if let (Value::Object(into), Value::Object(from)) = (into, from) {
        into.extend(from);
    }
}

pub(super) fn review(cx: &Ctx, full_name: &str, number: u64, r: &ReviewRec) -> Value {
    let html = format!(
        "{}/pull/{number}#pullrequestreview-{}",
        cx.repo_web(full_name),
        r.id
    );
    let pull_url = format!("{}/pulls/{number}", cx.repo_api(full_name));
    fill(
        &T.review,
        json!({
            "id": r.id,
            "node_id": node_id("017:PullRequestReview", r.id),
            "user": user(cx, &r.user, false),
            "body": r.body,
            "state": r.state,
            "html_url": html,
            "pull_request_url": pull_url,
            "_links": {"html": {"href": html}, "pull_request": {"href": pull_url}},
            "submitted_at": ts(r.submitted_at),
            "commit_id": r.commit_id,
            "author_association": "COLLABORATOR",
        }),
    )
}

pub(super) fn pull_file(cx: &Ctx, full_name: &str, head_sha: &str, f: &PullFileSeed) -> Value {
    let web = cx.repo_web(full_name);
    let mut out = fill(
        &T.pull_file,
        json!({
            "sha": fake_sha(&format!("{head_sha}:{}", f.filename)),
            "filename": f.filename,
            "status": f.status,
            "additions": f.additions,
            "deletions": f.deletions,
            "changes": f.additions + f.deletions,
            "blob_url": format!("{web}/blob/{head_sha}/{}", f.filename),
            "raw_url": format!("{web}/raw/{head_sha}/{}", f.filename),
            "contents_url": format!("{}/contents/{}?ref={head_sha}", cx.repo_api(full_name), f.filename),
            "patch": f.patch.clone().unwrap_or_else(|| format!(
                "@@ -1,{} +1,{} @@", f.deletions, f.additions
            )),
        }),
    );
    if let Some(previous) = &f.previous_filename {
        out["previous_filename"] = Value::String(previous.clone());
    }
    out
}

pub(super) fn comment(cx: &Ctx, full_name: &str, c: &CommentRec) -> Value {
    let api = cx.repo_api(full_name);
    fill(
        &T.comment,
        json!({
            "id": c.id,
            "node_id": node_id("012:IssueComment", c.id),
            "url": format!("{api}/issues/comments/{}", c.id),
            "html_url": format!("{}/pull/{}#issuecomment-{}", cx.repo_web(full_name), c.issue_number, c.id),
            "body": c.body,
            "user": user(cx, &c.user, false),
            "created_at": ts(c.created_at),
            "updated_at": ts(c.updated_at),
            "issue_url": format!("{api}/issues/{}", c.issue_number),
            "author_association": if c.user.ends_with("[bot]") { "NONE" } else { "COLLABORATOR" },
            "pin": null,
            "minimized": null,
            // In real list answers, not in the docs example. GitHub names
            // the app whose installation token wrote the comment.
            "performed_via_github_app": by_our_app(cx, &c.user),
        }),
    )
}

pub(super) fn issue(cx: &Ctx, full_name: &str, i: &IssueRec) -> Value {
    let api = cx.repo_api(full_name);
    let n = i.number;
    let created = ts(i.created_at);
    let assignees: Vec<Value> = i.assignees.iter().map(|a| user(cx, a, false)).collect();
    fill(
        &T.issue,
        json!({
            "url": format!("{api}/issues/{n}"),
            "repository_url": api,
            "labels_url": format!("{api}/issues/{n}/labels{{/name}}"),
            "comments_url": format!("{api}/issues/{n}/comments"),
            "events_url": format!("{api}/issues/{n}/events"),
            "html_url": format!("{}/issues/{n}", cx.repo_web(full_name)),
            "id": i.id,
            "node_id": node_id("05:Issue", i.id),
            "number": n,
            "title": i.title,
            "user": user(cx, &i.user, false),
            "labels": i.labels.iter().map(|l| label(cx, full_name, l)).collect::<Vec<_>>(),
            "state": "open",
            "locked": false,
            "assignee": assignees.first().cloned(),
            "assignees": assignees,
            "milestone": null,
            "comments": 0,
            "created_at": created,
            "updated_at": created,
            "closed_at": null,
            "author_association": "NONE",
            "active_lock_reason": null,
            "body": i.body,
            "closed_by": null,
            "reactions": {
                "url": format!("{api}/issues/{n}/reactions"),
                "total_count": 0, "+1": 0, "-1": 0, "laugh": 0, "hooray": 0,
                "confused": 0, "heart": 0, "rocket": 0, "eyes": 0,
            },
            "timeline_url": format!("{api}/issues/{n}/timeline"),
            "performed_via_github_app": by_our_app(cx, &i.user),
            "state_reason": null,
        }),
    )
}

pub(super) fn label_event(cx: &Ctx, full_name: &str, e: &LabelEventRec) -> Value {
    fill(
        &T.label_event,
        json!({
            "id": e.id,
            "node_id": node_id("LE_", e.id),
            "url": format!("{}/issues/events/{}", cx.repo_api(full_name), e.id),
            "actor": user(cx, &e.actor, false),
            "event": if e.added { "labeled" } else { "unlabeled" },
            "commit_id": null,
            "commit_url": null,
            "created_at": ts(e.created_at),
            "label": {"name": e.label, "color": label_color(&e.label)},
            "performed_via_github_app": null,
        }),
    )
}

/// `performed_via_github_app` of something `login` wrote: our app when its
/// bot wrote it (with an installation token), else `null`.
fn by_our_app(cx: &Ctx, login: &str) -> Value {
    if login == BOT_LOGIN {
        app(cx, APP_ID)
    } else {
        Value::Null
    }
}

/// The `app` object: our app for `APP_ID`, a stranger for any other id.
pub(super) fn app(cx: &Ctx, app_id: u64) -> Value {
    let (slug, name) = if app_id == APP_ID {
        (APP_SLUG.to_string(), APP_SLUG.to_string())
    } else {
        (format!("other-app-{app_id}"), format!("Other App {app_id}"))
    };
    let created = "2024-01-01T00:00:00Z";
    fill(
        &T.app,
        json!({
            "id": app_id,
            "slug": slug,
            "node_id": node_id("03:App", app_id),
            "owner": user(cx, "hotfix-guard-org", true),
            "name": name,
            "description": "",
            "external_url": format!("{}/apps/{slug}", cx.web),
            "html_url": format!("{}/apps/{slug}", cx.web),
            "created_at": created,
            "updated_at": created,
            "permissions": {
                "checks": "write", "contents": "write", "issues": "write",
                "members": "read", "metadata": "read", "pull_requests": "write",
            },
            "events": ["check_run", "check_suite", "issue_comment", "pull_request", "pull_request_review", "push"],
        }),
    )
}

/// A check run. `pulls` are the open pull requests whose head is the run's
/// sha, in the minimal shape GitHub uses inside check runs.
pub(super) fn check_run(cx: &Ctx, repo: &RepoState, run: &CheckRunRec) -> Value {
    let full = repo.full_name();
    let api = cx.repo_api(&full);
    let repo_ref = json!({"id": repo.id, "url": api, "name": repo.name});
    let pulls: Vec<Value> = repo
        .pulls
        .values()
        .filter(|p| p.seed.is_open() && p.seed.head_sha == run.head_sha)
        .map(|p| {
            json!({
                "url": format!("{api}/pulls/{}", p.seed.number),
                "id": p.id,
                "number": p.seed.number,
                "head": {"ref": p.seed.head_ref, "sha": p.seed.head_sha, "repo": repo_ref},
                "base": {"ref": p.seed.base_ref, "sha": p.seed.base_sha, "repo": repo_ref},
            })
        })
        .collect();
    fill(
        &T.check_run,
        json!({
            "id": run.id,
            "head_sha": run.head_sha,
            "node_id": node_id("08:CheckRun", run.id),
            "external_id": run.external_id.clone().unwrap_or_default(),
            "url": format!("{api}/check-runs/{}", run.id),
            "html_url": format!("{}/runs/{}", cx.repo_web(&full), run.id),
            "details_url": run.details_url.clone().unwrap_or_else(|| format!("{}/apps/{APP_SLUG}", cx.web)),
            "status": run.status,
            "conclusion": run.conclusion,
            "started_at": opt_ts(run.started_at),
            "completed_at": opt_ts(run.completed_at),
            "output": {
                "title": run.title,
                "summary": run.summary,
                "text": run.text,
                "annotations_count": run.annotations.len(),
                "annotations_url": format!("{api}/check-runs/{}/annotations", run.id),
            },
            "name": run.name,
            "check_suite": {"id": check_suite_id(repo, &run.head_sha, run.app_id)},
            "app": app(cx, run.app_id),
            "pull_requests": pulls,
        }),
    )
}

/// GitHub makes one check suite per (app, head sha).
fn check_suite_id(repo: &RepoState, head_sha: &str, app_id: u64) -> u64 {
    stable_hash(&format!("{}:{head_sha}:{app_id}", repo.id)) % 9_000_000_000 + 1_000_000_000
}

pub(super) fn git_ref(cx: &Ctx, full_name: &str, full_ref: &str, sha: &str) -> Value {
    let api = cx.repo_api(full_name);
    fill(
        &T.git_ref,
        json!({
            "ref": full_ref,
            "node_id": base64::engine::general_purpose::STANDARD.encode(format!("03:Ref{full_ref}")),
            "url": format!("{api}/git/{full_ref}"),
            "object": {"type": "commit", "sha": sha, "url": format!("{api}/git/commits/{sha}")},
        }),
    )
}

/// A commit object (`commit` schema), as in `GET /commits/{sha}` and compare.
pub(super) fn commit(cx: &Ctx, repo: &RepoState, sha: &str) -> Value {
    let full = repo.full_name();
    let api = cx.repo_api(&full);
    let seeded = repo.commits.get(sha);
    let date = ts(seeded.map(|c| c.date).unwrap_or_else(Utc::now));
    let message = seeded
        .map(|c| c.message.clone())
        .unwrap_or_else(|| format!("Commit {}", &sha[..sha.len().min(7)]));
    let signature = json!({"name": "Hotfix Author", "email": "author@example.com", "date": date});
    let tree = fake_sha(&format!("tree:{sha}"));
    let parent = fake_sha(&format!("parent:{sha}"));
    let mut inner = T.commit["commit"].clone();
    merge_objects(
        &mut inner,
        json!({
            "url": format!("{api}/git/commits/{sha}"),
            "author": signature,
            "committer": signature,
            "message": message,
            "comment_count": 0,
            "tree": {"sha": tree, "url": format!("{api}/git/trees/{tree}")},
            "verification": {"verified": false, "reason": "unsigned", "signature": null, "payload": null, "verified_at": null},
        }),
    );
    fill(
        &T.commit,
        json!({
            "url": format!("{api}/commits/{sha}"),
            "sha": sha,
            "node_id": base64::engine::general_purpose::STANDARD.encode(format!("06:Commit{sha}")),
            "html_url": format!("{}/commit/{sha}", cx.repo_web(&full)),
            "comments_url": format!("{api}/commits/{sha}/comments"),
            "commit": inner,
            "author": user(cx, "hotfix-author", false),
            "committer": user(cx, "web-flow", false),
            "parents": [{
                "url": format!("{api}/commits/{parent}"),
                "sha": parent,
                "html_url": format!("{}/commit/{parent}", cx.repo_web(&full)),
            }],
        }),
    )
}

pub(super) fn compare(
    cx: &Ctx,
    repo: &RepoState,
    base: &str,
    head: &str,
    status: &str,
    ahead_by: u64,
    behind_by: u64,
) -> Value {
    let full = repo.full_name();
    let web = cx.repo_web(&full);
    let base_sha = repo.resolve_sha(base);
    let head_sha = repo.resolve_sha(head);
    let commits: Vec<Value> = (0..ahead_by)
        .map(|i| {
            let sha = if i + 1 == ahead_by {
                head_sha.clone()
            } else {
                fake_sha(&format!("{head_sha}~{}", ahead_by - 1 - i))
            };
            commit(cx, repo, &sha)
        })
        .collect();
    let merge_base = if status == "behind" || status == "identical" {
        head_sha.clone()
    } else if status == "ahead" {
        base_sha.clone()
    } else {
        fake_sha(&format!("merge-base:{base_sha}:{head_sha}"))
    };
    fill(
        &T.compare,
        json!({
            "url": format!("{}/compare/{base}...{head}", cx.repo_api(&full)),
            "html_url": format!("{web}/compare/{base}...{head}"),
            "permalink_url": format!("{web}/compare/{}:{base_sha}...{}:{head_sha}", repo.owner, repo.owner),
            "diff_url": format!("{web}/compare/{base}...{head}.diff"),
            "patch_url": format!("{web}/compare/{base}...{head}.patch"),
            "base_commit": commit(cx, repo, &base_sha),
            "merge_base_commit": commit(cx, repo, &merge_base),
            "status": status,
            "ahead_by": ahead_by,
            "behind_by": behind_by,
            "total_commits": ahead_by,
            "commits": commits,
            "files": [],
        }),
    )
}

pub(super) fn branch(cx: &Ctx, repo: &RepoState, name: &str, sha: &str) -> Value {
    let full = repo.full_name();
    let api = cx.repo_api(&full);
    fill(
        &T.branch,
        json!({
            "name": name,
            "commit": commit(cx, repo, sha),
            "_links": {
                "self": format!("{api}/branches/{name}"),
                "html": format!("{}/tree/{name}", cx.repo_web(&full)),
            },
            // The app does not read branch protection: never protected here.
            "protected": false,
            "protection": {
                "enabled": false,
                "required_status_checks": {"enforcement_level": "off", "contexts": [], "checks": []},
            },
            "protection_url": format!("{api}/branches/{name}/protection"),
        }),
    )
}

/// A file from the contents API: base64 with a newline every 60 characters,
/// exactly as GitHub sends it.
pub(super) fn content(cx: &Ctx, full_name: &str, git_ref: &str, path: &str, text: &str) -> Value {
    let api = cx.repo_api(full_name);
    let web = cx.repo_web(full_name);
    let sha = fake_sha(&format!("blob:{text}"));
    let encoded = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    let mut wrapped = String::with_capacity(encoded.len() + encoded.len() / 60 + 1);
    for chunk in encoded.as_bytes().chunks(60) {
        wrapped.push_str(&String::from_utf8_lossy(chunk));
        wrapped.push('\n');
    }
    let name = path.rsplit('/').next().unwrap_or(path);
    let self_url = format!("{api}/contents/{path}?ref={git_ref}");
    let git_url = format!("{api}/git/blobs/{sha}");
    let html_url = format!("{web}/blob/{git_ref}/{path}");
    fill(
        &T.content,
        json!({
            "type": "file",
            "encoding": "base64",
            "size": text.len(),
            "name": name,
            "path": path,
            "content": wrapped,
            "sha": sha,
            "url": self_url,
            "git_url": git_url,
            "html_url": html_url,
            "download_url": format!("{}/raw/{full_name}/{git_ref}/{path}", cx.web),
            "_links": {"git": git_url, "self": self_url, "html": html_url},
        }),
    )
}

pub(super) fn membership(cx: &Ctx, team_id: u64, login: &str, role: &str, state: &str) -> Value {
    fill(
        &T.membership,
        json!({
            "url": format!("{}/teams/{team_id}/memberships/{login}", cx.api),
            "role": role,
            "state": state,
        }),
    )
}

pub(super) fn permission(cx: &Ctx, login: &str, role_name: &str) -> Value {
    let permission = match role_name {
        "admin" => "admin",
        "maintain" | "write" => "write",
        "triage" | "read" => "read",
        _ => "none",
    };
    // The schema's `user` is a `collaborator`: a user plus its permissions
    // and role (the docs example omits them; real answers and octocrab's
    // model have them).
    let rank = |r: &str| match r {
        "admin" => 5,
        "maintain" => 4,
        "write" => 3,
        "triage" => 2,
        "read" => 1,
        _ => 0,
    };
    let level = rank(role_name);
    let mut collaborator = user(cx, login, false);
    merge_objects(
        &mut collaborator,
        json!({
            "permissions": {
                "admin": level >= 5, "maintain": level >= 4, "push": level >= 3,
                "triage": level >= 2, "pull": level >= 1,
            },
            "role_name": role_name,
        }),
    );
    fill(
        &T.permission,
        json!({
            "permission": permission,
            "role_name": role_name,
            "user": collaborator,
        }),
    )
}

pub(super) fn token(token: &str, expires_at: DateTime<Utc>) -> Value {
    let mut out = fill(
        &T.token,
        json!({
            "token": token,
            "expires_at": ts(expires_at),
            "permissions": {
                "checks": "write", "contents": "write", "issues": "write",
                "members": "read", "metadata": "read", "pull_requests": "write",
            },
            "repository_selection": "all",
        }),
    );
    // `repositories` is only present when the token is limited to some.
    if let Value::Object(map) = &mut out {
        map.remove("repositories");
    }
    out
}

pub(super) fn installation(cx: &Ctx, i: &InstallationRec) -> Value {
    let created = "2024-01-01T00:00:00Z";
    let target_id = user_id(&i.account);
    fill(
        &T.installation,
        json!({
            "id": i.id,
            "account": user(cx, &i.account, i.target_type == "Organization"),
            "repository_selection": "all",
            "access_tokens_url": format!("{}/app/installations/{}/access_tokens", cx.api, i.id),
            "repositories_url": format!("{}/installation/repositories", cx.api),
            "html_url": format!("{}/settings/installations/{}", cx.web, i.id),
            "app_id": APP_ID,
            "app_slug": APP_SLUG,
            "target_id": target_id,
            "target_type": i.target_type,
            "permissions": {
                "checks": "write", "contents": "write", "issues": "write",
                "members": "read", "metadata": "read", "pull_requests": "write",
            },
            "events": ["check_run", "check_suite", "issue_comment", "pull_request", "pull_request_review", "push"],
            "created_at": created,
            "updated_at": created,
            "single_file_name": null,
            "has_multiple_single_files": false,
            "single_file_paths": [],
            "suspended_by": null,
            "suspended_at": null,
        }),
    )
}

pub(super) fn delivery(d: &DeliveryRec) -> Value {
    let status = match d.status_code {
        200..=299 => "OK".to_string(),
        0 => "timed out".to_string(),
        code => format!("Invalid HTTP Response: {code}"),
    };
    fill(
        &T.delivery,
        json!({
            "id": d.id,
            "guid": d.guid,
            "delivered_at": ts(d.delivered_at),
            "redelivery": d.redelivery,
            "duration": 0.25,
            "status": status,
            "status_code": d.status_code,
            "event": d.event,
            "action": d.action,
            "installation_id": d.installation_id,
            "repository_id": d.repository_id,
            "url": "",
            "throttled_at": null,
        }),
    )
}

/// `POST /app-manifests/{code}/conversions`: the app object plus its secrets.
pub(super) fn manifest_conversion(cx: &Ctx, m: &super::state::ManifestConversion) -> Value {
    let mut out = app(cx, APP_ID);
    merge_objects(
        &mut out,
        json!({
            "id": m.id,
            "slug": m.slug,
            "node_id": node_id("03:App", m.id),
            "name": m.name,
            "html_url": m.html_url,
            "client_id": m.client_id,
            "client_secret": m.client_secret,
            "webhook_secret": m.webhook_secret,
            "pem": m.pem,
        }),
    );
    out
}

/// A GitHub error body: `{message, documentation_url, status}`, plus
/// `errors` for validation failures.
pub(super) fn error_body(status: u16, message: &str, errors: Option<Vec<Value>>) -> Value {
    let mut map = Map::new();
    map.insert("message".into(), Value::String(message.to_string()));
    if let Some(errors) = errors {
        map.insert("errors".into(), Value::Array(errors));
    }
    map.insert(
        "documentation_url".into(),
        Value::String("https://docs.github.com/rest".to_string()),
    );
    map.insert("status".into(), Value::String(status.to_string()));
    Value::Object(map)
}
