//! What ships: the release workflow publishes a multi-arch image to GHCR and
//! binaries to the GitHub release on a version tag, with the ecosystem's
//! standard actions; the licence files Cargo.toml names exist. (GitHub
//! Actions cannot run here; this reads the workflow as Actions would.)

use std::path::Path;

use serde_json::Value;

fn read(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn workflow() -> Value {
    serde_saphyr::from_str(&read(".github/workflows/release.yml")).expect("release.yml is YAML")
}

/// Every `uses:` of a job, without the version.
fn actions(job: &Value) -> Vec<String> {
    job["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["uses"].as_str())
        .map(|u| u.split('@').next().unwrap_or(u).to_string())
        .collect()
}

#[test]
fn a_version_tag_publishes_a_multi_arch_image_to_ghcr() {
    let wf = workflow();
    let tags = wf["on"]["push"]["tags"].as_array().expect("on.push.tags");
    assert!(
        tags.iter()
            .any(|t| t.as_str().is_some_and(|t| t.starts_with('v')))
    );
    let image = &wf["jobs"]["image"];
    let used = actions(image);
    for action in [
        "docker/setup-qemu-action",
        "docker/setup-buildx-action",
        "docker/login-action",
        "docker/build-push-action",
    ] {
        assert!(
            used.iter().any(|u| u == action),
            "{action} missing: {used:?}"
        );
    }
    let steps = image["steps"].as_array().expect("steps");
    let login = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("docker/login-action"))
        })
        .expect("login");
    assert_eq!(login["with"]["registry"].as_str(), Some("ghcr.io"));
    let build = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("docker/build-push-action"))
        })
        .expect("build-push");
    let platforms = build["with"]["platforms"].as_str().unwrap_or("");
    assert!(
        platforms.contains("linux/amd64") && platforms.contains("linux/arm64"),
        "{platforms}"
    );
    assert_eq!(build["with"]["push"].as_bool(), Some(true));
    assert_eq!(image["permissions"]["packages"].as_str(), Some("write"));
}

#[test]
fn a_version_tag_attaches_binaries_to_the_github_release() {
    let wf = workflow();
    let binaries = &wf["jobs"]["binaries"];
    assert!(
        actions(binaries)
            .iter()
            .any(|u| u == "taiki-e/upload-rust-binary-action")
    );
    let targets = binaries["strategy"]["matrix"]["target"]
        .as_array()
        .expect("targets");
    assert!(targets.len() >= 2, "{targets:?}");
    assert!(
        actions(&wf["jobs"]["create-release"])
            .iter()
            .any(|u| u == "taiki-e/create-gh-release-action")
    );
    // Nothing is published unless the tests pass first.
    assert_eq!(wf["jobs"]["image"]["needs"].as_str(), Some("test"));
    assert_eq!(wf["jobs"]["create-release"]["needs"].as_str(), Some("test"));
}

#[test]
fn the_licence_files_cargo_toml_names_exist() {
    let manifest: toml::Table = read("Cargo.toml").parse().expect("Cargo.toml");
    assert_eq!(
        manifest["package"]["license"].as_str(),
        Some("MIT OR Apache-2.0")
    );
    assert!(read("LICENSE-MIT").contains("Permission is hereby granted, free of charge"));
    assert!(read("LICENSE-APACHE").contains("Apache License\n                        Version 2.0"));
}
