//! `audit.direct_pushes`: a push to the production branch that came
//! through no pull request (or a force push) gets one `hotfix-policy` check
//! run on the pushed commit with conclusion `action_required`, naming the
//! pusher and the commits, and one incident issue assigned to the pusher
//! that lists the procedure's after-the-fact steps. Both are found again
//! (the check run by name on the commit, the issue by its marker in an issue
//! this app wrote), so a redelivered push writes nothing new.
//!
//! Which policy decides: the current one, and, when the push changed the
//! policy file, also the one before the push, so that a direct push cannot
//! switch off its own audit.

use crate::events::{CHECK_NAME, PushAudit};
use crate::github::{
    CheckConclusion, CheckOutput, CheckRunUpdate, CheckStatus, ErrorKind, GitHubError, NewCheckRun,
    RepoClient,
};
use crate::policy::{POLICY_PATH, Policy};
use crate::rules::evidence::short_sha;
use crate::store::Store;

/// The label of the issue (shared with the follow-up issues).
pub const INCIDENT_LABEL: &str = "incident";
/// Incident issues scanned for an earlier report of the same push.
const ISSUES_SCANNED: usize = 300;

/// The marker that finds the issue about the push that made `after` the
/// branch's head.
pub fn marker(after: &str) -> String {
    format!("<!-- hotfix-guard:direct-push {after} -->")
}

/// What an audit did, for logs and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audited {
    /// Not the production branch, audit off, or the push merged a pull
    /// request.
    NotDirect,
    /// Reported: the issue and the check run exist (created now or before).
    Reported { issue: u64, created: bool },
}

/// Audits one push. `current` is the repository's policy now (`None` when
/// it is invalid). `store` records the claim on the commit's
/// `hotfix-policy` run before it may be created (`store::claims`); an
/// error recording it is returned as a transport error and nothing is
/// created (the job is retried). It may create or update that run: the
/// caller runs it inside `PublishCache::serialised` for the run.
pub async fn audit_push(
    client: &RepoClient,
    store: &Store,
    current: Option<&Policy>,
    push: &PushAudit,
) -> Result<Audited, GitHubError> {
    let mut policies: Vec<Policy> = current.cloned().into_iter().collect();
    if push.touches_policy
        && !push.before.is_empty()
        && let Some(text) = client.get_file(POLICY_PATH, Some(&push.before)).await?
        && let Ok(before) = crate::policy::parse(&text)
    {
        policies.push(before);
    }
    let applies = policies
        .iter()
        .any(|p| p.audit.direct_pushes && p.branches.production == push.branch);
    if !applies {
        return Ok(Audited::NotDirect);
    }
    if !push.forced {
        // A merge through GitHub makes the merge (or squashed, or last
        // rebased) commit the branch's new head, and lists the pull request
        // for it as merged into this branch with that merge commit.
        let pulls = client.commit_pulls(&push.after).await?;
        let through_pull_request = pulls.iter().any(|p| {
            p.merged_at.is_some()
                && p.base.ref_name == push.branch
                && p.merge_commit_sha.as_deref() == Some(push.after.as_str())
        });
        if through_pull_request {
            return Ok(Audited::NotDirect);
        }
    }
    let mark = marker(&push.after);
    let mut existing = None;
    for issue in client
        .list_issues_labelled(INCIDENT_LABEL, ISSUES_SCANNED)
        .await?
    {
        // Only an issue this app wrote (anyone can copy the marker), and
        // only the marker that opens its body, where `issue_body` puts it.
        if crate::report::markers::opens(&issue.body, &mark)
            && client.wrote(issue.via_app, &issue.user).await?
        {
            existing = Some(issue);
            break;
        }
    }
    let (number, url, created) = match existing {
        Some(issue) => (issue.number, issue.html_url, false),
        None => {
            let assignees: Vec<String> = (!push.pusher.is_empty())
                .then(|| push.pusher.clone())
                .into_iter()
                .collect();
            let labels = [INCIDENT_LABEL.to_string()];
            let (title, body) = (issue_title(push), issue_body(push));
            let issue = match client
                .create_issue(&title, &body, &labels, &assignees)
                .await
            {
                // A pusher GitHub will not assign (a bot, an account without
                // access any more) must not cost the report: open it
                // unassigned; the body names the pusher.
                Err(e) if matches!(e.kind, ErrorKind::Validation(_)) && !assignees.is_empty() => {
                    tracing::warn!(pusher = %push.pusher, error = %e, "pusher cannot be assigned");
                    client.create_issue(&title, &body, &labels, &[]).await?
                }
                other => other?,
            };
            (issue.number, issue.html_url, true)
        }
    };
    let output = CheckOutput {
        title: check_title(push),
        summary: check_summary(push, number),
        text: None,
        annotations: Vec::new(),
    };
    // Claimed before the lookup that may end in a create: an evaluation of
    // a pull request on this commit must not take the run for absent.
    if let Err(e) = store
        .claim_check_run(
            &client.repo_name(),
            &push.after,
            CHECK_NAME,
            chrono::Utc::now(),
        )
        .await
    {
        return Err(GitHubError::new(
            ErrorKind::Transport(format!("the store cannot record the claim: {e}")),
            "store: check_claims",
        ));
    }
    match client.find_check_run(&push.after, CHECK_NAME).await? {
        Some(run) if run.conclusion.as_deref() == Some("action_required") => {}
        Some(run) => {
            client
                .update_check_run(
                    run.id,
                    &CheckRunUpdate {
                        status: Some(CheckStatus::Completed),
                        conclusion: Some(CheckConclusion::ActionRequired),
                        completed_at: Some(chrono::Utc::now()),
                        details_url: Some(url.clone()),
                        output: Some(output),
                        ..CheckRunUpdate::default()
                    },
                )
                .await?;
        }
        None => {
            client
                .create_check_run(&NewCheckRun {
                    name: CHECK_NAME.to_string(),
                    head_sha: push.after.clone(),
                    status: Some(CheckStatus::Completed),
                    conclusion: Some(CheckConclusion::ActionRequired),
                    completed_at: Some(chrono::Utc::now()),
                    // GitHub asks action_required runs for a page that
                    // says what to do: the issue.
                    details_url: Some(url.clone()),
                    external_id: Some(format!("direct-push:{}", push.after)),
                    output: Some(output),
                    actions: Vec::new(),
                })
                .await?;
        }
    }
    Ok(Audited::Reported {
        issue: number,
        created,
    })
}

