//! `simulate --notices`: the notices the bundled P0 example would send, by
//! the bundled policy, printed by the real binary (snapshots).

use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hotfix-guard"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("GITHUB_TOKEN")
        .output()
        .expect("the binary runs")
}

fn notices(file: &str) -> String {
    let out = run(&[
        "simulate",
        file,
        "--policy",
        "examples/hotfix-policy.yml",
        "--notices",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_bundled_p0_example_declares_and_is_approved() {
    insta::assert_snapshot!("p0_approved", notices("examples/simulate/p0-approved.json"));
}

#[test]
fn the_bundled_p0_example_once_merged_sends_the_resolution_notice() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/simulate/p0-approved.json"
    ))
    .expect("example");
    let mut facts: serde_json::Value = serde_json::from_str(&text).expect("json");
    facts["state"] = "merged".into();
    facts["merged_at"] = "2026-11-26T10:29:00Z".into();
    facts["merged_by"] = "alice".into();
    let dir = std::env::temp_dir().join(format!("notify-simulate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("p0-merged.json");
    std::fs::write(&path, facts.to_string()).expect("write");
    let printed = notices(path.to_str().expect("utf-8 path"));
    assert!(
        printed.contains("### slack:#incidents: merged"),
        "{printed}"
    );
    assert!(
        printed.contains("### webhook:STATUSPAGE: merged"),
        "{printed}"
    );
    insta::assert_snapshot!("p0_merged", printed);
}

#[test]
fn a_policy_without_targets_says_so() {
    let out = run(&[
        "simulate",
        "examples/simulate/p0-approved.json",
        "--notices",
    ]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("(none: the policy has no `notify` targets)")
    );
}
