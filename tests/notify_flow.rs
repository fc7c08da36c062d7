//! Incident notices end to end: signed webhooks through the real router,
//! the real engine against the fake GitHub, the outbox in a real store, and
//! the sender talking HTTP to a fake Slack API and a webhook receiver.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use common::fake_github::{FakeGitHub, PullSeed};
use common::fake_notify::{CHANNEL_ID, FakeNotify, Mode};
use common::harness::{HEAD_SHA, Harness, POLICY, REPO};
use common::webhook::{PrSpec, ReviewSpec, pull_request_event, review_event};
use hotfix_guard::notify::NotifyConfig;

fn policy(extra: &str) -> String {
    format!(
        "{POLICY}notify:\n  - to: \"slack:#incidents\"\n    severities: [P0]\n  - to: webhook:status\n    severities: [P0]\n    on: [declared, merged]\n{extra}"
    )
}

async fn start(notify: &FakeNotify, policy_text: &str) -> (Harness, PullSeed) {
    start_with(notify.config(), policy_text, "dana", |pull| pull).await
}

/// An app on a fresh store sending notices as `config` says, the harness's
/// P0 (changed by `change`) seeded under `policy_text` with its labels
/// applied by `labeller`, and the clock at its opening.
async fn start_with(
    config: NotifyConfig,
    policy_text: &str,
    labeller: &str,
    change: impl FnOnce(PullSeed) -> PullSeed,
) -> (Harness, PullSeed) {
    let gh = Arc::new(FakeGitHub::start().await);
    let url = common::store::scratch_url().await;
    let h = Harness::with_notify(gh, url, Arc::new(config)).await;
    let pull = change(h.p0());
    h.seed(policy_text, &pull);
    h.label_events_by(&pull, labeller);
    h.clock.set(pull.created_at);
    (h, pull)
}

/// dana swaps the severity `from` for `to` at `at` (#7 keeps `hotfix`),
/// and GitHub's `labeled` delivery arrives.
async fn relabel(h: &Harness, from: &str, to: &str, at: chrono::DateTime<chrono::Utc>) {
    h.gh.update_pull(REPO, 7, |p| p.labels = vec!["hotfix".into(), to.into()]);
    h.gh.add_label_event(REPO, 7, from, "dana", false, at);
    h.gh.add_label_event(REPO, 7, to, "dana", true, at);
    h.pull_request("labeled", 7).await;
}

async fn approve(h: &Harness, pull: &PullSeed, user: &str, id: u64) {
    h.gh.add_review(REPO, pull.number, user, "APPROVED", &pull.head_sha);
    let spec = PrSpec::from_seed(REPO, pull, 1);
    let review = ReviewSpec::approved(id, user, &pull.head_sha);
    assert_eq!(
        h.deliver(
            "pull_request_review",
            &review_event("submitted", &spec, &review)
        )
        .await,
        StatusCode::ACCEPTED
    );
    h.settle().await;
}

fn merged_payload(h: &Harness) -> serde_json::Value {
    let seed = h.gh.pull(REPO, 7).expect("pull");
    let mut spec = PrSpec::from_seed(REPO, &seed, 1);
    spec.merged = true;
    let mut payload = pull_request_event("closed", &spec);
    // GitHub's payload and its API agree on the merge.
    payload["pull_request"]["merged_at"] = serde_json::json!(seed.merged_at);
    payload
}

