//! Per pull request: gather facts from GitHub → evaluate the pure rules →
//! publish one check run and one sticky comment. The only layer, with
//! `github`, that talks to GitHub; every write is an upsert, and every
//! evaluation starts from GitHub's current state, so a lost or repeated
//! delivery never leaves a wrong answer behind.

pub mod audit;
mod closer;
mod commit_files;
mod default_policy;
mod early_watch;
pub mod escalation;
mod evidence;
mod gather;
mod lock;
mod merge_union;
mod merged;
mod moment;
#[cfg(test)]
mod mutant_tests;
mod policy_cache;
pub mod post_merge;
mod publish;
mod reads;
mod unevaluated;

use std::sync::Arc;
use std::time::Instant;

use crate::clock::{Clock, SystemClock};
use crate::events::{CHECK_NAME, Job, PrKey, RepoName, Trigger};
use crate::github::{GitHubApp, GitHubError, RepoClient};
use crate::metrics::Metrics;
use crate::policy::{POLICY_PATH, PolicySource};
use crate::report;
use crate::report::post_merge::MergeBack;
use crate::rules;
use crate::store::Store;

pub use policy_cache::{LoadedPolicy, ORG_POLICY_REPO, PolicyCache};
pub use publish::Published;

/// An evaluation failed: GitHub (after its own retries) or the store.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("GitHub did not answer as expected: {0}")]
    GitHub(#[from] GitHubError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// Evaluations of one installation's pull requests that may run at once:
/// GitHub asks integrations to send one installation's requests serially or
/// nearly so. Each evaluation sends some of its reads together; the
/// requests in flight of all of them are bounded by `github::in_flight`.
const PER_INSTALLATION: usize = 2;

/// Below this many remaining calls an installation's background work
/// (deadline sweeps, discovery) waits, leaving the budget to webhooks.
const LOW_BUDGET: u64 = 250;

pub struct Engine {
    github: GitHubApp,
    lanes: std::sync::Mutex<std::collections::HashMap<u64, Arc<tokio::sync::Semaphore>>>,
    clock: Arc<dyn Clock>,
    /// Deadlines, merge-backs waiting for `develop`: the app's progress,
    /// kept across restarts and shared by instances.
    store: Store,
    metrics: Arc<Metrics>,
    policies: PolicyCache,
    published: publish::PublishCache,
    /// Release tags seen missing, files read at a commit.
    caches: gather::Caches,
    /// Where incident notices may go (tokens, webhook URLs).
    notify: Arc<crate::notify::NotifyConfig>,
    /// Escalations GitHub refused because the conversation is locked.
    refusals: lock::Refusals,
}

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
    pub fn new(github: GitHubApp, metrics: Arc<Metrics>, store: Store) -> Engine {
        Engine::with_clock(github, metrics, Arc::new(SystemClock), store)
    }

    pub fn with_clock(
        github: GitHubApp,
        metrics: Arc<Metrics>,
        clock: Arc<dyn Clock>,
        store: Store,
    ) -> Engine {
        Engine {
            github,
            lanes: std::sync::Mutex::default(),
            clock,
            store: store.clone(),
            metrics,
            policies: PolicyCache::default(),
            published: publish::PublishCache::with_store(store.clone()),
            caches: gather::Caches::default(),
            notify: Arc::new(crate::notify::NotifyConfig::default()),
            refusals: lock::Refusals::default(),
        }
    }

    /// The deployment's notice settings (default: none configured).
    pub fn with_notify(mut self, notify: Arc<crate::notify::NotifyConfig>) -> Engine {
        self.notify = notify;
        self
    }

    /// The durable store (e.g. `head_last_received`, the time the app last
    /// received a head commit: a freshness fact for approvals).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Drops this instance's cached policy of `repo` (a push changed its
    /// file). The other instances learn of it from the store's policy
    /// generation, which the push's intake bumps.
    pub fn forget_policy(&self, repo: &RepoName) {
        self.policies.forget(repo);
    }

    /// The policy in force for the client's repository, from this
    /// instance's cache only when it was loaded at the policy generation
    /// the store holds now (one store read; `Store::policy_generation`):
    /// another instance may have received the push that changed it. A
    /// store that cannot be read is not taken as "unchanged": the file is
    /// read again from GitHub. Errors: as `PolicyCache::get`.
    async fn policy(&self, client: &RepoClient) -> Result<Arc<LoadedPolicy>, GitHubError> {
        let repo = client.repo_name();
        let generation = match self
            .store
            .policy_generation(&repo, &policy_cache::fallback_repo(&repo))
            .await
        {
            Ok(generation) => Some(generation),
            Err(e) => {
                tracing::warn!(repository = %repo, error = %e, "policy generation unreadable; reading the policy from GitHub");
                None
            }
        };
        self.policies.get(client, generation).await
    }

    /// Evaluates one job and logs the result. An error means the job's
    /// writes may not all have happened: the caller keeps the job and
    /// retries it, and after the last try calls `report_failure`.
    pub async fn run(&self, job: Job) -> Result<(), EngineError> {
        let lane = {
            let mut lanes = self.lanes.lock().unwrap_or_else(|p| p.into_inner());
            lanes
                .entry(job.key.installation)
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
                tracing::warn!(error = %e, "evaluation failed");
                return Err(e);
            }
        }
        Ok(())
    }

    async fn client(&self, key: &PrKey) -> Result<RepoClient, GitHubError> {
        let installation = self.github.installation(key.installation).await?;
        Ok(installation.repo(&key.repo.owner, &key.repo.name))
    }

    pub async fn evaluate(&self, job: Job) -> Result<Outcome, EngineError> {
        if let Trigger::Commits(work) = &job.trigger {
            return self.commit_work(&job.key, work).await;
        }
        if job.key.number == crate::events::COMMITS_JOB {
            // A repository job retried without its work: nothing to redo.
            return Ok(Outcome::Routed { pulls: 0 });
        }
        let client = self.client(&job.key).await?;
        let mut loaded = self.policy(&client).await?;
        if let (Trigger::Comment { body }, Ok(policy)) = (&job.trigger, &loaded.policy)
            && !rules::is_command(&policy.approvals.command, body)
        {
            return Ok(Outcome::NotACommand);
        }
        // Always GitHub's current pull request, never the delivery's
        // snapshot: a delivery that arrives late (an `opened` or `labeled`
        // overtaken by a `synchronize`) carries an old head, old labels, an
        // old base or state, and a verdict on it would be written on a
        // commit that is no longer the head.
        // The timeline (who set or removed which label decides whether the
        // pull request is still a hotfix) and the changed files (whether it
        // edits the policy) are read by every evaluation: together with the
        // pull request. With the policy in force unreadable, only the pull
        // request (its head, and whether it was merged), and for a merged
        // one all three (whether its own change edited the policy decides
        // which policy judges it).
        let (pull, first) = match &loaded.policy {
            Ok(_) => {
                let (pull, first) = gather::first_reads(&client, job.key.number).await?;
                (pull, Some(first))
            }
            Err(_) => {
                let pull = client.get_pull(job.key.number).await?;
                if pull.is_merged() {
                    let first = gather::timeline_and_files(&client, job.key.number).await?;
                    (pull, Some(first))
                } else {
                    (pull, None)
                }
            }
        };
        // Merged, and its own change edits the policy file (or may): judged
        // whole by the policy before its own merge, which its author's edit
        // cannot have written (`merged`); one read more, for those only.
        // Every other pull request is judged by the policy in force.
        let before_merge = match &first {
            Some(first) => {
                merged::policy_before_merge(&self.policies, &client, &pull, &first.files).await?
            }
            None => None,
        };
        // The policy in force, kept: a merged pull request judged by the
        // one before its merge still owes what it asks after the merge.
        let in_force = loaded.clone();
        if let Some(before) = &before_merge {
            loaded = before.loaded.clone();
        }
        let policy = match &loaded.policy {
            Ok(policy) => policy,
            Err(errors) => {
                let lines: Vec<(usize, usize, String)> = errors
                    .iter()
                    .map(|e| (e.line, e.column, e.message.clone()))
                    .collect();
                let mut output = report::policy_error_output(&loaded.shown_path, &lines);
                // Failing closed must not hide what a merged hotfix owes.
                if let Some(before) = &before_merge {
                    output
                        .summary
                        .push_str(&report::post_merge::unreadable_policy_before_merge(
                            &before.branch,
                            &before.base_sha,
                        ));
                } else if pull.is_merged() {
                    output.summary.push_str(
                        &report::post_merge::unreadable_policy_in_force_after_merge(
                            &pull.base.ref_name,
                        ),
                    );
                }
                // The sweep still escalates under a broken policy
                // (`Engine::escalate`): a lock that holds a level back is
                // said here too, never silent.
                if let Some(section) = self
                    .held_under_an_unreadable_policy(&job.key, &pull)
                    .await?
                {
                    output.summary.push_str(&section);
                }
                // No deadline can be watched without the policy: the push
                // that changes it evaluates this one again (closed or not).
                if !pull.is_merged() && before_merge.is_none() {
                    self.store.remember_unjudged(&job.key).await?;
                }
                let conclusion = output.conclusion;
                let rerun = job.trigger == Trigger::Rerun;
                self.published
                    .write_owned_check_run(
                        &client,
                        CHECK_NAME,
                        &pull.head.sha,
                        &output,
                        Vec::new(),
                        rerun,
                        publish::RunOwner::Hotfix(pull.number),
                    )
                    .await?;
                return Ok(Outcome::Reported { conclusion });
            }
        };
        // Not read above only when the policy in force did not parse and
        // the pull request is open, which returned above; read here rather
        // than assumed, should that ever change.
        let first = match first {
            Some(first) => first,
            None => gather::timeline_and_files(&client, job.key.number).await?,
        };
        // Judged by the policy at `base.sha`: the after-merge steps also
        // owe what the policy in force asks (`engine::merge_union`), so its
        // hotfix and severity labels are designation labels too. No file
        // in force (the built-in default, not fitted to this repository):
        // no writer added anything.
        let union_with = match (&before_merge, &in_force.policy) {
            (Some(_), Ok(now)) if in_force.source != PolicySource::BuiltIn => Some(now),
            _ => None,
        };
        // Who removed a hotfix or severity label decides whether the pull
        // request is still one: classify by the labels that still apply.
        let designating: Vec<&crate::policy::Policy> =
            std::iter::once(policy).chain(union_with).collect();
        let designation = gather::designation(&client, &designating, &pull, first).await?;
        let labels = designation.labels.clone();
        // Without a policy file, a hotfix is judged by the default fitted
        // to this repository (its default branch, its version files).
        let fitted = match loaded.source {
            PolicySource::BuiltIn
                if rules::classify(policy, &labels, &pull.head.ref_name).is_hotfix() =>
            {
                Some(default_policy::fit(&client, &pull.base.sha).await?)
            }
            _ => None,
        };
        let policy = fitted.as_ref().map_or(policy, |f| &f.policy);
        let classification = rules::classify(policy, &labels, &pull.head.ref_name);
        let severity = classification.severity();
        // The deadline is watched from the labels, who applied them and
        // their write access (GitHub's facts), alongside the reads that
        // what the pull request holds can break: both run to the end
        // (`join!`, not `try_join!`), so an evaluation whose gather fails
        // still leaves it watched, and the appliers' write access, needed
        // by both, is one request (the client's memo is single-flight).
        let designated = early_watch::Designated::of(&designation);
        let watched = early_watch::record(
            &client,
            &self.store,
            &job.key,
            policy,
            severity,
            &pull,
            &designated,
        );
        let gathered = async {
            // When this app last received this pull request's push of its
            // current head (a server-side fact, never the author's commit
            // date): the later bound for comment approvals.
            let head_last_received = match severity {
                None => None,
                Some(_) => match self
                    .store
                    .head_last_received(&job.key.repo, job.key.number, &pull.head.sha)
                    .await
                {
                    Ok(seen) => seen,
                    Err(e) => {
                        // Unknown leaves comment approvals stale, never fresh.
                        tracing::warn!(error = %e, "cannot read when the head was last received");
                        None
                    }
                },
            };
            gather::facts(
                &client,
                &self.caches,
                policy,
                &classification,
                &pull,
                head_last_received,
                designation,
            )
            .await
        };
        let (watched, gathered) = tokio::join!(watched, gathered);
        // The gather's error is the evaluation's; the watch's (a failed
        // store write) fails it too, to be retried.
        let gathered = gathered?;
        watched?;
        // A list cut at the page cap fails the verdict, naming the limit;
        // the deadline below is still watched.
        let mut verdict =
            rules::verdict::with_cut_lists(rules::evaluate(policy, &gathered.facts), &gathered.cut);
        // A timeline that kept changing was read like a cut one, without
        // approvals by comment: the report says why.
        if verdict.is_hotfix && rules::verdict::timeline_unsettled(&gathered.cut) {
            verdict.notes.push(report::unsettled_timeline_note());
        }
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
        // Closed without merging: escalation stops only when a writer
        // closed it (the timeline's `closed` event); say who and which.
        let closed = if verdict.is_hotfix && pull.state == "closed" && !pull.is_merged() {
            let closed = closer::judge(
                &client,
                gathered.closed_by.clone(),
                &gathered.facts.permissions,
            )
            .await;
            verdict.notes.push(report::closed_unmerged_note(
                closed.by.as_ref(),
                closed.writer,
            ));
            Some(closed)
        } else {
            None
        };
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
        let mut output = report::check_output_at(&verdict, policy, loaded.source.clone(), &moment);
        // Judged by the policy at `base.sha` while the file in force does
        // not parse: what the union owes after the merge is unknown, so the
        // run fails closed and says so (the steps the judging policy asks
        // for are still taken below).
        let in_force_unknown = match (&before_merge, &in_force.policy) {
            (Some(before), Err(_)) => {
                Some(report::post_merge::unreadable_policy_in_force_beside_base(
                    &before.branch,
                    &before.base_sha,
                    &in_force.shown_path,
                ))
            }
            _ => None,
        };
        if let Some(section) = &in_force_unknown {
            output.conclusion = "failure";
            output.title =
                report::post_merge::UNREADABLE_POLICY_IN_FORCE_BESIDE_BASE_TITLE.to_string();
            output.summary.push_str(section);
        }
        // The notices this moment calls for, recorded (not sent) before the
        // check run; targets this deployment cannot reach are said on it.
        let levels: Vec<u8> = escalations.iter().map(|e| e.level).collect();
        // A locked conversation takes no comment of the app's: the check
        // run keeps the verdict and names the lock and the escalation
        // levels it holds back (never silent).
        // The deadline that runs may be a less severe label's than the
        // severity in force (`Verdict::deadline_severity`).
        let held = match verdict.running_deadline(policy) {
            Some((severity, deadline)) if !pull.is_merged() => {
                lock::held(policy, severity, deadline, moment.now, &levels)
            }
            _ => Vec::new(),
        };
        let lock = self.refusals.lock(&job.key, &pull, &held);
        if let Some(lock) = &lock {
            output
                .summary
                .push_str(&report::locked::locked_section(lock, &held));
        }
        let notices = crate::notify::after_evaluation(
            &self.notify,
            &self.store,
            &crate::notify::record::Evaluated {
                key: &job.key,
                policy,
                verdict: &verdict,
                facts: &gathered.facts,
                closed: pull.state == "closed",
                escalation_levels: &levels,
            },
            // The outbox's times are the wall clock's, as the queue's.
            chrono::Utc::now(),
        )
        .await?;
        output.summary.push_str(
            &crate::notify::record::NoticeReport {
                problems: notices.problems.clone(),
                retrying: Vec::new(),
            }
            .markdown(),
        );
        let conclusion = output.conclusion;
        let annotations = self.policy_edit_annotations(&client, &gathered).await?;
        let rerun = job.trigger == Trigger::Rerun;
        let owner = if verdict.is_hotfix {
            publish::RunOwner::Hotfix(pull.number)
        } else {
            publish::RunOwner::NotHotfix(pull.number)
        };
        self.published
            .write_owned_check_run(
                &client,
                CHECK_NAME,
                &pull.head.sha,
                &output,
                annotations.clone(),
                rerun,
                owner,
            )
            .await?;
        match verdict.running_deadline(policy) {
            Some((severity, deadline))
                if !pull.is_merged()
                    && (pull.state != "closed"
                        || closed.as_ref().is_some_and(|c| !c.stops_escalation())) =>
            {
                let watch = escalation::Watch::of(severity, deadline, &policy.escalation);
                self.store.watch_deadline(&job.key, &watch).await?;
                // What the app's own comments say was posted, for the
                // sweep, which then need not list them (never lowered).
                let seen = escalations.iter().map(|e| e.level).max().unwrap_or(0);
                self.store.escalation_posted(&job.key, seen).await?;
            }
            // A cut events list can hide the severity's label: a deadline
            // watched before stays watched while the pull request is open
            // (a flood must not silence the escalation).
            _ if !pull.is_merged()
                && pull.state != "closed"
                && rules::verdict::events_cut(&gathered.cut) => {}
            _ => self.store.forget_deadline(&job.key).await?,
        }
        // Judged by the policy at `base.sha`: the steps run when it OR the
        // policy in force says "a hotfix merged into its production branch",
        // each classifying the same labels (a writer may have renamed or
        // added a severity, or moved the production branch, since), and
        // owe the union (`engine::merge_union`).
        let owed = merge_union::owed(
            policy,
            &classification,
            union_with,
            &labels,
            &pull.base.ref_name,
            &pull.head.ref_name,
        );
        let after_merge = if pull.is_merged()
            && let Some(owed) = &owed
        {
            let (policy, severity) = (owed.policy(policy), owed.severity());
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
            self.watch_merge_back(&job.key, policy, done.merge_back.as_ref())
                .await?;
            Some(done)
        } else {
            None
        };
        match report::sticky_comment_at(&verdict, policy, loaded.source.clone(), &moment) {
            Some(mut body) => {
                if let Some(after_merge) = &after_merge {
                    body.push_str(&report::post_merge::section(after_merge));
                }
                if let Some(section) = &in_force_unknown {
                    body.push_str(section);
                }
                body.push_str(&notices.markdown());
                // GitHub's `locked`: the write would be refused (and, retried,
                // replace the verdict with an error); the check run says so.
                let written = if pull.locked {
                    Ok(Published::Unchanged)
                } else {
                    self.published
                        .sticky_comment(&client, job.key.number, &gathered.comments, &body)
                        .await
                };
                match written {
                    Ok(_) => {}
                    // Locked since the pull request was read: the check run
                    // (written above) must name it now.
                    Err(e) if e.is_locked() && lock.is_none() => {
                        let refused = report::locked::Lock::Refused { at: moment.now };
                        output
                            .summary
                            .push_str(&report::locked::locked_section(&refused, &held));
                        self.published
                            .write_owned_check_run(
                                &client,
                                CHECK_NAME,
                                &pull.head.sha,
                                &output,
                                annotations,
                                rerun,
                                owner,
                            )
                            .await?;
                    }
                    Err(e) if e.is_locked() => {}
                    Err(e) => return Err(e.into()),
                }
            }
            None if pull.locked => {}
            None => match self
                .published
                .retire_sticky_comment(&client, job.key.number)
                .await
            {
                // Locked: the old comment stays; nothing else to say.
                Err(e) if !e.is_locked() => return Err(e.into()),
                _ => {}
            },
        }
        Ok(Outcome::Reported { conclusion })
    }

    /// The locked section of a run written while the policy in force cannot
    /// be read: the escalation levels a lock holds back, from the store's
    /// watch (its times, the escalation section kept with it, the levels
    /// posted), which every instance sees, as `lock::held` gives them from
    /// a readable policy; the lock itself from GitHub's `locked` or the
    /// sweep's refusal (`lock::Refusals::lock`). `None` when nothing is
    /// held. Reads the store only when the pull request is locked or a
    /// refusal was met.
    async fn held_under_an_unreadable_policy(
        &self,
        key: &PrKey,
        pull: &crate::pull::Pull,
    ) -> Result<Option<String>, EngineError> {
        let watched =
            if !pull.is_merged() && (pull.locked || self.refusals.last_refused(key).is_some()) {
                self.store.deadline_of(key).await?
            } else {
                None
            };
        let held = match &watched {
            Some((watch, posted)) => lock::held_for(
                &watch.escalation.clone().unwrap_or_default(),
                watch.started,
                watch.deadline,
                self.clock.now(),
                &(1..=*posted).collect::<Vec<u8>>(),
            ),
            None => Vec::new(),
        };
        Ok(self
            .refusals
            .lock(key, pull, &held)
            .filter(|_| !held.is_empty())
            .map(|lock| report::locked::locked_section(&lock, &held)))
    }

    /// Posts the escalations that are due; returns how many comments it
    /// posted. Errors are logged per pull request and retried next sweep.
    pub async fn sweep(&self) -> usize {
        let now = self.clock.now();
        let mut posted = 0;
        let due = match self.store.due_deadlines(now).await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read deadlines; sweep skipped");
                return 0;
            }
        };
        for (key, watch, _posted) in due {
            if self.budget_low(key.installation) {
                tracing::info!(
                    installation = key.installation,
                    "rate limit budget low; escalation postponed"
                );
                continue;
            }
            match self.escalate(&key, &watch, now).await {
                Ok(done) => {
                    if done.first || done.second || done.finished {
                        self.refusals.clear(&key);
                    }
                    if let Some(level) = done.held {
                        // A moderator's lock, not a fault. The check run
                        // names the level held back: render it again when
                        // a level is first held; the next sweep retries.
                        tracing::info!(repository = %key.repo, pr = key.number, level, "conversation locked; escalation held back, retried next sweep");
                        if self.refusals.refused(&key, now, level) {
                            self.rerender(&key).await;
                        }
                    }
                    posted += usize::from(done.first) + usize::from(done.second);
                    let level = if done.second { 2 } else { 1 };
                    let recorded = if done.finished {
                        self.store.forget_deadline(&key).await
                    } else if done.first || done.second {
                        self.store.escalated(&key, level).await
                    } else {
                        Ok(())
                    };
                    if let Err(e) = recorded {
                        // The markers on GitHub keep it from posting twice.
                        tracing::warn!(error = %e, "cannot record the escalation");
                    }
                    if done.first || done.second {
                        tracing::info!(repository = %key.repo, pr = key.number, "escalated");
                        // The report says whether escalation was posted:
                        // render it again now, the moment that changed.
                        self.rerender(&key).await;
                    }
                }
                Err(e) => {
                    tracing::warn!(repository = %key.repo, pr = key.number, error = %e, "escalation failed; retried next sweep");
                }
            }
        }
        posted
    }

    /// Queues a durable job for `key`, so that its report is rendered again
    /// by a worker holding the pull request's lease (never beside another
    /// evaluation of it). A failure is logged: the next delivery or sweep
    /// renders it too.
    async fn rerender(&self, key: &PrKey) {
        let job = Job {
            key: key.clone(),
            pull: None,
            trigger: Trigger::Full,
            deliveries: Vec::new(),
        };
        let queued = self
            .store
            .accept(
                None,
                &[job],
                &[],
                // The store's job times are the wall clock's, as the queue's
                // (the injected clock is the report's and the deadlines').
                chrono::Utc::now(),
                std::time::Duration::ZERO,
                u64::MAX,
            )
            .await;
        if let Err(e) = queued {
            tracing::warn!(repository = %key.repo, pr = key.number, error = %e, "cannot queue the report after escalation");
        }
    }

    async fn escalate(
        &self,
        key: &PrKey,
        watch: &escalation::Watch,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<escalation::Escalated, escalation::EscalateError> {
        let client = self.client(key).await?;
        let loaded = self.policy(&client).await?;
        // A policy in force that cannot be read must not silence an
        // escalation: the watch says which severity and deadline.
        let settings = match &loaded.policy {
            Ok(policy) => Ok(&policy.escalation),
            Err(_) => Err(loaded.shown_path.as_str()),
        };
        // Fresh state: the pull request may have merged since.
        let pull = client.get_pull(key.number).await?;
        // Closed since: only a writer's close stops it (fresh from the
        // timeline; unreadable means unknown, which keeps escalating).
        let stopped = if pull.state == "closed" && !pull.is_merged() {
            let by = closer::read_latest_closed(&client, key).await;
            closer::judge(&client, by, &Default::default())
                .await
                .stops_escalation()
        } else {
            false
        };
        escalation::escalate(
            &client,
            &self.store,
            key,
            settings,
            &pull,
            watch,
            now,
            stopped,
        )
        .await
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
            let loaded = self.policy(&client).await?;
            let Ok(policy) = &loaded.policy else {
                continue;
            };
            for pull in client.list_pulls(None, None, "open").await? {
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

    async fn watch_merge_back(
        &self,
        key: &PrKey,
        policy: &crate::policy::Policy,
        status: Option<&MergeBack>,
    ) -> Result<(), EngineError> {
        match status {
            Some(MergeBack::Open { .. } | MergeBack::Refused { .. } | MergeBack::Closed { .. }) => {
                self.store
                    .watch_merge_back(key, &policy.branches.develop, self.clock.now())
                    .await?;
            }
            _ => self.store.forget_merge_back(key).await?,
        }
        Ok(())
    }

    /// Hotfixes whose deadline is watched (all instances).
    pub async fn watched(&self) -> u64 {
        self.store.deadlines_watched().await.unwrap_or(0)
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
        // The head's copy is the author's: what it holds is a fact to
        // point at, never a reason for the evaluation to fail.
        let text = match client.read_file(POLICY_PATH, Some(head)).await? {
            crate::github::FileRead::Text(text) => text,
            // Deleted: the built-in default will apply.
            crate::github::FileRead::Missing => return Ok(Vec::new()),
            crate::github::FileRead::NotText(kind) => {
                return Ok(vec![publish::Annotation {
                    path: POLICY_PATH.to_string(),
                    line: 1,
                    message: format!(
                        "`{POLICY_PATH}` at the head is not a text file: it is {}; the policy cannot be read, and once merged hotfix-guard could not read the policy in force (every evaluation would fail until it is a text file again)",
                        kind.describe()
                    ),
                }]);
            }
        };
        Ok(match crate::policy::parse(&text) {
            Ok(_) => Vec::new(),
            Err(errors) => errors
                .into_iter()
                .map(|e| publish::Annotation {
                    path: POLICY_PATH.to_string(),
                    line: e.line.max(1),
                    // The message may quote the pull request's own file.
                    message: format!("{}:{}: {}", e.line, e.column, report::quoted(&e.message)),
                })
                .collect(),
        })
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
            let loaded = PolicyCache::default().get(&client, None).await?;
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
    let (pull, first) = gather::first_reads(&client, number).await?;
    let designation = gather::designation(&client, &[&policy], &pull, first).await?;
    let classification = rules::classify(&policy, &designation.labels, &pull.head.ref_name);
    let gathered = gather::facts(
        &client,
        &gather::Caches::default(),
        &policy,
        &classification,
        &pull,
        None,
        designation,
    )
    .await?;
    Ok((policy, source, gathered.facts))
}
