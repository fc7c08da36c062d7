//! The README's quick start is true: every command in it runs (with
//! `cargo run --` mapped to the built binary) and exits as its `# exit N`
//! comment says. A `cargo run` line without a documented exit code fails the
//! test, so the README cannot drift into promising nothing.

use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The lines of the `sh` code blocks between `## Quick start` and the next
/// `## ` heading.
fn quick_start_commands() -> Vec<String> {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let start = readme
        .find("\n## Quick start\n")
        .expect("a Quick start section");
    let section = &readme[start + 1..];
    let end = section[3..].find("\n## ").map_or(section.len(), |i| i + 3);
    let section = &section[..end];
    let mut commands = Vec::new();
    let mut in_sh = false;
    for line in section.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("```") {
            in_sh = !in_sh && trimmed == "```sh";
            continue;
        }
        if in_sh && !trimmed.is_empty() {
            commands.push(trimmed.to_string());
        }
    }
    commands
}

/// `(command, documented exit code)`: the code from a trailing `# exit N`.
fn split_comment(line: &str) -> (String, Option<i32>) {
    match line.split_once(" #") {
        Some((command, comment)) => {
            let code = comment
                .trim()
                .strip_prefix("exit ")
                .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
                .and_then(|n| n.parse().ok());
            (command.trim().to_string(), code)
        }
        None => (line.trim().to_string(), None),
    }
}

#[test]
fn every_quick_start_command_exits_as_the_readme_says() {
    let commands = quick_start_commands();
    assert!(
        commands.len() >= 4,
        "the quick start lost its commands: {commands:?}"
    );
    let mut ran = 0;
    for line in &commands {
        let (command, expected) = split_comment(line);
        if command.starts_with("cargo test") {
            // Running the suite from inside the suite would wait on its own
            // build lock; CI runs exactly this command instead.
            let ci = std::fs::read_to_string(root().join(".ci/run")).expect(".ci/run");
            assert!(
                ci.lines().any(|l| l.trim() == command),
                "CI does not run `{command}`"
            );
            continue;
        }
        let args = command
            .strip_prefix("cargo run")
            .unwrap_or_else(|| panic!("not a cargo command: `{command}`"));
        let args = args.trim_start();
        let args = args.strip_prefix("--quiet").unwrap_or(args).trim_start();
        let args = args
            .strip_prefix("--")
            .unwrap_or_else(|| panic!("`{command}`: arguments must follow `--`"));
        assert!(
            !args.contains(['"', '\'', '$', '|', '>', '<', '&']),
            "`{command}`: keep quick-start commands free of shell syntax"
        );
        let expected =
            expected.unwrap_or_else(|| panic!("`{command}`: document its exit code as `# exit N`"));
        let out = Command::new(env!("CARGO_BIN_EXE_hotfix-guard"))
            .current_dir(root())
            .args(args.split_whitespace())
            .env_remove("GITHUB_TOKEN")
            .output()
            .expect("the binary runs");
        assert_eq!(
            out.status.code(),
            Some(expected),
            "`{command}`\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        ran += 1;
    }
    assert!(ran >= 4, "ran {ran} commands");
}

#[test]
fn the_readme_cites_no_file_the_repository_lacks() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    // Relative markdown links: `](docs/x.md)`, `](LICENSE-MIT)`.
    for (at, _) in readme.match_indices("](") {
        let target = readme[at + 2..].split(')').next().unwrap_or("");
        let target = target.split('#').next().unwrap_or("");
        if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
            continue;
        }
        assert!(
            root().join(target).exists(),
            "README links to missing {target}"
        );
    }
    assert!(
        !readme.contains("DESIGN.md"),
        "README cites DESIGN.md, not in the repository"
    );
    assert!(
        !readme.contains("docs/deploy.md"),
        "README cites docs/deploy.md"
    );
}
