//! The report's [`Moment`] for one evaluation: the injected clock's time,
//! and the escalation comments the app has posted on the pull request.

use crate::github::CommentInfo;
use crate::report::EscalationPosted;
use crate::report::post_merge::escalation_marker;

/// What every escalation marker starts with, for picking the app's own
/// escalation comments (`RepoClient::own_marked`) before [`escalations`].
pub const ESCALATION_MARKER_PREFIX: &str = "<!-- hotfix-guard:escalation level=";

/// The escalations among `comments`, which must be the app's own comments
/// (`RepoClient::own_marked`: GitHub's `performed_via_github_app` names this
/// app): the marker at the start of the comment, the earliest per level.
pub fn escalations(comments: &[&CommentInfo]) -> Vec<EscalationPosted> {
    let mut posted = Vec::new();
    for level in [1u8, 2] {
        let marker = escalation_marker(level);
        if let Some(c) = comments
            .iter()
            .filter(|c| crate::report::markers::opens(&c.body, &marker))
            .filter(|c| c.created_at.is_some())
            .min_by_key(|c| c.created_at)
            && let Some(at) = c.created_at
        {
            posted.push(EscalationPosted {
                level,
                at,
                html_url: c.html_url.clone(),
            });
        }
    }
    posted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comment(user: &str, body: String) -> CommentInfo {
        CommentInfo {
            id: 1,
            user: user.into(),
            user_type: "Bot".into(),
            body,
            created_at: "2026-11-26T11:07:00Z".parse().ok(),
            updated_at: None,
            html_url: None,
            via_app: Some(1),
        }
    }

    #[test]
    fn only_a_marker_at_the_start_counts() {
        let marked = format!("{}\n@acme/oncall the deadline passed", escalation_marker(1));
        let quoted = format!("> {marked}");
        assert!(escalations(&[&comment("hotfix-guard[bot]", quoted)]).is_empty());
        assert!(escalation_marker(2).starts_with(ESCALATION_MARKER_PREFIX));
        let found = escalations(&[&comment("hotfix-guard[bot]", marked)]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].level, 1);
    }
}
