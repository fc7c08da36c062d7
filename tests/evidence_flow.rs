//! Evidence before merge, end to end: signed deliveries through the real
//! router, the real client over HTTP to the fake GitHub holding check runs,
//! commit statuses and deployments, and assertions on the `hotfix-policy`
//! check run the app wrote (conclusion and wording).

use crate::common;

use axum::http::StatusCode;
use common::attacks::delivered;
use common::fake_github::{CheckRunSeed, PullSeed};
use common::harness::{HEAD_SHA, Harness, POLICY, REPO};
use common::webhook::{
    CheckRunSpec, PrSpec, ReviewSpec, check_run_rerequested, push_event, review_event,
};
use serde_json::{Value, json};

/// Another app's id: the CI that reports `test`.
const CI_APP: u64 = 77;
const OLDER_SHA: &str = "0123456789abcdef0123456789abcdef01234567";

fn policy_with(p0_extra: &str) -> String {
    POLICY.replace(
        "    follow_up: { title: Post-incident review, within: 24h }\n",
        &format!("    follow_up: {{ title: Post-incident review, within: 24h }}\n{p0_extra}"),
    )
}

/// A P0 with both approvals (alice for engineering-lead, olga for on-call)
/// under `policy`: everything but the evidence holds.
async fn approved_p0(policy: &str) -> (Harness, PullSeed) {
    let h = Harness::start().await;
    let pull = h.p0();
    h.seed(policy, &pull);
    h.label_events_by(&pull, "dana");
    for (id, user) in [(501, "alice"), (502, "oncall-olga")] {
        h.gh.add_review(REPO, pull.number, user, "APPROVED", &pull.head_sha);
        let spec = PrSpec::from_seed(REPO, &pull, 1);
        let review = ReviewSpec::approved(id, user, &pull.head_sha);
        h.deliver(
            "pull_request_review",
            &review_event("submitted", &spec, &review),
        )
        .await;
    }
    h.settle().await;
    (h, pull)
}

fn ci_run(status: &str, conclusion: Option<&str>) -> CheckRunSeed {
    CheckRunSeed {
        name: "test".into(),
        head_sha: HEAD_SHA.into(),
        status: status.into(),
        conclusion: conclusion.map(str::to_string),
        app_id: CI_APP,
        ..CheckRunSeed::default()
    }
}

/// `check_run.completed` for the CI's `test` run on the head commit, naming
/// the pull request as GitHub does for a branch of the same repository.
fn test_completed(pull: &PullSeed, id: u64) -> Value {
    let spec = CheckRunSpec {
        repo: REPO.into(),
        check_run_id: id,
        name: "test".into(),
        head_sha: pull.head_sha.clone(),
        head_branch: pull.head_ref.clone(),
        pull_numbers: vec![pull.number],
        app_id: CI_APP,
        installation_id: 1,
        ..CheckRunSpec::default()
    };
    let mut payload = check_run_rerequested(&spec);
    payload["action"] = json!("completed");
    payload["check_run"]["status"] = json!("completed");
    payload
}

/// `deployment_status.created` for deployment `id` of `sha` to staging.
/// Built on a real push delivery's repository, sender and installation.
fn deployment_status_event(id: u64, sha: &str, state: &str) -> Value {
    let base = push_event(REPO, "refs/heads/main", &["x"], 1);
    json!({
        "action": "created",
        "deployment_status": {
            "id": id + 1, "state": state, "environment": "staging",
            "creator": base["sender"], "description": "", "target_url": "",
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
        },
        "deployment": {
            "id": id, "sha": sha, "ref": "hotfix/login-loop", "task": "deploy",
            "environment": "staging", "creator": base["sender"], "payload": {},
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
        },
        "repository": base["repository"],
        "sender": base["sender"],
        "installation": base["installation"],
    })
}

/// `status` for `context` on `sha` (GitHub's `status` event).
fn status_event(sha: &str, context: &str, state: &str) -> Value {
    let base = push_event(REPO, "refs/heads/main", &["x"], 1);
    json!({
        "id": 9001, "sha": sha, "name": REPO, "target_url": null,
        "context": context, "description": null, "state": state,
        "commit": {"sha": sha}, "branches": [],
        "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
        "repository": base["repository"],
        "sender": base["sender"],
        "installation": base["installation"],
    })
}

fn title(h: &Harness) -> String {
    h.check(HEAD_SHA).title.unwrap_or_default()
}

