//! The gather's logic against the in-memory GitHub (`reads::memory`): which
//! reads each case makes, which it leaves out, and what it concludes. The
//! same flow as the engine's (`first_reads` → `designation` → classify →
//! `facts`), without HTTP; the end-to-end flows in `tests/` cover the
//! client.

use chrono::{DateTime, Duration, Utc};

use super::{Caches, Gathered, designation, facts, first_reads};
use crate::engine::reads::memory::MemoryReads;
use crate::github::{CommentInfo, IssueEventInfo, ReviewInfo};
use crate::policy::Policy;
use crate::pull::Pull;
use crate::rules::{self, BaseChange, Permission, PrState, verdict::CutList};

/// The test suite's policy (`tests/common/harness.rs`): alice and the
/// acme/eng-leads team lead, acme/on-call manages on-call; a P0 needs both
/// roles; stale approvals are dismissed; `VERSION` must get a patch bump.
const POLICY: &str = r#"version: 1
hotfix:
  labels: [hotfix]
  branch_prefixes: [hotfix/]
workflow: git-flow
branches: { production: main, develop: develop }
roles:
  engineering-lead: [alice, acme/eng-leads]
  on-call-manager: [acme/on-call]
  product-manager: [carol]
severities:
  P0:
    labels: [P0]
    approvals: { roles: [engineering-lead, on-call-manager] }
    deadline: 2h
  P2:
    labels: [P2]
    approvals: { count: 1 }
approvals: { dismiss_stale: true, allow_author: false, command: "/hotfix approve" }
checks:
  version_bump: { files: [VERSION], increment: patch }
  max_changed_files: 50
"#;

const BASE_SHA: &str = "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0";
const HEAD_SHA: &str = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1";
const MERGE_SHA: &str = "c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2";
const NUMBER: u64 = 7;

fn policy() -> Policy {
    crate::policy::parse(POLICY).expect("the test policy parses")
}

fn at(minutes: i64) -> DateTime<Utc> {
    "2026-03-01T10:00:00Z"
        .parse::<DateTime<Utc>>()
        .expect("a time")
        + Duration::minutes(minutes)
}

/// Pull request 7 by dana, as `GET /pulls/{n}` answers it, without the
/// totals (as a list answer or a review delivery carries it).
fn pull(head_ref: &str, labels: &[&str]) -> Pull {
    let labels: Vec<_> = labels
        .iter()
        .map(|l| serde_json::json!({ "name": l }))
        .collect();
    serde_json::from_value(serde_json::json!({
        "number": NUMBER,
        "title": "fix: stop the login loop",
        "user": { "login": "dana" },
        "state": "open",
        "head": { "ref": head_ref, "sha": HEAD_SHA, "repo": { "full_name": "octo/app" } },
        "base": { "ref": "main", "sha": BASE_SHA, "repo": { "full_name": "octo/app" } },
        "labels": labels,
        "merge_commit_sha": MERGE_SHA,
        "created_at": at(0),
        "html_url": "https://github.com/octo/app/pull/7",
    }))
    .expect("a pull request")
}

fn event(event: &str, actor: &str, label: Option<&str>, minute: i64) -> IssueEventInfo {
    IssueEventInfo {
        event: event.into(),
        actor: Some(actor.into()),
        label: label.map(str::to_string),
        created_at: Some(at(minute)),
    }
}

fn approval(id: u64, login: &str, minute: i64) -> ReviewInfo {
    ReviewInfo {
        id,
        user: login.into(),
        user_type: "User".into(),
        state: "APPROVED".into(),
        commit_id: Some(HEAD_SHA.into()),
        submitted_at: Some(at(minute)),
        html_url: None,
    }
}

/// A P0 hotfix whose labels dana (a writer) applied a minute in, with
/// `VERSION` bumped from 1.2.3 to 1.2.4.
fn p0() -> MemoryReads {
    let mut gh = MemoryReads::new(pull("hotfix/login-loop", &["hotfix", "P0"]));
    gh.timeline.label_events = vec![
        event("labeled", "dana", Some("hotfix"), 1),
        event("labeled", "dana", Some("P0"), 1),
    ];
    gh.permissions.insert("dana".into(), "write".into());
    for (sha, version) in [(BASE_SHA, "1.2.3\n"), (HEAD_SHA, "1.2.4\n")] {
        gh.contents
            .insert(("VERSION".into(), sha.into()), version.into());
    }
    gh
}

