//! The policy file as an admin writes it: the commented example, the design
//! document's example, and the error each kind of mistake produces.

use std::time::Duration;

use hotfix_guard::policy::{
    self, Increment, Member, Policy, PolicyError, VersionFile, Workflow, check_config_text,
};

const EXAMPLE: &str = include_str!("../examples/hotfix-policy.yml");
const DESIGN_EXAMPLE: &str = include_str!("fixtures/policy/design-example.yml");

fn hours(n: u64) -> Duration {
    Duration::from_secs(n * 3600)
}

fn parse_ok(text: &str) -> Policy {
    match policy::parse(text) {
        Ok(policy) => policy,
        Err(errors) => panic!("expected a valid policy, got {errors:#?}"),
    }
}

fn parse_err(text: &str) -> Vec<PolicyError> {
    match policy::parse(text) {
        Ok(policy) => panic!("expected errors, got {policy:#?}"),
        Err(errors) => errors,
    }
}

fn severity<'a>(policy: &'a Policy, name: &str) -> &'a policy::Severity {
    policy
        .severities
        .iter()
        .find(|severity| severity.name == name)
        .unwrap_or_else(|| panic!("no severity {name}"))
}

/// Both examples hold the design document's values; these are the ones they share.
fn assert_design_values(policy: &Policy) {
    assert_eq!(policy.hotfix.labels, ["hotfix"]);
    assert_eq!(policy.hotfix.branch_prefixes, ["hotfix/"]);
    assert_eq!(policy.workflow, Workflow::GitFlow);
    assert_eq!(policy.branches.production, "main");
    assert_eq!(policy.branches.develop, "develop");
    assert_eq!(
        policy.roles.get("engineering-lead"),
        Some(&vec![
            Member::User("alice".into()),
            Member::Team {
                org: "acme".into(),
                slug: "eng-leads".into()
            }
        ])
    );
    assert_eq!(
        policy.roles.get("on-call-manager"),
        Some(&vec![Member::Team {
            org: "acme".into(),
            slug: "on-call".into()
        }])
    );
    assert_eq!(
        policy.roles.get("product-manager"),
        Some(&vec![Member::User("carol".into())])
    );

    let names: Vec<&str> = policy.severities.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["P0", "P1", "P2"], "file order, most severe first");

    let p0 = severity(policy, "P0");
    assert_eq!(p0.labels, ["P0"]);
    assert_eq!(p0.approvals.roles, ["engineering-lead", "on-call-manager"]);
    assert_eq!(p0.approvals.count, None);
    assert_eq!(p0.deadline, Some(hours(2)));
    let follow_up = p0.follow_up.as_ref().expect("P0 follow-up");
    assert_eq!(follow_up.title, "Post-incident review");
    assert_eq!(follow_up.within, hours(24));

    let p1 = severity(policy, "P1");
    assert_eq!(p1.approvals.roles, ["engineering-lead", "product-manager"]);
    assert_eq!(p1.deadline, Some(hours(24)));
    assert_eq!(
        p1.follow_up.as_ref().map(|f| (f.title.as_str(), f.within)),
        Some(("Root cause analysis", hours(48)))
    );

    let p2 = severity(policy, "P2");
    assert!(p2.approvals.roles.is_empty());
    assert_eq!(p2.approvals.count, Some(1));
    assert_eq!(p2.deadline, None);
    assert_eq!(p2.follow_up, None);

    assert!(policy.approvals.dismiss_stale);
    assert!(!policy.approvals.allow_author);
    assert_eq!(policy.approvals.command, "/hotfix approve");

    let bump = policy.checks.version_bump.as_ref().expect("version bump");
    assert_eq!(bump.files, [VersionFile::Plain("VERSION".into())]);
    assert_eq!(bump.increment, Increment::Patch);
    assert!(policy.checks.merge_back);
    assert_eq!(policy.checks.require_tests, ["tests/**"]);
    assert_eq!(policy.checks.max_changed_files, Some(25));
    assert_eq!(policy.checks.max_changed_lines, None);
    assert_eq!(
        policy.checks.title_pattern.as_deref(),
        Some(r"^(fix|hotfix)(\(.+\))?: ")
    );
    assert_eq!(policy.escalation.mention, ["acme/incident-commanders"]);
}