#[tokio::test]
async fn a_required_test_decides_the_p0_red_running_then_green() {
    let policy = policy_with("    require_checks: [test]\n");
    let (h, pull) = approved_p0(&policy).await;

    // Never reported: failure naming it.
    let run = h.check(HEAD_SHA);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    assert!(title(&h).contains("`test` missing"), "{}", title(&h));

    // Red.
    let red =
        h.gh.add_check_run(REPO, ci_run("completed", Some("failure")));
    delivered(&h, "check_run", &test_completed(&pull, red)).await;
    let run = h.check(HEAD_SHA);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    assert!(
        run.title
            .as_deref()
            .unwrap_or_default()
            .starts_with("`test` failed"),
        "{:?}",
        run.title
    );
    assert!(
        run.summary
            .unwrap_or_default()
            .contains("`test` failed on h1h1h1h"),
        "the row names the check and the commit"
    );

    // Re-run: still running (a newer run of the same app).
    let running = h.gh.add_check_run(REPO, ci_run("in_progress", None));
    h.deliver("check_run", &test_completed(&pull, running))
        .await;
    h.settle().await;
    let run = h.check(HEAD_SHA);
    // Pending, not a failure: the run is back in progress (branch
    // protection waits for it).
    assert_eq!(run.status, "in_progress", "pending, not a failure");
    assert!(
        run.title
            .as_deref()
            .unwrap_or_default()
            .starts_with("waits for `test`"),
        "{:?}",
        run.title
    );

    // Green.
    let green =
        h.gh.add_check_run(REPO, ci_run("completed", Some("success")));
    h.deliver("check_run", &test_completed(&pull, green)).await;
    h.settle().await;
    let run = h.check(HEAD_SHA);
    assert_eq!(run.conclusion.as_deref(), Some("success"), "{run:#?}");
    assert!(
        run.title
            .as_deref()
            .unwrap_or_default()
            .starts_with("P0 hotfix: all requirements met"),
        "{:?}",
        run.title
    );
    assert!(
        run.summary
            .unwrap_or_default()
            .contains("`test` passed on h1h1h1h")
    );
}

#[tokio::test]
async fn another_source_named_test_cannot_outvote_a_red_one_and_our_own_run_is_never_evidence() {
    let policy = policy_with("    require_checks: [test]\n");
    let (h, pull) = approved_p0(&policy).await;
    let red =
        h.gh.add_check_run(REPO, ci_run("completed", Some("failure")));
    // A commit status called `test` posted as success by someone else.
    h.gh.add_status(REPO, HEAD_SHA, "test", "success", "mallory");
    // And a check run named `test` made by this very app.
    h.gh.add_check_run(
        REPO,
        CheckRunSeed {
            name: "test".into(),
            conclusion: Some("success".into()),
            head_sha: HEAD_SHA.into(),
            ..CheckRunSeed::default()
        },
    );
    h.deliver("check_run", &test_completed(&pull, red)).await;
    h.settle().await;
    assert_eq!(h.check(HEAD_SHA).conclusion.as_deref(), Some("failure"));
    assert!(title(&h).starts_with("`test` failed"), "{}", title(&h));
}

#[tokio::test]
async fn an_app_pin_ignores_statuses_and_runs_from_anyone_else() {
    let policy = policy_with("    require_checks: [{ name: test, app: other-app-77 }]\n");
    let (h, pull) = approved_p0(&policy).await;
    h.gh.add_status(REPO, HEAD_SHA, "test", "success", "mallory");
    h.gh.add_check_run(
        REPO,
        CheckRunSeed {
            app_id: 99,
            ..ci_run("completed", Some("success"))
        },
    );
    h.pull_request("synchronize", pull.number).await;
    assert_eq!(h.check(HEAD_SHA).conclusion.as_deref(), Some("failure"));
    assert!(title(&h).contains("`test` missing"), "{}", title(&h));
    let green =
        h.gh.add_check_run(REPO, ci_run("completed", Some("success")));
    h.deliver("check_run", &test_completed(&pull, green)).await;
    h.settle().await;
    assert_eq!(h.check(HEAD_SHA).conclusion.as_deref(), Some("success"));
}

