//! A hotfix targets the production branch.
//!
//! Reads: `base_ref`.

use crate::policy::Policy;
use crate::rules::facts::PullRequestFacts;
use crate::rules::result::{RuleId, RuleResult};

pub fn check(policy: &Policy, facts: &PullRequestFacts) -> RuleResult {
    let production = &policy.branches.production;
    if &facts.base_ref == production {
        RuleResult::pass(RuleId::TargetBranch, format!("targets {production}"))
    } else {
        RuleResult::fail(
            RuleId::TargetBranch,
            format!("targets {} instead of {production}", facts.base_ref),
            format!(
                "targets {}; hotfixes must target {production}",
                facts.base_ref
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::result::RuleStatus;
    use crate::rules::testutil::{p0_facts, p0_policy};

    #[test]
    fn production_branch_passes() {
        let r = check(&p0_policy(), &p0_facts());
        assert_eq!(r.status, RuleStatus::Pass);
    }

    #[test]
    fn other_branch_fails_naming_both() {
        let mut facts = p0_facts();
        facts.base_ref = "develop".into();
        let r = check(&p0_policy(), &facts);
        assert_eq!(r.status, RuleStatus::Fail);
        assert_eq!(r.detail, "targets develop; hotfixes must target main");
        assert_eq!(
            r.title_fragment.as_deref(),
            Some("targets develop instead of main")
        );
    }

    #[test]
    fn branch_names_are_case_sensitive() {
        let mut facts = p0_facts();
        facts.base_ref = "Main".into();
        assert_eq!(check(&p0_policy(), &facts).status, RuleStatus::Fail);
    }
}
