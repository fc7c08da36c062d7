//! The "could not evaluate" failure a pull request's check run shows while
//! its evaluation fails: whether to write it over what the run shows, and
//! whose name (`external_id`) it then carries. Pure: what the run shows in,
//! a plan out.
//!
//! The placeholder must never launder a verdict, and must never outlive
//! the failure: the pull request's next verdict has to be able to replace
//! it, whatever that verdict is. A not-a-hotfix verdict replaces only runs
//! that name a plain pull request (`pr:N`), its own hotfix verdict, or no
//! one while `neutral` (`RunOwner::may_replace_shown`), so:
//!
//! - over a `failure` the run keeps the name it shows (another hotfix's
//!   unmet verdict, or the direct-push audit's, stays protected);
//! - over anything else (`success`, `neutral`, in progress, or no run) the
//!   placeholder names the failing pull request, `pr:N` unless the run
//!   already names it: nothing unmet is hidden there, and its next verdict
//!   replaces the placeholder.
//!
//! The pull request may be a hotfix never judged (a P0), so its
//! placeholder holds other verdicts on the commit back until it is judged:
//! the write records it as unmet in `commit_verdicts` (whatever the run
//! shows), no other pull request's not-a-hotfix verdict replaces a `pr:N`
//! run that is not `neutral`, and a hotfix `success` reads such a run as
//! unmet (`RunOwner::may_replace_shown`, `RunOwner::other_unmet`).

use super::Shows;

/// What to do with the placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Plan {
    /// Write nothing: the run already shows a failure (`keep_failure`).
    Leave,
    /// Write it, with this `external_id` (`None`: keep the run's own).
    Write { external_id: Option<String> },
}

/// The plan for the placeholder of pull request `number` (a
/// `RunOwner::Unevaluated`) over a run that shows `shows` (`None`: no run
/// on the commit yet).
pub(super) fn plan(number: u64, keep_failure: bool, shows: Option<&Shows>) -> Plan {
    let failing = shows.is_some_and(|(_, conclusion)| conclusion.as_deref() == Some("failure"));
    if failing && keep_failure {
        return Plan::Leave;
    }
    let names_it = shows.is_some_and(|(id, _)| {
        id.as_deref()
            .is_some_and(|id| id == format!("pr:{number}") || id == format!("hotfix-pr:{number}"))
    });
    let external_id = if failing || names_it {
        None
    } else {
        Some(format!("pr:{number}"))
    };
    Plan::Write { external_id }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shows(id: Option<&str>, conclusion: Option<&str>) -> Shows {
        (id.map(String::from), conclusion.map(String::from))
    }

    fn named(id: &str) -> Plan {
        Plan::Write {
            external_id: Some(id.to_string()),
        }
    }

    const KEEP: Plan = Plan::Write { external_id: None };

    #[test]
    fn a_run_already_failing_takes_no_retry_placeholder() {
        for id in [None, Some("hotfix-pr:7"), Some("hotfix-pr:9"), Some("pr:7")] {
            let run = shows(id, Some("failure"));
            assert_eq!(plan(7, true, Some(&run)), Plan::Leave, "{id:?}");
        }
    }

    #[test]
    fn over_a_failure_the_run_keeps_whose_verdict_it_shows() {
        for id in [None, Some("hotfix-pr:9"), Some("hotfix-pr:7")] {
            let run = shows(id, Some("failure"));
            assert_eq!(plan(7, false, Some(&run)), KEEP, "{id:?}");
        }
    }

    #[test]
    fn over_a_pass_the_placeholder_names_the_failing_pull_request() {
        assert_eq!(plan(7, true, None), named("pr:7"));
        for (id, conclusion) in [
            (Some("hotfix-pr:9"), Some("success")),
            (None, Some("success")),
            (None, Some("neutral")),
            (Some("pr:9"), Some("neutral")),
            (None, None),
        ] {
            let run = shows(id, conclusion);
            assert_eq!(
                plan(7, true, Some(&run)),
                named("pr:7"),
                "{id:?} {conclusion:?}"
            );
        }
    }

    #[test]
    fn another_pull_requests_placeholder_is_unmet_and_not_replaced_by_a_plain_verdict() {
        use super::super::RunOwner;
        let plain = RunOwner::NotHotfix(10);
        assert!(!plain.may_replace_shown(Some("pr:7"), Some("failure")));
        assert!(plain.may_replace_shown(Some("pr:10"), Some("failure")));
        assert!(plain.may_replace_shown(Some("pr:9"), Some("neutral")));
        assert_eq!(RunOwner::other_unmet("pr:7", Some("failure"), 9), Some(7));
        assert_eq!(RunOwner::other_unmet("pr:7", Some("failure"), 7), None);
        assert_eq!(RunOwner::other_unmet("pr:10", Some("neutral"), 9), None);
        assert_eq!(
            RunOwner::other_unmet("hotfix-pr:7", Some("failure"), 9),
            Some(7)
        );
        assert_eq!(
            RunOwner::other_unmet("hotfix-pr:7", Some("success"), 9),
            None
        );
    }

    #[test]
    fn a_run_naming_the_pull_request_keeps_its_name() {
        for id in ["hotfix-pr:7", "pr:7"] {
            let run = shows(Some(id), Some("success"));
            assert_eq!(plan(7, true, Some(&run)), KEEP, "{id}");
        }
    }
}
