//! Unit tests written to kill the mutants `cargo mutants` found missed in
//! `src/policy` (see `docs/mutants.md`): each pins a value a mutated
//! operator, arm or return value would change.

use std::collections::BTreeMap;

use super::limits::{self, MAX_PATTERN_LEN};
use super::model::{
    AllowedConclusions, Evidence, EvidencePolicy, Member, RequiredCheck, RequiredDeployment,
    SeverityEvidence,
};
use super::notify::{NoticeEvent, NotifyRule, Target};

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

#[test]
fn slack_channels_refuse_spaces_controls_and_a_second_hash() {
    for bad in [
        "slack:#inc idents",
        "slack:#inc\u{7}",
        "slack:#inc#2",
        "slack:##x",
    ] {
        let err = Target::parse(bad).expect_err(bad);
        assert!(
            err.ends_with("is not a Slack channel: write slack:#channel-name"),
            "{err}"
        );
    }
    assert_eq!(
        Target::parse("slack:C0123ABCD"),
        Ok(Target::Slack {
            channel: "C0123ABCD".into()
        })
    );
}

#[test]
fn notice_events_read_and_print_the_policy_names() {
    let names = [
        (NoticeEvent::Declared, "declared"),
        (NoticeEvent::SeverityChanged, "severity_changed"),
        (NoticeEvent::Approved, "approved"),
        (NoticeEvent::Escalated, "escalated"),
        (NoticeEvent::Merged, "merged"),
        (NoticeEvent::ClosedUnmerged, "closed_unmerged"),
    ];
    for (event, name) in names {
        assert_eq!(event.name(), name);
        assert_eq!(NoticeEvent::parse(name), Some(event));
    }
    assert_eq!(NoticeEvent::parse("Merged"), None);
    assert_eq!(NoticeEvent::parse(""), None);
}

#[test]
fn a_rule_wants_its_severities_and_events_only() {
    let rule = NotifyRule {
        to: Target::Webhook { name: "OPS".into() },
        severities: vec!["P0".into()],
        on: vec![NoticeEvent::Declared, NoticeEvent::Merged],
    };
    assert!(rule.wants("P0", NoticeEvent::Declared));
    assert!(rule.wants("p0", NoticeEvent::Merged));
    assert!(!rule.wants("P1", NoticeEvent::Declared));
    assert!(!rule.wants("P0", NoticeEvent::Approved));
    assert!(!rule.wants("P1", NoticeEvent::Approved));
    // No severities: every severity, still only its events.
    let every = NotifyRule {
        severities: Vec::new(),
        ..rule
    };
    assert!(every.wants("P2", NoticeEvent::Declared));
    assert!(!every.wants("P2", NoticeEvent::Escalated));
}

/// `notify` entries read from a whole policy file, positions included.
fn notify_of(entries: &str) -> Result<Vec<NotifyRule>, Vec<String>> {
    let text = format!(
        "version: 1\nseverities:\n  P0:\n    approvals: {{ count: 1 }}\n  P1:\n    approvals: {{ count: 1 }}\nnotify:\n{entries}"
    );
    super::parse(&text)
        .map(|p| p.notify)
        .map_err(|errors| errors.iter().map(ToString::to_string).collect())
}

#[test]
fn notify_entries_keep_each_event_once_in_the_order_written() {
    let rules = notify_of(
        "  - to: slack:#incidents\n    severities: [P0]\n    on: [merged, declared, merged]\n  - to: webhook:ops\n",
    )
    .expect("valid");
    assert_eq!(
        rules,
        [
            NotifyRule {
                to: Target::Slack {
                    channel: "incidents".into()
                },
                severities: vec!["P0".into()],
                on: vec![NoticeEvent::Merged, NoticeEvent::Declared],
            },
            NotifyRule {
                to: Target::Webhook { name: "OPS".into() },
                severities: Vec::new(),
                on: NoticeEvent::ALL.to_vec(),
            },
        ]
    );
}

#[test]
fn notify_errors_point_at_the_value() {
    let errors = notify_of("  - to: webhook:ops\n    on: [merged, landed]\n").expect_err("invalid");
    assert_eq!(
        errors,
        [
            "9:18: notify: unknown event `landed`; expected one of declared, severity_changed, approved, escalated, merged, closed_unmerged"
        ]
    );
}

#[test]
fn the_generated_schema_is_the_committed_one() {
    // `tests/cli.rs` compares the binary's text; this compares the values
    // without the binary, so that a change to the `raw` types' schema
    // impls fails a unit test too.
    let committed: serde_json::Value =
        serde_json::from_str(include_str!("../../schema/hotfix-policy.schema.json"))
            .expect("the committed schema is JSON");
    assert_eq!(super::json_schema(), committed);
}