#[test]
fn commented_example_is_valid_and_says_what_it_should() {
    let policy = parse_ok(EXAMPLE);
    assert_design_values(&policy);
    // The keys the example adds to the design document's.
    assert_eq!(policy.escalation.after, Some(hours(4)));
    assert_eq!(policy.escalation.mention_after, ["acme/cto"]);
    assert!(policy.release.tag);
    assert_eq!(policy.release.prefix, "v");
}

#[test]
fn design_document_example_is_valid() {
    let policy = parse_ok(DESIGN_EXAMPLE);
    assert_design_values(&policy);
    assert_eq!(policy.escalation.after, None);
    assert!(policy.escalation.mention_after.is_empty());
    assert!(!policy.release.tag);
    assert_eq!(policy.release.prefix, "v");
}

#[test]
fn severities_keep_file_order_not_alphabetical() {
    let policy = parse_ok(
        "version: 1\nseverities:\n  sev-z: { approvals: { count: 1 } }\n  sev-a: { approvals: { count: 1 } }\n  sev-m: { approvals: { count: 1 } }\n",
    );
    let names: Vec<&str> = policy.severities.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["sev-z", "sev-a", "sev-m"]);
    // Without `labels`, a severity is selected by its own name.
    assert_eq!(
        policy.severities.first().map(|s| s.labels.clone()),
        Some(vec!["sev-z".to_string()])
    );
}

#[test]
fn version_files_are_recognised_by_file_name() {
    let policy = parse_ok(
        r#"version: 1
checks:
  version_bump:
    increment: any-greater
    files:
      - VERSION
      - crates/app/Cargo.toml
      - web/package.json
      - pyproject.toml
      - { path: src/version.go, pattern: 'Version = "([^"]+)"' }
"#,
    );
    let bump = policy.checks.version_bump.expect("version bump");
    assert_eq!(bump.increment, Increment::AnyGreater);
    assert_eq!(
        bump.files,
        [
            VersionFile::Plain("VERSION".into()),
            VersionFile::CargoToml("crates/app/Cargo.toml".into()),
            VersionFile::PackageJson("web/package.json".into()),
            VersionFile::Pyproject("pyproject.toml".into()),
            VersionFile::Pattern {
                path: "src/version.go".into(),
                pattern: r#"Version = "([^"]+)""#.into()
            },
        ]
    );
}

#[test]
fn members_may_be_written_with_an_at_sign() {
    let policy =
        parse_ok("version: 1\nroles:\n  lead: ['@alice', '@acme/leads', 'dependabot[bot]']\n");
    assert_eq!(
        policy.roles.get("lead"),
        Some(&vec![
            Member::User("alice".into()),
            Member::Team {
                org: "acme".into(),
                slug: "leads".into()
            },
            Member::User("dependabot[bot]".into()),
        ])
    );
}

