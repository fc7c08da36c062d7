//! Eleventh adversarial review of issue 9 (fail closed). As the other review
//! files: each test plays what only a pull request's author (write access
//! to their own fork, none on the base repository) or a user with triage
//! access (labels, close, reopen, lock; no push, no merge) can do, through
//! signed deliveries to the real router and the real client talking to the
//! fake GitHub, and asserts the SAFE outcome (conclusion and wording). A
//! passing test is an attack that failed; a test marked
//! `#[ignore = "finding: …"]` is an attack that worked (see its comment).
//!
//! This review starts from the newest fixes: retargets read from the issue
//! events list (`gather::read_retargets`), the policy generation, and the
//! escalation posted after an unknown outcome (`?since=`).

mod common;

use axum::http::StatusCode;
use chrono::Duration;

use common::attacks::{approve_by_comment, posts_of_level, text_of};
use common::fake_github::PullSeed;
use common::harness::{BASE_SHA, HEAD_SHA, Harness, POLICY, REPO};
use common::webhook::{self, PrSpec};

/// `develop`'s head in the harness (`Harness::seed`).
const DEVELOP_SHA: &str = "d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0";

/// The client's page size for every list (`per_page=100`).
const PAGE: usize = 100;

// ---- 1. A retarget past a full first page of the events list -------------

/// The author changes #7's base to `to` (`pull_request.edited` with
/// `changes.base`) at `minutes` after it opened; GitHub records a
/// `base_ref_changed` event in the issue events list.
async fn retarget(h: &Harness, pull: &PullSeed, from: &str, to: &str, minutes: i64) {
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
async fn approved_then_retargeted_away_and_back(renames: usize) -> (Option<String>, String) {
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

fn assert_stale_after_the_retarget(conclusion: Option<String>, text: &str) {
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

/// Control: with 99 events when the approvals were evaluated, the first
/// retarget lands on the first page (its answer changes), and the
/// approvals are stale.
#[tokio::test]
async fn approvals_before_a_retarget_away_and_back_are_stale() {
    let (conclusion, text) = approved_then_retargeted_away_and_back(PAGE - 3).await;
    assert_stale_after_the_retarget(conclusion, &text);
}

/// The author pads the issue events list to exactly one full page (100
/// events: the two label events and 98 renames) before the roles approve.
/// The evaluations after the approvals read that page (200, no `next`
/// link: it is the whole list) and the client keeps its ETag with its
/// `next` (none). The retargets are events 101 and 102: page 1's body is
/// unchanged, so GitHub (and the fake, whose ETag is the body's hash)
/// answers the conditional read with a 304, and the client takes the
/// cached `next` (none) instead of the 304's `Link`: page 2 is never read,
/// no retarget is seen, and the approvals given against the old base count.
///
/// FINDING (high): the check stays `success` ("all requirements met") on
/// `main` with approvals given before the base changed; with 97 renames
/// (the control above) it fails. The cause is general, not the events
/// list's: `src/github/http.rs` `Core::send` answers a 304 with the cached
/// `next` (`Cached::next`), but an ETag validates the body, not the `Link`
/// header, so a list whose last page was exactly full never grows on that
/// instance while the page's body is unchanged. The timeline (a role
/// member's later "changes requested" review, item 101), the issue events
/// (a non-writer's label re-application, a close) and the comments list
/// (escalation markers) are read the same way.
#[ignore = "finding: a 304 on a full last page reuses the cached `next` (none), so a retarget on the next page is never read"]
#[tokio::test]
async fn a_retarget_past_a_full_first_page_of_the_events_list_still_makes_approvals_stale() {
    let (conclusion, text) = approved_then_retargeted_away_and_back(PAGE - 2).await;
    assert_stale_after_the_retarget(conclusion, &text);
}