/// The engine's flow: the first reads, the designation, the
/// classification by the labels that still apply, then the facts.
async fn gather(gh: &MemoryReads, policy: &Policy) -> Gathered {
    let (pull, first) = first_reads(gh, NUMBER).await.expect("first reads");
    let designation = designation(gh, &[policy], &pull, first)
        .await
        .expect("designation");
    let classification = rules::classify(policy, &designation.labels, &pull.head.ref_name);
    facts(
        gh,
        &Caches::default(),
        policy,
        &classification,
        &pull,
        None,
        designation,
    )
    .await
    .expect("facts")
}

fn sorted(mut calls: Vec<String>) -> Vec<String> {
    calls.sort();
    calls
}

const FIRST_READS: [&str; 3] = ["get_pull 7", "list_pull_files 7", "timeline 7"];

#[tokio::test]
async fn a_pull_request_that_is_not_a_hotfix_costs_the_first_reads_only() {
    let policy = policy();
    // Approvals, an approval command and a size limit: everything that
    // makes a hotfix read more, and GitHub's answer has no totals.
    let mut gh = MemoryReads::new(pull("feature/login", &["bug"]));
    gh.timeline.reviews = vec![approval(1, "alice", 5)];
    gh.timeline.comments = vec![crate::github::CommentInfo {
        id: 2,
        user: "erin".into(),
        user_type: "User".into(),
        body: "/hotfix approve".into(),
        created_at: Some(at(6)),
        updated_at: None,
        html_url: None,
        via_app: None,
    }];
    let gathered = gather(&gh, &policy).await;
    assert_eq!(sorted(gh.calls()), FIRST_READS);
    assert_eq!(gathered.facts.state, PrState::Open);
    assert!(gathered.facts.reviews.is_empty());
    assert!(gathered.comments.is_empty());
}

#[tokio::test]
async fn approvers_past_per_person_are_looked_up_by_one_listing_each() {
    let policy = policy();
    let mut gh = p0();
    // Eight approvals (more than `PER_PERSON`): six from the on-call
    // team, one from someone in no team, and alice, whom the policy names
    // (read with the others, not one by one).
    let reviewers = [
        "erin", "frank", "gina", "hank", "ivy", "jo", "mallory", "alice",
    ];
    gh.timeline.reviews = reviewers
        .iter()
        .zip(10..)
        .map(|(login, minute)| approval(minute as u64, login, minute))
        .collect();
    gh.teams.insert(
        "acme/on-call".into(),
        reviewers[..6].iter().map(|l| l.to_string()).collect(),
    );
    // frank lost write access.
    gh.writers = ["alice", "dana", "erin", "gina", "hank", "ivy", "jo"]
        .map(String::from)
        .to_vec();
    let gathered = gather(&gh, &policy).await;

    assert_eq!(gh.calls_to("team_membership"), Vec::<String>::new());
    assert_eq!(
        sorted(gh.calls_to("list_team_members")),
        [
            "list_team_members acme/eng-leads",
            "list_team_members acme/on-call"
        ]
    );
    assert_eq!(gh.calls_to("list_writers"), ["list_writers"]);
    // Only the severity's applier is read one by one.
    assert_eq!(
        gh.calls_to("collaborator_permission"),
        ["collaborator_permission dana"]
    );
    let permissions = &gathered.facts.permissions;
    assert_eq!(permissions.get("alice"), Some(&Permission::Write));
    assert_eq!(permissions.get("erin"), Some(&Permission::Write));
    assert_eq!(permissions.get("frank"), Some(&Permission::None));
    assert_eq!(
        gathered
            .facts
            .team_members
            .get("acme/on-call")
            .map(Vec::len),
        Some(6)
    );
}

