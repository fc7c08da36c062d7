use super::*;
use crate::policy::{Increment, VersionBump};
use crate::rules::facts::FileAtRefs;
use crate::rules::result::RuleStatus;
use crate::rules::testutil::*;

fn with_files(files: Vec<VersionFile>, increment: Increment) -> Policy {
    let mut policy = p0_policy();
    policy.checks.version_bump = Some(VersionBump { files, increment });
    policy
}

fn set(facts: &mut PullRequestFacts, path: &str, base: Option<&str>, head: Option<&str>) {
    facts.files.insert(
        path.to_string(),
        FileAtRefs {
            base: base.map(str::to_string),
            head: head.map(str::to_string),
            ..FileAtRefs::default()
        },
    );
}

fn plain_facts(base: &str, head: &str) -> PullRequestFacts {
    let mut facts = p0_facts();
    set(&mut facts, "VERSION", Some(base), Some(head));
    facts
}

fn run(policy: &Policy, facts: &PullRequestFacts) -> VersionOutcome {
    check(policy, facts).expect("version bump configured")
}

fn plain(increment: Increment) -> Policy {
    with_files(vec![VersionFile::Plain("VERSION".into())], increment)
}

#[test]
fn patch_bump_passes() {
    let out = run(&plain(Increment::Patch), &plain_facts("1.2.3\n", "1.2.4\n"));
    assert_eq!(out.result.status, RuleStatus::Pass, "{out:?}");
    assert_eq!(out.result.detail, "VERSION 1.2.3 → 1.2.4");
    assert_eq!(
        out.new_version,
        Some(ReleaseVersion::SemVer(semver::Version::new(1, 2, 4)))
    );
}

#[test]
fn not_bumped_fails_with_the_expected_version() {
    let out = run(&plain(Increment::Patch), &plain_facts("1.2.3", "1.2.3"));
    assert_eq!(out.result.status, RuleStatus::Fail);
    assert_eq!(
        out.result.title_fragment.as_deref(),
        Some("VERSION not bumped")
    );
    assert_eq!(out.result.detail, "VERSION 1.2.3 → 1.2.3: expected 1.2.4");
}

#[test]
fn jumps_and_wrong_increments_fail() {
    let cases = [
        (
            Increment::Patch,
            "1.2.3",
            "1.2.5",
            "VERSION should be 1.2.4",
        ),
        (
            Increment::Patch,
            "1.2.3",
            "1.3.0",
            "VERSION should be 1.2.4",
        ),
        (
            Increment::Patch,
            "1.2.3",
            "1.2.2",
            "VERSION should be 1.2.4",
        ),
        (
            Increment::Minor,
            "1.2.3",
            "1.2.4",
            "VERSION should be 1.3.0",
        ),
        (
            Increment::Minor,
            "1.2.3",
            "1.4.0",
            "VERSION should be 1.3.0",
        ),
        (
            Increment::Minor,
            "1.2.3",
            "1.3.1",
            "VERSION should be 1.3.0",
        ),
        (
            Increment::AnyGreater,
            "1.2.3",
            "1.2.3",
            "VERSION not bumped",
        ),
        (
            Increment::AnyGreater,
            "1.2.3",
            "1.2.2",
            "VERSION must increase",
        ),
    ];
    for (increment, base, head, fragment) in cases {
        let out = run(&plain(increment), &plain_facts(base, head));
        assert_eq!(
            out.result.status,
            RuleStatus::Fail,
            "{increment:?} {base}→{head}"
        );
        assert_eq!(
            out.result.title_fragment.as_deref(),
            Some(fragment),
            "{increment:?} {base}→{head}"
        );
    }
}

#[test]
fn right_increments_pass() {
    let cases = [
        (Increment::Patch, "1.2.3", "1.2.4"),
        (Increment::Patch, "v1.2.3", "v1.2.4"),
        (Increment::Minor, "1.2.3", "1.3.0"),
        (Increment::AnyGreater, "1.2.3", "1.2.9"),
        (Increment::AnyGreater, "1.2.3", "2.0.0"),
    ];
    for (increment, base, head) in cases {
        let out = run(&plain(increment), &plain_facts(base, head));
        assert_eq!(
            out.result.status,
            RuleStatus::Pass,
            "{increment:?} {base}→{head}: {out:?}"
        );
    }
}

