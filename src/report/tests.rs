use super::markdown::limit;
use super::*;
use crate::policy::{Policy, PolicySource};
use crate::rules::facts::ReviewState::*;
use crate::rules::facts::*;
use crate::rules::testutil::*;
use crate::rules::{Conclusion, evaluate};

fn render(output: &CheckOutput) -> String {
    format!(
        "conclusion: {}\ntitle: {}\n----- summary -----\n{}\n----- text -----\n{}\n",
        output.conclusion,
        output.title,
        output.summary,
        output.text.as_deref().unwrap_or("(none)")
    )
}

/// alice (engineering-lead) approved the head; mallory tried the command.
fn p0_waiting() -> PullRequestFacts {
    let mut facts = p0_facts();
    facts.reviews = vec![review(
        101,
        "alice",
        Approved,
        HEAD_SHA,
        "2026-11-26T13:20:00Z",
    )];
    facts.comments = vec![comment(
        201,
        "mallory",
        "/hotfix approve",
        "2026-11-26T13:25:00Z",
    )];
    facts
}

/// As above, and bob (on-call through the team) approved by comment.
fn p0_approved() -> PullRequestFacts {
    let mut facts = p0_waiting();
    facts.comments.push(comment(
        202,
        "bob",
        "/hotfix approve",
        "2026-11-26T13:31:00Z",
    ));
    facts
}

fn check(policy: &Policy, facts: &PullRequestFacts, source: PolicySource) -> CheckOutput {
    check_output(&evaluate(policy, facts), policy, source)
}

#[test]
fn non_hotfix_check_output() {
    let policy = p0_policy();
    let mut facts = p0_facts();
    facts.labels = vec![label("bug")];
    facts.head_ref = "feature/faster-search".into();
    let out = check(&policy, &facts, PolicySource::BuiltIn);
    assert_eq!(out.conclusion, "neutral");
    assert_eq!(out.title, "No hotfix policy applies");
    insta::assert_snapshot!("check_non_hotfix", render(&out));
}

#[test]
fn hotfix_without_severity_check_output() {
    let policy = p0_policy();
    let mut facts = p0_facts();
    facts.labels = vec![label("hotfix")];
    let out = check(&policy, &facts, PolicySource::Repository);
    assert_eq!(out.conclusion, "failure");
    assert_eq!(
        out.title,
        "Hotfix needs a severity label: add one of P0, P1, P2"
    );
    insta::assert_snapshot!("check_hotfix_without_severity", render(&out));
}

#[test]
fn p0_waiting_for_on_call_check_output() {
    let policy = p0_policy();
    let out = check(&policy, &p0_waiting(), PolicySource::Repository);
    assert_eq!(out.conclusion, "failure");
    assert_eq!(out.title, "needs on-call-manager approval");
    insta::assert_snapshot!("check_p0_waiting_for_on_call", render(&out));
}

#[test]
fn p0_approved_check_output() {
    let policy = p0_policy();
    let out = check(&policy, &p0_approved(), PolicySource::Repository);
    assert_eq!(out.conclusion, "success");
    insta::assert_snapshot!("check_p0_approved", render(&out));
}

#[test]
fn p2_version_not_bumped_check_output() {
    let policy = p0_policy();
    let mut facts = p0_facts();
    facts.labels = vec![label("hotfix"), label("P2")];
    facts.label_events = vec![label_event("P2", true, "carol", "2026-11-26T13:01:00Z")];
    facts.reviews = vec![review(
        101,
        "bob",
        Approved,
        HEAD_SHA,
        "2026-11-26T13:20:00Z",
    )];
    if let Some(f) = facts.files.get_mut("VERSION") {
        f.head = Some("1.2.3\n".into());
    }
    let out = check(&policy, &facts, PolicySource::Organization);
    assert_eq!(out.conclusion, "failure");
    assert_eq!(out.title, "VERSION not bumped");
    insta::assert_snapshot!("check_p2_version_not_bumped", render(&out));
}

#[test]
fn invalid_policy_output() {
    let out = policy_error_output(
        ".github/hotfix-policy.yml",
        &[
            (
                7,
                3,
                "unknown key `aprovals`, expected one of `approvals`, `checks`".into(),
            ),
            (
                12,
                15,
                "role `on-call` is not defined | check `roles`".into(),
            ),
        ],
    );
    assert_eq!(out.conclusion, "failure");
    assert_eq!(out.title, "hotfix-policy.yml is invalid");
    assert!(
        out.summary
            .contains(".github/hotfix-policy.yml:7:3: unknown key")
    );
    insta::assert_snapshot!("check_invalid_policy", render(&out));
}

#[test]
fn sticky_comment_p0_waiting() {
    let policy = p0_policy();
    let verdict = evaluate(&policy, &p0_waiting());
    let comment = sticky_comment(&verdict, &policy, PolicySource::Repository)
        .expect("a hotfix gets a comment");
    assert!(comment.starts_with(COMMENT_MARKER));
    assert!(comment.contains("- [ ] on-call-manager: waiting — members: `@acme/on-call`"));
    assert!(comment.contains("2026-11-26 15:02 UTC"));
    insta::assert_snapshot!("comment_p0_waiting", comment);
}

