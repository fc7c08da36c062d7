//! simulate's input format: a JSON Schema the CLI prints and the repository
//! commits, and `simulate --repo … --pr … --save FILE` capturing a live pull
//! request (from the fake GitHub) into exactly what `simulate FILE` reads.

use crate::common;

use common::harness::{HEAD_SHA, Harness, POLICY, REPO};
use common::webhook::TestKey;

fn bin() -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_hotfix-guard"));
    command.current_dir(env!("CARGO_MANIFEST_DIR"));
    command
}

#[test]
fn the_committed_simulate_schema_is_current() {
    let out = bin().arg("simulate-schema").output().expect("runs");
    assert!(out.status.success());
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/schema/simulate-input.schema.json"
    ))
    .expect("schema/simulate-input.schema.json");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        committed,
        "regenerate with: cargo run -- simulate-schema > schema/simulate-input.schema.json"
    );
}

#[tokio::test]
async fn a_saved_live_pull_request_replays_offline_to_the_same_verdict() {
    let h = Harness::start().await;
    let pull = h.p0();
    h.seed(POLICY, &pull);
    h.label_events_by(&pull, "dana");
    h.gh.add_review(REPO, 7, "alice", "APPROVED", HEAD_SHA);
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
    let dir = std::env::temp_dir().join(format!("hotfix-guard-save-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let saved = dir.join("pr7.json");
    let policy = dir.join("policy.yml");
    std::fs::write(&policy, POLICY).expect("policy");
    let url = h.gh.url();
    let (live, saved, policy) = {
        let saved = saved.clone();
        tokio::task::spawn_blocking(move || {
            let live = bin()
                .args([
                    "simulate",
                    "--repo",
                    REPO,
                    "--pr",
                    "7",
                    "--now",
                    "2026-11-29T13:10:00Z",
                ])
                .arg("--save")
                .arg(&saved)
                .env("GITHUB_TOKEN", token)
                .env("GITHUB_API_URL", url)
                .output()
                .expect("runs");
            (live, saved, policy)
        })
        .await
        .expect("joined")
    };
    assert_eq!(
        live.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&live.stderr)
    );
    let text = std::fs::read_to_string(&saved).expect("saved");
    let facts: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(facts["number"], 7);
    assert_eq!(facts["reviews"][0]["user"], "alice");
    assert_eq!(facts["label_events"][0]["actor"], "dana");
    let offline = bin()
        .arg("simulate")
        .arg(&saved)
        .arg("--policy")
        .arg(&policy)
        .args(["--now", "2026-11-29T13:10:00Z"])
        .output()
        .expect("runs");
    assert_eq!(offline.status.code(), Some(1));
    // The live policy came from the repository, the offline one from the
    // file: the source note differs, the judgement does not.
    let title = |out: &std::process::Output| {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find(|l| l.starts_with("### "))
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(title(&offline), title(&live));
    assert!(
        title(&live).contains("needs on-call-manager approval"),
        "{}",
        title(&live)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
