//! The engine's part: after an evaluation, the notices its events call for
//! are recorded in the outbox (never sent here), and what the check run and
//! the sticky comment should say about notices is returned.

use chrono::{DateTime, Utc};

use super::Notice;
use super::config::NotifyConfig;
use super::plan::{Moment, Reached, planned_events};
use crate::events::PrKey;
use crate::policy::{Policy, Target};
use crate::report::notices::{NoticeFacts, render_event, render_status};
use crate::rules::{PullRequestFacts, Verdict};
use crate::store::{NewNotice, Store, StoreError};

/// What the report says about notices.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoticeReport {
    /// Targets this pull request needs that the deployment cannot reach
    /// (a missing `SLACK_BOT_TOKEN` or `NOTIFY_WEBHOOK_<NAME>`), one line each.
    pub problems: Vec<String>,
    /// Targets with a notice that failed and is being retried, one line each
    /// ("Slack #incidents: not delivered, retrying").
    pub retrying: Vec<String>,
}

impl NoticeReport {
    /// A markdown section for the check run's summary or the sticky comment;
    /// empty when there is nothing to say.
    pub fn markdown(&self) -> String {
        if self.problems.is_empty() && self.retrying.is_empty() {
            return String::new();
        }
        let mut out = String::from("\n\n**Incident notices**\n\n");
        for line in self.problems.iter().chain(&self.retrying) {
            out.push_str(&format!("- ⚠️ {line}\n"));
        }
        out
    }
}

/// A target as people name it: `Slack #incidents`, `Webhook TEAMS`.
pub fn display_target(target: &str) -> String {
    match Target::parse(target) {
        Ok(Target::Slack { channel }) => format!("Slack #{channel}"),
        Ok(Target::Webhook { name }) => format!("Webhook {name}"),
        Err(_) => target.to_string(),
    }
}

/// What an evaluation tells the notice machinery.
pub struct Evaluated<'a> {
    pub key: &'a PrKey,
    pub policy: &'a Policy,
    pub verdict: &'a Verdict,
    pub facts: &'a PullRequestFacts,
    /// GitHub's `state` is `closed`.
    pub closed: bool,
    /// Escalation levels the app posted (its own marked comments).
    pub escalation_levels: &'a [u8],
}

