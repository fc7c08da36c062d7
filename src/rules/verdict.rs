//! Facts + policy → the verdict the report renders.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::policy::{Policy, Severity};
use crate::rules::approvals::{self, ApprovalReport};
use crate::rules::classify::{Classification, HotfixReason, classify};
use crate::rules::deadline::deadline_from;
use crate::rules::facts::PullRequestFacts;
use crate::rules::result::{RuleId, RuleResult};
use crate::rules::version::VersionFileReport;
use crate::rules::{designation, evidence, hygiene, provenance, target, version};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Conclusion {
    Success,
    Failure,
    Neutral,
    /// Nothing failed, but a required check or deployment is still running:
    /// the check run stays `in_progress`.
    Pending,
}

impl Conclusion {
    /// The check-run API's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Conclusion::Success => "success",
            Conclusion::Failure => "failure",
            Conclusion::Neutral => "neutral",
            Conclusion::Pending => "in_progress",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub is_hotfix: bool,
    pub reason: Option<HotfixReason>,
    /// The severity in force: `None` when not a hotfix, when no severity
    /// label is present, or when it was not applied by someone with write access.
    pub severity: Option<String>,
    /// One per applicable rule, in report order.
    pub results: Vec<RuleResult>,
    pub conclusion: Conclusion,
    pub title: String,
    /// When the fix must be deployed: the severity's deadline counted from
    /// when the pull request became that severity.
    pub deadline: Option<DateTime<Utc>>,
    /// The severity whose deadline `deadline` is, and whose escalation the
    /// app posts (`Some` exactly when `deadline` is): `severity` when it
    /// counts; when it does not (applied only by someone without write
    /// access), the most severe severity that still runs a clock
    /// ([`crate::rules::deadline::running`]), so that a non-writer's label
    /// never silences a writer's deadline.
    pub deadline_severity: Option<String>,
    pub severity_set_by: Option<(String, DateTime<Utc>)>,
    /// Severity drops, approvals or commands that did not count, and why.
    pub notes: Vec<String>,
    /// Present when the severity requires approvals.
    pub approvals: Option<ApprovalReport>,
    /// Version files as read, when a version bump is configured.
    pub version_files: Vec<VersionFileReport>,
}

mod cut;
pub use cut::{CutList, events_cut, timeline_cut, timeline_unsettled, with_cut_lists};

pub const NOT_A_HOTFIX_TITLE: &str = "No hotfix policy applies";

