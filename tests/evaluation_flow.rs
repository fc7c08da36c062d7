//! End to end: signed deliveries through the real router, the real octocrab
//! client over HTTP to the fake GitHub, assertions on what the app wrote
//! there (check runs, comments).

use crate::common;

use axum::http::StatusCode;
use common::attacks::delivered;
use common::fake_github::{FakeGitHub, PullSeed};
use common::harness::{HEAD_SHA, Harness, POLICY, POLICY_PATH, REPO};
use common::webhook::{
    CheckRunSpec, PrSpec, ReviewSpec, check_run_requested_action, check_run_rerequested,
    issue_comment_event, push_event, review_event,
};

async fn p0_harness() -> (Harness, PullSeed) {
    let h = Harness::start().await;
    let pull = h.p0();
    h.seed(POLICY, &pull);
    h.label_events_by(&pull, "dana");
    (h, pull)
}

async fn review(h: &Harness, pull: &PullSeed, user: &str, state: &str, id: u64) {
    h.gh.add_review(REPO, pull.number, user, state, &pull.head_sha);
    let spec = PrSpec::from_seed(REPO, pull, 1);
    let mut review = ReviewSpec::approved(id, user, &pull.head_sha);
    review.state = state.to_string();
    assert_eq!(
        h.deliver(
            "pull_request_review",
            &review_event("submitted", &spec, &review)
        )
        .await,
        StatusCode::ACCEPTED
    );
    h.settle().await;
}

#[tokio::test]
async fn a_p0_hotfix_gets_one_completed_check_run_and_one_sticky_comment() {
    let (h, pull) = p0_harness().await;
    assert_eq!(
        h.pull_request("opened", pull.number).await,
        StatusCode::ACCEPTED
    );
    let run = h.check(HEAD_SHA);
    assert_eq!(run.status, "completed");
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    let title = run.title.unwrap_or_default();
    assert!(
        title.contains("engineering-lead") && title.contains("on-call-manager"),
        "{title}"
    );
    let comments = h.bot_comments(pull.number);
    assert_eq!(comments.len(), 1);
    assert!(comments[0].body.starts_with("<!-- hotfix-guard -->"));
    assert!(comments[0].body.contains("P0"));
}

#[tokio::test]
async fn a_pull_request_that_is_not_a_hotfix_is_neutral_without_a_comment() {
    let h = Harness::start().await;
    let pull = PullSeed {
        number: 3,
        head_ref: "feature/search".into(),
        labels: vec!["enhancement".into()],
        ..h.p0()
    };
    h.seed(POLICY, &pull);
    h.pull_request("opened", 3).await;
    let run = h.check(HEAD_SHA);
    assert_eq!(run.conclusion.as_deref(), Some("neutral"));
    assert_eq!(run.title.as_deref(), Some("No hotfix policy applies"));
    assert!(h.bot_comments(3).is_empty());
}

#[tokio::test]
async fn works_under_a_github_enterprise_server_api_prefix() {
    let h = Harness::on(FakeGitHub::start_with_prefix("/api/v3").await).await;
    let pull = h.p0();
    h.seed(POLICY, &pull);
    h.label_events_by(&pull, "dana");
    h.pull_request("opened", pull.number).await;
    assert_eq!(h.check(HEAD_SHA).conclusion.as_deref(), Some("failure"));
    assert_eq!(h.bot_comments(pull.number).len(), 1);
    // Every call found its route under the prefix (a miss would be an
    // unexpected 404; memberships and tags answer 404 when absent).
    for r in h.gh.requests() {
        let expected_404 = ["/memberships/", "/git/ref/tags/", "/contents/"]
            .iter()
            .any(|p| r.path.contains(p));
        assert!(r.status != 404 || expected_404, "{} {}", r.method, r.path);
    }
}

