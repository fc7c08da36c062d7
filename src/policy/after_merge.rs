//! What a merged hotfix owes after its merge when it is judged by an older
//! policy than the one in force.
//!
//! A merged pull request whose own change edits the policy file (or may:
//! its files list was cut) is judged by the policy at its `base.sha`
//! (`engine::merged`), which GitHub set when the pull request was opened or
//! last pushed to. A writer's later change of the policy in force (a new
//! follow-up, merge-back or tag) must still be owed: the author, by touching
//! the policy file, must not choose the older file that drops it. And the
//! author's own loosening edit, now in force, must not drop what the file
//! at `base.sha` asks. So the after-merge steps owe the union of both.

use super::{Policy, Severity};

/// `judging` (the policy at `base.sha` that judged the merged pull request)
/// with its after-merge obligations widened to also owe what `in_force`
/// (the policy on the default branch now) asks, and the severity
/// `severity` (the judging policy's, found from the pull request's labels)
/// with its follow-up widened the same way by `in_force_severity` (the
/// in-force policy's, found from the SAME labels under `in_force`, never by
/// name: a writer may have renamed or added a severity since `base.sha`).
/// Only the after-merge steps read the result; the verdict stays with
/// `judging`. Call it when both policies say "a hotfix merged into its
/// production branch"; when only one does, that one's obligations alone.
///
/// - follow-up: the judging severity's when it has one, else the in-force
///   severity's (also when the judging policy found no severity);
/// - merge-back: owed when either asks (`checks.merge_back`), into the
///   `branches.develop` of the policy that asks (the judging one when both);
/// - release tag: owed when either asks (`release.tag`), with the prefix of
///   the policy that asks (the judging one when both); the in-force
///   `checks.version_bump` (which names the version files) is taken with
///   it when the judging policy has none.
///
/// Pure.
pub fn widened(
    judging: &Policy,
    severity: Option<&Severity>,
    in_force: &Policy,
    in_force_severity: Option<&Severity>,
) -> (Policy, Option<Severity>) {
    let mut owed = judging.clone();
    if !judging.checks.merge_back && in_force.checks.merge_back {
        owed.checks.merge_back = true;
        owed.branches.develop = in_force.branches.develop.clone();
    }
    if !judging.release.tag && in_force.release.tag {
        owed.release = in_force.release.clone();
        if owed.checks.version_bump.is_none() {
            owed.checks.version_bump = in_force.checks.version_bump.clone();
        }
    }
    let severity = match severity {
        Some(s) => {
            let mut s = s.clone();
            if s.follow_up.is_none() {
                s.follow_up = in_force_severity.and_then(|f| f.follow_up.clone());
            }
            Some(s)
        }
        None => in_force_severity.cloned(),
    };
    (owed, severity)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::FollowUp;
    use std::time::Duration;

    fn policy(yaml: &str) -> Policy {
        crate::policy::parse(yaml).expect("a valid policy")
    }

    const LOOSE: &str = "version: 1\nworkflow: github-flow\nseverities:\n  P0:\n    labels: [P0]\n    approvals: { count: 1 }\n";
    const STRICT: &str = "version: 1\nworkflow: git-flow\nbranches: { production: main, develop: dev-next }\nseverities:\n  P0:\n    labels: [P0]\n    approvals: { count: 1 }\n    follow_up: { title: Post-incident review, within: 24h }\nchecks:\n  version_bump: { files: [VERSION], increment: patch }\n  merge_back: true\nrelease: { tag: true, prefix: rel- }\n";

    fn p0(p: &Policy) -> Option<&Severity> {
        p.severities.iter().find(|s| s.name == "P0")
    }

    #[test]
    fn a_looser_judging_policy_owes_what_the_policy_in_force_asks() {
        let (judging, in_force) = (policy(LOOSE), policy(STRICT));
        let (owed, severity) = widened(&judging, p0(&judging), &in_force, p0(&in_force));
        assert!(owed.checks.merge_back);
        assert_eq!(owed.branches.develop, "dev-next");
        assert!(owed.release.tag);
        assert_eq!(owed.release.prefix, "rel-");
        assert!(
            owed.checks.version_bump.is_some(),
            "the tag's version files"
        );
        let follow_up = severity.and_then(|s| s.follow_up).expect("a follow-up");
        assert_eq!(follow_up.title, "Post-incident review");
        // What judges stays the judging policy's.
        assert_eq!(owed.severities, judging.severities);
        assert_eq!(owed.hotfix, judging.hotfix);
    }

    #[test]
    fn a_looser_policy_in_force_drops_nothing_the_judging_policy_asks() {
        let (judging, in_force) = (policy(STRICT), policy(LOOSE));
        let (owed, severity) = widened(&judging, p0(&judging), &in_force, p0(&in_force));
        assert_eq!(owed, judging);
        assert_eq!(severity.as_ref(), p0(&judging));
    }

    #[test]
    fn when_both_ask_the_judging_policy_says_how() {
        let judging = policy(STRICT);
        let mut in_force = policy(STRICT);
        in_force.branches.develop = "other".into();
        in_force.release.prefix = "v".into();
        in_force.severities[0].follow_up = Some(FollowUp {
            title: "Something else".into(),
            within: Duration::from_secs(60),
        });
        let (owed, severity) = widened(&judging, p0(&judging), &in_force, p0(&in_force));
        assert_eq!(owed, judging);
        assert_eq!(severity.as_ref(), p0(&judging));
    }

    #[test]
    fn the_in_force_severity_comes_from_the_labels_not_the_name() {
        let (judging, in_force) = (policy(LOOSE), policy(STRICT));
        // No severity in either: none.
        assert_eq!(widened(&judging, None, &in_force, None).1, None);
        // Renamed since base.sha: the in-force severity found from the
        // labels lends its follow-up whatever its name.
        let mut renamed = p0(&in_force).cloned().expect("P0");
        renamed.name = "SEV0".into();
        let severity = widened(&judging, p0(&judging), &in_force, Some(&renamed)).1;
        assert_eq!(
            severity.and_then(|s| s.follow_up),
            renamed.follow_up.clone()
        );
        // Added since base.sha (no judging severity): the in-force one.
        assert_eq!(
            widened(&judging, None, &in_force, Some(&renamed)).1,
            Some(renamed.clone())
        );
        // The labels name no in-force severity: the judging one, as is.
        assert_eq!(
            widened(&judging, p0(&judging), &in_force, None).1.as_ref(),
            p0(&judging)
        );
    }
}
