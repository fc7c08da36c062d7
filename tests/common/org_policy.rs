//! Arrange steps of the reviews of a repository without a policy file of
//! its own, judged by its organisation's (`{owner}/.github`, adversarial
//! reviews 23, 25 and 26): the fallback itself, a writer's push to the
//! organisation's default branch, the author's P0 opened while the
//! organisation's file does not parse, and the P0 passing under a loose
//! organisation policy that a writer then tightens. Each step arranges,
//! delivers, or asserts a precondition (said so in its doc).

use super::attacks::{self, text_of};
use super::broken_policy::{broken_policy, erins_p0_under};
use super::fake_github::PullSeed;
use super::harness::{HEAD_SHA, Harness, POLICY, POLICY_PATH, REPO};
use super::webhook;

/// The organisation's policy repository: `.github` of the harness's owner.
pub const ORG_REPO: &str = "octo/.github";

/// The harness's repository has no policy file on `main`; the
/// organisation's repository (`ORG_REPO`, created) has `policy` as its
/// file on `main`, so that one is in force. Nothing is delivered.
pub fn falls_back_to_the_org(h: &Harness, policy: &str) {
    h.gh.remove_file(REPO, "main", POLICY_PATH);
    h.gh.add_repo(ORG_REPO);
    h.gh.set_file(ORG_REPO, "main", POLICY_PATH, policy);
}

/// A writer puts `policy` on the organisation's `main`; GitHub's push to
/// `ORG_REPO`'s default branch naming `files` as changed (none: a commit
/// too large to list) is delivered and settled.
pub async fn org_policy_pushed(h: &Harness, policy: &str, files: &[&str]) {
    h.gh.set_file(ORG_REPO, "main", POLICY_PATH, policy);
    let push = webhook::push_event(ORG_REPO, "refs/heads/main", files, 1);
    h.deliver("push", &push).await;
    h.settle().await;
}

/// A writer fixes the organisation's file: `org_policy_pushed` with the
/// harness's policy, the push listing the policy file.
pub async fn org_policy_fixed(h: &Harness) {
    org_policy_pushed(h, POLICY, &[POLICY_PATH]).await;
}

/// The harness's P0 (#7) by erin (read access; labels by dana, a writer;
/// `broken_policy::erins_p0_under`) in a repository that falls back to the
/// organisation's policy, which does not parse (a writer merged an
/// ordinary pull request there): opened, its run fails on the
/// organisation's file and no deadline is watched (both asserted, as
/// preconditions).
pub async fn erins_p0_opened_under_a_broken_org_policy() -> (Harness, PullSeed) {
    let (h, pull) = erins_p0_under(POLICY).await;
    falls_back_to_the_org(&h, &broken_policy());
    h.pull_request("opened", pull.number).await;
    h.settle().await;
    let run = h.check(HEAD_SHA);
    let text = text_of(&run);
    assert!(
        run.conclusion.as_deref() == Some("failure") && text.contains("is invalid"),
        "precondition: failed on the broken organisation policy: {text}"
    );
    assert_eq!(h.app.engine.watched().await, 0, "nothing watched yet");
    (h, pull)
}

/// The harness's P0 (#7, labels by dana) in a repository that falls back
/// to the organisation's policy, `attacks::loose_policy` (P0 passes with
/// the engineering lead's approval); with `siblings`, the installation
/// also holds `octo/aaa-lib`, whose own policy file does not parse, and
/// `octo/aaa-docs`, without a file and without pull requests (both listed
/// before `octo/app`). alice approves by review on the head and `opened`
/// is delivered: `success`, "using the organisation's policy" (asserted,
/// as a precondition). The clock stands at the opening. Answers the
/// harness and #7.
pub async fn p0_passing_under_a_loose_org_policy(siblings: bool) -> (Harness, PullSeed) {
    let loose = attacks::loose_policy();
    let (h, pull) = attacks::p0_under(&loose).await;
    h.clock.set(pull.created_at);
    falls_back_to_the_org(&h, &loose);
    if siblings {
        h.gh.add_repo("octo/aaa-lib");
        h.gh.set_file("octo/aaa-lib", "main", POLICY_PATH, &broken_policy());
        h.gh.add_repo("octo/aaa-docs");
    }
    h.gh.add_review(REPO, pull.number, "alice", "APPROVED", HEAD_SHA);
    h.pull_request("opened", pull.number).await;
    h.settle().await;
    let run = h.check(HEAD_SHA);
    let text = text_of(&run);
    assert!(
        run.conclusion.as_deref() == Some("success")
            && text.contains("using the organisation's policy"),
        "precondition: passes under the organisation's loose policy: {text}"
    );
    (h, pull)
}
