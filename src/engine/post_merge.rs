//! After a hotfix merges into the production branch: merge it back into
//! `develop` (git-flow), tag the release, open the follow-up issue. Each
//! step is idempotent against GitHub's own state (the branch, the open
//! pull request, the tag, the marker in the sticky comment), so a
//! redelivery, a restart or a second instance never does it twice.

use chrono::{DateTime, Utc};

use crate::events::{MERGE_BACK_CHECK_NAME, MERGE_BACK_PREFIX};
use crate::github::{CommentInfo, GitHubError, RepoClient};
use crate::policy::{Policy, Severity};
use crate::pull::Pull;
use crate::report::post_merge::{
    self, FOLLOW_UP_MARKER, FollowUp, IncidentFacts, MergeBack, PostMerge, Tag,
};
use crate::report::{COMMENT_MARKER, CheckOutput};
use crate::rules::{self, PullRequestFacts, Verdict};

use super::publish::PublishCache;

pub const MERGE_BACK_LABEL: &str = "merge-back";
pub const INCIDENT_LABEL: &str = "incident";

pub fn merge_back_branch(number: u64) -> String {
    format!("{MERGE_BACK_PREFIX}{number}")
}

pub struct Context<'a> {
    pub client: &'a RepoClient,
    pub published: &'a PublishCache,
    pub policy: &'a Policy,
    pub severity: Option<&'a Severity>,
    pub pull: &'a Pull,
    pub facts: &'a PullRequestFacts,
    pub verdict: &'a Verdict,
    pub comments: &'a [CommentInfo],
    /// A re-run was asked for: write the merge-back check run even when
    /// unchanged.
    pub rerun: bool,
}

pub async fn run(cx: &Context<'_>) -> Result<PostMerge, GitHubError> {
    let Some(merge_sha) = cx.pull.merge_commit_sha.as_deref() else {
        return Ok(PostMerge::default());
    };
    // `checks.merge_back` is the one switch: validation turns it on only
    // under git-flow (the default there, an error elsewhere).
    let merge_back = if cx.policy.checks.merge_back {
        Some(merge_back(cx, merge_sha).await?)
    } else {
        None
    };
    let tag = if cx.policy.release.tag {
        Some(tag(cx, merge_sha).await?)
    } else {
        None
    };
    let follow_up = match cx.severity.and_then(|s| s.follow_up.as_ref()) {
        Some(follow_up) => Some(follow_up_issue(cx, &follow_up.title, follow_up.within).await?),
        None => None,
    };
    Ok(PostMerge {
        merge_back,
        tag,
        follow_up,
    })
}

async fn merge_back(cx: &Context<'_>, merge_sha: &str) -> Result<MergeBack, GitHubError> {
    let develop = cx.policy.branches.develop.clone();
    let client = cx.client;
    if client.get_branch(&develop).await?.is_none() {
        return Ok(MergeBack::NoDevelop { develop });
    }
    // `behind` or `identical`: develop already has the merge commit.
    let compare = client.compare(&develop, merge_sha).await?;
    let status = if matches!(compare.status.as_str(), "behind" | "identical") {
        MergeBack::Contained {
            develop: develop.clone(),
        }
    } else {
        open_merge_back(cx, merge_sha, &develop).await?
    };
    let output = match &status {
        MergeBack::Contained { develop } => CheckOutput {
            conclusion: "success",
            title: format!("{develop} contains the hotfix"),
            summary: format!(
                "`{develop}` contains the merge commit of #{}.",
                cx.pull.number
            ),
            text: None,
        },
        MergeBack::Open {
            number,
            url,
            develop,
        } => CheckOutput {
            conclusion: "in_progress",
            title: format!("Waiting for #{number} to merge into {develop}"),
            summary: format!(
                "The hotfix #{} is merged but `{develop}` does not contain it yet. Merge [#{number}]({url}) so that the next release keeps the fix.",
                cx.pull.number
            ),
            text: None,
        },
        MergeBack::Refused {
            develop,
            branch,
            reason,
        } => CheckOutput {
            conclusion: "failure",
            title: format!("Merge the hotfix back into {develop} by hand"),
            summary: format!(
                "GitHub refused to open the merge-back pull request ({}). Run:\n\n{}",
                crate::report::quoted(reason),
                post_merge::manual_merge_back(develop, branch)
            ),
            text: None,
        },
        MergeBack::Closed {
            number,
            url,
            develop,
            branch,
            closed_by,
        } => CheckOutput {
            conclusion: "failure",
            title: format!("#{number} was closed without merging: merge the hotfix into {develop}"),
            summary: post_merge::closed_merge_back_summary(
                cx.pull.number,
                *number,
                url,
                develop,
                branch,
                closed_by.as_deref(),
            ),
            text: None,
        },
        MergeBack::NoDevelop { .. } => return Ok(status),
    };
    cx.published
        .write_owned_check_run(
            client,
            MERGE_BACK_CHECK_NAME,
            merge_sha,
            &output,
            Vec::new(),
            cx.rerun,
            super::publish::RunOwner::MergeBack(cx.pull.number),
        )
        .await?;
    Ok(status)
}

