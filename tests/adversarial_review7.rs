//! Seventh adversarial review of issue 9 (fail closed). As the other review
//! files: each test plays what only a pull request's author (write access
//! to their own fork, none on the base repository) or a user with triage
//! access (labels, close, reopen, lock; no push, no merge) can do, through
//! signed deliveries to the real router and the real client talking to the
//! fake GitHub, and asserts the SAFE outcome (conclusion and wording). A
//! passing test is an attack that failed; a test marked
//! `#[ignore = "finding: …"]` is an attack that worked (see its comment).

use crate::common;

use common::attacks::{text_concluded, text_of};
use common::harness::{BASE_SHA, HEAD_SHA, Harness, REPO};
use common::twins::{
    TWIN, add_with_the_fix, approved_p2_twin, assert_the_p0_failure_holds, edit_the_twin,
    p0_with_an_approved_p2_twin, pull_on_the_head,
};

/// A third pull request #11 by the author on the same head, from a branch
/// named `hotfix/decoy` (a hotfix by its branch alone; no label needed, so
/// no write or triage access): its own failure replaces the P0's on the
/// shared run.
async fn open_the_decoy(h: &Harness) {
    add_with_the_fix(h, &pull_on_the_head(h, 11, "hotfix/decoy"));
    h.pull_request("opened", 11).await;
    let run = h.check(HEAD_SHA);
    assert_eq!(
        run.conclusion.as_deref(),
        Some("failure"),
        "precondition: the decoy's failure is shown: {}",
        text_of(&run)
    );
}

// ---- A third pull request on the head, by the author ----------------------

/// The author opens a decoy hotfix #11 on the P0's head so that the shared
/// run shows #11's failure instead of #7's, closes the decoy (anyone may
/// close their own pull request), then edits the approved P2 twin #9. The
/// guard against a twin's `success` asks only whether the pull request the
/// run *currently names* is still open on the head: #11 is not, so #9's
/// `success` replaces the run, and the unapproved P0 #7 is mergeable
/// until #7 itself is evaluated again (any delivery on #7, or the sweep at
/// its escalation deadline: tried, a sweep 5 minutes later still left
/// `success`; the one at 135 minutes wrote the failure back and posted the
/// escalation, so the escalation is not silenced).
#[tokio::test]
async fn a_closed_decoy_hotfix_on_the_head_does_not_let_the_twin_pass_the_p0() {
    let (h, _pull) = p0_with_an_approved_p2_twin("dana").await;
    open_the_decoy(&h).await;
    h.gh.update_pull(REPO, 11, |p| p.state = "closed".into());
    h.pull_request("closed", 11).await;
    edit_the_twin(&h).await;
    assert_no_success_over_the_open_p0(&h);
}

/// The control: while the decoy stays open the twin guard holds (it asks
/// GitHub whether #11 is still open on the head), so the run keeps a
/// failure. Shows that the assertion above can pass.
#[tokio::test]
async fn with_the_decoy_still_open_the_twins_success_is_held() {
    let (h, _pull) = p0_with_an_approved_p2_twin("dana").await;
    open_the_decoy(&h).await;
    edit_the_twin(&h).await;
    assert_no_success_over_the_open_p0(&h);
}

/// The unapproved P0 #7 is open on this head: whichever hotfix's verdict
/// the shared run shows, it must not be a pass.
fn assert_no_success_over_the_open_p0(h: &Harness) {
    let text = text_concluded(h, HEAD_SHA, "failure");
    assert!(!text.contains("all requirements met"), "{text}");
}

// ---- The twin shows its own failure first, by the author ------------------

/// No third pull request: the author retargets the approved P2 twin #9 to
/// `develop` (anyone may change the base of their own pull request), so
/// #9's own failure ("targets develop") replaces the P0's on the shared
/// run, then retargets #9 back to `main`. The guard lets a `success`
/// replace only *another* pull request's unmet verdict, and the run now
/// names #9 itself: #9's `success` is written and the unapproved P0 #7 is
/// mergeable.
#[tokio::test]
async fn a_twin_retargeted_away_and_back_does_not_pass_the_p0() {
    let (h, _pull) = p0_with_an_approved_p2_twin("dana").await;
    let develop = "d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0";
    h.gh.set_file(REPO, develop, "VERSION", "1.2.3\n");
    h.gh.update_pull(REPO, TWIN, |p| {
        p.base_ref = "develop".into();
        p.base_sha = develop.into();
    });
    h.pull_request("edited", TWIN).await;
    let run = h.check(HEAD_SHA);
    assert_eq!(
        run.conclusion.as_deref(),
        Some("failure"),
        "precondition: the twin's own failure is shown: {}",
        text_of(&run)
    );
    h.gh.update_pull(REPO, TWIN, |p| {
        p.base_ref = "main".into();
        p.base_sha = BASE_SHA.into();
    });
    h.pull_request("edited", TWIN).await;
    assert_no_success_over_the_open_p0(&h);
}

/// The same decoy, not closed but moved: the author pushes a new commit to
/// the decoy's branch in their fork (GitHub delivers `synchronize` for
/// #11), so #11 is no longer on the shared head while the run there still
/// names it. The approved twin's `success` must still not pass the P0.
#[tokio::test]
async fn a_decoy_pushed_off_the_head_does_not_let_the_twin_pass_the_p0() {
    let (h, _pull) = p0_with_an_approved_p2_twin("dana").await;
    open_the_decoy(&h).await;
    h.gh.update_pull(REPO, 11, |p| {
        p.head_sha = "e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1".into()
    });
    h.pull_request("synchronize", 11).await;
    edit_the_twin(&h).await;
    assert_no_success_over_the_open_p0(&h);
}

// ---- The twin and the P0 evaluated at once, on a fresh head ---------------

/// The author opens the approved P2 twin #9 and the P0 #7 on a fresh head
/// at the same moment (GitHub delivered a new check suite, so the store
/// may prove no run exists and skip the lookup), with GitHub slow to
/// create the first run. Whichever write goes first, the shared run must
/// end on the P0's failure, also after the author edits the twin again.
#[tokio::test]
async fn the_approved_twin_and_the_p0_opened_at_once_on_a_fresh_head_leave_the_p0_failing() {
    let (h, pull) = common::attacks::p0().await;
    approved_p2_twin(&h, "dana");

    common::attacks::fresh_suite(&h, HEAD_SHA, &pull.head_ref).await;
    common::attacks::opened_at_once(&h, TWIN, pull.number).await;
    edit_the_twin(&h).await;
    // `check` also asserts that the commit has exactly one run.
    assert_the_p0_failure_holds(&h);
}
