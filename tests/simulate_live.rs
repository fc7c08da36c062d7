//! `simulate --repo OWNER/NAME --pr N`: the real binary against the fake
//! GitHub with a token, reading only.

use crate::common;

use common::harness::{HEAD_SHA, Harness, POLICY, REPO};
use common::webhook::TestKey;

#[tokio::test]
async fn simulate_reads_a_live_pull_request_and_writes_nothing() {
    let h = Harness::start().await;
    let pull = h.p0();
    h.seed(POLICY, &pull);
    h.label_events_by(&pull, "dana");
    h.gh.add_review(REPO, 7, "alice", "APPROVED", HEAD_SHA);
    // A token as GitHub would issue one (the fake only accepts its own).
    let token: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/app/installations/1/access_tokens", h.gh.url()))
        .header(
            "authorization",
            format!("Bearer {}", TestKey::app_jwt(common::fake_github::APP_ID)),
        )
        .header("user-agent", "test")
        .send()
        .await
        .expect("token request")
        .json()
        .await
        .expect("token json");
    let token = token["token"].as_str().expect("token").to_string();
    h.gh.clear_requests();
    let url = h.gh.url();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_hotfix-guard"))
            .args(["simulate", "--repo", REPO, "--pr", "7"])
            .env("GITHUB_TOKEN", token)
            .env("GITHUB_API_URL", url)
            .output()
            .expect("runs")
    })
    .await
    .expect("joined");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("needs on-call-manager approval"),
        "{stdout}"
    );
    let writes: Vec<_> =
        h.gh.requests()
            .into_iter()
            .filter(|r| r.method != "GET")
            .collect();
    assert!(writes.is_empty(), "simulate wrote: {writes:#?}");
    assert!(h.gh.check_runs(REPO, HEAD_SHA).is_empty());
}