async fn open_merge_back(
    cx: &Context<'_>,
    merge_sha: &str,
    develop: &str,
) -> Result<MergeBack, GitHubError> {
    let client = cx.client;
    let number = cx.pull.number;
    let branch = merge_back_branch(number);
    let refused = |reason: String| MergeBack::Refused {
        develop: develop.to_string(),
        branch: cx.pull.head.ref_name.clone(),
        reason,
    };
    match client
        .create_ref(&format!("refs/heads/{branch}"), merge_sha)
        .await
    {
        Ok(()) => {}
        // Made by an earlier delivery, run or instance: reuse it.
        Err(e) if e.is_already_exists() => {}
        Err(e) if !e.is_transient() => return Ok(refused(e.to_string())),
        Err(e) => return Err(e),
    }
    let head = format!("{}:{branch}", client.owner());
    // Every state (one list, as before): an open one is waited on; when
    // the newest was closed without merging, a person closed it and a
    // person decides (reopen or merge by hand), so the check fails saying
    // so rather than the app opening another one each time it is closed.
    let existing = client.list_pulls(Some(&head), Some(develop), "all").await?;
    if let Some(open) = existing.iter().find(|p| p.state == "open") {
        return Ok(MergeBack::Open {
            number: open.number,
            url: open.html_url.clone().unwrap_or_default(),
            develop: develop.to_string(),
        });
    }
    // A list answer carries `merged_at`, not `merged`.
    if let Some(closed) = existing
        .iter()
        .max_by_key(|p| p.number)
        .filter(|p| !p.is_merged())
    {
        let closed_by = match client.timeline(closed.number).await {
            Ok(timeline) => super::closer::latest_closed(&timeline).map(|(login, _)| login),
            Err(e) => {
                tracing::warn!(pr = closed.number, error = %e, "cannot read who closed the merge-back pull request");
                None
            }
        };
        return Ok(MergeBack::Closed {
            number: closed.number,
            url: closed.html_url.clone().unwrap_or_default(),
            develop: develop.to_string(),
            branch: cx.pull.head.ref_name.clone(),
            closed_by,
        });
    }
    // The author's title and branch name, in a pull request the app opens;
    // the title cut to what GitHub accepts.
    let title = crate::report::title::fit_title(&format!(
        "Merge back hotfix #{number}: {}",
        crate::report::quoted(&cx.pull.title)
    ));
    let body = format!(
        "Brings hotfix #{number} into `{develop}`, as the hotfix procedure's Git Flow step 5 asks:\n\n\
> **Merge back to develop**\n> ```bash\n> git checkout {develop}\n> git merge --no-ff {head_ref}\n> git push origin {develop}\n> ```\n\n\
Without it the next release from `{develop}` brings the bug back. Opened by hotfix-guard; merge it like any pull request (resolve conflicts on this branch if there are any).",
        head_ref = crate::report::quoted(&cx.pull.head.ref_name),
    );
    let created = match client.create_pull(&title, &branch, develop, &body).await {
        Ok(created) => created,
        Err(e) if e.is_already_exists() => {
            // Another instance opened it between our look and our write.
            match client
                .list_pulls(Some(&head), Some(develop), "open")
                .await?
                .into_iter()
                .next()
            {
                Some(open) => open,
                None => return Ok(refused(e.to_string())),
            }
        }
        Err(e) if !e.is_transient() => return Ok(refused(e.to_string())),
        Err(e) => return Err(e),
    };
    if let Err(e) = client
        .add_labels(created.number, &[MERGE_BACK_LABEL.to_string()])
        .await
    {
        tracing::warn!(error = %e, "could not label the merge-back pull request");
    }
    Ok(MergeBack::Open {
        number: created.number,
        url: created.html_url.unwrap_or_default(),
        develop: develop.to_string(),
    })
}

