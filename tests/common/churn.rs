//! Arrange steps of the tests that change a pull request's timeline while
//! the app reads it (`tests/adversarial_review12.rs`, `13.rs`, `15.rs`,
//! `tests/unsettled_timeline.rs`): padding the timeline to several pages,
//! slowing its reads, and running a change after every timeline GET the app
//! sends while a delivery is evaluated; and the two padded-timeline
//! scenarios (a P2 raised to P0, a merged P0) with the outcome checks they
//! share. What is particular to one attack (which item changes, how) is the
//! test's closure.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::Duration;

use super::attacks::{
    assert_the_follow_up_is_opened_and_named, escalations, merged_approved_p0, p0_with,
    raise_to_p0, text_of,
};
use super::fake_github::{BOT_LOGIN, PullSeed};
use super::harness::{HEAD_SHA, Harness, POLICY, REPO};

/// The author of `pull` posts `n` plain comments (`note {n}`) a minute
/// after its opening: at 100 a page, `n` over 100 makes the timeline two
/// pages. Answers their comment ids, oldest first.
pub fn pad_timeline(h: &Harness, pull: &PullSeed, n: usize) -> Vec<u64> {
    (0..n)
        .map(|n| {
            h.gh.add_comment_at(
                REPO,
                pull.number,
                &pull.author,
                &format!("note {n}"),
                pull.created_at + Duration::minutes(1),
            )
        })
        .collect()
}

/// The fake answers the next `reads` GETs of #`number`'s timeline
/// `late_by_ms` milliseconds late, so that a change made when a read
/// arrives lands before the next page is asked for.
pub fn timeline_answered_late(h: &Harness, number: u64, late_by_ms: u64, reads: usize) {
    h.gh.delay_next(
        "GET",
        &format!("/issues/{number}/timeline"),
        std::time::Duration::from_millis(late_by_ms),
        reads,
    );
}

/// Runs `step` (a delivery and its evaluation) and, when `active`, calls
/// `on_read(turn, reads)` each time the fake has received a new GET of
/// #`number`'s timeline since this call (`turn` counts the calls from 0,
/// `reads` the GETs so far; several GETs between two looks, 1 ms apart,
/// make one call), until `step` is done. Answers how many calls were made
/// (0 when not `active`). The fake keeps whatever `on_read` changed.
pub async fn on_timeline_reads(
    h: &Harness,
    number: u64,
    active: bool,
    step: impl Future<Output = ()>,
    mut on_read: impl FnMut(usize, usize),
) -> usize {
    let timeline = format!("/issues/{number}/timeline");
    let before = h.gh.count("GET", &timeline);
    let stop = AtomicBool::new(!active);
    let watcher = async {
        let mut seen = before;
        let mut turns = 0;
        while !stop.load(Ordering::SeqCst) {
            let now = h.gh.count("GET", &timeline);
            if now > seen {
                seen = now;
                on_read(turns, now - before);
                turns += 1;
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        turns
    };
    let lead = async {
        step.await;
        stop.store(true, Ordering::SeqCst);
    };
    let ((), turns) = tokio::join!(lead, watcher);
    turns
}

/// The harness's hotfix as P2 (labels by dana; P2 has no deadline, asserted
/// unwatched), opened; its author pads the timeline with `pad` comments
/// (`pad_timeline`); every timeline GET from then on is answered 40 ms
/// late; dana raises it to P0 20 minutes after the opening while, when
/// `active`, `churn(h, pull, padding, turn)` runs after each timeline read
/// (`on_timeline_reads`). Asserts the P0 a writer applied is watched and
/// that the sweep at 2h25m (past its deadline) posts its one escalation.
/// Answers the churn's turns and the head's check run (conclusion, text).
pub async fn raised_to_p0_on_a_padded_timeline(
    pad: usize,
    active: bool,
    mut churn: impl FnMut(&Harness, &PullSeed, &[u64], usize),
) -> (usize, Option<String>, String) {
    let (h, pull) = p0_with(|pull| PullSeed {
        labels: vec!["hotfix".into(), "P2".into()],
        ..pull
    })
    .await;
    h.pull_request("opened", pull.number).await;
    assert_eq!(h.app.engine.watched().await, 0, "P2 has no deadline");
    let t0 = pull.created_at;
    let padding = pad_timeline(&h, &pull, pad);
    timeline_answered_late(&h, pull.number, 40, 10_000);
    let raise = async {
        h.clock.set(t0 + Duration::minutes(20));
        raise_to_p0(&h, &pull).await;
    };
    let turns = on_timeline_reads(&h, pull.number, active, raise, |turn, _| {
        churn(&h, &pull, &padding, turn)
    })
    .await;
    let run = h.check(HEAD_SHA);
    let text = text_of(&run);
    assert_eq!(
        h.app.engine.watched().await,
        1,
        "the P0 a writer applied is watched: {text}"
    );
    // dana's P0 at t0+20m: due at t0+2h20m.
    h.clock.set(t0 + Duration::minutes(145));
    assert_eq!(h.app.engine.sweep().await, 1, "{text}");
    assert_eq!(escalations(&h, pull.number), 1, "{text}");
    (turns, run.conclusion, text)
}

/// The harness's P0 approved by both roles by review and merged by alice
/// as `merge_sha` (`merged_approved_p0`); its author pads the timeline
/// with `pad` comments; every timeline GET from then on is answered 40 ms
/// late; the `closed` delivery is evaluated while, when `active`,
/// `churn(h, pull, padding, turn)` runs after each timeline read. Asserts
/// the post-merge steps happened: one follow-up issue by the app (opened
/// and named, `assert_the_follow_up_is_opened_and_named`), one merge-back
/// pull request, and no "could not evaluate" on the head's run. Answers
/// the churn's turns and the head's check run text.
pub async fn merged_on_a_padded_timeline(
    merge_sha: &str,
    pad: usize,
    active: bool,
    mut churn: impl FnMut(&Harness, &PullSeed, &[u64], usize),
) -> (usize, String) {
    let (h, pull) = merged_approved_p0(POLICY, merge_sha).await;
    let padding = pad_timeline(&h, &pull, pad);
    timeline_answered_late(&h, pull.number, 40, 10_000);
    let closed = async {
        h.pull_request("closed", pull.number).await;
    };
    let turns = on_timeline_reads(&h, pull.number, active, closed, |turn, _| {
        churn(&h, &pull, &padding, turn)
    })
    .await;
    let text = text_of(&h.check(HEAD_SHA));
    let merge_backs =
        h.gh.pulls(REPO)
            .into_iter()
            .filter(|p| p.head_ref.starts_with("hotfix-guard/merge-back-"))
            .count();
    let follow_ups =
        h.gh.issues(REPO)
            .into_iter()
            .filter(|i| i.user == BOT_LOGIN)
            .count();
    assert_eq!(
        (follow_ups, merge_backs),
        (1, 1),
        "the follow-up issue and the merge-back are opened: {text}"
    );
    assert_the_follow_up_is_opened_and_named(&h, pull.number);
    assert!(!text.contains("could not evaluate"), "{text}");
    (turns, text)
}
