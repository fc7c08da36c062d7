//! The procedure's next steps for a severity (`hotfix-procedures.md`):
//! staging validation, communication, rollback readiness, follow-up.

use crate::policy::Severity;
use crate::rules::format_duration;

/// Steps in the order the procedure takes them. Communication follows the
/// procedure's P0/P1/P2 by name; other severity names get the general steps.
pub(crate) fn next_steps(severity: Option<&Severity>) -> Vec<String> {
    let mut steps = vec![
        "Deploy the hotfix branch to **staging** and validate the fix there (smoke tests, the exact failing scenario) before merging".to_string(),
    ];
    match severity.map(|s| s.name.to_ascii_uppercase()).as_deref() {
        Some("P0") => steps.push(
            "Communicate: send the **P0 Initial Alert** to all stakeholders now and update every 15 minutes; send the **P0 Resolution Notice** once production is restored".to_string(),
        ),
        Some("P1") => steps.push(
            "Communicate: notify stakeholders **within 1 hour**; daily updates to Product/Business stakeholders until resolved".to_string(),
        ),
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
