//! Unit tests written to kill the mutants `cargo mutants` found missed in
//! `src/policy` (see `docs/mutants.md`): each pins a value a mutated
//! operator, arm or return value would change.

use std::collections::BTreeMap;

use super::limits::{self, MAX_PATTERN_LEN};
use super::model::{
    AllowedConclusions, Evidence, EvidencePolicy, Member, RequiredCheck, RequiredDeployment,
    SeverityEvidence,
};

#[test]
fn a_pattern_may_be_four_kibibytes_long() {
    assert_eq!(MAX_PATTERN_LEN, 4096);
    // Long but cheap: a literal alternation of 4,096 bytes compiles.
    let longest = "a".repeat(4096);
    assert!(limits::regex(&longest).is_ok());
    let err = limits::regex(&"a".repeat(4097)).expect_err("too long");
    assert_eq!(
        limits::regex_error(&err),
        "the pattern is too large (over 4096 bytes, or over 4096 characters)"
    );
}

#[test]
fn a_glob_may_be_one_kibibyte_long() {
    assert!(limits::glob_too_long(&"a".repeat(1024)).is_none());
    assert_eq!(
        limits::glob_too_long(&"a".repeat(1025)).as_deref(),
        Some("the glob is 1025 bytes; at most 1024 are accepted")
    );
}

#[test]
fn members_display_as_mentions() {
    assert_eq!(Member::parse("alice").to_string(), "@alice");
    assert_eq!(
        Member::parse("acme/eng-leads").to_string(),
        "@acme/eng-leads"
    );
}

fn check(name: &str) -> RequiredCheck {
    RequiredCheck {
        name: name.into(),
        app: None,
        allow: AllowedConclusions::default(),
    }
}

fn staging() -> RequiredDeployment {
    RequiredDeployment {
        environment: "staging".into(),
    }
}

#[test]
fn evidence_is_empty_only_without_checks_and_deployment() {
    assert!(Evidence::default().is_empty());
    let checks = Evidence {
        checks: vec![check("test")],
        deployment: None,
    };
    assert!(!checks.is_empty());
    let deployment = Evidence {
        checks: Vec::new(),
        deployment: Some(staging()),
    };
    assert!(!deployment.is_empty());
}

#[test]
fn a_severity_replaces_the_default_evidence_key_by_key() {
    let mut policy = EvidencePolicy {
        default: Evidence {
            checks: vec![check("test")],
            deployment: Some(staging()),
        },
        by_severity: BTreeMap::new(),
    };
    // No own keys: the default.
    assert_eq!(policy.for_severity("P0"), policy.default);
    // Own checks replace the list; the deployment stays the default's.
    policy.by_severity.insert(
        "P0".into(),
        SeverityEvidence {
            checks: Some(vec![check("e2e")]),
            deployment: None,
        },
    );
    assert_eq!(
        policy.for_severity("P0"),
        Evidence {
            checks: vec![check("e2e")],
            deployment: Some(staging()),
        }
    );
    // `[]` requires no check; an own deployment replaces the default's.
    let production = RequiredDeployment {
        environment: "production-canary".into(),
    };
    policy.by_severity.insert(
        "P1".into(),
        SeverityEvidence {
            checks: Some(Vec::new()),
            deployment: Some(production.clone()),
        },
    );
    assert_eq!(
        policy.for_severity("P1"),
        Evidence {
            checks: Vec::new(),
            deployment: Some(production),
        }
    );
}

#[test]
fn any_is_true_only_when_some_severity_requires_evidence() {
    let mut policy = EvidencePolicy::default();
    assert!(!policy.any());
    // A severity that clears the (empty) default requires nothing.
    policy.by_severity.insert(
        "P2".into(),
        SeverityEvidence {
            checks: Some(Vec::new()),
            deployment: None,
        },
    );
    assert!(!policy.any());

    let mut own_checks = policy.clone();
    own_checks.by_severity.insert(
        "P0".into(),
        SeverityEvidence {
            checks: Some(vec![check("test")]),
            deployment: None,
        },
    );
    assert!(own_checks.any());

    let mut own_deployment = policy.clone();
    own_deployment.by_severity.insert(
        "P0".into(),
        SeverityEvidence {
            checks: None,
            deployment: Some(staging()),
        },
    );
    assert!(own_deployment.any());

    let mut by_default = policy;
    by_default.default.deployment = Some(staging());
    assert!(by_default.any());
}