#[tokio::test]
async fn a_p0_incident_is_one_slack_thread_and_each_notice_is_sent_once() {
    let notify = FakeNotify::start().await;
    let (h, pull) = start(&notify, &policy("")).await;

    // Opened: the initial alert is the thread's parent; the webhook hears it too.
    h.pull_request("opened", 7).await;
    notify
        .wait_for("the initial alert", |s| {
            s.posts.len() == 1 && s.hooks.len() == 1
        })
        .await;
    let parent = notify.posts()[0].clone();
    assert_eq!(parent.channel, "incidents");
    assert_eq!(
        parent.thread_ts, None,
        "the initial alert starts the thread"
    );
    assert!(
        parent.text.starts_with("🚨 CRITICAL INCIDENT (P0)"),
        "{}",
        parent.text
    );
    assert!(
        parent.text.contains("Status: fix under review"),
        "{}",
        parent.text
    );
    let (name, hook) = notify.hooks()[0].clone();
    assert_eq!(name, "status");
    assert_eq!(hook["event"], "declared");
    assert_eq!(hook["severity"], "P0");
    assert_eq!(hook["pull_request"], 7);
    assert_eq!(hook["severity_set_by"], "dana");
    assert!(
        hook["text"]
            .as_str()
            .is_some_and(|t| t.contains("CRITICAL INCIDENT"))
    );

    // Approvals complete: one reply in the thread, the parent updated.
    approve(&h, &pull, "alice", 101).await;
    approve(&h, &pull, "oncall-olga", 102).await;
    notify
        .wait_for("the approval reply", |s| s.posts.len() == 2)
        .await;
    let reply = notify.posts()[1].clone();
    assert_eq!(reply.channel, CHANNEL_ID, "replies go to the channel's ID");
    assert_eq!(reply.thread_ts.as_deref(), Some(parent.ts.as_str()));
    assert!(
        reply
            .text
            .starts_with("🟢 Fix approved (P0): ready to deploy"),
        "{}",
        reply.text
    );
    notify
        .wait_for("the parent's update", |s| !s.updates.is_empty())
        .await;
    let update = notify.updates()[0].clone();
    assert_eq!(
        (update.channel.as_str(), update.ts.as_str()),
        (CHANNEL_ID, parent.ts.as_str())
    );
    assert!(update.text.starts_with("[APPROVED] "), "{}", update.text);

    // The deadline passes: the escalation comment, then one reply.
    h.clock.advance(chrono::Duration::minutes(130));
    assert_eq!(h.app.engine.sweep().await, 1);
    h.settle().await;
    notify
        .wait_for("the escalation reply", |s| s.posts.len() == 3)
        .await;
    let escalation = notify.posts()[2].clone();
    assert_eq!(escalation.thread_ts.as_deref(), Some(parent.ts.as_str()));
    assert!(
        escalation.text.starts_with("⏰ ESCALATION level 1 (P0)"),
        "{}",
        escalation.text
    );
    assert!(
        escalation.text.contains("@acme/incident-commanders"),
        "{}",
        escalation.text
    );

    // Merged: the resolution notice with its timeline and resolution time.
    let merged_at = h.clock_now();
    h.gh.update_pull(REPO, 7, |p| {
        p.state = "closed".into();
        p.merged = true;
        p.merged_by = Some("alice".into());
        p.merged_at = Some(merged_at);
        p.merge_commit_sha = Some("m1m1m1m1m1m1m1m1m1m1m1m1m1m1m1m1m1m1m1m1".into());
    });
    let merged = merged_payload(&h);
    assert_eq!(
        h.deliver_as("pull_request", "merge-1", &merged).await,
        StatusCode::ACCEPTED
    );
    h.settle().await;
    notify
        .wait_for("the resolution notice", |s| {
            s.posts.len() == 4 && s.hooks.len() == 2
        })
        .await;
    let resolution = notify.posts()[3].clone();
    assert_eq!(resolution.thread_ts.as_deref(), Some(parent.ts.as_str()));
    assert!(
        resolution.text.starts_with("✅ RESOLVED (P0)"),
        "{}",
        resolution.text
    );
    assert!(
        resolution.text.contains("Resolution time: 2h 9m (from "),
        "{}",
        resolution.text
    );
    assert!(resolution.text.contains("Timeline:"), "{}", resolution.text);
    assert!(
        resolution.text.contains("approved by oncall-olga"),
        "{}",
        resolution.text
    );
    assert!(
        resolution.text.contains("fix merged by alice"),
        "{}",
        resolution.text
    );
    notify
        .wait_for("the parent resolved", |s| {
            s.updates
                .last()
                .is_some_and(|u| u.text.starts_with("[RESOLVED] "))
        })
        .await;
    let hook = notify.hooks()[1].1.clone();
    assert_eq!(hook["event"], "merged");
    assert_eq!(hook["resolution_seconds"], 130 * 60 - 5);
    assert_eq!(hook["merged_by"], "alice");

    // The same delivery again, a fresh one of the same merge, then a
    // restart on the same store: nothing is sent twice.
    assert!(
        h.deliver_as("pull_request", "merge-1", &merged)
            .await
            .is_success()
    );
    assert_eq!(
        h.deliver_as("pull_request", "merge-2", &merged).await,
        StatusCode::ACCEPTED
    );
    h.settle().await;
    let gh = h.gh.clone();
    let url = h.database_url.clone();
    let Harness { app, .. } = h;
    assert!(app.drain(Duration::from_secs(5)).await);
    let again = Harness::with_notify(gh, url, Arc::new(notify.config())).await;
    assert_eq!(
        again.deliver_as("pull_request", "merge-3", &merged).await,
        StatusCode::ACCEPTED
    );
    again.pull_request("edited", 7).await;
    again.settle().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(notify.posts().len(), 4, "{:#?}", notify.posts());
    assert_eq!(notify.hooks().len(), 2);
    let s = notify.lock();
    assert_eq!((s.bad_auth, s.bad_signatures), (0, 0));
}