#[test]
fn pre_release_on_head_fails() {
    let out = run(
        &plain(Increment::Patch),
        &plain_facts("1.2.3", "1.2.4-rc.1"),
    );
    assert_eq!(out.result.status, RuleStatus::Fail);
    assert_eq!(
        out.result.title_fragment.as_deref(),
        Some("VERSION is a pre-release")
    );
    let out = run(
        &plain(Increment::AnyGreater),
        &plain_facts("1.2.3", "1.3.0-beta"),
    );
    assert_eq!(out.result.status, RuleStatus::Fail);
}

#[test]
fn missing_file_fails_naming_it_and_the_side() {
    let policy = plain(Increment::Patch);
    let mut facts = p0_facts();
    set(&mut facts, "VERSION", Some("1.2.3"), None);
    let out = run(&policy, &facts);
    assert_eq!(
        out.result.title_fragment.as_deref(),
        Some("VERSION missing")
    );
    assert_eq!(out.result.detail, "VERSION: missing on the head branch");

    facts.files.clear();
    let out = run(&policy, &facts);
    assert_eq!(out.result.detail, "VERSION: missing on the base branch");
}

#[test]
fn unparseable_version_fails_naming_the_file() {
    let out = run(&plain(Increment::Patch), &plain_facts("1.2.3", "1.2"));
    assert_eq!(out.result.status, RuleStatus::Fail);
    assert_eq!(
        out.result.title_fragment.as_deref(),
        Some("VERSION unreadable")
    );
    assert!(
        out.result
            .detail
            .starts_with("VERSION at head: `1.2` is not a semantic version")
    );
    let out = run(&plain(Increment::Patch), &plain_facts("  \n", "1.2.4"));
    assert_eq!(out.result.detail, "VERSION at base is empty");
}

#[test]
fn cargo_toml_package_and_workspace_versions() {
    let policy = with_files(
        vec![VersionFile::CargoToml("Cargo.toml".into())],
        Increment::Patch,
    );
    let mut facts = p0_facts();
    set(
        &mut facts,
        "Cargo.toml",
        Some("[package]\nname = \"app\"\nversion = \"0.4.1\"\n"),
        Some("[package]\nname = \"app\"\nversion = \"0.4.2\"\n"),
    );
    assert_eq!(run(&policy, &facts).result.status, RuleStatus::Pass);

    set(
        &mut facts,
        "Cargo.toml",
        Some("[workspace]\nmembers = [\"a\"]\n[workspace.package]\nversion = \"0.4.1\"\n"),
        Some("[workspace]\nmembers = [\"a\"]\n[workspace.package]\nversion = \"0.4.1\"\n"),
    );
    let out = run(&policy, &facts);
    assert_eq!(
        out.result.detail,
        "Cargo.toml 0.4.1 → 0.4.1: expected 0.4.2"
    );

    // `version.workspace = true` with the workspace table in the same file.
    set(
        &mut facts,
        "Cargo.toml",
        Some("[package]\nversion.workspace = true\n[workspace.package]\nversion = \"1.0.0\"\n"),
        Some("[package]\nversion.workspace = true\n[workspace.package]\nversion = \"1.0.1\"\n"),
    );
    assert_eq!(run(&policy, &facts).result.status, RuleStatus::Pass);

    set(
        &mut facts,
        "Cargo.toml",
        Some("[package]\nversion.workspace = true\n"),
        Some("[package]\nversion.workspace = true\n"),
    );
    let out = run(&policy, &facts);
    assert!(
        out.result
            .detail
            .contains("inherits its version from the workspace"),
        "{out:?}"
    );

    set(
        &mut facts,
        "Cargo.toml",
        Some("[package\n"),
        Some("[package]\nversion = \"1.0.1\"\n"),
    );
    let out = run(&policy, &facts);
    assert_eq!(
        out.result.title_fragment.as_deref(),
        Some("Cargo.toml unreadable")
    );
    assert!(
        out.result
            .detail
            .starts_with("Cargo.toml at base is not valid TOML")
    );
}

