//! Per pull request: gather facts from GitHub → evaluate the pure rules →
//! publish one check run and one sticky comment. The only layer, with
//! `github`, that talks to GitHub; every write is an upsert, and every
//! evaluation starts from GitHub's current state, so a lost or repeated
//! delivery never leaves a wrong answer behind.

pub mod audit;
mod default_policy;
pub mod escalation;
mod evidence;
mod gather;
mod moment;
mod policy_cache;
pub mod post_merge;
mod publish;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Instant;

use crate::clock::{Clock, SystemClock};
use crate::events::{CHECK_NAME, Job, PrKey, PullPayload, RepoName, Trigger};
use crate::github::{GitHubApp, GitHubError, RepoClient};
use crate::metrics::Metrics;
use crate::policy::{POLICY_PATH, PolicySource};
use crate::report;
use crate::report::post_merge::MergeBack;
use crate::rules::{self, Classification};

pub use policy_cache::{LoadedPolicy, ORG_POLICY_REPO, PolicyCache};
pub use publish::Published;

/// Evaluations of one installation's pull requests that may run at once:
/// GitHub asks integrations to send one installation's requests serially or
/// nearly so.
const PER_INSTALLATION: usize = 2;

/// Below this many remaining calls an installation's background work
/// (deadline sweeps, discovery) waits, leaving the budget to webhooks.
const LOW_BUDGET: u64 = 250;

pub struct Engine {
    github: GitHubApp,
    lanes: std::sync::Mutex<std::collections::HashMap<u64, Arc<tokio::sync::Semaphore>>>,
    clock: Arc<dyn Clock>,
    watches: escalation::Watches,
    metrics: Arc<Metrics>,
    policies: PolicyCache,
    published: publish::PublishCache,
    tags: gather::TagCache,
    /// Pull requests whose evaluation failed (GitHub down even after
    /// retries): evaluated again at the next sweep, so nothing is lost.
    failed: std::sync::Mutex<std::collections::HashSet<PrKey>>,
    /// Merged hotfixes whose merge-back is not in `develop` yet, by the
    /// branch they wait for: a push there re-evaluates them.
    merge_backs: std::sync::Mutex<HashMap<(u64, RepoName, String), BTreeSet<u64>>>,
    /// Where a commit job puts the pull requests it found (see
    /// `attach_queue`); without it they are evaluated in place.
    requeue: std::sync::OnceLock<Arc<crate::queue::WorkQueue>>,
}

/// Merge-backs watched at most; past it, new ones wait for their merge-back
/// pull request's own merge event instead.
const MAX_MERGE_BACKS: usize = 10_000;

/// What an evaluation did, for logs and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A comment that is not the approval command: nothing to do.
    NotACommand,
    Reported {
        conclusion: &'static str,
    },
    /// A repository's commit job: this many hotfix pull requests were found
    /// for re-evaluation.
    Routed {
        pulls: usize,
    },
}

impl Engine {
    pub fn new(github: GitHubApp, metrics: Arc<Metrics>) -> Engine {
        Engine::with_clock(github, metrics, Arc::new(SystemClock))
    }

    pub fn with_clock(github: GitHubApp, metrics: Arc<Metrics>, clock: Arc<dyn Clock>) -> Engine {
        Engine {
            github,
            lanes: std::sync::Mutex::default(),
            clock,
            watches: escalation::Watches::default(),
            metrics,
            policies: PolicyCache::default(),
            published: publish::PublishCache::default(),
            tags: gather::TagCache::default(),
            failed: std::sync::Mutex::default(),
            merge_backs: std::sync::Mutex::default(),
            requeue: std::sync::OnceLock::new(),
        }
    }

    pub fn forget_policy(&self, repo: &RepoName) {
        self.policies.forget(repo);
    }