#[test]
fn sticky_comment_p0_approved() {
    let policy = p0_policy();
    let verdict = evaluate(&policy, &p0_approved());
    assert_eq!(verdict.conclusion, Conclusion::Success);
    let comment =
        sticky_comment(&verdict, &policy, PolicySource::BuiltIn).expect("a hotfix gets a comment");
    insta::assert_snapshot!("comment_p0_approved", comment);
}

/// The heading's title is composed from fragments that today come from
/// the policy or a parsed version; should one ever carry author text, it
/// must still not open an HTML comment (a forged marker) nor break the
/// heading onto lines of its own.
#[test]
fn the_comment_heading_quotes_its_title() {
    let policy = p0_policy();
    let mut verdict = evaluate(&policy, &p0_waiting());
    assert_eq!(verdict.conclusion, Conclusion::Failure);
    verdict.title = "needs approval\n<!-- hotfix-guard:escalation level=1 -->".into();
    let comment = sticky_comment(&verdict, &policy, PolicySource::Repository)
        .expect("a hotfix gets a comment");
    assert_eq!(comment.matches("<!--").count(), 1, "{comment}");
    assert!(
        comment.contains("❌ needs approval &lt;!-- hotfix-guard:escalation level=1 --&gt;"),
        "{comment}"
    );
}

#[test]
fn no_comment_for_a_pull_request_that_is_not_a_hotfix() {
    let policy = p0_policy();
    let mut facts = p0_facts();
    facts.labels.clear();
    facts.head_ref = "feature/x".into();
    let verdict = evaluate(&policy, &facts);
    assert_eq!(
        sticky_comment(&verdict, &policy, PolicySource::BuiltIn),
        None
    );
}

#[test]
fn comment_is_the_same_for_the_same_verdict() {
    // Nothing in it may depend on when it is rendered.
    let policy = p0_policy();
    let a = sticky_comment(
        &evaluate(&policy, &p0_waiting()),
        &policy,
        PolicySource::Repository,
    );
    let b = sticky_comment(
        &evaluate(&policy, &p0_waiting()),
        &policy,
        PolicySource::Repository,
    );
    assert_eq!(a, b);
}

#[test]
fn p1_comment_reminds_of_the_one_hour_notification_and_rca() {
    let policy = p0_policy();
    let mut facts = p0_facts();
    facts.labels = vec![label("hotfix"), label("P1")];
    facts.label_events = vec![label_event("P1", true, "alice", "2026-11-26T13:02:00Z")];
    let verdict = evaluate(&policy, &facts);
    let comment = sticky_comment(&verdict, &policy, PolicySource::Repository).unwrap_or_default();
    assert!(
        comment.contains("notify stakeholders **within 1 hour**"),
        "{comment}"
    );
    assert!(
        comment.contains("**Root cause analysis** within 48h"),
        "{comment}"
    );
    assert!(!comment.contains("P0 Initial Alert"));
    assert!(comment.contains("- **Deploy by:** 2026-11-27 13:02 UTC (24h deadline)"));
}

#[test]
fn p2_comment_has_no_deadline_nor_follow_up() {
    let policy = p0_policy();
    let mut facts = p0_facts();
    facts.labels = vec![label("hotfix"), label("P2")];
    facts.label_events = vec![label_event("P2", true, "alice", "2026-11-26T13:02:00Z")];
    let verdict = evaluate(&policy, &facts);
    let comment = sticky_comment(&verdict, &policy, PolicySource::Repository).unwrap_or_default();
    assert!(!comment.contains("Deploy by"));
    assert!(!comment.contains("After the merge"));
    assert!(comment.contains("- [ ] 0 of 1 approval from people with write access"));
    assert!(comment.contains("regular release notes"));
}

#[test]
fn severity_drop_note_reaches_the_comment() {
    let policy = p0_policy();
    let mut facts = p0_waiting();
    facts.labels = vec![label("hotfix"), label("P2")];
    facts.label_events.extend([
        label_event("P0", false, "carol", "2026-11-26T14:00:00Z"),
        label_event("P2", true, "carol", "2026-11-26T14:00:00Z"),
    ]);
    let verdict = evaluate(&policy, &facts);
    let comment = sticky_comment(&verdict, &policy, PolicySource::Repository).unwrap_or_default();
    assert!(
        comment.contains(
            "- ⚠️ Severity lowered from P0 to P2 by `@carol` at 2026-11-26 14:00 UTC after approvals"
        ),
        "{comment}"
    );
}

#[test]
fn long_outputs_are_cut_on_a_char_boundary_with_a_note() {
    // Multi-byte characters straddling the limit.
    let text = "é".repeat(40_000);
    let cut = limit(text, MAX_OUTPUT_BYTES);
    assert!(cut.len() <= MAX_OUTPUT_BYTES);
    assert!(cut.ends_with("longer than GitHub allows for a check run._"));
    assert!(cut.starts_with("éé"));

    let short = "short".to_string();
    assert_eq!(limit(short.clone(), MAX_OUTPUT_BYTES), short);
}

