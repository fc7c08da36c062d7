//! The follow-up issue opened after a hotfix merged is recorded in the
//! store (issue 10), so that a retry, a restart or another instance never
//! opens a second one while GitHub's issue list lags behind its creation;
//! with the store lost, the markers on GitHub still find it.

use crate::common;

use axum::http::StatusCode;
use common::harness::{Harness, POLICY, REPO};
use common::webhook::{PrSpec, pull_request_event};

const MERGE_SHA: &str = "m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3";

/// A P0 hotfix, approved by the lead and the on-call manager, merged into
/// main by alice (the policy asks for a follow-up issue after a P0).
async fn merged_p0() -> Harness {
    common::attacks::merged_approved_p0(POLICY, MERGE_SHA)
        .await
        .0
}

/// Delivers `pull_request.closed` for #7 as the fake holds it, under
/// delivery id `id` (each instance's own counter would repeat the first
/// instance's ids, which the shared store rightly calls duplicates).
async fn closed(h: &Harness, id: &str) {
    let seed = h.gh.pull(REPO, 7).expect("seeded");
    let mut payload = pull_request_event("closed", &PrSpec::from_seed(REPO, &seed, 1));
    payload["pull_request"]["html_url"] = format!("{}/{REPO}/pull/7", h.gh.url()).into();
    assert_eq!(
        h.deliver_as("pull_request", id, &payload).await,
        StatusCode::ACCEPTED
    );
    h.settle().await;
}

fn follow_ups(h: &Harness) -> Vec<u64> {
    h.gh.issues(REPO)
        .into_iter()
        .filter(|i| i.title.starts_with("Post-incident review"))
        .map(|i| i.number)
        .collect()
}

#[tokio::test]
async fn a_follow_up_is_opened_once_while_the_issue_list_lags_across_retries_and_instances() {
    let h = merged_p0().await;
    // GitHub lists no issue yet, and the sticky comment (which would record
    // the issue's number) cannot be written on the first try: the retry
    // knows of the issue only from the store.
    h.gh.set_issue_listing_lags(true);
    h.gh.fail_next("POST", "/issues/7/comments", 502, vec![], 4);
    closed(&h, "closed-1").await;
    assert_eq!(
        h.gh.requests_with_status(502).len(),
        4,
        "the first evaluation's comment write failed"
    );
    let opened = follow_ups(&h);
    assert_eq!(opened.len(), 1, "{:#?}", h.gh.issues(REPO));
    let repo = hotfix_guard::events::RepoName {
        owner: "octo".into(),
        name: "app".into(),
    };
    assert_eq!(
        h.app.store.follow_up(&repo, 7).await.expect("store"),
        Some(opened[0]),
        "the store names the issue"
    );
    assert!(
        h.bot_comments(7)[0]
            .body
            .contains(&format!("[#{}]", opened[0]))
    );

    // Another instance on the same store, the list still lagging: the
    // redelivered `closed` finds the issue in the store.
    let other = Harness::on_shared_store(&h).await;
    other.gh.clear_requests();
    closed(&other, "closed-2").await;
    assert_eq!(
        other.gh.count("GET", "/issues/7/timeline"),
        1,
        "the second instance evaluated the hotfix"
    );
    assert_eq!(follow_ups(&other), opened);

    // The store lost, the list caught up: the markers find it.
    h.gh.set_issue_listing_lags(false);
    let lost = Harness::on_shared(&h).await;
    closed(&lost, "closed-3").await;
    assert_eq!(follow_ups(&lost), opened);
    assert_eq!(
        lost.app.store.follow_up(&repo, 7).await.expect("store"),
        Some(opened[0]),
        "found on GitHub, recorded again"
    );
}