async fn tag(cx: &Context<'_>, merge_sha: &str) -> Result<Tag, GitHubError> {
    let Some(version) = rules::new_version(cx.policy, cx.facts) else {
        return Ok(Tag::NoVersion);
    };
    let tag = format!("{}{version}", cx.policy.release.prefix);
    match cx.client.tag_exists(&tag).await? {
        Some(sha) if sha == merge_sha => return Ok(Tag::Present(tag)),
        Some(sha) => return Ok(Tag::Elsewhere { tag, sha }),
        None => {}
    }
    match cx
        .client
        .create_ref(&format!("refs/tags/{tag}"), merge_sha)
        .await
    {
        Ok(()) => Ok(Tag::Created(tag)),
        Err(e) if e.is_already_exists() => match cx.client.tag_exists(&tag).await? {
            Some(sha) if sha == merge_sha => Ok(Tag::Present(tag)),
            Some(sha) => Ok(Tag::Elsewhere { tag, sha }),
            None => Ok(Tag::Refused {
                tag,
                reason: e.to_string(),
            }),
        },
        Err(e) if !e.is_transient() => Ok(Tag::Refused {
            tag,
            reason: e.to_string(),
        }),
        Err(e) => Err(e),
    }
}

/// The follow-up issue's number recorded in our sticky comment, if any
/// (a comment this app wrote: anyone can type the marker).
async fn recorded_follow_up(
    client: &RepoClient,
    comments: &[CommentInfo],
) -> Result<Option<u64>, GitHubError> {
    let ours = client.own_marked(comments, COMMENT_MARKER).await?;
    // Only on the marker's own line, as `section` writes it: the sticky
    // comment also quotes the author's title.
    Ok(ours
        .into_iter()
        .find_map(|c| crate::report::markers::number_on_own_line(&c.body, FOLLOW_UP_MARKER)))
}

/// Whom the follow-up issue is assigned to: the merger (`merged_by`, who
/// merged it and so has write access) and the author, the author only when
/// they have write access. GitHub refuses (422) a new issue naming an
/// assignee it cannot assign (without write access, e.g. an outside
/// contributor from a fork), and the whole issue with it. The author's
/// access is the one the rules read (`PullRequestFacts::permissions`), else
/// `GET /repos/{o}/{r}/collaborators/{author}/permission` (the client's
/// memo: one request per evaluation); unknown (an error) leaves the author
/// out, so that the issue is still opened.
async fn follow_up_assignees(cx: &Context<'_>) -> Vec<String> {
    let author = cx.facts.author.as_str();
    let known = cx
        .facts
        .permissions
        .iter()
        .find(|(login, _)| login.eq_ignore_ascii_case(author))
        .map(|(_, p)| p.can_write());
    let author_can_write = match known {
        Some(can_write) => can_write,
        None if author.is_empty() => false,
        None => match cx.client.collaborator_permission(author).await {
            Ok(p) => rules::Permission::from_api(&p).can_write(),
            Err(e) => {
                tracing::warn!(user = %author, error = %e, "cannot read the author's permission; the follow-up issue is not assigned to them");
                false
            }
        },
    };
    let mut assignees = Vec::new();
    if author_can_write {
        assignees.push(author.to_string());
    }
    if let Some(merger) = &cx.facts.merged_by
        && !assignees.iter().any(|a| a.eq_ignore_ascii_case(merger))
    {
        assignees.push(merger.clone());
    }
    assignees
}

