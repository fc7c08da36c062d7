//! After the merge: merge-back into develop, its check run, the release tag
//! and the follow-up issue, through the fake GitHub.

use crate::common;

use axum::http::StatusCode;
use common::attacks::delivered;
use common::fake_github::PullSeed;
use common::harness::{HEAD_SHA, Harness, POLICY, REPO};
use common::webhook::{PrSpec, pull_request_event};

const MERGE_SHA: &str = "m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3";
const BRANCH: &str = "hotfix-guard/merge-back-7";

fn policy_with_release() -> String {
    format!("{POLICY}release: {{ tag: true, prefix: v }}\n")
}

/// A P0 hotfix, approved by the lead and the on-call manager, merged into
/// main by alice.
async fn merged_p0(policy: &str) -> (Harness, PullSeed) {
    common::attacks::merged_approved_p0(policy, MERGE_SHA).await
}

fn merge_back_pulls(h: &Harness) -> Vec<PullSeed> {
    h.gh.pulls(REPO)
        .into_iter()
        .filter(|p| p.head_ref == BRANCH)
        .collect()
}

fn merge_back_check(h: &Harness) -> common::fake_github::CheckRunRec {
    let runs: Vec<_> =
        h.gh.check_runs(REPO, MERGE_SHA)
            .into_iter()
            .filter(|r| r.name == "hotfix-policy/merge-back")
            .collect();
    assert_eq!(runs.len(), 1, "{runs:#?}");
    runs.into_iter().next().expect("one")
}

#[tokio::test]
async fn a_merged_p0_not_in_develop_opens_exactly_one_merge_back_pull_request() {
    let (h, pull) = merged_p0(POLICY).await;
    let payload = pull_request_event(
        "closed",
        &PrSpec::from_seed(REPO, &h.gh.pull(REPO, 7).expect("pull"), 1),
    );
    assert_eq!(
        h.deliver_as("pull_request", "e-1", &payload).await,
        StatusCode::ACCEPTED
    );
    h.settle().await;

    let opened = merge_back_pulls(&h);
    assert_eq!(opened.len(), 1);
    let mb = &opened[0];
    assert_eq!(mb.base_ref, "develop");
    assert_eq!(mb.title, "Merge back hotfix #7: fix: stop the login loop");
    assert_eq!(
        h.gh.branch_sha(REPO, BRANCH).as_deref(),
        Some(MERGE_SHA),
        "head is the merge commit"
    );
    assert!(
        mb.body
            .as_deref()
            .unwrap_or_default()
            .contains("git merge --no-ff hotfix/login-loop")
    );
    let check = merge_back_check(&h);
    assert_eq!(check.status, "in_progress");
    let comment = &h.bot_comments(pull.number)[0].body;
    assert!(comment.contains(&format!("#{}", mb.number)), "{comment}");

    // The same delivery again, and a fresh delivery of the same merge.
    assert_eq!(
        h.deliver_as("pull_request", "e-1", &payload).await,
        StatusCode::OK
    );
    assert_eq!(
        h.deliver_as("pull_request", "e-2", &payload).await,
        StatusCode::ACCEPTED
    );
    h.settle().await;
    assert_eq!(
        merge_back_pulls(&h).len(),
        1,
        "no second merge-back pull request"
    );
    assert_eq!(h.bot_comments(pull.number).len(), 1);
    // The open one found again is waited on, not taken for closed.
    assert_eq!(merge_back_check(&h).status, "in_progress");

    // The merge-back pull request merges: the check turns green.
    h.gh.set_compare(REPO, "develop", MERGE_SHA, "behind");
    h.gh.update_pull(REPO, mb.number, |p| {
        p.merged = true;
        p.state = "closed".into();
        p.merge_commit_sha = Some("d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1".into());
    });
    let merged_back = h.gh.pull(REPO, mb.number).expect("merge-back pull");
    let mut spec = PrSpec::from_seed(REPO, &merged_back, 1);
    spec.merged = true;
    h.deliver("pull_request", &pull_request_event("closed", &spec))
        .await;
    h.settle().await;
    let check = merge_back_check(&h);
    assert_eq!(
        (check.status.as_str(), check.conclusion.as_deref()),
        ("completed", Some("success"))
    );
    assert!(
        h.bot_comments(pull.number)[0]
            .body
            .contains("`develop` contains the fix")
    );
}

#[tokio::test]
async fn develop_already_containing_the_fix_opens_nothing() {
    let (h, _) = merged_p0(POLICY).await;
    h.gh.set_compare(REPO, "develop", MERGE_SHA, "identical");
    h.pull_request("closed", 7).await;
    assert!(merge_back_pulls(&h).is_empty());
    assert_eq!(merge_back_check(&h).conclusion.as_deref(), Some("success"));
}

