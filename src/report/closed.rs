//! What the report says about a hotfix closed without merging: who closed
//! it, and whether escalation stopped (a writer closed it) or continues
//! (anyone else, or a closer whose write access could not be confirmed).

use chrono::{DateTime, Utc};

use crate::rules::format_utc_minute;

/// The note for a hotfix closed without merging. `closed_by` is the latest
/// `closed` timeline event (`actor.login`, `created_at`), `None` when the
/// timeline lists none (or no actor); `writer` whether that actor has
/// write access (`None`: could not be confirmed). Only a writer's close
/// stops escalation.
pub fn closed_unmerged_note(
    closed_by: Option<&(String, Option<DateTime<Utc>>)>,
    writer: Option<bool>,
) -> String {
    let who = match closed_by {
        Some((login, Some(at))) => format!(" by @{login} at {}", format_utc_minute(*at)),
        Some((login, None)) => format!(" by @{login}"),
        None => String::new(),
    };
    const CONTINUES: &str = "escalation continues; a writer can close it to stop it.";
    match (closed_by, writer) {
        (Some(_), Some(true)) => format!(
            "Closed without merging{who}: escalation stopped. Reopening resumes it at the level then due; a level already posted is not posted again."
        ),
        (Some(_), Some(false)) => {
            format!("Closed without merging{who}, who lacks write access: {CONTINUES}")
        }
        (Some((login, _)), None) => format!(
            "Closed without merging{who}; could not confirm that @{login} has write access: {CONTINUES}"
        ),
        (None, _) => {
            format!("Closed without merging; could not confirm who closed it: {CONTINUES}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_writers_close_stops_escalation() {
        let at = "2026-11-26T13:02:00Z".parse().ok();
        insta::assert_snapshot!(
            closed_unmerged_note(Some(&("dana".to_string(), at)), Some(true)),
            @"Closed without merging by @dana at 2026-11-26 13:02 UTC: escalation stopped. Reopening resumes it at the level then due; a level already posted is not posted again."
        );
    }

    #[test]
    fn anyone_elses_close_keeps_escalation_running() {
        let at = "2026-11-26T13:02:00Z".parse().ok();
        insta::assert_snapshot!(
            closed_unmerged_note(Some(&("trina".to_string(), at)), Some(false)),
            @"Closed without merging by @trina at 2026-11-26 13:02 UTC, who lacks write access: escalation continues; a writer can close it to stop it."
        );
        insta::assert_snapshot!(
            closed_unmerged_note(Some(&("trina".to_string(), None)), None),
            @"Closed without merging by @trina; could not confirm that @trina has write access: escalation continues; a writer can close it to stop it."
        );
        // Nobody named: unknown, so escalation continues even if the
        // permission were claimed.
        insta::assert_snapshot!(
            closed_unmerged_note(None, Some(true)),
            @"Closed without merging; could not confirm who closed it: escalation continues; a writer can close it to stop it."
        );
    }
}