#[tokio::test]
async fn a_staging_deployment_of_the_head_commit_is_required() {
    let policy = policy_with("    require_deployment: { environment: staging }\n");
    let (h, pull) = approved_p0(&policy).await;

    // None at all.
    let run = h.check(HEAD_SHA);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    assert!(
        run.title
            .as_deref()
            .unwrap_or_default()
            .starts_with("needs a successful staging deployment"),
        "{:?}",
        run.title
    );
    let comment = &h.bot_comments(pull.number)[0].body;
    assert!(
        comment.contains(
            "deploy `hotfix/login-loop` to staging: no successful staging deployment of `h1h1h1h` yet"
        ),
        "{comment}"
    );

    // An older commit deployed successfully: does not count.
    let older =
        h.gh.add_deployment(REPO, OLDER_SHA, "hotfix/login-loop", "staging");
    h.gh.add_deployment_status(REPO, older, "success");
    h.deliver(
        "deployment_status",
        &deployment_status_event(older, OLDER_SHA, "success"),
    )
    .await;
    h.settle().await;
    assert_eq!(h.check(HEAD_SHA).conclusion.as_deref(), Some("failure"));
    assert!(
        title(&h).starts_with("needs a successful staging deployment"),
        "{}",
        title(&h)
    );

    // The head commit, to production: does not count either.
    let prod =
        h.gh.add_deployment(REPO, HEAD_SHA, "hotfix/login-loop", "production");
    h.gh.add_deployment_status(REPO, prod, "success");

    // The head commit to staging, in progress, then successful; each
    // `deployment_status` delivery re-evaluates the pull request.
    let id =
        h.gh.add_deployment(REPO, HEAD_SHA, "hotfix/login-loop", "staging");
    h.gh.add_deployment_status(REPO, id, "in_progress");
    h.deliver(
        "deployment_status",
        &deployment_status_event(id, HEAD_SHA, "in_progress"),
    )
    .await;
    h.settle().await;
    let run = h.check(HEAD_SHA);
    assert_eq!(run.status, "in_progress");
    assert!(
        run.title
            .as_deref()
            .unwrap_or_default()
            .starts_with("waits for the staging deployment"),
        "{:?}",
        run.title
    );

    h.gh.add_deployment_status(REPO, id, "success");
    assert_eq!(
        h.deliver(
            "deployment_status",
            &deployment_status_event(id, HEAD_SHA, "success")
        )
        .await,
        StatusCode::ACCEPTED
    );
    h.settle().await;
    let run = h.check(HEAD_SHA);
    assert_eq!(run.conclusion.as_deref(), Some("success"), "{run:#?}");
    assert!(
        run.summary
            .unwrap_or_default()
            .contains("h1h1h1h deployed](https://deploy.example.com/logs/"),
        "the row links the deployment"
    );
    // The deployment_status delivery named no pull request: the app asked
    // GitHub which pull requests have that head.
    assert!(
        h.gh.count(
            "GET",
            "/commits/h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1/pulls"
        ) >= 1
    );
}

#[tokio::test]
async fn a_status_delivery_re_evaluates_and_a_missing_permission_is_named() {
    let policy = policy_with("    require_checks: [ci/build]\n");
    let (h, _pull) = approved_p0(&policy).await;
    h.gh.add_status(REPO, HEAD_SHA, "ci/build", "pending", "ci-bot");
    h.deliver("status", &status_event(HEAD_SHA, "ci/build", "pending"))
        .await;
    h.settle().await;
    assert!(
        title(&h).starts_with("waits for `ci/build`"),
        "{}",
        title(&h)
    );
    h.gh.add_status(REPO, HEAD_SHA, "ci/build", "success", "ci-bot");
    h.deliver("status", &status_event(HEAD_SHA, "ci/build", "success"))
        .await;
    h.settle().await;
    assert_eq!(h.check(HEAD_SHA).conclusion.as_deref(), Some("success"));

    // The installation lost Commit statuses: read. Fail closed, named.
    h.gh.fail_next("GET", "/status", 403, Vec::new(), 5);
    h.deliver("status", &status_event(HEAD_SHA, "ci/build", "success"))
        .await;
    h.settle().await;
    let run = h.check(HEAD_SHA);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    assert!(
        run.title
            .as_deref()
            .unwrap_or_default()
            .starts_with("`ci/build` unknown"),
        "{:?}",
        run.title
    );
    assert!(
        run.summary
            .unwrap_or_default()
            .contains("the app needs the Commit statuses: read permission"),
    );
}