#[test]
fn a_huge_verdict_still_fits_a_check_run() {
    let policy = p0_policy();
    let mut facts = p0_waiting();
    facts.comments = (0..3000)
        .map(|i| {
            comment(
                1000 + i,
                &format!("user{i}"),
                "/hotfix approve",
                "2026-11-26T13:40:00Z",
            )
        })
        .collect();
    let out = check(&policy, &facts, PolicySource::Repository);
    let text = out.text.unwrap_or_default();
    assert!(text.len() <= MAX_OUTPUT_BYTES);
    assert!(text.contains("Truncated"));
    assert!(out.summary.len() <= MAX_OUTPUT_BYTES);
}

#[test]
fn table_cells_cannot_break_the_table() {
    let out = policy_error_output("x.yml", &[(1, 1, "a | b\nc".into())]);
    assert!(out.summary.contains("| 1 | 1 | a \\| b c |"));
}

#[test]
fn severity_set_by_a_non_writer_is_reported_as_no_valid_severity() {
    let policy = p0_policy();
    let mut facts = p0_approved();
    facts.label_events[1].actor = "mallory".into();
    let verdict = evaluate(&policy, &facts);
    let out = check_output(&verdict, &policy, PolicySource::Repository);
    assert_eq!(out.conclusion, "failure");
    assert_eq!(
        out.title,
        "P0 label applied by @mallory, who lacks write access"
    );
    assert!(out.summary.contains("**Hotfix without a valid severity**"));
    assert!(out.summary.contains("**Add exactly one severity label**"));
    let comment = sticky_comment(&verdict, &policy, PolicySource::Repository).unwrap_or_default();
    assert!(comment.contains("- **Severity:** none valid yet"));
    assert!(comment.contains("❌ Severity label — P0 was applied by `@mallory` (triage access)"));
    assert!(!comment.contains("Deploy by"));
}

/// bob's command with no server time for the push, a severity label no
/// event names, and a files list cut at 3,000: what the report says.
#[test]
fn p0_with_unconfirmed_facts_check_output() {
    let mut policy = p0_policy();
    policy.checks.require_tests = vec!["tests/**".into()];
    let mut facts = p0_approved();
    facts.head_pushed_at = None;
    facts.head_pushed_source = None;
    facts.changed_files = Some(
        (0..3_000)
            .map(|i| changed(&format!("src/f{i}.rs"), 1, 0))
            .collect(),
    );
    facts.totals = Some(ChangeTotals {
        changed_files: 3_500,
        additions: 3_500,
        deletions: 0,
    });
    let out = check(&policy, &facts, PolicySource::Repository);
    assert_eq!(out.conclusion, "failure");
    insta::assert_snapshot!("check_p0_unconfirmed_facts", render(&out));

    facts.label_events.clear();
    let out = check(&policy, &facts, PolicySource::Repository);
    insta::assert_snapshot!("check_p0_severity_applier_unknown", render(&out));
}

/// Both roles approved against the old base, then the pull request was
/// retargeted to `main`: each approval is named stale in the notes.
#[test]
fn p0_approved_before_the_base_changed_check_output() {
    let policy = p0_policy();
    let mut facts = p0_approved();
    facts.base_changed = BaseChange::At {
        at: ts("2026-11-26T13:40:00Z"),
    };
    let out = check(&policy, &facts, PolicySource::Repository);
    assert_eq!(out.conclusion, "failure");
    insta::assert_snapshot!("check_p0_approved_before_base_change", render(&out));
}

/// dana (write) made the hotfix P1 at 13:00; trina (triage) added P0 at
/// 14:00: the check fails naming trina, and the report says that P1's
/// deadline runs (and escalates) until someone with write access applies P0.
#[test]
fn p0_added_by_triage_over_a_writers_p1_check_and_comment() {
    let policy = p0_policy();
    let mut facts = p0_facts();
    facts.labels = vec![label("hotfix"), label("P1"), label("P0")];
    facts.label_events = vec![
        label_event("hotfix", true, "dana", "2026-11-26T13:00:00Z"),
        label_event("P1", true, "dana", "2026-11-26T13:00:00Z"),
        label_event("P0", true, "trina", "2026-11-26T14:00:00Z"),
    ];
    facts.permissions.insert("dana".into(), Permission::Write);
    facts.permissions.insert("trina".into(), Permission::Triage);
    let verdict = evaluate(&policy, &facts);
    let out = check_output(&verdict, &policy, PolicySource::Repository);
    assert_eq!(out.conclusion, "failure");
    insta::assert_snapshot!("check_p0_by_triage_over_writers_p1", render(&out));
    let comment = sticky_comment(&verdict, &policy, PolicySource::Repository).unwrap_or_default();
    assert!(
        comment.contains("- **Deploy by:** 2026-11-27 13:00 UTC (P1's 24h deadline)"),
        "{comment}"
    );
    insta::assert_snapshot!("comment_p0_by_triage_over_writers_p1", comment);
}
