//! Who set the severity, and whether they could: a severity label applied by
//! someone without write access does not count (triage access is enough to
//! label, and must not be enough to choose how much scrutiny a hotfix gets).
//! Also notices a severity lowered after approvals were given.
//!
//! Reads: `labels`, `label_events` (oldest first), `permissions`, and for the
//! drop note `reviews` and `comments`.

use chrono::{DateTime, Utc};

use crate::policy::{Policy, Severity};
use crate::rules::approvals::is_command;
use crate::rules::classify::same_label;
use crate::rules::facts::{LabelEvent, Permission, PullRequestFacts, ReviewState};
use crate::rules::members::permission_of;
use crate::rules::result::{RuleId, RuleResult};
use crate::rules::time::format_utc_minute;

/// One application of a severity label that is on the pull request now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    pub label: String,
    pub actor: String,
    pub at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvenanceOutcome {
    pub result: RuleResult,
    /// Who made the pull request this severity, and when (the earliest
    /// application by someone with write access).
    pub set_by: Option<(String, DateTime<Utc>)>,
    /// `false` when no current label of the severity was applied by a writer:
    /// the pull request then has no valid severity.
    pub valid: bool,
    /// `true` when nobody is known to have applied the label at all (no
    /// label event names it): the severity fails, but its deadline still
    /// runs from the pull request's creation, so that escalation is not
    /// silenced by what cannot be confirmed.
    pub applier_unknown: bool,
}

fn severity_has_label(severity: &Severity, label: &str) -> bool {
    severity.labels.iter().any(|l| same_label(l, label))
}

/// For each of the severity's labels on the pull request, the application
/// that counts now, from its `labeled`/`unlabeled` events (oldest first,
/// any case): the earliest application by someone with write access since
/// the last removal by someone with write access. A removal by someone
/// without write access (or whose access is unknown) does not take a
/// writer's label away (as [`crate::rules::designation::held`] treats it
/// while the label is off), so a writer restoring it does not restart the
/// clock; a writer's removal ends the severity, and a writer's later
/// application sets it anew. When no writer's application stands, the
/// latest application by anyone since that removal (to name who applied
/// it). Failing any event, what the label itself records.
///
/// Per label: a severity with several labels whose writer-applied label
/// was removed by a writer while another of its labels stayed runs from
/// the application of the label on the pull request now.
pub fn applications(severity: &Severity, facts: &PullRequestFacts) -> Vec<Application> {
    facts
        .labels
        .iter()
        .filter(|l| severity_has_label(severity, &l.name))
        .filter_map(|label| match standing_application(facts, &label.name) {
            Some(e) => Some(Application {
                label: label.name.clone(),
                actor: e.actor.clone(),
                at: Some(e.at),
            }),
            None => label.applied_by.as_ref().map(|actor| Application {
                label: label.name.clone(),
                actor: actor.clone(),
                at: label.applied_at,
            }),
        })
        .collect()
}

/// The `labeled` event of `name` that stands now (see [`applications`]);
/// `None` when no event since the last writer's removal applied it.
fn standing_application<'f>(facts: &'f PullRequestFacts, name: &str) -> Option<&'f LabelEvent> {
    let writes = |e: &LabelEvent| permission_of(facts, &e.actor).is_some_and(Permission::can_write);
    let mut standing: Option<&LabelEvent> = None;
    for e in facts
        .label_events
        .iter()
        .filter(|e| same_label(&e.label, name))
    {
        match (e.added, writes(e)) {
            // A writer's removal ends it.
            (false, true) => standing = None,
            // Anyone else's removal changes nothing.
            (false, false) => {}
            // An application stands unless a writer's already does: the
            // earliest writer's, else the latest anyone's (to be named).
            (true, _) => {
                if !standing.is_some_and(writes) {
                    standing = Some(e);
                }
            }
        }
    }
    standing
}

fn permission_name(p: Permission) -> &'static str {
    match p {
        Permission::None => "no",
        Permission::Read => "read",
        Permission::Triage => "triage",
        Permission::Write => "write",
        Permission::Maintain => "maintain",
        Permission::Admin => "admin",
    }
}

