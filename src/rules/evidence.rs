//! Evidence before merge: required checks and a staging deployment of the
//! head commit (`require_checks`, `require_deployment`). Pure: the engine
//! reads the facts (`engine::evidence`), this decides.
//!
//! How a required check is decided, most severe first, over every source
//! named like it (the newest check run of each app, and the commit status
//! of that context), so that a second source can never outvote a failing
//! one:
//! 1. any source failed (or concluded `neutral`/`skipped` where the policy
//!    does not allow it) → fail, naming the check;
//! 2. a source the app could not read (a 403 for a missing permission) →
//!    fail closed, naming what could not be read;
//! 3. any source still running → pending ("waits for `test`");
//! 4. some source passed → pass;
//! 5. none at all → fail: "`test` has not reported on abc1234".

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::policy::{Evidence, RequiredCheck, RequiredDeployment};
use crate::rules::result::{RuleId, RuleResult, RuleStatus};

/// A check run on the head commit, as `GET
/// /repos/{o}/{r}/commits/{sha}/check-runs` lists it (the app's own runs
/// are left out by the engine).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CheckRunFact {
    pub name: String,
    /// The slug of the GitHub App that created it (`app.slug`).
    #[serde(default)]
    pub app: Option<String>,
    /// `queued`, `in_progress`, `completed`, `waiting`, `requested`, `pending`.
    pub status: String,
    /// Set once completed: `success`, `failure`, `neutral`, `skipped`,
    /// `cancelled`, `timed_out`, `action_required`, `stale`, ...
    #[serde(default)]
    pub conclusion: Option<String>,
    /// `html_url` (or `details_url`): where a person reads the result.
    #[serde(default)]
    pub url: Option<String>,
}

/// A commit status on the head commit, as `GET
/// /repos/{o}/{r}/commits/{sha}/status` gives the latest one per context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StatusFact {
    pub context: String,
    /// `success`, `pending`, `failure` or `error`.
    pub state: String,
    /// The login that posted it (`creator.login`), e.g. `ci-bot[bot]`.
    #[serde(default)]
    pub creator: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
}

/// A deployment from `GET /repos/{o}/{r}/deployments?sha=&environment=`
/// with its latest status from `GET .../deployments/{id}/statuses`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DeploymentFact {
    pub id: u64,
    /// The commit deployed (`sha`).
    pub sha: String,
    pub environment: String,
    /// The newest status's `state`: `success`, `failure`, `error`,
    /// `inactive`, `in_progress`, `queued`, `pending`; `None` when it has
    /// no status yet.
    #[serde(default)]
    pub state: Option<String>,
    /// The status's `log_url`/`environment_url`, where known.
    #[serde(default)]
    pub url: Option<String>,
}

/// What the engine read about the head commit's evidence. A field of
/// `unreadable` names a source GitHub refused, and why.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct EvidenceFacts {
    #[serde(default)]
    pub check_runs: Vec<CheckRunFact>,
    #[serde(default)]
    pub statuses: Vec<StatusFact>,
    #[serde(default)]
    pub deployments: Vec<DeploymentFact>,
    /// Why check runs could not be read (e.g. "403 … needs Checks: read").
    #[serde(default)]
    pub check_runs_unreadable: Option<String>,
    #[serde(default)]
    pub statuses_unreadable: Option<String>,
    #[serde(default)]
    pub deployments_unreadable: Option<String>,
}

/// The first 7 characters of a commit sha, as GitHub shows it.
pub fn short_sha(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

fn link(text: &str, url: Option<&str>) -> String {
    match url {
        Some(url) if url.starts_with("https://") || url.starts_with("http://") => {
            format!("[{text}]({url})")
        }
        _ => text.to_string(),
    }
}

/// Why nothing is known when the facts carry no evidence at all.
const NOT_GATHERED: &str = "no evidence in the facts";

/// One source's say about a required check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Say {
    Passed,
    Running,
    Failed,
}

/// The rows for `required`: one per required check, then the deployment.
/// `facts` is `None` when nothing was read (e.g. a `simulate` file without
/// evidence): every requirement then fails closed.
pub fn check(
    required: &Evidence,
    facts: Option<&EvidenceFacts>,
    head_sha: &str,
    head_ref: &str,
) -> Vec<RuleResult> {
    let empty = EvidenceFacts {
        check_runs_unreadable: Some(NOT_GATHERED.to_string()),
        statuses_unreadable: Some(NOT_GATHERED.to_string()),
        deployments_unreadable: Some(NOT_GATHERED.to_string()),
        ..EvidenceFacts::default()
    };
    let facts = facts.unwrap_or(&empty);
    let mut out: Vec<RuleResult> = required
        .checks
        .iter()
        .map(|c| one_check(c, facts, head_sha))
        .collect();
    if let Some(deployment) = &required.deployment {
        out.push(deployment_result(deployment, facts, head_sha, head_ref));
    }
    out
}

