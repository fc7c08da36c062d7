//! A locked conversation, as the engine knows it: GitHub's `locked` on the
//! pull request, or (remembered here) the deadline sweep's last escalation
//! comment refused with 403 "… because issue is locked.", and the
//! escalation levels the lock holds back. The check run names both (see
//! `report::locked`), so an escalation is never swallowed silently.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::events::{PrKey, PullPayload};
use crate::policy::{Policy, Severity};
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

    /// An escalation was posted, or none is watched any more.
    pub(crate) fn clear(&self, key: &PrKey) {
        self.map().remove(key);
    }

    /// What the evaluation says: GitHub's `locked` first (with its reason),
    /// else a refusal the sweep met; `None` when neither.
    pub(crate) fn lock(&self, key: &PrKey, pull: &PullPayload) -> Option<Lock> {
        if pull.locked {
            return Some(Lock::Locked {
                reason: pull.active_lock_reason.clone(),
            });
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
/// The same times as the sweep's (`escalation::escalate`): level 1 at the
/// deadline, level 2 at `escalation.after` from when the severity was set.
pub(crate) fn held(
    policy: &Policy,
    severity: &Severity,
    deadline: DateTime<Utc>,
    now: DateTime<Utc>,
    posted: &[u8],
) -> Vec<HeldEscalation> {
    let mut held = Vec::new();
    let Some(limit) = severity
        .deadline
        .and_then(|d| chrono::Duration::from_std(d).ok())
    else {
        return held;
    };
    let started = deadline - limit;
    if now >= deadline && !posted.contains(&1) {
        held.push(HeldEscalation {
            level: 1,
            mention: policy.escalation.mention.clone(),
        });
    }
    if let Some(after) = policy
        .escalation
        .after
        .and_then(|a| chrono::Duration::from_std(a).ok())
        && now >= started + after
        && !posted.contains(&2)
    {
        let mut mention = policy.escalation.mention.clone();
        mention.extend(policy.escalation.mention_after.iter().cloned());
        held.push(HeldEscalation { level: 2, mention });
    }
    held
}
