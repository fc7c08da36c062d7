//! Who may take a pull request out of the hotfix procedure: removing a
//! hotfix label or a severity label counts only when someone with write
//! access removes it. Triage access is enough to remove a label, and must
//! not be enough to turn a required check `neutral` or to stop escalation.
//!
//! Reads: `labels` (on the pull request now), `label_events` (oldest
//! first: the timeline's `labeled`/`unlabeled` items, `actor.login`,
//! `created_at`) and `permissions` (`GET /collaborators/{u}/permission`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::policy::Policy;
use crate::rules::classify::{has_label, same_label};
use crate::rules::facts::{LabelEvent, Permission};
use crate::rules::members::{permission_in as permission, same_login};
use crate::rules::result::{RuleId, RuleResult};
use crate::rules::time::format_utc_minute;

/// A designation label that is off the pull request but still applies,
/// because whoever removed it could not (or could not be shown to) have
/// write access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    /// The label as the removal event names it.
    pub label: String,
    /// `actor.login` of the `unlabeled` event.
    pub removed_by: String,
    /// The event's `created_at` (server time).
    pub at: DateTime<Utc>,
    /// The remover's permission: `None` when it could not be read.
    pub remover: Option<Permission>,
}

/// Who removed a designation label whose removal lies past a cut events
/// list (more than 10,000 events): nobody GitHub can name, so nobody whose
/// write access can be confirmed. Never looked up.
pub const UNSEEN_REMOVER: &str = "someone past the events list's cut";

/// When the label events are cut (GitHub lists at most 10,000), a
/// designation label that is off the pull request but whose last listed
/// event applied it was removed by someone the list does not show: one
/// removal event by [`UNSEEN_REMOVER`] each, at `cut_at` (the last listed
/// event's time), to append to `events` so that [`held`] treats the
/// removal as unconfirmed. When no designation label is on the pull
/// request and none was produced that way, a label applied and removed
/// entirely past the cut cannot be ruled out either: the first hotfix label
/// gets an unseen application and removal, so the pull request stays in
/// the procedure (fail closed) rather than turning the check `neutral`.
pub fn unseen_removals(
    policies: &[&Policy],
    labels: &[String],
    events: &[LabelEvent],
    cut_at: DateTime<Utc>,
) -> Vec<LabelEvent> {
    let wanted = designation_labels(policies);
    let mut out: Vec<LabelEvent> = wanted
        .iter()
        .filter(|wanted| !has_label(labels, wanted))
        .filter_map(|wanted| {
            let last = events.iter().rev().find(|e| same_label(&e.label, wanted))?;
            last.added.then(|| LabelEvent {
                label: last.label.clone(),
                added: false,
                actor: UNSEEN_REMOVER.to_string(),
                at: cut_at,
            })
        })
        .collect();
    let designated_now = wanted.iter().any(|w| has_label(labels, w));
    if out.is_empty()
        && !designated_now
        && let Some(first) = policies.iter().find_map(|p| p.hotfix.labels.first())
    {
        for added in [true, false] {
            out.push(LabelEvent {
                label: first.clone(),
                added,
                actor: UNSEEN_REMOVER.to_string(),
                at: cut_at,
            });
        }
    }
    out
}

/// The labels that make a pull request a hotfix or give it a severity
/// under any of `policies` (a merged pull request judged by the policy at
/// its `base.sha` also owes what the policy in force asks: a label only
/// that one knows must be just as hard to remove), each once.
fn designation_labels<'p>(policies: &[&'p Policy]) -> Vec<&'p str> {
    let mut out: Vec<&str> = Vec::new();
    for policy in policies {
        for label in policy
            .hotfix
            .labels
            .iter()
            .chain(policy.severities.iter().flat_map(|s| s.labels.iter()))
        {
            if !out.iter().any(|l| same_label(l, label)) {
                out.push(label);
            }
        }
    }
    out
}

