//! Test fixtures: policies built straight from the model structs (the policy
//! parser lives elsewhere) and a baseline set of facts to vary per test.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::policy::{
    ApprovalSettings, Branches, Checks, Escalation, FollowUp, HotfixMatch, Increment, Member,
    Policy, Release, Severity, SeverityApprovals, VersionBump, VersionFile, Workflow,
};
use crate::rules::facts::*;

pub const HEAD_SHA: &str = "abc1234def5678abc1234def5678abc1234def56";
pub const OLD_SHA: &str = "0ld5678aaaabbbbccccddddeeeeffff000011112";

pub fn ts(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or_else(|e| panic!("bad timestamp {s}: {e}"))
}

fn hours(h: u64) -> Duration {
    Duration::from_secs(h * 3600)
}

fn severity(name: &str, roles: &[&str], count: Option<u32>) -> Severity {
    Severity {
        name: name.to_string(),
        labels: vec![name.to_string()],
        approvals: SeverityApprovals {
            roles: roles.iter().map(|r| r.to_string()).collect(),
            count,
        },
        deadline: None,
        follow_up: None,
    }
}

/// The policy of the README's example, without the optional hygiene checks
/// (tests that need them set them).
pub fn p0_policy() -> Policy {
    let mut roles = BTreeMap::new();
    roles.insert(
        "engineering-lead".to_string(),
        vec![Member::parse("alice"), Member::parse("acme/eng-leads")],
    );
    roles.insert(
        "on-call-manager".to_string(),
        vec![Member::parse("acme/on-call")],
    );
    roles.insert("product-manager".to_string(), vec![Member::parse("carol")]);

    let mut p0 = severity("P0", &["engineering-lead", "on-call-manager"], None);
    p0.deadline = Some(hours(2));
    p0.follow_up = Some(FollowUp {
        title: "Post-incident review".into(),
        within: hours(24),
    });
    let mut p1 = severity("P1", &["engineering-lead", "product-manager"], None);
    p1.deadline = Some(hours(24));
    p1.follow_up = Some(FollowUp {
        title: "Root cause analysis".into(),
        within: hours(48),
    });
    let p2 = severity("P2", &[], Some(1));

    Policy {
        hotfix: HotfixMatch {
            labels: vec!["hotfix".into()],
            branch_prefixes: vec!["hotfix/".into()],
        },
        workflow: Workflow::GitFlow,
        branches: Branches {
            production: "main".into(),
            develop: "develop".into(),
        },
        roles,
        severities: vec![p0, p1, p2],
        approvals: ApprovalSettings {
            dismiss_stale: true,
            allow_author: false,
            command: "/hotfix approve".into(),
        },
        checks: Checks {
            version_bump: Some(VersionBump {
                files: vec![VersionFile::Plain("VERSION".into())],
                increment: Increment::Patch,
            }),
            merge_back: true,
            ..Checks::default()
        },
        escalation: Escalation {
            mention: vec!["acme/incident-commanders".into()],
            ..Escalation::default()
        },
        release: Release::default(),
        evidence: Default::default(),
        audit: Default::default(),
        notify: Vec::new(),
    }
}

/// The policy with severity `name` selected for convenience.
pub fn severity_named<'p>(policy: &'p Policy, name: &str) -> &'p Severity {
    policy
        .severities
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no severity {name}"))
}

/// A P0 hotfix by dave, opened at 13:00, head pushed at 13:10, version
/// bumped 1.2.3 → 1.2.4, labels applied by alice (a writer). No reviews yet.
pub fn p0_facts() -> PullRequestFacts {
    let mut files = BTreeMap::new();
    files.insert(
        "VERSION".to_string(),
        FileAtRefs {
            base: Some("1.2.3\n".into()),
            head: Some("1.2.4\n".into()),
            ..FileAtRefs::default()
        },
    );
    let mut permissions = BTreeMap::new();
    for (login, p) in [
        ("alice", Permission::Admin),
        ("bob", Permission::Write),
        ("carol", Permission::Write),
        ("dave", Permission::Write),
        ("mallory", Permission::Triage),
    ] {
        permissions.insert(login.to_string(), p);
    }
    let mut team_members = BTreeMap::new();
    team_members.insert("acme/eng-leads".to_string(), vec!["erin".to_string()]);
    team_members.insert("acme/on-call".to_string(), vec!["bob".to_string()]);
    PullRequestFacts {
        repository: "acme/app".into(),
        number: 42,
        title: "fix: stop the login crash".into(),
        author: "dave".into(),
        html_url: Some("https://github.com/acme/app/pull/42".into()),
        state: PrState::Open,
        draft: false,
        head_ref: "hotfix/login-crash".into(),
        head_sha: HEAD_SHA.into(),
        base_ref: "main".into(),
        base_sha: Some("base000".into()),
        created_at: ts("2026-11-26T13:00:00Z"),
        merged_at: None,
        merged_by: None,
        head_pushed_at: Some(ts("2026-11-26T13:10:00Z")),
        head_pushed_source: Some(PushTimeSource::RepositoryActivity),
        base_changed: BaseChange::Never,
        totals: None,
        labels: vec![label("hotfix"), label("P0")],
        label_events: vec![
            label_event("hotfix", true, "dave", "2026-11-26T13:00:00Z"),
            label_event("P0", true, "alice", "2026-11-26T13:02:00Z"),
        ],
        reviews: vec![],
        comments: vec![],
        changed_files: Some(vec![
            changed("src/login.rs", 10, 2),
            changed("VERSION", 1, 1),
        ]),
        files,
        existing_tags: vec![],
        team_members,
        permissions,
        evidence: None,
    }
}

pub fn label(name: &str) -> Label {
    Label {
        name: name.into(),
        applied_by: None,
        applied_at: None,
    }
}

pub fn label_event(name: &str, added: bool, actor: &str, at: &str) -> LabelEvent {
    LabelEvent {
        label: name.into(),
        added,
        actor: actor.into(),
        at: ts(at),
    }
}

pub fn changed(name: &str, additions: u64, deletions: u64) -> ChangedFile {
    ChangedFile {
        filename: name.into(),
        additions,
        deletions,
    }
}

pub fn review(id: u64, user: &str, state: ReviewState, commit: &str, at: &str) -> Review {
    Review {
        id,
        not_a_person: false,
        user: user.into(),
        state,
        commit_id: Some(commit.into()),
        submitted_at: Some(ts(at)),
        html_url: Some(format!(
            "https://github.com/acme/app/pull/42#pullrequestreview-{id}"
        )),
    }
}

pub fn comment(id: u64, user: &str, body: &str, at: &str) -> Comment {
    Comment {
        id,
        not_a_person: false,
        user: user.into(),
        body: body.into(),
        created_at: ts(at),
        updated_at: Some(ts(at)),
        html_url: Some(format!(
            "https://github.com/acme/app/pull/42#issuecomment-{id}"
        )),
    }
}
