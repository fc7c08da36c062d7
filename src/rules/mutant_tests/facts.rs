//! `Permission` and `ReviewState` read GitHub's spellings; every arm matters
//! (an unknown spelling must read as no access / a mere comment).

use crate::rules::facts::{Permission, ReviewState};

#[test]
fn permission_reads_every_api_spelling() {
    let cases = [
        ("admin", Permission::Admin),
        ("maintain", Permission::Maintain),
        ("write", Permission::Write),
        ("push", Permission::Write),
        ("triage", Permission::Triage),
        ("read", Permission::Read),
        ("pull", Permission::Read),
        ("none", Permission::None),
        ("ADMIN", Permission::None),
        ("", Permission::None),
    ];
    for (api, want) in cases {
        assert_eq!(Permission::from_api(api), want, "{api:?}");
    }
}

#[test]
fn write_access_starts_at_write() {
    let cases = [
        (Permission::None, false),
        (Permission::Read, false),
        (Permission::Triage, false),
        (Permission::Write, true),
        (Permission::Maintain, true),
        (Permission::Admin, true),
    ];
    for (p, want) in cases {
        assert_eq!(p.can_write(), want, "{p:?}");
    }
}

#[test]
fn review_state_reads_every_api_spelling() {
    let cases = [
        ("APPROVED", ReviewState::Approved),
        ("CHANGES_REQUESTED", ReviewState::ChangesRequested),
        ("DISMISSED", ReviewState::Dismissed),
        ("PENDING", ReviewState::Pending),
        ("COMMENTED", ReviewState::Commented),
        ("approved", ReviewState::Commented),
        ("", ReviewState::Commented),
    ];
    for (api, want) in cases {
        assert_eq!(ReviewState::from_api(api), want, "{api:?}");
    }
}
