//! Arrange steps of the reviews that attack a list's page boundaries and
//! retargets (`tests/adversarial_review11.rs` to `13.rs`): a review given
//! at a chosen minute, a retarget with its issue event and delivery, and an
//! approved P0 whose issue events list the author padded before two
//! retargets, a P0 whose timeline the author padded before both roles
//! approved it by review. Each step only arranges or delivers (asserting
//! only a named precondition); the outcome checks the three reviews share
//! are the `assert_*` functions at the end.

use chrono::{DateTime, Duration, Utc};

use super::attacks::{both_roles_approve_by_comment, comment, delivered, text_of};
use super::fake_github::PullSeed;
use super::harness::{BASE_SHA, HEAD_SHA, Harness, POLICY, REPO};
use super::webhook::{self, PrSpec};

/// `develop`'s head in the harness (`Harness::seed`).
pub const DEVELOP_SHA: &str = "d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0";

/// The client's page size for every list (`per_page=100`).
pub const PAGE: usize = 100;

/// A review by `user` in `state` (`APPROVED`, `CHANGES_REQUESTED`) on the
/// head at `minutes` after #7 opened, and its `pull_request_review`
/// delivery; waits for the evaluation.
pub async fn review(h: &Harness, pull: &PullSeed, user: &str, state: &str, minutes: i64) {
    let at = pull.created_at + Duration::minutes(minutes);
    let id =
        h.gh.add_review_at(REPO, pull.number, user, state, HEAD_SHA, at);
    let spec = PrSpec::from_seed(REPO, &h.gh.pull(REPO, pull.number).expect("pull"), 1);
    let review = webhook::ReviewSpec {
        id,
        user: user.to_string(),
        state: state.to_ascii_lowercase(),
        commit_id: HEAD_SHA.to_string(),
        body: None,
        submitted_at: at,
    };
    let payload = webhook::review_event("submitted", &spec, &review);
    delivered(h, "pull_request_review", &payload).await;
}

/// The author changes #7's base to `to` (`pull_request.edited` with
/// `changes.base`) at `minutes` after it opened; GitHub records a
/// `base_ref_changed` event in the issue events list.
pub async fn retarget(h: &Harness, pull: &PullSeed, from: &str, to: &str, minutes: i64) {
    let sha = if to == "main" { BASE_SHA } else { DEVELOP_SHA };
    h.gh.update_pull(REPO, pull.number, |p| {
        p.base_ref = to.into();
        p.base_sha = sha.into();
    });
    h.gh.add_base_change(
        REPO,
        pull.number,
        &pull.author,
        pull.created_at + Duration::minutes(minutes),
    );
    h.clock.set(pull.created_at + Duration::minutes(minutes));
    let spec = PrSpec::from_seed(REPO, &h.gh.pull(REPO, pull.number).expect("pull"), 1);
    let payload = webhook::pull_request_edited(
        &spec,
        serde_json::json!({"base": {"ref": {"from": from}, "sha": {"from": "0000000000000000000000000000000000000000"}}}),
    );
    delivered(h, "pull_request", &payload).await;
}

/// The P0 #7 against `main`; its author renames it `renames` times (each a
/// `renamed` issue event, which anyone who may edit the title can make)
/// before both roles approve it by comment, so that the issue events list
/// holds `2 + renames` events (the two labels dana applied, the renames)
/// when the evaluations after the approvals read it. The check passes.
/// Then the author retargets #7 to `develop` and back to `main`: the
/// approvals were given before the latest base change. Returns the check
/// run's conclusion and text after that.
pub async fn approved_then_retargeted_away_and_back(renames: usize) -> (Option<String>, String) {
    let h = Harness::start().await;
    let pull = h.p0();
    h.seed(POLICY, &pull);
    h.gh.set_file(REPO, DEVELOP_SHA, "VERSION", "1.2.3\n");
    h.label_events_by(&pull, "dana");
    h.clock.set(pull.created_at);
    h.pull_request("opened", pull.number).await;
    for _ in 0..renames {
        h.gh.add_state_event(
            REPO,
            pull.number,
            "renamed",
            &pull.author,
            pull.created_at + Duration::seconds(30),
        );
    }
    both_roles_approve_by_comment(
        &h,
        pull.number,
        pull.created_at + Duration::minutes(1),
        pull.created_at + Duration::minutes(2),
    )
    .await;
    assert_passes(&h);
    retarget(&h, &pull, "main", "develop", 10).await;
    retarget(&h, &pull, "develop", "main", 11).await;
    head_run(&h)
}

/// The check run on the head (`HEAD_SHA`) as a test asserts on it: its
/// conclusion (`None` while in progress) and its full text (`text_of`).
pub fn head_run(h: &Harness) -> (Option<String>, String) {
    let run = h.check(HEAD_SHA);
    (run.conclusion.clone(), text_of(&run))
}