#[tokio::test]
async fn a_cut_timeline_reads_the_issue_events_and_the_reviews_lists_instead() {
    let policy = policy();
    let mut gh = p0();
    // Comments pushed the label events and the review past the cut.
    gh.timeline.label_events.clear();
    gh.timeline.cut_after = Some(10_000);
    gh.events.label_events = vec![
        event("labeled", "dana", Some("hotfix"), 1),
        event("labeled", "dana", Some("P0"), 2),
    ];
    gh.reviews = (vec![approval(1, "alice", 30)], false);
    let gathered = gather(&gh, &policy).await;

    // Each list once: the events list already read answers for retargets.
    assert_eq!(gh.calls_to("issue_events"), ["issue_events 7"]);
    assert_eq!(gh.calls_to("list_reviews"), ["list_reviews 7"]);
    assert_eq!(gathered.cut, [CutList::Timeline { items: 10_000 }]);
    let p0 = gathered
        .facts
        .labels
        .iter()
        .find(|l| l.name == "P0")
        .expect("the P0 label");
    assert_eq!(p0.applied_by.as_deref(), Some("dana"));
    assert_eq!(p0.applied_at, Some(at(2)));
    let reviewers: Vec<&str> = gathered
        .facts
        .reviews
        .iter()
        .map(|r| r.user.as_str())
        .collect();
    assert_eq!(reviewers, ["alice"]);
    assert_eq!(gathered.facts.base_changed, BaseChange::Never);
}

/// A P0 alice approved at minute 30.
fn p0_approved() -> MemoryReads {
    let mut gh = p0();
    gh.timeline.reviews = vec![approval(1, "alice", 30)];
    gh.permissions.insert("alice".into(), "write".into());
    gh
}

#[tokio::test]
async fn a_retarget_after_an_approval_read_from_the_events_list_makes_it_stale() {
    let policy = policy();
    let mut gh = p0_approved();
    // GitHub documents `base_ref_changed` for the issue events list, not
    // the timeline.
    gh.events.base_changes = vec![event("base_ref_changed", "mallory", None, 40)];
    // erin, named nowhere, approved too.
    gh.timeline.reviews.push(approval(2, "erin", 31));
    let gathered = gather(&gh, &policy).await;

    assert_eq!(gh.calls_to("issue_events"), ["issue_events 7"]);
    // alice is named in every role acme/eng-leads fills: only her
    // membership of acme/on-call can add a role.
    assert_eq!(
        sorted(gh.calls_to("team_membership")),
        [
            "team_membership acme/eng-leads erin",
            "team_membership acme/on-call alice",
            "team_membership acme/on-call erin"
        ]
    );
    assert_eq!(gathered.facts.base_changed, BaseChange::At { at: at(40) });
    let verdict = rules::evaluate(&policy, &gathered.facts);
    assert!(
        verdict.notes.iter().any(|n| n
            == "@alice's review came before the base branch changed to `main` (2026-03-01 10:40 UTC): stale, approve again"),
        "{:#?}",
        verdict.notes
    );
}

#[tokio::test]
async fn a_cut_events_list_makes_every_approval_stale() {
    let policy = policy();
    let mut gh = p0_approved();
    gh.events.cut_after = Some(10_000);
    let gathered = gather(&gh, &policy).await;

    assert_eq!(gathered.facts.base_changed, BaseChange::Unknown);
    assert_eq!(gathered.cut, [CutList::Events { items: 10_000 }]);
    let verdict = rules::evaluate(&policy, &gathered.facts);
    assert!(
        verdict.notes.iter().any(|n| n
            == "@alice's review is stale — approve again: could not confirm it came after the latest change of the base branch (now `main`)"),
        "{:#?}",
        verdict.notes
    );
}

#[tokio::test]
async fn without_an_approval_no_retarget_is_read() {
    let policy = policy();
    let gh = p0();
    let gathered = gather(&gh, &policy).await;
    assert_eq!(gh.calls_to("issue_events"), Vec::<String>::new());
    // No approval command: the push time is not asked for.
    assert_eq!(gh.calls_to("head_pushed_at"), Vec::<String>::new());
    assert_eq!(gathered.facts.base_changed, BaseChange::Never);
}