/// The notices one moment calls for, per target (no store): the
/// occurrence key and the outbox row.
fn notices_for(
    e: &Evaluated<'_>,
    previous_severity: Option<&str>,
) -> Option<(String, Vec<(Reached, NewNotice)>)> {
    let severity_name = e.verdict.severity.as_deref()?;
    // Only a severity someone with write access applied is announced: a
    // label by a triage-only user (or by nobody known) must not page the
    // company (`rules::provenance`; the check run says why, see
    // `after_evaluation`).
    e.verdict.severity_set_by.as_ref()?;
    let severity = e
        .policy
        .severities
        .iter()
        .find(|s| s.name.eq_ignore_ascii_case(severity_name));
    let follow_up = severity
        .and_then(|s| s.follow_up.as_ref())
        .map(|f| (f.title.clone(), f.within));
    let mut facts = NoticeFacts::gather(e.verdict, e.facts, follow_up)?;
    // The title is its author's text: one line, capped (escaped at send).
    facts.title = super::inert::title(&facts.title);
    let moment = Moment {
        severity: &facts.severity,
        previous_severity,
        approved: facts.approvals_needed && facts.approved,
        merged: e.facts.merged_at.is_some(),
        closed: e.closed,
        escalation_levels: e.escalation_levels,
    };
    let escalation = &e.policy.escalation;
    let mentions = |level: u8| {
        let list = if level >= 2 {
            escalation
                .mention
                .iter()
                .chain(&escalation.mention_after)
                .collect::<Vec<_>>()
        } else {
            escalation.mention.iter().collect()
        };
        list.into_iter().map(|m| format!("@{m}")).collect()
    };
    let mut out = Vec::new();
    for reached in planned_events(&moment, mentions) {
        let text = render_event(&reached.notice, &facts);
        let notice = Notice {
            event: reached.event.name().to_string(),
            status: render_status(&reached.notice, &facts),
            fields: fields(&reached, &facts),
            text,
        };
        let Ok(payload) = serde_json::to_string(&notice) else {
            continue;
        };
        let mut targets: Vec<String> = e
            .policy
            .notify
            .iter()
            .filter(|rule| rule.wants(&facts.severity, reached.event))
            .map(|rule| rule.to.to_string())
            .collect();
        targets.sort();
        targets.dedup();
        for target in targets {
            out.push((
                reached.clone(),
                NewNotice {
                    event: reached.event.name().to_string(),
                    occurrence: reached.occurrence.clone(),
                    target,
                    rank: reached.event as i64,
                    payload: payload.clone(),
                },
            ));
        }
    }
    Some((facts.severity.clone(), out))
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The webhook's structured fields.
fn fields(reached: &Reached, facts: &NoticeFacts) -> serde_json::Value {
    use crate::report::notices::EventNotice;
    let (resolution_seconds, merged_at, merged_by) = match &facts.merged {
        Some((at, by)) => (
            Some((*at - facts.started).num_seconds()),
            Some(time(*at)),
            by.clone(),
        ),
        None => (None, None, None),
    };
    serde_json::json!({
        "event": reached.event.name(),
        "severity": facts.severity,
        "previous_severity": match &reached.notice {
            EventNotice::SeverityChanged { from } => Some(from.clone()),
            _ => None,
        },
        "escalation_level": match &reached.notice {
            EventNotice::Escalated { level, .. } => Some(*level),
            _ => None,
        },
        "repository": facts.repository,
        "pull_request": facts.number,
        "url": facts.url,
        "title": facts.title,
        "author": facts.author,
        "severity_set_by": facts.set_by.as_ref().map(|(who, _)| who.clone()),
        "severity_set_at": facts.set_by.as_ref().map(|(_, at)| time(*at)),
        "started_at": time(facts.started),
        "opened_at": time(facts.opened),
        "deadline": facts.deadline.map(time),
        "approvals": facts.approvals.iter().map(|(who, at)| serde_json::json!({"login": who, "at": time(*at)})).collect::<Vec<_>>(),
        "approved": facts.approvals_needed && facts.approved,
        "merged_at": merged_at,
        "merged_by": merged_by,
        "resolution_seconds": resolution_seconds,
        "follow_up": facts.follow_up.as_ref().map(|(title, due)| serde_json::json!({"title": title, "due": time(*due)})),
    })
}

/// Notes in the store, once per process and target, that this policy
/// names its targets, for the next start-up's report (`startup`). Best
/// effort: a failed write is logged and tried again next evaluation, and
/// never fails the evaluation.
async fn note_targets(config: &NotifyConfig, store: &Store, e: &Evaluated<'_>, now: DateTime<Utc>) {
    let mut targets: Vec<String> = e.policy.notify.iter().map(|r| r.to.to_string()).collect();
    targets.sort();
    targets.dedup();
    let new = config.not_yet_noted(&targets);
    if new.is_empty() {
        return;
    }
    if let Err(err) = store.note_notice_targets(&e.key.repo, &new, now).await {
        config.forget_noted(&new);
        tracing::warn!(error = %err, "cannot note the policy's notice targets");
    }
}

/// Records the notices this evaluation's events call for (each once, ever)
/// and says what the report should show about notices. Only the store is
/// touched; an error means nothing new was recorded and the evaluation is
/// retried like any other store failure.
pub async fn after_evaluation(
    config: &NotifyConfig,
    store: &Store,
    e: &Evaluated<'_>,
    now: DateTime<Utc>,
) -> Result<NoticeReport, StoreError> {
    let mut report = NoticeReport::default();
    if e.policy.notify.is_empty() {
        return Ok(report);
    }
    note_targets(config, store, e, now).await;
    if !e.verdict.is_hotfix {
        return Ok(report);
    }
    let Some(severity) = e.verdict.severity.as_deref() else {
        return Ok(report);
    };
    if e.verdict.severity_set_by.is_none() {
        report.problems.push(format!(
            "no notices sent: no one with write access applied the {severity} label, \
             so the severity is not confirmed"
        ));
        return Ok(report);
    }
    let previous = store.notice_severity(e.key).await?;
    let Some((severity_name, planned)) = notices_for(e, previous.as_deref()) else {
        return Ok(report);
    };
    let rows: Vec<NewNotice> = planned.into_iter().map(|(_, row)| row).collect();
    if !rows.is_empty() {
        let new = store.record_notices(e.key, &rows, now).await?;
        if new > 0 {
            tracing::info!(new, "incident notices recorded");
        }
    }
    if previous.as_deref() != Some(severity_name.as_str()) {
        store.set_notice_severity(e.key, &severity_name).await?;
    }
    let mut seen = Vec::new();
    for rule in &e.policy.notify {
        let needed = rule.severities.is_empty()
            || rule
                .severities
                .iter()
                .any(|s| s.eq_ignore_ascii_case(severity));
        if needed
            && let Some(problem) = config.problem(&rule.to)
            && !seen.contains(&problem)
        {
            seen.push(problem);
        }
    }
    report.problems = seen;
    let mut retrying: Vec<String> = Vec::new();
    for backlog in store.notice_backlog(e.key).await? {
        if backlog.attempts == 0 {
            continue;
        }
        let line = format!(
            "{}: not delivered, retrying ({} {}; last error: {})",
            display_target(&backlog.target),
            backlog.attempts,
            if backlog.attempts == 1 {
                "try"
            } else {
                "tries"
            },
            backlog.last_error.as_deref().unwrap_or("unknown")
        );
        if !retrying
            .iter()
            .any(|l| l.starts_with(&display_target(&backlog.target)))
        {
            retrying.push(line);
        }
    }
    report.retrying = retrying;
    Ok(report)
}

/// The notices a pull request would send now, for `simulate --notices`:
/// (target, event, text), as if none had been sent before.
pub fn preview(e: &Evaluated<'_>) -> Vec<(String, String, String)> {
    let Some((_, planned)) = notices_for(e, None) else {
        return Vec::new();
    };
    planned
        .into_iter()
        .filter_map(|(_, row)| {
            let notice: Notice = serde_json::from_str(&row.payload).ok()?;
            Some((row.target, row.event, notice.text))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{NoticeEvent, NotifyRule};
    use crate::rules::testutil::{p0_facts, p0_policy};
    use crate::store::testing::scratch;

    /// A severity with nobody with write access known to have applied it
    /// is not announced, and the report says why. (Today's rules give such
    /// a pull request no severity at all; this guard keeps notices fail-
    /// closed should they ever keep one.)
    #[tokio::test]
    async fn an_unconfirmed_severity_is_not_announced() {
        let mut policy = p0_policy();
        policy.notify = vec![NotifyRule {
            to: Target::Webhook {
                name: "STATUS".into(),
            },
            severities: Vec::new(),
            on: NoticeEvent::ALL.to_vec(),
        }];
        let facts = p0_facts();
        let mut verdict = crate::rules::evaluate(&policy, &facts);
        let key = PrKey {
            installation: 1,
            repo: crate::events::RepoName {
                owner: "acme".into(),
                name: "payments".into(),
            },
            number: facts.number,
        };
        let config = NotifyConfig::default();
        let run = |verdict: Verdict| {
            let (policy, facts, key, config) = (&policy, &facts, &key, &config);
            async move {
                let store = scratch().await;
                let e = Evaluated {
                    key,
                    policy,
                    verdict: &verdict,
                    facts,
                    closed: false,
                    escalation_levels: &[],
                };
                let report = after_evaluation(config, &store, &e, Utc::now())
                    .await
                    .expect("recorded");
                let pending = store.notice_stats().await.expect("stats").pending;
                (report, pending)
            }
        };
        assert!(verdict.severity_set_by.is_some(), "{verdict:#?}");
        let (_, pending) = run(verdict.clone()).await;
        assert!(pending > 0, "a confirmed severity is announced");
        verdict.severity_set_by = None;
        let unconfirmed = Evaluated {
            key: &key,
            policy: &policy,
            verdict: &verdict,
            facts: &facts,
            closed: false,
            escalation_levels: &[],
        };
        assert_eq!(preview(&unconfirmed), Vec::new(), "simulate agrees");
        let (report, pending) = run(verdict.clone()).await;
        assert_eq!(pending, 0);
        assert!(
            report.problems.iter().any(|p| p
                == "no notices sent: no one with write access applied the P0 label, so the severity is not confirmed"),
            "{report:#?}"
        );
    }
}