#[tokio::test]
async fn the_p0_flow_lead_then_on_call_manager_turns_the_check_green() {
    let (h, pull) = p0_harness().await;
    h.pull_request("opened", pull.number).await;
    assert_eq!(h.check(HEAD_SHA).conclusion.as_deref(), Some("failure"));

    review(&h, &pull, "alice", "APPROVED", 101).await;
    let run = h.check(HEAD_SHA);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    let title = run.title.unwrap_or_default();
    assert!(title.contains("on-call-manager"), "{title}");
    assert!(
        !title.contains("engineering-lead"),
        "the lead approved: {title}"
    );

    review(&h, &pull, "oncall-olga", "APPROVED", 102).await;
    let run = h.check(HEAD_SHA);
    assert_eq!(
        run.conclusion.as_deref(),
        Some("success"),
        "{:?}",
        run.summary
    );
    assert!(
        run.update_count >= 2,
        "the same run was updated, not recreated"
    );

    let comments = h.bot_comments(pull.number);
    assert_eq!(comments.len(), 1, "one sticky comment, edited");
    assert!(h.gh.comment_edits(comments[0].id) >= 1);
    assert!(comments[0].body.contains("@oncall-olga"));
}

#[tokio::test]
async fn the_author_and_stale_approvals_do_not_count_and_changes_requested_withdraws() {
    // The author is named in the role their approval would fill (alice, an
    // engineering lead) and approves their own hotfix; the other lead (bob,
    // through acme/eng-leads) approves an older commit: neither counts.
    let h = Harness::start().await;
    let pull = PullSeed {
        author: "alice".into(),
        ..h.p0()
    };
    h.seed(POLICY, &pull);
    h.label_events_by(&pull, "dana");
    h.gh.add_team_member("acme", "eng-leads", "bob");
    h.gh.add_review(REPO, pull.number, "alice", "APPROVED", HEAD_SHA);
    h.gh.add_review(
        REPO,
        pull.number,
        "bob",
        "APPROVED",
        "0ld0ld0ld0ld0ld0ld0ld0ld0ld0ld0ld0ld0ld0",
    );
    h.gh.add_review(REPO, pull.number, "oncall-olga", "APPROVED", HEAD_SHA);
    h.pull_request("opened", pull.number).await;
    let run = h.check(HEAD_SHA);
    let title = run.title.unwrap_or_default();
    assert!(
        title.contains("engineering-lead"),
        "the author's and the stale lead approval ignored: {title}"
    );
    let summary = run.summary.unwrap_or_default();
    assert!(
        summary.contains("engineering-lead: missing; on-call-manager: @oncall-olga"),
        "{summary}"
    );

    // The other lead approves the head; then the on-call manager changes
    // their mind.
    review(&h, &pull, "bob", "APPROVED", 201).await;
    assert_eq!(h.check(HEAD_SHA).conclusion.as_deref(), Some("success"));
    review(&h, &pull, "oncall-olga", "CHANGES_REQUESTED", 202).await;
    let run = h.check(HEAD_SHA);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    assert!(run.summary.unwrap_or_default().contains("oncall-olga"));
}

#[tokio::test]
async fn approval_by_comment_counts_for_role_members_only() {
    let (h, pull) = p0_harness().await;
    h.gh.add_review(REPO, pull.number, "alice", "APPROVED", HEAD_SHA);
    h.pull_request("opened", pull.number).await;
    assert_eq!(h.check(HEAD_SHA).conclusion.as_deref(), Some("failure"));

    // Someone outside the roles: nothing changes, and the report says so.
    let id =
        h.gh.add_comment(REPO, pull.number, "mallory", "/hotfix approve");
    h.deliver(
        "issue_comment",
        &issue_comment_event(
            "created",
            REPO,
            pull.number,
            "mallory",
            "/hotfix approve",
            id,
            1,
        ),
    )
    .await;
    h.settle().await;
    let run = h.check(HEAD_SHA);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    let comment = &h.bot_comments(pull.number)[0].body;
    assert!(comment.contains("mallory"), "{comment}");

    // An ordinary comment costs no evaluation at all.
    h.gh.clear_requests();
    let id = h.gh.add_comment(REPO, pull.number, "bob", "looks good");
    h.deliver(
        "issue_comment",
        &issue_comment_event("created", REPO, pull.number, "bob", "looks good", id, 1),
    )
    .await;
    h.settle().await;
    assert_eq!(h.gh.api_calls(), 0, "{:#?}", h.gh.requests());

    // The on-call manager approves by comment ("verbal approval").
    // A minute after the app received the head: GitHub's times have whole
    // seconds, and a comment in the same second as the push is not "after".
    let id = h.gh.add_comment_at(
        REPO,
        pull.number,
        "oncall-olga",
        "/hotfix approve",
        h.clock_now() + chrono::Duration::minutes(1),
    );
    h.deliver(
        "issue_comment",
        &issue_comment_event(
            "created",
            REPO,
            pull.number,
            "oncall-olga",
            "/hotfix approve",
            id,
            1,
        ),
    )
    .await;
    h.settle().await;
    assert_eq!(h.check(HEAD_SHA).conclusion.as_deref(), Some("success"));
}

