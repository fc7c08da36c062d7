//! Sixth adversarial review of issue 9 (fail closed). As the other review
//! files: each test plays what only a pull request's author (write access
//! to their own fork, none on the base repository) or a user with triage
//! access (labels, close, reopen, lock; no push, no merge) can do, through
//! signed deliveries to the real router and the real client talking to the
//! fake GitHub, and asserts the SAFE outcome (conclusion and wording). A
//! passing test is an attack that failed; a test marked
//! `#[ignore = "finding: …"]` is an attack that worked (see its comment).

mod common;

use common::attacks::text_of;
use common::fake_github::PullSeed;
use common::harness::{HEAD_SHA, Harness, POLICY, REPO};

/// The P0 hotfix #7 (labelled by dana, a writer; unapproved) and, on the
/// very same head commit, the author's second pull request #9 from
/// `hotfix/twin`, an earlier P2 hotfix of the same code that bob approved
/// (P2 needs one approval). Both are evaluated; the P0 fails.
async fn p0_with_an_approved_p2_twin() -> (Harness, PullSeed) {
    let h = Harness::start().await;
    let pull = h.p0();
    h.seed(POLICY, &pull);
    h.label_events_by(&pull, "dana");
    h.clock.set(pull.created_at);
    let twin = PullSeed {
        number: 9,
        head_ref: "hotfix/twin".into(),
        head_sha: HEAD_SHA.into(),
        labels: vec!["hotfix".into(), "P2".into()],
        ..h.p0()
    };
    h.gh.add_pull(REPO, twin.clone());
    h.gh.set_pull_files(REPO, 9, [("src/fix.rs", 3, 1), ("VERSION", 1, 1)]);
    h.label_events_by(&twin, "dana");
    h.gh.add_review(REPO, 9, "bob", "APPROVED", HEAD_SHA);
    h.pull_request("opened", 9).await;
    h.pull_request("opened", pull.number).await;
    let run = h.check(HEAD_SHA);
    assert_eq!(
        run.conclusion.as_deref(),
        Some("failure"),
        "precondition: the P0 fails: {}",
        text_of(&run)
    );
    (h, pull)
}

/// The shared run must keep the P0's failure: branch protection of #7
/// reads `hotfix-policy` on its head, and GitHub shows one run per name.
fn assert_the_p0_failure_holds(h: &Harness) {
    let run = h.check(HEAD_SHA);
    let text = text_of(&run);
    assert_eq!(run.conclusion.as_deref(), Some("failure"), "{text}");
    assert!(
        text.contains("needs engineering-lead and on-call-manager approval"),
        "{text}"
    );
}

// ---- Two hotfix pull requests on one head, by the author ------------------

/// The author edits the approved P2 twin's title (anyone may edit their
/// own pull request): GitHub delivers `edited` for #9 and the app writes
/// #9's `success` on the commit #7 shares. The P0 #7 is then mergeable
/// with no approval from either role.
#[tokio::test]
#[ignore = "finding: a hotfix verdict of another pull request on the same head always replaces the run (RunOwner::Hotfix may_replace anything): the P2 twin's success is written over the P0's failure"]
async fn an_approved_lower_severity_twin_on_the_same_head_does_not_pass_the_p0() {
    let (h, _pull) = p0_with_an_approved_p2_twin().await;
    h.gh.update_pull(REPO, 9, |p| {
        p.title = "fix: stop the login loop (P2)".into()
    });
    h.pull_request("edited", 9).await;
    assert_the_p0_failure_holds(&h);
}

/// The same through a pull request the author abandoned: they close the
/// P2 twin (no write access needed for one's own pull request) and edit
/// its title afterwards. A closed, unmerged hotfix's verdict must not
/// replace the open P0's on their shared head either.
#[tokio::test]
#[ignore = "finding: a closed, unmerged hotfix's verdict still replaces an open hotfix's run on their shared head"]
async fn a_closed_approved_twin_edited_by_its_author_does_not_pass_the_p0() {
    let (h, _pull) = p0_with_an_approved_p2_twin().await;
    h.gh.update_pull(REPO, 9, |p| p.state = "closed".into());
    h.pull_request("closed", 9).await;
    h.gh.update_pull(REPO, 9, |p| p.title = "abandoned".into());
    h.pull_request("edited", 9).await;
    assert_the_p0_failure_holds(&h);
}