pub fn check(severity: &Severity, facts: &PullRequestFacts) -> ProvenanceOutcome {
    let id = RuleId::SeverityProvenance;
    let name = &severity.name;
    let applied = applications(severity, facts);
    if applied.is_empty() {
        // No `labeled` event names the label on the pull request (one
        // renamed since it was applied keeps its old name there): nobody
        // can be shown to have had the right to set the severity.
        let labels: Vec<String> = facts
            .labels
            .iter()
            .filter(|l| severity_has_label(severity, &l.name))
            .map(|l| format!("`{}`", l.name))
            .collect();
        return ProvenanceOutcome {
            result: RuleResult::fail(
                id,
                format!("could not confirm who applied {name}"),
                format!(
                    "no label event names {} (renamed since it was applied?): someone with write access should remove the label and apply it again",
                    labels.join(", ")
                ),
            ),
            set_by: None,
            valid: false,
            applier_unknown: true,
        };
    }

    let mut by_writers: Vec<&Application> = applied
        .iter()
        .filter(|a| permission_of(facts, &a.actor).is_some_and(Permission::can_write))
        .collect();
    by_writers.sort_by_key(|a| a.at);
    if let Some(first) = by_writers
        .iter()
        .find(|a| a.at.is_some())
        .or(by_writers.first())
    {
        let when = first
            .at
            .map(|at| format!(" at {}", format_utc_minute(at)))
            .unwrap_or_default();
        return ProvenanceOutcome {
            result: RuleResult::pass(id, format!("{name} set by @{}{when}", first.actor)),
            set_by: first.at.map(|at| (first.actor.clone(), at)),
            valid: true,
            applier_unknown: false,
        };
    }

    // Nobody with write access applied it.
    let mut without = Vec::new();
    let mut unknown = Vec::new();
    for a in &applied {
        match permission_of(facts, &a.actor) {
            Some(p) => without.push(format!("@{} ({} access)", a.actor, permission_name(p))),
            None => unknown.push(format!("@{}", a.actor)),
        }
    }
    let result = if let Some(who) = applied
        .iter()
        .find(|a| permission_of(facts, &a.actor).is_some())
    {
        RuleResult::fail(
            id,
            format!(
                "{name} label applied by @{}, who lacks write access",
                who.actor
            ),
            format!(
                "{name} was applied by {}; only people with write access can set the severity",
                without.join(", ")
            ),
        )
    } else {
        RuleResult::fail(
            id,
            format!("could not confirm who may set {name}"),
            format!(
                "the repository permission of {}, who applied {name}, is unknown",
                unknown.join(", ")
            ),
        )
    };
    ProvenanceOutcome {
        result,
        set_by: None,
        valid: false,
        applier_unknown: false,
    }
}

/// When someone with write access first applied one of the severity's
/// labels, even if it was removed or re-applied since. The deadline runs
/// from there when the current label no longer counts (re-applied by
/// someone without write access): that must not stop the clock and silence
/// escalation.
pub fn clock_start(severity: &Severity, facts: &PullRequestFacts) -> Option<DateTime<Utc>> {
    facts
        .label_events
        .iter()
        .filter(|e| e.added && severity_has_label(severity, &e.label))
        .filter(|e| permission_of(facts, &e.actor).is_some_and(Permission::can_write))
        .map(|e| e.at)
        .min()
}

/// Notes for each time a more severe severity label was removed after
/// approvals had been given, while a less severe one is current.
pub fn severity_drops(
    policy: &Policy,
    current: &Severity,
    facts: &PullRequestFacts,
) -> Vec<String> {
    let Some(current_rank) = policy
        .severities
        .iter()
        .position(|s| s.name == current.name)
    else {
        return Vec::new();
    };
    let mut notes = Vec::new();
    for event in facts.label_events.iter().filter(|e| !e.added) {
        let Some((rank, from)) = policy
            .severities
            .iter()
            .enumerate()
            .find(|(_, s)| severity_has_label(s, &event.label))
        else {
            continue;
        };
        if rank >= current_rank || !approved_before(policy, facts, event.at) {
            continue;
        }
        let note = format!(
            "Severity lowered from {} to {} by @{} at {} after approvals",
            from.name,
            current.name,
            event.actor,
            format_utc_minute(event.at)
        );
        if !notes.contains(&note) {
            notes.push(note);
        }
    }
    notes
}