#[tokio::test]
async fn the_release_tag_is_read_when_the_version_was_read() {
    let policy = policy();
    let mut gh = p0();
    // A tag at another commit: an earlier release of that version.
    gh.tags.insert("v1.2.4".into(), BASE_SHA.into());
    let gathered = gather(&gh, &policy).await;
    assert_eq!(
        sorted(gh.calls_to("read_file")),
        [
            format!("read_file VERSION {HEAD_SHA}"),
            format!("read_file VERSION {BASE_SHA}")
        ]
    );
    assert_eq!(gh.calls_to("tag_exists"), ["tag_exists v1.2.4"]);
    assert_eq!(gathered.facts.existing_tags, ["v1.2.4"]);

    // The hotfix's own release (tagged at its merge commit) is not an
    // earlier one.
    gh.tags.insert("v1.2.4".into(), MERGE_SHA.into());
    let gathered = gather(&gh, &policy).await;
    assert!(gathered.facts.existing_tags.is_empty());
}

#[tokio::test]
async fn no_version_at_the_head_means_no_tag_read() {
    let policy = policy();
    let mut gh = p0();
    gh.contents
        .remove(&("VERSION".to_string(), HEAD_SHA.to_string()));
    let gathered = gather(&gh, &policy).await;
    assert_eq!(gh.calls_to("read_file").len(), 2);
    assert_eq!(gh.calls_to("tag_exists"), Vec::<String>::new());
    assert!(gathered.facts.existing_tags.is_empty());
    assert_eq!(
        gathered
            .facts
            .files
            .get("VERSION")
            .map(|f| f.head.is_none()),
        Some(true)
    );
}

/// `POLICY` with its size check replaced by `check` (empty: none).
fn policy_checking(check: &str) -> Policy {
    crate::policy::parse(&POLICY.replace("  max_changed_files: 50\n", check))
        .expect("the test policy parses")
}

#[tokio::test]
async fn a_hotfix_whose_sizes_are_checked_reads_the_totals_its_answer_lacked() {
    for (check, reads) in [
        ("", 1),
        ("  max_changed_files: 50\n", 2),
        ("  max_changed_lines: 500\n", 2),
        ("  require_tests: [\"tests/**\"]\n", 2),
    ] {
        let gh = p0();
        gather(&gh, &policy_checking(check)).await;
        assert_eq!(gh.calls_to("get_pull").len(), reads, "{check:?}");
    }
}

#[tokio::test]
async fn who_closed_it_last_is_read_unless_the_events_list_was_cut() {
    let policy = policy();
    let mut gh = p0();
    gh.timeline.state_events = vec![
        event("closed", "erin", None, 10),
        event("reopened", "dana", None, 11),
        event("closed", "frank", None, 12),
        event("reopened", "dana", None, 13),
    ];
    let gathered = gather(&gh, &policy).await;
    assert_eq!(
        gathered.closed_by,
        Some(("frank".to_string(), Some(at(12))))
    );

    // The timeline cut and the events list too: a later close may be
    // past the cut.
    gh.timeline.cut_after = Some(10_000);
    gh.events.state_events = gh.timeline.state_events.clone();
    gh.events.cut_after = Some(10_000);
    let gathered = gather(&gh, &policy).await;
    assert_eq!(gathered.closed_by, None);
}

#[tokio::test]
async fn a_label_was_applied_by_whoever_added_it_last() {
    let policy = policy();
    let mut gh = p0();
    gh.timeline.label_events.extend([
        event("labeled", "frank", Some("p0"), 4),
        event("labeled", "mallory", Some("bug"), 5),
    ]);
    gh.permissions.insert("frank".into(), "write".into());
    let gathered = gather(&gh, &policy).await;
    let p0 = gathered
        .facts
        .labels
        .iter()
        .find(|l| l.name == "P0")
        .expect("the P0 label");
    assert_eq!(p0.applied_by.as_deref(), Some("frank"));
    assert_eq!(p0.applied_at, Some(at(4)));
}

fn comment(id: u64, login: &str, user_type: &str, body: &str, minute: i64) -> CommentInfo {
    CommentInfo {
        id,
        user: login.into(),
        user_type: user_type.into(),
        body: body.into(),
        created_at: Some(at(minute)),
        updated_at: None,
        html_url: None,
        via_app: None,
    }
}

