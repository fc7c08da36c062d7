//! Which of the procedure's events a pull request has reached, from facts
//! the evaluation already holds. Pure: facts in, events out.

use crate::policy::NoticeEvent;
use crate::report::notices::EventNotice;

/// Where a hotfix stands after an evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moment<'a> {
    /// Its severity now (the verdict's).
    pub severity: &'a str,
    /// The severity last announced for it (the store's), `None` if none was.
    pub previous_severity: Option<&'a str>,
    /// Every approval the severity requires is in (and it requires some).
    pub approved: bool,
    /// GitHub says merged (`merged_at`).
    pub merged: bool,
    /// GitHub says closed (`state: closed`), merged or not.
    pub closed: bool,
    /// Escalation levels the app has posted on it (its own marked comments).
    pub escalation_levels: &'a [u8],
}

/// One event reached: what it is, which occurrence (the outbox's key:
/// `""` once per pull request, the severity, or the escalation level) and
/// what its notice says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reached {
    pub event: NoticeEvent,
    pub occurrence: String,
    pub notice: EventNotice,
}

/// The events `moment` has reached, in the procedure's order. A pull
/// request evaluated again reaches the same ones with the same keys, which
/// the outbox records only once; `mentions(level)` names who an escalation
/// level mentions.
pub fn planned_events(moment: &Moment<'_>, mentions: impl Fn(u8) -> Vec<String>) -> Vec<Reached> {
    let mut out = Vec::new();
    let open = !moment.merged && !moment.closed;
    match moment.previous_severity {
        None => out.push(Reached {
            event: NoticeEvent::Declared,
            occurrence: String::new(),
            notice: EventNotice::Declared,
        }),
        Some(before) if !before.eq_ignore_ascii_case(moment.severity) => out.push(Reached {
            event: NoticeEvent::SeverityChanged,
            occurrence: format!("{before}->{}", moment.severity),
            notice: EventNotice::SeverityChanged {
                from: before.to_string(),
            },
        }),
        Some(_) => {}
    }
    if moment.approved && open {
        out.push(Reached {
            event: NoticeEvent::Approved,
            occurrence: moment.severity.to_string(),
            notice: EventNotice::Approved,
        });
    }
    if !moment.merged {
        for level in moment.escalation_levels {
            out.push(Reached {
                event: NoticeEvent::Escalated,
                occurrence: level.to_string(),
                notice: EventNotice::Escalated {
                    level: *level,
                    mentioned: mentions(*level),
                },
            });
        }
    }
    if moment.merged {
        out.push(Reached {
            event: NoticeEvent::Merged,
            occurrence: String::new(),
            notice: EventNotice::Merged,
        });
    } else if moment.closed {
        out.push(Reached {
            event: NoticeEvent::ClosedUnmerged,
            occurrence: String::new(),
            notice: EventNotice::ClosedUnmerged,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(moment: Moment<'_>) -> Vec<(NoticeEvent, String)> {
        planned_events(&moment, |_| Vec::new())
            .into_iter()
            .map(|r| (r.event, r.occurrence))
            .collect()
    }

    const OPEN: Moment<'static> = Moment {
        severity: "P0",
        previous_severity: None,
        approved: false,
        merged: false,
        closed: false,
        escalation_levels: &[],
    };

    #[test]
    fn each_moment_reaches_its_events() {
        assert_eq!(events(OPEN), vec![(NoticeEvent::Declared, String::new())]);
        let announced = Moment {
            previous_severity: Some("P0"),
            ..OPEN
        };
        assert_eq!(events(announced), vec![]);
        assert_eq!(
            events(Moment {
                previous_severity: Some("P1"),
                ..OPEN
            }),
            vec![(NoticeEvent::SeverityChanged, "P1->P0".to_string())]
        );
        assert_eq!(
            events(Moment {
                approved: true,
                escalation_levels: &[1, 2],
                ..announced
            }),
            vec![
                (NoticeEvent::Approved, "P0".to_string()),
                (NoticeEvent::Escalated, "1".to_string()),
                (NoticeEvent::Escalated, "2".to_string()),
            ]
        );
        assert_eq!(
            events(Moment {
                approved: true,
                merged: true,
                closed: true,
                escalation_levels: &[1],
                ..announced
            }),
            vec![(NoticeEvent::Merged, String::new())]
        );
        assert_eq!(
            events(Moment {
                closed: true,
                ..announced
            }),
            vec![(NoticeEvent::ClosedUnmerged, String::new())]
        );
    }
}
