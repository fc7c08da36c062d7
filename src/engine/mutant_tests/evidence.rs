//! `engine::evidence::gather` against the in-memory GitHub: what it reads
//! for the evidence a policy asks, what it keeps (never the app's own check
//! runs), and how a refusal becomes an "unreadable" fact while an outage
//! stays an error.

use super::{HEAD_SHA, pull};
use crate::engine::evidence::gather;
use crate::engine::reads::memory::MemoryReads;
use crate::github::{CommitCheckRun, CommitStatus, DeploymentInfo};
use crate::policy::{AllowedConclusions, Evidence, RequiredCheck, RequiredDeployment};

fn required(checks: &[&str], environment: Option<&str>) -> Evidence {
    Evidence {
        checks: checks
            .iter()
            .map(|name| RequiredCheck {
                name: (*name).into(),
                app: None,
                allow: AllowedConclusions {
                    neutral: false,
                    skipped: false,
                },
            })
            .collect(),
        deployment: environment.map(|e| RequiredDeployment {
            environment: e.into(),
        }),
    }
}

fn run(name: &str, app_id: u64) -> CommitCheckRun {
    CommitCheckRun {
        id: app_id * 10,
        name: name.into(),
        status: "completed".into(),
        conclusion: Some("success".into()),
        app_id: Some(app_id),
        app_slug: Some(format!("app-{app_id}")),
        html_url: None,
    }
}

fn github() -> MemoryReads {
    let mut github = MemoryReads::new(pull());
    // App 1 is this app (`own_app_id`): its own `test` run is no evidence.
    github
        .check_runs
        .insert("test".into(), (vec![run("test", 1), run("test", 2)], true));
    github.statuses = vec![CommitStatus {
        context: "ci/lint".into(),
        state: "success".into(),
        creator: Some("ci-bot".into()),
        target_url: None,
    }];
    github.deployments = vec![DeploymentInfo {
        id: 5,
        sha: HEAD_SHA.into(),
        environment: "production".into(),
        state: Some("success".into()),
        url: None,
    }];
    github
}

#[tokio::test]
async fn nothing_required_reads_nothing() {
    let github = github();
    let facts = gather(&github, &Evidence::default(), HEAD_SHA).await;
    assert!(matches!(facts, Ok(None)));
    assert_eq!(github.calls(), Vec::<String>::new());
}

#[tokio::test]
async fn required_checks_read_runs_by_name_and_statuses_never_the_apps_own_runs() {
    let github = github();
    let facts = gather(
        &github,
        &required(&["test", "build", "test"], None),
        HEAD_SHA,
    )
    .await
    .expect("read")
    .expect("evidence asked for");
    assert_eq!(
        github.calls(),
        vec![
            format!("commit_check_runs {HEAD_SHA} build"),
            format!("commit_check_runs {HEAD_SHA} test"),
            format!("commit_statuses {HEAD_SHA}"),
        ]
    );
    let runs: Vec<_> = facts
        .check_runs
        .iter()
        .map(|r| (r.name.as_str(), r.app.as_deref()))
        .collect();
    assert_eq!(runs, vec![("test", Some("app-2"))]);
    assert_eq!(facts.statuses.len(), 1);
    assert_eq!(facts.statuses[0].context, "ci/lint");
    assert_eq!(facts.check_runs_unreadable, None);
    assert_eq!(facts.statuses_unreadable, None);
    assert!(facts.deployments.is_empty(), "no deployment asked for");
}

#[tokio::test]
async fn a_required_deployment_alone_reads_only_deployments() {
    let github = github();
    let facts = gather(&github, &required(&[], Some("production")), HEAD_SHA)
        .await
        .expect("read")
        .expect("evidence asked for");
    assert_eq!(
        github.calls(),
        vec![format!("commit_deployments {HEAD_SHA} production")]
    );
    assert_eq!(facts.deployments.len(), 1);
    assert_eq!(facts.deployments[0].id, 5);
    assert!(facts.check_runs.is_empty() && facts.statuses.is_empty());
}

#[tokio::test]
async fn runs_past_githubs_listing_cannot_all_be_confirmed() {
    let mut github = github();
    github
        .check_runs
        .insert("test".into(), (vec![run("test", 2)], false));
    let facts = gather(&github, &required(&["test"], None), HEAD_SHA)
        .await
        .expect("read")
        .expect("evidence asked for");
    assert_eq!(
        facts.check_runs_unreadable.as_deref(),
        Some(
            "more than 300 check runs named `test` on this commit: GitHub lists no more, so they cannot all be confirmed"
        )
    );
}

#[tokio::test]
async fn a_refusal_is_an_unreadable_fact_and_an_outage_an_error() {
    let mut github = github();
    github.refusals.insert("commit_statuses", 403);
    github.refusals.insert("commit_deployments", 404);
    github.refusals.insert("commit_check_runs", 401);
    let facts = gather(&github, &required(&["test"], Some("production")), HEAD_SHA)
        .await
        .expect("refusals are facts")
        .expect("evidence asked for");
    assert_eq!(
        facts.statuses_unreadable.as_deref(),
        Some("GitHub answered 403 — the app needs the Commit statuses: read permission")
    );
    assert_eq!(
        facts.deployments_unreadable.as_deref(),
        Some("GitHub answered 404 — the app needs the Deployments: read permission")
    );
    assert_eq!(
        facts.check_runs_unreadable.as_deref(),
        Some("GitHub answered 401 — the app needs the Checks: read permission")
    );
    let mut github = self::github();
    github.refusals.insert("commit_statuses", 502);
    let failed = gather(&github, &required(&["test"], None), HEAD_SHA).await;
    assert!(failed.is_err(), "an outage fails the evaluation (retried)");
}
