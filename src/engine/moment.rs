//! The report's [`Moment`] for one evaluation: the injected clock's time,
//! and the escalation comments the app has posted on the pull request.

use crate::github::CommentInfo;
use crate::report::EscalationPosted;
use crate::report::post_merge::escalation_marker;

/// The escalations among the pull request's comments: the marker at the
/// start of a comment written by a bot account. A person pasting the marker
/// into their own comment does not make an escalation look posted.
pub fn escalations(comments: &[CommentInfo]) -> Vec<EscalationPosted> {
    let mut posted = Vec::new();
    for level in [1u8, 2] {
        let marker = escalation_marker(level);
        if let Some(c) = comments
            .iter()
            .filter(|c| c.user.ends_with("[bot]") && c.body.starts_with(&marker))
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
            body,
            created_at: "2026-11-26T11:07:00Z".parse().ok(),
            updated_at: None,
            html_url: None,
        }
    }

    #[test]
    fn only_a_bots_marked_comment_counts() {
        let marked = format!("{}\n@acme/oncall the deadline passed", escalation_marker(1));
        assert!(escalations(&[comment("mallory", marked.clone())]).is_empty());
        let found = escalations(&[comment("hotfix-guard[bot]", marked)]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].level, 1);
    }
}