fn title_from(results: &[RuleResult]) -> String {
    results
        .iter()
        .filter(|r| r.is_failure() || evidence::is_pending(r))
        .map(|r| {
            r.title_fragment
                .clone()
                .unwrap_or_else(|| format!("{} failed", r.id.label().to_lowercase()))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The labels to suggest when a hotfix has no severity: each severity's first.
fn severity_labels(policy: &Policy) -> Vec<String> {
    policy
        .severities
        .iter()
        .filter_map(|s| s.labels.first().cloned())
        .collect()
}

pub fn evaluate(policy: &Policy, facts: &PullRequestFacts) -> Verdict {
    let current: Vec<String> = facts.labels.iter().map(|l| l.name.clone()).collect();
    // A designation label removed by someone without write access still
    // applies: the rules see it as on the pull request, and the verdict
    // fails saying who removed it.
    let held = designation::held(&[policy], &current, &facts.label_events, &facts.permissions);
    let with_held;
    let facts = if held.is_empty() {
        facts
    } else {
        let mut augmented = facts.clone();
        for h in &held {
            augmented.labels.push(crate::rules::facts::Label {
                name: h.label.clone(),
                applied_by: None,
                applied_at: None,
            });
        }
        with_held = augmented;
        &with_held
    };
    let labels: Vec<String> = facts.labels.iter().map(|l| l.name.clone()).collect();
    let (reason, severity) = match classify(policy, &labels, &facts.head_ref) {
        Classification::NotHotfix => return not_a_hotfix(),
        Classification::Hotfix { reason, severity } => (reason, severity),
    };
    let mut verdict = match severity {
        None => without_severity(policy, facts, reason),
        Some(severity) => with_severity(policy, facts, reason, severity),
    };
    if let Some(result) = designation::result(&held) {
        verdict.results.insert(0, result);
        verdict.conclusion = Conclusion::Failure;
        verdict.title = title_from(&verdict.results);
    }
    verdict
}

/// The labels the rules treat as on the pull request: those on it now and
/// the designation labels whose removal does not count
/// ([`designation::held`]) under any of `policies`. The engine classifies
/// by these.
pub fn effective_labels(
    policies: &[&Policy],
    labels: &[String],
    events: &[crate::rules::facts::LabelEvent],
    permissions: &std::collections::BTreeMap<String, crate::rules::facts::Permission>,
) -> Vec<String> {
    let mut out = labels.to_vec();
    for h in designation::held(policies, labels, events, permissions) {
        out.push(h.label);
    }
    out
}

fn not_a_hotfix() -> Verdict {
    Verdict {
        is_hotfix: false,
        reason: None,
        severity: None,
        results: Vec::new(),
        conclusion: Conclusion::Neutral,
        title: NOT_A_HOTFIX_TITLE.to_string(),
        deadline: None,
        deadline_severity: None,
        severity_set_by: None,
        notes: Vec::new(),
        approvals: None,
        version_files: Vec::new(),
    }
}

/// Until a severity is known only the target branch can be judged: the other
/// rules depend on what the severity requires.
fn without_severity(policy: &Policy, facts: &PullRequestFacts, reason: HotfixReason) -> Verdict {
    let labels = severity_labels(policy);
    let (title, detail) = if labels.is_empty() {
        (
            "Hotfix policy defines no severities".to_string(),
            "the policy defines no severity, so no hotfix can be approved".to_string(),
        )
    } else {
        let quoted: Vec<String> = labels.iter().map(|l| format!("`{l}`")).collect();
        (
            format!(
                "Hotfix needs a severity label: add one of {}",
                labels.join(", ")
            ),
            format!("no severity label: add one of {}", quoted.join(", ")),
        )
    };
    let results = vec![
        RuleResult::fail(RuleId::Severity, "needs a severity label", detail),
        target::check(policy, facts),
    ];
    Verdict {
        is_hotfix: true,
        reason: Some(reason),
        severity: None,
        results,
        conclusion: Conclusion::Failure,
        title,
        deadline: None,
        deadline_severity: None,
        severity_set_by: None,
        notes: Vec::new(),
        approvals: None,
        version_files: Vec::new(),
    }
}

impl Verdict {
    /// The severity whose deadline runs (as `policy` defines it) and the
    /// deadline: what the engine watches and escalates.
    pub fn running_deadline<'p>(
        &self,
        policy: &'p Policy,
    ) -> Option<(&'p Severity, DateTime<Utc>)> {
        let name = self.deadline_severity.as_deref()?;
        let severity = policy.severities.iter().find(|s| s.name == name)?;
        Some((severity, self.deadline?))
    }
}

fn with_severity(
    policy: &Policy,
    facts: &PullRequestFacts,
    reason: HotfixReason,
    severity: &Severity,
) -> Verdict {
    let provenance = provenance::check(severity, facts);
    if !provenance.valid {
        // Treated as having no valid severity. Its label must not silence
        // a deadline a writer started: the clock that runs is the most
        // severe severity's that counts for it (a writer's label, one
        // nobody is known to have applied, or a writer's earlier
        // application of this one; see `deadline::running`). One only a
        // non-writer ever applied runs none (it must not page anyone).
        let running = crate::rules::deadline::running(policy, facts, severity);
        let notes: Vec<String> = running
            .as_ref()
            .and_then(|r| crate::rules::deadline::note(severity, r))
            .into_iter()
            .collect();
        let deadline = running.as_ref().and_then(|r| r.deadline);
        let deadline_severity = running
            .filter(|r| r.deadline.is_some())
            .map(|r| r.severity.name.clone());
        let results = vec![provenance.result, target::check(policy, facts)];
        return Verdict {
            is_hotfix: true,
            reason: Some(reason),
            severity: None,
            title: title_from(&results),
            results,
            conclusion: Conclusion::Failure,
            deadline,
            deadline_severity,
            severity_set_by: None,
            notes,
            approvals: None,
            version_files: Vec::new(),
        };
    }

    let mut notes = provenance::severity_drops(policy, severity, facts);
    let approvals = approvals::check(policy, severity, facts);
    notes.extend(approvals.notes);
    let approvals_required = !approvals.report.roles.is_empty() || approvals.report.count.is_some();

    let mut results = vec![
        provenance.result,
        approvals.result,
        target::check(policy, facts),
    ];
    let mut version_files = Vec::new();
    if let Some(v) = version::check(policy, facts) {
        results.push(v.result);
        version_files = v.files;
    }
    results.extend(hygiene::check(policy, facts));
    results.extend(evidence::check(
        &policy.evidence.for_severity(&severity.name),
        facts.evidence.as_ref(),
        &facts.head_sha,
        &facts.head_ref,
    ));

    let failed = results.iter().any(RuleResult::is_failure);
    let pending = results.iter().any(evidence::is_pending);
    let since = provenance
        .set_by
        .as_ref()
        .map_or(facts.created_at, |(_, at)| *at);
    let deadline = deadline_from(severity, since);

    Verdict {
        is_hotfix: true,
        reason: Some(reason),
        severity: Some(severity.name.clone()),
        title: if failed || pending {
            title_from(&results)
        } else {
            format!("{} hotfix: all requirements met", severity.name)
        },
        results,
        conclusion: if failed {
            Conclusion::Failure
        } else if pending {
            Conclusion::Pending
        } else {
            Conclusion::Success
        },
        deadline,
        deadline_severity: deadline.map(|_| severity.name.clone()),
        severity_set_by: provenance.set_by,
        notes,
        approvals: approvals_required.then_some(approvals.report),
        version_files,
    }
}

#[cfg(test)]
mod tests;