#[tokio::test]
async fn approval_commands_are_kept_and_ask_when_the_head_was_pushed() {
    let policy = policy();
    let mut gh = p0();
    gh.pushed_at = Some(at(20));
    gh.timeline.comments = vec![
        comment(1, "erin", "User", "/hotfix approve", 30),
        comment(2, "deploy-bot", "Bot", " /hotfix approve\n", 31),
        comment(3, "frank", "User", "looks good", 32),
    ];
    let gathered = gather(&gh, &policy).await;
    let commands: Vec<(&str, bool)> = gathered
        .facts
        .comments
        .iter()
        .map(|c| (c.user.as_str(), c.not_a_person))
        .collect();
    assert_eq!(commands, [("erin", false), ("deploy-bot", true)]);
    assert_eq!(
        gh.calls_to("head_pushed_at"),
        [format!("head_pushed_at hotfix/login-loop {HEAD_SHA}")]
    );
    assert_eq!(gathered.facts.head_pushed_at, Some(at(20)));
    // Every comment is handed on (the sticky one is among them).
    assert_eq!(gathered.comments.len(), 3);
}

#[tokio::test]
async fn up_to_per_person_role_holders_are_read_one_by_one_those_named_in_a_role_first() {
    let policy = policy();
    let mut gh = p0();
    // Six approvals: alice (named in a role), four of the on-call team,
    // and ivy, whose access the designation read (she removed P2).
    let reviewers = ["alice", "erin", "frank", "gina", "hank", "ivy"];
    gh.timeline.reviews = reviewers
        .iter()
        .zip(10..)
        .map(|(login, minute)| approval(minute as u64, login, minute))
        .collect();
    gh.timeline.label_events.extend([
        event("labeled", "ivy", Some("P2"), 3),
        event("unlabeled", "ivy", Some("P2"), 4),
    ]);
    gh.teams.insert(
        "acme/on-call".into(),
        reviewers[1..5].iter().map(|l| l.to_string()).collect(),
    );
    for login in reviewers {
        gh.permissions.insert(login.into(), "write".into());
    }
    let gathered = gather(&gh, &policy).await;

    let calls = gh.calls();
    let position = |call: &str| {
        calls
            .iter()
            .position(|c| c == call)
            .unwrap_or_else(|| panic!("{call} not asked: {calls:#?}"))
    };
    // Five people whose access is unknown: alice's goes out with the
    // memberships (step 2), the team members' once the listing named
    // them (step 3, with the release tag); no listing of the writers.
    assert!(
        position("collaborator_permission alice") < position("tag_exists v1.2.4"),
        "{calls:#?}"
    );
    assert!(
        position("collaborator_permission erin") > position("list_team_members acme/on-call"),
        "{calls:#?}"
    );
    assert_eq!(gh.calls_to("list_writers"), Vec::<String>::new());
    assert_eq!(
        gh.calls_to("collaborator_permission").len(),
        7,
        "{calls:#?}"
    );
    assert!(
        gathered
            .facts
            .label_events
            .iter()
            .any(|e| e.actor == "ivy" && !e.added && e.label == "P2"),
        "{:#?}",
        gathered.facts.label_events
    );
    for login in reviewers {
        assert_eq!(
            gathered.facts.permissions.get(login),
            Some(&Permission::Write),
            "{login}"
        );
    }
}

#[tokio::test]
async fn exactly_per_person_role_holders_are_read_one_by_one() {
    let policy = policy();
    let mut gh = p0();
    // Six approvals, five of them from the on-call team.
    let reviewers = ["erin", "frank", "gina", "hank", "ivy", "mallory"];
    gh.timeline.reviews = reviewers
        .iter()
        .zip(10..)
        .map(|(login, minute)| approval(minute as u64, login, minute))
        .collect();
    gh.teams.insert(
        "acme/on-call".into(),
        reviewers[..5].iter().map(|l| l.to_string()).collect(),
    );
    gather(&gh, &policy).await;
    assert_eq!(gh.calls_to("list_writers"), Vec::<String>::new());
    assert_eq!(
        sorted(gh.calls_to("collaborator_permission")),
        ["dana", "erin", "frank", "gina", "hank", "ivy"]
            .map(|l| format!("collaborator_permission {l}"))
    );
}

