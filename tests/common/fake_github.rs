//! An in-memory GitHub REST API for integration tests, in the spirit of
//! rust-lang/bors's test GitHub: the app's real octocrab client talks to it
//! over HTTP on loopback, and tests seed its state and assert on what the app
//! wrote there.
//!
//! It behaves like GitHub where the app could get it wrong: app JWTs and
//! installation tokens are checked, every GET carries an ETag and answers 304
//! to a matching `If-None-Match`, lists paginate with `Link` headers, writes
//! are validated (check-run limits, duplicate pull requests, existing refs),
//! and failures can be injected. Unknown routes answer 404 and are logged, so
//! a test can assert the app called nothing unexpected.
//!
//! ```ignore
//! let gh = FakeGitHub::start().await;
//! gh.set_branch("acme/shop", "main", "aaaa...");
//! gh.set_file("acme/shop", "main", ".github/hotfix-policy.yml", POLICY);
//! gh.add_pull("acme/shop", PullSeed { number: 7, labels: vec!["hotfix".into()], ..Default::default() });
//! // ... point the app at gh.url(), send it a webhook ...
//! let runs = gh.check_runs("acme/shop", &head_sha);
//! ```
#![allow(dead_code)]

mod activity;
mod auth;
mod author_edits;
mod deleted_fork;
mod evidence;
mod in_flight;
mod lag;
mod lists;
mod paging;
mod recovery;
mod routes;
mod seeds;
mod server;
mod shapes;
mod state;
mod state_events;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use chrono::{DateTime, Utc};
use jsonwebtoken::DecodingKey;
use serde_json::Value;

pub use state::{
    CheckRunRec, CheckRunSeed, CommentRec, DeliveryRec, InstallationRec, IssueRec, LabelEventRec,
    ManifestConversion, PullFileSeed, PullSeed, Recorded, ReviewRec,
};

use server::Inner;
use state::{CommitRec, Delay, Failure, PullRec, State, TeamRec};

/// The app id the fake accepts JWTs for (`iss`).
pub const APP_ID: u64 = 4242;
/// The app's slug; its bot user is `BOT_LOGIN`.
pub const APP_SLUG: &str = "hotfix-guard";
/// Author of everything the app writes (comments, pull requests, issues).
pub const BOT_LOGIN: &str = "hotfix-guard[bot]";

pub struct FakeGitHub {
    inner: Arc<Inner>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeGitHub {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeGitHub {
    /// Serves the API at the root, like api.github.com.
    pub async fn start() -> FakeGitHub {
        Self::start_with_prefix("").await
    }

    /// Serves the API under `prefix` only (GitHub Enterprise Server:
    /// "/api/v3"); requests outside it answer 404.
    pub async fn start_with_prefix(prefix: &str) -> FakeGitHub {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("fake GitHub cannot bind loopback: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("fake GitHub has no local address: {e}"));
        let public_pem = std::fs::read(super::webhook::TestKey::public_path())
            .unwrap_or_else(|e| panic!("cannot read the test app's public key: {e}"));
        let app_key = DecodingKey::from_rsa_pem(&public_pem)
            .unwrap_or_else(|e| panic!("the test app's public key is not an RSA PEM: {e}"));
        let prefix = prefix.trim_end_matches('/');
        let prefix = if prefix.is_empty() || prefix.starts_with('/') {
            prefix.to_string()
        } else {
            format!("/{prefix}")
        };
        let inner = Arc::new(Inner {
            state: Mutex::new(State::new()),
            origin: format!("http://{addr}"),
            prefix,
            app_key,
        });
        let app = Router::new()
            .fallback(server::dispatch)
            .with_state(inner.clone());
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("fake GitHub stopped: {e}");
            }
        });
        FakeGitHub { inner, server }
    }

    /// Base URL for the app's `GITHUB_API_URL`: origin plus prefix, no
    /// trailing slash.
    pub fn url(&self) -> String {
        format!("{}{}", self.inner.origin, self.inner.prefix)
    }