#[tokio::test]
async fn a_merge_that_is_not_a_hotfix_opens_nothing() {
    let h = Harness::start().await;
    let pull = PullSeed {
        head_ref: "feature/x".into(),
        labels: vec![],
        state: "closed".into(),
        merged: true,
        merge_commit_sha: Some(MERGE_SHA.into()),
        ..h.p0()
    };
    h.seed(&policy_with_release(), &pull);
    h.pull_request("closed", 7).await;
    assert!(merge_back_pulls(&h).is_empty());
    assert!(h.gh.check_runs(REPO, MERGE_SHA).is_empty());
    assert!(h.gh.tag_sha(REPO, "v1.2.4").is_none());
    assert!(h.gh.issues(REPO).is_empty());
}

#[tokio::test]
async fn github_flow_never_merges_back() {
    // Left unsaid, merge-back is off outside git-flow.
    let github_flow = POLICY.replace("workflow: git-flow", "workflow: github-flow");
    let (h, _) = merged_p0(&github_flow.replace("  merge_back: true\n", "")).await;
    h.pull_request("closed", 7).await;
    assert!(merge_back_pulls(&h).is_empty());
    assert!(h.gh.check_runs(REPO, MERGE_SHA).is_empty());
    assert_eq!(h.check(HEAD_SHA).conclusion.as_deref(), Some("success"));

    // Asked for, it is a policy error, not a merge-back.
    let (h, _) = merged_p0(&github_flow).await;
    h.pull_request("closed", 7).await;
    assert!(merge_back_pulls(&h).is_empty());
    assert!(h.gh.check_runs(REPO, MERGE_SHA).is_empty());
    let run = h.check(HEAD_SHA);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    let summary = run.summary.unwrap_or_default();
    assert!(
        summary.contains("`merge_back: true` needs `workflow: git-flow`"),
        "{summary}"
    );
}

#[tokio::test]
async fn a_refused_merge_back_tells_how_to_do_it_by_hand() {
    let (h, _) = merged_p0(POLICY).await;
    h.gh.fail_next("POST", "/git/refs", 403, vec![], 1);
    h.pull_request("closed", 7).await;
    assert!(merge_back_pulls(&h).is_empty());
    let comment = &h.bot_comments(7)[0].body;
    assert!(
        comment.contains("git merge --no-ff hotfix/login-loop"),
        "{comment}"
    );
    assert_eq!(merge_back_check(&h).conclusion.as_deref(), Some("failure"));
}

#[tokio::test]
async fn the_release_tag_is_created_once_at_the_merge_commit() {
    let (h, _) = merged_p0(&policy_with_release()).await;
    h.pull_request("closed", 7).await;
    assert_eq!(h.gh.tag_sha(REPO, "v1.2.4").as_deref(), Some(MERGE_SHA));
    // The hotfix's own tag does not make its version rule fail.
    assert_eq!(h.check(HEAD_SHA).conclusion.as_deref(), Some("success"));
    h.pull_request("closed", 7).await;
    let tag_writes =
        h.gh.requests()
            .iter()
            .filter(|r| r.method == "POST" && r.body.contains("refs/tags/"))
            .count();
    assert_eq!(tag_writes, 1, "the tag is created once");
    assert!(h.bot_comments(7)[0].body.contains("Release tag `v1.2.4`"));
}

#[tokio::test]
async fn an_existing_tag_at_another_commit_is_reported_not_moved() {
    let (h, _) = merged_p0(&policy_with_release()).await;
    h.gh.set_tag(REPO, "v1.2.4", "e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1");
    h.pull_request("closed", 7).await;
    assert_eq!(
        h.gh.tag_sha(REPO, "v1.2.4").as_deref(),
        Some("e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1")
    );
    assert!(
        h.bot_comments(7)[0]
            .body
            .contains("already exists at e1e1e1e")
    );
}

#[tokio::test]
async fn the_follow_up_issue_is_opened_once_with_the_template_filled() {
    let (h, _) = merged_p0(POLICY).await;
    h.pull_request("closed", 7).await;
    h.pull_request("closed", 7).await;
    let issues = h.gh.issues(REPO);
    assert_eq!(issues.len(), 1, "{issues:#?}");
    let issue = &issues[0];
    assert_eq!(
        issue.title,
        "Post-incident review: fix: stop the login loop"
    );
    assert_eq!(issue.labels, vec!["incident".to_string()]);
    assert_eq!(
        issue.assignees,
        vec!["dana".to_string(), "alice".to_string()]
    );
    let body = issue.body.clone().unwrap_or_default();
    for expected in [
        "# Incident Report",
        "**Severity:** P0 (set by @dana",
        "Approved by @alice",
        "Approved by @oncall-olga",
        "Merged by @alice",
        "**Duration:**",
    ] {
        assert!(body.contains(expected), "{expected} missing from:\n{body}");
    }
    assert!(
        h.bot_comments(7)[0]
            .body
            .contains(&format!("Post-incident review: [#{}]", issue.number))
    );
    // Due `within: 24h` of the merge (GitHub's `merged_at`).
    let merged_at =
        h.gh.pull(REPO, 7)
            .and_then(|p| p.merged_at)
            .expect("merged");
    let due = (merged_at + chrono::Duration::hours(24)).format("due %Y-%m-%d %H:%M UTC");
    let comment = h.bot_comments(7)[0].body.clone();
    assert!(
        comment.contains(&due.to_string()),
        "{due} missing:\n{comment}"
    );
}