fn one_check(required: &RequiredCheck, facts: &EvidenceFacts, head_sha: &str) -> RuleResult {
    let name = required.name.as_str();
    let short = short_sha(head_sha);
    let bot = required.app.as_ref().map(|slug| format!("{slug}[bot]"));
    // (what it says, how it is described, link)
    let mut sources: Vec<(Say, String, Option<String>)> = Vec::new();
    for run in facts.check_runs.iter().filter(|r| r.name == name) {
        if let Some(app) = &required.app
            && run.app.as_deref() != Some(app.as_str())
        {
            continue;
        }
        let say = match (run.status.as_str(), run.conclusion.as_deref()) {
            ("completed", Some("success")) => Say::Passed,
            ("completed", Some("neutral")) if required.allow.neutral => Say::Passed,
            ("completed", Some("skipped")) if required.allow.skipped => Say::Passed,
            ("completed", _) => Say::Failed,
            _ => Say::Running,
        };
        let state = match (run.status.as_str(), run.conclusion.as_deref()) {
            ("completed", Some(conclusion)) => conclusion.to_string(),
            (status, _) => status.replace('_', " "),
        };
        let by = run
            .app
            .as_deref()
            .map(|a| format!(" by {a}"))
            .unwrap_or_default();
        sources.push((say, format!("check run{by}: {state}"), run.url.clone()));
    }
    for status in facts.statuses.iter().filter(|s| s.context == name) {
        if let Some(bot) = &bot
            && !status
                .creator
                .as_deref()
                .is_some_and(|c| c.eq_ignore_ascii_case(bot))
        {
            continue;
        }
        let say = match status.state.as_str() {
            "success" => Say::Passed,
            "pending" => Say::Running,
            _ => Say::Failed,
        };
        sources.push((
            say,
            format!("commit status: {}", status.state),
            status.url.clone(),
        ));
    }
    let pinned = required
        .app
        .as_ref()
        .map(|a| format!(" from {a}"))
        .unwrap_or_default();
    let worst = sources.iter().map(|(say, _, _)| *say).max();
    let shown = |wanted: Say| -> String {
        sources
            .iter()
            .filter(|(say, _, _)| *say == wanted)
            .map(|(_, text, url)| link(text, url.as_deref()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let unreadable: Vec<String> = [
        facts
            .check_runs_unreadable
            .as_ref()
            .map(|why| format!("check runs ({why})")),
        facts
            .statuses_unreadable
            .as_ref()
            .map(|why| format!("commit statuses ({why})")),
    ]
    .into_iter()
    .flatten()
    .collect();
    match worst {
        Some(Say::Failed) => RuleResult::fail(
            RuleId::RequiredCheck,
            format!("`{name}` failed"),
            format!("`{name}` failed on {short}: {}", shown(Say::Failed)),
        )
        .with_next_step(format!(
            "fix `{name}`: it failed on `{short}`; push a fix or re-run it"
        )),
        _ if !unreadable.is_empty() => RuleResult::fail(
            RuleId::RequiredCheck,
            format!("`{name}` unknown"),
            format!(
                "`{name}` cannot be confirmed on {short}: hotfix-guard could not read {}",
                unreadable.join(" or ")
            ),
        )
        .with_next_step(format!(
            "let hotfix-guard read `{name}`: grant the app the Checks and Commit statuses read permissions"
        )),
        Some(Say::Running) => RuleResult::pending(
            RuleId::RequiredCheck,
            format!("waits for `{name}`"),
            format!("`{name}` is still running on {short}: {}", shown(Say::Running)),
        ),
        Some(Say::Passed) => RuleResult::pass(
            RuleId::RequiredCheck,
            format!("`{name}` passed on {short}: {}", shown(Say::Passed)),
        ),
        None => RuleResult::fail(
            RuleId::RequiredCheck,
            format!("`{name}` missing"),
            format!("`{name}` has not reported on {short}: no check run{pinned} or commit status of that name"),
        )
        .with_next_step(format!(
            "run `{name}` on `{short}`: no check run{pinned} or commit status named `{name}` yet"
        )),
    }
}

fn deployment_result(
    required: &RequiredDeployment,
    facts: &EvidenceFacts,
    head_sha: &str,
    head_ref: &str,
) -> RuleResult {
    let env = required.environment.as_str();
    let short = short_sha(head_sha);
    if let Some(why) = &facts.deployments_unreadable {
        return RuleResult::fail(
            RuleId::Deployment,
            format!("{env} deployment unknown"),
            format!("the {env} deployment of {short} cannot be confirmed: hotfix-guard could not read deployments ({why})"),
        )
        .with_next_step(
            "let hotfix-guard read deployments: grant the app the Deployments read permission",
        );
    }
    // The API filters by sha and environment; filter again so that a
    // deployment of another commit can never count.
    let ours: Vec<&DeploymentFact> = facts
        .deployments
        .iter()
        .filter(|d| d.sha == head_sha && d.environment == env)
        .collect();
    if let Some(done) = ours.iter().find(|d| d.state.as_deref() == Some("success")) {
        return RuleResult::pass(
            RuleId::Deployment,
            format!(
                "{} to {env}: success",
                link(&format!("{short} deployed"), done.url.as_deref())
            ),
        );
    }
    if let Some(running) = ours.iter().find(|d| {
        matches!(
            d.state.as_deref(),
            None | Some("queued" | "pending" | "in_progress")
        )
    }) {
        let state = running
            .state
            .as_deref()
            .unwrap_or("created")
            .replace('_', " ");
        return RuleResult::pending(
            RuleId::Deployment,
            format!("waits for the {env} deployment"),
            format!(
                "{}: {state}",
                link(
                    &format!("deployment of {short} to {env}"),
                    running.url.as_deref()
                )
            ),
        );
    }
    let detail = match ours.first() {
        Some(last) => format!(
            "the latest {} ended `{}`: no successful {env} deployment of {short}",
            link(
                &format!("deployment of {short} to {env}"),
                last.url.as_deref()
            ),
            last.state.as_deref().unwrap_or("unknown")
        ),
        None => format!("no successful {env} deployment of {short} yet"),
    };
    RuleResult::fail(
        RuleId::Deployment,
        format!("needs a successful {env} deployment"),
        detail,
    )
    .with_next_step(format!(
        "deploy `{head_ref}` to {env}: no successful {env} deployment of `{short}` yet"
    ))
}

/// True when a result waits for something still running.
pub fn is_pending(result: &RuleResult) -> bool {
    result.status == RuleStatus::Pending
}

#[cfg(test)]
mod tests;
