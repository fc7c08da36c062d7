//! Webhook payloads → what to do. Parses only the fields the app uses, all of
//! them optional where GitHub has ever omitted them (older deliveries lack
//! fields, Enterprise Server adds some), and lets serde skip everything else
//! without building it: a 30 KB `pull_request` delivery becomes a few small
//! strings.

use serde::{Deserialize, Serialize};

use crate::policy::POLICY_PATH;
use crate::pull::{DELETED_USER, Login, Pull};

/// The check run this app owns on every pull request head.
pub const CHECK_NAME: &str = "hotfix-policy";
/// The check run that tracks the merge back into `develop`.
pub const MERGE_BACK_CHECK_NAME: &str = "hotfix-policy/merge-back";
/// The branch a merge-back pull request comes from: this prefix and the
/// hotfix's number.
pub const MERGE_BACK_PREFIX: &str = "hotfix-guard/merge-back-";
/// The identifier of the check run's "Re-check" button.
pub const RECHECK_ACTION: &str = "recheck";

/// A repository, as `owner` and `name`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepoName {
    pub owner: String,
    pub name: String,
}

impl std::fmt::Display for RepoName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// One pull request in one installation: the unit of evaluation. Two workers
/// never evaluate the same key at once.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PrKey {
    pub installation: u64,
    pub repo: RepoName,
    pub number: u64,
}

/// Why a pull request is to be evaluated, as far as the engine cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// Anything that may change the verdict: evaluate fully.
    Full,
    /// A new comment (or a deleted one): only worth an evaluation when its
    /// body is the policy's approval command, which only the engine knows.
    Comment { body: String },
    /// Someone asked for a re-run (`check_run.rerequested`,
    /// `check_suite.rerequested`, the Re-check button): evaluate fully and
    /// write the check run even when the verdict is unchanged, so that the
    /// re-run visibly happens.
    Rerun,
    /// Commits whose checks, statuses or deployments changed: re-evaluate
    /// the open hotfix pull requests whose head they are. Carried by a
    /// repository-level job (`PrKey::number` is [`COMMITS_JOB`]).
    Commits(CommitWork),
}

/// The `PrKey::number` of a repository's commit job: GitHub numbers pull
/// requests from 1, so 0 never names one. All commit events of a
/// repository fold into one job.
pub const COMMITS_JOB: u64 = 0;

/// Commits folded into one repository job at most; past that the job
/// re-evaluates every open hotfix of the repository instead (nothing lost).
pub const MAX_COMMITS: usize = 256;

/// What a repository's commit job must look at.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommitWork {
    /// Head commits whose evidence changed, each with the pull requests the
    /// delivery named (`check_run.pull_requests`; empty for forks, and for
    /// `status` and `deployment_status`, which name none: then `GET
    /// /repos/{o}/{r}/commits/{sha}/pulls` finds them).
    pub commits: std::collections::BTreeMap<String, Vec<u64>>,
    /// More than `MAX_COMMITS` arrived: re-evaluate every open hotfix.
    pub overflow: bool,
    /// Branch pushes to audit (`audit.direct_pushes`), oldest first.
    pub pushes: Vec<PushAudit>,
    /// A push changed the policy file on the default branch: every open
    /// pull request of the repository (`GET /pulls?state=open`) is
    /// evaluated again, since each one's check was judged by the old policy
    /// (all of them failed while it was invalid), and a deadline becomes
    /// watched for a hotfix opened while it could not be read.
    pub policy_changed: bool,
}

/// Commits of a push named in the audit at most (the payload lists at most
/// 20 anyway, and `distinct` ones only).
pub const MAX_PUSH_COMMITS: usize = 20;

/// A push to a branch, as the `push` delivery describes it: the engine
/// decides whether it went to the production branch around every pull
/// request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushAudit {
    /// The branch, without `refs/heads/`.
    pub branch: String,
    /// The branch's commit before and after the push (`before`, `after`).
    pub before: String,
    pub after: String,
    /// `forced`: the push rewrote the branch's history.
    pub forced: bool,
    /// Who pushed: `sender.login` (GitHub's account, not the git author).
    pub pusher: String,
    /// `(id, first line of message)` of the pushed commits, oldest first.
    pub commits: Vec<(String, String)>,
    /// The push changed the policy file: the audit also consults the
    /// policy as it was before the push, so a push cannot switch off its
    /// own audit.
    pub touches_policy: bool,
}

impl CommitWork {
    /// Folds `later` in: commits and pushes are kept once each, commits
    /// within `MAX_COMMITS` (past it, `overflow`, which re-evaluates every
    /// open hotfix: nothing lost). Every push is kept: each is an audit no
    /// other work stands in for, and each is a durable row (`commit_work`)
    /// until its audit ran, so none is ever evicted.
    pub fn absorb(&mut self, later: CommitWork) {
        self.overflow |= later.overflow;
        self.policy_changed |= later.policy_changed;
        for push in later.pushes {
            if !self.pushes.contains(&push) {
                self.pushes.push(push);
            }
        }
        for (sha, pulls) in later.commits {
            if self.commits.len() >= MAX_COMMITS && !self.commits.contains_key(&sha) {
                self.overflow = true;
                continue;
            }
            let known = self.commits.entry(sha).or_default();
            for n in pulls {
                if !known.contains(&n) {
                    known.push(n);
                }
            }
        }
    }
}