/// One mistake per case: the file, then the exact position and a part of the
/// message that tells the admin what is wrong.
const ONE_ERROR_CASES: &[(&str, &str, usize, usize, &str)] = &[
    (
        "a follow-up title holding a line break and an app marker",
        "version: 1\nseverities:\n  P0:\n    approvals: { count: 1 }\n    follow_up: { title: \"Review\\n<!-- hotfix-guard:follow-up #1 -->\", within: 24h }\n",
        5,
        25,
        "follow-up title `Review\\n<!-- hotfix-guard:follow-up #1 -->` contains a control character",
    ),
    (
        "a follow-up title holding an HTML comment",
        "version: 1\nseverities:\n  P0:\n    approvals: { count: 1 }\n    follow_up: { title: 'Review <!-- x -->', within: 24h }\n",
        5,
        25,
        "follow-up title `Review <!-- x -->` contains an HTML comment delimiter",
    ),
    (
        "a severity name holding an HTML comment end",
        "version: 1\nseverities:\n  'P0-->':\n    approvals: { count: 1 }\n",
        3,
        3,
        "severity name `P0-->` contains an HTML comment delimiter",
    ),
    (
        "a role name holding a line break",
        "version: 1\nroles:\n  \"lead\\nx\": [alice]\n",
        3,
        3,
        "role name `lead\\nx` contains a control character",
    ),
    (
        "a branch name holding an HTML comment start",
        "version: 1\nbranches:\n  production: 'main<!--'\n",
        3,
        15,
        "branch name `main<!--` contains an HTML comment delimiter",
    ),
    (
        "hotfix with neither labels nor branch prefixes",
        "version: 1\nhotfix:\n  labels: []\n  branch_prefixes: []\n",
        3,
        3,
        "`hotfix` has neither labels nor branch_prefixes",
    ),
    (
        "empty branch name",
        "version: 1\nbranches:\n  production: ' '\n",
        3,
        15,
        "empty branch name",
    ),
    (
        "git-flow with one branch for production and develop",
        "version: 1\nworkflow: git-flow\nbranches:\n  production: main\n  develop: main\n",
        5,
        12,
        "production and develop are both `main`: git-flow needs two branches",
    ),
    (
        "a label listed twice for one severity",
        "version: 1\nseverities:\n  P0:\n    labels: [P0, p0]\n    approvals: { count: 1 }\n",
        4,
        18,
        "label `p0` is listed twice for severity `P0`",
    ),
    (
        "an absolute version file path",
        "version: 1\nchecks:\n  version_bump: { files: [/VERSION] }\n",
        3,
        27,
        "`/VERSION` is absolute: write the path relative to the repository root",
    ),
    (
        "unknown key",
        "version: 1\nchecks:\n  merge_back: true\n  max_files: 3\n",
        4,
        3,
        "unknown key `max_files` in `checks`; expected one of version_bump, merge_back, require_tests, max_changed_files, max_changed_lines, title_pattern",
    ),
    (
        "unknown top-level key",
        "version: 1\nseverity: {}\n",
        2,
        1,
        "unknown key `severity` in the top level; expected one of version, hotfix,",
    ),
    (
        "wrong type",
        "version: 1\nchecks:\n  max_changed_files: many\n",
        3,
        22,
        "expected a whole number, found `many`",
    ),
    (
        "wrong type: list for a mapping",
        "version: 1\nhotfix: [hotfix]\n",
        2,
        9,
        "expected a mapping",
    ),
    (
        "yes is not a boolean",
        "version: 1\napprovals:\n  allow_author: no\n",
        3,
        17,
        "expected true or false, found `no`",
    ),
    (
        "yaml syntax error: indentation",
        "version: 1\nbranches:\n  production: main\n develop: develop\n",
        4,
        2,
        "did not find expected key",
    ),
    (
        "yaml syntax error: unclosed quote",
        "version: 1\nchecks:\n  title_pattern: '^(fix\n",
        3,
        18,
        "unclosed quote",
    ),
    (
        "tab indentation",
        "version: 1\nbranches:\n\tproduction: main\n",
        3,
        1,
        "a tab in the indentation",
    ),
    (
        "duplicate key",
        "version: 1\nworkflow: trunk\nworkflow: git-flow\n",
        3,
        1,
        "duplicate key `workflow`",
    ),
    (
        "missing key",
        "version: 1\nseverities:\n  P0:\n    approvals: { count: 1 }\n    follow_up: { title: Review }\n",
        5,
        18, // serde-saphyr points at the mapping's first key
        "missing key `within`",
    ),
    (
        "unknown enum value",
        "version: 1\nchecks:\n  version_bump: { increment: major }\n",
        3,
        30,
        "unknown value `major`; expected one of patch, minor, any-greater",
    ),
    (
        "version is not 1",
        "version: 2\n",
        1,
        10,
        "unsupported version 2",
    ),
    (
        "version missing",
        "workflow: trunk\n",
        1,
        1,
        "missing `version: 1`",
    ),
    (
        "undefined role",
        "version: 1\nroles:\n  lead: [alice]\n  qa: [bob]\nseverities:\n  P0:\n    approvals: { roles: [lead, manager] }\n",
        7,
        32,
        "severity `P0` requires undefined role `manager`; defined roles: lead, qa",
    ),
    (
        "undefined role without any roles",
        "version: 1\nseverities:\n  P0:\n    approvals:\n      roles: [lead]\n",
        5,
        15,
        "no roles are defined",
    ),
    (
        "bad deadline",
        "version: 1\nseverities:\n  P0:\n    approvals: { count: 2 }\n    deadline: 2 hours\n",
        5,
        15,
        "`2 hours` is not a duration: write it like 30m, 2h, 24h or 2d",
    ),
    (
        "bad follow-up duration",
        "version: 1\nseverities:\n  P0:\n    approvals: { count: 2 }\n    follow_up: { title: Review, within: tomorrow }\n",
        5,
        41,
        "`tomorrow` is not a duration",
    ),
    (
        "bad escalation duration",
        "version: 1\nescalation:\n  after: 90s\n  mention_after: [acme/cto]\n",
        3,
        10,
        "`90s` is not a duration",
    ),
    (
        "duplicate label",
        "version: 1\nseverities:\n  P0:\n    labels: [P0, sev0]\n    approvals: { count: 2 }\n  P1:\n    labels: [P1, Sev0]\n    approvals: { count: 1 }\n",
        7,
        18,
        "label `Sev0` already selects severity `P0` (line 4)",
    ),
    (
        "invalid title regex",
        "version: 1\nchecks:\n  title_pattern: '^(fix|hotfix'\n",
        3,
        18,
        "invalid title_pattern: unclosed group",
    ),
    (
        "unknown workflow",
        "version: 1\nworkflow: gitflow\n",
        2,
        11,
        "unknown workflow `gitflow`; expected one of git-flow, github-flow, trunk",
    ),
    (
        "bad version file entry",
        "version: 1\nchecks:\n  version_bump:\n    files: [VERSION, README.md]\n",
        4,
        22,
        "`README.md` is not a version file this app can read: name VERSION, Cargo.toml, package.json or pyproject.toml",
    ),
    (
        "version file of the wrong type",
        "version: 1\nchecks:\n  version_bump:\n    files: [42]\n",
        4,
        13,
        "expected a file name (VERSION, Cargo.toml, package.json, pyproject.toml) or a mapping {path, pattern}",
    ),
    (
        "version pattern without a group",
        "version: 1\nchecks:\n  version_bump:\n    files:\n      - { path: VERSION.txt, pattern: 'v\\d+' }\n",
        5,
        39,
        "has no capture group",
    ),
    (
        "invalid version pattern",
        "version: 1\nchecks:\n  version_bump:\n    files:\n      - { path: VERSION.txt, pattern: '(' }\n",
        5,
        39,
        "invalid pattern: unclosed group",
    ),
    (
        "severities empty",
        "version: 1\nseverities: {}\n",
        2,
        13,
        "no severities",
    ),
    (
        "severity with neither roles nor count",
        "version: 1\nseverities:\n  P0:\n    approvals: { roles: [] }\n",
        4,
        16,
        "severity `P0` requires no approvals",
    ),
    (
        "severity without approvals",
        "version: 1\nseverities:\n  P0:\n    deadline: 2h\n",
        3,
        3,
        "severity `P0` requires no approvals",
    ),
    (
        "count 0",
        "version: 1\nseverities:\n  P2:\n    approvals: { count: 0 }\n",
        4,
        25,
        "`count: 0`",
    ),
    (
        "empty approval command",
        "version: 1\napprovals:\n  command: '  '\n",
        3,
        12,
        "empty approval command",
    ),
    (
        "merge_back without git-flow",
        "version: 1\nworkflow: trunk\nchecks:\n  merge_back: true\n",
        4,
        15,
        "`merge_back: true` needs `workflow: git-flow`",
    ),
    (
        "invalid glob",
        "version: 1\nchecks:\n  require_tests: ['tests/[']\n",
        3,
        19,
        "invalid glob `tests/[`",
    ),
    (
        "bad member",
        "version: 1\nroles:\n  lead: [alice, 'acme/']\n",
        3,
        17,
        "`acme/` is not a GitHub login or an org/team-slug",
    ),
    (
        "mention_after without after",
        "version: 1\nescalation:\n  mention_after: [acme/cto]\n",
        3,
        18,
        "`mention_after` needs `after`",
    ),
];