async fn follow_up_issue(
    cx: &Context<'_>,
    title: &str,
    within: std::time::Duration,
) -> Result<FollowUp, GitHubError> {
    let merged_at: DateTime<Utc> = cx.pull.merged_at.unwrap_or_else(Utc::now);
    let due = merged_at + chrono::Duration::from_std(within).unwrap_or_default();
    let issue_title = post_merge::follow_up_title(title, &cx.pull.title);
    let issues_url = |n: u64| {
        let pull_url = cx.pull.html_url.clone().unwrap_or_default();
        match pull_url.rfind("/pull/") {
            Some(i) => format!("{}/issues/{n}", &pull_url[..i]),
            None => format!("#{n}"),
        }
    };
    // The store's record first (the app's own, written right after the
    // issue was opened); then the marker in the sticky comment.
    let repo = cx.client.repo_name();
    let stored = cx.published.stored_follow_up(&repo, cx.pull.number).await;
    let recorded = match stored {
        Some(number) => Some(number),
        None => recorded_follow_up(cx.client, cx.comments).await?,
    };
    if let Some(number) = recorded {
        if stored.is_none() {
            cx.published
                .remember_follow_up(&repo, cx.pull.number, number)
                .await;
        }
        return Ok(FollowUp::Opened {
            number,
            url: issues_url(number),
            title: title.to_string(),
            due,
        });
    }
    // Not recorded in the sticky comment (that write may have failed after
    // the issue was opened, or another instance opened it): look among the
    // incident issues for one that names this hotfix.
    let marker = post_merge::follow_up_of_marker(cx.pull.number);
    let mut found = None;
    for issue in cx.client.list_issues_labelled(INCIDENT_LABEL, 300).await? {
        // Only an issue this app opened: anyone may type the marker.
        // The marker opens the body the app writes (never in the middle,
        // where quoted text could carry it).
        if crate::report::markers::opens(&issue.body, &marker)
            && cx.client.wrote(issue.via_app, &issue.user).await?
        {
            found = Some(issue);
            break;
        }
    }
    if let Some(existing) = found {
        cx.published
            .remember_follow_up(&repo, cx.pull.number, existing.number)
            .await;
        return Ok(FollowUp::Opened {
            number: existing.number,
            url: existing.html_url,
            title: title.to_string(),
            due,
        });
    }
    // The record of who approved the hotfix names only the approvals that
    // counted (the verdict's, as the sticky comment lists them): never the
    // author's own command nor a non-writer's, which anyone may post.
    let approvals: Vec<(String, DateTime<Utc>)> = cx
        .verdict
        .approvals
        .iter()
        .flat_map(|r| r.approvals.iter())
        .filter_map(|a| Some((a.login.clone(), a.at?)))
        .collect();
    let severity = cx.verdict.severity.clone().unwrap_or_default();
    let body = post_merge::incident_report(&IncidentFacts {
        pull_url: cx.pull.html_url.as_deref().unwrap_or_default(),
        pull_number: cx.pull.number,
        pull_title: &cx.pull.title,
        severity: &severity,
        severity_set_by: cx
            .verdict
            .severity_set_by
            .as_ref()
            .map(|(who, at)| (who.as_str(), *at)),
        opened_at: cx.facts.created_at,
        approvals,
        merged_at,
        merged_by: cx.facts.merged_by.as_deref(),
        due,
        follow_up_title: title,
    });
    let assignees = follow_up_assignees(cx).await;
    match cx
        .client
        .create_issue(
            &issue_title,
            &body,
            &[INCIDENT_LABEL.to_string()],
            &assignees,
        )
        .await
    {
        Ok(issue) => {
            cx.published
                .remember_follow_up(&repo, cx.pull.number, issue.number)
                .await;
            Ok(FollowUp::Opened {
                number: issue.number,
                url: issue.html_url,
                title: title.to_string(),
                due,
            })
        }
        Err(e) if !e.is_transient() => Ok(FollowUp::Refused {
            title: title.to_string(),
            reason: e.to_string(),
        }),
        Err(e) => Err(e),
    }
}
