//! Whether a merged pull request judged by the policy at its `base.sha`
//! owes the after-merge steps, and which: decided under that policy AND
//! the policy in force, each classifying the same labels.
//!
//! A writer may rename or add a severity, or move `branches.production`,
//! after the pull request's `base.sha`; an author touching the policy file
//! (so that the older file judges) must not thereby drop a follow-up,
//! merge-back or tag the policy in force asks. Pure: facts in, obligations
//! out.

use crate::policy::after_merge::widened;
use crate::policy::{Policy, Severity};
use crate::rules::{self, Classification};

/// What the after-merge steps run with.
pub(super) enum Owed<'p> {
    /// The judging policy and its severity, as they are (no policy file in
    /// force to widen them with).
    Judging(Option<&'p Severity>),
    /// A policy and severity built for the steps: the union of both
    /// policies' obligations (`policy::after_merge::widened`).
    Union(Box<Policy>, Option<Severity>),
}

impl Owed<'_> {
    /// The policy the after-merge steps read (`judging` unless widened).
    pub(super) fn policy<'a>(&'a self, judging: &'a Policy) -> &'a Policy {
        match self {
            Owed::Judging(_) => judging,
            Owed::Union(policy, _) => policy,
        }
    }

    /// The severity whose follow-up the steps open, if any.
    pub(super) fn severity(&self) -> Option<&Severity> {
        match self {
            Owed::Judging(severity) => *severity,
            Owed::Union(_, severity) => severity.as_ref(),
        }
    }
}

/// `Some` when the after-merge steps apply: `judging` (the policy that
/// judged the pull request, its `classification` made from `labels` and
/// `head_ref`) says "a hotfix into its production branch `base_ref`", or
/// `in_force` (the default branch's policy file now, when the pull request
/// was judged by its `base.sha` file; `None` otherwise) says so for the
/// same `labels` and `head_ref`. The in-force severity is the one the
/// labels select under `in_force` (GitHub's label names), never the
/// judging severity's name. The obligations are the union of both
/// policies', the one that says so first.
pub(super) fn owed<'p>(
    judging: &'p Policy,
    classification: &Classification<'p>,
    in_force: Option<&Policy>,
    labels: &[String],
    base_ref: &str,
    head_ref: &str,
) -> Option<Owed<'p>> {
    let judged = production_hotfix(judging, classification, base_ref);
    let Some(in_force) = in_force else {
        return judged.map(Owed::Judging);
    };
    let now = rules::classify(in_force, labels, head_ref);
    let (now_severity, judged_severity) = (now.severity(), classification.severity());
    let (policy, severity) = match (judged, production_hotfix(in_force, &now, base_ref)) {
        (Some(severity), _) => widened(judging, severity, in_force, now_severity),
        (None, Some(severity)) => widened(in_force, severity, judging, judged_severity),
        (None, None) => return None,
    };
    Some(Owed::Union(Box::new(policy), severity))
}

/// `Some(severity)` when `classification` under `policy` is a hotfix and
/// `base_ref` is `policy`'s production branch.
fn production_hotfix<'p>(
    policy: &Policy,
    classification: &Classification<'p>,
    base_ref: &str,
) -> Option<Option<&'p Severity>> {
    match classification {
        Classification::Hotfix { severity, .. } if base_ref == policy.branches.production => {
            Some(*severity)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(yaml: &str) -> Policy {
        crate::policy::parse(yaml).expect("a valid policy")
    }

    const PROD: &str = "version: 1\nworkflow: github-flow\nbranches: { production: prod }\nseverities:\n  P0:\n    labels: [P0]\n    approvals: { count: 1 }\n";
    const MAIN: &str = "version: 1\nworkflow: github-flow\nbranches: { production: main }\nseverities:\n  SEV0:\n    labels: [P0]\n    approvals: { count: 1 }\n    follow_up: { title: Post-incident review, within: 24h }\n";

    fn labels() -> Vec<String> {
        vec!["hotfix".into(), "P0".into()]
    }

    #[test]
    fn either_policy_saying_production_hotfix_owes_the_steps() {
        let (judging, in_force) = (policy(PROD), policy(MAIN));
        let classification = rules::classify(&judging, &labels(), "hotfix/x");
        // Into `main`: only the policy in force says production; its
        // severity, found from the labels (SEV0), brings the follow-up.
        let steps = owed(
            &judging,
            &classification,
            Some(&in_force),
            &labels(),
            "main",
            "hotfix/x",
        )
        .expect("owed under the policy in force");
        assert_eq!(steps.severity().map(|s| s.name.as_str()), Some("SEV0"));
        assert!(
            steps
                .severity()
                .and_then(|s| s.follow_up.as_ref())
                .is_some()
        );
        // Without the policy in force, the judging policy alone: not owed.
        assert!(owed_none(&judging, &classification, None, "main"));
        // Into a branch neither calls production: not owed.
        assert!(owed_none(
            &judging,
            &classification,
            Some(&in_force),
            "develop"
        ));
        // Into `prod`: the judging policy says so, P0 widened by SEV0.
        let steps = owed(
            &judging,
            &classification,
            Some(&in_force),
            &labels(),
            "prod",
            "hotfix/x",
        )
        .expect("owed under the judging policy");
        assert_eq!(steps.severity().map(|s| s.name.as_str()), Some("P0"));
        assert!(
            steps
                .severity()
                .and_then(|s| s.follow_up.as_ref())
                .is_some()
        );
    }

    fn owed_none(
        judging: &Policy,
        classification: &Classification<'_>,
        in_force: Option<&Policy>,
        base_ref: &str,
    ) -> bool {
        owed(
            judging,
            classification,
            in_force,
            &labels(),
            base_ref,
            "hotfix/x",
        )
        .is_none()
    }
}