/// Each designation label not on the pull request now whose latest event
/// removed it, with every event naming it (oldest first).
fn removed<'e>(
    policies: &[&Policy],
    labels: &[String],
    events: &'e [LabelEvent],
) -> Vec<Vec<&'e LabelEvent>> {
    let mut out: Vec<Vec<&LabelEvent>> = Vec::new();
    for wanted in designation_labels(policies) {
        if has_label(labels, wanted) {
            continue;
        }
        let naming: Vec<&LabelEvent> = events
            .iter()
            .filter(|e| same_label(&e.label, wanted))
            .collect();
        let Some(last) = naming.last() else {
            continue;
        };
        if last.added
            || out
                .iter()
                .any(|o| o.last().is_some_and(|l| std::ptr::eq(*l, *last)))
        {
            continue;
        }
        out.push(naming);
    }
    out
}

/// Logins whose permission decides whether a removal counts: everyone who
/// applied or removed a designation label now off the pull request. Look
/// up `permissions` for each before [`held`].
pub fn logins_to_check(
    policies: &[&Policy],
    labels: &[String],
    events: &[LabelEvent],
) -> Vec<String> {
    let mut logins: Vec<String> = Vec::new();
    for naming in removed(policies, labels, events) {
        for e in naming {
            if !logins.iter().any(|l| same_login(l, &e.actor)) {
                logins.push(e.actor.clone());
            }
        }
    }
    logins
}