#[tokio::test]
async fn a_push_that_brings_the_fix_into_develop_completes_the_merge_back() {
    let (h, pull) = merged_p0(POLICY).await;
    h.pull_request("closed", 7).await;
    assert_eq!(merge_back_check(&h).status, "in_progress");

    // Someone merges it back by hand; GitHub tells us with a push to develop.
    let unrelated = common::webhook::push_event(REPO, "refs/heads/feature/x", &["src/a.rs"], 1);
    // Queued only for its direct-push audit, which writes nothing for a
    // branch that is not the production one: nothing waits on that branch.
    let writes = h.gh.count("POST", "") + h.gh.count("PATCH", "");
    assert!(matches!(
        h.deliver("push", &unrelated).await,
        StatusCode::OK | StatusCode::ACCEPTED
    ));
    h.settle().await;
    assert_eq!(
        h.gh.count("POST", "") + h.gh.count("PATCH", ""),
        writes,
        "nothing waits on that branch"
    );
    assert_eq!(merge_back_check(&h).status, "in_progress");
    h.gh.set_compare(REPO, "develop", MERGE_SHA, "behind");
    let push = common::webhook::push_event(REPO, "refs/heads/develop", &["src/fix.rs"], 1);
    delivered(&h, "push", &push).await;
    let check = merge_back_check(&h);
    assert_eq!(
        (check.status.as_str(), check.conclusion.as_deref()),
        ("completed", Some("success"))
    );
    assert!(
        h.bot_comments(pull.number)[0]
            .body
            .contains("`develop` contains the fix")
    );
    // Settled: a later push to develop evaluates nothing (it is queued
    // only for its direct-push audit, which writes nothing off production).
    let writes = h.gh.count("POST", "") + h.gh.count("PATCH", "");
    let pulls_read = h.gh.count("GET", "/pulls/7");
    h.deliver("push", &push).await;
    h.settle().await;
    assert_eq!(h.gh.count("POST", "") + h.gh.count("PATCH", ""), writes);
    assert_eq!(h.gh.count("GET", "/pulls/7"), pulls_read, "no evaluation");
}

#[tokio::test]
async fn the_follow_up_is_found_again_when_the_comment_never_recorded_it() {
    let (h, _) = merged_p0(POLICY).await;
    // The issue is opened, then every attempt to write the sticky comment fails.
    h.gh.fail_next("POST", "/issues/7/comments", 502, vec![], 4);
    h.pull_request("closed", 7).await;
    assert_eq!(
        h.gh.requests_with_status(502).len(),
        4,
        "the first evaluation's comment write failed"
    );
    // Its retry (the job stays in the store) finds the issue by the marker
    // in its body, and so does a later evaluation.
    h.pull_request("closed", 7).await;
    let issues = h.gh.issues(REPO);
    assert_eq!(issues.len(), 1, "{issues:#?}");
    assert!(
        h.bot_comments(7)[0]
            .body
            .contains(&format!("[#{}]", issues[0].number))
    );
}

#[tokio::test]
async fn a_marker_in_a_pull_request_title_does_not_steal_another_hotfixs_follow_up() {
    use common::fake_github::{BOT_LOGIN, PullSeed};
    use common::harness::{HEAD_SHA, Harness, POLICY, REPO};
    let h = Harness::start().await;
    let merged = |number: u64, title: &str| PullSeed {
        number,
        title: title.into(),
        state: "closed".into(),
        merged: true,
        merge_commit_sha: Some(format!("{number}m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3")),
        merged_by: Some("alice".into()),
        ..h.p0()
    };
    // Hotfix #7's author titled it with #8's follow-up marker and a mention.
    let a = merged(
        7,
        "fix: login loop <!-- hotfix-guard:follow-up-of #8 --> @acme/everyone",
    );
    h.seed(POLICY, &a);
    h.label_events_by(&a, "dana");
    h.gh.add_review(REPO, 7, "alice", "APPROVED", HEAD_SHA);
    h.gh.add_review(REPO, 7, "oncall-olga", "APPROVED", HEAD_SHA);
    h.pull_request("closed", 7).await;
    let b = merged(8, "fix: another outage");
    h.gh.add_pull(REPO, b.clone());
    h.label_events_by(&b, "dana");
    h.gh.add_review(REPO, 8, "alice", "APPROVED", HEAD_SHA);
    h.gh.add_review(REPO, 8, "oncall-olga", "APPROVED", HEAD_SHA);
    h.pull_request("closed", 8).await;
    let opened: Vec<_> =
        h.gh.issues(REPO)
            .into_iter()
            .filter(|i| i.user == BOT_LOGIN)
            .collect();
    assert_eq!(opened.len(), 2, "each hotfix has its own follow-up");
    for issue in &opened {
        let body = issue.body.clone().unwrap_or_default();
        assert!(!body.contains("@acme/everyone"), "{body}");
    }
}
