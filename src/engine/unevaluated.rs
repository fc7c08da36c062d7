//! What a pull request's check run shows while its evaluation fails: the
//! "could not evaluate" failure (`report::unevaluated`), written at once
//! on the first failed try rather than after the last, so that a required
//! check never keeps an older `success` while the evaluation that would
//! replace it (a change request, a withdrawn approval, a new push) keeps
//! failing.

use std::time::Duration;

use super::Engine;
use super::publish::{Published, RunOwner};
use crate::events::{CHECK_NAME, CommitWork, Job, PrKey, Trigger};
use crate::github::RepoClient;
use crate::report;

/// Head commits of one failed commit job whose runs' owners are read, at
/// most (one store read each; `events::MAX_COMMITS` bounds the job).
const MAX_COMMIT_RUNS: usize = 256;

impl Engine {
    /// Try `attempt` of the evaluation of `key` failed with `error` (the
    /// engine's error, displayed) and runs again in `wait`. Unless the
    /// run this app last wrote on the pull request's current head already
    /// shows `failure` (the store's record of its writes, shared by every
    /// instance, else GitHub's run: never this instance's memory), the
    /// run becomes "hotfix-guard could not evaluate this pull request
    /// yet" (`failure`), naming the error and the wait. A `rate_limited`
    /// wait is written even over a failure: it may be long, and the run
    /// says how long. GitHub unreachable for this write too: logged, and
    /// the retry happens all the same.
    ///
    /// A repository's commit job has no run of its own: its pull requests
    /// are queued for evaluation instead (`route_failed_commits`).
    pub async fn report_retrying(
        &self,
        job: &Job,
        error: &str,
        wait: Duration,
        rate_limited: bool,
    ) -> Option<Published> {
        let output = report::unevaluated::retrying(error, wait);
        if let Trigger::Commits(work) = &job.trigger {
            self.route_failed_commits(&job.key, work).await;
            return None;
        }
        self.write_unevaluated(&job.key, &output, !rate_limited)
            .await
    }

    /// The last try (`attempts`) of the evaluation of `key` failed with
    /// `error`: the run says so ("hotfix-guard could not evaluate this pull
    /// request"), so that nobody mistakes silence or an older verdict for
    /// a pass. Written over any earlier failure, whose text promised a
    /// retry.
    /// A commit job's last try routes its pull requests as every failed
    /// try does (`route_failed_commits`): its units leave the store now.
    pub async fn report_failure(&self, job: &Job, attempts: u32, error: &str) -> Option<Published> {
        let output = report::unevaluated::given_up(attempts, error);
        if let Trigger::Commits(work) = &job.trigger {
            self.route_failed_commits(&job.key, work).await;
            return None;
        }
        self.write_unevaluated(&job.key, &output, false).await
    }

    /// A commit job (checks, statuses or deployments of `work.commits`
    /// changed: evidence a hotfix's verdict rests on) failed. Its pull
    /// requests are evaluated anyway, each in its own job: those the
    /// deliveries named (`check_run.pull_requests`, GitHub's) and those
    /// whose verdict the store records on one of the commits' runs
    /// (`external_id` `hotfix-pr:N`, written by this app), and those whose
    /// verdict recorded on one of the commits is unmet or who were never
    /// judged there (`commit_verdicts`). A red CI run
    /// must not leave the older `success` standing while the router that
    /// would re-evaluate the hotfix keeps failing (the audit of a push, or
    /// `GET /commits/{sha}/pulls`, say); and each of those evaluations,
    /// should it fail in turn, says so on its own run. Nothing is asked
    /// of GitHub; an overflowing job (every open hotfix) names no commits
    /// and routes only what the store knows of none: nothing.
    async fn route_failed_commits(&self, key: &PrKey, work: &CommitWork) {
        let mut numbers: Vec<u64> = Vec::new();
        for (sha, named) in work.commits.iter().take(MAX_COMMIT_RUNS) {
            numbers.extend(named);
            match self
                .store
                .published_check(&key.repo, &format!("check:{CHECK_NAME}@{sha}"))
                .await
            {
                Ok(record) => numbers.extend(
                    record
                        .and_then(|r| r.shows)
                        .and_then(|(id, _)| id)
                        .and_then(|id| id.strip_prefix("hotfix-pr:")?.parse::<u64>().ok()),
                ),
                Err(e) => {
                    tracing::warn!(error = %e, %sha, "cannot read whose verdict a commit's check run shows");
                }
            }
            // Those with an unmet verdict recorded on the commit, and those
            // never judged there (a placeholder names `pr:N`, not
            // `hotfix-pr:N`): `commit_verdicts`.
            match self
                .store
                .unmet_commit_verdicts(&key.repo, sha, crate::events::COMMITS_JOB)
                .await
            {
                Ok(unmet) => numbers.extend(unmet),
                Err(e) => {
                    tracing::warn!(error = %e, %sha, "cannot read the unmet verdicts on a commit");
                }
            }
        }
        let jobs = Job::full_evaluations(key, numbers);
        if jobs.is_empty() {
            return;
        }
        // As `commit_work` routes them: no capacity bound (accepted once
        // already, as this job).
        if let Err(e) = self
            .store
            .accept(
                None,
                &jobs,
                &[],
                chrono::Utc::now(),
                Duration::ZERO,
                u64::MAX,
            )
            .await
        {
            tracing::warn!(error = %e, "the failed commit job's pull requests were not queued");
        } else {
            tracing::info!(
                pulls = jobs.len(),
                "the failed commit job's pull requests queued for evaluation"
            );
        }
    }

    /// Writes `output` on the check run of the head GitHub gives for the
    /// pull request now (`GET /repos/{o}/{r}/pulls/{n}` → `head.sha`), as a
    /// placeholder of the pull request (`RunOwner::Unevaluated`: its next
    /// verdict replaces it, and it never replaces another hotfix's unmet
    /// verdict's owner). `None`: nothing could be written (logged).
    async fn write_unevaluated(
        &self,
        key: &PrKey,
        output: &report::CheckOutput,
        keep_failure: bool,
    ) -> Option<Published> {
        if key.number == crate::events::COMMITS_JOB {
            // A repository's commit job has no check run of its own; the
            // pull requests it would re-evaluate keep their last one.
            tracing::warn!(repository = %key.repo, "commit job failed: {}", output.summary);
            return None;
        }
        let client = match self.client(key).await {
            Ok(client) => client,
            Err(e) => {
                tracing::warn!(error = %e, "cannot say on the check run that the evaluation failed");
                return None;
            }
        };
        let pull = match client.get_pull(key.number).await {
            Ok(pull) => pull,
            Err(e) => {
                tracing::warn!(error = %e, "cannot say on the check run that the evaluation failed");
                return None;
            }
        };
        self.write_placeholder(&client, &pull.head.sha, key.number, output, keep_failure)
            .await
    }

    /// Writes `output` on the run of `head_sha` as pull request `number`'s
    /// placeholder (`RunOwner::Unevaluated`). `None`: not written (logged).
    async fn write_placeholder(
        &self,
        client: &RepoClient,
        head_sha: &str,
        number: u64,
        output: &report::CheckOutput,
        keep_failure: bool,
    ) -> Option<Published> {
        let owner = RunOwner::Unevaluated {
            number,
            keep_failure,
        };
        match self
            .published
            .write_owned_check_run(
                client,
                CHECK_NAME,
                head_sha,
                output,
                Vec::new(),
                false,
                owner,
            )
            .await
        {
            Ok(published) => Some(published),
            Err(e) => {
                tracing::warn!(error = %e, "could not say on the check run that the evaluation failed");
                None
            }
        }
    }
}