#[tokio::test]
async fn p1_needs_a_lead_and_a_product_manager_and_p2_one_writer() {
    let h = Harness::start().await;
    let mut pull = h.p0();
    pull.labels = vec!["hotfix".into(), "P1".into()];
    h.seed(POLICY, &pull);
    h.label_events_by(&pull, "dana");
    h.gh.add_review(REPO, pull.number, "alice", "APPROVED", HEAD_SHA);
    h.pull_request("opened", pull.number).await;
    let title = h.check(HEAD_SHA).title.unwrap_or_default();
    assert!(title.contains("product-manager"), "{title}");
    h.gh.add_review(REPO, pull.number, "carol", "APPROVED", HEAD_SHA);
    h.pull_request("synchronize", pull.number).await;
    assert_eq!(h.check(HEAD_SHA).conclusion.as_deref(), Some("success"));

    // P2: one approval from a writer is enough; a reader's is not.
    let p2 = PullSeed {
        number: 9,
        head_sha: "p2p2p2p2p2p2p2p2p2p2p2p2p2p2p2p2p2p2p2p2".into(),
        labels: vec!["hotfix".into(), "P2".into()],
        ..h.p0()
    };
    h.gh.set_file(REPO, &p2.head_sha, "VERSION", "1.2.4\n");
    h.gh.add_pull(REPO, p2.clone());
    h.label_events_by(&p2, "dana");
    h.gh.set_permission(REPO, "rita", "read");
    h.gh.add_review(REPO, 9, "rita", "APPROVED", &p2.head_sha);
    h.pull_request("opened", 9).await;
    let run = h.check(&p2.head_sha);
    assert_eq!(
        run.conclusion.as_deref(),
        Some("failure"),
        "{:?}",
        run.summary
    );
    h.gh.add_review(REPO, 9, "bob", "APPROVED", &p2.head_sha);
    h.pull_request("synchronize", 9).await;
    assert_eq!(h.check(&p2.head_sha).conclusion.as_deref(), Some("success"));
}

#[tokio::test]
async fn the_version_rule_catches_no_bump_a_minor_bump_and_a_jump() {
    for (head_version, expected) in [
        ("1.2.3", "expected 1.2.4"),
        ("1.3.0", "expected 1.2.4"),
        ("1.2.5", "expected 1.2.4"),
    ] {
        let (h, pull) = p0_harness().await;
        h.gh.set_file(REPO, HEAD_SHA, "VERSION", &format!("{head_version}\n"));
        h.pull_request("opened", pull.number).await;
        let run = h.check(HEAD_SHA);
        let summary = run.summary.unwrap_or_default();
        assert!(
            summary.contains(&format!("VERSION 1.2.3 → {head_version}: {expected}")),
            "{head_version}: {summary}"
        );
        assert!(run.title.unwrap_or_default().contains("VERSION"));
    }
}

#[tokio::test]
async fn a_hotfix_aimed_at_develop_fails_naming_both_branches() {
    let h = Harness::start().await;
    let pull = PullSeed {
        base_ref: "develop".into(),
        ..h.p0()
    };
    h.seed(POLICY, &pull);
    h.label_events_by(&pull, "dana");
    h.pull_request("opened", pull.number).await;
    let summary = h.check(HEAD_SHA).summary.unwrap_or_default();
    assert!(
        summary.contains("develop") && summary.contains("main"),
        "{summary}"
    );
}

