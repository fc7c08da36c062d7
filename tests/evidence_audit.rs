//! `audit.direct_pushes`, end to end: a signed `push` delivery for the
//! production branch, the fake GitHub telling whether a pull request brought
//! the commits, and what the app wrote there (check run, incident issue).

use crate::common;

use axum::http::StatusCode;
use common::fake_github::{BOT_LOGIN, PullSeed};
use common::harness::{BASE_SHA, Harness, POLICY, POLICY_PATH, REPO};
use common::webhook::push_event;
use serde_json::{Value, json};

const C1: &str = "c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1";
const C2: &str = "c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2";

fn trunk_policy() -> String {
    POLICY
        .replace("workflow: git-flow", "workflow: trunk")
        .replace("  merge_back: true\n", "")
}

/// A real push delivery, rewritten to two commits by erin onto `branch`.
fn push_of_two(branch: &str, forced: bool) -> Value {
    let mut payload = push_event(
        REPO,
        &format!("refs/heads/{branch}"),
        &["src/session.rs"],
        1,
    );
    let commit = |id: &str, message: &str| {
        let mut c = payload["head_commit"].clone();
        c["id"] = json!(id);
        c["message"] = json!(message);
        c["url"] = json!(format!("https://github.com/{REPO}/commit/{id}"));
        c
    };
    let commits = json!([
        commit(C1, "fix: resolve memory leak in user session handling"),
        commit(C2, "fix: and the cache too\n\nlonger text"),
    ]);
    payload["head_commit"] = commits[1].clone();
    payload["commits"] = commits;
    payload["before"] = json!(BASE_SHA);
    payload["after"] = json!(C2);
    payload["forced"] = json!(forced);
    payload["sender"]["login"] = json!("erin");
    payload["pusher"] = json!({"name": "erin", "email": "erin@example.com"});
    payload
}

async fn trunk_repo() -> Harness {
    let h = Harness::start().await;
    let pull = PullSeed {
        number: 3,
        head_ref: "feature/x".into(),
        labels: vec![],
        ..h.p0()
    };
    h.seed(&trunk_policy(), &pull);
    h
}

fn incident_issues(h: &Harness) -> Vec<common::fake_github::IssueRec> {
    h.gh.issues(REPO)
        .into_iter()
        .filter(|i| i.user == BOT_LOGIN && i.labels.contains(&"incident".to_string()))
        .collect()
}

/// The run reports erin's direct push of `push_of_two` to `main`:
/// completed, `action_required`, its title and both commits named.
fn assert_reports_erins_push(run: &common::fake_github::CheckRunRec) {
    assert_eq!(run.status, "completed");
    assert_eq!(run.conclusion.as_deref(), Some("action_required"));
    assert_eq!(
        run.title.as_deref(),
        Some("Direct push to main by @erin: 2 commits, without a pull request")
    );
    let summary = run.summary.clone().unwrap_or_default();
    assert!(
        summary.contains("`c1c1c1c`") && summary.contains("`c2c2c2c`"),
        "{summary}"
    );
}

#[tokio::test]
async fn a_direct_push_of_two_commits_to_main_is_reported_once() {
    let h = trunk_repo().await;
    let payload = push_of_two("main", false);
    h.gh.clear_requests();
    assert_eq!(
        h.deliver_as("push", "push-1", &payload).await,
        StatusCode::ACCEPTED
    );
    h.settle().await;

    let first = h.gh.requests().len();
    let runs: Vec<_> =
        h.gh.check_runs(REPO, C2)
            .into_iter()
            .filter(|r| r.name == "hotfix-policy")
            .collect();
    assert_eq!(runs.len(), 1, "{runs:#?}");
    let run = &runs[0];
    assert_reports_erins_push(run);

    let issues = incident_issues(&h);
    assert_eq!(issues.len(), 1, "{issues:#?}");
    let issue = &issues[0];
    assert_eq!(issue.title, "Direct push to main");
    assert_eq!(issue.assignees, vec!["erin".to_string()]);
    let body = issue.body.clone().unwrap_or_default();
    assert!(
        body.contains("@erin pushed 2 commits straight to `main`"),
        "{body}"
    );
    assert!(body.contains("fix: resolve memory leak in user session handling"));
    assert!(body.contains("Run the automated test suite"));
    let details = run.details_url.clone().unwrap_or_default();
    assert!(
        details.ends_with(&format!("/{REPO}/issues/{}", issue.number)),
        "the check run links the issue: {details}"
    );

    // The same push again (GitHub's redelivery has the same id; an
    // operator's or another instance's may not): nothing new.
    h.gh.clear_requests();
    h.deliver_as("push", "push-1", &payload).await;
    h.deliver_as("push", "push-1-again", &payload).await;
    h.settle().await;
    println!(
        "direct push audit: {first} calls the first time, {} for the redelivery",
        h.gh.requests().len()
    );
    assert_eq!(incident_issues(&h).len(), 1);
    assert_eq!(h.gh.check_runs(REPO, C2).len(), 1);
    assert_eq!(h.gh.count("POST", "/issues"), 0, "no second issue");
    assert_eq!(h.gh.count("POST", "/check-runs"), 0, "no second check run");
    assert_eq!(h.gh.count("PATCH", "/check-runs"), 0);
}

