//! The binary's offline commands, as a newcomer runs them.

use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hotfix-guard"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("GITHUB_TOKEN")
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn check_config_accepts_the_example() {
    let out = run(&["check-config", "examples/hotfix-policy.yml"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn check_config_names_path_line_and_column_and_exits_1() {
    let dir = std::env::temp_dir().join(format!("hotfix-guard-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let cases = [
        (
            "unknown-key.yml",
            "version: 1\nchecks:\n  max_files: 3\n",
            ":3:3: ",
        ),
        (
            "wrong-type.yml",
            "version: 1\nchecks:\n  max_changed_files: many\n",
            ":3:22: ",
        ),
        ("syntax.yml", "version: 1\nroles: [a, b\n", ":"),
        (
            "undefined-role.yml",
            "version: 1\nseverities:\n  P0:\n    approvals: { roles: [ghost] }\n",
            ":4:",
        ),
        (
            "bad-duration.yml",
            "version: 1\nseverities:\n  P0:\n    approvals: { count: 1 }\n    deadline: 2 hours\n",
            ":5:15: ",
        ),
    ];
    for (name, yaml, position) in cases {
        let path = dir.join(name);
        std::fs::write(&path, yaml).expect("write");
        let shown = path.display().to_string();
        let out = run(&["check-config", &shown]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
        let first = stderr.lines().next().unwrap_or_default();
        assert!(
            first.starts_with(&format!("{shown}{position}")),
            "{name}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn schema_prints_a_json_schema() {
    let out = run(&["schema"]);
    assert!(out.status.success());
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(schema["properties"]["severities"].is_object(), "{schema}");
    assert!(schema["properties"]["release"].is_object(), "{schema}");
}

#[test]
fn simulate_runs_the_bundled_examples_offline() {
    let policy = "examples/hotfix-policy.yml";
    let cases = [
        (
            "examples/simulate/p0-waiting-for-on-call.json",
            1,
            "needs on-call-manager approval",
        ),
        (
            "examples/simulate/p0-approved.json",
            0,
            "all requirements met",
        ),
        (
            "examples/simulate/p2-version-not-bumped.json",
            1,
            "VERSION 1.4.2 → 1.4.2: expected 1.4.3",
        ),
    ];
    for (file, code, expected) in cases {
        let out = run(&["simulate", file, "--policy", policy]);
        let stdout = text(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{file}: {stdout}{}",
            text(&out.stderr)
        );
        assert!(stdout.contains(expected), "{file}: {stdout}");
        assert!(stdout.contains("## Sticky comment"), "{file}");
    }
}

#[test]
fn simulate_rejects_bad_input_with_exit_2() {
    let out = run(&["simulate", "Cargo.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("Cargo.toml"));
    let out = run(&["simulate", "--repo", "octo/app", "--pr", "1"]);
    assert_eq!(out.status.code(), Some(2), "no GITHUB_TOKEN");
    assert!(text(&out.stderr).contains("GITHUB_TOKEN"));
}

/// The committed copy editors point at must be what the code generates.
#[test]
fn the_committed_schema_is_current() {
    let out = run(&["schema"]);
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/schema/hotfix-policy.schema.json"
    ))
    .expect("schema/hotfix-policy.schema.json");
    assert_eq!(
        text(&out.stdout),
        committed,
        "regenerate with: cargo run -- schema > schema/hotfix-policy.schema.json"
    );
}
