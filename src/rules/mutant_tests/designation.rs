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

/// Past a cut events list: a designation label off the pull request whose
/// last listed event applied it gets one unseen removal at the cut; one
/// whose last listed event removed it gets none.
#[test]
fn unseen_removals_close_each_listed_application_of_a_label_now_off() {
    use crate::rules::designation::{UNSEEN_REMOVER, unseen_removals};
    use crate::rules::testutil::ts;
    let events = vec![
        label_event("HotFix", true, "dana", "2026-11-26T13:00:00Z"),
        label_event("P1", true, "dana", "2026-11-26T13:01:00Z"),
        label_event("P1", false, "dana", "2026-11-26T13:02:00Z"),
    ];
    let cut_at = ts("2026-11-26T13:02:00Z");
    let got = unseen_removals(&[&p0_policy()], &["P0".to_string()], &events, cut_at);
    assert_eq!(
        got,
        [label_event(
            "HotFix",
            false,
            UNSEEN_REMOVER,
            "2026-11-26T13:02:00Z"
        )]
    );
}

/// No designation label on the pull request and nothing listed to close:
/// the first hotfix label is applied and removed past the cut, so that the
/// pull request stays in the procedure; with one on it, nothing is added.
#[test]
fn unseen_removals_keep_an_undesignated_pull_request_in_the_procedure() {
    use crate::rules::designation::{UNSEEN_REMOVER, unseen_removals};
    use crate::rules::testutil::ts;
    let cut_at = ts("2026-11-26T14:00:00Z");
    let policy = p0_policy();
    assert_eq!(
        unseen_removals(&[&policy], &["bug".to_string()], &[], cut_at),
        [
            label_event("hotfix", true, UNSEEN_REMOVER, "2026-11-26T14:00:00Z"),
            label_event("hotfix", false, UNSEEN_REMOVER, "2026-11-26T14:00:00Z"),
        ]
    );
    assert_eq!(
        unseen_removals(&[&policy], &["hotfix".to_string()], &[], cut_at),
        []
    );
}

/// A label held because its removal lies past the cut events list: the
/// report says the removal was past the cut, not that the login
/// "someone past the events list's cut" has unknown access.
#[test]
fn a_removal_past_the_cut_is_worded_as_past_the_cut() {
    use crate::rules::designation::{UNSEEN_REMOVER, unseen_removals};
    use crate::rules::testutil::ts;
    let policy = p0_policy();
    let mut events = vec![label_event("hotfix", true, "dana", "2026-11-26T13:00:00Z")];
    let labels = ["P0".to_string()];
    events.extend(unseen_removals(
        &[&policy],
        &labels,
        &events,
        ts("2026-11-26T13:05:00Z"),
    ));
    let got = held(
        &[&policy],
        &labels,
        &events,
        &perms(&[("dana", Permission::Write)]),
    );
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].removed_by, UNSEEN_REMOVER);
    let r = result(&got).expect("a failure");
    assert_eq!(
        r.title_fragment.as_deref(),
        Some(
            "`hotfix` was removed past the events list's cut: who removed it cannot be confirmed to have write access"
        )
    );
    assert!(
        r.detail.starts_with(
            "`hotfix` was removed by someone past the events list's cut at 2026-11-26 13:05 UTC; it still applies"
        ),
        "{}",
        r.detail
    );
}
