//! The check run's section for a locked conversation. Someone with triage
//! access can lock a pull request's conversation; GitHub then refuses the
//! app's comments (403 "Unable to create comment because issue is
//! locked."), so neither the sticky comment nor an escalation can be
//! posted. The check run still can: it keeps the verdict and says what the
//! lock holds back, so that nothing is silent. Pure: facts in, markdown out.

use chrono::{DateTime, Utc};

use crate::rules::format_utc_minute;

/// How the app knows the conversation is locked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lock {
    /// GitHub's `locked: true` on the pull request (`GET
    /// /repos/{o}/{r}/pulls/{n}`), with its `active_lock_reason` when the
    /// locker gave one (`off-topic`, `too heated`, `resolved`, `spam`).
    Locked { reason: Option<String> },
    /// GitHub refused a comment at `at` with 403 "… because issue is
    /// locked." (the lock came after the pull request was read, or the
    /// refusal was the deadline sweep's).
    Refused { at: DateTime<Utc> },
}

/// An escalation level that is due and has no comment of the app's: the
/// people its comment would have mentioned (the policy's
/// `escalation.mention`, plus `mention_after` for level 2), as written
/// there (`@team` or `team`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldEscalation {
    pub level: u8,
    pub mention: Vec<String>,
}

/// The section appended to the check run's summary: that the conversation
/// is locked, that hotfix-guard therefore cannot post its comment or
/// escalations, what to do, and each escalation level held back with the
/// people it would have mentioned.
pub fn locked_section(lock: &Lock, held: &[HeldEscalation]) -> String {
    let how = match lock {
        Lock::Locked {
            reason: Some(reason),
        } => format!(
            "The conversation on this pull request is locked (reason: {})",
            super::markdown::quoted(reason)
        ),
        Lock::Locked { reason: None } => {
            "The conversation on this pull request is locked".to_string()
        }
        Lock::Refused { at } => format!(
            "GitHub refused hotfix-guard's comment at {} because the conversation on this pull request is locked",
            format_utc_minute(*at)
        ),
    };
    let mut out = format!(
        "\n\n### 🔒 Conversation locked\n\n{how}, so hotfix-guard cannot post its comment or escalations there; this check run carries the verdict. A maintainer can unlock it (**Unlock conversation** in the pull request's sidebar); hotfix-guard then posts what is due at its next pass.\n"
    );
    for h in held {
        let who: Vec<String> = h
            .mention
            .iter()
            .map(|m| format!("@{}", m.trim_start_matches('@')))
            .collect();
        let who = if who.is_empty() {
            "nobody it names (the policy's `escalation.mention` is empty, or the policy cannot be read)".to_string()
        } else {
            who.join(", ")
        };
        out.push_str(&format!(
            "\n- ⏰ **Escalation level {} is due and could not be posted.** It would have mentioned {who}: tell them another way until the conversation is unlocked.",
            h.level
        ));
    }
    if !held.is_empty() {
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 13, 10, 0)
            .single()
            .expect("valid")
    }

    #[test]
    fn locked_with_a_reason_and_two_levels_held() {
        insta::assert_snapshot!(locked_section(
            &Lock::Locked {
                reason: Some("too heated".into())
            },
            &[
                HeldEscalation {
                    level: 1,
                    mention: vec!["@acme/oncall".into()],
                },
                HeldEscalation {
                    level: 2,
                    mention: vec!["@acme/oncall".into(), "cto".into()],
                },
            ],
        ));
    }

    #[test]
    fn refused_without_anything_held() {
        insta::assert_snapshot!(locked_section(&Lock::Refused { at: at() }, &[]));
    }

    #[test]
    fn locked_without_a_reason_nobody_to_mention() {
        let text = locked_section(
            &Lock::Locked { reason: None },
            &[HeldEscalation {
                level: 1,
                mention: Vec::new(),
            }],
        );
        assert!(
            text.contains("is locked, so hotfix-guard cannot post"),
            "{text}"
        );
        assert!(
            text.contains("level 1 is due") && text.contains("nobody"),
            "{text}"
        );
    }
}
