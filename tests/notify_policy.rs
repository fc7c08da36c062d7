//! The `notify` key of the policy file: targets, severities and events are
//! checked by `check-config` with a line and column each.

use hotfix_guard::policy::{self, NoticeEvent, Target};

const HEAD: &str = "version: 1\nseverities:\n  P0:\n    approvals: { count: 1 }\n  P1:\n    approvals: { count: 1 }\n";

fn errors(notify: &str) -> Vec<String> {
    match policy::check_config_text("p.yml", &format!("{HEAD}{notify}")) {
        Ok(_) => Vec::new(),
        Err(lines) => lines,
    }
}

#[test]
fn entries_default_to_every_severity_and_event() {
    let policy = policy::parse(&format!(
        "{HEAD}notify:\n  - to: \"slack:#incidents\"\n  - to: webhook:teams\n    severities: [P0]\n    on: [declared, merged]\n"
    ))
    .expect("valid");
    assert_eq!(policy.notify.len(), 2);
    assert_eq!(
        policy.notify[0].to,
        Target::Slack {
            channel: "incidents".into()
        }
    );
    assert_eq!(policy.notify[0].on, NoticeEvent::ALL.to_vec());
    assert!(policy.notify[0].wants("P1", NoticeEvent::Escalated));
    assert!(policy.notify[1].wants("P0", NoticeEvent::Merged));
    assert!(!policy.notify[1].wants("P1", NoticeEvent::Merged));
    assert!(!policy.notify[1].wants("P0", NoticeEvent::Approved));
}

#[test]
fn an_unknown_scheme_is_an_error_at_its_line_and_column() {
    assert_eq!(
        errors("notify:\n  - to: email:ops@example.com\n"),
        vec![
            "p.yml:8:9: unknown notice target `email:ops@example.com`: write slack:#channel or webhook:NAME"
                .to_string()
        ]
    );
}

#[test]
fn unknown_severities_events_and_keys_are_errors() {
    let found = errors("notify:\n  - to: webhook:ops\n    severities: [P9]\n    on: [deployed]\n");
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found[0].starts_with("p.yml:9:18: notify: unknown severity `P9`"),
        "{found:?}"
    );
    assert!(
        found[1].starts_with("p.yml:10:10: notify: unknown event `deployed`"),
        "{found:?}"
    );
    let found = errors("notify:\n  - channel: ops\n");
    assert!(
        found
            .iter()
            .any(|e| e.contains("p.yml:8:5") && e.contains("channel")),
        "{found:?}"
    );
    let found = errors("notify:\n  - severities: [P0]\n");
    assert!(found.iter().any(|e| e.contains("to")), "{found:?}");
}

#[test]
fn the_schema_lists_notify() {
    let schema = policy::json_schema();
    assert!(schema["properties"]["notify"].is_object(), "{schema}");
    let text = schema.to_string();
    assert!(text.contains("severity_changed") && text.contains("closed_unmerged"));
}