#[tokio::test]
async fn evidence_events_cost_nothing_when_the_policy_asks_for_none() {
    let h = Harness::start().await;
    let pull = h.p0();
    h.seed(POLICY, &pull);
    h.pull_request("opened", pull.number).await;
    h.gh.clear_requests();
    h.deliver("status", &status_event(HEAD_SHA, "ci/build", "success"))
        .await;
    h.deliver(
        "deployment_status",
        &deployment_status_event(5, HEAD_SHA, "success"),
    )
    .await;
    h.settle().await;
    let calls: Vec<String> =
        h.gh.requests()
            .iter()
            .filter(|r| !r.path.contains("access_tokens"))
            .map(|r| format!("{} {}", r.method, r.path))
            .collect();
    assert!(
        calls.iter().all(|c| c.contains("/contents/")),
        "only the (cached) policy may be read: {calls:?}"
    );
}

/// API calls of one full evaluation of the same approved P0, without and
/// with the evidence keys; printed for the docs (`--nocapture`).
#[tokio::test]
async fn api_calls_per_evaluation_with_and_without_evidence() {
    let mut counts = Vec::new();
    for extra in [
        "",
        "    require_checks: [test]\n",
        "    require_checks: [test]\n    require_deployment: { environment: staging }\n",
    ] {
        let (h, pull) = approved_p0(&policy_with(extra)).await;
        let id =
            h.gh.add_deployment(REPO, HEAD_SHA, "hotfix/login-loop", "staging");
        h.gh.add_deployment_status(REPO, id, "success");
        h.gh.add_check_run(REPO, ci_run("completed", Some("success")));
        h.pull_request("synchronize", pull.number).await; // warm caches
        h.gh.clear_requests();
        h.pull_request("synchronize", pull.number).await;
        let reqs = h.gh.requests();
        let total = reqs.len();
        let conditional = reqs.iter().filter(|r| r.status == 304).count();
        counts.push((extra.trim().replace('\n', " "), total, conditional));
    }
    for (keys, total, conditional) in &counts {
        println!("evidence keys [{keys}]: {total} calls, {conditional} of them 304");
    }
    assert!(
        counts[1].1 == counts[0].1 + 2,
        "checks add 2 calls: {counts:?}"
    );
    assert!(
        counts[2].1 == counts[1].1 + 2,
        "a deployment adds 2: {counts:?}"
    );
}

#[tokio::test]
async fn a_check_run_of_this_app_named_like_the_required_check_is_not_evidence() {
    let policy = policy_with("    require_checks: [test]\n");
    let (h, pull) = approved_p0(&policy).await;
    h.gh.add_check_run(
        REPO,
        CheckRunSeed {
            name: "test".into(),
            conclusion: Some("success".into()),
            head_sha: HEAD_SHA.into(),
            ..CheckRunSeed::default()
        },
    );
    h.pull_request("synchronize", pull.number).await;
    assert_eq!(h.check(HEAD_SHA).conclusion.as_deref(), Some("failure"));
    assert!(title(&h).starts_with("`test` missing"), "{}", title(&h));
}

#[tokio::test]
async fn a_status_on_a_pull_request_that_is_not_a_hotfix_evaluates_nothing() {
    let h = Harness::start().await;
    let feature = PullSeed {
        number: 4,
        head_ref: "feature/search".into(),
        labels: vec!["enhancement".into()],
        ..h.p0()
    };
    h.seed(&policy_with("    require_checks: [test]\n"), &feature);
    h.pull_request("opened", feature.number).await;
    h.gh.clear_requests();
    h.deliver("status", &status_event(HEAD_SHA, "test", "success"))
        .await;
    h.settle().await;
    assert_eq!(
        h.gh.count(
            "GET",
            "/commits/h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1/pulls"
        ),
        1
    );
    assert_eq!(h.gh.count("GET", "/pulls/4"), 0, "not evaluated again");
    assert_eq!(h.check(HEAD_SHA).conclusion.as_deref(), Some("neutral"));
}

#[tokio::test]
async fn hundreds_of_other_check_runs_cannot_push_a_red_required_check_out_of_sight() {
    let policy = policy_with("    require_checks: [test]\n");
    let (h, pull) = approved_p0(&policy).await;
    let red =
        h.gh.add_check_run(REPO, ci_run("completed", Some("failure")));
    // A workflow matrix on the head commit: 301 newer, green runs of other
    // names, listed before the red `test`.
    for i in 0..301 {
        h.gh.add_check_run(
            REPO,
            CheckRunSeed {
                name: format!("matrix ({i})"),
                ..ci_run("completed", Some("success"))
            },
        );
    }
    delivered(&h, "check_run", &test_completed(&pull, red)).await;
    assert_eq!(h.check(HEAD_SHA).conclusion.as_deref(), Some("failure"));
    assert!(title(&h).contains("`test` failed"), "{}", title(&h));
}
