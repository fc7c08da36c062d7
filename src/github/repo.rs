//! The calls the app makes on one repository, in our own types.

use std::sync::Arc;

use secrecy::SecretString;
use serde::de::DeserializeOwned;

use super::error::{ErrorKind, GitHubError};
use super::http::{Call, Core, Credential, encode_path, query};
use super::memo::{Memo, Question};
use super::options::ClientOptions;
use super::stats::ApiStats;
mod evidence;
mod file;
pub use evidence::{CommitCheckRun, CommitStatus, DeploymentInfo};
pub use file::{FileRead, NotText};

use crate::pull::Pull;

use super::types::{
    BranchInfo, CheckOutput, CheckRunInfo, CheckRunUpdate, CommentInfo, CompareInfo, FileInfo,
    IssueInfo, IssueSummary, NewCheckRun, RepoInfo, ReviewInfo, Timeline, wire,
};

/// GitHub accepts at most this many annotations per check-run request.
const ANNOTATIONS_PER_REQUEST: usize = 50;
/// GitHub's limit on a check run's title, summary and text.
const OUTPUT_LIMIT: usize = 65_535;
/// The media type that makes the contents API answer with the file itself
/// (for files over 1 MB, whose JSON form has no content).
const RAW: &str = "application/vnd.github.raw+json";

/// One repository, as an installation (or a personal token) sees it.
#[derive(Clone)]
pub struct RepoClient {
    core: Arc<Core>,
    cred: Credential,
    memo: Arc<Memo>,
    /// Our app's id, to tell our check runs from another app's.
    app_id: Option<u64>,
    owner: String,
    repo: String,
    /// `/repos/{owner}/{repo}`, encoded.
    prefix: String,
    /// The app's bot login, for answers without `performed_via_github_app`.
    identity: Option<Arc<super::identity::AppIdentity>>,
}

impl std::fmt::Debug for RepoClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RepoClient")
            .field("owner", &self.owner)
            .field("repo", &self.repo)
            .field("scope", &self.cred.scope())
            .finish_non_exhaustive()
    }
}

impl RepoClient {
    pub(crate) fn new(
        core: Arc<Core>,
        cred: Credential,
        memo: Arc<Memo>,
        app_id: Option<u64>,
        owner: &str,
        repo: &str,
    ) -> RepoClient {
        RepoClient {
            core,
            cred,
            memo,
            app_id,
            prefix: format!(
                "/repos/{}/{}",
                encode_path(owner, false),
                encode_path(repo, false)
            ),
            owner: owner.to_string(),
            repo: repo.to_string(),
            identity: None,
        }
    }

    pub(crate) fn with_identity(
        mut self,
        identity: Arc<super::identity::AppIdentity>,
    ) -> RepoClient {
        self.identity = Some(identity);
        self
    }

    /// A read-mostly client on a personal token (`simulate --repo` with
    /// `GITHUB_TOKEN`). Must be called inside a Tokio runtime.
    pub fn with_token(
        api_url: &str,
        token: SecretString,
        owner: &str,
        repo: &str,
    ) -> Result<RepoClient, GitHubError> {
        RepoClient::with_token_and_options(api_url, token, owner, repo, ClientOptions::default())
    }

    pub fn with_token_and_options(
        api_url: &str,
        token: SecretString,
        owner: &str,
        repo: &str,
        opts: ClientOptions,
    ) -> Result<RepoClient, GitHubError> {
        let core = Core::new(api_url, opts.http, Arc::new(ApiStats::new()))?;
        Ok(RepoClient::new(
            Arc::new(core),
            Credential::Token(token),
            Arc::new(Memo::new(opts.membership_ttl, opts.membership_capacity)),
            None,
            owner,
            repo,
        ))
    }

    pub fn owner(&self) -> &str {
        &self.owner
    }

    pub fn name(&self) -> &str {
        &self.repo
    }

