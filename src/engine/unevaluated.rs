//! What a pull request's check run shows while its evaluation fails: the
//! "could not evaluate" failure (`report::unevaluated`), written at once
//! on the first failed try rather than after the last, so that a required
//! check never keeps an older `success` while the evaluation that would
//! replace it (a change request, a withdrawn approval, a new push) keeps
//! failing.

use std::time::Duration;

use super::Engine;
use super::publish::{Published, RunOwner};
use crate::events::{CHECK_NAME, PrKey};
use crate::report;

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
    pub async fn report_retrying(
        &self,
        key: &PrKey,
        error: &str,
        wait: Duration,
        rate_limited: bool,
    ) -> Option<Published> {
        let output = report::unevaluated::retrying(error, wait);
        self.write_unevaluated(key, &output, !rate_limited).await
    }

    /// The last try (`attempts`) of the evaluation of `key` failed with
    /// `error`: the run says so ("hotfix-guard could not evaluate this pull
    /// request"), so that nobody mistakes silence or an older verdict for
    /// a pass. Written over any earlier failure, whose text promised a
    /// retry.
    pub async fn report_failure(
        &self,
        key: &PrKey,
        attempts: u32,
        error: &str,
    ) -> Option<Published> {
        let output = report::unevaluated::given_up(attempts, error);
        self.write_unevaluated(key, &output, false).await
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
        let owner = RunOwner::Unevaluated {
            number: key.number,
            keep_failure,
        };
        match self
            .published
            .write_owned_check_run(
                &client,
                CHECK_NAME,
                &pull.head.sha,
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
