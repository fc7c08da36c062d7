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
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(10_000), "10,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
