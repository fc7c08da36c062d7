//! Arrange steps of the reviews that put a second (or third) pull request
//! on the P0's head commit: the author's "twin" #9 from `hotfix/twin` and
//! its decoys. GitHub shows one `hotfix-policy` run per commit and name,
//! so whose verdict that shared run shows is what these tests attack.
//! Each step only arranges or delivers; what a test asserts stays in the
//! test (`assert_the_p0_failure_holds` is the one verdict several share).

use super::attacks::{self, text_of};
use super::fake_github::PullSeed;
use super::harness::{HEAD_SHA, Harness, REPO};

/// The number of the author's twin pull request in these tests.
pub const TWIN: u64 = 9;

/// The harness's P0 as pull request `number` from `branch`, on the P0's
/// head commit (`HEAD_SHA`), with no labels (a hotfix by its branch
/// alone, when the branch is `hotfix/…`); not yet added to the fake.
pub fn pull_on_the_head(h: &Harness, number: u64, branch: &str) -> PullSeed {
    PullSeed {
        number,
        head_ref: branch.into(),
        head_sha: HEAD_SHA.into(),
        labels: vec![],
        ..h.p0()
    }
}

/// Adds `pull` to the fake with the P0's files (`src/fix.rs`, `VERSION`).
pub fn add_with_the_fix(h: &Harness, pull: &PullSeed) {
    h.gh.add_pull(REPO, pull.clone());
    h.gh.set_pull_files(REPO, pull.number, [("src/fix.rs", 3, 1), ("VERSION", 1, 1)]);
}

/// The author's twin #9 from `hotfix/twin` on the P0's head: an earlier
/// P2 hotfix of the same code, its labels set by `labeller`, approved by
/// bob (P2 needs one approval). Arranged only: nothing is delivered.
pub fn approved_p2_twin(h: &Harness, labeller: &str) -> PullSeed {
    let twin = PullSeed {
        labels: vec!["hotfix".into(), "P2".into()],
        ..pull_on_the_head(h, TWIN, "hotfix/twin")
    };
    add_with_the_fix(h, &twin);
    h.label_events_by(&twin, labeller);
    h.gh.add_review(REPO, TWIN, "bob", "APPROVED", HEAD_SHA);
    twin
}

/// The P0 hotfix #7 as `attacks::p0` arranges it (labelled by dana, a
/// writer; unapproved; `trina` has triage access) and its approved P2
/// twin #9 (`approved_p2_twin`, labels by `labeller`). #9 is evaluated
/// first (its verdict on the shared run), then #7, whose failure replaces
/// it (asserted, as a precondition).
pub async fn p0_with_an_approved_p2_twin(labeller: &str) -> (Harness, PullSeed) {
    let (h, pull) = attacks::p0().await;
    approved_p2_twin(&h, labeller);
    h.pull_request("opened", TWIN).await;
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

/// The author edits the twin's title (anyone may edit their own pull
/// request): GitHub delivers `edited` for #9; waits for the evaluation.
pub async fn edit_the_twin(h: &Harness) {
    h.gh.update_pull(REPO, TWIN, |p| {
        p.title = "fix: stop the login loop (P2)".into()
    });
    h.pull_request("edited", TWIN).await;
}

/// The shared run on the P0's head still fails and says the P0 could not
/// be evaluated: a P0 open on the commit and never judged holds it. `why`
/// leads the assertion's message.
pub fn assert_the_never_judged_p0_still_fails(h: &Harness, why: &str) {
    let run = h.check(HEAD_SHA);
    let text = text_of(&run);
    assert_eq!(run.conclusion.as_deref(), Some("failure"), "{why}: {text}");
    assert!(text.contains("could not evaluate"), "{why}: {text}");
}

/// The shared run must keep the P0's failure: branch protection of #7
/// reads `hotfix-policy` on its head, and GitHub shows one run per name.
pub fn assert_the_p0_failure_holds(h: &Harness) {
    let run = h.check(HEAD_SHA);
    let text = text_of(&run);
    assert_eq!(run.conclusion.as_deref(), Some("failure"), "{text}");
    assert!(
        text.contains("needs engineering-lead and on-call-manager approval"),
        "{text}"
    );
}