#[test]
fn each_mistake_is_reported_at_its_line_and_column() {
    let mut failures = Vec::new();
    for (name, text, line, column, message) in ONE_ERROR_CASES {
        match policy::parse(text) {
            Ok(_) => failures.push(format!("{name}: parsed without error")),
            Err(errors) => {
                let found = errors.iter().any(|error| {
                    error.line == *line
                        && error.column == *column
                        && error.message.contains(message)
                });
                if errors.len() != 1 || !found {
                    failures.push(format!(
                        "{name}: expected one error {line}:{column} containing {message:?}, got {errors:?}"
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Either list alone makes pull requests hotfixes; only both empty is an
/// error. With git-flow, distinct production and develop branches are fine.
#[test]
fn one_of_labels_or_branch_prefixes_is_enough_and_two_branches_are_fine() {
    let only_prefixes =
        parse_ok("version: 1\nhotfix:\n  labels: []\n  branch_prefixes: [hotfix/]\n");
    assert_eq!(only_prefixes.hotfix.branch_prefixes, ["hotfix/"]);
    let only_labels = parse_ok("version: 1\nhotfix:\n  labels: [hotfix]\n  branch_prefixes: []\n");
    assert_eq!(only_labels.hotfix.labels, ["hotfix"]);
    let two =
        parse_ok("version: 1\nworkflow: git-flow\nbranches:\n  production: main\n  develop: dev\n");
    assert_eq!(
        (
            two.branches.production.as_str(),
            two.branches.develop.as_str()
        ),
        ("main", "dev")
    );
}

#[test]
fn all_semantic_errors_are_reported_together_in_file_order() {
    let errors = parse_err(
        r#"version: 1
workflow: trunk-based
roles:
  lead: [alice]
severities:
  P0:
    labels: [P0]
    approvals: { roles: [lead, cto] }
    deadline: soon
  P1:
    labels: [P0]
    approvals: { count: 0 }
checks:
  title_pattern: '['
"#,
    );
    let positions: Vec<(usize, usize)> = errors.iter().map(|e| (e.line, e.column)).collect();
    assert_eq!(
        positions,
        [(2, 11), (8, 32), (9, 15), (11, 14), (12, 25), (14, 18)],
        "{errors:#?}"
    );
}

#[test]
fn unknown_keys_name_the_mapping_they_are_in() {
    // One unknown key in every mapping of the file: if a key is added to a
    // raw type, its mapping's expected-key list changes and the message would
    // lose its place name; this catches that.
    let cases = [
        ("oops: 1\nversion: 1\n", "in the top level"),
        ("version: 1\nhotfix: { oops: 1 }\n", "in `hotfix`"),
        ("version: 1\nbranches: { oops: 1 }\n", "in `branches`"),
        (
            "version: 1\nseverities: { P0: { oops: 1 } }\n",
            "in a severity;",
        ),
        (
            "version: 1\nseverities: { P0: { approvals: { oops: 1 } } }\n",
            "in a severity's `approvals`",
        ),
        (
            "version: 1\nseverities: { P0: { follow_up: { oops: 1 } } }\n",
            "in a severity's `follow_up`",
        ),
        ("version: 1\napprovals: { oops: 1 }\n", "in `approvals`"),
        ("version: 1\nchecks: { oops: 1 }\n", "in `checks`"),
        (
            "version: 1\nchecks: { version_bump: { oops: 1 } }\n",
            "in `checks.version_bump`",
        ),
        (
            "version: 1\nchecks: { version_bump: { files: [{ oops: 1 }] } }\n",
            "in a `version_bump` file",
        ),
        ("version: 1\nescalation: { oops: 1 }\n", "in `escalation`"),
        ("version: 1\nrelease: { oops: 1 }\n", "in `release`"),
    ];
    for (text, place) in cases {
        let errors = parse_err(text);
        assert!(
            errors.len() == 1
                && errors
                    .iter()
                    .all(|e| e.message.starts_with("unknown key `oops`")
                        && e.message.contains(place)),
            "{text:?}: {errors:?}"
        );
    }
}

#[test]
fn check_config_lines_are_path_line_column_message() {
    let lines = check_config_text(
        ".github/hotfix-policy.yml",
        "version: 1\nworkflow: gitflow\nchecks:\n  max_changed_files: 0\n",
    )
    .expect_err("two errors");
    assert_eq!(
        lines,
        [
            ".github/hotfix-policy.yml:2:11: unknown workflow `gitflow`; expected one of git-flow, github-flow, trunk",
            ".github/hotfix-policy.yml:4:22: max_changed_files is 0: no hotfix could pass; remove the key for no limit",
        ]
    );
    assert!(check_config_text("p.yml", EXAMPLE).is_ok());
}

#[test]
fn errors_display_as_line_column_message() {
    let error = PolicyError::new(3, 7, "bad");
    assert_eq!(error.to_string(), "3:7: bad");
    // Unknown positions still point into the file.
    assert_eq!(PolicyError::new(0, 0, "x").to_string(), "1:1: x");
}

#[test]
fn malformed_input_is_an_error_never_a_panic() {
    let deep_lists = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_maps = format!(
        "version: 1\nroles: {}{}",
        "{a: ".repeat(20_000),
        "}".repeat(20_000)
    );
    let long_line = format!("version: 1\nworkflow: {}\n", "x".repeat(1_000_000));
    let alias_bomb = "version: 1\nroles:\n  a: &a [x,x,x,x,x,x,x,x,x,x]\n  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n  d: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n";
    let snippets: Vec<String> = [
        "",
        "   \n\n",
        "# only a comment\n",
        "~",
        "null",
        "42",
        "'just a string'",
        "version: 2\n",
        "version: -1\n",
        "version: 1.5\n",
        "version: 99999999999999999999999999999999\n",
        "version: [1]\n",
        "- version: 1\n- hotfix: {}\n",
        "version: 1\n\thotfix: {}\n",
        "version: 1\nhotfix:\n  labels: [hotfix\n",
        "version: 1\nhotfix: {labels: [a, {b: [c, {d: [e]}]}]}\n",
        "version: 1\nroles: {a: [b, [c, [d]]]}\n",
        "version: 1\nseverities: {P0: {approvals: {count: 99999999999999999999}}}\n",
        "version: 1\nchecks: {max_changed_files: -5}\n",
        "version: \"\\xff\\x00\\uD800\"\n",
        "version: 1\nhotfix: {labels: [\"\\u0000\\u001b[31m\"]}\n",
        "version: 1\n---\nversion: 1\n",
        "--- !!map\n? !!seq [a]\n: b\n",
        "version: *missing\n",
        "version: &a 1\n<<: *a\n",
        "{",
        "}",
        "]",
        ": :",
        "%YAML 9.9\n---\nversion: 1\n",
        "version: 1\nseverities:\n  P0:\n    labels: [P0]\n    labels: [P1]\n",
        "\"\\x00\": 1\n",
        "version: !!binary AAAA\n",
        "version: 1\nworkflow: |\n  trunk\n",
    ]
    .into_iter()
    .map(str::to_string)
    .chain([deep_lists, deep_maps, long_line, alias_bomb.to_string()])
    .collect();

    for text in &snippets {
        let shown: String = text.chars().take(60).collect();
        // A thread with a small stack, like a server worker's, so that
        // unbounded recursion would show up as a failure here.
        let outcome = std::thread::Builder::new()
            .stack_size(2 * 1024 * 1024)
            .spawn({
                let text = text.clone();
                move || policy::parse(&text).map(|_| ())
            })
            .expect("spawn")
            .join();
        match outcome {
            Err(_) => panic!("parse panicked on {shown:?}"),
            Ok(Ok(())) => panic!("{shown:?} was accepted"),
            Ok(Err(errors)) => {
                assert!(!errors.is_empty(), "{shown:?}");
                for error in &errors {
                    assert!(error.line >= 1 && error.column >= 1, "{shown:?}: {error:?}");
                    assert!(!error.message.is_empty(), "{shown:?}");
                    assert!(
                        !error.message.contains('\n')
                            && !error.message.chars().any(char::is_control),
                        "{shown:?}: message not one clean line: {:?}",
                        error.message
                    );
                }
            }
        }
    }
}

/// Checks `value` against `schema` for the parts this schema uses
/// (`$ref`, `properties`, `additionalProperties`, `required`, `items`,
/// `anyOf`, `type`), so the example file proves the schema accepts it.
fn schema_accepts(
    root: &serde_json::Value,
    schema: &serde_json::Value,
    value: &serde_json::Value,
    path: &str,
) -> Result<(), String> {
    use serde_json::Value;
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference.trim_start_matches("#/$defs/");
        let target = &root["$defs"][name];
        return schema_accepts(root, target, value, path);
    }
    if let Some(options) = schema.get("anyOf").and_then(Value::as_array) {
        return if options
            .iter()
            .any(|option| schema_accepts(root, option, value, path).is_ok())
        {
            Ok(())
        } else {
            Err(format!("{path}: no anyOf option accepts {value}"))
        };
    }
    if let Some(object) = value.as_object() {
        let properties = schema.get("properties").and_then(Value::as_object);
        for (key, item) in object {
            let item_path = format!("{path}.{key}");
            match (
                properties.and_then(|p| p.get(key)),
                schema.get("additionalProperties"),
            ) {
                (Some(property), _) => schema_accepts(root, property, item, &item_path)?,
                (None, Some(Value::Bool(false))) => {
                    return Err(format!("{item_path}: not in the schema"));
                }
                (None, Some(additional)) => schema_accepts(root, additional, item, &item_path)?,
                (None, None) => return Err(format!("{item_path}: schema has no properties here")),
            }
        }
        for required in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let key = required.as_str().unwrap_or_default();
            if !object.contains_key(key) {
                return Err(format!("{path}: missing required {key}"));
            }
        }
    }
    if let (Some(array), Some(items)) = (value.as_array(), schema.get("items")) {
        for (index, item) in array.iter().enumerate() {
            schema_accepts(root, items, item, &format!("{path}[{index}]"))?;
        }
    }
    Ok(())
}

#[test]
fn json_schema_accepts_both_examples_and_rejects_unknown_keys() {
    let schema = policy::json_schema();
    for text in [EXAMPLE, DESIGN_EXAMPLE] {
        let value: serde_json::Value = serde_saphyr::from_str(text).expect("yaml");
        schema_accepts(&schema, &schema, &value, "$").expect("schema accepts the example");
    }
    let typo: serde_json::Value =
        serde_saphyr::from_str("version: 1\nchecks: { max_files: 3 }\n").expect("yaml");
    assert!(schema_accepts(&schema, &schema, &typo, "$").is_err());
    // The severities' order is the file's, and the schema must say so.
    let severities = schema["properties"]["severities"]["description"]
        .as_str()
        .unwrap_or_default();
    assert!(severities.contains("MOST SEVERE FIRST"), "{severities}");
}
