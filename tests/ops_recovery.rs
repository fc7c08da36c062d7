//! Recovery against the fake GitHub's `GET /app/hook/deliveries` and `POST
//! /app/hook/deliveries/{id}/attempts`: what failed recently is redelivered
//! once, and a run's cost is bounded.

use crate::common;

use chrono::{TimeDelta, Utc};
use secrecy::SecretString;

use common::fake_github::{APP_ID, FakeGitHub};
use common::webhook::TestKey;
use hotfix_guard::github::{AppConfig, GitHubApp};
use hotfix_guard::recovery::{Recovery, RecoveryConfig};

fn github(gh: &FakeGitHub) -> GitHubApp {
    GitHubApp::new(&AppConfig {
        api_url: gh.url(),
        app_id: APP_ID,
        private_key_pem: SecretString::from(TestKey::private_pem()),
    })
    .expect("client")
}

fn config(max_pages: usize, max_redeliveries: usize) -> RecoveryConfig {
    RecoveryConfig {
        max_pages,
        max_redeliveries,
        ..RecoveryConfig::default()
    }
}

#[tokio::test]
async fn redelivers_what_failed_recently_once_and_nothing_else() {
    let gh = FakeGitHub::start().await;
    let now = Utc::now();
    let ago = |minutes: i64| now - TimeDelta::minutes(minutes);
    let pr = Some("opened");
    // A 500 an hour ago: redeliver.
    gh.add_delivery(1, "guid-a", 500, false, ago(60), "pull_request", pr);
    // Answered: nothing to do.
    gh.add_delivery(2, "guid-b", 202, false, ago(60), "pull_request", pr);
    // Failed and already redelivered (which failed too): leave it.
    gh.add_delivery(3, "guid-c", 502, false, ago(300), "pull_request", pr);
    gh.add_delivery(4, "guid-c", 503, true, ago(240), "pull_request", pr);
    // Failed four days ago: GitHub would refuse.
    gh.add_delivery(
        5,
        "guid-d",
        500,
        false,
        ago(4 * 24 * 60),
        "pull_request",
        pr,
    );
    // Failed, then a redelivery got through.
    gh.add_delivery(
        6,
        "guid-e",
        500,
        false,
        ago(180),
        "issue_comment",
        Some("created"),
    );
    gh.add_delivery(
        7,
        "guid-e",
        202,
        true,
        ago(120),
        "issue_comment",
        Some("created"),
    );
    // Timed out half an hour ago: redeliver.
    gh.add_delivery(
        8,
        "guid-f",
        0,
        false,
        ago(30),
        "pull_request_review",
        Some("submitted"),
    );

    let recovery = Recovery::new(&github(&gh), config(5, 25));
    let report = recovery.run_once(Utc::now()).await.expect("run");
    assert_eq!(report.listed, 8);
    assert_eq!(report.redelivered, vec![8, 1], "newest first");
    assert_eq!(gh.redelivery_attempts(), vec![8, 1]);
    assert!(report.failed.is_empty());

    // The next run, before GitHub lists the attempts: not asked twice.
    let again = recovery.run_once(Utc::now()).await.expect("run");
    assert_eq!(again.plan.already_requested, vec![8, 1]);
    assert!(again.redelivered.is_empty());
    assert_eq!(gh.redelivery_attempts(), vec![8, 1]);

    // After a restart GitHub's list shows the redeliveries: still nothing.
    gh.add_delivery(
        9,
        "guid-f",
        202,
        true,
        Utc::now(),
        "pull_request_review",
        Some("submitted"),
    );
    gh.add_delivery(10, "guid-a", 202, true, Utc::now(), "pull_request", pr);
    let restarted = Recovery::new(&github(&gh), config(5, 25));
    let report = restarted.run_once(Utc::now()).await.expect("run");
    assert!(report.plan.redeliver.is_empty(), "{report:?}");
    assert_eq!(gh.redelivery_attempts(), vec![8, 1]);
}

#[tokio::test]
async fn a_run_lists_at_most_its_pages_and_redelivers_at_most_its_cap() {
    let gh = FakeGitHub::start().await;
    let now = Utc::now();
    for id in 1..=250u64 {
        let at = now - TimeDelta::minutes(300 - id as i64);
        gh.add_delivery(
            id,
            &format!("guid-{id}"),
            500,
            false,
            at,
            "pull_request",
            Some("synchronize"),
        );
    }
    let recovery = Recovery::new(&github(&gh), config(2, 5));
    let report = recovery.run_once(Utc::now()).await.expect("run");
    assert_eq!(report.listed, 200, "two pages of 100");
    assert_eq!(gh.count("GET", "/app/hook/deliveries"), 2);
    assert_eq!(report.redelivered, vec![250, 249, 248, 247, 246]);
    assert_eq!(gh.redelivery_attempts(), vec![250, 249, 248, 247, 246]);
    assert_eq!(report.plan.over_cap.len(), 195);
    assert_eq!(report.plan.over_cap.first(), Some(&245));

    // The next run takes the next five.
    let next = recovery.run_once(Utc::now()).await.expect("run");
    assert_eq!(next.redelivered, vec![245, 244, 243, 242, 241]);
}

#[tokio::test]
async fn a_refused_redelivery_does_not_stop_the_others() {
    let gh = FakeGitHub::start().await;
    let now = Utc::now();
    gh.add_delivery(
        1,
        "guid-1",
        500,
        false,
        now - TimeDelta::minutes(20),
        "pull_request",
        None,
    );
    gh.add_delivery(
        2,
        "guid-2",
        500,
        false,
        now - TimeDelta::minutes(10),
        "pull_request",
        None,
    );
    gh.fail_next("POST", "/app/hook/deliveries/2/attempts", 422, vec![], 1);
    let recovery = Recovery::new(&github(&gh), config(1, 10));
    let report = recovery.run_once(Utc::now()).await.expect("run");
    assert_eq!(report.redelivered, vec![1]);
    assert_eq!(report.failed.len(), 1);
    assert_eq!(report.failed[0].0, 2);
    assert_eq!(gh.redelivery_attempts(), vec![1]);
}

#[tokio::test]
async fn a_listing_github_refuses_is_an_error_not_a_panic() {
    let gh = FakeGitHub::start().await;
    gh.fail_next("GET", "/app/hook/deliveries", 401, vec![], 1);
    let recovery = Recovery::new(&github(&gh), config(1, 10));
    let err = recovery.run_once(Utc::now()).await.expect_err("401");
    assert!(err.to_string().contains("401"), "{err}");
    assert!(gh.redelivery_attempts().is_empty());
}