    /// `http://127.0.0.1:PORT`, without the prefix (where `html_url`s point).
    pub fn origin(&self) -> String {
        self.inner.origin.clone()
    }

    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.inner.lock())
    }

    // ------------------------------------------------------------ auth

    /// Installation tokens issued so far.
    pub fn tokens_issued(&self) -> usize {
        self.with(|s| s.tokens_issued)
    }

    /// Installation ids tokens were issued for, in order.
    pub fn token_installations(&self) -> Vec<u64> {
        self.with(|s| {
            let mut issued: Vec<_> = s
                .tokens
                .values()
                .map(|t| (t.expires_at, t.installation_id))
                .collect();
            issued.sort();
            issued.into_iter().map(|(_, id)| id).collect()
        })
    }

    /// Lifetime of tokens issued from now on (GitHub: one hour).
    pub fn set_token_lifetime(&self, lifetime: chrono::Duration) {
        self.with(|s| s.token_lifetime = lifetime);
    }

    /// Makes every issued token invalid: later calls with them get 401
    /// "Bad credentials", as after expiry or revocation.
    pub fn expire_tokens(&self) {
        self.with(|s| {
            let past = Utc::now() - chrono::Duration::seconds(1);
            s.tokens.values_mut().for_each(|t| t.expires_at = past);
        });
    }

    // ------------------------------------------------------------ request log

    pub fn requests(&self) -> Vec<Recorded> {
        self.with(|s| s.requests.clone())
    }

    pub fn clear_requests(&self) {
        self.with(|s| s.requests.clear());
    }

    /// Calls that count against the rate limit: everything except token
    /// issuance and 304 answers.
    pub fn api_calls(&self) -> usize {
        self.with(|s| {
            s.requests
                .iter()
                .filter(|r| r.status != 304 && !is_token_issuance(r))
                .count()
        })
    }

    /// Requests (any status, 304s included) with this method (any case; "*"
    /// for all) whose path contains `path_contains`.
    pub fn count(&self, method: &str, path_contains: &str) -> usize {
        self.with(|s| {
            s.requests
                .iter()
                .filter(|r| method == "*" || r.method.eq_ignore_ascii_case(method))
                .filter(|r| r.path.contains(path_contains))
                .count()
        })
    }

    /// Requests answered with `status` (e.g. 404 to find calls to routes
    /// the fake does not serve, or objects that do not exist).
    pub fn requests_with_status(&self, status: u16) -> Vec<Recorded> {
        self.with(|s| {
            s.requests
                .iter()
                .filter(|r| r.status == status)
                .cloned()
                .collect()
        })
    }

    /// Value of `x-ratelimit-remaining` the next answer would carry.
    pub fn rate_limit_remaining(&self) -> u64 {
        self.with(|s| s.rate_limit.saturating_sub(s.rate_used))
    }

    pub fn set_rate_limit(&self, limit: u64) {
        self.with(|s| s.rate_limit = limit);
    }

    // ------------------------------------------------------------ failures

    /// The next `times` requests with `method` ("*" for any) whose path
    /// contains `path_contains` get `status`, GitHub's error body for it, and
    /// `headers` (e.g. `retry-after`, `x-ratelimit-remaining: 0`). Checked
    /// before authentication, so token issuance can fail too.
    pub fn fail_next(
        &self,
        method: &str,
        path_contains: &str,
        status: u16,
        headers: Vec<(String, String)>,
        times: usize,
    ) {
        self.push_failure(method, path_contains, status, headers, None, times);
    }

    /// Like `fail_next`, with a body of the test's choosing.
    pub fn fail_next_with_body(
        &self,
        method: &str,
        path_contains: &str,
        status: u16,
        headers: Vec<(String, String)>,
        body: Value,
        times: usize,
    ) {
        self.push_failure(method, path_contains, status, headers, Some(body), times);
    }

    fn push_failure(
        &self,
        method: &str,
        path_contains: &str,
        status: u16,
        headers: Vec<(String, String)>,
        body: Option<Value>,
        times: usize,
    ) {
        self.with(|s| {
            s.failures.push(Failure {
                method: method.to_string(),
                path_contains: path_contains.to_string(),
                status,
                headers,
                body,
                remaining: times,
            })
        });
    }

    /// The next `times` matching requests are answered only after `delay`
    /// (to exercise client timeouts). The path is matched with the prefix.
    pub fn delay_next(&self, method: &str, path_contains: &str, delay: Duration, times: usize) {
        self.with(|s| {
            s.delays.push(Delay {
                method: method.to_string(),
                path_contains: path_contains.to_string(),
                delay,
                remaining: times,
            })
        });
    }

    // ------------------------------------------------------------ repositories

    /// Creates a repository (default branch "main", public). Seeding helpers
    /// create repositories on first mention too; this one makes it explicit.
    pub fn add_repo(&self, repo: &str) {
        self.with(|s| {
            s.repo_or_create(repo);
        });
    }

    pub fn set_default_branch(&self, repo: &str, branch: &str) {
        self.with(|s| s.repo_or_create(repo).default_branch = branch.to_string());
    }

    /// Marks an account as an organization (also done by the team helpers).
    pub fn add_org(&self, org: &str) {
        self.with(|s| {
            s.orgs.insert(org.to_ascii_lowercase());
        });
    }

    pub fn set_branch(&self, repo: &str, branch: &str, sha: &str) {
        self.with(|s| {
            s.repo_or_create(repo)
                .branches
                .insert(branch.to_string(), sha.to_string());
        });
    }

    pub fn remove_branch(&self, repo: &str, branch: &str) {
        self.with(|s| {
            s.repo_or_create(repo).branches.remove(branch);
        });
    }

    pub fn branch_sha(&self, repo: &str, branch: &str) -> Option<String> {
        self.with(|s| s.repo(repo).and_then(|r| r.branches.get(branch).cloned()))
    }

    /// A file's text at a ref: a branch name or a commit sha. A lookup by
    /// branch also finds files seeded under the sha it points at, and vice
    /// versa.
    pub fn set_file(&self, repo: &str, git_ref: &str, path: &str, text: &str) {
        self.with(|s| {
            s.repo_or_create(repo)
                .files
                .insert((git_ref.to_string(), path.to_string()), text.to_string());
        });
    }

    pub fn remove_file(&self, repo: &str, git_ref: &str, path: &str) {
        self.with(|s| {
            s.repo_or_create(repo)
                .files
                .remove(&(git_ref.to_string(), path.to_string()));
        });
    }

    pub fn set_tag(&self, repo: &str, tag: &str, sha: &str) {
        self.with(|s| {
            s.repo_or_create(repo)
                .tags
                .insert(tag.to_string(), sha.to_string());
        });
    }

    /// A tag's sha, including tags the app created with `POST /git/refs`.
    pub fn tag_sha(&self, repo: &str, tag: &str) -> Option<String> {
        self.with(|s| s.repo(repo).and_then(|r| r.tags.get(tag).cloned()))
    }

    /// `GET /commits/{sha}` answers `commit.committer.date` = `at` (default: now).
    pub fn set_commit_date(&self, repo: &str, sha: &str, at: DateTime<Utc>) {
        self.with(|s| {
            let r = s.repo_or_create(repo);
            let message = r
                .commits
                .get(sha)
                .map(|c| c.message.clone())
                .unwrap_or_else(|| format!("Commit {sha}"));
            r.commits
                .insert(sha.to_string(), CommitRec { date: at, message });
        });
    }

    /// How `head` relates to `base` in `GET /compare/{base}...{head}`:
    /// "ahead" | "behind" | "identical" | "diverged" (the default). Keys
    /// are matched as given, then as resolved shas.
    pub fn set_compare(&self, repo: &str, base: &str, head: &str, status: &str) {
        self.with(|s| {
            s.repo_or_create(repo)
                .compare
                .insert((base.to_string(), head.to_string()), status.to_string());
        });
    }

    /// A collaborator's role: "admin" | "maintain" | "write" | "triage" |
    /// "read" | "none". The answer's `permission` maps maintain→write and
    /// triage→read, like GitHub.
    pub fn set_permission(&self, repo: &str, login: &str, role: &str) {
        self.with(|s| {
            s.repo_or_create(repo)
                .permissions
                .insert(login.to_ascii_lowercase(), role.to_string());
        });
    }

    /// What users without `set_permission` get: `Some("none")` (default),
    /// `Some("read")` (public repository), or `None` for a 404
    /// "... is not a user".
    pub fn set_unknown_user_permission(&self, repo: &str, role: Option<&str>) {
        self.with(|s| s.repo_or_create(repo).unknown_user_permission = role.map(str::to_string));
    }

    // ------------------------------------------------------------ pull requests

    /// Adds a pull request. Its head and base branches are created (pointing
    /// at `head_sha` / `base_sha`) unless they already exist.
    pub fn add_pull(&self, repo: &str, mut pull: PullSeed) {
        self.with(|s| {
            let id = s.next_id();
            if pull.merged && pull.merged_at.is_none() {
                pull.merged_at = Some(Utc::now());
            }
            if let Some(head_repo) = pull.head_repo.clone() {
                s.repo_or_create(&head_repo)
                    .branches
                    .entry(pull.head_ref.clone())
                    .or_insert_with(|| pull.head_sha.clone());
            }
            let r = s.repo_or_create(repo);
            if pull.head_repo.is_none() {
                r.branches
                    .entry(pull.head_ref.clone())
                    .or_insert_with(|| pull.head_sha.clone());
            }
            r.branches
                .entry(pull.base_ref.clone())
                .or_insert_with(|| pull.base_sha.clone());
            r.pulls.insert(
                pull.number,
                PullRec {
                    id,
                    seed: pull,
                    files: Vec::new(),
                    reviews: Vec::new(),
                },
            );
        });
    }

    /// Changes a pull request in place (push a new head, merge, retitle...).
    /// Branches do not move with it: `set_branch` for that. Returns false
    /// when there is no such pull request.
    pub fn update_pull(&self, repo: &str, number: u64, f: impl FnOnce(&mut PullSeed)) -> bool {
        self.with(
            |s| match s.repo_mut(repo).and_then(|r| r.pulls.get_mut(&number)) {
                Some(pr) => {
                    f(&mut pr.seed);
                    true
                }
                None => false,
            },
        )
    }

    pub fn pull(&self, repo: &str, number: u64) -> Option<PullSeed> {
        self.with(|s| {
            s.repo(repo)
                .and_then(|r| r.pulls.get(&number))
                .map(|p| p.seed.clone())
        })
    }

    /// All pull requests, by number, including those the app opened.
    pub fn pulls(&self, repo: &str) -> Vec<PullSeed> {
        self.with(|s| {
            s.repo(repo)
                .map(|r| r.pulls.values().map(|p| p.seed.clone()).collect())
                .unwrap_or_default()
        })
    }

    pub fn set_labels(&self, repo: &str, number: u64, labels: &[&str]) {
        self.update_pull(repo, number, |p| {
            p.labels = labels.iter().map(|l| l.to_string()).collect();
        });
    }

    /// A review submitted now. `state` in either spelling ("approved" or
    /// "APPROVED"); stored as REST spells it. Returns the review id.
    pub fn add_review(
        &self,
        repo: &str,
        number: u64,
        user: &str,
        state: &str,
        commit_id: &str,
    ) -> u64 {
        self.add_review_at(repo, number, user, state, commit_id, Utc::now())
    }

    pub fn add_review_at(
        &self,
        repo: &str,
        number: u64,
        user: &str,
        state: &str,
        commit_id: &str,
        at: DateTime<Utc>,
    ) -> u64 {
        self.with(|s| {
            let id = s.next_id();
            let pr = pull_mut(s, repo, number);
            pr.reviews.push(ReviewRec {
                id,
                user: user.to_string(),
                state: state.to_ascii_uppercase(),
                commit_id: commit_id.to_string(),
                body: String::new(),
                submitted_at: at,
            });
            id
        })
    }

    /// E.g. "DISMISSED" after a dismissal.
    pub fn set_review_state(&self, repo: &str, number: u64, review_id: u64, state: &str) {
        self.with(|s| {
            let pr = pull_mut(s, repo, number);
            if let Some(review) = pr.reviews.iter_mut().find(|r| r.id == review_id) {
                review.state = state.to_ascii_uppercase();
            }
        });
    }

    pub fn reviews(&self, repo: &str, number: u64) -> Vec<ReviewRec> {
        self.with(|s| {
            s.repo(repo)
                .and_then(|r| r.pulls.get(&number))
                .map(|p| p.reviews.clone())
                .unwrap_or_default()
        })
    }

    /// `GET /pulls/{n}/files`. Items: `("path", additions, deletions)` or a
    /// full `PullFileSeed` (status, previous_filename, patch).
    pub fn set_pull_files<F: Into<PullFileSeed>>(
        &self,
        repo: &str,
        number: u64,
        files: impl IntoIterator<Item = F>,
    ) {
        let files: Vec<PullFileSeed> = files.into_iter().map(Into::into).collect();
        self.with(|s| pull_mut(s, repo, number).files = files);
    }

    // ------------------------------------------------------------ issues

    /// A comment on issue or pull request `number`, created now. Returns its id.
    pub fn add_comment(&self, repo: &str, number: u64, user: &str, body: &str) -> u64 {
        self.add_comment_at(repo, number, user, body, Utc::now())
    }

    pub fn add_comment_at(
        &self,
        repo: &str,
        number: u64,
        user: &str,
        body: &str,
        at: DateTime<Utc>,
    ) -> u64 {
        self.with(|s| {
            let id = s.next_id();
            s.repo_or_create(repo).comments.push(CommentRec {
                id,
                issue_number: number,
                user: user.to_string(),
                body: body.to_string(),
                created_at: at,
                updated_at: at,
            });
            id
        })
    }

    /// Comments on issue or pull request `number`, oldest first.
    pub fn comments(&self, repo: &str, number: u64) -> Vec<CommentRec> {
        self.with(|s| {
            s.repo(repo)
                .map(|r| {
                    r.comments
                        .iter()
                        .filter(|c| c.issue_number == number)
                        .cloned()
                        .collect()
                })
                .unwrap_or_default()
        })
    }

    /// How many times the comment was PATCHed.
    pub fn comment_edits(&self, comment_id: u64) -> usize {
        self.with(|s| s.comment_edits.get(&comment_id).copied().unwrap_or(0))
    }

    /// A `labeled` (added) or `unlabeled` event in `GET /issues/{n}/events`.
    pub fn add_label_event(
        &self,
        repo: &str,
        number: u64,
        label: &str,
        actor: &str,
        added: bool,
        at: DateTime<Utc>,
    ) -> u64 {
        self.with(|s| {
            let id = s.next_id();
            s.repo_or_create(repo).label_events.push(LabelEventRec {
                id,
                issue_number: number,
                label: label.to_string(),
                actor: actor.to_string(),
                added,
                created_at: at,
            });
            id
        })
    }

    /// Issues the app opened (`POST /issues`), by number.
    pub fn issues(&self, repo: &str) -> Vec<IssueRec> {
        self.with(|s| {
            s.repo(repo)
                .map(|r| r.issues.values().cloned().collect())
                .unwrap_or_default()
        })
    }

    // ------------------------------------------------------------ checks

    /// A check run that exists before the app acts. Returns its id.
    pub fn add_check_run(&self, repo: &str, seed: CheckRunSeed) -> u64 {
        self.with(|s| {
            let id = s.next_id();
            let now = Utc::now();
            let completed = seed.status == "completed";
            s.repo_or_create(repo).check_runs.push(CheckRunRec {
                id,
                name: seed.name,
                head_sha: seed.head_sha,
                status: seed.status,
                conclusion: seed.conclusion,
                title: seed.title,
                summary: seed.summary,
                text: None,
                annotations: Vec::new(),
                actions: Vec::new(),
                details_url: None,
                external_id: None,
                started_at: Some(now),
                completed_at: completed.then_some(now),
                app_id: seed.app_id,
                update_count: 0,
            });
            id
        })
    }

    /// Check runs on `head_sha`, oldest first.
    pub fn check_runs(&self, repo: &str, head_sha: &str) -> Vec<CheckRunRec> {
        self.with(|s| {
            s.repo(repo)
                .map(|r| {
                    r.check_runs
                        .iter()
                        .filter(|c| c.head_sha == head_sha)
                        .cloned()
                        .collect()
                })
                .unwrap_or_default()
        })
    }

    // ------------------------------------------------------------ teams

    /// An active member (role "member") of `org/slug`.
    pub fn add_team_member(&self, org: &str, slug: &str, login: &str) {
        self.set_team_membership(org, slug, login, "member", "active");
    }

    /// role: "member" | "maintainer"; state: "active" | "pending" (an
    /// invitation not yet accepted).
    pub fn set_team_membership(&self, org: &str, slug: &str, login: &str, role: &str, state: &str) {
        self.with(|s| {
            team_mut(s, org, slug).members.insert(
                login.to_ascii_lowercase(),
                (role.to_string(), state.to_string()),
            );
        });
    }

    /// A team with no members (membership lookups answer 404).
    pub fn add_team(&self, org: &str, slug: &str) {
        self.with(|s| {
            team_mut(s, org, slug);
        });
    }

    // ------------------------------------------------------------ app

    pub fn add_installation(&self, id: u64, account: &str) {
        self.with(|s| {
            let target_type = if s.is_org(account) {
                "Organization"
            } else {
                "User"
            };
            s.installations.push(InstallationRec {
                id,
                account: account.to_string(),
                target_type: target_type.to_string(),
            });
        });
    }

    /// A webhook delivery in `GET /app/hook/deliveries` (listed newest id
    /// first). `status_code` 0 means the delivery timed out.
    #[allow(clippy::too_many_arguments)]
    pub fn add_delivery(
        &self,
        id: u64,
        guid: &str,
        status_code: u16,
        redelivery: bool,
        delivered_at: DateTime<Utc>,
        event: &str,
        action: Option<&str>,
    ) {
        self.with(|s| {
            s.deliveries.push(DeliveryRec {
                id,
                guid: guid.to_string(),
                status_code,
                redelivery,
                delivered_at,
                event: event.to_string(),
                action: action.map(str::to_string),
                installation_id: None,
                repository_id: None,
            })
        });
    }

    /// Delivery ids the app asked GitHub to redeliver, in order.
    pub fn redelivery_attempts(&self) -> Vec<u64> {
        self.with(|s| s.redeliveries.clone())
    }

    /// Makes `code` convertible once by `POST /app-manifests/{code}/conversions`;
    /// returns what the conversion will answer (pem = the test private key).
    pub fn add_manifest_code(&self, code: &str) -> ManifestConversion {
        let pem = std::fs::read_to_string(super::webhook::TestKey::private_path())
            .unwrap_or_else(|e| panic!("cannot read the test app's private key: {e}"));
        let origin = self.origin();
        self.with(|s| {
            let conversion = ManifestConversion {
                id: APP_ID,
                slug: APP_SLUG.to_string(),
                name: APP_SLUG.to_string(),
                client_id: format!("Iv1.{}", &shapes::fake_sha(code)[..16]),
                client_secret: shapes::fake_sha(&format!("secret:{code}")),
                webhook_secret: shapes::fake_sha(&format!("webhook:{code}"))[..32].to_string(),
                pem,
                html_url: format!("{origin}/apps/{APP_SLUG}"),
            };
            s.manifests.insert(code.to_string(), conversion.clone());
            conversion
        })
    }
}

fn is_token_issuance(r: &Recorded) -> bool {
    r.method == "POST"
        && r.path.starts_with("/app/installations/")
        && r.path.ends_with("/access_tokens")
}

/// Seeding reviews or files on a pull request that was never added is a
/// mistake in the test, not a state to model.
fn pull_mut<'a>(s: &'a mut State, repo: &str, number: u64) -> &'a mut PullRec {
    match s.repo_mut(repo).and_then(|r| r.pulls.get_mut(&number)) {
        Some(pr) => pr,
        None => panic!("fake GitHub: no pull request {repo}#{number}; add_pull it first"),
    }
}

fn team_mut<'a>(s: &'a mut State, org: &str, slug: &str) -> &'a mut TeamRec {
    s.orgs.insert(org.to_ascii_lowercase());
    let key = (org.to_ascii_lowercase(), slug.to_ascii_lowercase());
    if !s.teams.contains_key(&key) {
        let id = s.next_id();
        s.teams.insert(
            key.clone(),
            TeamRec {
                id,
                ..TeamRec::default()
            },
        );
    }
    match s.teams.get_mut(&key) {
        Some(team) => team,
        None => unreachable!("inserted above"),
    }
}
