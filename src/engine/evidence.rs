//! Reads the evidence a hotfix's policy asks for (`require_checks`,
//! `require_deployment`) about its head commit, and nothing when it asks for
//! none. A source GitHub refuses (403 for a missing permission, 404 for one
//! the app may not see) becomes a named "unreadable" fact that the rule
//! fails closed on; a transient failure fails the evaluation, which is
//! retried.

use super::reads::GitHubReads;
use crate::github::{ErrorKind, GitHubError};
use crate::policy::Evidence;
use crate::rules::evidence::{CheckRunFact, DeploymentFact, EvidenceFacts, StatusFact};

/// The permission each source needs, for the report.
const CHECKS_PERMISSION: &str = "Checks: read";
const STATUSES_PERMISSION: &str = "Commit statuses: read";
const DEPLOYMENTS_PERMISSION: &str = "Deployments: read";

/// `None` when `required` asks for nothing: no call is made.
///
/// Calls: with required checks, `GET …/commits/{sha}/check-runs?check_name=`
/// per required name (one page per 100 runs of that name) and `GET
/// …/commits/{sha}/status`; with a required
/// deployment, `GET …/deployments?sha=&environment=` and one `GET
/// …/deployments/{id}/statuses` per deployment found (at most 5).
pub async fn gather<C: GitHubReads>(
    client: &C,
    required: &Evidence,
    head_sha: &str,
) -> Result<Option<EvidenceFacts>, GitHubError> {
    if required.is_empty() {
        return Ok(None);
    }
    let mut facts = EvidenceFacts::default();
    if !required.checks.is_empty() {
        // One read per required name: other checks on the commit, however
        // many, cannot push a required one out of the pages read.
        let mut names: Vec<&str> = required.checks.iter().map(|c| c.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        let ours = client.own_app_id();
        for name in names {
            match refused(
                client.commit_check_runs(head_sha, name).await,
                CHECKS_PERMISSION,
            )? {
                Ok((runs, complete)) => {
                    if !complete {
                        facts.check_runs_unreadable = Some(format!(
                            "more than 300 check runs named `{name}` on this commit: GitHub lists no more, so they cannot all be confirmed"
                        ));
                    }
                    facts.check_runs.extend(
                        runs.into_iter()
                            // Our own check runs are never evidence: the app
                            // would vouch for itself.
                            .filter(|run| ours.is_none() || run.app_id != ours)
                            .map(|run| CheckRunFact {
                                name: run.name,
                                app: run.app_slug,
                                status: run.status,
                                conclusion: run.conclusion,
                                url: run.html_url,
                            }),
                    );
                }
                Err(why) => facts.check_runs_unreadable = Some(why),
            }
        }
        match refused(client.commit_statuses(head_sha).await, STATUSES_PERMISSION)? {
            Ok(statuses) => {
                facts.statuses = statuses
                    .into_iter()
                    .map(|s| StatusFact {
                        context: s.context,
                        state: s.state,
                        creator: s.creator,
                        url: s.target_url,
                    })
                    .collect();
            }
            Err(why) => facts.statuses_unreadable = Some(why),
        }
    }
    if let Some(deployment) = &required.deployment {
        let read = client
            .commit_deployments(head_sha, &deployment.environment)
            .await;
        match refused(read, DEPLOYMENTS_PERMISSION)? {
            Ok(list) => {
                facts.deployments = list
                    .into_iter()
                    .map(|d| DeploymentFact {
                        id: d.id,
                        sha: d.sha,
                        environment: d.environment,
                        state: d.state,
                        url: d.url,
                    })
                    .collect();
            }
            Err(why) => facts.deployments_unreadable = Some(why),
        }
    }
    Ok(Some(facts))
}

/// A refusal (401/403/404) becomes `Ok(Err(why))`, naming the permission
/// the app needs; anything else stays an error that fails the evaluation.
fn refused<T>(
    result: Result<T, GitHubError>,
    permission: &str,
) -> Result<Result<T, String>, GitHubError> {
    match result {
        Ok(value) => Ok(Ok(value)),
        Err(e) => match e.kind {
            ErrorKind::Forbidden | ErrorKind::Unauthorized | ErrorKind::NotFound => {
                Ok(Err(format!(
                    "GitHub answered {} — the app needs the {permission} permission",
                    e.status.map_or("a refusal".to_string(), |s| s.to_string())
                )))
            }
            _ => Err(e),
        },
    }
}

/// What a change of the policy evaluates again in one repository
/// ([`super::Engine::judge_again`]): the pull requests' numbers, and the
/// recordings of `unjudged_pulls` read among them (forgotten once queued).
struct JudgeAgain {
    numbers: Vec<u64>,
    unjudged: Vec<crate::store::Unjudged>,
}

/// Repositories of an installation looked at, at most, when the
/// organisation's policy changes (as start-up discovery).
const ORG_REPOSITORIES: usize = 1_000;

impl super::Engine {
    /// A repository's commit job: audits its branch pushes, then finds the
    /// open hotfix pull requests whose head is one of the commits and
    /// queues their re-evaluation (durable jobs, so each runs under its own
    /// lease like every other). Costs nothing when the repository's policy
    /// requires no evidence; otherwise one `GET
    /// /repos/{o}/{r}/commits/{sha}/pulls` per commit the delivery named no
    /// pull request for. A change of the policy file on the default branch
    /// (`CommitWork::policy_changed`) queues what [`Self::judge_again`]
    /// names (every open pull request of the repository, and those
    /// evaluated while the policy could not be read), whatever the policy
    /// asks: each one's check was judged by the policy before the change;
    /// for the organisation's `.github` repository, the same in every
    /// repository that falls back to it.
    ///
    /// Errors: the first GitHub or store error, after doing all it could;
    /// the job is then retried whole (audits find their own issue again by
    /// its marker; queued re-evaluations are upserts), so nothing is lost.
    pub(super) async fn commit_work(
        &self,
        key: &crate::events::PrKey,
        work: &crate::events::CommitWork,
    ) -> Result<super::Outcome, super::EngineError> {
        use crate::events::Job;
        let client = self.client(key).await?;
        let loaded = self.policy(&client).await?;
        let mut first_error: Option<super::EngineError> = None;
        for push in &work.pushes {
            // The audit may create or update the commit's hotfix-policy
            // run: one writer of it at a time, like every other write.
            let audit =
                super::audit::audit_push(&client, &self.store, loaded.policy.as_ref().ok(), push);
            match self
                .published
                .serialised(&client, crate::events::CHECK_NAME, &push.after, audit)
                .await
            {
                Ok(super::audit::Audited::Reported { issue, created }) => {
                    tracing::warn!(
                        branch = %push.branch,
                        after = %push.after,
                        pusher = %push.pusher,
                        issue,
                        created,
                        "direct push to the production branch reported"
                    );
                }
                Ok(super::audit::Audited::NotDirect) => {}
                Err(e) => {
                    tracing::error!(after = %push.after, error = %e, "push audit failed; retried");
                    first_error.get_or_insert(e.into());
                }
            }
        }
        let mut numbers: Vec<u64> = Vec::new();
        let mut unjudged: Vec<crate::store::Unjudged> = Vec::new();
        if work.policy_changed {
            match self.judge_again(&client, key.installation, &key.repo).await {
                Ok(again) => (numbers, unjudged) = (again.numbers, again.unjudged),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot list the pull requests to evaluate again after a policy change; retried");
                    first_error.get_or_insert(e);
                }
            }
            // The organisation's policy (`{owner}/.github`) judges every
            // repository of the owner without a file of its own: theirs too.
            if key.repo.name == super::ORG_POLICY_REPO
                && let Err(e) = self.judged_by_the_org_policy(key).await
            {
                tracing::warn!(error = %e, "cannot evaluate again the repositories judged by the organisation's policy; retried");
                first_error.get_or_insert(e);
            }
        }
        if let Ok(policy) = &loaded.policy
            && policy.evidence.any()
            && (!work.commits.is_empty() || work.overflow)
        {
            if work.overflow {
                for pull in client.list_pulls(None, None, "open").await? {
                    numbers.push(pull.number);
                }
            }
            for (sha, named) in &work.commits {
                if !named.is_empty() {
                    numbers.extend(named);
                    continue;
                }
                match client.commit_pulls(sha).await {
                    Ok(pulls) => numbers.extend(
                        pulls
                            .into_iter()
                            .filter(|p| p.state == "open" && &p.head.sha == sha)
                            // Only hotfixes carry evidence rules: others keep
                            // their neutral check without another evaluation.
                            .filter(|p| {
                                crate::rules::classify(policy, &p.label_names(), &p.head.ref_name)
                                    .is_hotfix()
                            })
                            .map(|p| p.number),
                    ),
                    Err(e) => {
                        tracing::warn!(%sha, error = %e, "cannot find the pull requests of a commit; retried");
                        first_error.get_or_insert(e.into());
                    }
                }
            }
        }
        let jobs = Job::full_evaluations(key, numbers);
        self.queue_judged_again(key, &jobs, &unjudged).await?;
        match first_error {
            Some(e) => Err(e),
            None => Ok(super::Outcome::Routed { pulls: jobs.len() }),
        }
    }

    /// After the organisation's policy changed (a push to `key`'s
    /// repository, `{owner}/.github`): for each other repository of the
    /// owner in the installation (`GET /installation/repositories`, at most
    /// [`ORG_REPOSITORIES`]) that has no policy file of its own, queues the
    /// full evaluations [`Self::judge_again`] names. Costs one listing per
    /// repository and the policy read (cached) that tells its source.
    async fn judged_by_the_org_policy(
        &self,
        key: &crate::events::PrKey,
    ) -> Result<(), super::EngineError> {
        let installation = self.github.installation(key.installation).await?;
        let repositories = installation.list_repositories(ORG_REPOSITORIES).await?;
        if repositories.len() >= ORG_REPOSITORIES {
            // A stated limit, never a silent one: repositories past it keep
            // checks judged by the old policy until their next delivery.
            tracing::warn!(
                owner = %key.repo.owner,
                limit = ORG_REPOSITORIES,
                "the organisation's policy changed: only the first repositories of the installation are evaluated again; the others at their next delivery"
            );
        }
        for repo in repositories {
            if !repo.owner.eq_ignore_ascii_case(&key.repo.owner) || repo.name == key.repo.name {
                continue;
            }
            let client = installation.repo(&repo.owner, &repo.name);
            if self.policy(&client).await?.source == super::PolicySource::Repository {
                continue;
            }
            let again = self.judge_again(&client, key.installation, &repo).await?;
            let repo_key = crate::events::PrKey {
                installation: key.installation,
                repo,
                number: crate::events::COMMITS_JOB,
            };
            let jobs = crate::events::Job::full_evaluations(&repo_key, again.numbers);
            self.queue_judged_again(&repo_key, &jobs, &again.unjudged)
                .await?;
        }
        Ok(())
    }

    /// What a change of the policy evaluates again in `repo` (read through
    /// `client`): its open pull requests (`GET /pulls?state=open`, every
    /// page up to the cap), then those evaluated while the policy could not
    /// be read (`Store::unjudged`: a hotfix closed since by someone without
    /// write access keeps escalating, and is not among the open ones).
    async fn judge_again(
        &self,
        client: &crate::github::RepoClient,
        installation: u64,
        repo: &crate::events::RepoName,
    ) -> Result<JudgeAgain, super::EngineError> {
        let mut numbers: Vec<u64> = client
            .list_pulls(None, None, "open")
            .await?
            .iter()
            .map(|p| p.number)
            .collect();
        let unjudged = self.store.unjudged(installation, repo).await?;
        numbers.extend(unjudged.iter().map(|u| u.number));
        Ok(JudgeAgain { numbers, unjudged })
    }

    /// Queues `jobs` (of `key`'s repository), then forgets the recordings
    /// of `unjudged_pulls` they cover: forgotten only once queued, so a
    /// crash between the two evaluates them twice, never not at all.
    async fn queue_judged_again(
        &self,
        key: &crate::events::PrKey,
        jobs: &[crate::events::Job],
        unjudged: &[crate::store::Unjudged],
    ) -> Result<(), super::EngineError> {
        self.queue_evaluations(jobs).await?;
        self.store
            .forget_unjudged(key.installation, &key.repo, unjudged)
            .await?;
        Ok(())
    }

    /// Queues a commit job's follow-on evaluations (durable, upserts).
    async fn queue_evaluations(
        &self,
        jobs: &[crate::events::Job],
    ) -> Result<(), super::EngineError> {
        if !jobs.is_empty() {
            // Wall-clock times, as every job's; no capacity bound: these
            // pull requests were accepted once already, as this job.
            self.store
                .accept(
                    None,
                    jobs,
                    &[],
                    chrono::Utc::now(),
                    std::time::Duration::ZERO,
                    u64::MAX,
                )
                .await?;
        }
        Ok(())
    }
}