/// Work for the engine: one pull request, with the freshest snapshot the
/// deliveries carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub key: PrKey,
    pub pull: Option<Pull>,
    pub trigger: Trigger,
    /// The `X-GitHub-Delivery` ids folded into this job (the latest few),
    /// so that the evaluation's logs name the deliveries behind it.
    pub deliveries: Vec<String>,
}

/// How many delivery ids a coalesced job remembers for its logs.
const DELIVERIES_KEPT: usize = 8;

impl Job {
    /// Full evaluations of the pull requests `numbers` of `key`'s
    /// repository and installation, once each, in ascending order, never
    /// the repository's commit job (`COMMITS_JOB`): what a commit job
    /// queues for the pull requests it concerns.
    pub fn full_evaluations(key: &PrKey, mut numbers: Vec<u64>) -> Vec<Job> {
        numbers.sort_unstable();
        numbers.dedup();
        numbers.retain(|n| *n != COMMITS_JOB);
        numbers
            .into_iter()
            .map(|number| Job {
                key: PrKey {
                    installation: key.installation,
                    repo: key.repo.clone(),
                    number,
                },
                pull: None,
                trigger: Trigger::Full,
                deliveries: Vec::new(),
            })
            .collect()
    }

    /// Folds a later delivery for the same pull request into this job, so
    /// that a burst costs one evaluation that sees the final state.
    pub fn absorb(&mut self, later: Job) {
        self.pull = match (self.pull.take(), later.pull) {
            (Some(a), Some(b)) => Some(if newer(&a, &b) { a } else { b }),
            (a, b) => b.or(a),
        };
        self.trigger = match (
            std::mem::replace(&mut self.trigger, Trigger::Full),
            later.trigger,
        ) {
            (Trigger::Comment { body: a }, Trigger::Comment { body: b }) if a == b => {
                Trigger::Comment { body: b }
            }
            (Trigger::Commits(mut a), Trigger::Commits(b)) => {
                a.absorb(b);
                Trigger::Commits(a)
            }
            // A re-run asked for is owed whatever else arrives.
            (Trigger::Rerun, _) | (_, Trigger::Rerun) => Trigger::Rerun,
            // Two different comments, or anything else: evaluate fully.
            _ => Trigger::Full,
        };
        self.deliveries.extend(later.deliveries);
        let excess = self.deliveries.len().saturating_sub(DELIVERIES_KEPT);
        self.deliveries.drain(..excess);
    }
}

/// True when `a` is strictly newer than `b` (deliveries may arrive out of order).
fn newer(a: &Pull, b: &Pull) -> bool {
    match (a.updated_at, b.updated_at) {
        (Some(x), Some(y)) => x > y,
        _ => false,
    }
}

/// What a delivery asks of the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intake {
    Ping,
    /// Not acted on; the reason is logged and answered.
    Ignored(&'static str),
    /// One job per pull request concerned (a check suite may span several).
    Evaluate(Vec<Job>),
    /// `check_suite.requested` with no run in the suite yet: GitHub created
    /// this app's suite for `sha`, first pushed now (`Store::record_fresh_suite`).
    FreshSuite {
        repo: RepoName,
        sha: String,
    },
    /// A push to a default branch changed the policy file: drop the cache.
    PolicyChanged {
        repo: RepoName,
        /// The push's audit job (`audit.direct_pushes`), queued after the
        /// cache is dropped.
        audit: Option<Job>,
        /// The installation and the default branch pushed to: hotfixes
        /// whose merge-back waits on that branch (a Git Flow `develop` that
        /// is the default branch, merged back by hand) are evaluated again,
        /// after the cache is dropped. `None` without an installation.
        pushed: Option<(u64, String)>,
    },
    /// A push to a branch (the default one too, when the push leaves the
    /// policy file alone): hotfixes whose merge-back waits on it are
    /// evaluated again.
    BranchPushed {
        installation: u64,
        repo: RepoName,
        branch: String,
        /// The push's audit job (the production branch need not be the
        /// default one).
        audit: Option<Job>,
    },
}