/// The designation labels that still apply although they are off the pull
/// request. Only writers' events count: a label applied by someone with
/// write access (or whose access is unknown) holds until someone with
/// write access removes it; what people without write access apply or
/// remove in between changes nothing (so re-applying a writer's label and
/// removing it again does not take it away either). A label only people
/// without write access ever applied is not held.
pub fn held(
    policies: &[&Policy],
    labels: &[String],
    events: &[LabelEvent],
    permissions: &BTreeMap<String, Permission>,
) -> Vec<Held> {
    removed(policies, labels, events)
        .into_iter()
        .filter_map(|naming| {
            // Fail closed both ways: an application by someone whose access
            // is unknown holds, a removal by them does not count.
            let mut by_writer = false;
            for e in &naming {
                match permission(permissions, &e.actor) {
                    Some(p) if p.can_write() => by_writer = e.added,
                    None if e.added => by_writer = true,
                    _ => {}
                }
            }
            let removal = naming.last()?;
            by_writer.then(|| Held {
                label: removal.label.clone(),
                removed_by: removal.actor.clone(),
                at: removal.at,
                remover: permission(permissions, &removal.actor),
            })
        })
        .collect()
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

/// The failure the report shows while any label is held: who removed it,
/// and that a writer must do it.
pub fn result(held: &[Held]) -> Option<RuleResult> {
    let first = held.first()?;
    let title = match first.remover {
        _ if first.removed_by == UNSEEN_REMOVER => format!(
            "`{}` was removed past the events list's cut: who removed it cannot be confirmed to have write access",
            first.label
        ),
        Some(_) => format!(
            "`{}` removed by @{}, who lacks write access",
            first.label, first.removed_by
        ),
        None => format!(
            "could not confirm that @{}, who removed `{}`, has write access",
            first.removed_by, first.label
        ),
    };
    let lines: Vec<String> = held
        .iter()
        .map(|h| {
            let who = match h.remover {
                _ if h.removed_by == UNSEEN_REMOVER => UNSEEN_REMOVER.to_string(),
                Some(p) => format!("@{} ({} access)", h.removed_by, permission_name(p)),
                None => format!("@{} (repository permission unknown)", h.removed_by),
            };
            format!(
                "`{}` was removed by {who} at {}",
                h.label,
                format_utc_minute(h.at)
            )
        })
        .collect();
    Some(RuleResult::fail(
        RuleId::Designation,
        title,
        format!(
            "{}; {}: only someone with write access can take a pull request out of the hotfix procedure, so a writer must remove {it} (apply {it} again, then remove {it})",
            lines.join("; "),
            if held.len() == 1 {
                "it still applies"
            } else {
                "they still apply"
            },
            it = if held.len() == 1 { "it" } else { "them" }
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testutil::*;

    fn perms(list: &[(&str, Permission)]) -> BTreeMap<String, Permission> {
        list.iter().map(|(l, p)| (l.to_string(), *p)).collect()
    }

    fn events() -> Vec<LabelEvent> {
        vec![
            label_event("hotfix", true, "dana", "2026-11-26T13:00:00Z"),
            label_event("P0", true, "dana", "2026-11-26T13:00:00Z"),
            label_event("hotfix", false, "trina", "2026-11-26T13:10:00Z"),
        ]
    }

    #[test]
    fn a_triage_removal_of_a_writers_label_is_held() {
        let policy = p0_policy();
        let labels = vec!["P0".to_string()];
        let ev = events();
        assert_eq!(logins_to_check(&[&policy], &labels, &ev), ["dana", "trina"]);
        let got = held(
            &[&policy],
            &labels,
            &ev,
            &perms(&[("trina", Permission::Triage), ("dana", Permission::Write)]),
        );
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].label, "hotfix");
        let r = result(&got).expect("a failure");
        assert_eq!(
            r.title_fragment.as_deref(),
            Some("`hotfix` removed by @trina, who lacks write access")
        );
    }

    #[test]
    fn a_label_only_a_second_policy_designates_is_held_too() {
        let judging = p0_policy();
        let mut in_force = p0_policy();
        in_force.severities[0].labels.push("sev0".to_string());
        let labels = vec!["hotfix".to_string()];
        let ev = vec![
            label_event("hotfix", true, "dana", "2026-11-26T13:00:00Z"),
            label_event("sev0", true, "dana", "2026-11-26T13:00:00Z"),
            label_event("sev0", false, "trina", "2026-11-26T13:10:00Z"),
        ];
        let p = perms(&[("trina", Permission::Triage), ("dana", Permission::Write)]);
        assert!(held(&[&judging], &labels, &ev, &p).is_empty());
        assert!(logins_to_check(&[&judging], &labels, &ev).is_empty());
        assert_eq!(
            logins_to_check(&[&judging, &in_force], &labels, &ev),
            ["dana", "trina"]
        );
        let got = held(&[&judging, &in_force], &labels, &ev, &p);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].label, "sev0");
    }

    #[test]
    fn a_writers_removal_counts_and_unknown_is_held() {
        let policy = p0_policy();
        let labels = vec!["P0".to_string()];
        let ev = events();
        let writer = perms(&[("trina", Permission::Write), ("dana", Permission::Write)]);
        assert!(held(&[&policy], &labels, &ev, &writer).is_empty());
        let unknown = perms(&[("dana", Permission::Write)]);
        let got = held(&[&policy], &labels, &ev, &unknown);
        assert_eq!(got[0].remover, None);
        assert_eq!(
            result(&got).and_then(|r| r.title_fragment).as_deref(),
            Some("could not confirm that @trina, who removed `hotfix`, has write access")
        );
    }

    #[test]
    fn re_applying_and_removing_again_does_not_launder_a_writers_label() {
        let policy = p0_policy();
        let mut ev = events();
        ev.push(label_event("hotfix", true, "trina", "2026-11-26T13:11:00Z"));
        ev.push(label_event(
            "hotfix",
            false,
            "trina",
            "2026-11-26T13:12:00Z",
        ));
        let p = perms(&[("trina", Permission::Triage), ("dana", Permission::Write)]);
        let got = held(&[&policy], &["P0".to_string()], &ev, &p);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].at, ts("2026-11-26T13:12:00Z"));
    }

    #[test]
    fn undoing_a_non_writers_label_counts() {
        let policy = p0_policy();
        let ev = vec![
            label_event("hotfix", true, "trina", "2026-11-26T13:00:00Z"),
            label_event("hotfix", false, "trina", "2026-11-26T13:10:00Z"),
        ];
        let p = perms(&[("trina", Permission::Triage)]);
        assert!(held(&[&policy], &[], &ev, &p).is_empty());
    }
}