fn what(push: &PushAudit) -> &'static str {
    if push.forced {
        "Force push"
    } else {
        "Direct push"
    }
}

fn pusher(push: &PushAudit) -> String {
    if push.pusher.is_empty() {
        "an unknown account".to_string()
    } else {
        format!("@{}", push.pusher)
    }
}

/// "Direct push to main" / "Force push to main".
pub fn issue_title(push: &PushAudit) -> String {
    format!("{} to {}", what(push), push.branch)
}

/// "Direct push to main by @erin: 2 commits without a pull request".
pub fn check_title(push: &PushAudit) -> String {
    let n = push.commits.len();
    let commits = if n == 1 {
        "1 commit".to_string()
    } else {
        format!("{n} commits")
    };
    let how = if push.forced {
        "rewriting history"
    } else {
        "without a pull request"
    };
    format!(
        "{} to {} by {}: {commits}, {how}",
        what(push),
        push.branch,
        pusher(push)
    )
}

fn commit_table(push: &PushAudit) -> String {
    let mut out = String::from("| commit | message |\n| --- | --- |\n");
    for (sha, message) in &push.commits {
        // The message is the pusher's text: keep it one inert table cell.
        let message = crate::report::inert(message);
        out.push_str(&format!("| `{}` | {message} |\n", short_sha(sha)));
    }
    out
}

fn check_summary(push: &PushAudit, issue: u64) -> String {
    format!(
        "{} pushed to `{}` around the pull-request review the hotfix procedure requires{}.\n\n{}\nThe after-the-fact steps are in issue #{issue}.\n",
        pusher(push),
        push.branch,
        if push.forced {
            ", rewriting its history (a force push)"
        } else {
            ""
        },
        commit_table(push)
    )
}

/// The incident issue: what happened, and the procedure's steps after the
/// fact, as a checklist.
pub fn issue_body(push: &PushAudit) -> String {
    let head = short_sha(&push.after);
    let mut out = marker(&push.after);
    out.push('\n');
    out.push_str(&format!(
        "{} pushed {} straight to `{}`{}, so no pull request, approval or check of the hotfix procedure covered {}. The branch moved from `{}` to `{head}`.\n\n",
        pusher(push),
        match push.commits.len() {
            1 => "1 commit".to_string(),
            n => format!("{n} commits"),
        },
        push.branch,
        if push.forced { " with a force push that rewrote its history" } else { "" },
        if push.commits.len() == 1 { "it" } else { "them" },
        short_sha(&push.before),
    ));
    out.push_str(&commit_table(push));
    out.push_str(&format!(
        "\n**After the fact** (hotfix procedure), {}:\n\n\
         - [ ] Say why this could not wait for a pull request, and give it a severity (P0, P1, P2)\n\
         - [ ] Get the approvals that severity requires on these commits (a review of a pull request from `{}` to a branch, or a comment here)\n\
         - [ ] Run the automated test suite and the security scan on `{head}`\n\
         - [ ] Confirm the deployment: production healthy, error rates watched for 30 minutes, a rollback plan ready\n\
         - [ ] Bump the version and tag the release, and merge the fix back where the workflow needs it\n\
         - [ ] Hold the post-incident review and update the runbooks; then close this issue\n",
        pusher(push),
        head
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push(forced: bool) -> PushAudit {
        PushAudit {
            branch: "main".into(),
            before: "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0".into(),
            after: "a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2".into(),
            forced,
            pusher: "erin".into(),
            commits: vec![
                (
                    "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1".into(),
                    "fix: stop the leak".into(),
                ),
                (
                    "a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2".into(),
                    "fix: | and `ticks`".into(),
                ),
            ],
            touches_policy: false,
        }
    }

    #[test]
    fn direct_and_force_push_reports() {
        let mut out = String::new();
        for forced in [false, true] {
            let p = push(forced);
            out.push_str(&format!(
                "title: {}\ncheck: {}\n----- check summary -----\n{}----- issue -----\n{}\n",
                issue_title(&p),
                check_title(&p),
                check_summary(&p, 12),
                issue_body(&p)
            ));
        }
        insta::assert_snapshot!(out);
    }
}
