//! `require_checks`, `require_deployment` and `audit` in the policy file:
//! what they mean per severity, and every mistake reported with its line
//! and column.

use hotfix_guard::policy::{Workflow, check_config_text, parse};

#[test]
fn every_mistake_is_named_with_line_and_column() {
    let text = r#"version: 1
checks:
  require_checks: [test, "", hotfix-policy, test]
  require_deployment: { environment: "" }
severities:
  P0:
    approvals: { count: 1 }
    require_checks:
      - { name: scan, app: "not a slug", allow: [neutral] }
"#;
    let errors = check_config_text("p.yml", text).expect_err("invalid");
    assert_eq!(
        errors,
        vec![
            "p.yml:3:26: empty check name",
            "p.yml:3:30: `hotfix-policy` is hotfix-guard's own check run: it cannot be evidence for itself",
            "p.yml:3:45: check `test` is listed twice",
            "p.yml:4:38: empty environment name: write the environment to deploy to, e.g. staging",
            "p.yml:9:28: `not a slug` is not a GitHub App slug (letters, digits and dashes, e.g. github-actions)",
        ]
    );
    let unknown = "version: 1\nchecks:\n  require_checks: [{ name: test, allow: [failure] }]\n";
    let errors = check_config_text("p.yml", unknown).expect_err("invalid");
    assert!(errors[0].starts_with("p.yml:3:"), "{errors:?}");
}

#[test]
fn a_severity_replaces_the_default_and_audit_defaults_by_workflow() {
    let text = r#"version: 1
workflow: trunk
checks:
  require_checks: [test]
  require_deployment: { environment: staging }
severities:
  P0:
    approvals: { count: 2 }
    require_checks: [test, { name: scan, app: github-actions, allow: [neutral, skipped] }]
  P2:
    approvals: { count: 1 }
    require_checks: []
"#;
    let policy = parse(text).expect("valid");
    assert_eq!(policy.workflow, Workflow::Trunk);
    assert!(policy.audit.direct_pushes, "on by default for trunk");
    let p0 = policy.evidence.for_severity("P0");
    let names: Vec<&str> = p0.checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["test", "scan"]);
    assert_eq!(p0.checks[1].app.as_deref(), Some("github-actions"));
    assert!(p0.checks[1].allow.neutral && p0.checks[1].allow.skipped);
    assert_eq!(
        p0.deployment.map(|d| d.environment).as_deref(),
        Some("staging")
    );
    assert!(policy.evidence.for_severity("P2").checks.is_empty());
    let off =
        parse("version: 1\nworkflow: trunk\naudit: { direct_pushes: false }\n").expect("valid");
    assert!(!off.audit.direct_pushes);
    assert!(!parse("version: 1\n").expect("valid").audit.direct_pushes);
}

#[test]
fn unknown_keys_in_the_new_mappings_name_their_place() {
    for (text, place) in [
        ("version: 1\naudit: { oops: 1 }\n", "in `audit`"),
        (
            "version: 1\nchecks: { require_deployment: { oops: 1 } }\n",
            "in `require_deployment`",
        ),
        (
            "version: 1\nchecks: { require_checks: [{ name: t, oops: 1 }] }\n",
            "in a required check",
        ),
    ] {
        let errors = hotfix_guard::policy::parse(text).expect_err("invalid");
        assert!(
            errors.len() == 1
                && errors[0].message.starts_with("unknown key `oops`")
                && errors[0].message.contains(place),
            "{text:?}: {errors:?}"
        );
    }
}
