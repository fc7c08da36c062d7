//! The check run while no evaluation of the pull request completes: a
//! `failure` that says why and when it is tried again, never silence and
//! never the older verdict (which a required check would keep showing as
//! `success` while, say, a change request waits unread). Pure: the error
//! and the wait in, the check run's output out.

use std::time::Duration;

use super::CheckOutput;
use super::markdown::quoted;
use crate::rules::format_duration;

/// The title while the evaluation is being retried.
pub const RETRYING_TITLE: &str = "hotfix-guard could not evaluate this pull request yet";

/// The title once the tries are used up.
pub const GIVEN_UP_TITLE: &str = "hotfix-guard could not evaluate this pull request";

/// An evaluation failed with `error` (the engine's error, as displayed)
/// and is tried again in `wait` (the queue's back-off, or longer when a
/// rate limit asks).
pub fn retrying(error: &str, wait: Duration) -> CheckOutput {
    CheckOutput {
        conclusion: "failure",
        title: RETRYING_TITLE.to_string(),
        summary: format!(
            "The evaluation could not finish: {}.\n\nUntil one does, this check fails rather than keep an older verdict. It will be tried again in {}, or on the next change to this pull request; press **Re-check** to run it now.",
            quoted(error),
            in_words(wait)
        ),
        text: None,
    }
}

/// `wait` as the run says it: `format_duration`, or "under a second"
/// (a `RETRY_BACKOFF` below a second), never "0m".
fn in_words(wait: Duration) -> String {
    if wait < Duration::from_secs(1) {
        "under a second".to_string()
    } else {
        format_duration(wait)
    }
}

/// The `attempts`-th try failed with `error` and was the last one: the
/// next change to the pull request (or **Re-check**) runs it again.
pub fn given_up(attempts: u32, error: &str) -> CheckOutput {
    CheckOutput {
        conclusion: "failure",
        title: GIVEN_UP_TITLE.to_string(),
        summary: format!(
            "The evaluation failed {attempts} times; the last error: {}.\n\nIt will run again on the next change to this pull request; press **Re-check** to run it now.",
            quoted(error)
        ),
        text: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(output: &CheckOutput) -> String {
        format!(
            "{} — {}\n\n{}",
            output.conclusion, output.title, output.summary
        )
    }

    #[test]
    fn retrying_names_the_error_and_the_wait() {
        insta::assert_snapshot!(shown(&retrying(
            "GitHub did not answer as expected: GET /repos/octo/app/issues/7/timeline: the list changed while it was read",
            Duration::from_secs(40)
        )));
    }

    #[test]
    fn given_up_names_the_tries_and_the_last_error() {
        insta::assert_snapshot!(shown(&given_up(
            5,
            "GitHub did not answer as expected: GET /repos/octo/app/pulls/7: 502 Bad Gateway"
        )));
    }

    #[test]
    fn a_wait_below_a_second_is_not_zero_minutes() {
        let out = retrying("e", Duration::from_millis(50));
        assert!(
            out.summary.contains("tried again in under a second,"),
            "{}",
            out.summary
        );
    }

    #[test]
    fn an_error_cannot_start_a_line_or_pass_for_a_marker() {
        let out = retrying("a\n<!-- hotfix-guard -->", Duration::from_secs(10));
        assert!(!out.summary.contains("<!--"), "{}", out.summary);
        assert!(
            out.summary
                .starts_with("The evaluation could not finish: a &lt;!--")
        );
    }
}
