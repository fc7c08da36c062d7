//! Lists GitHub had more of than the app reads: a pull request whose
//! timeline was flooded (comments anyone can post) cannot have its
//! approvals confirmed, so the verdict fails naming the limit. The rest of
//! the verdict (the severity, its deadline) stands, so escalation and
//! notices still follow it.

use super::{Conclusion, Verdict, title_from};
use crate::rules::result::{RuleId, RuleResult};

/// A list that stopped at the client's page cap (100 pages of 100 items).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CutList {
    /// `GET /issues/{n}/timeline` stopped after `items` items: comments,
    /// reviews and events after them are not read.
    Timeline { items: usize },
    /// `GET /issues/{n}/events` stopped after `items` events: label events
    /// after them are not read.
    Events { items: usize },
}

/// `verdict` with one failing row per cut list, when it is a hotfix's
/// (a pull request that is not a hotfix needs none of these lists'
/// comments or reviews). Pure: the cut lists are facts the engine read.
pub fn with_cut_lists(mut verdict: Verdict, cut: &[CutList]) -> Verdict {
    if !verdict.is_hotfix || cut.is_empty() {
        return verdict;
    }
    for list in cut {
        let result = match *list {
            CutList::Timeline { items } => RuleResult::fail(
                RuleId::Approvals,
                format!("more than {} timeline items", thousands(items)),
                format!(
                    "more than {} timeline items (comments, reviews, events): approvals and \
                     reviews after them cannot be read, so the approvals cannot be confirmed; \
                     open the fix as a new pull request, or an administrator merges past the \
                     check",
                    thousands(items)
                ),
            ),
            CutList::Events { items } => RuleResult::fail(
                RuleId::SeverityProvenance,
                format!("more than {} issue events", thousands(items)),
                format!(
                    "more than {} issue events: who set or removed a label after them cannot be \
                     read; open the fix as a new pull request, or an administrator merges past \
                     the check",
                    thousands(items)
                ),
            ),
        };
        verdict.results.insert(0, result);
    }
    verdict.conclusion = Conclusion::Failure;
    verdict.title = title_from(&verdict.results);
    verdict
}

/// `10000` → `10,000`.
fn thousands(n: usize) -> String {
    crate::rules::hygiene::thousands(n as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleStatus;
    use crate::rules::evaluate;
    use crate::rules::testutil::{p0_facts, p0_policy};

    #[test]
    fn a_cut_timeline_fails_a_hotfix_naming_the_limit_and_keeps_its_deadline() {
        let policy = p0_policy();
        let plain = evaluate(&policy, &p0_facts());
        assert!(plain.is_hotfix && plain.deadline.is_some());
        let cut = with_cut_lists(plain.clone(), &[CutList::Timeline { items: 10_000 }]);
        assert_eq!(cut.conclusion, Conclusion::Failure);
        assert_eq!(cut.deadline, plain.deadline, "the deadline stands");
        assert_eq!(cut.severity, plain.severity);
        let first = &cut.results[0];
        assert_eq!(first.status, RuleStatus::Fail);
        assert_eq!(first.id, RuleId::Approvals);
        assert!(
            first
                .detail
                .starts_with("more than 10,000 timeline items (comments, reviews, events): approvals and reviews after them cannot be read"),
            "{}",
            first.detail
        );
        assert!(
            cut.title.contains("more than 10,000 timeline items"),
            "{}",
            cut.title
        );
        assert_eq!(cut.results.len(), plain.results.len() + 1);
    }

    #[test]
    fn a_cut_events_list_is_named_too() {
        let policy = p0_policy();
        let cut = with_cut_lists(
            evaluate(&policy, &p0_facts()),
            &[
                CutList::Timeline { items: 10_000 },
                CutList::Events { items: 10_000 },
            ],
        );
        assert!(
            cut.results
                .iter()
                .any(|r| r.id == RuleId::SeverityProvenance
                    && r.detail
                        .starts_with("more than 10,000 issue events: who set or removed a label")),
            "{:?}",
            cut.results
        );
        assert!(
            cut.title.contains("more than 10,000 issue events"),
            "{}",
            cut.title
        );
    }

    #[test]
    fn nothing_cut_or_not_a_hotfix_is_left_alone() {
        let policy = p0_policy();
        let plain = evaluate(&policy, &p0_facts());
        assert_eq!(with_cut_lists(plain.clone(), &[]), plain);
        let mut facts = p0_facts();
        facts.labels.clear();
        facts.head_ref = "feature/x".into();
        let not_hotfix = evaluate(&policy, &facts);
        assert!(!not_hotfix.is_hotfix);
        assert_eq!(
            with_cut_lists(not_hotfix.clone(), &[CutList::Timeline { items: 10_000 }]),
            not_hotfix
        );
    }

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(10_000), "10,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
