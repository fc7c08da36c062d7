//! Which severity's deadline runs (and so which escalation the app posts)
//! when the severity in force does not count.
//!
//! The severity in force is the most severe one whose label the pull
//! request carries ([`crate::rules::classify::severity_of`]), whoever
//! applied it. When someone without write access applied it, it does not
//! count (the check fails naming them), but it must not stop a deadline a
//! writer started either: triage access is enough to add a label, and must
//! not be enough to silence an escalation. The deadline then runs from the
//! most severe severity whose label still counts for the clock.
//!
//! Reads: `labels` (with the designation labels held because a non-writer
//! removed them), `label_events` (the timeline's `labeled` items:
//! `actor.login`, `created_at`), `permissions`
//! (`GET /collaborators/{u}/permission`) and `created_at`.

use chrono::{DateTime, Utc};

use crate::policy::{Policy, Severity};
use crate::rules::classify::same_label;
use crate::rules::facts::PullRequestFacts;
use crate::rules::provenance;
use crate::rules::time::format_utc_minute;

/// Why a severity's clock runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClockStart {
    /// Someone with write access applied the label now on the pull request
    /// (login, the `labeled` event's `created_at`); `at` is `None` when the
    /// application has no time, and the clock runs from the pull request's
    /// creation.
    SetBy {
        login: String,
        at: Option<DateTime<Utc>>,
    },
    /// No label event names the label (renamed since it was applied):
    /// nobody can be shown to have applied it, so the clock runs from the
    /// pull request's creation (unknown never silences escalation).
    Unconfirmed,
    /// Someone with write access applied one of its labels earlier; the
    /// label now on the pull request was re-applied by someone without
    /// write access. The clock runs from the writer's first application.
    EarlierWriter { at: DateTime<Utc> },
}

/// The severity whose deadline runs and from when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Running<'p> {
    pub severity: &'p Severity,
    pub clock: ClockStart,
    /// The moment the clock started (server time).
    pub since: DateTime<Utc>,
    /// `since` plus the severity's `deadline`; `None` when the policy gives
    /// the severity no deadline (nothing is watched).
    pub deadline: Option<DateTime<Utc>>,
}

/// The severity's deadline counted from `since`.
pub fn deadline_from(severity: &Severity, since: DateTime<Utc>) -> Option<DateTime<Utc>> {
    severity
        .deadline
        .and_then(|d| chrono::Duration::from_std(d).ok())
        .and_then(|d| since.checked_add_signed(d))
}

/// Whose clock runs for `severity`, by its labels on the pull request:
/// `None` when only people without write access (or whose access is
/// unknown, never looked up) ever applied them.
fn clock_of(severity: &Severity, facts: &PullRequestFacts) -> Option<(ClockStart, DateTime<Utc>)> {
    let out = provenance::check(severity, facts);
    if out.valid {
        let (login, at) = match out.set_by {
            Some((login, at)) => (login, Some(at)),
            // A writer's application without a time: name the writer.
            None => (
                provenance::applications(severity, facts)
                    .into_iter()
                    .map(|a| a.actor)
                    .next()
                    .unwrap_or_default(),
                None,
            ),
        };
        let since = at.unwrap_or(facts.created_at);
        return Some((ClockStart::SetBy { login, at }, since));
    }
    if out.applier_unknown {
        return Some((ClockStart::Unconfirmed, facts.created_at));
    }
    provenance::clock_start(severity, facts).map(|at| (ClockStart::EarlierWriter { at }, at))
}

/// The severity whose deadline runs: the first in policy order (most
/// severe first), from `in_force` on, that carries a label on the pull
/// request and whose clock runs ([`ClockStart`]). A severity that counts
/// but has no deadline in the policy ends the search: nothing is watched,
/// as when the non-writer's label had not been added. `None` when no
/// severity label counts for the clock.
pub fn running<'p>(
    policy: &'p Policy,
    facts: &PullRequestFacts,
    in_force: &'p Severity,
) -> Option<Running<'p>> {
    let from = policy
        .severities
        .iter()
        .position(|s| s.name == in_force.name)
        .unwrap_or(0);
    let candidates = std::iter::once(in_force).chain(
        policy
            .severities
            .iter()
            .skip(from + 1)
            .filter(|s| s.name != in_force.name),
    );
    for severity in candidates {
        let labelled = facts
            .labels
            .iter()
            .any(|l| severity.labels.iter().any(|s| same_label(s, &l.name)));
        if !labelled {
            continue;
        }
        if let Some((clock, since)) = clock_of(severity, facts) {
            return Some(Running {
                severity,
                clock,
                since,
                deadline: deadline_from(severity, since),
            });
        }
    }
    None
}

