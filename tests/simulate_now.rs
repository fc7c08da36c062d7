//! `simulate --now`: the report knows the time. The bundled P0 example,
//! judged three days after its deadline, renders "Overdue by"; the whole
//! output is kept as a snapshot.

use std::process::Command;

fn simulate(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hotfix-guard"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("simulate")
        .args(args)
        .output()
        .expect("the binary runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_bundled_p0_example_three_days_late_is_overdue() {
    let (code, stdout, stderr) = simulate(&[
        "examples/simulate/p0-approved.json",
        "--policy",
        "examples/hotfix-policy.yml",
        "--now",
        "2026-11-29T13:10:00Z",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains("### Overdue by 3d 2h — P0 hotfix: all requirements met"),
        "{stdout}"
    );
    assert!(stdout.contains("⏰ **Overdue by 3d 2h**"), "{stdout}");
    insta::assert_snapshot!("simulate_now_p0_overdue", stdout);
}

#[test]
fn before_the_deadline_the_time_left_is_shown() {
    let (code, stdout, stderr) = simulate(&[
        "examples/simulate/p0-approved.json",
        "--policy",
        "examples/hotfix-policy.yml",
        "--now",
        "2026-11-26T09:46:00Z",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("— 1h 20m left to deploy"), "{stdout}");
    assert!(stdout.contains("(2h deadline) — 1h 20m left"), "{stdout}");
    assert!(!stdout.contains("Overdue"), "{stdout}");
}

#[test]
fn a_time_that_is_not_rfc_3339_is_refused_by_name() {
    let (code, _, stderr) = simulate(&["examples/simulate/p0-approved.json", "--now", "yesterday"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("`yesterday` is not an RFC 3339 time"),
        "{stderr}"
    );
}
