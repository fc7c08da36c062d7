//! The procedure's next steps for a severity (the team's hotfix procedure):
//! staging validation, communication (the notices of `notices.rs`),
//! rollback readiness, follow-up.

use crate::policy::Severity;
use crate::rules::format_duration;

/// Steps in the order the procedure takes them. Communication follows the
/// procedure's P0/P1/P2 by name; other severity names get the general steps.
pub(crate) fn next_steps(
    severity: Option<&Severity>,
    merged: bool,
    notice_below: bool,
) -> Vec<String> {
    let mut steps = Vec::new();
    if !merged {
        steps.push(
            "Deploy the hotfix branch to **staging** and validate the fix there (smoke tests, the exact failing scenario) before merging".to_string(),
        );
    }
    // The notice is written out under these steps when the report has the
    // pull request's facts; otherwise the step names what to send.
    let below = if notice_below { " below" } else { "" };
    match severity.map(|s| s.name.to_ascii_uppercase()).as_deref() {
        Some("P0") if merged => steps.push(format!(
            "Communicate: send the **P0 resolution notice**{below} to all stakeholders once production is confirmed restored"
        )),
        Some("P0") => steps.push(format!(
            "Communicate: send the **P0 initial alert**{below} to all stakeholders now, then an update every 15 minutes until resolved"
        )),
        Some("P1") => steps.push(format!(
            "Communicate: notify stakeholders **within 1 hour** with the **P1 status update**{below}; daily updates to Product/Business stakeholders until resolved"
        )),
        Some("P2") => steps.push("Include the fix in the regular release notes".to_string()),
        _ => {}
    }
    steps.push(
        "Have the **rollback plan** ready (git revert, `kubectl rollout undo` or traffic switch) and watch error rates for the first 30 minutes after deploying".to_string(),
    );
    if let Some(follow_up) = severity.and_then(|s| s.follow_up.as_ref()) {
        steps.push(format!(
            "After the merge: **{}** within {}",
            follow_up.title,
            format_duration(follow_up.within)
        ));
    }
    steps
}
