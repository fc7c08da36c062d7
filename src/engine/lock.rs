//! A locked conversation, as the engine knows it: GitHub's `locked` on the
//! pull request, or (remembered here) the deadline sweep's last escalation
//! comment refused with 403 "… because issue is locked.", and the
//! escalation levels the lock holds back. The check run names both (see
//! `report::locked`), so an escalation is never swallowed silently.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::events::PrKey;
use crate::policy::{Escalation, Policy, Severity};
use crate::pull::Pull;
use crate::report::locked::{HeldEscalation, Lock};

/// The sweep's refusals, per pull request: when the conversation's lock
/// last held an escalation back, and the highest level held. In memory:
/// the sweep retries every pass and records again, and on any instance the
/// pull request's own `locked` says the same while the lock lasts.
#[derive(Default)]
pub(crate) struct Refusals(Mutex<HashMap<PrKey, (DateTime<Utc>, u8)>>);

impl Refusals {
    /// Records that the lock held `level` back at `at`; `true` when that
    /// level was not held before (the report must change), `false` when it
    /// only moves the time on.
    pub(crate) fn refused(&self, key: &PrKey, at: DateTime<Utc>, level: u8) -> bool {
        let mut map = self.map();
        let before = map.get(key).map(|(_, l)| *l);
        let highest = before.unwrap_or(0).max(level);
        map.insert(key.clone(), (at, highest));
        before.is_none_or(|b| level > b)
    }

    /// When the lock last held an escalation back and the highest level
    /// held, as the sweep recorded it; `None` when it held none back.
    pub(crate) fn last_refused(&self, key: &PrKey) -> Option<(DateTime<Utc>, u8)> {
        self.map().get(key).copied()
    }

    /// An escalation was posted, or none is watched any more.
    pub(crate) fn clear(&self, key: &PrKey) {
        self.map().remove(key);
    }

    /// What the evaluation says: GitHub's `locked` first (with its reason),
    /// else a refusal the sweep met while an escalation is still `held`
    /// (due without its comment); `None` when neither. A refusal with
    /// nothing held any more (posted since, merged, no longer a hotfix) is
    /// forgotten: it must not outlive what it was about.
    pub(crate) fn lock(&self, key: &PrKey, pull: &Pull, held: &[HeldEscalation]) -> Option<Lock> {
        if pull.locked {
            return Some(Lock::Locked {
                reason: pull.active_lock_reason.clone(),
            });
        }
        if held.is_empty() {
            self.clear(key);
            return None;
        }
        self.map().get(key).map(|(at, _)| Lock::Refused { at: *at })
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<PrKey, (DateTime<Utc>, u8)>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The escalation levels due at `now` for a hotfix of `severity` whose
/// deadline is `deadline`, that have no comment of the app's (`posted`:
/// the levels found among its own comments), with whom each would mention.
/// The same times and mentions as the sweep's (`escalation::escalate`):
/// both follow [`crate::rules::escalation::levels`].
pub(crate) fn held(
    policy: &Policy,
    severity: &Severity,
    deadline: DateTime<Utc>,
    now: DateTime<Utc>,
    posted: &[u8],
) -> Vec<HeldEscalation> {
    let Some(limit) = severity
        .deadline
        .and_then(|d| chrono::Duration::from_std(d).ok())
    else {
        return Vec::new();
    };
    held_for(&policy.escalation, deadline - limit, deadline, now, posted)
}

/// [`held`] from an escalation section and the times of a deadline watch
/// (`Watch::started`, `Watch::deadline`): what the sweep follows when the
/// policy in force cannot be read (the section kept with the watch).
pub(crate) fn held_for(
    escalation: &Escalation,
    started: DateTime<Utc>,
    deadline: DateTime<Utc>,
    now: DateTime<Utc>,
    posted: &[u8],
) -> Vec<HeldEscalation> {
    crate::rules::escalation::levels(escalation, started, deadline)
        .into_iter()
        .filter(|level| now >= level.due && !posted.contains(&level.number))
        .map(|level| HeldEscalation {
            level: level.number,
            mention: level.mention,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testutil::{p0_policy, severity_named, ts};

    #[test]
    fn a_level_is_held_when_due_and_not_posted() {
        let mut policy = p0_policy();
        policy.escalation.after = Some(std::time::Duration::from_secs(4 * 3600));
        policy.escalation.mention_after = vec!["cto".into()];
        let p0 = severity_named(&policy, "P0").clone();
        // Set at 10:00, deadline 12:00 (2h), level 2 at 14:00.
        let deadline = ts("2026-11-26T12:00:00Z");
        let held = |now: &str, posted: &[u8]| held(&policy, &p0, deadline, ts(now), posted);
        assert!(held("2026-11-26T11:59:00Z", &[]).is_empty());
        assert_eq!(
            held("2026-11-26T12:00:00Z", &[]),
            [HeldEscalation {
                level: 1,
                mention: vec!["acme/incident-commanders".into()]
            }]
        );
        assert!(held("2026-11-26T13:00:00Z", &[1]).is_empty());
        assert_eq!(
            held("2026-11-26T14:00:00Z", &[1]),
            [HeldEscalation {
                level: 2,
                mention: vec!["acme/incident-commanders".into(), "cto".into()]
            }]
        );
        assert_eq!(held("2026-11-26T14:00:00Z", &[]).len(), 2);
    }

    #[test]
    fn a_refusal_changes_the_report_once_per_level_and_ends_with_what_it_held() {
        let key = PrKey {
            installation: 1,
            repo: crate::events::RepoName {
                owner: "acme".into(),
                name: "app".into(),
            },
            number: 7,
        };
        let at = ts("2026-11-26T12:05:00Z");
        let refusals = Refusals::default();
        assert!(refusals.refused(&key, at, 1));
        assert!(!refusals.refused(&key, at, 1), "the same level again");
        assert!(refusals.refused(&key, at, 2));
        let pull: Pull = serde_json::from_value(serde_json::json!({
            "number": 7,
            "head": {"ref": "hotfix/x", "sha": "a"},
            "base": {"ref": "main", "sha": "b"}
        }))
        .expect("a pull request");
        let one = [HeldEscalation {
            level: 1,
            mention: Vec::new(),
        }];
        assert_eq!(refusals.lock(&key, &pull, &one), Some(Lock::Refused { at }));
        // Nothing held any more: forgotten.
        assert_eq!(refusals.lock(&key, &pull, &[]), None);
        assert_eq!(refusals.lock(&key, &pull, &one), None);
        // GitHub's `locked` speaks for itself, with its reason.
        let locked = Pull {
            locked: true,
            active_lock_reason: Some("spam".into()),
            ..pull
        };
        assert_eq!(
            refusals.lock(&key, &locked, &[]),
            Some(Lock::Locked {
                reason: Some("spam".into())
            })
        );
    }
}