#[test]
fn package_json_version() {
    let policy = with_files(
        vec![VersionFile::PackageJson("web/package.json".into())],
        Increment::Patch,
    );
    let mut facts = p0_facts();
    set(
        &mut facts,
        "web/package.json",
        Some(r#"{"name":"web","version":"2.0.9"}"#),
        Some(r#"{"name":"web","version":"2.0.10"}"#),
    );
    assert_eq!(run(&policy, &facts).result.status, RuleStatus::Pass);
    set(
        &mut facts,
        "web/package.json",
        Some(r#"{"name":"web","version":"2.0.9"}"#),
        Some(r#"{"name":"web"}"#),
    );
    let out = run(&policy, &facts);
    assert_eq!(
        out.result.detail,
        "web/package.json at head has no \"version\" field"
    );
}

#[test]
fn pyproject_project_and_poetry_versions() {
    let policy = with_files(
        vec![VersionFile::Pyproject("pyproject.toml".into())],
        Increment::Patch,
    );
    let mut facts = p0_facts();
    set(
        &mut facts,
        "pyproject.toml",
        Some("[project]\nname = \"x\"\nversion = \"3.1.0\"\n"),
        Some("[project]\nname = \"x\"\nversion = \"3.1.1\"\n"),
    );
    assert_eq!(run(&policy, &facts).result.status, RuleStatus::Pass);
    set(
        &mut facts,
        "pyproject.toml",
        Some("[tool.poetry]\nversion = \"3.1.0\"\n"),
        Some("[tool.poetry]\nversion = \"3.2.0\"\n"),
    );
    let out = run(&policy, &facts);
    assert_eq!(
        out.result.detail,
        "pyproject.toml 3.1.0 → 3.2.0: expected 3.1.1"
    );
    set(
        &mut facts,
        "pyproject.toml",
        Some("[project]\ndynamic = [\"version\"]\n"),
        Some("[project]\ndynamic = [\"version\"]\n"),
    );
    let out = run(&policy, &facts);
    assert_eq!(
        out.result.title_fragment.as_deref(),
        Some("pyproject.toml unreadable")
    );
}

#[test]
fn pattern_takes_the_first_capture() {
    let policy = with_files(
        vec![VersionFile::Pattern {
            path: "src/version.go".into(),
            pattern: r#"const Version = "([^"]+)""#.into(),
        }],
        Increment::Patch,
    );
    let mut facts = p0_facts();
    set(
        &mut facts,
        "src/version.go",
        Some("package x\nconst Version = \"1.9.0\"\n"),
        Some("package x\nconst Version = \"1.9.1\"\n"),
    );
    assert_eq!(
        run(&policy, &facts).result.detail,
        "src/version.go 1.9.0 → 1.9.1"
    );
    set(
        &mut facts,
        "src/version.go",
        Some("package x\n"),
        Some("package x\n"),
    );
    let out = run(&policy, &facts);
    assert_eq!(out.result.status, RuleStatus::Fail);
    assert!(out.result.detail.contains("does not match"), "{out:?}");
}

#[test]
fn invalid_pattern_fails_gracefully() {
    let policy = with_files(
        vec![VersionFile::Pattern {
            path: "v.txt".into(),
            pattern: "(".into(),
        }],
        Increment::Patch,
    );
    let mut facts = p0_facts();
    set(&mut facts, "v.txt", Some("1.0.0"), Some("1.0.1"));
    let out = run(&policy, &facts);
    assert_eq!(out.result.status, RuleStatus::Fail);
    assert!(
        out.result.detail.contains("pattern `(` is invalid"),
        "{out:?}"
    );
}

fn two_files() -> Policy {
    with_files(
        vec![
            VersionFile::Plain("VERSION".into()),
            VersionFile::PackageJson("package.json".into()),
        ],
        Increment::Patch,
    )
}

#[test]
fn files_must_agree_on_the_head_version() {
    let policy = two_files();
    let mut facts = plain_facts("1.2.3", "1.2.4");
    set(
        &mut facts,
        "package.json",
        Some(r#"{"version":"1.2.3"}"#),
        Some(r#"{"version":"1.2.4"}"#),
    );
    assert_eq!(run(&policy, &facts).result.status, RuleStatus::Pass);
    assert_eq!(
        new_version(&policy, &facts),
        Some(ReleaseVersion::SemVer(semver::Version::new(1, 2, 4)))
    );

    // Each file bumped correctly from its own base, yet they disagree.
    set(
        &mut facts,
        "package.json",
        Some(r#"{"version":"1.2.4"}"#),
        Some(r#"{"version":"1.2.5"}"#),
    );
    let out = run(&policy, &facts);
    assert_eq!(out.result.status, RuleStatus::Fail);
    assert_eq!(
        out.result.title_fragment.as_deref(),
        Some("version files disagree")
    );
    assert!(
        out.result
            .detail
            .contains("version files disagree: VERSION 1.2.4, package.json 1.2.5"),
        "{out:?}"
    );
    assert_eq!(new_version(&policy, &facts), None);
    assert_eq!(expected_tag(&policy, &facts), None);
}

#[test]
fn one_unbumped_file_among_several_fails_naming_it() {
    let policy = two_files();
    let mut facts = plain_facts("1.2.3", "1.2.4");
    set(
        &mut facts,
        "package.json",
        Some(r#"{"version":"1.2.3"}"#),
        Some(r#"{"version":"1.2.3"}"#),
    );
    let out = run(&policy, &facts);
    assert_eq!(
        out.result.title_fragment.as_deref(),
        Some("package.json not bumped; version files disagree")
    );
}

#[test]
fn an_existing_tag_means_already_released() {
    let policy = plain(Increment::Patch);
    let mut facts = plain_facts("1.2.3", "1.2.4");
    assert_eq!(expected_tag(&policy, &facts).as_deref(), Some("v1.2.4"));
    facts.existing_tags = vec!["v1.2.4".into()];
    let out = run(&policy, &facts);
    assert_eq!(out.result.status, RuleStatus::Fail);
    assert_eq!(
        out.result.detail,
        "1.2.4 is already released (tag v1.2.4 exists)"
    );
    assert_eq!(
        out.result.title_fragment.as_deref(),
        Some("1.2.4 already released")
    );
    // Another prefix: the tag `v1.2.4` is not this project's release.
    let mut policy = plain(Increment::Patch);
    policy.release.prefix = "app-".into();
    assert_eq!(run(&policy, &facts).result.status, RuleStatus::Pass);
    assert_eq!(expected_tag(&policy, &facts).as_deref(), Some("app-1.2.4"));
}

#[test]
fn not_configured_means_no_rule() {
    let mut policy = p0_policy();
    policy.checks.version_bump = None;
    assert!(check(&policy, &p0_facts()).is_none());
    assert_eq!(expected_tag(&policy, &p0_facts()), None);
}

#[test]
fn report_lists_each_file() {
    let out = run(&plain(Increment::Patch), &plain_facts("1.2.3", "1.2.3"));
    assert_eq!(
        out.files,
        [VersionFileReport {
            path: "VERSION".into(),
            base: Some("1.2.3".into()),
            head: Some("1.2.3".into()),
            problem: Some("VERSION 1.2.3 → 1.2.3: expected 1.2.4".into()),
        }]
    );
    assert!(
        out.result
            .extra_markdown
            .expect("present in the fixture")
            .contains("| `VERSION` | `1.2.3` | `1.2.3` | ❌")
    );
}

#[test]
fn pyproject_reads_pep440_where_1_4_to_1_4_1_is_a_patch_bump() {
    let policy = with_files(
        vec![VersionFile::Pyproject("pyproject.toml".into())],
        Increment::Patch,
    );
    let mut facts = p0_facts();
    set(
        &mut facts,
        "pyproject.toml",
        Some("[project]\nversion = \"1.4\"\n"),
        Some("[project]\nversion = \"1.4.1\"\n"),
    );
    let out = run(&policy, &facts);
    assert_eq!(out.result.status, RuleStatus::Pass, "{:?}", out.result);
    assert_eq!(out.result.detail, "pyproject.toml 1.4 → 1.4.1");
    set(
        &mut facts,
        "pyproject.toml",
        Some("[project]\nversion = \"1.4\"\n"),
        Some("[project]\nversion = \"1.4.1rc1\"\n"),
    );
    assert_eq!(
        run(&policy, &facts).result.title_fragment.as_deref(),
        Some("pyproject.toml is a pre-release")
    );
}

/// A version file that exists but is not a text file (the author made it
/// a directory, a symbolic link, a submodule, or wrote bytes that are not
/// UTF-8): the rule fails naming the file, the side and what it is, for
/// every kind of version file.
#[test]
fn a_version_file_that_is_not_text_fails_naming_what_it_is() {
    for (file, base) in [
        (VersionFile::Plain("VERSION".into()), "1.2.3\n"),
        (
            VersionFile::CargoToml("Cargo.toml".into()),
            "[package]\nversion = \"1.2.3\"\n",
        ),
        (
            VersionFile::PackageJson("package.json".into()),
            "{\"version\": \"1.2.3\"}",
        ),
        (
            VersionFile::Pyproject("pyproject.toml".into()),
            "[project]\nversion = \"1.2.3\"\n",
        ),
        (
            VersionFile::Pattern {
                path: "src/version.h".into(),
                pattern: r#"VERSION "([^"]+)""#.into(),
            },
            "#define VERSION \"1.2.3\"\n",
        ),
    ] {
        let path = file.path().to_string();
        let policy = with_files(vec![file], Increment::Patch);
        let mut facts = p0_facts();
        facts.files.insert(
            path.clone(),
            FileAtRefs {
                base: Some(base.into()),
                head: None,
                head_not_text: Some("a directory".into()),
                ..FileAtRefs::default()
            },
        );
        let out = run(&policy, &facts);
        assert_eq!(out.result.status, RuleStatus::Fail);
        assert_eq!(
            out.result.title_fragment.as_deref(),
            Some(format!("{path} unreadable").as_str())
        );
        assert_eq!(
            out.result.detail,
            format!(
                "`{path}` at the head is not a text file: it is a directory; the version file must be a regular UTF-8 text file"
            )
        );
    }
    let mut facts = p0_facts();
    facts.files.insert(
        "VERSION".into(),
        FileAtRefs {
            base: None,
            head: Some("1.2.4\n".into()),
            base_not_text: Some("a file whose bytes are not UTF-8 text".into()),
            ..FileAtRefs::default()
        },
    );
    let out = run(&plain(Increment::Patch), &facts);
    assert_eq!(
        out.result.detail,
        "`VERSION` at the base is not a text file: it is a file whose bytes are not UTF-8 text; the version file must be a regular UTF-8 text file"
    );
}

/// A version file larger than `MAX_FILE_BYTES` was never read: the rule
/// fails naming the file, the side and its size (GitHub's `size`), on
/// either side.
#[test]
fn a_version_file_too_large_to_read_fails_naming_its_size() {
    let mut facts = p0_facts();
    facts.files.insert(
        "VERSION".into(),
        FileAtRefs {
            base: Some("1.2.3\n".into()),
            head: None,
            head_too_large: Some(5_242_880),
            ..FileAtRefs::default()
        },
    );
    let out = run(&plain(Increment::Patch), &facts);
    assert_eq!(out.result.status, RuleStatus::Fail);
    assert_eq!(
        out.result.title_fragment.as_deref(),
        Some("VERSION too large")
    );
    assert_eq!(
        out.result.detail,
        "`VERSION` at the head is 5242880 bytes; hotfix-guard reads a version file of at most 1000000 bytes (1 MB), so it was not read: the version file must be a small text file holding the version"
    );
    facts.files.insert(
        "VERSION".into(),
        FileAtRefs {
            base: None,
            head: Some("1.2.4\n".into()),
            base_too_large: Some(1_000_001),
            ..FileAtRefs::default()
        },
    );
    let out = run(&plain(Increment::Patch), &facts);
    assert!(
        out.result
            .detail
            .starts_with("`VERSION` at the base is 1000001 bytes;"),
        "{}",
        out.result.detail
    );
}
