//! The conclusion as the check-run API spells it.

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
