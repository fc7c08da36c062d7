//! When each escalation level falls due and whom it mentions: the one rule
//! the sweep (`engine::escalation::escalate`, which posts the levels) and
//! the lock report (`engine::lock::held_for`, which names the levels a
//! locked conversation holds back) both follow, so the two cannot disagree
//! on a time or a mention.

use chrono::{DateTime, Utc};

use crate::policy::Escalation;

/// One escalation level of a watched deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Level {
    /// 1 (the deadline passed) or 2 (`escalation.after` ran out).
    pub number: u8,
    /// When it falls due (UTC).
    pub due: DateTime<Utc>,
    /// How long after `started` it falls due, as its comment says it: the
    /// severity's deadline for level 1, `escalation.after` for level 2.
    pub waited: std::time::Duration,
    /// Whom its comment mentions, as the policy writes them (`@team` or
    /// `team`): `escalation.mention`, plus `mention_after` for level 2.
    pub mention: Vec<String>,
}

/// The levels of `escalation` for a deadline watched from `started` (when
/// the pull request got its severity) to `deadline`, in order: level 1 at
/// `deadline`; level 2, when the policy sets `after`, at `started + after`.
/// A level whose time lies beyond what a date can hold (an `after` of
/// millions of years) never falls due and is left out.
pub fn levels(
    escalation: &Escalation,
    started: DateTime<Utc>,
    deadline: DateTime<Utc>,
) -> Vec<Level> {
    let mut levels = vec![Level {
        number: 1,
        due: deadline,
        waited: (deadline - started).to_std().unwrap_or_default(),
        mention: escalation.mention.clone(),
    }];
    if let Some((waited, due)) = escalation.after.and_then(|after| {
        let due = started.checked_add_signed(chrono::Duration::from_std(after).ok()?)?;
        Some((after, due))
    }) {
        let mut mention = escalation.mention.clone();
        mention.extend(escalation.mention_after.iter().cloned());
        levels.push(Level {
            number: 2,
            due,
            waited,
            mention,
        });
    }
    levels
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testutil::ts;
    use std::time::Duration;

    fn section(after: Option<Duration>) -> Escalation {
        Escalation {
            mention: vec!["@acme/oncall".into()],
            after,
            mention_after: vec!["@acme/cto".into()],
        }
    }

    #[test]
    fn level_one_at_the_deadline_level_two_after_the_start() {
        let started = ts("2026-11-30T10:00:00Z");
        let deadline = ts("2026-11-30T12:00:00Z");
        let levels = levels(
            &section(Some(Duration::from_secs(4 * 3600))),
            started,
            deadline,
        );
        assert_eq!(
            levels,
            vec![
                Level {
                    number: 1,
                    due: deadline,
                    waited: Duration::from_secs(2 * 3600),
                    mention: vec!["@acme/oncall".into()],
                },
                Level {
                    number: 2,
                    due: ts("2026-11-30T14:00:00Z"),
                    waited: Duration::from_secs(4 * 3600),
                    mention: vec!["@acme/oncall".into(), "@acme/cto".into()],
                },
            ]
        );
    }

    #[test]
    fn without_after_there_is_no_second_level() {
        let at = ts("2026-11-30T12:00:00Z");
        let levels = levels(&section(None), at, at);
        assert_eq!(levels.len(), 1);
        assert_eq!(levels[0].number, 1);
    }

    #[test]
    fn a_second_level_past_any_date_never_falls_due() {
        let at = ts("2026-11-30T12:00:00Z");
        let levels = levels(&section(Some(Duration::from_secs(u64::MAX))), at, at);
        assert_eq!(levels.len(), 1);
    }
}
