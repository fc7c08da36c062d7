//! Arrange steps of the reviews that attack a list's page boundaries and
//! retargets (`tests/adversarial_review11.rs` to `13.rs`): a review given
//! at a chosen minute, a retarget with its issue event and delivery, and an
//! approved P0 whose issue events list the author padded before two
//! retargets. Each step only arranges or delivers; what a test asserts
//! stays in the test.

use axum::http::StatusCode;
use chrono::Duration;

use super::attacks::{approve_by_comment, text_of};
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
    assert_eq!(
        h.deliver("pull_request_review", &payload).await,
        StatusCode::ACCEPTED
    );
    h.settle().await;
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
    assert_eq!(
        h.deliver("pull_request", &payload).await,
        StatusCode::ACCEPTED
    );
    h.settle().await;
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
    approve_by_comment(
        &h,
        pull.number,
        "alice",
        pull.created_at + Duration::minutes(1),
    )
    .await;
    approve_by_comment(
        &h,
        pull.number,
        "oncall-olga",
        pull.created_at + Duration::minutes(2),
    )
    .await;
    let run = h.check(HEAD_SHA);
    assert_eq!(
        run.conclusion.as_deref(),
        Some("success"),
        "precondition: {}",
        text_of(&run)
    );
    retarget(&h, &pull, "main", "develop", 10).await;
    retarget(&h, &pull, "develop", "main", 11).await;
    let run = h.check(HEAD_SHA);
    (run.conclusion.clone(), text_of(&run))
}
