//! The clock in the report: how long is left before the deploy deadline, or
//! how far past it a hotfix is, and whether the escalation was posted.
//!
//! Pure: the time comes in as [`Moment::now`] (the engine's injected clock,
//! or `simulate --now`). The report is rendered only when the app evaluates
//! the pull request: on GitHub events, and at the deadline when the sweep
//! posts the escalation. Nothing re-renders it periodically, so the comment
//! changes when a state changes, never every minute; between two
//! evaluations the absolute deadline next to the figure tells the rest.

use chrono::{DateTime, Utc};

use crate::rules::{PullRequestFacts, Verdict, format_span, format_utc_minute};

/// An escalation comment the app posted (found by its marker on a comment
/// written by a bot account, `GET /repos/{o}/{r}/issues/{n}/timeline`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscalationPosted {
    /// 1: at the deadline; 2: after `escalation.after`.
    pub level: u8,
    /// The comment's `created_at`.
    pub at: DateTime<Utc>,
    pub html_url: Option<String>,
}

/// What the report needs beyond the verdict: the time, the pull request's
/// own facts (for the procedure's notices) and the escalations seen.
#[derive(Debug, Clone, Copy)]
pub struct Moment<'a> {
    pub now: DateTime<Utc>,
    pub facts: &'a PullRequestFacts,
    /// `None` where the escalations cannot be known (`simulate` offline).
    pub escalations: Option<&'a [EscalationPosted]>,
}

/// Where a hotfix with a deadline stands at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadlineState {
    /// Open, deadline ahead: this much left.
    Ahead(chrono::Duration),
    /// Open, deadline passed this long ago.
    Overdue(chrono::Duration),
    /// Merged this long before (`true`) or after (`false`) the deadline.
    MergedInTime(chrono::Duration),
    MergedLate(chrono::Duration),
    /// Closed without merging: no deadline applies any more.
    Closed,
}

pub fn deadline_state(verdict: &Verdict, moment: &Moment<'_>) -> Option<DeadlineState> {
    let deadline = verdict.deadline?;
    let facts = moment.facts;
    Some(match (facts.merged_at, facts.state) {
        (Some(merged), _) if merged <= deadline => DeadlineState::MergedInTime(deadline - merged),
        (Some(merged), _) => DeadlineState::MergedLate(merged - deadline),
        (None, crate::rules::PrState::Closed) => DeadlineState::Closed,
        (None, _) if moment.now < deadline => DeadlineState::Ahead(deadline - moment.now),
        (None, _) => DeadlineState::Overdue(moment.now - deadline),
    })
}

/// The check run's title with the clock: `Overdue by 3d 2h — …` past the
/// deadline, `… — 1h 20m left` before it.
pub fn title_with_clock(title: &str, state: Option<DeadlineState>) -> String {
    match state {
        Some(DeadlineState::Overdue(by)) => format!("Overdue by {} — {title}", format_span(by)),
        Some(DeadlineState::Ahead(left)) => {
            format!("{title} — {} left to deploy", format_span(left))
        }
        _ => title.to_string(),
    }
}

/// The comment's deadline lines (markdown list items, each ending in a
/// newline): the deadline and where the hotfix stands, then escalation.
pub fn deadline_lines(
    verdict: &Verdict,
    deadline_limit: &str,
    moment: &Moment<'_>,
) -> Option<String> {
    let deadline = verdict.deadline?;
    let state = deadline_state(verdict, moment)?;
    let at = format_utc_minute(deadline);
    let mut out = match state {
        // No countdown here: the comment is edited only when what it says
        // changes, and a countdown would change it at every evaluation
        // (the check run's title carries the time left instead).
        DeadlineState::Ahead(_) => {
            format!("- **Deploy by:** {at} ({deadline_limit} deadline)\n")
        }
        DeadlineState::Overdue(by) => format!(
            "- **Deploy by:** {at} ({deadline_limit} deadline) — ⏰ **Overdue by {}**\n",
            format_span(by)
        ),
        DeadlineState::MergedInTime(before) => format!(
            "- **Deploy by:** {at} ({deadline_limit} deadline) — merged {} before it\n",
            format_span(before)
        ),
        DeadlineState::MergedLate(after) => format!(
            "- **Deploy by:** {at} ({deadline_limit} deadline) — merged {} after it\n",
            format_span(after)
        ),
        DeadlineState::Closed => {
            format!("- **Deploy by:** {at} ({deadline_limit} deadline) — closed without merging\n")
        }
    };
    let overdue = matches!(
        state,
        DeadlineState::Overdue(_) | DeadlineState::MergedLate(_)
    );
    match moment.escalations {
        Some(posted) if !posted.is_empty() => {
            let mut posted: Vec<&EscalationPosted> = posted.iter().collect();
            posted.sort_by_key(|e| (e.level, e.at));
            let said: Vec<String> = posted
                .iter()
                .map(|e| {
                    let what = if e.level <= 1 {
                        "posted"
                    } else {
                        "second escalation posted"
                    };
                    let when = format_utc_minute(e.at);
                    match &e.html_url {
                        Some(url) => format!("{what} at [{when}]({url})"),
                        None => format!("{what} at {when}"),
                    }
                })
                .collect();
            out.push_str(&format!("- **Escalation:** {}\n", said.join("; ")));
        }
        Some(_) if matches!(state, DeadlineState::Overdue(_)) => {
            out.push_str("- **Escalation:** not posted yet; the next deadline sweep posts it\n")
        }
        Some(_) if overdue => out.push_str("- **Escalation:** none was posted\n"),
        Some(_) => {}
        None if overdue => {
            out.push_str("- **Escalation:** not known here (only the app sees its comments)\n");
        }
        None => {}
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_title_says_overdue_first() {
        let by = chrono::Duration::minutes(3 * 1440 + 125);
        assert_eq!(
            title_with_clock(
                "P0 hotfix: all requirements met",
                Some(DeadlineState::Overdue(by))
            ),
            "Overdue by 3d 2h — P0 hotfix: all requirements met"
        );
        assert_eq!(
            title_with_clock(
                "x",
                Some(DeadlineState::Ahead(chrono::Duration::minutes(80)))
            ),
            "x — 1h 20m left to deploy"
        );
        assert_eq!(title_with_clock("x", Some(DeadlineState::Closed)), "x");
        assert_eq!(title_with_clock("x", None), "x");
    }

    #[test]
    fn two_days_is_spelled_the_same_in_the_title_and_the_escalation() {
        let two_days = chrono::Duration::hours(48);
        let title = title_with_clock("x", Some(DeadlineState::Overdue(two_days)));
        assert_eq!(title, "Overdue by 48h — x");
        let deadline = chrono::DateTime::<Utc>::UNIX_EPOCH;
        let comment = crate::report::post_merge::escalation_comment(
            1,
            "P1",
            &["lead".to_string()],
            deadline,
            deadline + two_days,
            std::time::Duration::from_secs(48 * 3600),
        );
        assert!(comment.contains("(48h deadline)"), "{comment}");
        assert!(comment.contains(": 48h past due"), "{comment}");
    }
}
