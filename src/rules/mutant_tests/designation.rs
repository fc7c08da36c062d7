//! Whose label events keep a designation label applying: an application
//! by someone whose access is unknown holds, a removal by them does not;
//! the report names each remover's access.

use std::collections::BTreeMap;

use crate::rules::designation::{held, result};
use crate::rules::facts::Permission;
use crate::rules::testutil::{label_event, p0_policy};

fn perms(list: &[(&str, Permission)]) -> BTreeMap<String, Permission> {
    list.iter().map(|(l, p)| (l.to_string(), *p)).collect()
}

#[test]
fn an_application_by_someone_whose_access_is_unknown_holds_against_a_triage_removal() {
    let events = vec![
        label_event("hotfix", true, "una", "2026-11-26T13:00:00Z"),
        label_event("hotfix", false, "trina", "2026-11-26T13:10:00Z"),
    ];
    let got = held(
        &[&p0_policy()],
        &[],
        &events,
        &perms(&[("trina", Permission::Triage)]),
    );
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].removed_by, "trina");
    assert_eq!(got[0].remover, Some(Permission::Triage));
}

#[test]
fn a_removal_by_someone_whose_access_is_unknown_does_not_revive_a_writers_removal() {
    // The writer took the label off; a later removal event by someone
    // whose access is unknown must not make it apply again.
    let events = vec![
        label_event("hotfix", true, "dana", "2026-11-26T13:00:00Z"),
        label_event("hotfix", false, "dana", "2026-11-26T13:05:00Z"),
        label_event("hotfix", false, "una", "2026-11-26T13:10:00Z"),
    ];
    let got = held(
        &[&p0_policy()],
        &[],
        &events,
        &perms(&[("dana", Permission::Write)]),
    );
    assert!(got.is_empty(), "{got:?}");
}

#[test]
fn the_report_names_each_removers_access() {
    for (permission, words) in [
        (Permission::None, "@trina (no access)"),
        (Permission::Read, "@trina (read access)"),
        (Permission::Triage, "@trina (triage access)"),
    ] {
        let events = vec![
            label_event("hotfix", true, "dana", "2026-11-26T13:00:00Z"),
            label_event("hotfix", false, "trina", "2026-11-26T13:10:00Z"),
        ];
        let got = held(
            &[&p0_policy()],
            &[],
            &events,
            &perms(&[("dana", Permission::Write), ("trina", permission)]),
        );
        let r = result(&got).expect("a failure");
        assert!(
            r.detail
                .contains(&format!("`hotfix` was removed by {words} at")),
            "{}",
            r.detail
        );
    }
}

#[test]
fn effective_labels_add_the_held_ones_to_those_on_the_pull_request() {
    use crate::rules::verdict::effective_labels;
    let events = vec![
        label_event("hotfix", true, "dana", "2026-11-26T13:00:00Z"),
        label_event("hotfix", false, "trina", "2026-11-26T13:10:00Z"),
    ];
    let labels = vec!["P0".to_string()];
    let triage = perms(&[("dana", Permission::Write), ("trina", Permission::Triage)]);
    assert_eq!(
        effective_labels(&[&p0_policy()], &labels, &events, &triage),
        ["P0", "hotfix"]
    );
    let writer = perms(&[("dana", Permission::Write), ("trina", Permission::Write)]);
    assert_eq!(
        effective_labels(&[&p0_policy()], &labels, &events, &writer),
        ["P0"]
    );
}