    /// `owner/name`.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.repo)
    }

    pub fn repo_name(&self) -> crate::events::RepoName {
        crate::events::RepoName {
            owner: self.owner.clone(),
            name: self.repo.clone(),
        }
    }

    /// Another repository of the same owner, with the same credentials
    /// (the organisation's `.github` repository).
    pub fn sibling(&self, repo: &str) -> RepoClient {
        let mut sibling = RepoClient::new(
            self.core.clone(),
            self.cred.clone(),
            self.memo.clone(),
            self.app_id,
            &self.owner,
            repo,
        );
        sibling.identity = self.identity.clone();
        sibling
    }

    /// Whether something GitHub says was `performed_via_github_app` with
    /// this id was written by this app. Markers the app reads back (sticky
    /// comment, escalations, follow-up issue) count only then: anyone can
    /// type an HTML comment, only the app's installation token makes GitHub
    /// name the app. A personal-token client (`simulate`) has no app and
    /// owns nothing.
    ///
    /// Where GitHub's answer leaves `performed_via_github_app` out (older
    /// Enterprise Server versions), the author `login` decides: it must be
    /// the app's bot, `<slug>[bot]` (`GET /app`, asked once per process and
    /// only then). A person's login cannot contain brackets.
    pub async fn wrote(&self, via_app: Option<u64>, login: &str) -> Result<bool, GitHubError> {
        let Some(ours) = self.app_id else {
            return Ok(false);
        };
        match via_app {
            Some(theirs) => Ok(theirs == ours),
            None if login.ends_with("[bot]") => match &self.identity {
                Some(identity) => Ok(identity.bot_login().await? == login),
                None => Ok(false),
            },
            None => Ok(false),
        }
    }

    /// The comments among `comments` that OPEN with `marker` (their first
    /// line starts with it, where the app writes its markers: see
    /// `report::markers::opens`; a marker quoted further down, say in a
    /// title the app's own comment quotes, does not count) and that this
    /// app wrote (see [`RepoClient::wrote`]), in their order.
    pub async fn own_marked<'c>(
        &self,
        comments: &'c [CommentInfo],
        marker: &str,
    ) -> Result<Vec<&'c CommentInfo>, GitHubError> {
        let mut ours = Vec::new();
        for c in comments
            .iter()
            .filter(|c| crate::report::markers::opens(&c.body, marker))
        {
            if self.wrote(c.via_app, &c.user).await? {
                ours.push(c);
            }
        }
        Ok(ours)
    }

    /// Counters of the requests sent through this client's app or token.
    pub fn stats(&self) -> Arc<ApiStats> {
        self.core.stats().clone()
    }

    async fn get<W: DeserializeOwned>(
        &self,
        route: &'static str,
        path: String,
    ) -> Result<W, GitHubError> {
        self.core.json(&self.cred, &Call::get(route, path)).await
    }

    /// A GET whose 404 means "there is none".
    async fn get_optional<W: DeserializeOwned>(
        &self,
        route: &'static str,
        path: String,
    ) -> Result<Option<W>, GitHubError> {
        match self.get(route, path).await {
            Ok(found) => Ok(Some(found)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn list<W: DeserializeOwned, T: From<W>>(
        &self,
        route: &'static str,
        path: String,
    ) -> Result<Vec<T>, GitHubError> {
        let items: Vec<W> = self.core.all_pages(&self.cred, route, path).await?;
        Ok(items.into_iter().map(T::from).collect())
    }

    async fn post<W: DeserializeOwned>(
        &self,
        route: &'static str,
        path: String,
        body: &serde_json::Value,
    ) -> Result<W, GitHubError> {
        self.core
            .json(&self.cred, &Call::post(route, path, body))
            .await
    }

    async fn patch<W: DeserializeOwned>(
        &self,
        route: &'static str,
        path: String,
        body: &serde_json::Value,
    ) -> Result<W, GitHubError> {
        self.core
            .json(&self.cred, &Call::patch(route, path, body))
            .await
    }

    // ---- metadata ----------------------------------------------------------

    /// `GET /repos/{owner}/{repo}`.
    pub async fn get_repo(&self) -> Result<RepoInfo, GitHubError> {
        let w: wire::Repo = self
            .get("GET /repos/{owner}/{repo}", self.prefix.clone())
            .await?;
        Ok(w.into())
    }

    /// `GET /repos/{owner}/{repo}/branches/{branch}`; `None` when there is
    /// no such branch.
    pub async fn get_branch(&self, name: &str) -> Result<Option<BranchInfo>, GitHubError> {
        let path = format!("{}/branches/{}", self.prefix, encode_path(name, true));
        let w: Option<wire::Branch> = self
            .get_optional("GET /repos/{owner}/{repo}/branches/{branch}", path)
            .await?;
        Ok(w.map(BranchInfo::from))
    }

    /// `GET /repos/{owner}/{repo}/compare/{base}...{head}`: how `head`
    /// stands relative to `base` (`ahead_by` commits in head not in base).
    pub async fn compare(&self, base: &str, head: &str) -> Result<CompareInfo, GitHubError> {
        // One commit a page: we only need the counts, not the commit list.
        let path = format!(
            "{}/compare/{}...{}?per_page=1",
            self.prefix,
            encode_path(base, true),
            encode_path(head, true)
        );
        let w: wire::Compare = self
            .get("GET /repos/{owner}/{repo}/compare/{base}...{head}", path)
            .await?;
        Ok(w.into())
    }

    /// `GET /repos/{owner}/{repo}/collaborators/{user}/permission`:
    /// `admin`, `write`, `read` or `none` (also when GitHub answers 404).
    /// Remembered by this client (one evaluation), never an error; askers
    /// at the same time share one request (`memo`).
    pub async fn collaborator_permission(&self, user: &str) -> Result<String, GitHubError> {
        let question = Question::permission(&self.owner, &self.repo, user);
        let load = async {
            let path = format!(
                "{}/collaborators/{}/permission",
                self.prefix,
                encode_path(user, false)
            );
            let w: Option<wire::Permission> = self
                .get_optional(
                    "GET /repos/{owner}/{repo}/collaborators/{user}/permission",
                    path,
                )
                .await?;
            Ok(w.map(|p| p.permission)
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| "none".to_string()))
        };
        self.memo.answer(self.cred.scope(), question, load).await
    }

    /// `GET /orgs/{org}/teams/{team_slug}/memberships/{user}`: whether
    /// `user` is an *active* member (a pending invitation is not). 404 →
    /// false. Remembered by this client (one evaluation), never an error;
    /// askers at the same time share one request (`memo`).
    pub async fn team_membership(
        &self,
        org: &str,
        slug: &str,
        user: &str,
    ) -> Result<bool, GitHubError> {
        let question = Question::team(org, slug, user);
        let load = async {
            let path = format!(
                "/orgs/{}/teams/{}/memberships/{}",
                encode_path(org, false),
                encode_path(slug, false),
                encode_path(user, false)
            );
            let w: Option<wire::Membership> = self
                .get_optional("GET /orgs/{org}/teams/{team_slug}/memberships/{user}", path)
                .await?;
            Ok(w.map(|m| m.state).unwrap_or_default())
        };
        let state = self.memo.answer(self.cred.scope(), question, load).await?;
        Ok(state == "active")
    }

    /// `GET /orgs/{org}/teams/{team_slug}/members`, every page: the logins of
    /// the team's *active* members (GitHub lists pending invitations
    /// separately; members of child teams are included, as in the
    /// membership API). A 404 (no such team, or not visible) is an empty
    /// team. One listing answers for any number of people, so an
    /// evaluation with many would-be approvers asks once per team instead
    /// of once per person.
    pub async fn list_team_members(
        &self,
        org: &str,
        slug: &str,
    ) -> Result<Vec<String>, GitHubError> {
        let path = format!(
            "/orgs/{}/teams/{}/members?per_page=100",
            encode_path(org, false),
            encode_path(slug, false)
        );
        let listed: Result<Vec<wire::User>, GitHubError> = self
            .core
            .all_pages(
                &self.cred,
                "GET /orgs/{org}/teams/{team_slug}/members",
                path,
            )
            .await;
        match listed {
            Ok(users) => Ok(users.into_iter().map(|u| u.login).collect()),
            Err(e) if e.is_not_found() => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// `GET /repos/{owner}/{repo}/collaborators?permission=push`, every page:
    /// the logins of everyone with write access or more (direct
    /// collaborators, through teams, and organisation members through the
    /// base permission). Someone not listed has less than write access.
    pub async fn list_writers(&self) -> Result<Vec<String>, GitHubError> {
        let users: Vec<wire::User> = self
            .core
            .all_pages(
                &self.cred,
                "GET /repos/{owner}/{repo}/collaborators",
                format!("{}/collaborators?permission=push&per_page=100", self.prefix),
            )
            .await?;
        Ok(users.into_iter().map(|u| u.login).collect())
    }

    // ---- contents ----------------------------------------------------------

    /// `GET /repos/{owner}/{repo}/contents/{path}?ref=`: the file's text at
    /// `git_ref` (the default branch when `None`), `None` when it does not
    /// exist there. A directory, a symbolic link, a submodule or a file that
    /// is not UTF-8 text is an error: for what only people with write access
    /// control. What a pull request's author controls (its head) is read
    /// with [`RepoClient::read_file`], where that is a fact.
    ///
    /// Every file the app reads (policy, version files) comes through
    /// `read_file`, so the text is normalised once, there: a leading UTF-8
    /// byte-order mark is dropped and CRLF line endings become LF.
    pub async fn get_file(
        &self,
        path: &str,
        git_ref: Option<&str>,
    ) -> Result<Option<String>, GitHubError> {
        self.read_file(path, git_ref).await?.into_text(path)
    }

    /// `GET /repos/{owner}/{repo}/git/ref/tags/{tag}`: the sha the tag points
    /// at (the tag object's, for an annotated tag), `None` when it does not
    /// exist.
    pub async fn tag_exists(&self, tag: &str) -> Result<Option<String>, GitHubError> {
        let path = format!("{}/git/ref/tags/{}", self.prefix, encode_path(tag, true));
        let w: Option<wire::GitRef> = self
            .get_optional("GET /repos/{owner}/{repo}/git/ref/tags/{tag}", path)
            .await?;
        Ok(w.map(|r| r.object.sha))
    }

    /// `POST /repos/{owner}/{repo}/git/refs`. `git_ref` is the full name
    /// (`refs/heads/merge-back/1.2.4`, `refs/tags/v1.2.4`). When it already
    /// exists the error's `is_already_exists()` is true.
    pub async fn create_ref(&self, git_ref: &str, sha: &str) -> Result<(), GitHubError> {
        let body = serde_json::json!({ "ref": git_ref, "sha": sha });
        let _: serde_json::Value = self
            .post(
                "POST /repos/{owner}/{repo}/git/refs",
                format!("{}/git/refs", self.prefix),
                &body,
            )
            .await?;
        Ok(())
    }

    /// `GET /repos/{owner}/{repo}/activity?ref=refs/heads/{branch}`, newest
    /// first, one page of 100: when GitHub's servers received the latest
    /// push (`push`, `force_push` or `branch_creation`) whose `after` is
    /// `sha`. The `timestamp` is GitHub's own receipt time, unlike a
    /// commit's dates, which the author's machine writes. `None` when no
    /// entry on that page made `sha` the branch's tip (an older push, or a
    /// head that lives in a fork), and when the server has no such API
    /// (404). Needs metadata read.
    pub async fn head_pushed_at(
        &self,
        branch: &str,
        sha: &str,
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>, GitHubError> {
        let git_ref = format!("refs/heads/{branch}");
        let path = format!(
            "{}/activity?{}",
            self.prefix,
            query(&[("ref", git_ref.as_str()), ("per_page", "100")])
        );
        // A server without the API (an older Enterprise Server) answers
        // 404: the push time is then unknown, not an error.
        let list: Option<Vec<wire::Activity>> = self
            .get_optional("GET /repos/{owner}/{repo}/activity", path)
            .await?;
        Ok(list
            .unwrap_or_default()
            .into_iter()
            .filter(|a| a.after == sha && a.git_ref == git_ref)
            .filter(|a| {
                matches!(
                    a.activity_type.as_str(),
                    "push" | "force_push" | "branch_creation"
                )
            })
            .filter_map(|a| a.timestamp)
            .max())
    }

    // ---- pull requests -----------------------------------------------------

    /// `GET /repos/{owner}/{repo}/pulls/{n}`.
    pub async fn get_pull(&self, number: u64) -> Result<Pull, GitHubError> {
        let w: wire::Pull = self
            .get(
                "GET /repos/{owner}/{repo}/pulls/{n}",
                format!("{}/pulls/{number}", self.prefix),
            )
            .await?;
        Ok(w.into())
    }

    /// `GET /repos/{owner}/{repo}/pulls/{n}/files`, all pages (GitHub stops
    /// at 3,000 files).
    pub async fn list_pull_files(&self, number: u64) -> Result<Vec<FileInfo>, GitHubError> {
        self.list::<wire::File, _>(
            "GET /repos/{owner}/{repo}/pulls/{n}/files",
            format!("{}/pulls/{number}/files?per_page=100", self.prefix),
        )
        .await
    }

    /// `GET /repos/{owner}/{repo}/pulls?head=&base=&state=`, all pages.
    /// `head` is `owner:branch`; `state` is `open`, `closed` or `all`.
    pub async fn list_pulls(
        &self,
        head: Option<&str>,
        base: Option<&str>,
        state: &str,
    ) -> Result<Vec<Pull>, GitHubError> {
        let mut pairs = vec![("state", state)];
        if let Some(head) = head {
            pairs.push(("head", head));
        }
        if let Some(base) = base {
            pairs.push(("base", base));
        }
        pairs.push(("per_page", "100"));
        self.list::<wire::Pull, _>(
            "GET /repos/{owner}/{repo}/pulls",
            format!("{}/pulls?{}", self.prefix, query(&pairs)),
        )
        .await
    }

    /// `POST /repos/{owner}/{repo}/pulls`. If one is already open for the
    /// same head and base, the error's `is_already_exists()` is true.
    pub async fn create_pull(
        &self,
        title: &str,
        head: &str,
        base: &str,
        body: &str,
    ) -> Result<Pull, GitHubError> {
        let payload =
            serde_json::json!({ "title": title, "head": head, "base": base, "body": body });
        let w: wire::Pull = self
            .post(
                "POST /repos/{owner}/{repo}/pulls",
                format!("{}/pulls", self.prefix),
                &payload,
            )
            .await?;
        Ok(w.into())
    }

    // ---- issues --------------------------------------------------------------

    /// `GET /repos/{owner}/{repo}/issues/{n}/comments`, all pages, oldest first.
    pub async fn list_issue_comments(&self, number: u64) -> Result<Vec<CommentInfo>, GitHubError> {
        self.list::<wire::Comment, _>(
            "GET /repos/{owner}/{repo}/issues/{n}/comments",
            format!("{}/issues/{number}/comments?per_page=100", self.prefix),
        )
        .await
    }

    /// `GET /repos/{owner}/{repo}/issues/{n}/comments`, oldest first, up to
    /// the page cap (never an error for length), each page read once: a
    /// list anyone can tear by deleting their own comment while it is read
    /// (an item may be missing). Read when the timeline kept changing, for
    /// the app's own sticky comment and markers, never for approvals.
    pub async fn list_issue_comments_unchecked(
        &self,
        number: u64,
    ) -> Result<Vec<CommentInfo>, GitHubError> {
        let (items, _cut): (Vec<wire::Comment>, bool) = self
            .core
            .pages_unchecked_up_to_cap(
                &self.cred,
                "GET /repos/{owner}/{repo}/issues/{n}/comments",
                format!("{}/issues/{number}/comments?per_page=100", self.prefix),
            )
            .await?;
        Ok(items.into_iter().map(CommentInfo::from).collect())
    }

    /// `GET /repos/{owner}/{repo}/issues/{n}/comments?since=`: the comments
    /// updated at or after `since` (GitHub's server time), oldest first:
    /// what was written after a moment, however many comments came before.
    pub async fn list_issue_comments_since(
        &self,
        number: u64,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<CommentInfo>, GitHubError> {
        self.list::<wire::Comment, _>(
            "GET /repos/{owner}/{repo}/issues/{n}/comments",
            format!(
                "{}/issues/{number}/comments?per_page=100&since={}",
                self.prefix,
                since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
        )
        .await
    }

    /// `GET /repos/{owner}/{repo}/issues?labels=&state=all`: issues (and
    /// pull requests) carrying all of `labels`, newest first, at most `limit`.
    pub async fn list_issues_labelled(
        &self,
        labels: &str,
        limit: usize,
    ) -> Result<Vec<IssueSummary>, GitHubError> {
        let items: Vec<wire::IssueSummary> = self
            .core
            .pages(
                &self.cred,
                "GET /repos/{owner}/{repo}/issues",
                format!(
                    "{}/issues?{}",
                    self.prefix,
                    query(&[("labels", labels), ("state", "all"), ("per_page", "100")])
                ),
                limit,
            )
            .await?;
        Ok(items.into_iter().map(IssueSummary::from).collect())
    }

    /// `GET /repos/{owner}/{repo}/issues/{n}/timeline`, all pages, oldest
    /// first: comments, submitted reviews and label events in one list.
    ///
    /// Never fails for length: past the page cap (100 pages of 100) the
    /// first items come back with `cut_after` set, and the caller reads
    /// what it needs from the shorter lists ([`RepoClient::issue_events`]).
    pub async fn timeline(&self, number: u64) -> Result<Timeline, GitHubError> {
        self.conversation(
            "GET /repos/{owner}/{repo}/issues/{n}/timeline",
            format!("{}/issues/{number}/timeline?per_page=100", self.prefix),
        )
        .await
    }

    /// `GET /repos/{owner}/{repo}/issues/{n}/events`, up to the page cap,
    /// oldest first: the issue events only (`labeled`, `unlabeled`,
    /// `closed`, `reopened` are kept), without comments or reviews. Read
    /// when the timeline was cut, so that comments posted in bulk cannot
    /// hide who set the severity and when. `cut_after` as for the timeline.
    pub async fn issue_events(&self, number: u64) -> Result<Timeline, GitHubError> {
        self.conversation(
            "GET /repos/{owner}/{repo}/issues/{n}/events",
            format!("{}/issues/{number}/events?per_page=100", self.prefix),
        )
        .await
    }

    /// `GET /repos/{owner}/{repo}/pulls/{n}/reviews`, up to the page cap,
    /// oldest first: submitted reviews (a pending one, which only its
    /// author sees, is dropped). Read when the timeline was cut, so that
    /// comments posted in bulk cannot hide a review. `true` when the list
    /// itself was cut.
    pub async fn list_reviews(&self, number: u64) -> Result<(Vec<ReviewInfo>, bool), GitHubError> {
        let (items, cut): (Vec<wire::Review>, bool) = self
            .core
            .pages_up_to_cap(
                &self.cred,
                "GET /repos/{owner}/{repo}/pulls/{n}/reviews",
                format!("{}/pulls/{number}/reviews?per_page=100", self.prefix),
            )
            .await?;
        let reviews = items
            .into_iter()
            .map(ReviewInfo::from)
            .filter(|r| r.state != "PENDING")
            .collect();
        Ok((reviews, cut))
    }

    async fn conversation(
        &self,
        route: &'static str,
        path: String,
    ) -> Result<Timeline, GitHubError> {
        let (items, cut): (Vec<serde_json::Value>, bool) =
            self.core.pages_up_to_cap(&self.cred, route, path).await?;
        let mut timeline = Timeline {
            cut_after: cut.then_some(items.len()),
            ..Timeline::default()
        };
        for item in items {
            timeline.push(item);
        }
        Ok(timeline)
    }

    /// `POST /repos/{owner}/{repo}/issues/{n}/comments`.
    pub async fn create_comment(
        &self,
        number: u64,
        body: &str,
    ) -> Result<CommentInfo, GitHubError> {
        let payload = serde_json::json!({ "body": body });
        let w: wire::Comment = self
            .post(
                "POST /repos/{owner}/{repo}/issues/{n}/comments",
                format!("{}/issues/{number}/comments", self.prefix),
                &payload,
            )
            .await?;
        Ok(w.into())
    }

    /// `PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}`.
    pub async fn update_comment(
        &self,
        comment_id: u64,
        body: &str,
    ) -> Result<CommentInfo, GitHubError> {
        let payload = serde_json::json!({ "body": body });
        let w: wire::Comment = self
            .patch(
                "PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}",
                format!("{}/issues/comments/{comment_id}", self.prefix),
                &payload,
            )
            .await?;
        Ok(w.into())
    }

    /// `POST /repos/{owner}/{repo}/issues/{n}/labels` (listed in
    /// docs/contracts.md; needs issues or pull requests write).
    pub async fn add_labels(&self, number: u64, labels: &[String]) -> Result<(), GitHubError> {
        let payload = serde_json::json!({ "labels": labels });
        let _: serde_json::Value = self
            .post(
                "POST /repos/{owner}/{repo}/issues/{n}/labels",
                format!("{}/issues/{number}/labels", self.prefix),
                &payload,
            )
            .await?;
        Ok(())
    }

    /// `POST /repos/{owner}/{repo}/issues` (the follow-up issue).
    pub async fn create_issue(
        &self,
        title: &str,
        body: &str,
        labels: &[String],
        assignees: &[String],
    ) -> Result<IssueInfo, GitHubError> {
        let payload = serde_json::json!({
            "title": title, "body": body, "labels": labels, "assignees": assignees,
        });
        let w: wire::Issue = self
            .post(
                "POST /repos/{owner}/{repo}/issues",
                format!("{}/issues", self.prefix),
                &payload,
            )
            .await?;
        Ok(w.into())
    }

    // ---- checks ------------------------------------------------------------

    /// `GET /repos/{owner}/{repo}/commits/{sha}/check-runs?check_name=`: the
    /// newest check run called `name` on `sha` that belongs to our app (its
    /// `app.id`; any app's, for a token client).
    pub async fn find_check_run(
        &self,
        sha: &str,
        name: &str,
    ) -> Result<Option<CheckRunInfo>, GitHubError> {
        let path = format!(
            "{}/commits/{}/check-runs?{}",
            self.prefix,
            encode_path(sha, true),
            query(&[("check_name", name), ("per_page", "100")])
        );
        let list: wire::CheckRunList = self
            .get("GET /repos/{owner}/{repo}/commits/{sha}/check-runs", path)
            .await?;
        Ok(list
            .check_runs
            .into_iter()
            .map(CheckRunInfo::from)
            .filter(|run| run.name == name)
            // An app client owns only runs GitHub says its app made; a
            // run that does not say is not ours.
            .filter(|run| match self.app_id {
                Some(ours) => run.app_id == Some(ours),
                None => true,
            })
            .max_by_key(|run| run.id))
    }

    /// `POST /repos/{owner}/{repo}/check-runs`, then as many `PATCH`es as
    /// it takes to add annotations beyond the first 50.
    pub async fn create_check_run(&self, run: &NewCheckRun) -> Result<CheckRunInfo, GitHubError> {
        let (output, rest) = split_output(run.output.as_ref());
        let mut payload = to_value(run)?;
        set_output(&mut payload, output.as_ref())?;
        let w: wire::CheckRun = self
            .post(
                "POST /repos/{owner}/{repo}/check-runs",
                format!("{}/check-runs", self.prefix),
                &payload,
            )
            .await?;
        let created = CheckRunInfo::from(w);
        let last = self
            .add_annotations(created.id, output.as_ref(), &rest)
            .await?;
        Ok(last.unwrap_or(created))
    }

    /// `PATCH /repos/{owner}/{repo}/check-runs/{id}`, then more `PATCH`es for
    /// annotations beyond the first 50.
    pub async fn update_check_run(
        &self,
        id: u64,
        update: &CheckRunUpdate,
    ) -> Result<CheckRunInfo, GitHubError> {
        let (output, rest) = split_output(update.output.as_ref());
        let mut payload = to_value(update)?;
        set_output(&mut payload, output.as_ref())?;
        let w: wire::CheckRun = self
            .patch(
                "PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}",
                format!("{}/check-runs/{id}", self.prefix),
                &payload,
            )
            .await?;
        let updated = CheckRunInfo::from(w);
        let last = self.add_annotations(id, output.as_ref(), &rest).await?;
        Ok(last.unwrap_or(updated))
    }

    /// Sends the annotations after the first batch, 50 a request (GitHub
    /// appends them). Returns the check run as the last request left it.
    async fn add_annotations(
        &self,
        id: u64,
        first: Option<&CheckOutput>,
        rest: &[super::types::Annotation],
    ) -> Result<Option<CheckRunInfo>, GitHubError> {
        let Some(first) = first else {
            return Ok(None);
        };
        let mut last = None;
        for chunk in rest.chunks(ANNOTATIONS_PER_REQUEST) {
            // title and summary are required whenever output is sent.
            let output = CheckOutput {
                title: first.title.clone(),
                summary: first.summary.clone(),
                text: None,
                annotations: chunk.to_vec(),
            };
            let payload = serde_json::json!({ "output": output });
            let w: wire::CheckRun = self
                .patch(
                    "PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}",
                    format!("{}/check-runs/{id}", self.prefix),
                    &payload,
                )
                .await?;
            last = Some(CheckRunInfo::from(w));
        }
        Ok(last)
    }
}

/// The output to send first (texts cut to GitHub's limits, at most 50
/// annotations) and the annotations left over.
fn split_output(
    output: Option<&CheckOutput>,
) -> (Option<CheckOutput>, Vec<super::types::Annotation>) {
    let Some(output) = output else {
        return (None, Vec::new());
    };
    let mut first = CheckOutput {
        title: cut(&output.title, OUTPUT_LIMIT),
        summary: cut(&output.summary, OUTPUT_LIMIT),
        text: output.text.as_deref().map(|t| cut(t, OUTPUT_LIMIT)),
        annotations: output.annotations.clone(),
    };
    let rest = if first.annotations.len() > ANNOTATIONS_PER_REQUEST {
        first.annotations.split_off(ANNOTATIONS_PER_REQUEST)
    } else {
        Vec::new()
    };
    (Some(first), rest)
}

fn to_value<T: serde::Serialize>(value: &T) -> Result<serde_json::Value, GitHubError> {
    serde_json::to_value(value)
        .map_err(|e| GitHubError::new(ErrorKind::Decode(e.to_string()), "encoding a check run"))
}

fn set_output(
    payload: &mut serde_json::Value,
    output: Option<&CheckOutput>,
) -> Result<(), GitHubError> {
    if let (Some(map), Some(output)) = (payload.as_object_mut(), output) {
        map.insert("output".to_string(), to_value(output)?);
    }
    Ok(())
}

/// A file's text as the app reads it: without a leading UTF-8 byte-order
/// mark (npm, node and Python accept one), with CRLF (and lone CR) line
/// endings turned into LF.
pub fn normalise_text(text: String) -> String {
    let text = match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    };
    if text.contains('\r') {
        text.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        text
    }
}

/// `text` cut to at most `limit` bytes, on a character boundary.
fn cut(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_string();
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_loses_its_bom_and_crlf_once() {
        assert_eq!(
            normalise_text("\u{feff}{\"version\": \"1.2.3\"}\r\n".into()),
            "{\"version\": \"1.2.3\"}\n"
        );
        assert_eq!(normalise_text("a\rb".into()), "a\nb");
        // Only a leading mark is one; a second is content.
        assert_eq!(normalise_text("\u{feff}\u{feff}x".into()), "\u{feff}x");
        assert_eq!(normalise_text("plain\n".into()), "plain\n");
    }

    #[test]
    fn cut_respects_char_boundaries() {
        assert_eq!(cut("héllo", 2), "h");
        assert_eq!(cut("héllo", 3), "hé");
        assert_eq!(cut("abc", 10), "abc");
    }
}