#[tokio::test]
async fn slack_rate_limiting_is_waited_out() {
    let notify = FakeNotify::start().await;
    notify.lock().limit_next = 1;
    let mut config = notify.config();
    // Far shorter than the 1 s Slack asks for: only Retry-After explains the wait.
    config.retry_base = Duration::from_millis(50);
    let (h, _) = start_with(config, &policy(""), "dana", |pull| pull).await;
    h.pull_request("opened", 7).await;
    notify
        .wait_for("the alert after the 429", |s| s.posts.len() == 1)
        .await;
    let (limited, waited) = {
        let s = notify.lock();
        (s.limited.len(), s.posts[0].at.duration_since(s.limited[0]))
    };
    assert_eq!(limited, 1);
    assert!(
        waited >= Duration::from_secs(1),
        "sent {waited:?} after the 429"
    );
    // The webhook took its notice at once; Slack's took two tries. The
    // sender counts a notice just after its answer: wait for the count
    // (a loaded machine may take longer than a fixed pause).
    let lines = [
        "hotfix_guard_notices_total{target=\"slack\",outcome=\"failed\"} 1",
        "hotfix_guard_notices_total{target=\"slack\",outcome=\"sent\"} 1",
        "hotfix_guard_notices_total{target=\"webhook\",outcome=\"sent\"} 1",
    ];
    let mut metrics = metrics(&h).await;
    for _ in 0..100 {
        if lines.iter().all(|line| metrics.contains(line)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        metrics = self::metrics(&h).await;
    }
    for line in lines {
        assert!(metrics.contains(line), "{line} not in:\n{metrics}");
    }
}

async fn metrics(h: &Harness) -> String {
    use tower::ServiceExt as _;
    let res = h
        .app
        .router
        .clone()
        .oneshot(
            axum::http::Request::get("/metrics")
                .body(axum::body::Body::empty())
                .expect("request"),
        )
        .await
        .expect("infallible");
    assert_eq!(res.status(), StatusCode::OK);
    let body = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .expect("body");
    String::from_utf8_lossy(&body).into_owned()
}

#[tokio::test]
async fn a_target_that_stays_down_never_holds_up_the_check_run() {
    let notify = FakeNotify::start().await;
    notify.lock().mode = Some(Mode::Hang);
    let mut config = notify.config();
    config.timeout = Duration::from_millis(300);
    // A webhook this deployment has no URL for.
    let ops = policy("  - to: webhook:ops\n");
    let (h, _) = start_with(config, &ops, "dana", |pull| pull).await;
    let started = std::time::Instant::now();
    h.pull_request("opened", 7).await;
    let check = h.check(HEAD_SHA);
    assert_eq!(check.status, "completed", "{check:#?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    let summary = check.summary.clone().unwrap_or_default();
    assert!(
        summary.contains("webhook:OPS: NOTIFY_WEBHOOK_OPS is not set on this deployment"),
        "{summary}"
    );
    // Once the first try failed, the sticky comment says so.
    let until = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let body = h
            .bot_comments(7)
            .first()
            .map(|c| c.body.clone())
            .unwrap_or_default();
        if body.contains("Slack #incidents: not delivered, retrying") {
            break;
        }
        assert!(
            std::time::Instant::now() < until,
            "no retry status in: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        h.settle().await;
    }
    assert!(notify.posts().is_empty());
    // The failing webhook's URL is a secret: neither the check run nor the
    // sticky comment shows it, only the variable's name.
    let comment = h
        .bot_comments(7)
        .first()
        .map(|c| c.body.clone())
        .unwrap_or_default();
    for shown in [&summary, &comment] {
        assert!(!shown.contains(&notify.url), "{shown}");
    }
}

#[tokio::test]
async fn two_instances_on_one_store_send_each_notice_once() {
    let notify = FakeNotify::start().await;
    let (a, _) = start(&notify, &policy("")).await;
    let b = Harness::with_notify(
        a.gh.clone(),
        a.database_url.clone(),
        Arc::new(notify.config()),
    )
    .await;
    // The same opening reaches both instances (a redelivery), under two ids.
    let seed = a.gh.pull(REPO, 7).expect("pull");
    let opened = pull_request_event("opened", &PrSpec::from_seed(REPO, &seed, 1));
    assert_eq!(
        a.deliver_as("pull_request", "open-a", &opened).await,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        b.deliver_as("pull_request", "open-b", &opened).await,
        StatusCode::ACCEPTED
    );
    a.settle().await;
    b.settle().await;
    notify
        .wait_for("the alert", |s| s.posts.len() == 1 && s.hooks.len() == 1)
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(notify.posts().len(), 1, "{:#?}", notify.posts());
    assert_eq!(notify.hooks().len(), 1);
}

#[tokio::test]
async fn a_severity_change_and_a_close_without_merging_are_replies() {
    let notify = FakeNotify::start().await;
    let every_severity = format!("{POLICY}notify:\n  - to: \"slack:#incidents\"\n");
    let (h, pull) = start_with(notify.config(), &every_severity, "dana", |p0| PullSeed {
        labels: vec!["hotfix".into(), "P1".into()],
        ..p0
    })
    .await;
    h.pull_request("opened", 7).await;
    notify
        .wait_for("the P1 update", |s| s.posts.len() == 1)
        .await;
    let parent = notify.posts()[0].clone();
    assert!(
        parent.text.starts_with("⚠️ Issue update (P1)"),
        "{}",
        parent.text
    );

    // dana raises it to P0.
    relabel(
        &h,
        "P1",
        "P0",
        pull.created_at + chrono::Duration::minutes(3),
    )
    .await;
    notify
        .wait_for("the severity change", |s| s.posts.len() == 2)
        .await;
    let change = notify.posts()[1].clone();
    assert_eq!(change.thread_ts.as_deref(), Some(parent.ts.as_str()));
    assert!(
        change.text.starts_with("↕️ Severity changed (P1 → P0)"),
        "{}",
        change.text
    );

    // Closed without merging.
    h.gh.update_pull(REPO, 7, |p| p.state = "closed".into());
    h.pull_request("closed", 7).await;
    notify.wait_for("the close", |s| s.posts.len() == 3).await;
    let closed = notify.posts()[2].clone();
    assert_eq!(closed.thread_ts.as_deref(), Some(parent.ts.as_str()));
    assert!(
        closed
            .text
            .starts_with("⏹ Hotfix closed without merging (P0)"),
        "{}",
        closed.text
    );
    notify
        .wait_for("the parent closed", |s| {
            s.updates
                .last()
                .is_some_and(|u| u.text.starts_with("[CLOSED UNMERGED] "))
        })
        .await;
    // Evaluated again: nothing new.
    h.pull_request("edited", 7).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(notify.posts().len(), 3);
}

#[tokio::test]
async fn a_hostile_title_cannot_ping_the_channel_hide_a_link_or_flood_the_thread() {
    let notify = FakeNotify::start().await;
    let gh = Arc::new(FakeGitHub::start().await);
    let h = Harness::with_notify(
        gh,
        common::store::scratch_url().await,
        Arc::new(notify.config()),
    )
    .await;
    let title = format!(
        "fix <!channel> & <https://evil.example|the runbook> @here\nSeverity: P4 {}",
        "x".repeat(300)
    );
    let pull = PullSeed {
        title: title.clone(),
        ..h.p0()
    };
    h.seed(&policy(""), &pull);
    h.label_events_by(&pull, "dana");
    h.clock.set(pull.created_at);
    h.pull_request("opened", 7).await;
    notify
        .wait_for("the initial alert", |s| {
            s.posts.len() == 1 && s.hooks.len() == 1
        })
        .await;
    let text = notify.posts()[0].text.clone();
    let (_, hook) = notify.hooks()[0].clone();
    let hook_text = hook["text"].as_str().unwrap_or_default().to_string();
    for sent in [&text, &hook_text] {
        assert!(
            sent.contains(
                "\"fix &lt;!channel&gt; &amp; &lt;https://evil.example|the runbook&gt; @\u{200B}here Severity: P4 xxx"
            ),
            "{sent}"
        );
        assert!(!sent.contains('<') && !sent.contains('>'), "{sent}");
        assert!(!sent.contains(&"x".repeat(120)), "{sent}");
        // The title stays on its line: no forged "Severity:" line.
        assert!(
            sent.lines().filter(|l| l.starts_with("Severity:")).count() == 1,
            "{sent}"
        );
    }
    // The structured title is data: one line, capped, not escaped.
    let field = hook["title"].as_str().unwrap_or_default();
    assert!(
        field.starts_with(
            "fix <!channel> & <https://evil.example|the runbook> @here Severity: P4 x"
        ),
        "{field}"
    );
    assert_eq!(field.chars().count(), 120, "{field}");
    assert!(field.ends_with('…'), "{field}");
}

#[tokio::test]
async fn relabelling_back_and_forth_announces_each_severity_once() {
    let notify = FakeNotify::start().await;
    let every_severity = format!("{POLICY}notify:\n  - to: \"slack:#incidents\"\n");
    let (h, pull) = start(&notify, &every_severity).await;
    h.pull_request("opened", 7).await;
    notify.wait_for("the alert", |s| s.posts.len() == 1).await;
    let mut current = "P0";
    for minute in 1..=6 {
        let next = if current == "P0" { "P1" } else { "P0" };
        let at = pull.created_at + chrono::Duration::minutes(minute);
        relabel(&h, current, next, at).await;
        h.settle().await;
        current = next;
    }
    // P0 → P1 and P1 → P0 once each; the later flips repeat them.
    notify.wait_for("the changes", |s| s.posts.len() >= 3).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let posts = notify.posts();
    let texts: Vec<&str> = posts.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(posts.len(), 3, "{texts:#?}");
    assert!(
        texts[1].starts_with("↕️ Severity changed (P0 → P1)"),
        "{texts:#?}"
    );
    assert!(
        texts[2].starts_with("↕️ Severity changed (P1 → P0)"),
        "{texts:#?}"
    );
}

#[tokio::test]
async fn a_slack_target_without_a_bot_token_is_named_on_the_check_run_and_the_webhook_still_hears()
{
    let notify = FakeNotify::start().await;
    // Only the status webhook: no SLACK_BOT_TOKEN.
    let config = hotfix_guard::notify::NotifyConfig::from_vars([
        (
            "NOTIFY_WEBHOOK_STATUS".to_string(),
            format!("{}/hooks/status", notify.url),
        ),
        (
            "NOTIFY_WEBHOOK_SECRET".to_string(),
            common::fake_notify::WEBHOOK_SECRET.to_string(),
        ),
    ]);
    let (h, _) = start_with(config, &policy(""), "dana", |pull| pull).await;
    h.pull_request("opened", 7).await;
    let check = h.check(HEAD_SHA);
    assert_eq!(check.status, "completed", "{check:#?}");
    let summary = check.summary.clone().unwrap_or_default();
    assert!(
        summary.contains(
            "slack:#incidents: SLACK_BOT_TOKEN is not set on this deployment; its notices wait until it is"
        ),
        "{summary}"
    );
    assert!(!summary.contains("webhook:STATUS:"), "{summary}");
    notify
        .wait_for("the webhook's alert", |s| s.hooks.len() == 1)
        .await;
    assert!(notify.posts().is_empty());
}

#[tokio::test]
async fn a_severity_label_from_someone_without_write_access_pages_nobody() {
    let notify = FakeNotify::start().await;
    // trina may label (triage) but not write: her P0 does not count.
    let (h, pull) = start_with(notify.config(), &policy(""), "trina", |pull| pull).await;
    h.gh.set_permission(REPO, "trina", "triage");
    h.pull_request("opened", 7).await;
    let check = h.check(HEAD_SHA);
    assert_eq!(check.status, "completed", "{check:#?}");
    let summary = check.summary.clone().unwrap_or_default();
    assert!(summary.contains("P0 was applied by @trina"), "{summary}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(notify.posts().is_empty(), "{:#?}", notify.posts());
    assert!(notify.hooks().is_empty());

    // dana (write) applies it: now it is an incident, announced once.
    let at = pull.created_at + chrono::Duration::minutes(2);
    h.gh.add_label_event(REPO, 7, "P0", "dana", true, at);
    h.pull_request("labeled", 7).await;
    notify
        .wait_for("the initial alert", |s| {
            s.posts.len() == 1 && s.hooks.len() == 1
        })
        .await;
    assert!(
        notify.posts()[0].text.contains("set by dana"),
        "{}",
        notify.posts()[0].text
    );
}