#[tokio::test]
async fn the_later_of_the_activity_time_and_the_first_delivery_bounds_the_push() {
    use crate::rules::PushTimeSource::{FirstDelivery, RepositoryActivity};
    let mut gh = p0();
    gh.pushed_at = Some(at(20));
    let pull = gh.pull.clone();
    for (delivered, expected) in [
        (None, Some((at(20), RepositoryActivity))),
        (Some(at(15)), Some((at(20), RepositoryActivity))),
        (Some(at(20)), Some((at(20), RepositoryActivity))),
        (Some(at(25)), Some((at(25), FirstDelivery))),
    ] {
        let pushed = super::head_pushed_at(&gh, &pull, delivered)
            .await
            .expect("the push time");
        assert_eq!(pushed, expected, "{delivered:?}");
    }
}

#[tokio::test]
async fn exactly_per_person_deciders_are_looked_up_one_membership_at_a_time() {
    let policy = policy();
    let mut gh = p0();
    let reviewers = ["erin", "frank", "gina", "hank", "ivy"];
    gh.timeline.reviews = reviewers
        .iter()
        .zip(10..)
        .map(|(login, minute)| approval(minute as u64, login, minute))
        .collect();
    gather(&gh, &policy).await;
    assert_eq!(gh.calls_to("list_team_members"), Vec::<String>::new());
    // Five people, two teams.
    assert_eq!(gh.calls_to("team_membership").len(), 10);
}

#[tokio::test]
async fn a_timeline_that_kept_changing_is_read_like_a_cut_one_without_comment_approvals() {
    let policy = policy();
    let mut gh = p0();
    gh.timeline_kept_changing = true;
    gh.events.label_events = gh.timeline.label_events.clone();
    gh.events.base_changes = vec![event("base_ref_changed", "mallory", None, 40)];
    gh.reviews = (vec![approval(1, "alice", 30)], false);
    gh.permissions.insert("alice".into(), "write".into());
    // Listed in the comments list: the sticky comment's source, never an
    // approval.
    gh.comments = vec![comment(9, "oncall-olga", "User", "/hotfix approve", 31)];
    let gathered = gather(&gh, &policy).await;

    assert_eq!(gh.calls_to("issue_events"), ["issue_events 7"]);
    assert_eq!(gh.calls_to("list_reviews"), ["list_reviews 7"]);
    assert_eq!(
        gh.calls_to("list_issue_comments_unchecked"),
        ["list_issue_comments_unchecked 7"]
    );
    assert_eq!(gathered.cut, [CutList::TimelineUnsettled]);
    let p0 = gathered
        .facts
        .labels
        .iter()
        .find(|l| l.name == "P0")
        .expect("the P0 label");
    assert_eq!(p0.applied_by.as_deref(), Some("dana"));
    let reviewers: Vec<&str> = gathered
        .facts
        .reviews
        .iter()
        .map(|r| r.user.as_str())
        .collect();
    assert_eq!(reviewers, ["alice"]);
    assert!(gathered.facts.comments.is_empty(), "no comment approval");
    assert_eq!(gathered.comments.len(), 1, "the comments list is handed on");
    // Retargets from the events list already read.
    assert_eq!(gathered.facts.base_changed, BaseChange::At { at: at(40) });
}

#[tokio::test]
async fn a_timeline_and_an_events_list_that_both_kept_changing_fail_the_read() {
    let policy = policy();
    let mut gh = p0();
    gh.timeline_kept_changing = true;
    gh.events_kept_changing = true;
    let (pull, first) = first_reads(&gh, NUMBER).await.expect("first reads");
    let err = designation(&gh, &[&policy], &pull, first)
        .await
        .err()
        .expect("the events list kept changing too");
    assert!(err.is_list_kept_changing(), "{err}");
    assert!(err.is_transient(), "retried as before");
}
