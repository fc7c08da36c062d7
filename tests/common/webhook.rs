//! Webhook helpers: signatures, GitHub's real payloads
//! (`tests/fixtures/webhooks/`) rewritten to describe the repository and pull
//! request a test is about, and the test app's key.
//!
//! Payload URLs stay as GitHub writes them (`https://api.github.com/...`),
//! rewritten for the test's repository and number. An app should call the
//! API base it is configured with, not URLs from payloads; a test that wants
//! them to point at the fake can call `point_urls_at`.
#![allow(dead_code)]

use std::path::PathBuf;

use chrono::{DateTime, SecondsFormat, Utc};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::fake_github::{APP_ID, APP_SLUG, PullSeed};

/// `sha256=<hex>`: the `X-Hub-Signature-256` GitHub sends for `body`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        unreachable!("HMAC accepts keys of any length")
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The headers GitHub sends with a delivery of `body`.
/// `name` as a delivery GUID, as GitHub sends in `X-GitHub-Delivery` (the app
/// refuses anything else): a GUID stays as it is; any other name maps to
/// the same GUID every time, so tests can still name their deliveries and
/// repeat one.
pub fn delivery_guid(name: &str) -> String {
    let is_guid = name.len() <= 36 && name.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
    if is_guid {
        return name.to_string();
    }
    use sha2::Digest as _;
    let h = hex::encode(sha2::Sha256::digest(name.as_bytes()));
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

pub fn delivery_headers(
    event: &str,
    delivery_id: &str,
    secret: &str,
    body: &[u8],
) -> Vec<(String, String)> {
    vec![
        ("content-type".into(), "application/json".into()),
        ("user-agent".into(), "GitHub-Hookshot/4d6a5f3".into()),
        ("x-github-event".into(), event.into()),
        ("x-github-delivery".into(), delivery_guid(delivery_id)),
        ("x-github-hook-id".into(), "424242".into()),
        (
            "x-github-hook-installation-target-type".into(),
            "integration".into(),
        ),
        (
            "x-github-hook-installation-target-id".into(),
            APP_ID.to_string(),
        ),
        ("x-hub-signature-256".into(), sign(secret, body)),
    ]
}

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/webhooks")
}

/// A payload from `tests/fixtures/webhooks/` ("pull_request.opened.json";
/// the ".json" may be left out).
pub fn fixture(name: &str) -> Value {
    let bytes = fixture_bytes(name);
    serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("webhook fixture {name} is not JSON: {e}"))
}

/// The fixture's exact bytes (for signature tests over GitHub's own bytes).
pub fn fixture_bytes(name: &str) -> Vec<u8> {
    let file = if name.ends_with(".json") {
        name.to_string()
    } else {
        format!("{name}.json")
    };
    let path = fixtures_dir().join(&file);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Replaces GitHub's hosts in every URL of a payload: `https://api.github.com`
/// with `api_url` (e.g. `fake.url()`), and `https://github.com` with its
/// origin.
pub fn point_urls_at(payload: &mut Value, api_url: &str) {
    let origin = api_url
        .find("://")
        .and_then(|scheme| {
            api_url[scheme + 3..]
                .find('/')
                .map(|i| &api_url[..scheme + 3 + i])
        })
        .unwrap_or(api_url)
        .to_string();
    rewrite_strings(
        payload,
        &[
            ("https://api.github.com", api_url),
            ("https://github.com", &origin),
        ],
    );
}

// ------------------------------------------------------------ the test key

/// The test GitHub App's RSA key pair (`tests/fixtures/test-app-key*.pem`).
pub struct TestKey;

impl TestKey {
    pub fn private_path() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/test-app-key.pem")
    }

    pub fn public_path() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/test-app-key.pub.pem")
    }

    pub fn private_pem() -> String {
        std::fs::read_to_string(Self::private_path())
            .unwrap_or_else(|e| panic!("cannot read the test private key: {e}"))
    }

    pub fn public_pem() -> String {
        std::fs::read_to_string(Self::public_path())
            .unwrap_or_else(|e| panic!("cannot read the test public key: {e}"))
    }

    /// An app JWT as GitHub wants it: RS256, `iss` = app id, issued a minute
    /// ago, valid for nine more.
    pub fn app_jwt(app_id: u64) -> String {
        let now = Utc::now().timestamp();
        Self::jwt_with_claims(
            &json!({"iss": app_id.to_string(), "iat": now - 60, "exp": now + 540}),
        )
    }

    /// A JWT over arbitrary claims, signed with the test key.
    pub fn jwt_with_claims(claims: &Value) -> String {
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(Self::private_pem().as_bytes())
            .unwrap_or_else(|e| panic!("the test private key is not an RSA PEM: {e}"));
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
            claims,
            &key,
        )
        .unwrap_or_else(|e| panic!("cannot sign a JWT: {e}"))
    }
}

