//! Deadlines and escalation, with the engine's clock moved by hand.

use crate::common;

use chrono::Duration;
use common::fake_github::FakeGitHub;
use common::harness::{Harness, POLICY, REPO};

fn policy() -> String {
    POLICY.replace(
        "escalation:\n  mention: [acme/incident-commanders]\n",
        "escalation:\n  mention: [acme/incident-commanders]\n  after: 4h\n  mention_after: [acme/cto]\n",
    )
}

fn escalations(h: &Harness, level: u8) -> Vec<String> {
    let marker = format!("<!-- hotfix-guard:escalation level={level} -->");
    h.bot_comments(7)
        .into_iter()
        .filter(|c| c.body.contains(&marker))
        .map(|c| c.body)
        .collect()
}

async fn watched_p0(gh: FakeGitHub) -> Harness {
    let h = Harness::on(gh).await;
    let pull = h.p0();
    h.seed(&policy(), &pull);
    h.label_events_by(&pull, "dana");
    h.clock.set(pull.created_at);
    h.pull_request("opened", 7).await;
    assert_eq!(h.app.engine.watched().await, 1);
    h
}

#[tokio::test]
async fn each_escalation_is_posted_once_at_the_deadline_and_at_the_second_level() {
    let h = watched_p0(FakeGitHub::start().await).await;
    let comment = &h.bot_comments(7)[0].body;
    assert!(
        comment.contains("Deploy by:"),
        "the sticky comment shows the due time: {comment}"
    );

    assert_eq!(h.app.engine.sweep().await, 0, "not due yet");
    h.clock.advance(Duration::minutes(100));
    assert_eq!(
        h.app.engine.sweep().await,
        0,
        "still within the 2h deadline"
    );

    h.clock.advance(Duration::minutes(30)); // 2h10m after the severity was set
    assert_eq!(h.app.engine.sweep().await, 1);
    let first = escalations(&h, 1);
    assert_eq!(first.len(), 1);
    assert!(
        first[0].contains("@acme/incident-commanders"),
        "{}",
        first[0]
    );
    assert!(first[0].contains("past due"), "{}", first[0]);
    assert_eq!(h.app.engine.sweep().await, 0, "posted once");

    h.clock.advance(Duration::hours(2)); // past 4h
    assert_eq!(h.app.engine.sweep().await, 1);
    let second = escalations(&h, 2);
    assert_eq!(second.len(), 1);
    assert!(second[0].contains("@acme/cto"), "{}", second[0]);
    assert_eq!(
        h.app.engine.watched().await,
        0,
        "the sweep that posts the last level ends the watch"
    );
    assert_eq!(h.app.engine.sweep().await, 0);
    assert_eq!(h.app.engine.watched().await, 0, "nothing left to escalate");
    assert_eq!(escalations(&h, 1).len(), 1);
}

/// A level falls due at its time, not after it: at the very second the
/// 2h deadline ends (dana set P0 5 s after the opening), level 1 is
/// posted; a second earlier nothing is.
#[tokio::test]
async fn the_first_level_is_posted_at_the_deadlines_exact_second() {
    let h = watched_p0(FakeGitHub::start().await).await;
    // As GitHub sends it: whole seconds.
    let opened =
        chrono::SubsecRound::trunc_subsecs(h.gh.pull(REPO, 7).expect("pull").created_at, 0);
    let deadline = opened + Duration::seconds(5) + Duration::hours(2);
    h.clock.set(deadline - Duration::seconds(1));
    assert_eq!(h.app.engine.sweep().await, 0, "a second early");
    h.clock.set(deadline);
    assert_eq!(h.app.engine.sweep().await, 1, "due at the deadline");
    assert_eq!(escalations(&h, 1).len(), 1);
}

/// Without `escalation.after` there is no second level: once the first is
/// posted, the deadline is no longer watched.
#[tokio::test]
async fn without_a_second_level_the_watch_ends_with_the_first() {
    let h = Harness::on(FakeGitHub::start().await).await;
    let pull = h.p0();
    h.seed(POLICY, &pull);
    h.label_events_by(&pull, "dana");
    h.clock.set(pull.created_at);
    h.pull_request("opened", 7).await;
    assert_eq!(h.app.engine.watched().await, 1);
    h.clock.advance(Duration::minutes(130));
    assert_eq!(h.app.engine.sweep().await, 1);
    assert_eq!(escalations(&h, 1).len(), 1);
    assert_eq!(h.app.engine.watched().await, 0, "nothing left to escalate");
}

#[tokio::test]
async fn a_restarted_instance_finds_earlier_escalations_and_does_not_repeat_them() {
    let h = watched_p0(FakeGitHub::start().await).await;
    h.clock.advance(Duration::minutes(130));
    assert_eq!(h.app.engine.sweep().await, 1);

    // A restart (or a second instance) on the same store: the deadline is
    // watched from the store, without listing anything on GitHub.
    let second = Harness::on_shared_store(&h).await;
    second.clock.set(h.clock_now());
    assert_eq!(second.app.engine.watched().await, 1);
    assert_eq!(second.app.engine.sweep().await, 0, "level 1 already posted");
    assert_eq!(escalations(&h, 1).len(), 1);
}

#[tokio::test]
async fn with_the_store_lost_discovery_finds_the_hotfix_and_the_marker_prevents_a_repeat() {
    let h = watched_p0(FakeGitHub::start().await).await;
    h.clock.advance(Duration::minutes(130));
    assert_eq!(h.app.engine.sweep().await, 1);

    // A second instance on the same GitHub with a store of its own (the
    // first one's lost): discovery brings the open hotfix back under watch.
    h.gh.add_installation(1, "octo");
    let second = Harness::on_shared(&h).await;
    second.clock.set(h.clock_now());
    assert_eq!(second.app.engine.watched().await, 0);
    let jobs = second.app.engine.discover(10).await;
    assert_eq!(jobs.len(), 1, "the open hotfix is rediscovered");
    second
        .app
        .queue
        .accept(None, &jobs, &[])
        .await
        .expect("queued");
    second.settle().await;
    assert_eq!(second.app.engine.watched().await, 1);
    assert_eq!(second.app.engine.sweep().await, 0, "level 1 already posted");
    assert_eq!(escalations(&h, 1).len(), 1);
}

#[tokio::test]
async fn a_hotfix_merged_before_its_deadline_is_not_escalated() {
    let h = watched_p0(FakeGitHub::start().await).await;
    h.gh.update_pull(REPO, 7, |p| {
        p.merged = true;
        p.state = "closed".into();
        p.merge_commit_sha = Some("m4m4m4m4m4m4m4m4m4m4m4m4m4m4m4m4m4m4m4m4".into());
    });
    h.clock.advance(Duration::hours(3));
    assert_eq!(h.app.engine.sweep().await, 0);
    assert!(escalations(&h, 1).is_empty());
    assert_eq!(h.app.engine.watched().await, 0);
}

#[tokio::test]
async fn a_low_rate_limit_budget_postpones_escalations_not_webhook_work() {
    let h = watched_p0(FakeGitHub::start().await).await;
    h.gh.set_rate_limit(200);
    // Webhook-driven work still runs (and reads the low budget) ...
    h.pull_request("synchronize", 7).await;
    h.clock.advance(Duration::minutes(130));
    // ... but the sweep waits.
    assert_eq!(h.app.engine.sweep().await, 0);
    assert!(escalations(&h, 1).is_empty());
    h.gh.set_rate_limit(5000);
    h.pull_request("synchronize", 7).await;
    assert_eq!(h.app.engine.sweep().await, 1);
}