    /// Evaluates one job and logs the result; failures are reported on the
    /// check run where GitHub lets us, never dropped silently.
    pub async fn run(&self, job: Job) {
        let key = job.key.clone();
        let lane = {
            let mut lanes = self.lanes.lock().unwrap_or_else(|p| p.into_inner());
            lanes
                .entry(key.installation)
                .or_insert_with(|| Arc::new(tokio::sync::Semaphore::new(PER_INSTALLATION)))
                .clone()
        };
        // The semaphore is never closed, so acquiring cannot fail.
        let _permit = lane.acquire_owned().await.ok();
        let started = Instant::now();
        match self.evaluate(job).await {
            Ok(Outcome::NotACommand) => {
                tracing::debug!("comment is not the approval command");
            }
            Ok(Outcome::Routed { pulls }) => {
                tracing::info!(pulls, "commit evidence changed");
            }
            Ok(Outcome::Reported { conclusion }) => {
                self.metrics.evaluation(conclusion, started.elapsed());
                tracing::info!(
                    conclusion,
                    took_ms = started.elapsed().as_millis() as u64,
                    "evaluated"
                );
            }
            Err(e) => {
                self.metrics.evaluation("error", started.elapsed());
                tracing::error!(error = %e, "evaluation failed; retried at the next sweep");
                self.retry_later(key.clone());
                self.report_failure(&key, &e).await;
            }
        }
    }

    async fn client(&self, key: &PrKey) -> Result<RepoClient, GitHubError> {
        let installation = self.github.installation(key.installation).await?;
        Ok(installation.repo(&key.repo.owner, &key.repo.name))
    }

    pub async fn evaluate(&self, job: Job) -> Result<Outcome, GitHubError> {
        if let Trigger::Commits(work) = &job.trigger {
            return self.commit_work(&job.key, work).await;
        }
        if job.key.number == crate::events::COMMITS_JOB {
            // A repository job retried without its work: nothing to redo.
            return Ok(Outcome::Routed { pulls: 0 });
        }
        let client = self.client(&job.key).await?;
        let loaded = self.policies.get(&client).await?;
        if let (Trigger::Comment { body }, Ok(policy)) = (&job.trigger, &loaded.policy)
            && !rules::is_command(&policy.approvals.command, body)
        {
            return Ok(Outcome::NotACommand);
        }
        let pull = match job.pull {
            Some(pull) => pull,
            None => PullPayload::from(client.get_pull(job.key.number).await?),
        };
        let policy = match &loaded.policy {
            Ok(policy) => policy,
            Err(errors) => {
                let lines: Vec<(usize, usize, String)> = errors
                    .iter()
                    .map(|e| (e.line, e.column, e.message.clone()))
                    .collect();
                let output = report::policy_error_output(&loaded.shown_path, &lines);
                let conclusion = output.conclusion;
                let rerun = job.trigger == Trigger::Rerun;
                self.published
                    .write_check_run(
                        &client,
                        CHECK_NAME,
                        &pull.head.sha,
                        &output,
                        Vec::new(),
                        rerun,
                    )
                    .await?;
                return Ok(Outcome::Reported { conclusion });
            }
        };
        // Without a policy file, a hotfix is judged by the default fitted
        // to this repository (its default branch, its version files).
        let fitted = match loaded.source {
            PolicySource::BuiltIn
                if rules::classify(policy, &pull.label_names(), &pull.head.ref_name)
                    .is_hotfix() =>
            {
                Some(default_policy::fit(&client, &pull.base.sha).await?)
            }
            _ => None,
        };
        let policy = fitted.as_ref().map_or(policy, |f| &f.policy);
        let labels = pull.label_names();
        let classification = rules::classify(policy, &labels, &pull.head.ref_name);
        let severity = match &classification {
            Classification::NotHotfix => None,
            Classification::Hotfix { severity, .. } => *severity,
        };
        let gathered = gather::facts(
            &client,
            &self.tags,
            policy,
            &classification,
            severity,
            &pull,
        )
        .await?;
        let mut verdict = rules::evaluate(policy, &gathered.facts);
        if verdict.is_hotfix
            && let Some(fitted) = &fitted
        {
            verdict.notes.extend(fitted.notes.iter().cloned());
            if verdict.conclusion == rules::Conclusion::Failure {
                verdict.notes.push(default_policy::how_to_change(
                    pull.html_url.as_deref(),
                    &policy.branches.production,
                ));
            }
        }
        // Only the app's own escalation comments: a marker typed by anyone
        // else must not make an escalation look posted.
        let own_escalations = client
            .own_marked(&gathered.comments, moment::ESCALATION_MARKER_PREFIX)
            .await?;
        let escalations = moment::escalations(&own_escalations);
        let moment = report::Moment {
            now: self.clock.now(),
            facts: &gathered.facts,
            escalations: Some(&escalations),
        };
        let output = report::check_output_at(&verdict, policy, loaded.source.clone(), &moment);
        let conclusion = output.conclusion;
        let annotations = self.policy_edit_annotations(&client, &gathered).await?;
        let rerun = job.trigger == Trigger::Rerun;
        self.published
            .write_check_run(
                &client,
                CHECK_NAME,
                &pull.head.sha,
                &output,
                annotations,
                rerun,
            )
            .await?;
        match (severity, verdict.deadline) {
            (Some(severity), Some(deadline)) if !pull.is_merged() && pull.state != "closed" => {
                let limit = severity
                    .deadline
                    .and_then(|d| chrono::Duration::from_std(d).ok())
                    .unwrap_or_default();
                self.watches.watch(
                    job.key.clone(),
                    escalation::Watch {
                        severity: severity.name.clone(),
                        started: deadline - limit,
                        deadline,
                    },
                );
            }
            _ => self.watches.forget(&job.key),
        }
        let after_merge = if classification.is_hotfix()
            && pull.is_merged()
            && pull.base.ref_name == policy.branches.production
        {
            let cx = post_merge::Context {
                client: &client,
                published: &self.published,
                policy,
                severity,
                pull: &pull,
                facts: &gathered.facts,
                verdict: &verdict,
                comments: &gathered.comments,
                rerun: job.trigger == Trigger::Rerun,
            };
            let done = post_merge::run(&cx).await?;
            self.watch_merge_back(&job.key, policy, done.merge_back.as_ref());
            Some(done)
        } else {
            None
        };
        match report::sticky_comment_at(&verdict, policy, loaded.source.clone(), &moment) {
            Some(mut body) => {
                if let Some(after_merge) = &after_merge {
                    body.push_str(&report::post_merge::section(after_merge));
                }
                self.published
                    .sticky_comment(&client, job.key.number, &gathered.comments, &body)
                    .await?;
            }
            None => {
                self.published
                    .retire_sticky_comment(&client, job.key.number)
                    .await?;
            }
        }
        Ok(Outcome::Reported { conclusion })
    }