#[tokio::test]
async fn a_merged_pull_request_is_not_a_direct_push_and_other_branches_are_not_audited() {
    let h = trunk_repo().await;
    h.gh.add_pull(
        REPO,
        PullSeed {
            number: 9,
            head_ref: "fix/leak".into(),
            head_sha: C1.into(),
            state: "closed".into(),
            merged: true,
            merge_commit_sha: Some(C2.into()),
            merged_by: Some("alice".into()),
            ..h.p0()
        },
    );
    h.deliver("push", &push_of_two("main", false)).await;
    h.deliver("push", &push_of_two("feature/y", false)).await;
    h.settle().await;
    assert!(incident_issues(&h).is_empty());
    assert!(h.gh.check_runs(REPO, C2).is_empty());
}

#[tokio::test]
async fn a_force_push_is_reported_even_after_a_merge_and_a_copied_marker_is_not_ours() {
    let h = trunk_repo().await;
    h.gh.add_pull(
        REPO,
        PullSeed {
            number: 9,
            head_sha: C1.into(),
            state: "closed".into(),
            merged: true,
            merge_commit_sha: Some(C2.into()),
            ..h.p0()
        },
    );
    // Someone opened an issue that carries the app's marker for this push.
    h.gh.add_issue_by(
        REPO,
        "mallory",
        "Direct push to main",
        &format!("<!-- hotfix-guard:direct-push {C2} -->\nnothing to see"),
        &["incident"],
    );
    h.deliver("push", &push_of_two("main", true)).await;
    h.settle().await;
    let issues = incident_issues(&h);
    assert_eq!(issues.len(), 1, "the app opened its own issue");
    assert_eq!(issues[0].title, "Force push to main");
    let run = h.check(C2);
    assert_eq!(run.conclusion.as_deref(), Some("action_required"));
    assert!(
        run.title
            .unwrap_or_default()
            .starts_with("Force push to main by @erin")
    );
}

#[tokio::test]
async fn a_push_that_switches_the_audit_off_is_still_audited() {
    let h = trunk_repo().await;
    // The push changes the policy on main to turn the audit off.
    let off = format!("{}audit: {{ direct_pushes: false }}\n", trunk_policy());
    h.gh.set_file(REPO, BASE_SHA, POLICY_PATH, &trunk_policy());
    h.gh.set_file(REPO, "main", POLICY_PATH, &off);
    let mut payload = push_of_two("main", false);
    payload["head_commit"]["modified"] = json!([POLICY_PATH]);
    payload["commits"][1]["modified"] = json!([POLICY_PATH]);
    h.deliver("push", &payload).await;
    h.settle().await;
    assert_eq!(incident_issues(&h).len(), 1);
}

#[tokio::test]
async fn git_flow_does_not_audit_by_default() {
    let h = Harness::start().await;
    let pull = h.p0();
    h.seed(POLICY, &pull);
    h.deliver("push", &push_of_two("main", false)).await;
    h.settle().await;
    assert!(incident_issues(&h).is_empty());
    assert_eq!(h.gh.count("GET", "/pulls"), 0, "no lookup at all");
}

#[tokio::test]
async fn a_pusher_github_will_not_assign_still_gets_the_report() {
    let h = trunk_repo().await;
    // GitHub's answer for an assignee it refuses (a bot account, say).
    h.gh.fail_next_with_body(
        "POST",
        "/issues",
        422,
        vec![],
        json!({
            "message": "Validation Failed",
            "errors": [{"value": "erin", "resource": "Issue", "field": "assignees", "code": "invalid"}],
            "documentation_url": "https://docs.github.com/rest/issues/issues#create-an-issue",
        }),
        1,
    );
    h.deliver("push", &push_of_two("main", false)).await;
    h.settle().await;
    let issues = incident_issues(&h);
    assert_eq!(issues.len(), 1);
    assert!(issues[0].assignees.is_empty());
    assert!(
        issues[0]
            .body
            .clone()
            .unwrap_or_default()
            .contains("@erin pushed")
    );
    assert_eq!(h.check(C2).conclusion.as_deref(), Some("action_required"));
}

/// A commit that already carries a `success` run of the app (a pull
/// request's head, evaluated and passing) pushed straight to `main`: the
/// same run turns `action_required`, every field the audit writes on it
/// (a commit's green run must not survive its direct push, or branch
/// protection on a later pull request of the same commit would take it).
#[tokio::test]
async fn a_direct_push_of_a_commit_with_a_passing_run_turns_that_run_action_required() {
    let h = trunk_repo().await;
    let id = h.gh.add_check_run(
        REPO,
        common::fake_github::CheckRunSeed {
            head_sha: C2.to_string(),
            conclusion: Some("success".into()),
            title: Some("Hotfix policy satisfied".into()),
            ..Default::default()
        },
    );
    let payload = push_of_two("main", false);
    assert_eq!(
        h.deliver_as("push", "push-green", &payload).await,
        StatusCode::ACCEPTED
    );
    h.settle().await;

    let runs = h.gh.check_runs(REPO, C2);
    assert_eq!(runs.len(), 1, "the run is updated, not doubled: {runs:#?}");
    let run = &runs[0];
    assert_eq!(run.id, id);
    assert_reports_erins_push(run);
    let issues = incident_issues(&h);
    assert_eq!(issues.len(), 1, "{issues:#?}");
    let details = run.details_url.clone().unwrap_or_default();
    assert!(
        details.ends_with(&format!("/{REPO}/issues/{}", issues[0].number)),
        "the run links the issue: {details}"
    );
    // The seeded run completed when it started; the audit's time is later.
    assert_ne!(
        run.completed_at, run.started_at,
        "completed_at is the audit's, not the passing run's"
    );
}
