//! The deadline watch runs alongside the gather's step-2 reads (issue 13):
//! it is recorded even when the gather fails before the label appliers'
//! write access is known (both run to the end), and that write access,
//! which both need, is one request (the repository client's memo is
//! single-flight). Signed deliveries to the real router; the real client
//! talks to the fake GitHub.

use crate::common;

use std::time::Duration;

use common::attacks::{escalations, p0_with, text_of};
use common::harness::HEAD_SHA;
use serde_json::json;

/// dana applied the harness's P0 labels; her write access decides whose
/// deadline runs.
const DANA_PERMISSION: &str = "/collaborators/dana/permission";

/// GitHub answers dana's write access slowly, while the head `VERSION`
/// comes back garbled at once (an error, not a fact): the gather fails
/// before the watch knows whose deadline runs. On every try. The deadline
/// is still watched, and the sweep escalates when it passes.
#[tokio::test]
async fn a_gather_that_fails_before_the_appliers_write_access_is_read_still_watches_the_deadline() {
    let (h, pull) = p0_with(|pull| pull).await;
    h.gh.delay_next("GET", DANA_PERMISSION, Duration::from_millis(300), 100);
    h.gh.fail_next_with_body(
        "GET",
        "/contents/VERSION",
        200,
        Vec::new(),
        json!({"type": "file", "name": "VERSION", "path": "VERSION", "size": 6,
               "encoding": "base64", "content": "!!not base64!!"}),
        100,
    );
    h.pull_request("opened", pull.number).await;
    let run = h.check(HEAD_SHA);
    let text = text_of(&run);
    assert!(
        text.contains("hotfix-guard could not evaluate this pull request"),
        "the evaluation failed: {text}"
    );
    assert_eq!(
        h.app.engine.watched().await,
        1,
        "the P0's deadline is watched: {text}"
    );
    h.clock.advance(chrono::Duration::minutes(125));
    assert_eq!(h.app.engine.sweep().await, 1, "{text}");
    assert_eq!(escalations(&h, pull.number), 1, "{text}");
}

/// The watch and the step-2 reads both wait on dana's write access (GitHub
/// answers it slowly, so both ask while it is in flight): one request.
#[tokio::test]
async fn the_appliers_write_access_is_asked_once_though_the_watch_and_the_gather_both_need_it() {
    let (h, pull) = p0_with(|pull| pull).await;
    h.gh.delay_next("GET", DANA_PERMISSION, Duration::from_millis(200), 1);
    h.pull_request("opened", pull.number).await;
    let run = h.check(HEAD_SHA);
    let text = text_of(&run);
    // Evaluated: no approval yet, the P0 fails for its missing roles.
    assert_eq!(run.conclusion.as_deref(), Some("failure"), "{text}");
    assert!(!text.contains("could not evaluate"), "{text}");
    let asked =
        h.gh.requests()
            .iter()
            .filter(|r| r.method == "GET" && r.path.ends_with(DANA_PERMISSION))
            .count();
    assert_eq!(asked, 1, "dana's write access, once");
    assert_eq!(h.app.engine.watched().await, 1, "{text}");
}
