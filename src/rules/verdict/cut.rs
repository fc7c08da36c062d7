//! Lists GitHub had more of than the app reads (the client's page cap).
//! A timeline flooded with comments (anyone who can comment can do it) is
//! cut; the engine then reads the label events and the reviews from their
//! own lists, so only `/hotfix approve` comments past the cut are unread.
//! Those can only add approvals: a verdict that passes without them stands,
//! one that fails says that comment approvals past the limit were not read.
//! A cut events or reviews list fails the verdict, naming the limit. The
//! rest of the verdict (the severity, its deadline) stands, so escalation
//! and notices still follow it.

use super::{Conclusion, Verdict, title_from};
use crate::rules::result::{RuleId, RuleResult};

/// A list that stopped at the client's page cap (100 pages of 100 items).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CutList {
    /// `GET /issues/{n}/timeline` stopped after `items` items: comments
    /// after them are not read (label events and reviews come from their
    /// own lists).
    Timeline { items: usize },
    /// `GET /issues/{n}/events` stopped after `items` events: label events
    /// after them are not read.
    Events { items: usize },
    /// `GET /pulls/{n}/reviews` stopped after `items` reviews: a review
    /// after them (changes requested among them) is not read.
    Reviews { items: usize },
    /// `GET /issues/{n}/timeline` kept changing while it was read (an item
    /// removed before the end of what was read, at every try; anyone can
    /// delete their own comment): read like a cut timeline, with none of
    /// its comments counted as approvals. The report names it
    /// (`report::unsettled_timeline_note`).
    TimelineUnsettled,
}

/// True when the timeline is among `cut`: its label and state events,
/// retargets and reviews came from their own lists instead.
/// A timeline that kept changing counts as cut.
pub fn timeline_cut(cut: &[CutList]) -> bool {
    cut.iter()
        .any(|c| matches!(c, CutList::Timeline { .. } | CutList::TimelineUnsettled))
}

/// True when the timeline kept changing while it was read: no approval
/// command is counted (its comments were not read as one consistent list,
/// and the unread ones could only add approvals; the report says to
/// approve by review).
pub fn timeline_unsettled(cut: &[CutList]) -> bool {
    cut.contains(&CutList::TimelineUnsettled)
}

/// True when the issue events list is among `cut`: label removals and
/// closes past its cut are unknown (who designated or closed it last).
pub fn events_cut(cut: &[CutList]) -> bool {
    cut.iter().any(|c| matches!(c, CutList::Events { .. }))
}

const WAY_OUT: &str =
    "open the fix as a new pull request, or an administrator merges past the check";

/// `verdict` with a failing row per cut list that could change it, when it
/// is a hotfix's (a pull request that is not a hotfix needs none of these
/// lists' comments or reviews). Pure: the cut lists are facts the engine
/// read.
pub fn with_cut_lists(mut verdict: Verdict, cut: &[CutList]) -> Verdict {
    if !verdict.is_hotfix || cut.is_empty() {
        return verdict;
    }
    let failing = verdict.conclusion == Conclusion::Failure;
    let mut rows = Vec::new();
    for list in cut {
        match *list {
            // Unread comments can only add approvals: named when they
            // could have made a difference.
            CutList::Timeline { items } if failing => rows.push(RuleResult::fail(
                RuleId::Approvals,
                format!("more than {} timeline items", thousands(items)),
                format!(
                    "more than {} timeline items: `/hotfix approve` comments after them are not \
                     read, so approve by review (reviews are read in full), or {WAY_OUT}",
                    thousands(items)
                ),
            )),
            CutList::Timeline { .. } => {}
            // Named by the report's note (`report::unsettled_timeline_note`);
            // the approvals rule already fails without the comments.
            CutList::TimelineUnsettled => {}
            CutList::Events { items } => rows.push(RuleResult::fail(
                RuleId::SeverityProvenance,
                format!("more than {} issue events", thousands(items)),
                format!(
                    "more than {} issue events: who set or removed a label after them cannot be \
                     read; {WAY_OUT}",
                    thousands(items)
                ),
            )),
            CutList::Reviews { items } => rows.push(RuleResult::fail(
                RuleId::Approvals,
                format!("more than {} reviews", thousands(items)),
                format!(
                    "more than {} reviews: reviews after them (changes requested among them) \
                     cannot be read, so the approvals cannot be confirmed; {WAY_OUT}",
                    thousands(items)
                ),
            )),
        }
    }
    if rows.is_empty() {
        return verdict;
    }
    for row in rows.into_iter().rev() {
        verdict.results.insert(0, row);
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
    fn a_cut_timeline_names_the_limit_on_a_failing_hotfix_and_keeps_its_deadline() {
        let policy = p0_policy();
        let plain = evaluate(&policy, &p0_facts());
        assert!(plain.is_hotfix && plain.deadline.is_some());
        assert_eq!(plain.conclusion, Conclusion::Failure, "no approvals yet");
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
                .starts_with("more than 10,000 timeline items: `/hotfix approve` comments after them are not read, so approve by review"),
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

    /// Unread comments can only add approvals: a verdict that passes
    /// without them stands. A cut reviews list may hide a block: it fails.
    #[test]
    fn a_passing_verdict_stands_with_a_cut_timeline_but_not_with_cut_reviews() {
        let policy = p0_policy();
        let mut passing = evaluate(&policy, &p0_facts());
        passing.conclusion = Conclusion::Success;
        let kept = with_cut_lists(passing.clone(), &[CutList::Timeline { items: 10_000 }]);
        assert_eq!(kept, passing);
        let cut = with_cut_lists(
            passing.clone(),
            &[
                CutList::Timeline { items: 10_000 },
                CutList::Reviews { items: 10_000 },
            ],
        );
        assert_eq!(cut.conclusion, Conclusion::Failure);
        assert_eq!(cut.results.len(), passing.results.len() + 1);
        assert!(
            cut.results[0]
                .detail
                .starts_with("more than 10,000 reviews: reviews after them (changes requested among them) cannot be read"),
            "{}",
            cut.results[0].detail
        );
        assert_eq!(cut.deadline, passing.deadline);
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
        // Lists that fail a hotfix whatever its verdict leave a pull request
        // that is not a hotfix alone too (a designation label removed past
        // a cut events list already makes it a hotfix: see `designation`).
        let cut = [
            CutList::Events { items: 10_000 },
            CutList::Reviews { items: 10_000 },
        ];
        assert_eq!(with_cut_lists(not_hotfix.clone(), &cut), not_hotfix);
    }

    #[test]
    fn only_a_cut_events_list_makes_the_events_unknown() {
        assert!(!events_cut(&[]));
        assert!(!events_cut(&[
            CutList::Timeline { items: 10_000 },
            CutList::Reviews { items: 10_000 },
        ]));
        assert!(events_cut(&[
            CutList::Reviews { items: 10_000 },
            CutList::Events { items: 10_000 },
        ]));
    }

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(10_000), "10,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
