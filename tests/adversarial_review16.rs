//! Sixteenth adversarial review of issue 9 (fail closed). Each test plays
//! what only a pull request's author (write access to their own fork, none
//! on the base repository) or a user with triage access can do, through
//! signed deliveries to the real router and the real client talking to the
//! fake GitHub, and asserts the SAFE outcome (conclusion and wording). A
//! passing test is an attack that failed; a test marked
//! `#[ignore = "finding: …"]` is an attack that worked.

mod common;

use common::attacks::{self, text_of};
use common::harness::HEAD_SHA;
use common::twins::{TWIN, approved_p2_twin, edit_the_twin};

// ---- A P0 that never got a verdict, beside an approved twin ----------------

/// The author's approved P2 twin #9 passes on the shared head; the P0 #7 is
/// opened on the same commit, but its evaluation fails on every try (here
/// GitHub answers #7's timeline 502: an outage, or any read of #7 that
/// keeps failing). The run shows #7's "could not evaluate" failure. The
/// author then edits #9's title: #9's `success` must not replace #7's
/// placeholder, because the P0 has never been judged and is still open on
/// the commit.
///
/// Reproduction: the placeholder is written as `RunOwner::Unevaluated`,
/// named `pr:7` over #9's `success` (`publish::unevaluated::plan`), and
/// records no commit verdict (`record_commit_verdict` runs only for
/// `RunOwner::Hotfix`); #9's `success` then finds no other unmet verdict:
/// `unmet_commit_verdicts` has none for #7, and `RunOwner::other_hotfix`
/// reads only `hotfix-pr:N`, not `pr:7`. The run on the P0's head shows
/// `success` with no approval of the P0.
#[tokio::test]
#[ignore = "finding: a twin's success replaces the placeholder of a P0 that was never judged (pr:N names no unmet verdict)"]
async fn a_twins_success_does_not_replace_the_placeholder_of_a_p0_never_judged() {
    let (h, pull) = attacks::p0().await;
    approved_p2_twin(&h, "dana");
    h.pull_request("opened", TWIN).await;
    let run = h.check(HEAD_SHA);
    assert_eq!(
        run.conclusion.as_deref(),
        Some("success"),
        "precondition: the twin passes: {}",
        text_of(&run)
    );
    h.gh.fail_next(
        "GET",
        &format!("/issues/{}/timeline", pull.number),
        502,
        vec![],
        1_000,
    );
    h.pull_request("opened", pull.number).await;
    let run = h.check(HEAD_SHA);
    let text = text_of(&run);
    assert_eq!(run.conclusion.as_deref(), Some("failure"), "{text}");
    assert!(
        text.contains("hotfix-guard could not evaluate this pull request"),
        "precondition: the P0 was never judged: {text}"
    );

    edit_the_twin(&h).await;
    let run = h.check(HEAD_SHA);
    let text = text_of(&run);
    assert_eq!(
        run.conclusion.as_deref(),
        Some("failure"),
        "the P0 never judged must not pass on its twin's approval: {text}"
    );
    assert!(
        text.contains("could not evaluate"),
        "the run still says the P0 could not be evaluated: {text}"
    );
}