/// Precondition of the padded attacks: the check run on the head is
/// `success` (asserted, with its text on failure).
pub fn assert_passes(h: &Harness) {
    let (conclusion, text) = head_run(h);
    assert_eq!(
        conclusion.as_deref(),
        Some("success"),
        "precondition: {text}"
    );
}

/// The author of #7 comments `/hotfix approve` at `at` (delivered and
/// settled): a command, so it is evaluated, and it counts for nothing.
pub async fn author_approves(h: &Harness, pull: &PullSeed, at: DateTime<Utc>) {
    comment(h, pull.number, &pull.author, "/hotfix approve", at).await;
}

/// The P0 #7 under `POLICY`, labelled by dana and opened (the clock at its
/// opening); the author's own `/hotfix approve` at 20 seconds; when
/// `friend`, a friend's `COMMENTED` review (`friend-0`) at 25 seconds;
/// `pad` plain comments by the author (`note {n}`) at 30 seconds; then
/// alice's and oncall-olga's approving reviews at minutes 1 and 2, each
/// delivered and settled. With the two label events and the app's sticky
/// comment, the timeline holds `5 + pad` items (one more with `friend`)
/// before the reviews. Answers the harness, the pull request and the
/// friend's review id (when `friend`); asserts nothing.
async fn padded_then_approved(pad: usize, friend: bool) -> (Harness, PullSeed, Option<u64>) {
    let h = Harness::start().await;
    let pull = h.p0();
    h.seed(POLICY, &pull);
    h.label_events_by(&pull, "dana");
    h.clock.set(pull.created_at);
    h.pull_request("opened", pull.number).await;
    author_approves(&h, &pull, pull.created_at + Duration::seconds(20)).await;
    let friend = friend.then(|| {
        h.gh.add_review_at(
            REPO,
            pull.number,
            "friend-0",
            "COMMENTED",
            HEAD_SHA,
            pull.created_at + Duration::seconds(25),
        )
    });
    for n in 0..pad {
        h.gh.add_comment_at(
            REPO,
            pull.number,
            &pull.author,
            &format!("note {n}"),
            pull.created_at + Duration::seconds(30),
        );
    }
    review(&h, &pull, "alice", "APPROVED", 1).await;
    review(&h, &pull, "oncall-olga", "APPROVED", 2).await;
    (h, pull, friend)
}

/// `padded_then_approved` without the friend's review: the timeline holds
/// `5 + pad` items before the two approving reviews. Asserts nothing.
pub async fn padded_and_approved(pad: usize) -> (Harness, PullSeed) {
    let (h, pull, _) = padded_then_approved(pad, false).await;
    (h, pull)
}

/// `padded_then_approved` with the friend's early `COMMENTED` review (the
/// item the attacks make vanish), `6 + pad` items before the two approving
/// reviews; the check passes (asserted). Answers the friend's review id.
pub async fn padded_with_a_friend_and_approved(pad: usize) -> (Harness, PullSeed, u64) {
    let (h, pull, friend) = padded_then_approved(pad, true).await;
    assert_passes(&h);
    let friend = friend.expect("the friend's review was added");
    (h, pull, friend)
}

/// The next `n` reads of `path` (e.g. `/issues/7/timeline`) are answered
/// `304 Not Modified` with no `Link` header and no body, as GitHub
/// documents a 304 (the fake's own 304s carry their `Link`).
pub fn linkless_304s(h: &Harness, path: &str, n: usize) {
    if n > 0 {
        h.gh.fail_next_with_body("GET", path, 304, Vec::new(), serde_json::json!(null), n);
    }
}

/// The check run of a P0 whose change request by alice counts: `failure`
/// naming her.
pub fn assert_blocked_by_alice(conclusion: Option<String>, text: &str) {
    assert_eq!(conclusion.as_deref(), Some("failure"), "{text}");
    assert!(text.contains("changes requested by @alice"), "{text}");
}

/// The check run after `approved_then_retargeted_away_and_back`, when the
/// retargets were read: `failure`, both approvals stale, each named as
/// given before the base branch changed to `main`.
pub fn assert_stale_after_the_retarget(conclusion: Option<String>, text: &str) {
    assert_eq!(conclusion.as_deref(), Some("failure"), "{text}");
    assert!(
        text.contains("needs engineering-lead and on-call-manager approval"),
        "{text}"
    );
    for who in ["alice", "oncall-olga"] {
        assert!(
            text.contains(&format!(
                "@{who}'s /hotfix approve came before the base branch changed to `main`"
            )),
            "{who}: {text}"
        );
    }
}