    /// Posts the escalations that are due; returns how many comments it
    /// posted. Errors are logged per pull request and retried next sweep.
    pub async fn sweep(&self) -> usize {
        let now = self.clock.now();
        let mut posted = 0;
        for (key, watch) in self.watches.due(now) {
            if self.budget_low(key.installation) {
                tracing::info!(
                    installation = key.installation,
                    "rate limit budget low; escalation postponed"
                );
                continue;
            }
            match self.escalate(&key, &watch, now).await {
                Ok(done) => {
                    posted += usize::from(done.first) + usize::from(done.second);
                    if done.first || done.second {
                        tracing::info!(repository = %key.repo, pr = key.number, "escalated");
                        // The report says whether escalation was posted:
                        // render it again now, the moment that changed.
                        self.rerender(&key).await;
                    }
                    if done.finished {
                        self.watches.forget(&key);
                    }
                }
                Err(e) => {
                    tracing::warn!(repository = %key.repo, pr = key.number, error = %e, "escalation failed; retried next sweep");
                }
            }
        }
        posted
    }

    async fn rerender(&self, key: &PrKey) {
        let job = Job {
            key: key.clone(),
            pull: None,
            trigger: Trigger::Full,
            deliveries: Vec::new(),
        };
        if let Err(e) = self.evaluate(job).await {
            tracing::warn!(repository = %key.repo, pr = key.number, error = %e, "report after escalation failed; retried next sweep");
            self.retry_later(key.clone());
        }
    }