/// Fields for the delivery's log span, read from the same parse.
#[derive(Debug, Default, Clone)]
pub struct Describe {
    pub action: Option<String>,
    pub repository: Option<String>,
    pub number: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct Envelope {
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    installation: Option<Installation>,
    #[serde(default)]
    repository: Option<Repository>,
    #[serde(default)]
    pull_request: Option<Pull>,
    #[serde(default)]
    changes: Option<Changes>,
    #[serde(default)]
    issue: Option<Issue>,
    #[serde(default)]
    comment: Option<IssueComment>,
    #[serde(default)]
    check_run: Option<CheckRun>,
    #[serde(default)]
    check_suite: Option<CheckSuite>,
    #[serde(default)]
    requested_action: Option<RequestedAction>,
    // status
    #[serde(default)]
    sha: Option<String>,
    // deployment_status
    #[serde(default)]
    deployment: Option<Deployment>,
    // push
    #[serde(default, rename = "ref")]
    git_ref: Option<String>,
    #[serde(default)]
    commits: Vec<PushCommit>,
    #[serde(default)]
    deleted: bool,
    #[serde(default)]
    head_commit: Option<PushCommit>,
    #[serde(default)]
    before: Option<String>,
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    forced: bool,
    #[serde(default)]
    sender: Option<Login>,
}

#[derive(Debug, Deserialize)]
struct Installation {
    id: u64,
}

#[derive(Debug, Deserialize)]
struct Repository {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    full_name: Option<String>,
    #[serde(default)]
    owner: Option<Owner>,
    #[serde(default)]
    default_branch: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Owner {
    // Old deliveries name organisations by `name` only.
    #[serde(default)]
    login: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Changes {
    #[serde(default)]
    title: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    base: Option<serde::de::IgnoredAny>,
}

#[derive(Debug, Deserialize)]
struct Issue {
    number: u64,
    #[serde(default)]
    pull_request: Option<serde::de::IgnoredAny>,
}

#[derive(Debug, Deserialize)]
struct IssueComment {
    #[serde(default)]
    body: Option<String>,
}

#[derive(Debug, Deserialize)]
struct CheckRun {
    #[serde(default)]
    name: String,
    #[serde(default)]
    head_sha: Option<String>,
    #[serde(default)]
    pull_requests: Vec<PrRef>,
    /// The run's `external_id`, which this app writes (`hotfix-pr:N`,
    /// `pr:N`) and only this app can change: it names the pull request
    /// when `pull_requests` is empty (a head in a fork).
    #[serde(default)]
    external_id: Option<String>,
}

/// The pull request a run of this app names in its `external_id`
/// (`hotfix-pr:N`, `pr:N`, or `merge-back:N` for the merge-back check of
/// hotfix N, as `engine::publish::RunOwner` writes it); `None` for any
/// other text.
fn run_pull_number(external_id: &str) -> Option<u64> {
    let number = external_id
        .strip_prefix("hotfix-pr:")
        .or_else(|| external_id.strip_prefix("pr:"))
        .or_else(|| external_id.strip_prefix("merge-back:"))?;
    number.parse().ok().filter(|n| *n > 0)
}

#[derive(Debug, Deserialize)]
struct CheckSuite {
    #[serde(default)]
    head_sha: Option<String>,
    /// Runs in the suite when GitHub sent the delivery.
    #[serde(default)]
    latest_check_runs_count: Option<u64>,
    #[serde(default)]
    pull_requests: Vec<PrRef>,
}

#[derive(Debug, Deserialize)]
struct Deployment {
    #[serde(default)]
    sha: Option<String>,
}

#[derive(Debug, Deserialize)]
struct PrRef {
    number: u64,
}

#[derive(Debug, Deserialize)]
struct RequestedAction {
    #[serde(default)]
    identifier: String,
}

#[derive(Debug, Deserialize)]
struct PushCommit {
    #[serde(default)]
    id: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    added: Vec<String>,
    #[serde(default)]
    modified: Vec<String>,
    #[serde(default)]
    removed: Vec<String>,
}

/// Commits a push delivery lists at most (GitHub: "a maximum of 2048
/// commits"); past it the list cannot say what the push changed.
const PUSH_COMMITS_LISTED: usize = 2048;

impl PushCommit {
    /// Lists no file: GitHub leaves `added`, `modified` and `removed` empty
    /// for a commit too large to list ("may be empty even if files were
    /// modified"), so it may have changed any file.
    fn lists_nothing(&self) -> bool {
        self.added.is_empty() && self.modified.is_empty() && self.removed.is_empty()
    }

    fn touches(&self, path: &str) -> bool {
        [&self.added, &self.modified, &self.removed]
            .into_iter()
            .flatten()
            .any(|p| p == path)
    }
}

impl Repository {
    fn repo_name(&self) -> Option<RepoName> {
        let owner = self
            .owner
            .as_ref()
            .and_then(|o| o.login.clone().or_else(|| o.name.clone()));
        match (owner, &self.name) {
            (Some(owner), Some(name)) => Some(RepoName {
                owner,
                name: name.clone(),
            }),
            _ => {
                let (owner, name) = self.full_name.as_deref()?.split_once('/')?;
                Some(RepoName {
                    owner: owner.to_string(),
                    name: name.to_string(),
                })
            }
        }
    }
}

/// The body was not a JSON object the app can read.
#[derive(Debug, thiserror::Error)]
#[error("body is not a JSON webhook payload: {0}")]
pub struct NotJson(#[from] serde_json::Error);

/// Decides what a delivery of `event` asks for.
pub fn classify(event: &str, body: &[u8]) -> Result<(Intake, Describe), NotJson> {
    let envelope: Envelope = serde_json::from_slice(body)?;
    let describe = Describe {
        action: envelope.action.clone(),
        repository: envelope
            .repository
            .as_ref()
            .and_then(Repository::repo_name)
            .map(|r| r.to_string()),
        number: envelope
            .pull_request
            .as_ref()
            .map(|p| p.number)
            .or(envelope.issue.as_ref().map(|i| i.number)),
    };
    Ok((intake(event, envelope), describe))
}

fn intake(event: &str, e: Envelope) -> Intake {
    use Intake::Ignored;
    if event == "ping" {
        return Intake::Ping;
    }
    let action = e.action.as_deref().unwrap_or("");
    let Some(repo) = e.repository.as_ref().and_then(Repository::repo_name) else {
        return Ignored("no repository in the payload");
    };
    if event == "push" {
        let default_ref = e
            .repository
            .as_ref()
            .and_then(|r| r.default_branch.as_deref())
            .map(|b| format!("refs/heads/{b}"));
        let on_default = default_ref.is_some() && e.git_ref == default_ref;
        // What the push shows is not always all it changed: a commit too
        // large to list shows no file, the list stops at 2,048 commits, and
        // a force-push that rewinds the branch lists none. On the default
        // branch such a push may have changed the policy, and counts as
        // changing it (fail closed: a needless re-evaluation costs calls, a
        // stale policy judges wrongly).
        let may_hide = e.forced
            || e.commits.len() >= PUSH_COMMITS_LISTED
            || e.commits.iter().any(PushCommit::lists_nothing)
            || e.head_commit
                .as_ref()
                .is_some_and(PushCommit::lists_nothing);
        let touches = e.commits.iter().any(|c| c.touches(POLICY_PATH))
            || e.head_commit
                .as_ref()
                .is_some_and(|c| c.touches(POLICY_PATH))
            || (on_default && may_hide && !e.deleted);
        let branch = e
            .git_ref
            .as_deref()
            .and_then(|r| r.strip_prefix("refs/heads/"));
        let audit = push_audit(&e, &repo, branch, touches);
        return match (on_default && touches, branch, e.installation.as_ref()) {
            (true, branch, installation) => Intake::PolicyChanged {
                audit: audit.map(|mut job| {
                    if let Trigger::Commits(work) = &mut job.trigger {
                        work.policy_changed = true;
                    }
                    job
                }),
                repo,
                pushed: installation
                    .zip(branch)
                    .filter(|_| !e.deleted)
                    .map(|(i, b)| (i.id, b.to_string())),
            },
            // A branch moved: it may be a develop branch that now contains
            // a merged hotfix (the merge-back done by hand), the default
            // branch included (Git Flow with `develop` as the default).
            (false, Some(branch), Some(installation)) if !e.deleted => Intake::BranchPushed {
                installation: installation.id,
                repo,
                branch: branch.to_string(),
                audit,
            },
            _ => match audit {
                Some(job) => Intake::Evaluate(vec![job]),
                None => Ignored("push does not change the policy on the default branch"),
            },
        };
    }
    let Some(installation) = e.installation.as_ref().map(|i| i.id) else {
        return Ignored("no installation in the payload");
    };
    let make = |number: u64, pull: Option<Pull>, trigger: Trigger| Job {
        key: PrKey {
            installation,
            repo: repo.clone(),
            number,
        },
        pull,
        trigger,
        deliveries: Vec::new(),
    };
    let job = |number, pull, trigger| Intake::Evaluate(vec![make(number, pull, trigger)]);
    // Evidence changed on a commit: the repository's commit job finds the
    // hotfixes whose head it is.
    let commit = |sha: Option<String>, prs: Vec<PrRef>| match sha.filter(|s| is_sha(s)) {
        Some(sha) => {
            let mut work = CommitWork::default();
            work.commits
                .insert(sha, prs.into_iter().map(|pr| pr.number).collect());
            job(COMMITS_JOB, None, Trigger::Commits(work))
        }
        None => Ignored("no commit sha in the payload"),
    };
    // Check runs and suites name the pull requests of their head commit.
    let each = |prs: Vec<PrRef>| {
        Intake::Evaluate(
            prs.into_iter()
                .map(|pr| make(pr.number, None, Trigger::Rerun))
                .collect(),
        )
    };
    match event {
        "pull_request" => {
            let acted_on = match action {
                "opened" | "reopened" | "synchronize" | "labeled" | "unlabeled"
                | "ready_for_review" | "closed" => true,
                // Only a new title or a new base can change the verdict.
                "edited" => e
                    .changes
                    .as_ref()
                    .is_some_and(|c| c.title.is_some() || c.base.is_some()),
                _ => false,
            };
            match e.pull_request {
                Some(pr) if acted_on && matches!(action, "closed" | "reopened") => {
                    // A merge-back pull request merged, closed without
                    // merging or reopened changes its hotfix's merge-back
                    // check (done, failed, waiting): evaluate that hotfix too.
                    let hotfix = pr
                        .head
                        .ref_name
                        .strip_prefix(MERGE_BACK_PREFIX)
                        .and_then(|n| n.parse::<u64>().ok());
                    let mut jobs = vec![make(pr.number, Some(pr), Trigger::Full)];
                    jobs.extend(hotfix.map(|n| make(n, None, Trigger::Full)));
                    Intake::Evaluate(jobs)
                }
                Some(pr) if acted_on => job(pr.number, Some(pr), Trigger::Full),
                Some(_) => Ignored("pull_request action not acted on"),
                None => Ignored("pull_request event without a pull request"),
            }
        }
        "pull_request_review" => match (action, e.pull_request) {
            ("submitted" | "dismissed" | "edited", Some(pr)) => {
                job(pr.number, Some(pr), Trigger::Full)
            }
            _ => Ignored("pull_request_review action not acted on"),
        },
        "issue_comment" => match (action, e.issue, e.comment) {
            // Edited commands never count, so edits need no evaluation; a
            // deleted command may withdraw an approval.
            ("created" | "deleted", Some(issue), Some(comment)) if issue.pull_request.is_some() => {
                job(
                    issue.number,
                    None,
                    Trigger::Comment {
                        body: comment.body.unwrap_or_default(),
                    },
                )
            }
            (_, Some(issue), _) if issue.pull_request.is_none() => {
                Ignored("comment on an issue, not a pull request")
            }
            _ => Ignored("issue_comment action not acted on"),
        },
        "check_run" => {
            let Some(run) = e.check_run else {
                return Ignored("check_run event without a check run");
            };
            let ours = run.name == CHECK_NAME || run.name == MERGE_BACK_CHECK_NAME;
            let wanted = match action {
                "rerequested" => true,
                "requested_action" => e
                    .requested_action
                    .is_some_and(|a| a.identifier == RECHECK_ACTION),
                _ => false,
            };
            if action == "completed" && !ours {
                // Another check finished: it may be evidence a hotfix
                // waits for. Our own are skipped, or each would trigger
                // another evaluation.
                commit(run.head_sha, run.pull_requests)
            } else if !ours || !wanted {
                Ignored("check_run not acted on")
            } else if let Some(number) = run
                .external_id
                .as_deref()
                .and_then(run_pull_number)
                .filter(|_| run.pull_requests.is_empty() || run.name == MERGE_BACK_CHECK_NAME)
            {
                // The run's own `external_id` names its pull request: GitHub
                // lists none for a head in a fork, and for the merge-back
                // check it lists the merge-back pull request, whose head is
                // the merge commit, not the hotfix the run belongs to.
                Intake::Evaluate(vec![make(number, None, Trigger::Rerun)])
            } else if run.pull_requests.is_empty() {
                Ignored("check run has no pull request (fork or deleted branch)")
            } else {
                each(run.pull_requests)
            }
        }
        "check_suite" => match (action, e.check_suite) {
            ("rerequested", Some(suite)) if suite.pull_requests.is_empty() => {
                Ignored("check suite has no pull request")
            }
            ("rerequested", Some(suite)) => each(suite.pull_requests),
            ("completed", Some(suite)) => commit(suite.head_sha, suite.pull_requests),
            // GitHub created this app's suite for a commit first pushed
            // now, with no run in it: remembered so that the first write
            // of a run there may skip the lookup (`store::claims`).
            ("requested", Some(suite)) if suite.latest_check_runs_count == Some(0) => {
                match suite.head_sha.filter(|s| is_sha(s)) {
                    Some(sha) => Intake::FreshSuite { repo, sha },
                    None => Ignored("check suite without a head sha"),
                }
            }
            _ => Ignored("check_suite action not acted on"),
        },
        "status" => commit(e.sha, Vec::new()),
        "deployment_status" => match action {
            "created" => commit(e.deployment.and_then(|d| d.sha), Vec::new()),
            _ => Ignored("deployment_status action not acted on"),
        },
        _ => Ignored("event not acted on"),
    }
}

/// The audit job of a branch push: `None` for a deleted branch, a tag, or a
/// payload without the fields an audit needs.
fn push_audit(e: &Envelope, repo: &RepoName, branch: Option<&str>, touches: bool) -> Option<Job> {
    let branch = branch?;
    let installation = e.installation.as_ref()?.id;
    let after = e.after.clone().filter(|s| is_sha(s))?;
    if e.deleted || after.bytes().all(|b| b == b'0') {
        return None;
    }
    let commits: Vec<(String, String)> = e
        .commits
        .iter()
        .filter(|c| is_sha(&c.id))
        .take(MAX_PUSH_COMMITS)
        .map(|c| {
            let first = c.message.lines().next().unwrap_or_default();
            (c.id.clone(), first.chars().take(200).collect())
        })
        .collect();
    let push = PushAudit {
        branch: branch.to_string(),
        before: e.before.clone().unwrap_or_default(),
        after,
        forced: e.forced,
        pusher: e
            .sender
            .as_ref()
            .map(|s| s.login.clone())
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| DELETED_USER.to_string()),
        commits,
        touches_policy: touches,
    };
    Some(Job {
        key: PrKey {
            installation,
            repo: repo.clone(),
            number: COMMITS_JOB,
        },
        pull: None,
        trigger: Trigger::Commits(CommitWork {
            pushes: vec![push],
            ..CommitWork::default()
        }),
        deliveries: Vec::new(),
    })
}

/// Looks like a commit id (GitHub sends 40 hex digits, 64 for SHA-256
/// repositories): anything else in a payload is not a commit the app asks
/// about.
fn is_sha(s: &str) -> bool {
    (7..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn fixtures_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/webhooks")
    }

    fn load(name: &str) -> Vec<u8> {
        std::fs::read(fixtures_dir().join(name)).expect("fixture exists")
    }

    fn event_of(file: &Path) -> String {
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        name.split('.').next().unwrap_or_default().to_string()
    }

    /// Every real delivery in the corpus (github.com, captured from other
    /// apps, and Enterprise Server examples) parses: none is rejected.
    #[test]
    fn every_real_delivery_parses() {
        let mut count = 0;
        for dir in [fixtures_dir(), fixtures_dir().join("ghes")] {
            for entry in std::fs::read_dir(dir).expect("fixture dir") {
                let path = entry.expect("entry").path();
                if path.extension().is_none_or(|e| e != "json") {
                    continue;
                }
                let body = std::fs::read(&path).expect("readable");
                let event = event_of(&path);
                let result = classify(&event, &body);
                assert!(result.is_ok(), "{}: {:?}", path.display(), result.err());
                count += 1;
            }
        }
        assert!(count > 100, "only {count} fixtures found");
    }

    #[test]
    fn acted_on_pull_request_actions_become_jobs() {
        for (file, action) in [
            ("pull_request.opened.json", "opened"),
            ("pull_request.synchronize.json", "synchronize"),
            ("pull_request.labeled.json", "labeled"),
            ("pull_request.unlabeled.json", "unlabeled"),
            ("pull_request.reopened.json", "reopened"),
            ("pull_request.closed.json", "closed"),
            ("pull_request.ready_for_review.json", "ready_for_review"),
        ] {
            // Some documentation examples were sent as repository webhooks,
            // without an installation; an app always receives one.
            let mut v: serde_json::Value = serde_json::from_slice(&load(file)).expect("json");
            v["installation"] = serde_json::json!({"id": 77});
            let body = serde_json::to_vec(&v).expect("json");
            let (intake, describe) = classify("pull_request", &body).expect("parses");
            assert_eq!(describe.action.as_deref(), Some(action));
            let Intake::Evaluate(jobs) = intake else {
                panic!("{file}: expected a job, got {intake:?}");
            };
            assert_eq!(jobs.len(), 1);
            assert_eq!(jobs[0].trigger, Trigger::Full);
            assert!(jobs[0].pull.is_some());
        }
    }

    #[test]
    fn opened_payload_yields_the_pull_request_snapshot() {
        let (intake, describe) =
            classify("pull_request", &load("pull_request.opened.json")).expect("parses");
        assert_eq!(
            describe.repository.as_deref(),
            Some("Codertocat/Hello-World")
        );
        assert_eq!(describe.number, Some(2));
        let Intake::Evaluate(jobs) = intake else {
            panic!("expected a job");
        };
        let job = &jobs[0];
        assert_eq!(job.key.installation, 1);
        assert_eq!(job.key.repo.to_string(), "Codertocat/Hello-World");
        let pull = job.pull.as_ref().expect("snapshot");
        assert_eq!(pull.head.ref_name, "changes");
        assert_eq!(pull.base.ref_name, "master");
        assert_eq!(pull.head.sha, "ec26c3e57ca3a959ca5aad62de7213c562f8c821");
        assert_eq!(pull.author(), "Codertocat");
    }

    #[test]
    fn edited_counts_only_for_a_title_or_base_change() {
        let body = load("pull_request.edited.json");
        let (intake, _) = classify("pull_request", &body).expect("parses");
        assert!(
            matches!(intake, Intake::Evaluate(_)),
            "base change re-evaluates"
        );
        let mut v: serde_json::Value = serde_json::from_slice(&body).expect("json");
        v["changes"] = serde_json::json!({"body": {"from": "old"}});
        let (intake, _) =
            classify("pull_request", &serde_json::to_vec(&v).expect("json")).expect("parses");
        assert!(matches!(intake, Intake::Ignored(_)), "a body edit does not");
    }

    #[test]
    fn a_requested_check_suite_is_noted_only_while_it_holds_no_run() {
        let fresh: serde_json::Value =
            serde_json::from_slice(&load("check_suite.requested.json")).expect("json");
        let body = |v: &serde_json::Value| serde_json::to_vec(v).expect("json");
        let (intake, _) = classify("check_suite", &body(&fresh)).expect("parses");
        assert_eq!(
            intake,
            Intake::FreshSuite {
                repo: RepoName {
                    owner: "Codertocat".into(),
                    name: "Hello-World".into()
                },
                sha: "f95f852bd8fca8fcc58a9a2d6c842781e32a215e".into()
            }
        );
        for (field, value) in [
            ("latest_check_runs_count", serde_json::json!(1)),
            ("latest_check_runs_count", serde_json::Value::Null),
            ("head_sha", serde_json::json!("not a sha!")),
        ] {
            let mut v = fresh.clone();
            v["check_suite"][field] = value.clone();
            let (intake, _) = classify("check_suite", &body(&v)).expect("parses");
            assert!(
                matches!(intake, Intake::Ignored(_)),
                "{field} = {value}: {intake:?}"
            );
        }
    }

    #[test]
    fn reviews_and_rerequests_are_acted_on() {
        let (intake, _) = classify(
            "pull_request_review",
            &load("pull_request_review.submitted.json"),
        )
        .expect("parses");
        assert!(matches!(intake, Intake::Evaluate(_)));
        let (intake, _) =
            classify("check_suite", &load("check_suite.rerequested.json")).expect("parses");
        let Intake::Evaluate(jobs) = intake else {
            panic!("expected jobs");
        };
        assert_eq!(jobs[0].key.number, 2);
    }

    #[test]
    fn check_runs_of_other_apps_are_ignored() {
        // The corpus's check run is named "randscape", not ours.
        let (intake, _) =
            classify("check_run", &load("check_run.rerequested.json")).expect("parses");
        assert!(matches!(intake, Intake::Ignored(_)));
        let mut v: serde_json::Value =
            serde_json::from_slice(&load("check_run.requested_action.json")).expect("json");
        v["check_run"]["name"] = CHECK_NAME.into();
        v["check_run"]["pull_requests"] = serde_json::json!([{"number": 9}]);
        v["requested_action"]["identifier"] = RECHECK_ACTION.into();
        let (intake, _) =
            classify("check_run", &serde_json::to_vec(&v).expect("json")).expect("parses");
        let Intake::Evaluate(jobs) = intake else {
            panic!("expected a job, got {intake:?}");
        };
        assert_eq!(jobs[0].key.number, 9);
    }

    #[test]
    fn a_fork_runs_re_run_is_routed_by_the_runs_external_id() {
        let mut v: serde_json::Value =
            serde_json::from_slice(&load("check_run.rerequested.json")).expect("json");
        v["check_run"]["name"] = CHECK_NAME.into();
        v["check_run"]["pull_requests"] = serde_json::json!([]);
        for (external_id, number) in [("hotfix-pr:7", Some(7)), ("pr:12", Some(12)), ("", None)] {
            v["check_run"]["external_id"] = external_id.into();
            let (intake, _) =
                classify("check_run", &serde_json::to_vec(&v).expect("json")).expect("parses");
            match (intake, number) {
                (Intake::Evaluate(jobs), Some(n)) => {
                    assert_eq!(jobs.len(), 1);
                    assert_eq!(jobs[0].key.number, n);
                    assert!(matches!(jobs[0].trigger, Trigger::Rerun));
                }
                (Intake::Ignored(_), None) => {}
                (intake, _) => panic!("{external_id:?}: {intake:?}"),
            }
        }
        // The merge-back run names its hotfix: GitHub's list (the
        // merge-back pull request) is not followed.
        v["check_run"]["name"] = MERGE_BACK_CHECK_NAME.into();
        v["check_run"]["pull_requests"] = serde_json::json!([{"number": 8}]);
        v["check_run"]["external_id"] = "merge-back:7".into();
        let (intake, _) =
            classify("check_run", &serde_json::to_vec(&v).expect("json")).expect("parses");
        let Intake::Evaluate(jobs) = intake else {
            panic!("a job for the hotfix, got {intake:?}");
        };
        assert_eq!(jobs.iter().map(|j| j.key.number).collect::<Vec<_>>(), [7]);
        for text in [
            "hotfix-pr:0",
            "pr:",
            "pr:-1",
            "hotfix-pr:7x",
            "issue:7",
            "PR:7",
        ] {
            assert_eq!(run_pull_number(text), None, "{text}");
        }
    }

    #[test]
    fn comments_on_pull_requests_are_checked_for_the_command() {
        let body = serde_json::json!({
            "action": "created",
            "issue": {"number": 5, "pull_request": {"url": "x"}},
            "comment": {"id": 1, "body": "/hotfix approve", "user": {"login": "alice"}},
            "repository": {"name": "app", "full_name": "octo/app", "owner": {"login": "octo"}},
            "installation": {"id": 3}
        });
        let (intake, _) =
            classify("issue_comment", &serde_json::to_vec(&body).expect("json")).expect("parses");
        let Intake::Evaluate(jobs) = intake else {
            panic!("expected a job");
        };
        assert_eq!(
            jobs[0].trigger,
            Trigger::Comment {
                body: "/hotfix approve".into()
            }
        );
        let mut on_issue = body.clone();
        on_issue["issue"] = serde_json::json!({"number": 5});
        let (intake, _) = classify(
            "issue_comment",
            &serde_json::to_vec(&on_issue).expect("json"),
        )
        .expect("parses");
        assert!(matches!(intake, Intake::Ignored(_)));
    }

    #[test]
    fn a_push_that_changes_the_policy_on_the_default_branch_drops_the_cache() {
        let mut v: serde_json::Value = serde_json::from_slice(&load("push.json")).expect("json");
        v["ref"] = "refs/heads/master".into();
        v["deleted"] = false.into();
        v["installation"] = serde_json::json!({"id": 3});
        v["after"] = "6113728f27ae82c7b1a177c8d03f9e96e0adf247".into();
        v["commits"] = serde_json::json!([{"added": [], "modified": [POLICY_PATH], "removed": []}]);
        let (intake, _) = classify("push", &serde_json::to_vec(&v).expect("json")).expect("parses");
        assert!(matches!(intake, Intake::PolicyChanged { .. }), "{intake:?}");
        if let Intake::PolicyChanged { pushed, audit, .. } = &intake {
            // A merge-back by hand into a default `develop` may change the
            // policy too: the waiting hotfixes are still looked up.
            assert_eq!(
                pushed.clone(),
                Some((3, "master".to_string())),
                "{intake:?}"
            );
            // And every open pull request is evaluated again, by the
            // repository's commit job.
            let work = match audit.as_ref().map(|job| &job.trigger) {
                Some(Trigger::Commits(work)) => work,
                other => panic!("no commit job: {other:?}"),
            };
            assert!(work.policy_changed, "{work:?}");
        }
        v["ref"] = "refs/heads/feature".into();
        let (intake, _) = classify("push", &serde_json::to_vec(&v).expect("json")).expect("parses");
        assert!(matches!(intake, Intake::BranchPushed { .. }), "{intake:?}");
    }

    #[test]
    fn a_default_branch_push_that_may_hide_its_files_counts_as_a_policy_change() {
        let mut v: serde_json::Value = serde_json::from_slice(&load("push.json")).expect("json");
        v["ref"] = "refs/heads/master".into();
        v["deleted"] = false.into();
        v["installation"] = serde_json::json!({"id": 3});
        v["after"] = "6113728f27ae82c7b1a177c8d03f9e96e0adf247".into();
        let listed = serde_json::json!([{"added": [], "modified": ["README.md"], "removed": []}]);
        let cases = [
            // A commit too large for GitHub to list its files.
            (
                serde_json::json!([{"added": [], "modified": [], "removed": []}]),
                false,
                true,
            ),
            // A force-push (a rewind lists no commit).
            (serde_json::json!([]), true, true),
            // Everything listed, the policy file not among it.
            (listed.clone(), false, false),
        ];
        for (commits, forced, changed) in cases {
            v["commits"] = commits;
            v["forced"] = forced.into();
            let (intake, _) =
                classify("push", &serde_json::to_vec(&v).expect("json")).expect("parses");
            assert_eq!(
                matches!(intake, Intake::PolicyChanged { .. }),
                changed,
                "{intake:?}"
            );
        }
        // Elsewhere than the default branch nothing is a policy change.
        v["ref"] = "refs/heads/feature".into();
        v["forced"] = true.into();
        let (intake, _) = classify("push", &serde_json::to_vec(&v).expect("json")).expect("parses");
        assert!(matches!(intake, Intake::BranchPushed { .. }), "{intake:?}");
    }

    #[test]
    fn a_push_to_the_default_branch_that_leaves_the_policy_alone_may_complete_merge_backs() {
        let mut v: serde_json::Value = serde_json::from_slice(&load("push.json")).expect("json");
        v["ref"] = "refs/heads/master".into();
        v["repository"]["default_branch"] = "master".into();
        v["deleted"] = false.into();
        v["installation"] = serde_json::json!({"id": 3});
        v["commits"] =
            serde_json::json!([{"added": [], "modified": ["src/fix.rs"], "removed": []}]);
        v["head_commit"] = serde_json::Value::Null;
        let (intake, _) = classify("push", &serde_json::to_vec(&v).expect("json")).expect("parses");
        assert!(
            matches!(&intake, Intake::BranchPushed { branch, installation: 3, .. } if branch == "master"),
            "{intake:?}"
        );
    }

    #[test]
    fn ping_and_unknown_events() {
        let (intake, _) = classify("ping", &load("ping.json")).expect("parses");
        assert_eq!(intake, Intake::Ping);
        let (intake, _) = classify("star", b"{}").expect("parses");
        assert!(matches!(intake, Intake::Ignored(_)));
        assert!(classify("pull_request", b"not json").is_err());
        assert!(classify("pull_request", b"[1,2]").is_err());
    }

    #[test]
    fn absorbing_keeps_the_newest_snapshot_and_the_strongest_trigger() {
        let body = load("pull_request.opened.json");
        let (Intake::Evaluate(mut a), _) = classify("pull_request", &body).expect("parses") else {
            panic!("job");
        };
        let mut older = a.remove(0);
        let mut newer = older.clone();
        if let Some(p) = newer.pull.as_mut() {
            p.title = "newer".into();
            p.updated_at = p.updated_at.map(|t| t + chrono::Duration::seconds(5));
        }
        // The newer snapshot wins whichever order the deliveries arrive in.
        let mut first = newer.clone();
        first.absorb(older.clone());
        assert_eq!(first.pull.as_ref().map(|p| p.title.as_str()), Some("newer"));
        older.trigger = Trigger::Comment { body: "x".into() };
        older.absorb(newer);
        assert_eq!(older.pull.as_ref().map(|p| p.title.as_str()), Some("newer"));
        assert_eq!(older.trigger, Trigger::Full);
    }
}

#[cfg(test)]
mod evidence_tests {
    use super::*;

    fn status(sha: &str) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "sha": sha, "state": "success", "context": "ci",
            "repository": {"name": "app", "full_name": "octo/app", "owner": {"login": "octo"}},
            "installation": {"id": 3}
        }))
        .expect("json")
    }

    #[test]
    fn commit_events_fold_into_one_repository_job() {
        let a = "a".repeat(40);
        let b = "b".repeat(40);
        let (Intake::Evaluate(mut first), _) = classify("status", &status(&a)).expect("parses")
        else {
            panic!("a commit job");
        };
        let (Intake::Evaluate(second), _) = classify("status", &status(&b)).expect("parses") else {
            panic!("a commit job");
        };
        assert_eq!(first[0].key.number, COMMITS_JOB);
        let mut job = first.remove(0);
        job.absorb(second.into_iter().next().expect("one"));
        let Trigger::Commits(work) = &job.trigger else {
            panic!("still a commit job: {:?}", job.trigger);
        };
        assert_eq!(work.commits.keys().collect::<Vec<_>>(), [&a, &b]);
        let (intake, _) = classify("status", &status("../../x")).expect("parses");
        assert!(matches!(intake, Intake::Ignored(_)), "not a sha");
    }

    #[test]
    fn our_own_completed_check_run_is_ignored_and_others_route() {
        let mut v: serde_json::Value = serde_json::from_slice(
            &std::fs::read(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("tests/fixtures/webhooks/check_run.completed.json"),
            )
            .expect("fixture"),
        )
        .expect("json");
        v["installation"] = serde_json::json!({"id": 5});
        let (intake, _) =
            classify("check_run", &serde_json::to_vec(&v).expect("json")).expect("parses");
        assert!(matches!(intake, Intake::Evaluate(_)), "{intake:?}");
        v["check_run"]["name"] = CHECK_NAME.into();
        let (intake, _) =
            classify("check_run", &serde_json::to_vec(&v).expect("json")).expect("parses");
        assert!(matches!(intake, Intake::Ignored(_)), "{intake:?}");
    }
}
