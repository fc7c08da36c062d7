//! What the report says about a hotfix closed without merging: escalation
//! stops while it is closed, and who closed it.

use chrono::{DateTime, Utc};

use crate::rules::format_utc_minute;

/// The note for a hotfix closed without merging. `closed_by` is the latest
/// `closed` timeline event (`actor.login`, `created_at`), `None` when the
/// timeline lists none.
pub fn closed_unmerged_note(closed_by: Option<&(String, Option<DateTime<Utc>>)>) -> String {
    let who = match closed_by {
        Some((login, Some(at))) => format!(" by @{login} at {}", format_utc_minute(*at)),
        Some((login, None)) => format!(" by @{login}"),
        None => String::new(),
    };
    format!(
        "Closed without merging{who}: escalation stopped. Reopening resumes it at the level then due; a level already posted is not posted again."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_who_closed_it_and_when() {
        let at = "2026-11-26T13:02:00Z".parse().ok();
        insta::assert_snapshot!(
            closed_unmerged_note(Some(&("dana".to_string(), at))),
            @"Closed without merging by @dana at 2026-11-26 13:02 UTC: escalation stopped. Reopening resumes it at the level then due; a level already posted is not posted again."
        );
        assert_eq!(
            closed_unmerged_note(None),
            "Closed without merging: escalation stopped. Reopening resumes it at the level then due; a level already posted is not posted again."
        );
    }
}