/// The note the report shows when the deadline that runs is not the
/// severity in force's: which severity's clock runs, whose label started
/// it, and what makes the severity in force count.
pub fn note(in_force: &Severity, running: &Running<'_>) -> Option<String> {
    if running.severity.name == in_force.name {
        return None;
    }
    let name = &running.severity.name;
    let why = match &running.clock {
        ClockStart::SetBy { login, at: Some(at) } => format!(
            "the most severe severity someone with write access applied (@{login} at {})",
            format_utc_minute(*at)
        ),
        ClockStart::SetBy { login, at: None } => format!(
            "the most severe severity someone with write access applied (@{login})"
        ),
        ClockStart::Unconfirmed => {
            "the most severe severity not applied only by people without write access (who applied it cannot be confirmed)".to_string()
        }
        ClockStart::EarlierWriter { at } => format!(
            "the most severe severity someone with write access applied (first at {})",
            format_utc_minute(*at)
        ),
    };
    let watched = match running.deadline {
        Some(deadline) => format!(
            "the deadline and escalation are {name}'s (deploy by {})",
            format_utc_minute(deadline)
        ),
        None => format!("{name}'s deadline applies, and the policy gives {name} none"),
    };
    Some(format!(
        "{} does not count until someone with write access applies it; until then {watched}: {name} is {why}",
        in_force.name
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::facts::Permission;
    use crate::rules::testutil::*;

    /// dana (write) made it P1 at 13:00; trina (triage) added P0 at 14:00.
    fn raised() -> PullRequestFacts {
        let mut facts = p0_facts();
        facts.labels = vec![label("hotfix"), label("P1"), label("P0")];
        facts.label_events = vec![
            label_event("hotfix", true, "dana", "2026-11-26T13:00:00Z"),
            label_event("P1", true, "dana", "2026-11-26T13:00:00Z"),
            label_event("P0", true, "trina", "2026-11-26T14:00:00Z"),
        ];
        facts.permissions.insert("dana".into(), Permission::Write);
        facts.permissions.insert("trina".into(), Permission::Triage);
        facts
    }

    #[test]
    fn a_non_writers_more_severe_label_leaves_the_writers_deadline_running() {
        let policy = p0_policy();
        let facts = raised();
        let p0 = severity_named(&policy, "P0");
        let got = running(&policy, &facts, p0).expect("P1's deadline runs");
        assert_eq!(got.severity.name, "P1");
        assert_eq!(
            got.clock,
            ClockStart::SetBy {
                login: "dana".into(),
                at: Some(ts("2026-11-26T13:00:00Z"))
            }
        );
        assert_eq!(got.deadline, Some(ts("2026-11-27T13:00:00Z")));
        assert_eq!(
            note(p0, &got).as_deref(),
            Some(
                "P0 does not count until someone with write access applies it; until then the deadline and escalation are P1's (deploy by 2026-11-27 13:00 UTC): P1 is the most severe severity someone with write access applied (@dana at 2026-11-26 13:00 UTC)"
            )
        );
    }

    #[test]
    fn a_writers_p0_takes_over_from_its_own_time() {
        let policy = p0_policy();
        let mut facts = raised();
        // dana removes trina's P0 and applies it herself.
        facts.label_events.extend([
            label_event("P0", false, "dana", "2026-11-26T15:00:00Z"),
            label_event("P0", true, "dana", "2026-11-26T15:01:00Z"),
        ]);
        let p0 = severity_named(&policy, "P0");
        let got = running(&policy, &facts, p0).expect("P0's deadline runs");
        assert_eq!(got.severity.name, "P0");
        assert_eq!(got.deadline, Some(ts("2026-11-26T17:01:00Z")));
        assert_eq!(note(p0, &got), None);
    }

    #[test]
    fn a_writers_earlier_p0_keeps_its_clock_before_a_less_severe_label() {
        let policy = p0_policy();
        let mut facts = raised();
        // alice (admin) had applied P0 at 12:30; it was removed and trina
        // re-applied it at 14:00.
        facts
            .label_events
            .insert(0, label_event("P0", true, "alice", "2026-11-26T12:30:00Z"));
        facts
            .label_events
            .insert(1, label_event("P0", false, "alice", "2026-11-26T12:40:00Z"));
        let p0 = severity_named(&policy, "P0");
        let got = running(&policy, &facts, p0).expect("P0's writer clock");
        assert_eq!(got.severity.name, "P0");
        assert_eq!(
            got.clock,
            ClockStart::EarlierWriter {
                at: ts("2026-11-26T12:30:00Z")
            }
        );
        assert_eq!(got.deadline, Some(ts("2026-11-26T14:30:00Z")));
    }

    #[test]
    fn a_writers_severity_without_a_deadline_watches_nothing() {
        let policy = p0_policy();
        let mut facts = raised();
        facts.labels = vec![label("hotfix"), label("P2"), label("P0")];
        facts.label_events[1].label = "P2".into();
        let p0 = severity_named(&policy, "P0");
        let got = running(&policy, &facts, p0).expect("P2 counts");
        assert_eq!(got.severity.name, "P2");
        assert_eq!(got.deadline, None);
        assert!(
            note(p0, &got)
                .is_some_and(|n| n.contains("P2's deadline applies, and the policy gives P2 none")),
        );
    }

    #[test]
    fn only_non_writers_labels_run_no_clock() {
        let policy = p0_policy();
        let mut facts = raised();
        facts.label_events[1].actor = "trina".into();
        let p0 = severity_named(&policy, "P0");
        assert_eq!(running(&policy, &facts, p0), None);
    }

    #[test]
    fn a_less_severe_label_off_the_pull_request_does_not_run() {
        let policy = p0_policy();
        let mut facts = raised();
        // dana's P1 was removed by dana (a writer): it no longer applies.
        facts.labels.retain(|l| l.name != "P1");
        facts
            .label_events
            .push(label_event("P1", false, "dana", "2026-11-26T14:30:00Z"));
        let p0 = severity_named(&policy, "P0");
        assert_eq!(running(&policy, &facts, p0), None);
    }
}

/// Through the whole verdict: the deadline `evaluate` gives.
#[cfg(test)]
mod verdict_tests {
    use crate::rules::facts::Permission;
    use crate::rules::testutil::*;
    use crate::rules::{Conclusion, evaluate};

    #[test]
    fn the_verdict_fails_on_the_triage_label_and_runs_the_writers_deadline() {
        let policy = p0_policy();
        let mut facts = p0_facts();
        facts.labels = vec![label("hotfix"), label("P1"), label("P0")];
        facts.label_events = vec![
            label_event("hotfix", true, "dana", "2026-11-26T13:00:00Z"),
            label_event("P1", true, "dana", "2026-11-26T13:00:00Z"),
            label_event("P0", true, "trina", "2026-11-26T14:00:00Z"),
        ];
        facts.permissions.insert("dana".into(), Permission::Write);
        facts.permissions.insert("trina".into(), Permission::Triage);
        let v = evaluate(&policy, &facts);
        assert_eq!(v.conclusion, Conclusion::Failure);
        assert_eq!(
            v.title,
            "P0 label applied by @trina, who lacks write access"
        );
        assert_eq!(v.severity, None);
        assert_eq!(v.deadline, Some(ts("2026-11-27T13:00:00Z")));
        assert_eq!(v.deadline_severity.as_deref(), Some("P1"));
        let (running, _) = v.running_deadline(&policy).expect("P1 runs");
        assert_eq!(running.name, "P1");
        assert!(
            v.notes.iter().any(|n| n.starts_with("P0 does not count")),
            "{:?}",
            v.notes
        );
    }

    /// alice (admin) applied P0 at 13:02; mallory (triage) removed it and
    /// alice restored it at 14:40: the deadline still runs from 13:02.
    #[test]
    fn a_writer_restoring_a_non_writers_removal_keeps_the_deadline() {
        let policy = p0_policy();
        let mut facts = p0_facts();
        facts.label_events.extend([
            label_event("P0", false, "mallory", "2026-11-26T14:30:00Z"),
            label_event("P0", true, "alice", "2026-11-26T14:40:00Z"),
        ]);
        let v = evaluate(&policy, &facts);
        assert_eq!(v.deadline, Some(ts("2026-11-26T15:02:00Z")));
        assert_eq!(
            v.severity_set_by,
            Some(("alice".to_string(), ts("2026-11-26T13:02:00Z")))
        );
    }

    /// dana's P1 removed by trina (triage) still applies (`designation`),
    /// and still runs its deadline under trina's P0.
    #[test]
    fn a_writers_p1_removed_by_a_non_writer_still_runs_its_deadline() {
        let policy = p0_policy();
        let mut facts = p0_facts();
        facts.labels = vec![label("hotfix"), label("P0")];
        facts.label_events = vec![
            label_event("hotfix", true, "dana", "2026-11-26T13:00:00Z"),
            label_event("P1", true, "dana", "2026-11-26T13:00:00Z"),
            label_event("P1", false, "trina", "2026-11-26T13:59:00Z"),
            label_event("P0", true, "trina", "2026-11-26T14:00:00Z"),
        ];
        facts.permissions.insert("dana".into(), Permission::Write);
        facts.permissions.insert("trina".into(), Permission::Triage);
        let v = evaluate(&policy, &facts);
        assert_eq!(v.conclusion, Conclusion::Failure);
        assert_eq!(v.deadline_severity.as_deref(), Some("P1"));
        assert_eq!(v.deadline, Some(ts("2026-11-27T13:00:00Z")));
    }

    /// A valid severity's deadline is its own.
    #[test]
    fn a_valid_severity_runs_its_own_deadline() {
        let policy = p0_policy();
        let v = evaluate(&policy, &p0_facts());
        assert_eq!(v.deadline_severity.as_deref(), Some("P0"));
        assert_eq!(v.deadline, Some(ts("2026-11-26T15:02:00Z")));
    }
}