    async fn escalate(
        &self,
        key: &PrKey,
        watch: &escalation::Watch,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<escalation::Escalated, GitHubError> {
        let client = self.client(key).await?;
        let loaded = self.policies.get(&client).await?;
        let Ok(policy) = &loaded.policy else {
            return Ok(escalation::Escalated::default());
        };
        // Fresh state: the pull request may have merged since.
        let pull = PullPayload::from(client.get_pull(key.number).await?);
        escalation::escalate(&client, policy, &pull, watch, now).await
    }

    /// Open hotfix pull requests in every installation's repositories, as
    /// jobs: at start-up they re-evaluate what may have been missed while
    /// the app was down and bring their deadlines back under watch.
    /// Bounded by `max_repositories` per installation.
    pub async fn discover(&self, max_repositories: usize) -> Vec<Job> {
        let mut jobs = Vec::new();
        let installations = match self.github.app_client().list_installations().await {
            Ok(list) => list,
            Err(e) => {
                tracing::warn!(error = %e, "cannot list installations; discovery skipped");
                return jobs;
            }
        };
        for installation in installations {
            if self.budget_low(installation.id) {
                tracing::info!(
                    installation = installation.id,
                    "rate limit budget low; discovery skipped"
                );
                continue;
            }
            let result = self
                .discover_installation(installation.id, max_repositories, &mut jobs)
                .await;
            if let Err(e) = result {
                tracing::warn!(installation = installation.id, error = %e, "discovery incomplete");
            }
        }
        tracing::info!(found = jobs.len(), "open hotfix pull requests discovered");
        jobs
    }

    async fn discover_installation(
        &self,
        id: u64,
        max_repositories: usize,
        jobs: &mut Vec<Job>,
    ) -> Result<(), GitHubError> {
        let installation = self.github.installation(id).await?;
        for repo in installation.list_repositories(max_repositories).await? {
            let client = installation.repo(&repo.owner, &repo.name);
            let loaded = self.policies.get(&client).await?;
            let Ok(policy) = &loaded.policy else {
                continue;
            };
            for pull in client.list_pulls(None, None, "open").await? {
                let pull = PullPayload::from(pull);
                if rules::classify(policy, &pull.label_names(), &pull.head.ref_name).is_hotfix() {
                    jobs.push(Job {
                        key: PrKey {
                            installation: id,
                            repo: repo.clone(),
                            number: pull.number,
                        },
                        pull: Some(pull),
                        trigger: Trigger::Full,
                        deliveries: Vec::new(),
                    });
                }
            }
        }
        Ok(())
    }

    fn budget_low(&self, installation: u64) -> bool {
        self.github
            .stats()
            .remaining_for(installation)
            .is_some_and(|left| left < LOW_BUDGET)
    }

    pub fn retry_later(&self, key: PrKey) {
        self.failed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key);
    }

    fn watch_merge_back(
        &self,
        key: &PrKey,
        policy: &crate::policy::Policy,
        status: Option<&MergeBack>,
    ) {
        let branch = (
            key.installation,
            key.repo.clone(),
            policy.branches.develop.clone(),
        );
        let mut map = self.merge_backs.lock().unwrap_or_else(|p| p.into_inner());
        match status {
            Some(MergeBack::Open { .. } | MergeBack::Refused { .. }) => {
                if map.values().map(BTreeSet::len).sum::<usize>() < MAX_MERGE_BACKS {
                    map.entry(branch).or_default().insert(key.number);
                }
            }
            _ => {
                if let Some(waiting) = map.get_mut(&branch) {
                    waiting.remove(&key.number);
                    if waiting.is_empty() {
                        map.remove(&branch);
                    }
                }
            }
        }
    }