#[tokio::test]
async fn a_pull_request_editing_the_policy_is_judged_by_the_default_branch_and_its_errors_annotated()
 {
    let (h, pull) = p0_harness().await;
    // The pull request tries to relax P0 to a single approval, in a file
    // that is also invalid (an undefined role on line 5).
    let relaxed =
        "version: 1\nseverities:\n  P0:\n    labels: [P0]\n    approvals: { roles: [nobody] }\n";
    h.gh.set_file(REPO, HEAD_SHA, POLICY_PATH, relaxed);
    h.gh.set_pull_files(
        REPO,
        pull.number,
        [("src/fix.rs", 3, 1), (POLICY_PATH, 5, 30)],
    );
    h.pull_request("opened", pull.number).await;
    let run = h.check(HEAD_SHA);
    // Still the default branch's P0: both roles needed.
    let title = run.title.unwrap_or_default();
    assert!(title.contains("engineering-lead"), "{title}");
    assert_eq!(run.annotations.len(), 1, "{:#?}", run.annotations);
    assert_eq!(run.annotations[0]["path"], POLICY_PATH);
    assert_eq!(run.annotations[0]["start_line"], 5);
    assert!(
        run.annotations[0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("nobody")
    );
}

#[tokio::test]
async fn an_invalid_policy_fails_every_pull_request_naming_its_line() {
    let h = Harness::start().await;
    let pull = h.p0();
    h.seed("version: 1\nchecks:\n  max_changed_files: many\n", &pull);
    h.pull_request("opened", pull.number).await;
    let run = h.check(HEAD_SHA);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    let summary = run.summary.unwrap_or_default();
    assert!(
        summary.contains(".github/hotfix-policy.yml") && summary.contains("3:22"),
        "{summary}"
    );
}

#[tokio::test]
async fn a_second_evaluation_updates_the_run_and_edits_the_comment_only_on_change() {
    let (h, pull) = p0_harness().await;
    h.pull_request("opened", pull.number).await;
    h.pull_request("synchronize", pull.number).await;
    h.pull_request("labeled", pull.number).await;
    let run = h.check(HEAD_SHA);
    let comments = h.bot_comments(pull.number);
    assert_eq!(comments.len(), 1);
    assert_eq!(
        h.gh.comment_edits(comments[0].id),
        0,
        "nothing changed: no edit"
    );
    assert_eq!(run.update_count, 0, "nothing changed: no write");
    review(&h, &pull, "alice", "APPROVED", 301).await;
    assert_eq!(h.gh.comment_edits(comments[0].id), 1);
    assert_eq!(h.check(HEAD_SHA).update_count, 1);
}

#[tokio::test]
async fn one_installation_token_serves_many_deliveries() {
    let (h, pull) = p0_harness().await;
    for action in ["opened", "synchronize", "labeled", "reopened"] {
        h.pull_request(action, pull.number).await;
    }
    assert_eq!(h.gh.tokens_issued(), 1);
}

#[tokio::test]
async fn github_answering_502_then_200_is_retried() {
    let (h, pull) = p0_harness().await;
    h.gh.fail_next("GET", "/timeline", 502, vec![], 1);
    h.pull_request("opened", pull.number).await;
    assert_eq!(h.check(HEAD_SHA).conclusion.as_deref(), Some("failure"));
    assert_eq!(h.gh.requests_with_status(502).len(), 1);
    assert_eq!(h.bot_comments(pull.number).len(), 1);
    // The client retried within the one evaluation: without its retry the
    // evaluation would end in an error and the store would run it again,
    // reaching the same conclusion.
    let metrics = h.app.metrics.render(&no_gauges());
    assert!(
        metrics
            .lines()
            .any(|l| l == "hotfix_guard_evaluations_total{conclusion=\"failure\"} 1"),
        "{metrics}"
    );
    assert!(
        !metrics.contains("conclusion=\"error\""),
        "no evaluation failed on the 502: {metrics}"
    );
}

fn no_gauges() -> hotfix_guard::metrics::Gauges {
    hotfix_guard::metrics::Gauges {
        queue_depth: 0,
        oldest_pending_seconds: 0.0,
        lease_expiries: 0,
        api_calls: Vec::new(),
        rate_limit_remaining: Vec::new(),
    }
}

#[tokio::test]
async fn an_evaluation_cut_short_by_an_outage_is_retried_from_the_store() {
    let (h, pull) = p0_harness().await;
    // Four 502s: every attempt of the client within one evaluation.
    h.gh.fail_next("GET", "/timeline", 502, vec![], 4);
    h.pull_request("opened", pull.number).await;
    // Nothing is lost: the job stayed in the store and ran again.
    assert_eq!(h.gh.requests_with_status(502).len(), 4);
    let title = h.check(HEAD_SHA).title.unwrap_or_default();
    assert!(
        title.contains("engineering-lead"),
        "evaluated for real on the retry: {title}"
    );
    assert_eq!(h.app.queue.in_flight().await.expect("store"), 0);
}

#[tokio::test]
async fn a_github_outage_through_every_retry_is_reported_on_the_check_run() {
    let (h, pull) = p0_harness().await;
    // Every attempt of every try fails.
    h.gh.fail_next("GET", "/timeline", 502, vec![], 1_000);
    h.pull_request("opened", pull.number).await;
    let run = h.check(HEAD_SHA);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    let summary = run.summary.unwrap_or_default();
    assert!(summary.contains("502"), "{summary}");
    assert!(
        summary.contains(&format!(
            "The evaluation failed {} times",
            hotfix_guard::app::MAX_ATTEMPTS
        )),
        "{summary}"
    );
}

#[tokio::test]
async fn rerequests_and_the_recheck_button_evaluate_again() {
    let (h, pull) = p0_harness().await;
    h.pull_request("opened", pull.number).await;
    h.gh.add_review(REPO, pull.number, "alice", "APPROVED", HEAD_SHA);
    h.gh.add_review(REPO, pull.number, "oncall-olga", "APPROVED", HEAD_SHA);
    let spec = CheckRunSpec {
        repo: REPO.into(),
        name: "hotfix-policy".into(),
        head_sha: HEAD_SHA.into(),
        pull_numbers: vec![pull.number],
        ..CheckRunSpec::default()
    };
    delivered(&h, "check_run", &check_run_rerequested(&spec)).await;
    assert_eq!(h.check(HEAD_SHA).conclusion.as_deref(), Some("success"));
    assert_eq!(
        h.deliver("check_run", &check_run_requested_action(&spec, "recheck"))
            .await,
        StatusCode::ACCEPTED
    );
}

#[tokio::test]
async fn a_push_changing_the_policy_drops_the_cached_one() {
    let (h, pull) = p0_harness().await;
    h.pull_request("opened", pull.number).await;
    assert_eq!(h.check(HEAD_SHA).conclusion.as_deref(), Some("failure"));
    // P0 now needs one approval from a writer.
    let relaxed = POLICY.replace(
        "approvals: { roles: [engineering-lead, on-call-manager] }",
        "approvals: { count: 1 }",
    );
    h.gh.set_file(REPO, "main", POLICY_PATH, &relaxed);
    h.gh.add_review(REPO, pull.number, "alice", "APPROVED", HEAD_SHA);
    let push = push_event(REPO, "refs/heads/main", &[POLICY_PATH], 1);
    assert_eq!(h.deliver("push", &push).await, StatusCode::ACCEPTED);
    h.pull_request("synchronize", pull.number).await;
    assert_eq!(h.check(HEAD_SHA).conclusion.as_deref(), Some("success"));
}

#[tokio::test]
async fn api_cost_per_evaluation() {
    let (h, pull) = p0_harness().await;
    h.pull_request("opened", pull.number).await;
    let first = h.gh.api_calls();
    h.gh.clear_requests();
    review(&h, &pull, "alice", "APPROVED", 401).await;
    let after_review = h.gh.api_calls();
    println!("P0 first evaluation: {first} calls; after a review: {after_review}");
    // The issue's budgets: 10 for the first P0 evaluation (policy cache
    // cold), 4 after a review; each one more for the pull request read
    // fresh (`GET /pulls/{n}`, never a delivery's snapshot: issue 9 f),
    // which GitHub answers 304, free, when nothing changed. After a
    // review, the approver's write access (a role holder counts only with
    // it: issue 9 e) replaces her team lookup (named in one role, she
    // already has a role of her own). And, once there is an approval that
    // could count, the issue events list (`base_ref_changed`, a retarget,
    // makes earlier approvals stale: GitHub lists it there, not in the
    // timeline), conditional like every GET: 304, free, on later ones.
    assert!(
        first <= 11,
        "first P0 evaluation: {first} calls: {:#?}",
        h.gh.requests()
    );
    assert!(
        after_review <= 6,
        "re-evaluation after a review: {after_review}: {:#?}",
        h.gh.requests()
    );

    let other = PullSeed {
        number: 8,
        head_ref: "feature/x".into(),
        head_sha: "f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8".into(),
        labels: vec![],
        ..h.p0()
    };
    h.gh.add_pull(REPO, other);
    h.gh.clear_requests();
    h.pull_request("opened", 8).await;
    let non_hotfix = h.gh.api_calls();
    println!("non-hotfix first evaluation: {non_hotfix} calls");
    // 3, plus the fresh pull request and the timeline: who removed a
    // hotfix label decides whether it is still one (issue 9 a).
    assert!(
        non_hotfix <= 5,
        "non-hotfix: {non_hotfix}: {:#?}",
        h.gh.requests()
    );
}

#[tokio::test]
async fn a_retargeted_pull_request_is_evaluated_again() {
    let (h, pull) = p0_harness().await;
    h.pull_request("opened", pull.number).await;
    h.gh.update_pull(REPO, pull.number, |p| p.base_ref = "develop".into());
    let seed = h.gh.pull(REPO, pull.number).expect("pull");
    let payload = common::webhook::pull_request_edited(
        &PrSpec::from_seed(REPO, &seed, 1),
        serde_json::json!({"base": {"ref": {"from": "main"}, "sha": {"from": pull.base_sha}}}),
    );
    h.deliver("pull_request", &payload).await;
    h.settle().await;
    let summary = h.check(HEAD_SHA).summary.unwrap_or_default();
    assert!(summary.contains("hotfixes must target main"), "{summary}");
}

#[tokio::test]
async fn a_hotfix_without_a_severity_fails_naming_the_labels_to_add() {
    let h = Harness::start().await;
    let pull = PullSeed {
        labels: vec!["hotfix".into()],
        ..h.p0()
    };
    h.seed(POLICY, &pull);
    h.label_events_by(&pull, "dana");
    h.pull_request("opened", pull.number).await;
    let run = h.check(HEAD_SHA);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    let title = run.title.unwrap_or_default();
    assert!(title.contains("P0, P1, P2"), "{title}");
}

#[tokio::test]
async fn without_a_file_the_organisation_policy_then_the_built_in_default_applies() {
    let h = Harness::start().await;
    let pull = h.p0();
    h.seed(POLICY, &pull);
    h.label_events_by(&pull, "dana");
    h.gh.remove_file(REPO, "main", POLICY_PATH);
    // The organisation's .github repository carries a policy.
    h.gh.add_repo("octo/.github");
    h.gh.set_file("octo/.github", "main", POLICY_PATH, POLICY);
    h.pull_request("opened", pull.number).await;
    let summary = h.check(HEAD_SHA).summary.unwrap_or_default();
    assert!(summary.contains("organisation's policy"), "{summary}");

    // Neither: the built-in default (two approvals from writers for P0).
    h.gh.remove_file("octo/.github", "main", POLICY_PATH);
    let other = PullSeed {
        number: 8,
        head_sha: "f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8".into(),
        ..h.p0()
    };
    h.gh.set_file(REPO, &other.head_sha, "VERSION", "1.2.4\n");
    h.gh.add_pull(REPO, other.clone());
    h.label_events_by(&other, "dana");
    // A fresh app instance: nothing cached.
    let fresh = Harness::on_shared(&h).await;
    fresh.pull_request("opened", 8).await;
    let run = fresh.check(&other.head_sha);
    let summary = run.summary.unwrap_or_default();
    assert!(summary.contains("built-in default policy"), "{summary}");
    assert!(run.title.unwrap_or_default().contains("approval"));
}