fn approved_before(policy: &Policy, facts: &PullRequestFacts, at: DateTime<Utc>) -> bool {
    let by_review = facts
        .reviews
        .iter()
        .any(|r| r.state == ReviewState::Approved && r.submitted_at.is_some_and(|t| t < at));
    let by_command = facts
        .comments
        .iter()
        .any(|c| c.created_at < at && is_command(&policy.approvals.command, &c.body));
    by_review || by_command
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::facts::Label;
    use crate::rules::result::RuleStatus;
    use crate::rules::testutil::*;

    fn p0(policy: &Policy) -> &Severity {
        severity_named(policy, "P0")
    }

    #[test]
    fn writer_applied_severity_is_valid_and_timed() {
        let policy = p0_policy();
        let out = check(p0(&policy), &p0_facts());
        assert!(out.valid);
        assert_eq!(out.result.status, RuleStatus::Pass);
        assert_eq!(
            out.set_by,
            Some(("alice".to_string(), ts("2026-11-26T13:02:00Z")))
        );
        assert_eq!(
            out.result.detail,
            "P0 set by @alice at 2026-11-26 13:02 UTC"
        );
    }

    #[test]
    fn the_latest_application_decides() {
        let policy = p0_policy();
        let mut facts = p0_facts();
        // alice's label was removed; mallory put it back.
        facts
            .label_events
            .push(label_event("P0", false, "bob", "2026-11-26T13:05:00Z"));
        facts
            .label_events
            .push(label_event("p0", true, "mallory", "2026-11-26T13:06:00Z"));
        let out = check(p0(&policy), &facts);
        assert!(!out.valid);
        assert_eq!(out.result.status, RuleStatus::Fail);
        assert_eq!(
            out.result.title_fragment.as_deref(),
            Some("P0 label applied by @mallory, who lacks write access")
        );
        assert_eq!(
            out.result.detail,
            "P0 was applied by @mallory (triage access); only people with write access can set the severity"
        );
        assert_eq!(out.set_by, None);
    }

    /// alice (admin) applied P0 at 13:02 (`p0_facts`); the events after.
    fn restored(after: &[(&str, bool, &str, &str)]) -> PullRequestFacts {
        let mut facts = p0_facts();
        for (label, added, actor, at) in after {
            facts
                .label_events
                .push(label_event(label, *added, actor, at));
        }
        facts
    }

    #[test]
    fn a_writer_restoring_what_a_non_writer_removed_keeps_the_first_clock() {
        let policy = p0_policy();
        // mallory (triage) removed it (in another case); alice restored it.
        let facts = restored(&[
            ("p0", false, "mallory", "2026-11-26T13:30:00Z"),
            ("P0", true, "alice", "2026-11-26T13:40:00Z"),
        ]);
        let out = check(p0(&policy), &facts);
        assert!(out.valid);
        assert_eq!(
            out.set_by,
            Some(("alice".to_string(), ts("2026-11-26T13:02:00Z")))
        );
        assert_eq!(
            out.result.detail,
            "P0 set by @alice at 2026-11-26 13:02 UTC"
        );
    }

    #[test]
    fn a_non_writer_restoring_what_they_removed_changes_nothing() {
        let policy = p0_policy();
        let facts = restored(&[
            ("P0", false, "mallory", "2026-11-26T13:30:00Z"),
            ("P0", true, "mallory", "2026-11-26T13:31:00Z"),
        ]);
        let out = check(p0(&policy), &facts);
        assert!(out.valid, "the writer's label was never taken away");
        assert_eq!(
            out.set_by,
            Some(("alice".to_string(), ts("2026-11-26T13:02:00Z")))
        );
    }

    #[test]
    fn a_removal_by_someone_of_unknown_access_does_not_restart_it() {
        let policy = p0_policy();
        let facts = restored(&[
            ("P0", false, "zed", "2026-11-26T13:30:00Z"),
            ("P0", true, "bob", "2026-11-26T13:40:00Z"),
        ]);
        let out = check(p0(&policy), &facts);
        assert_eq!(
            out.set_by,
            Some(("alice".to_string(), ts("2026-11-26T13:02:00Z")))
        );
    }

    #[test]
    fn a_writers_removal_ends_it_and_a_writers_application_starts_anew() {
        let policy = p0_policy();
        let facts = restored(&[
            ("P0", false, "bob", "2026-11-26T13:30:00Z"),
            ("P0", true, "mallory", "2026-11-26T13:35:00Z"),
            ("p0", true, "carol", "2026-11-26T13:40:00Z"),
            ("P0", true, "bob", "2026-11-26T13:50:00Z"),
        ]);
        let out = check(p0(&policy), &facts);
        assert!(out.valid);
        assert_eq!(
            out.set_by,
            Some(("carol".to_string(), ts("2026-11-26T13:40:00Z")))
        );
    }

    #[test]
    fn unknown_permission_of_the_applier_fails_closed() {
        let policy = p0_policy();
        let mut facts = p0_facts();
        facts.permissions.remove("alice");
        let out = check(p0(&policy), &facts);
        assert!(!out.valid);
        assert_eq!(
            out.result.title_fragment.as_deref(),
            Some("could not confirm who may set P0")
        );
    }

    #[test]
    fn falls_back_to_what_the_label_records() {
        let policy = p0_policy();
        let mut facts = p0_facts();
        facts.label_events.clear();
        facts.labels = vec![Label {
            name: "P0".into(),
            applied_by: Some("mallory".into()),
            applied_at: Some(ts("2026-11-26T13:03:00Z")),
        }];
        assert!(!check(p0(&policy), &facts).valid);
    }

    #[test]
    fn unknown_applier_fails_closed() {
        let policy = p0_policy();
        let mut facts = p0_facts();
        facts.label_events.clear();
        let out = check(p0(&policy), &facts);
        assert!(!out.valid);
        assert_eq!(out.result.status, RuleStatus::Fail);
        assert_eq!(
            out.result.title_fragment.as_deref(),
            Some("could not confirm who applied P0")
        );
        assert_eq!(
            out.result.detail,
            "no label event names `P0` (renamed since it was applied?): someone with write access should remove the label and apply it again"
        );
        assert_eq!(out.set_by, None);
    }

    #[test]
    fn one_writer_application_among_several_labels_is_enough() {
        let mut policy = p0_policy();
        policy.severities[0].labels.push("sev0".into());
        let mut facts = p0_facts();
        facts.labels.push(label("sev0"));
        facts
            .label_events
            .push(label_event("sev0", true, "mallory", "2026-11-26T13:04:00Z"));
        let out = check(p0(&policy), &facts);
        assert!(out.valid);
        assert_eq!(out.set_by.map(|(who, _)| who).as_deref(), Some("alice"));
    }

    fn dropped_facts() -> PullRequestFacts {
        let mut facts = p0_facts();
        facts.labels = vec![label("hotfix"), label("P2")];
        facts.label_events.extend([
            label_event("P0", false, "bob", "2026-11-26T14:00:00Z"),
            label_event("P2", true, "bob", "2026-11-26T14:00:00Z"),
        ]);
        facts
    }

    #[test]
    fn severity_drop_after_approvals_is_noted() {
        let policy = p0_policy();
        let mut facts = dropped_facts();
        facts.reviews = vec![review(
            1,
            "alice",
            ReviewState::Approved,
            HEAD_SHA,
            "2026-11-26T13:30:00Z",
        )];
        let p2 = severity_named(&policy, "P2");
        assert_eq!(
            severity_drops(&policy, p2, &facts),
            ["Severity lowered from P0 to P2 by @bob at 2026-11-26 14:00 UTC after approvals"]
        );
    }

    #[test]
    fn severity_drop_after_a_command_approval_is_noted() {
        let policy = p0_policy();
        let mut facts = dropped_facts();
        facts.comments = vec![comment(3, "bob", "/hotfix approve", "2026-11-26T13:30:00Z")];
        let p2 = severity_named(&policy, "P2");
        assert_eq!(severity_drops(&policy, p2, &facts).len(), 1);
    }

    #[test]
    fn no_drop_note_without_earlier_approvals_or_when_raised() {
        let policy = p0_policy();
        let mut facts = dropped_facts();
        // Approval after the drop: nothing was approved under P0.
        facts.reviews = vec![review(
            1,
            "alice",
            ReviewState::Approved,
            HEAD_SHA,
            "2026-11-26T14:30:00Z",
        )];
        let p2 = severity_named(&policy, "P2");
        assert!(severity_drops(&policy, p2, &facts).is_empty());
        // A comment-only review is not an approval.
        facts.reviews = vec![review(
            1,
            "alice",
            ReviewState::Commented,
            HEAD_SHA,
            "2026-11-26T13:30:00Z",
        )];
        assert!(severity_drops(&policy, p2, &facts).is_empty());

        // P2 removed and P0 current: a raise, not a drop.
        let mut facts = p0_facts();
        facts.reviews = vec![review(
            1,
            "alice",
            ReviewState::Approved,
            HEAD_SHA,
            "2026-11-26T13:30:00Z",
        )];
        facts
            .label_events
            .push(label_event("P2", false, "bob", "2026-11-26T14:00:00Z"));
        assert!(severity_drops(&policy, severity_named(&policy, "P0"), &facts).is_empty());
    }
}
