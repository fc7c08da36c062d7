//! Reads the evidence a hotfix's policy asks for (`require_checks`,
//! `require_deployment`) about its head commit, and nothing when it asks for
//! none. A source GitHub refuses (403 for a missing permission, 404 for one
//! the app may not see) becomes a named "unreadable" fact that the rule
//! fails closed on; a transient failure fails the evaluation, which is
//! retried.

use crate::github::{ErrorKind, GitHubError, RepoClient};
use crate::policy::Evidence;
use crate::rules::evidence::{CheckRunFact, DeploymentFact, EvidenceFacts, StatusFact};

/// The permission each source needs, for the report.
const CHECKS_PERMISSION: &str = "Checks: read";
const STATUSES_PERMISSION: &str = "Commit statuses: read";
const DEPLOYMENTS_PERMISSION: &str = "Deployments: read";

/// `None` when `required` asks for nothing: no call is made.
///
/// Calls: with required checks, `GET …/commits/{sha}/check-runs` (one page
/// per 100 runs) and `GET …/commits/{sha}/status`; with a required
/// deployment, `GET …/deployments?sha=&environment=` and one `GET
/// …/deployments/{id}/statuses` per deployment found (at most 5).
pub async fn gather(
    client: &RepoClient,
    required: &Evidence,
    head_sha: &str,
) -> Result<Option<EvidenceFacts>, GitHubError> {
    if required.is_empty() {
        return Ok(None);
    }
    let mut facts = EvidenceFacts::default();
    if !required.checks.is_empty() {
        match refused(client.commit_check_runs(head_sha).await, CHECKS_PERMISSION)? {
            Ok(runs) => {
                let ours = client.own_app_id();
                facts.check_runs = runs
                    .into_iter()
                    // Our own check runs are never evidence: the app would
                    // vouch for itself.
                    .filter(|run| ours.is_none() || run.app_id != ours)
                    .map(|run| CheckRunFact {
                        name: run.name,
                        app: run.app_slug,
                        status: run.status,
                        conclusion: run.conclusion,
                        url: run.html_url,
                    })
                    .collect();
            }
            Err(why) => facts.check_runs_unreadable = Some(why),
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
            ErrorKind::Forbidden | ErrorKind::Unauthorized | ErrorKind::NotFound => Ok(Err(
                format!(
                    "GitHub answered {} — the app needs the {permission} permission",
                    e.status.map_or("a refusal".to_string(), |s| s.to_string())
                ),
            )),
            _ => Err(e),
        },
    }
}
