//! The conclusion as the check-run API spells it; which cut lists count
//! as a cut timeline.

use crate::rules::verdict::Conclusion;

#[test]
fn conclusions_use_the_check_run_api_spelling() {
    let cases = [
        (Conclusion::Success, "success"),
        (Conclusion::Failure, "failure"),
        (Conclusion::Neutral, "neutral"),
        // Pending is a status, not a conclusion: the run stays in progress.
        (Conclusion::Pending, "in_progress"),
    ];
    for (conclusion, want) in cases {
        assert_eq!(conclusion.as_str(), want, "{conclusion:?}");
    }
}

/// Which cut lists make the engine read label events, state events,
/// retargets and reviews from their own lists (`timeline_cut`), and which
/// one counts no approval command at all (`timeline_unsettled`).
#[test]
fn a_cut_or_unsettled_timeline_is_told_apart_from_other_cut_lists() {
    use crate::rules::verdict::{CutList, timeline_cut, timeline_unsettled};
    let timeline = CutList::Timeline { items: 10_000 };
    let events = CutList::Events { items: 10_000 };
    let reviews = CutList::Reviews { items: 10_000 };
    let unsettled = CutList::TimelineUnsettled;
    let cases: [(&[CutList], bool, bool); 6] = [
        (&[], false, false),
        (&[events, reviews], false, false),
        (&[timeline], true, false),
        (&[events, timeline], true, false),
        (&[unsettled], true, true),
        (&[reviews, unsettled], true, true),
    ];
    for (cut, is_cut, is_unsettled) in cases {
        assert_eq!(timeline_cut(cut), is_cut, "{cut:?}");
        assert_eq!(timeline_unsettled(cut), is_unsettled, "{cut:?}");
    }
}
