//! The app's permissions and events are written down three times: the code
//! (`server::setup::{PERMISSIONS, EVENTS}`), `app-manifest.json` (what the
//! registration flow posts to GitHub) and the README's tables (what an
//! operator grants by hand). They must say the same.

use std::collections::BTreeMap;
use std::path::Path;

use hotfix_guard::server::setup::{EVENTS, PERMISSIONS};
use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn manifest() -> Value {
    let text =
        std::fs::read_to_string(root().join("app-manifest.json")).expect("app-manifest.json");
    serde_json::from_str(&text).expect("app-manifest.json is JSON")
}

const PERMISSION_HEADER: &str = "| permission | access | why |";
const EVENT_HEADER: &str = "| event | why |";

/// The document an operator reads: the README (with the deployment guide).
fn documents() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    vec![("README.md".to_string(), text)]
}

/// Every Markdown table under `header` in `text`: its rows, as cells with
/// backticks removed.
fn tables(text: &str, header: &str) -> Vec<Vec<Vec<String>>> {
    let lines: Vec<&str> = text.lines().collect();
    lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.trim() == header)
        .map(|(i, _)| {
            let separator = lines.get(i + 1).copied().unwrap_or("");
            assert!(
                separator.starts_with("| ---"),
                "`{header}` has no separator row"
            );
            lines[i + 2..]
                .iter()
                .take_while(|l| l.trim_start().starts_with('|'))
                .map(|l| {
                    l.trim()
                        .trim_matches('|')
                        .split('|')
                        .map(|cell| cell.trim().trim_matches('`').to_string())
                        .collect()
                })
                .collect()
        })
        .collect()
}

/// "Pull requests" (GitHub's settings page) → `pull_requests` (the API's).
fn permission_key(shown: &str) -> String {
    shown.trim().to_lowercase().replace(' ', "_")
}

/// The events named in backticks in a paragraph that starts with
/// "Events:", where a document lists them in prose.
fn event_paragraphs(text: &str) -> Vec<Vec<String>> {
    let lines: Vec<&str> = text.lines().collect();
    lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.starts_with("Events:"))
        .map(|(i, _)| {
            let paragraph: String = lines[i..]
                .iter()
                .take_while(|l| !l.trim().is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(" ");
            paragraph
                .split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_string)
                .collect()
        })
        .collect()
}

fn code_permissions() -> BTreeMap<String, String> {
    PERMISSIONS
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn the_manifest_asks_for_exactly_the_permissions_and_events_in_the_code() {
    let m = manifest();
    let permissions: BTreeMap<String, String> = m["default_permissions"]
        .as_object()
        .expect("default_permissions is an object")
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                v.as_str().expect("access is a string").to_string(),
            )
        })
        .collect();
    assert_eq!(permissions, code_permissions());
    let events: Vec<&str> = m["default_events"]
        .as_array()
        .expect("default_events is an array")
        .iter()
        .map(|e| e.as_str().expect("event is a string"))
        .collect();
    assert_eq!(events, EVENTS);
    assert_eq!(
        PERMISSIONS.len(),
        code_permissions().len(),
        "no permission twice"
    );
}

#[test]
fn the_permissions_are_the_ones_design_md_names() {
    let want: BTreeMap<String, String> = [
        ("checks", "write"),
        ("pull_requests", "write"),
        ("issues", "write"),
        ("contents", "write"),
        ("members", "read"),
        ("metadata", "read"),
        // Evidence before merge: commit statuses and deployments of the head.
        ("statuses", "read"),
        ("deployments", "read"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(code_permissions(), want);
    assert_eq!(
        EVENTS,
        [
            "pull_request",
            "pull_request_review",
            "issue_comment",
            "check_run",
            "check_suite",
            "push",
            "status",
            "deployment_status"
        ]
    );
}

#[test]
fn the_manifest_is_a_private_app_with_an_active_webhook_and_placeholders() {
    let m = manifest();
    assert_eq!(m["public"], false);
    assert_eq!(m["hook_attributes"]["active"], true);
    for field in ["name", "url", "description", "redirect_url"] {
        assert!(
            m[field].as_str().is_some_and(|s| !s.is_empty()),
            "{field} is missing"
        );
    }
    let hook = m["hook_attributes"]["url"].as_str().expect("hook url");
    assert!(hook.ends_with("/webhook"), "{hook}");
    let redirect = m["redirect_url"].as_str().expect("redirect url");
    assert!(redirect.ends_with("/setup/callback"), "{redirect}");
    // The registration flow fills in the deployment's URL over them.
    let filled =
        hotfix_guard::server::setup::manifest("https://guard.example.org", None).expect("manifest");
    assert_eq!(
        filled["hook_attributes"]["url"],
        "https://guard.example.org/webhook"
    );
    assert_eq!(
        filled["redirect_url"],
        "https://guard.example.org/setup/callback"
    );
    assert_eq!(filled["default_permissions"], m["default_permissions"]);
}

#[test]
fn the_readme_tables_list_the_same_permissions_and_events_with_a_reason_each() {
    let mut permission_tables = 0;
    let mut event_lists = 0;
    for (name, text) in documents() {
        for rows in tables(&text, PERMISSION_HEADER) {
            permission_tables += 1;
            let documented: BTreeMap<String, String> = rows
                .iter()
                .map(|row| {
                    assert_eq!(row.len(), 3, "{name}: permission row {row:?}");
                    assert!(!row[2].is_empty(), "{name}: no reason for {}", row[0]);
                    (permission_key(&row[0]), row[1].to_lowercase())
                })
                .collect();
            assert_eq!(
                rows.len(),
                documented.len(),
                "{name}: a permission listed twice"
            );
            assert_eq!(documented, code_permissions(), "{name}'s permission table");
        }
        for rows in tables(&text, EVENT_HEADER) {
            event_lists += 1;
            let events: Vec<&str> = rows
                .iter()
                .map(|row| {
                    assert_eq!(row.len(), 2, "{name}: event row {row:?}");
                    assert!(!row[1].is_empty(), "{name}: no reason for {}", row[0]);
                    row[0].as_str()
                })
                .collect();
            assert_eq!(events, EVENTS, "{name}'s event table");
        }
        for events in event_paragraphs(&text) {
            event_lists += 1;
            assert_eq!(events, EVENTS, "{name}'s \"Events:\" paragraph");
        }
    }
    assert!(
        permission_tables > 0,
        "no table headed `{PERMISSION_HEADER}` in README.md"
    );
    assert!(event_lists > 0, "no list of events in README.md");
}

#[test]
fn the_table_readers_see_what_is_there() {
    let text = "intro\n| permission | access | why |\n| --- | --- | --- |\n| Pull requests | write | x |\n| `checks` | write | y |\n\nEvents: `push`,\n`check_run`.\n\nlater";
    let found = tables(text, PERMISSION_HEADER);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0][0], ["Pull requests", "write", "x"]);
    assert_eq!(permission_key(&found[0][0][0]), "pull_requests");
    assert_eq!(found[0][1][0], "checks");
    assert_eq!(
        event_paragraphs(text),
        vec![vec!["push".to_string(), "check_run".to_string()]]
    );
    assert!(tables(text, EVENT_HEADER).is_empty());
}