    /// The merged hotfixes whose merge-back waits for `branch`: a push
    /// there (a merge-back done by hand, or its pull request merged) may
    /// complete them.
    pub fn merge_backs_waiting_on(
        &self,
        installation: u64,
        repo: &RepoName,
        branch: &str,
    ) -> Vec<Job> {
        let map = self.merge_backs.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&(installation, repo.clone(), branch.to_string()))
            .into_iter()
            .flatten()
            .map(|number| Job {
                key: PrKey {
                    installation,
                    repo: repo.clone(),
                    number: *number,
                },
                pull: None,
                trigger: Trigger::Full,
                deliveries: Vec::new(),
            })
            .collect()
    }

    /// Jobs for the pull requests whose last evaluation failed.
    pub fn take_failed(&self) -> Vec<Job> {
        let failed = std::mem::take(&mut *self.failed.lock().unwrap_or_else(|p| p.into_inner()));
        failed
            .into_iter()
            .map(|key| Job {
                key,
                pull: None,
                trigger: Trigger::Full,
                deliveries: Vec::new(),
            })
            .collect()
    }

    /// Hotfixes whose deadline this instance watches.
    pub fn watched(&self) -> usize {
        self.watches.len()
    }

    /// When the pull request edits the policy file, validate its new version
    /// and point at the errors in the diff. The verdict itself is always by
    /// the default branch's policy.
    async fn policy_edit_annotations(
        &self,
        client: &RepoClient,
        gathered: &gather::Gathered,
    ) -> Result<Vec<publish::Annotation>, GitHubError> {
        // A cut list (3,000 files) may hide the policy file: read it anyway.
        let edits_policy = !gathered.files_complete
            || gathered
                .changed_files
                .iter()
                .any(|f| f.filename == POLICY_PATH);
        if !edits_policy {
            return Ok(Vec::new());
        }
        let head = gathered.facts.head_sha.as_str();
        let Some(text) = client.get_file(POLICY_PATH, Some(head)).await? else {
            return Ok(Vec::new()); // deleted: the built-in default will apply
        };
        Ok(match crate::policy::parse(&text) {
            Ok(_) => Vec::new(),
            Err(errors) => errors
                .into_iter()
                .map(|e| publish::Annotation {
                    path: POLICY_PATH.to_string(),
                    line: e.line.max(1),
                    message: format!("{}:{}: {}", e.line, e.column, e.message),
                })
                .collect(),
        })
    }

    /// GitHub failed even after retries: say so on the check run (if GitHub
    /// takes at least that write) so that nobody mistakes silence for a pass.
    async fn report_failure(&self, key: &PrKey, error: &GitHubError) {
        let Ok(client) = self.client(key).await else {
            return;
        };
        let Ok(pull) = client.get_pull(key.number).await.map(PullPayload::from) else {
            return;
        };
        let output = report::CheckOutput {
            conclusion: "failure",
            title: "hotfix-guard could not evaluate this pull request".to_string(),
            summary: format!(
                "GitHub did not answer as expected: {error}.\n\nThe evaluation will run again on the next change to this pull request; press **Re-check** to run it now."
            ),
            text: None,
        };
        if let Err(e) = self
            .published
            .check_run(&client, CHECK_NAME, &pull.head.sha, &output, Vec::new())
            .await
        {
            tracing::error!(error = %e, "could not report the failure on the check run either");
        }
    }
}

/// For `simulate --repo`: the facts of a live pull request, read with a
/// personal token and nothing written. The policy is `policy` if given,
/// else the one the app would use.
pub async fn read_only_facts(
    api_url: &str,
    token: &str,
    owner: &str,
    name: &str,
    number: u64,
    policy: Option<crate::policy::Policy>,
) -> anyhow::Result<(
    crate::policy::Policy,
    PolicySource,
    crate::rules::PullRequestFacts,
)> {
    let client = RepoClient::with_token(api_url, token.into(), owner, name)?;
    let (policy, source) = match policy {
        Some(policy) => (policy, PolicySource::Repository),
        None => {
            let loaded = PolicyCache::default().get(&client).await?;
            match &loaded.policy {
                Ok(policy) => (policy.clone(), loaded.source.clone()),
                Err(errors) => {
                    let lines: Vec<String> = errors
                        .iter()
                        .map(|e| format!("{}:{e}", loaded.shown_path))
                        .collect();
                    anyhow::bail!("the repository's policy is invalid:\n{}", lines.join("\n"));
                }
            }
        }
    };
    let pull = PullPayload::from(client.get_pull(number).await?);
    let classification = rules::classify(&policy, &pull.label_names(), &pull.head.ref_name);
    let severity = match &classification {
        Classification::NotHotfix => None,
        Classification::Hotfix { severity, .. } => *severity,
    };
    let gathered = gather::facts(
        &client,
        &gather::TagCache::default(),
        &policy,
        &classification,
        severity,
        &pull,
    )
    .await?;
    Ok((policy, source, gathered.facts))
}
