//! The deployment files say what the README's deployment guide promises: `fly.toml` keeps a
//! machine up behind HTTPS with a health check, and the Dockerfile builds
//! the locked release in one stage and runs it unprivileged in another.
//! (Docker cannot run here; this reads the file as Docker would.)

use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(name: &str) -> String {
    std::fs::read_to_string(root().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn fly_toml_keeps_one_machine_up_behind_https_with_a_health_check() {
    let fly: toml::Table = read("fly.toml").parse().expect("fly.toml is TOML");
    let service = fly["http_service"].as_table().expect("[http_service]");
    assert_eq!(service["internal_port"].as_integer(), Some(8080));
    assert_eq!(service["force_https"].as_bool(), Some(true));
    assert_eq!(service["auto_stop_machines"].as_str(), Some("off"));
    assert_eq!(service["auto_start_machines"].as_bool(), Some(true));
    // With auto-stop off, min_machines_running does nothing: not claimed.
    assert!(service.get("min_machines_running").is_none());
    let checks = service["checks"]
        .as_array()
        .expect("[[http_service.checks]]");
    assert!(
        checks.iter().any(|c| {
            c.get("method").and_then(|m| m.as_str()) == Some("GET")
                && c.get("path").and_then(|p| p.as_str()) == Some("/healthz")
        }),
        "no GET /healthz check: {checks:?}"
    );
    // The port the app listens on is the one Fly forwards to.
    let env = fly["env"].as_table().expect("[env]");
    assert_eq!(env["PORT"].as_str(), Some("8080"));
    // Fly's SIGKILL must come after the app's 20 s drain.
    let kill = fly["kill_timeout"].as_str().expect("kill_timeout");
    let secs: u64 = kill
        .trim_end_matches('s')
        .parse()
        .expect("kill_timeout in seconds");
    assert!(secs > 20, "kill_timeout {kill} is within SHUTDOWN_GRACE");
    assert_eq!(fly["kill_signal"].as_str(), Some("SIGTERM"));
}

#[test]
fn fly_toml_scrapes_metrics_on_a_private_port_and_keeps_one_machine_with_its_volume() {
    let fly: toml::Table = read("fly.toml").parse().expect("fly.toml is TOML");
    let env = fly["env"].as_table().expect("[env]");
    let metrics = fly["metrics"].as_table().expect("[metrics]");
    let port = metrics["port"].as_integer().expect("metrics port");
    assert_eq!(metrics["path"].as_str(), Some("/metrics"));
    // The app serves /metrics on METRICS_PORT, and that is not the public port.
    assert_eq!(
        env["METRICS_PORT"].as_str(),
        Some(port.to_string().as_str())
    );
    assert_ne!(
        Some(port),
        fly["http_service"]["internal_port"].as_integer()
    );
    // SQLite on the mounted volume: one machine, its store at /data.
    let mounts = fly["mounts"].as_table().expect("[mounts]");
    assert_eq!(mounts["destination"].as_str(), Some("/data"));
    assert_eq!(
        env["DATABASE_URL"].as_str(),
        Some("sqlite:///data/hotfix-guard.db")
    );
    let text = read("fly.toml");
    assert!(
        text.contains("fly deploy --ha=false"),
        "the one-machine deploy is stated"
    );
    assert_eq!(fly["deploy"]["strategy"].as_str(), Some("rolling"));
}

/// `(stage instructions)` per `FROM`, continuation lines joined.
fn stages(dockerfile: &str) -> Vec<Vec<String>> {
    let mut joined = Vec::new();
    let mut current = String::new();
    for line in dockerfile.lines() {
        let line = line.trim();
        if line.starts_with('#') || (line.is_empty() && current.is_empty()) {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(part) => {
                current.push_str(part);
                current.push(' ');
            }
            None => {
                current.push_str(line);
                joined.push(std::mem::take(&mut current));
            }
        }
    }
    let mut stages: Vec<Vec<String>> = Vec::new();
    for instruction in joined.into_iter().filter(|i| !i.trim().is_empty()) {
        if instruction.starts_with("FROM ") {
            stages.push(Vec::new());
        }
        stages
            .last_mut()
            .expect("the Dockerfile starts with FROM")
            .push(instruction);
    }
    stages
}

#[test]
fn the_dockerfile_builds_locked_in_one_stage_and_runs_unprivileged_in_another() {
    let dockerfile = read("Dockerfile");
    let stages = stages(&dockerfile);
    assert_eq!(stages.len(), 2, "a build stage and a runtime stage");
    let (build, run) = (&stages[0], &stages[1]);
    // Fully qualified: podman and buildah refuse short names like `rust:1`.
    assert!(
        build[0].starts_with("FROM docker.io/library/rust:") && build[0].ends_with(" AS builder"),
        "{}",
        build[0]
    );
    assert!(
        build
            .iter()
            .filter(|i| i.starts_with("RUN ") && i.contains("cargo build --release --locked"))
            .count()
            >= 1
    );
    assert!(
        run[0].starts_with("FROM docker.io/library/debian:") && run[0].contains("slim"),
        "{}",
        run[0]
    );
    for stage in [build, run] {
        let from = stage[0].split_whitespace().nth(1).unwrap_or("");
        let registry = from.split('/').next().unwrap_or("");
        assert!(
            from.split('/').count() >= 3 && registry.contains('.'),
            "not fully qualified: {from}"
        );
    }
    // Only ca-certificates is installed at run time.
    for install in run.iter().filter(|i| i.contains("apt-get install")) {
        let packages: Vec<&str> = install
            .split("apt-get install")
            .nth(1)
            .unwrap_or("")
            .split("&&")
            .next()
            .unwrap_or("")
            .split_whitespace()
            .filter(|w| !w.starts_with('-'))
            .collect();
        assert_eq!(packages, ["ca-certificates"], "{install}");
    }
    // A liveness probe the runtime image can run without curl.
    assert!(
        run.iter().any(|i| i.starts_with("HEALTHCHECK ")
            && i.contains(r#"CMD ["hotfix-guard", "healthcheck"]"#)),
        "no HEALTHCHECK running the binary's own probe: {run:?}"
    );
    let has = |prefix: &str| run.iter().any(|i| i.starts_with(prefix));
    assert!(
        run.iter()
            .any(|i| i.starts_with("RUN ") && i.contains("ca-certificates"))
    );
    assert!(run.iter().any(|i| i.starts_with("COPY --from=builder ")));
    let user = run
        .iter()
        .rev()
        .find_map(|i| i.strip_prefix("USER "))
        .expect("a USER in the runtime stage");
    let user = user.split(':').next().unwrap_or("").trim();
    assert!(user != "root" && user != "0", "runs as {user}");
    assert!(has("EXPOSE 8080"));
    assert!(has(r#"ENTRYPOINT ["hotfix-guard"]"#));
    assert!(has(r#"CMD ["serve"]"#));
}

#[test]
fn the_docker_build_context_holds_every_file_the_build_reads() {
    let dockerfile = read("Dockerfile");
    let stages = stages(&dockerfile);
    let copied: Vec<String> = stages[0]
        .iter()
        .filter_map(|i| i.strip_prefix("COPY "))
        .flat_map(|args| {
            let mut words: Vec<&str> = args.split_whitespace().collect();
            words.pop(); // the destination
            words.into_iter().map(str::to_string).collect::<Vec<_>>()
        })
        .collect();
    let ignored: Vec<String> = read(".dockerignore")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.trim_end_matches('/').to_string())
        .collect();
    let needed = [
        "Cargo.toml",
        "Cargo.lock",
        "src/main.rs",
        "src/lib.rs",
        "benches/ingest.rs",
        // Embedded by src/server/setup.rs.
        "app-manifest.json",
    ];
    for file in needed {
        assert!(root().join(file).exists(), "{file} does not exist");
        assert!(
            copied
                .iter()
                .any(|c| file == c || file.starts_with(&format!("{c}/"))),
            "the Dockerfile does not COPY {file}: {copied:?}"
        );
        assert!(
            !ignored
                .iter()
                .any(|i| file == i || file.starts_with(&format!("{i}/"))),
            ".dockerignore leaves out {file}"
        );
    }
    // Keys never go into an image.
    assert!(ignored.iter().any(|i| i == "*.pem"), "{ignored:?}");
}

#[test]
fn every_file_embedded_by_the_release_build_is_copied() {
    // `include_str!` outside tests pulls files into the binary; each must
    // reach the build stage.
    let dockerfile = read("Dockerfile");
    let mut pending = vec![root().join("src")];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            // Test-only files (`tests.rs`, `mutant_tests.rs`, `mutant_tests/`)
            // are not in the release build.
            let test_only = path
                .strip_prefix(root())
                .is_ok_and(|p| p.to_string_lossy().contains("tests/"))
                || path
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().ends_with("tests.rs"));
            if path.extension().is_none_or(|e| e != "rs") || test_only {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("source");
            // Test modules come last in this crate's files.
            let code = text.split("#[cfg(test)]").next().unwrap_or("");
            const MACRO: &str = "include_str!(\"";
            for (at, _) in code.match_indices(MACRO) {
                let rest = &code[at + MACRO.len()..];
                let target = rest.split('"').next().unwrap_or("");
                let resolved = path.parent().expect("dir").join(target);
                let resolved = resolved.canonicalize().expect("embedded file exists");
                let relative = resolved
                    .strip_prefix(root().canonicalize().expect("root"))
                    .expect("inside the repository")
                    .to_string_lossy()
                    .to_string();
                let top = relative.split('/').next().unwrap_or("");
                assert!(
                    dockerfile.contains(&format!("COPY {top} "))
                        || dockerfile.contains(&format!("COPY {relative} ")),
                    "{} embeds {relative}, which the Dockerfile does not copy",
                    path.display()
                );
            }
        }
    }
}