// ------------------------------------------------------------ shared pieces

fn ts(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

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

fn stable_id(text: &str) -> u64 {
    let digest = Sha256::digest(text.as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(bytes) % 90_000_000 + 1_000_000
}

fn fake_sha(seed: &str) -> String {
    hex::encode(Sha256::digest(seed.as_bytes()))[..40].to_string()
}

/// A user object shaped like `template` (a user from the same payload), for
/// `login`.
fn user_like(template: &Value, login: &str) -> Value {
    let mut user = template.clone();
    let old = template["login"].as_str().unwrap_or_default().to_string();
    let encoded = login.replace('[', "%5B").replace(']', "%5D");
    if !old.is_empty() {
        rewrite_strings(
            &mut user,
            &[
                (&format!("/users/{old}"), &format!("/users/{encoded}")),
                (&format!("github.com/{old}"), &format!("github.com/{login}")),
            ],
        );
    }
    let id = stable_id(&login.to_ascii_lowercase());
    user["login"] = json!(login);
    user["id"] = json!(id);
    user["node_id"] = json!(format!("U_{id}"));
    user["avatar_url"] = json!(format!("https://avatars.githubusercontent.com/u/{id}?v=4"));
    user["type"] = json!(if login.ends_with("[bot]") {
        "Bot"
    } else {
        "User"
    });
    user["site_admin"] = json!(false);
    user
}

fn label_json(repo: &str, name: &str) -> Value {
    let id = stable_id(&format!("{repo}#{name}"));
    json!({
        "id": id,
        "node_id": format!("LA_{id}"),
        "url": format!("https://api.github.com/repos/{repo}/labels/{}", name.replace(' ', "%20")),
        "name": name,
        "color": format!("{:06x}", id & 0x00ff_ffff),
        "default": false,
        "description": null,
    })
}

/// Points a payload's `repository` (and every URL naming it) at `repo`, sets
/// its default branch, and sets `installation.id`.
fn retarget(payload: &mut Value, repo: &str, default_branch: &str, installation_id: u64) {
    let old_full = payload["repository"]["full_name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if !old_full.is_empty() {
        rewrite_strings(payload, &[(old_full.as_str(), repo)]);
    }
    let (owner, name) = repo.split_once('/').unwrap_or((repo, repo));
    let repository = &mut payload["repository"];
    repository["full_name"] = json!(repo);
    repository["name"] = json!(name);
    repository["id"] = json!(stable_id(repo));
    repository["node_id"] = json!(format!("R_{}", stable_id(repo)));
    repository["default_branch"] = json!(default_branch);
    if repository.get("master_branch").is_some() {
        repository["master_branch"] = json!(default_branch);
    }
    let owner_template = repository["owner"].clone();
    let mut owner_json = user_like(&owner_template, owner);
    // Push payloads describe the owner with name/email too.
    if owner_json.get("name").is_some() {
        owner_json["name"] = json!(owner);
    }
    repository["owner"] = owner_json;
    payload["installation"] = json!({
        "id": installation_id,
        "node_id": format!("MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u{installation_id}"),
    });
}

// ------------------------------------------------------------ pull_request

/// The pull request a `pull_request`, `pull_request_review` or
/// `issue_comment` payload is about.
#[derive(Clone, Debug)]
pub struct PrSpec {
    /// "owner/name"
    pub repo: String,
    pub number: u64,
    pub title: String,
    pub body: Option<String>,
    pub author: String,
    pub head_ref: String,
    pub head_sha: String,
    pub base_ref: String,
    pub base_sha: String,
    pub labels: Vec<String>,
    pub draft: bool,
    pub installation_id: u64,
    pub merged: bool,
    pub merge_commit_sha: Option<String>,
    pub merged_by: Option<String>,
    /// `repository.default_branch`.
    pub default_branch: String,
    /// Who triggered the event; the author when `None`.
    pub sender: Option<String>,
}

impl Default for PrSpec {
    fn default() -> Self {
        PrSpec::from_seed("octo/app", &PullSeed::default(), 1)
    }
}

impl PrSpec {
    /// The payload view of a pull request seeded in the fake, so webhook and
    /// API tell the same story.
    pub fn from_seed(repo: &str, seed: &PullSeed, installation_id: u64) -> PrSpec {
        PrSpec {
            repo: repo.to_string(),
            number: seed.number,
            title: seed.title.clone(),
            body: seed.body.clone(),
            author: seed.author.clone(),
            head_ref: seed.head_ref.clone(),
            head_sha: seed.head_sha.clone(),
            base_ref: seed.base_ref.clone(),
            base_sha: seed.base_sha.clone(),
            labels: seed.labels.clone(),
            draft: seed.draft,
            installation_id,
            merged: seed.merged,
            merge_commit_sha: seed.merge_commit_sha.clone(),
            merged_by: seed.merged_by.clone(),
            default_branch: "main".to_string(),
            sender: None,
        }
    }

    fn sender(&self) -> &str {
        self.sender.as_deref().unwrap_or(&self.author)
    }
}

/// Writes `spec` into a payload's `pull_request` object.
fn write_pull_request(payload: &mut Value, spec: &PrSpec, closed: bool) {
    let now = ts(Utc::now());
    let repo = spec.repo.as_str();
    let n = spec.number;
    let owner = repo.split_once('/').map_or(repo, |(o, _)| o);
    let api = format!("https://api.github.com/repos/{repo}");
    let web = format!("https://github.com/{repo}");
    let repository = payload["repository"].clone();
    let user_template = payload["pull_request"]["user"].clone();
    let pr = &mut payload["pull_request"];
    let id = stable_id(&format!("{repo}#{n}"));
    pr["id"] = json!(id);
    pr["node_id"] = json!(format!("PR_{id}"));
    pr["number"] = json!(n);
    pr["url"] = json!(format!("{api}/pulls/{n}"));
    pr["html_url"] = json!(format!("{web}/pull/{n}"));
    pr["diff_url"] = json!(format!("{web}/pull/{n}.diff"));
    pr["patch_url"] = json!(format!("{web}/pull/{n}.patch"));
    pr["issue_url"] = json!(format!("{api}/issues/{n}"));
    pr["commits_url"] = json!(format!("{api}/pulls/{n}/commits"));
    pr["review_comments_url"] = json!(format!("{api}/pulls/{n}/comments"));
    pr["comments_url"] = json!(format!("{api}/issues/{n}/comments"));
    pr["statuses_url"] = json!(format!("{api}/statuses/{}", spec.head_sha));
    pr["_links"] = json!({
        "self": {"href": format!("{api}/pulls/{n}")},
        "html": {"href": format!("{web}/pull/{n}")},
        "issue": {"href": format!("{api}/issues/{n}")},
        "comments": {"href": format!("{api}/issues/{n}/comments")},
        "review_comments": {"href": format!("{api}/pulls/{n}/comments")},
        "review_comment": {"href": format!("{api}/pulls/comments{{/number}}")},
        "commits": {"href": format!("{api}/pulls/{n}/commits")},
        "statuses": {"href": format!("{api}/statuses/{}", spec.head_sha)},
    });
    pr["title"] = json!(spec.title);
    pr["body"] = json!(spec.body);
    pr["user"] = user_like(&user_template, &spec.author);
    pr["labels"] = json!(
        spec.labels
            .iter()
            .map(|l| label_json(repo, l))
            .collect::<Vec<_>>()
    );
    pr["draft"] = json!(spec.draft);
    pr["state"] = json!(if closed || spec.merged {
        "closed"
    } else {
        "open"
    });
    pr["merged"] = json!(spec.merged);
    pr["merged_at"] = if spec.merged { json!(now) } else { Value::Null };
    pr["closed_at"] = if closed || spec.merged {
        json!(now)
    } else {
        Value::Null
    };
    pr["merge_commit_sha"] = json!(spec.merge_commit_sha);
    pr["merged_by"] = match (&spec.merged_by, spec.merged) {
        (Some(login), true) => user_like(&user_template, login),
        _ => Value::Null,
    };
    pr["updated_at"] = json!(now);
    for (side, git_ref, sha) in [
        ("head", &spec.head_ref, &spec.head_sha),
        ("base", &spec.base_ref, &spec.base_sha),
    ] {
        let branch = &mut pr[side];
        branch["ref"] = json!(git_ref);
        branch["sha"] = json!(sha);
        branch["label"] = json!(format!("{owner}:{git_ref}"));
        branch["user"] = repository["owner"].clone();
        branch["repo"] = repository.clone();
    }
}

fn set_sender(payload: &mut Value, login: &str) {
    let template = payload["sender"].clone();
    payload["sender"] = user_like(&template, login);
}

/// A `pull_request` payload for `action` (opened, reopened, synchronize,
/// labeled, unlabeled, edited, ready_for_review, closed, ...), built on
/// GitHub's payload for that action when the corpus has one.
///
/// labeled/unlabeled carry `label` = the last of `spec.labels` (or "hotfix");
/// use `pull_request_label_event` to name it. synchronize carries
/// `after` = head sha. edited carries a title change; see
/// `pull_request_edited` for others. closed with `merged` is a merge.
pub fn pull_request_event(action: &str, spec: &PrSpec) -> Value {
    let label = spec
        .labels
        .last()
        .cloned()
        .unwrap_or_else(|| "hotfix".to_string());
    match action {
        "labeled" | "unlabeled" => pull_request_label_event(action, spec, &label),
        "edited" => pull_request_edited(
            spec,
            json!({"title": {"from": format!("{} (draft title)", spec.title)}}),
        ),
        _ => build_pull_request(action, spec),
    }
}

/// labeled / unlabeled, naming the label that changed.
pub fn pull_request_label_event(action: &str, spec: &PrSpec, label: &str) -> Value {
    let mut payload = build_pull_request(action, spec);
    payload["label"] = label_json(&spec.repo, label);
    payload
}

/// edited, with GitHub's `changes` object, e.g.
/// `{"base": {"ref": {"from": "develop"}, "sha": {"from": "..."}}}` or
/// `{"title": {"from": "old"}}`.
pub fn pull_request_edited(spec: &PrSpec, changes: Value) -> Value {
    let mut payload = build_pull_request("edited", spec);
    payload["changes"] = changes;
    payload
}

fn build_pull_request(action: &str, spec: &PrSpec) -> Value {
    let known = [
        "opened",
        "reopened",
        "synchronize",
        "labeled",
        "unlabeled",
        "edited",
        "closed",
    ];
    let base = if known.contains(&action) {
        format!("pull_request.{action}.json")
    } else {
        "pull_request.opened.json".to_string()
    };
    let mut payload = fixture(&base);
    payload["action"] = json!(action);
    payload["number"] = json!(spec.number);
    retarget(
        &mut payload,
        &spec.repo,
        &spec.default_branch,
        spec.installation_id,
    );
    write_pull_request(&mut payload, spec, action == "closed");
    set_sender(&mut payload, spec.sender());
    if action == "synchronize" {
        payload["before"] = json!(fake_sha(&format!("before:{}", spec.head_sha)));
        payload["after"] = json!(spec.head_sha);
    }
    payload
}

// ------------------------------------------------------------ pull_request_review

#[derive(Clone, Debug)]
pub struct ReviewSpec {
    pub id: u64,
    pub user: String,
    /// Webhook spelling: approved, changes_requested, commented, dismissed.
    pub state: String,
    pub commit_id: String,
    pub body: Option<String>,
    pub submitted_at: DateTime<Utc>,
}

impl ReviewSpec {
    pub fn approved(id: u64, user: &str, commit_id: &str) -> ReviewSpec {
        ReviewSpec {
            id,
            user: user.to_string(),
            state: "approved".to_string(),
            commit_id: commit_id.to_string(),
            body: None,
            submitted_at: Utc::now(),
        }
    }
}

/// A `pull_request_review` payload: submitted, edited or dismissed.
pub fn review_event(action: &str, pr: &PrSpec, review: &ReviewSpec) -> Value {
    let base = if action == "dismissed" {
        "pull_request_review.dismissed.json"
    } else {
        "pull_request_review.submitted.json"
    };
    let mut payload = fixture(base);
    payload["action"] = json!(action);
    retarget(
        &mut payload,
        &pr.repo,
        &pr.default_branch,
        pr.installation_id,
    );
    write_pull_request(&mut payload, pr, false);
    let user_template = payload["review"]["user"].clone();
    let html = format!(
        "https://github.com/{}/pull/{}#pullrequestreview-{}",
        pr.repo, pr.number, review.id
    );
    let pull_url = format!(
        "https://api.github.com/repos/{}/pulls/{}",
        pr.repo, pr.number
    );
    let r = &mut payload["review"];
    r["id"] = json!(review.id);
    r["node_id"] = json!(format!("PRR_{}", review.id));
    r["user"] = user_like(&user_template, &review.user);
    r["body"] = json!(review.body);
    r["commit_id"] = json!(review.commit_id);
    r["submitted_at"] = json!(ts(review.submitted_at));
    r["state"] = json!(review.state.to_ascii_lowercase());
    r["html_url"] = json!(html);
    r["pull_request_url"] = json!(pull_url);
    r["_links"] = json!({"html": {"href": html}, "pull_request": {"href": pull_url}});
    set_sender(&mut payload, &review.user);
    payload
}

// ------------------------------------------------------------ issue_comment

/// An `issue_comment` payload on pull request `number` (the corpus has no
/// issue_comment payload; this follows GitHub's documented shape, with the
/// `repository`, `installation` and user objects of a real pull_request
/// payload).
pub fn issue_comment_event(
    action: &str,
    repo: &str,
    number: u64,
    commenter: &str,
    body: &str,
    comment_id: u64,
    installation_id: u64,
) -> Value {
    let pr = PrSpec {
        repo: repo.to_string(),
        number,
        installation_id,
        ..PrSpec::default()
    };
    issue_comment_event_on(action, &pr, commenter, body, comment_id)
}

/// Same, describing the pull request in `pr` (title, author, labels, state).
pub fn issue_comment_event_on(
    action: &str,
    pr: &PrSpec,
    commenter: &str,
    body: &str,
    comment_id: u64,
) -> Value {
    let mut payload = fixture("pull_request.opened.json");
    retarget(
        &mut payload,
        &pr.repo,
        &pr.default_branch,
        pr.installation_id,
    );
    write_pull_request(&mut payload, pr, false);
    let pull = payload["pull_request"].clone();
    let user_template = pull["user"].clone();
    let api = format!("https://api.github.com/repos/{}", pr.repo);
    let web = format!("https://github.com/{}", pr.repo);
    let n = pr.number;
    let now = ts(Utc::now());
    let reactions = |url: String| {
        json!({
            "url": url, "total_count": 0, "+1": 0, "-1": 0, "laugh": 0, "hooray": 0,
            "confused": 0, "heart": 0, "rocket": 0, "eyes": 0,
        })
    };
    let issue = json!({
        "url": format!("{api}/issues/{n}"),
        "repository_url": api,
        "labels_url": format!("{api}/issues/{n}/labels{{/name}}"),
        "comments_url": format!("{api}/issues/{n}/comments"),
        "events_url": format!("{api}/issues/{n}/events"),
        "html_url": format!("{web}/pull/{n}"),
        "id": stable_id(&format!("issue:{}#{n}", pr.repo)),
        "node_id": format!("PR_{}", pull["id"]),
        "number": n,
        "title": pr.title,
        "user": pull["user"],
        "labels": pull["labels"],
        "state": pull["state"],
        "locked": false,
        "assignee": null,
        "assignees": [],
        "milestone": null,
        "comments": 1,
        "created_at": pull["created_at"],
        "updated_at": now,
        "closed_at": pull["closed_at"],
        "author_association": "CONTRIBUTOR",
        "active_lock_reason": null,
        "draft": pr.draft,
        "pull_request": {
            "url": format!("{api}/pulls/{n}"),
            "html_url": format!("{web}/pull/{n}"),
            "diff_url": format!("{web}/pull/{n}.diff"),
            "patch_url": format!("{web}/pull/{n}.patch"),
            "merged_at": pull["merged_at"],
        },
        "body": pr.body,
        "reactions": reactions(format!("{api}/issues/{n}/reactions")),
        "timeline_url": format!("{api}/issues/{n}/timeline"),
        "performed_via_github_app": null,
        "state_reason": null,
    });
    let comment = json!({
        "url": format!("{api}/issues/comments/{comment_id}"),
        "html_url": format!("{web}/pull/{n}#issuecomment-{comment_id}"),
        "issue_url": format!("{api}/issues/{n}"),
        "id": comment_id,
        "node_id": format!("IC_{comment_id}"),
        "user": user_like(&user_template, commenter),
        "created_at": now,
        "updated_at": now,
        "author_association": "MEMBER",
        "body": body,
        "reactions": reactions(format!("{api}/issues/comments/{comment_id}/reactions")),
        "performed_via_github_app": null,
    });
    let mut out = json!({
        "action": action,
        "issue": issue,
        "comment": comment,
        "repository": payload["repository"],
        "sender": payload["sender"],
        "installation": payload["installation"],
    });
    set_sender(&mut out, commenter);
    out
}

// ------------------------------------------------------------ checks

/// The check run a `check_run` payload is about.
#[derive(Clone, Debug)]
pub struct CheckRunSpec {
    pub repo: String,
    pub check_run_id: u64,
    pub name: String,
    pub head_sha: String,
    pub head_branch: String,
    /// Pull requests listed in the run (numbers; heads = this run's sha).
    pub pull_numbers: Vec<u64>,
    pub app_id: u64,
    pub installation_id: u64,
    /// Who clicked "Re-run" / the action button.
    pub sender: String,
}

impl Default for CheckRunSpec {
    fn default() -> Self {
        CheckRunSpec {
            repo: "octo/app".to_string(),
            check_run_id: 1,
            name: "hotfix-policy".to_string(),
            head_sha: PullSeed::default().head_sha,
            head_branch: PullSeed::default().head_ref,
            pull_numbers: vec![1],
            app_id: APP_ID,
            installation_id: 1,
            sender: "contributor".to_string(),
        }
    }
}

fn write_check_run(payload: &mut Value, spec: &CheckRunSpec) {
    retarget(payload, &spec.repo, "main", spec.installation_id);
    let api = format!("https://api.github.com/repos/{}", spec.repo);
    let repo_ref = json!({
        "id": payload["repository"]["id"],
        "url": api,
        "name": payload["repository"]["name"],
    });
    let pulls: Vec<Value> = spec
        .pull_numbers
        .iter()
        .map(|n| {
            json!({
                "url": format!("{api}/pulls/{n}"),
                "id": stable_id(&format!("{}#{n}", spec.repo)),
                "number": n,
                "head": {"ref": spec.head_branch, "sha": spec.head_sha, "repo": repo_ref},
                "base": {"ref": "main", "sha": fake_sha(&format!("base:{n}")), "repo": repo_ref},
            })
        })
        .collect();
    let run = &mut payload["check_run"];
    run["id"] = json!(spec.check_run_id);
    run["name"] = json!(spec.name);
    run["head_sha"] = json!(spec.head_sha);
    run["url"] = json!(format!("{api}/check-runs/{}", spec.check_run_id));
    run["html_url"] = json!(format!(
        "https://github.com/{}/runs/{}",
        spec.repo, spec.check_run_id
    ));
    run["pull_requests"] = json!(pulls);
    run["app"]["id"] = json!(spec.app_id);
    if run["app"].get("slug").is_some() || spec.app_id == APP_ID {
        run["app"]["slug"] = json!(if spec.app_id == APP_ID {
            APP_SLUG.to_string()
        } else {
            format!("other-app-{}", spec.app_id)
        });
    }
    let suite = &mut run["check_suite"];
    suite["head_sha"] = json!(spec.head_sha);
    suite["head_branch"] = json!(spec.head_branch);
    suite["after"] = json!(spec.head_sha);
    suite["pull_requests"] = json!(pulls);
    suite["app"]["id"] = json!(spec.app_id);
    set_sender(payload, &spec.sender);
}

/// `check_run` rerequested: someone clicked "Re-run" on the app's run.
pub fn check_run_rerequested(spec: &CheckRunSpec) -> Value {
    let mut payload = fixture("check_run.rerequested.json");
    payload["action"] = json!("rerequested");
    write_check_run(&mut payload, spec);
    payload
}

/// `check_run` requested_action: someone clicked the action button
/// `identifier`.
pub fn check_run_requested_action(spec: &CheckRunSpec, identifier: &str) -> Value {
    let mut payload = fixture("check_run.requested_action.json");
    payload["action"] = json!("requested_action");
    write_check_run(&mut payload, spec);
    payload["requested_action"] = json!({"identifier": identifier});
    payload
}

/// `check_suite` rerequested for `head_sha`.
pub fn check_suite_rerequested(
    repo: &str,
    head_sha: &str,
    head_branch: &str,
    installation_id: u64,
) -> Value {
    let mut payload = fixture("check_suite.rerequested.json");
    retarget(&mut payload, repo, "main", installation_id);
    let suite = &mut payload["check_suite"];
    suite["head_sha"] = json!(head_sha);
    suite["head_branch"] = json!(head_branch);
    suite["after"] = json!(head_sha);
    suite["app"]["id"] = json!(APP_ID);
    suite["head_commit"]["id"] = json!(head_sha);
    suite["pull_requests"] = json!([]);
    payload
}

/// `check_suite` requested for `head_sha`, as GitHub sends it when a push
/// creates this app's suite: queued, holding `runs` check runs (0 for a
/// freshly pushed commit: the proof the first check-run write may skip
/// its lookup on).
pub fn check_suite_requested(
    repo: &str,
    head_sha: &str,
    head_branch: &str,
    installation_id: u64,
    runs: u64,
) -> Value {
    let mut payload = check_suite_rerequested(repo, head_sha, head_branch, installation_id);
    payload["action"] = json!("requested");
    payload["check_suite"]["latest_check_runs_count"] = json!(runs);
    payload["check_suite"]["status"] = json!("queued");
    payload
}

// ------------------------------------------------------------ push

/// A `push` of one commit to `git_ref` ("refs/heads/main") that modifies
/// `changed` files. `repository.default_branch` is "main"; set it on the
/// returned value for other setups.
pub fn push_event(repo: &str, git_ref: &str, changed: &[&str], installation_id: u64) -> Value {
    let mut payload = fixture("push.json");
    retarget(&mut payload, repo, "main", installation_id);
    let before = fake_sha(&format!("before:{repo}:{git_ref}:{changed:?}"));
    let after = fake_sha(&format!("after:{repo}:{git_ref}:{changed:?}"));
    let now = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
    let author = json!({"name": "Hotfix Author", "email": "author@example.com", "username": "hotfix-author"});
    let commit = json!({
        "id": after,
        "tree_id": fake_sha(&format!("tree:{after}")),
        "distinct": true,
        "message": format!("Update {}", changed.join(", ")),
        "timestamp": now,
        "url": format!("https://github.com/{repo}/commit/{after}"),
        "author": author,
        "committer": author,
        "added": [],
        "removed": [],
        "modified": changed,
    });
    payload["ref"] = json!(git_ref);
    payload["before"] = json!(before);
    payload["after"] = json!(after);
    payload["created"] = json!(false);
    payload["deleted"] = json!(false);
    payload["forced"] = json!(false);
    payload["base_ref"] = Value::Null;
    payload["compare"] = json!(format!(
        "https://github.com/{repo}/compare/{}...{}",
        &before[..12],
        &after[..12]
    ));
    payload["commits"] = json!([commit.clone()]);
    payload["head_commit"] = commit;
    payload["pusher"] = json!({"name": "hotfix-author", "email": "author@example.com"});
    set_sender(&mut payload, "hotfix-author");
    payload
}
