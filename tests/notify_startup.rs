//! Missing notice settings are reported at start-up: the real `serve`
//! process, started on a store where an earlier run read a policy naming
//! Slack and two webhooks, logs which targets it can reach (names only)
//! and one warning per target it cannot, and never a URL or secret.

use crate::common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::fake_github::FakeGitHub;
use common::fake_notify::{FakeNotify, WEBHOOK_SECRET};
use common::harness::{Harness, POLICY};
use common::serve::Serve;
use hotfix_guard::notify::NotifyConfig;

fn policy() -> String {
    format!(
        "{POLICY}notify:\n  - to: \"slack:#incidents\"\n  - to: webhook:status\n  - to: webhook:ops\n    severities: [P1]\n"
    )
}

async fn wait_for_log(serve: &Serve, what: &str, pred: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let log = serve.log();
        if pred(&log) {
            return log;
        }
        assert!(Instant::now() < deadline, "no {what} in:\n{log}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_up_names_the_targets_configured_and_warns_once_about_each_missing_one() {
    // A first run with no notice settings reads the policy and records the
    // P0's initial alert for Slack and the status webhook (ops is P1 only).
    let gh = Arc::new(FakeGitHub::start().await);
    let url = common::store::scratch_url().await;
    let h = Harness::with_notify(gh.clone(), url.clone(), Arc::new(NotifyConfig::default())).await;
    let pull = h.p0();
    h.seed(&policy(), &pull);
    h.label_events_by(&pull, "dana");
    h.clock.set(pull.created_at);
    h.pull_request("opened", 7).await;
    h.settle().await;
    let Harness { app, .. } = h;
    assert!(app.drain(Duration::from_secs(5)).await);

    // The next start has the status webhook (and a signing secret), no
    // Slack token and no ops webhook.
    let notify = FakeNotify::start().await;
    let hook_url = format!("{}/hooks/status", notify.url);
    let mut serve = Serve::start(
        &gh,
        &url,
        &[
            ("NOTIFY_WEBHOOK_STATUS", hook_url.as_str()),
            ("NOTIFY_WEBHOOK_SECRET", WEBHOOK_SECRET),
        ],
    );
    serve.ready().await;
    let log = serve.log();
    assert!(
        log.contains("incident notice targets configured: webhook:STATUS"),
        "{log}"
    );
    let warnings: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("incident notice target not configured"))
        .collect();
    assert_eq!(warnings.len(), 2, "{log}");
    assert!(
        warnings[0].contains(
            "slack:#incidents: SLACK_BOT_TOKEN is not set on this deployment; its notices wait until it is (named by the policy of octo/app (seen "
        ) && warnings[0].contains("; 1 notice waiting)"),
        "{log}"
    );
    assert!(
        warnings[1].contains(
            "webhook:OPS: NOTIFY_WEBHOOK_OPS is not set on this deployment; its notices wait until it is (named by the policy of octo/app (seen "
        ),
        "{log}"
    );
    assert!(!warnings[1].contains("waiting"), "{log}");

    // The sender tries the waiting notices after their back-off: the
    // webhook is delivered, Slack's fails again, and its missing token is
    // not warned about a second time.
    notify
        .wait_for("the status webhook", |s| s.hooks.len() == 1)
        .await;
    let log = wait_for_log(&serve, "a Slack retry", |log| {
        log.contains("notice not delivered") && log.contains("target=slack:#incidents")
    })
    .await;
    let told = log
        .lines()
        .filter(|l| l.contains("SLACK_BOT_TOKEN is not set") && !l.contains("notice not delivered"))
        .count();
    assert_eq!(told, 1, "{log}");
    // Names only: no URL, no secret.
    assert!(!log.contains(&hook_url), "{log}");
    assert!(!log.contains(&notify.url), "{log}");
    assert!(!log.contains(WEBHOOK_SECRET), "{log}");
    assert_eq!(notify.lock().bad_signatures, 0);
    serve.kill9();
}
