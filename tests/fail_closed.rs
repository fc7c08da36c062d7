//! Fail closed: every fact a verdict rests on comes from GitHub's side and
//! from the right author. Each test plays what a pull request's author (or
//! a user without write access) can do, through signed deliveries to the
//! real router and the real client talking to the fake GitHub, and asserts
//! on what the app wrote there: conclusion and the wording of the reason.

use crate::common;

use axum::http::StatusCode;
use chrono::{Duration, TimeZone, Utc};
use common::attacks::{
    approve_by_comment, approved_by_both_roles, delivered, fork_delivery, p0_changed, p0_under,
    text_of,
};
use common::fake_github::{BOT_LOGIN, FakeGitHub, PullSeed};
use common::harness::{HEAD_SHA, Harness, POLICY, REPO};
use common::webhook::{
    CheckRunSpec, PrSpec, check_run_requested_action, check_run_rerequested,
    check_suite_rerequested, pull_request_event,
};

const NEW_HEAD: &str = "h2h2h2h2h2h2h2h2h2h2h2h2h2h2h2h2h2h2h2h2";

/// `/hotfix approve` by `user`, `minutes` after the pull request opened,
/// and the delivery GitHub sends for it.
async fn command(h: &Harness, pull: &PullSeed, user: &str, minutes: i64) {
    let at = pull.created_at + Duration::minutes(minutes);
    approve_by_comment(h, pull.number, user, at).await;
}

// ---- 1. Freshness from the server, never from the author ------------------

#[tokio::test]
async fn a_back_dated_push_does_not_keep_comment_approvals() {
    let (h, pull) = p0_under(POLICY).await;
    h.pull_request("opened", pull.number).await;
    command(&h, &pull, "alice", 1).await;
    command(&h, &pull, "oncall-olga", 2).await;
    assert_eq!(h.check(HEAD_SHA).conclusion.as_deref(), Some("success"));

    // The author pushes unreviewed code whose commit says 2020-01-01;
    // GitHub received the push after both approvals.
    h.gh.update_pull(REPO, pull.number, |p| p.head_sha = NEW_HEAD.into());
    h.gh.set_file(REPO, NEW_HEAD, "VERSION", "1.2.4\n");
    let back_dated = Utc
        .with_ymd_and_hms(2020, 1, 1, 0, 0, 0)
        .single()
        .expect("date");
    h.gh.set_commit_date(REPO, NEW_HEAD, back_dated);
    h.gh.add_push_activity(
        REPO,
        &pull.head_ref,
        NEW_HEAD,
        "push",
        "dana",
        pull.created_at + Duration::minutes(5),
    );
    h.pull_request("synchronize", pull.number).await;

    let run = h.check(NEW_HEAD);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    assert_eq!(
        run.title.as_deref(),
        Some("needs engineering-lead and on-call-manager approval — 2h left to deploy")
    );
    let text = text_of(&run);
    assert!(
        text.contains("@alice's /hotfix approve came before the latest push"),
        "{text}"
    );
    assert!(
        text.contains("@oncall-olga's /hotfix approve came before the latest push"),
        "{text}"
    );
}

#[tokio::test]
async fn a_head_no_push_record_names_has_stale_comment_approvals() {
    let (h, pull) = p0_under(POLICY).await;
    // The head GitHub shows has no push in the repository's activity (a
    // fork's push, or one older than the activity page reaches).
    h.gh.update_pull(REPO, pull.number, |p| p.head_sha = NEW_HEAD.into());
    h.gh.set_file(REPO, NEW_HEAD, "VERSION", "1.2.4\n");
    h.gh.set_commit_date(REPO, NEW_HEAD, Utc::now() - Duration::days(1));
    // No `opened`/`synchronize` delivery reached the app for this head
    // either (installed later, or a lost store): nothing vouches for it.
    command(&h, &pull, "alice", 1).await;
    command(&h, &pull, "oncall-olga", 2).await;

    let run = h.check(NEW_HEAD);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    let text = text_of(&run);
    assert!(
        text.contains(
            "@alice's /hotfix approve is stale — approve again: could not confirm this comment came after the latest push"
        ),
        "{text}"
    );
}

#[tokio::test]
async fn a_fork_head_is_not_looked_up_in_the_base_repository_and_stays_unconfirmed() {
    let (h, pull) = p0_under(POLICY).await;
    // Opened half an hour ago, approved by comment since; the app first
    // receives a delivery naming the head only now.
    h.gh.update_pull(REPO, pull.number, |p| {
        p.created_at = Utc::now() - Duration::minutes(30)
    });
    let pull = h.gh.pull(REPO, pull.number).expect("pull");
    h.gh.clear_requests();
    h.gh.add_comment_at(
        REPO,
        pull.number,
        "alice",
        "/hotfix approve",
        pull.created_at + Duration::minutes(1),
    );
    h.gh.add_comment_at(
        REPO,
        pull.number,
        "oncall-olga",
        "/hotfix approve",
        pull.created_at + Duration::minutes(2),
    );
    // A pull request whose head lives in a fork (GitHub's pull request
    // says so, and so does its delivery): even a branch of the same name
    // in the base repository must not vouch for it.
    h.gh.add_repo("mallory/app");
    h.gh.update_pull(REPO, pull.number, |p| {
        p.head_repo = Some("mallory/app".into())
    });
    // Only the app's own receipt time vouches for a fork's head, and it
    // is after both comments.
    fork_delivery(&h, "synchronize", pull.number).await;
    let run = h.check(HEAD_SHA);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    assert!(
        text_of(&run).contains("came before the latest push"),
        "{}",
        text_of(&run)
    );
    assert_eq!(
        h.gh.count("GET", "/activity"),
        0,
        "no call that cannot help"
    );
}

#[tokio::test]
async fn api_calls_per_first_p0_evaluation_with_a_comment_approval() {
    let (h, pull) = p0_under(POLICY).await;
    h.gh.add_comment_at(
        REPO,
        pull.number,
        "alice",
        "/hotfix approve",
        pull.created_at + Duration::minutes(1),
    );
    h.pull_request("opened", pull.number).await;
    let calls = h.gh.api_calls();
    let activity = h.gh.count("GET", "/activity");
    let commits = h.gh.count("GET", &format!("/commits/{HEAD_SHA}"))
        - h.gh
            .count("GET", &format!("/commits/{HEAD_SHA}/check-runs"));
    println!("first P0 evaluation with a comment approval: {calls} calls ({activity} activity)");
    assert_eq!(activity, 1);
    assert_eq!(commits, 0, "the commit's dates are no longer read");
    // 11 without a comment approval (tests/evaluation_flow.rs: 10 on
    // main, plus the pull request read fresh). alice's command adds the
    // push time (one activity call, where older code read the commit) and
    // her write access (a role holder counts only with it); her
    // acme/on-call membership is not asked: named in engineering-lead, she
    // already has a role of her own, and one person fills one role.
    // Main: 12. Her approval also makes the issue events list worth
    // reading (a retarget, `base_ref_changed`, makes earlier approvals
    // stale, and GitHub lists it there, not in the timeline), read with
    // the others: one call more, 304 and free when unchanged later.
    assert_eq!(h.gh.count("GET", "/memberships/"), 0);
    assert!(calls <= 14, "{calls}: {:#?}", h.gh.requests());
}

// ---- 2. Markers only from the app itself ----------------------------------

fn escalation_policy() -> String {
    POLICY.to_string()
}

#[tokio::test]
async fn an_escalation_marker_typed_by_the_author_does_not_silence_the_escalation() {
    let h = Harness::on(FakeGitHub::start().await).await;
    let pull = h.p0();
    h.seed(&escalation_policy(), &pull);
    h.label_events_by(&pull, "dana");
    h.clock.set(pull.created_at);
    h.pull_request("opened", pull.number).await;
    h.gh.add_comment(
        REPO,
        pull.number,
        "dana",
        "<!-- hotfix-guard:escalation level=1 -->",
    );
    h.clock.advance(Duration::minutes(130));
    assert_eq!(h.app.engine.sweep().await, 1, "the escalation is posted");
    let posted: Vec<_> = h
        .bot_comments(pull.number)
        .into_iter()
        .filter(|c| c.body.contains("<!-- hotfix-guard:escalation level=1 -->"))
        .collect();
    assert_eq!(posted.len(), 1);
    assert!(posted[0].body.contains("past due"), "{}", posted[0].body);
    assert!(posted[0].body.contains("@acme/incident-commanders"));
}

#[tokio::test]
async fn a_persons_comment_with_the_sticky_marker_is_never_edited() {
    let (h, pull) = p0_under(POLICY).await;
    let theirs = h.gh.add_comment(
        REPO,
        pull.number,
        "dana",
        "<!-- hotfix-guard -->\nAll requirements met, nothing to see here.",
    );
    h.pull_request("opened", pull.number).await;
    assert_eq!(h.gh.comment_edits(theirs), 0, "their comment is theirs");
    let ours = h.bot_comments(pull.number);
    assert_eq!(ours.len(), 1, "the app writes its own");
    assert!(ours[0].body.starts_with("<!-- hotfix-guard -->"));
    assert!(ours[0].body.contains("P0"));
    let person =
        h.gh.comments(REPO, pull.number)
            .into_iter()
            .find(|c| c.id == theirs)
            .expect("still there");
    assert_eq!(person.user, "dana");
    assert!(person.body.contains("nothing to see here"));
}

async fn merged_p0() -> (Harness, PullSeed) {
    common::attacks::merged_approved_p0(POLICY, "m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3").await
}

#[tokio::test]
async fn a_follow_up_faked_in_a_comment_or_an_issue_does_not_replace_the_real_one() {
    let (h, pull) = merged_p0().await;
    // A comment that looks like the sticky comment recording follow-up #999,
    // and an incident issue that claims to be this hotfix's follow-up.
    h.gh.add_comment(
        REPO,
        pull.number,
        "dana",
        "<!-- hotfix-guard -->\n<!-- hotfix-guard:follow-up #999 -->",
    );
    let fake = h.gh.add_issue_by(
        REPO,
        "dana",
        "Post-incident review: fix: stop the login loop",
        "<!-- hotfix-guard:follow-up-of #7 -->\nnothing happened",
        &["incident"],
    );
    h.pull_request("closed", pull.number).await;
    let opened: Vec<_> =
        h.gh.issues(REPO)
            .into_iter()
            .filter(|i| i.user == BOT_LOGIN)
            .collect();
    assert_eq!(opened.len(), 1, "the app opens the real follow-up");
    assert_ne!(opened[0].number, fake);
    let sticky = &h.bot_comments(pull.number)[0].body;
    assert!(
        sticky.contains(&format!("Post-incident review: [#{}]", opened[0].number)),
        "{sticky}"
    );
    assert!(!sticky.contains("#999"), "{sticky}");
}

// ---- 3. Unknown is a failure, named ---------------------------------------

#[tokio::test]
async fn a_severity_label_no_event_names_fails_saying_what_to_do() {
    let h = Harness::start().await;
    // Opened three days ago.
    let pull = PullSeed {
        created_at: Utc::now() - Duration::days(3),
        ..h.p0()
    };
    h.seed(POLICY, &pull);
    // `P0` was applied as `sev-0` and renamed since: the events keep the old
    // name. Fully approved otherwise.
    for label in ["hotfix", "sev-0"] {
        h.gh.add_label_event(
            REPO,
            pull.number,
            label,
            "dana",
            true,
            pull.created_at + Duration::seconds(5),
        );
    }
    approved_by_both_roles(&h, pull.number, HEAD_SHA);
    h.pull_request("opened", pull.number).await;
    let run = h.check(HEAD_SHA);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    // The deadline runs from the pull request's creation, long past.
    let title = run.title.clone().unwrap_or_default();
    assert!(
        title.starts_with("Overdue by ") && title.ends_with(" — could not confirm who applied P0"),
        "{title}"
    );
    assert!(
        text_of(&run).contains(
            "no label event names `P0` (renamed since it was applied?): someone with write access should remove the label and apply it again"
        ),
        "{}",
        text_of(&run)
    );
    // The deadline still runs: escalation is not silenced by the unknown.
    assert_eq!(h.app.engine.watched().await, 1);
}

// ---- 4. Complete data or a stated limit -----------------------------------

fn with_checks(extra: &str) -> String {
    POLICY.replace(
        "  merge_back: true\n",
        &format!("  merge_back: true\n{extra}"),
    )
}

async fn big_approved_p0(policy: &str, files: Vec<(String, u64, u64)>) -> Harness {
    let (h, pull) = p0_under(policy).await;
    h.gh.set_pull_files(REPO, pull.number, files);
    approved_by_both_roles(&h, pull.number, HEAD_SHA);
    h.pull_request("opened", pull.number).await;
    h
}

fn many_files(n: usize, test_at: Option<usize>) -> Vec<(String, u64, u64)> {
    let mut files: Vec<(String, u64, u64)> = (0..n)
        .map(|i| (format!("src/gen/f{i:04}.rs"), 1, 0))
        .collect();
    if let Some(i) = test_at {
        files[i].0 = "tests/login_loop.rs".to_string();
    }
    files.push(("VERSION".to_string(), 1, 1));
    files
}

#[tokio::test]
async fn size_rules_use_the_pull_requests_own_totals_past_the_3000_file_cap() {
    let h = big_approved_p0(
        &with_checks("  max_changed_files: 3200\n"),
        many_files(3_500, None),
    )
    .await;
    let run = h.check(HEAD_SHA);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    assert_eq!(
        run.title.as_deref(),
        Some("too many files changed (3501 > 3200) — 2h left to deploy")
    );
}

#[tokio::test]
async fn a_test_past_the_3000th_file_cannot_be_verified_and_says_so() {
    let h = big_approved_p0(
        &with_checks("  require_tests: [\"tests/**\"]\n"),
        many_files(3_500, Some(3_400)),
    )
    .await;
    let run = h.check(HEAD_SHA);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    assert_eq!(
        run.title.as_deref(),
        Some("more than 3,000 files changed — 2h left to deploy")
    );
    assert!(
        text_of(&run).contains(
            "more than 3,000 files changed: tests cannot be verified; a hotfix should be minimal"
        ),
        "{}",
        text_of(&run)
    );
}

#[tokio::test]
async fn a_policy_edit_past_the_3000th_file_is_still_validated() {
    let (h, pull) = p0_under(POLICY).await;
    let mut files = many_files(3_500, None);
    files[3_300].0 = ".github/hotfix-policy.yml".to_string();
    h.gh.set_pull_files(REPO, pull.number, files);
    h.gh.set_file(
        REPO,
        HEAD_SHA,
        ".github/hotfix-policy.yml",
        "version: 1\nchecks:\n  max_changed_files: many\n",
    );
    h.pull_request("opened", pull.number).await;
    let run = h.check(HEAD_SHA);
    assert!(
        run.annotations
            .iter()
            .any(|a| a["path"] == ".github/hotfix-policy.yml"),
        "{:#?}",
        run.annotations
    );
}

// ---- 5. Text normalised once where it is read ------------------------------

#[tokio::test]
async fn a_package_json_with_a_byte_order_mark_and_crlf_is_read() {
    let policy = POLICY.replace(
        "version_bump: { files: [VERSION], increment: patch }",
        "version_bump: { files: [package.json], increment: patch }",
    );
    let (h, pull) = p0_under(&policy).await;
    h.gh.set_file(
        REPO,
        &pull.base_sha,
        "package.json",
        "\u{feff}{\r\n  \"name\": \"app\",\r\n  \"version\": \"1.2.3\"\r\n}\r\n",
    );
    h.gh.set_file(
        REPO,
        HEAD_SHA,
        "package.json",
        "\u{feff}{\r\n  \"name\": \"app\",\r\n  \"version\": \"1.2.4\"\r\n}\r\n",
    );
    approved_by_both_roles(&h, pull.number, HEAD_SHA);
    h.pull_request("opened", pull.number).await;
    let run = h.check(HEAD_SHA);
    assert_eq!(
        run.conclusion.as_deref(),
        Some("success"),
        "{}",
        text_of(&run)
    );
    assert!(text_of(&run).contains("package.json 1.2.3 → 1.2.4"));
}

// ---- 6. Re-run re-runs ----------------------------------------------------

#[tokio::test]
async fn a_re_run_writes_the_check_run_again_but_not_the_comment() {
    let (h, pull) = p0_under(POLICY).await;
    h.pull_request("opened", pull.number).await;
    let before = h.check(HEAD_SHA);
    let sticky = h.bot_comments(pull.number)[0].id;
    let edits = h.gh.comment_edits(sticky);

    let spec = CheckRunSpec {
        repo: REPO.into(),
        name: "hotfix-policy".into(),
        head_sha: HEAD_SHA.into(),
        pull_numbers: vec![pull.number],
        check_run_id: before.id,
        ..CheckRunSpec::default()
    };
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    delivered(&h, "check_run", &check_run_rerequested(&spec)).await;
    let after = h.check(HEAD_SHA);
    assert_eq!(after.update_count, before.update_count + 1, "written again");
    assert_eq!(after.status, "completed");
    assert_eq!(after.conclusion, before.conclusion);
    assert!(
        after.completed_at > before.completed_at,
        "a fresh completed_at"
    );
    assert_eq!(
        h.gh.comment_edits(sticky),
        edits,
        "the comment is unchanged"
    );

    let suite = check_suite_rerequested(REPO, HEAD_SHA, &pull.head_ref, 1);
    let mut suite = suite;
    suite["check_suite"]["pull_requests"] = serde_json::json!([{
        "number": pull.number,
        "head": {"ref": pull.head_ref, "sha": HEAD_SHA},
        "base": {"ref": "main", "sha": pull.base_sha},
    }]);
    delivered(&h, "check_suite", &suite).await;
    assert_eq!(h.check(HEAD_SHA).update_count, after.update_count + 1);
    assert_eq!(h.gh.comment_edits(sticky), edits);

    // The Re-check button.
    let before_button = h.check(HEAD_SHA).update_count;
    assert_eq!(
        h.deliver("check_run", &check_run_requested_action(&spec, "recheck"))
            .await,
        StatusCode::ACCEPTED
    );
    h.settle().await;
    assert_eq!(h.check(HEAD_SHA).update_count, before_button + 1);
    assert_eq!(h.gh.comment_edits(sticky), edits);
}

// ---- 7. Each ecosystem's version grammar ----------------------------------

#[tokio::test]
async fn a_pyproject_patch_bump_follows_pep_440() {
    let policy = POLICY.replace(
        "version_bump: { files: [VERSION], increment: patch }",
        "version_bump: { files: [pyproject.toml], increment: patch }",
    );
    let (h, pull) = p0_under(&policy).await;
    h.gh.set_file(
        REPO,
        &pull.base_sha,
        "pyproject.toml",
        "[project]\nname = \"app\"\nversion = \"1.4\"\n",
    );
    h.gh.set_file(
        REPO,
        HEAD_SHA,
        "pyproject.toml",
        "[project]\nname = \"app\"\nversion = \"1.4.1\"\n",
    );
    approved_by_both_roles(&h, pull.number, HEAD_SHA);
    h.pull_request("opened", pull.number).await;
    let run = h.check(HEAD_SHA);
    assert_eq!(
        run.conclusion.as_deref(),
        Some("success"),
        "{}",
        text_of(&run)
    );
    assert!(text_of(&run).contains("pyproject.toml 1.4 → 1.4.1"));
}

#[tokio::test]
async fn a_severity_label_re_applied_by_a_non_writer_fails_but_does_not_stop_the_clock() {
    let (h, pull) = p0_under(POLICY).await;
    h.gh.set_permission(REPO, "mallory", "triage");
    for (added, secs) in [(false, 10), (true, 15)] {
        h.gh.add_label_event(
            REPO,
            pull.number,
            "P0",
            "mallory",
            added,
            pull.created_at + Duration::seconds(secs),
        );
    }
    h.clock.set(pull.created_at);
    h.pull_request("opened", pull.number).await;
    let run = h.check(HEAD_SHA);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    // A removal by someone without write access does not count (as for a
    // label left off), so dana's application still stands: the P0 is
    // hers, and mallory's re-application changes nothing.
    assert_eq!(
        run.title.as_deref(),
        Some("needs engineering-lead and on-call-manager approval — 2h left to deploy"),
        "{}",
        text_of(&run)
    );
    assert!(text_of(&run).contains("set by @dana"), "{}", text_of(&run));
    // dana (write access) made it a P0 first: her clock keeps running.
    assert_eq!(h.app.engine.watched().await, 1);
    h.clock.advance(Duration::minutes(130));
    assert_eq!(h.app.engine.sweep().await, 1, "the escalation is posted");
}

/// bob (write access, no role, never applied a label) removed dana's P0;
/// mallory (triage) applied it again. bob's removal counts only if his
/// write access is known, so the app looks up whoever removed a severity
/// label, not only who applied it: the P0 is mallory's and does not count.
/// Checked that the test can fail: with `needs::label_appliers` asking
/// only the appliers, bob's removal is unconfirmed, dana's application
/// stands and the title is the approvals'.
#[tokio::test]
async fn a_writers_removal_ends_the_severity_a_non_writer_then_re_applies() {
    let (h, pull) = p0_under(POLICY).await;
    h.gh.set_permission(REPO, "mallory", "triage");
    for (who, added, secs) in [("bob", false, 10), ("mallory", true, 15)] {
        h.gh.add_label_event(
            REPO,
            pull.number,
            "P0",
            who,
            added,
            pull.created_at + Duration::seconds(secs),
        );
    }
    h.clock.set(pull.created_at);
    h.pull_request("opened", pull.number).await;
    let run = h.check(HEAD_SHA);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    assert_eq!(
        run.title.as_deref(),
        Some("P0 label applied by @mallory, who lacks write access — 2h left to deploy"),
        "{}",
        text_of(&run)
    );
}

#[tokio::test]
async fn a_server_without_the_activity_api_leaves_comment_approvals_stale_not_broken() {
    let (h, pull) = p0_under(POLICY).await;
    // The app never received a delivery naming the head (no store record),
    // and the server has no activity API.
    h.gh.fail_next("GET", "/activity", 404, vec![], 10);
    command(&h, &pull, "alice", 1).await;
    command(&h, &pull, "oncall-olga", 2).await;
    let run = h.check(HEAD_SHA);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    assert_eq!(
        run.title.as_deref(),
        Some("needs engineering-lead and on-call-manager approval — 2h left to deploy"),
        "evaluated, not an error"
    );
    assert!(
        text_of(&run).contains("could not confirm this comment came after the latest push"),
        "{}",
        text_of(&run)
    );
}

// ---- A check run belongs to a commit, not to one pull request -------------

#[tokio::test]
async fn a_second_unlabelled_pull_request_on_the_hotfix_head_cannot_turn_its_check_neutral() {
    use common::fake_github::PullSeed;
    let (h, pull) = p0_under(POLICY).await;
    h.pull_request("opened", pull.number).await;
    assert_eq!(h.check(HEAD_SHA).conclusion.as_deref(), Some("failure"));
    // The author opens a second pull request on the same commit, from a
    // branch without the prefix and with no labels: not a hotfix.
    let twin = PullSeed {
        number: 9,
        head_ref: "twin".into(),
        head_sha: HEAD_SHA.into(),
        base_ref: "develop".into(),
        labels: vec![],
        ..h.p0()
    };
    h.gh.add_pull(REPO, twin);
    h.pull_request("opened", 9).await;
    let run = h.check(HEAD_SHA);
    assert_eq!(
        run.conclusion.as_deref(),
        Some("failure"),
        "{:?}",
        run.title
    );
    assert_eq!(
        run.title.as_deref(),
        Some("needs engineering-lead and on-call-manager approval — 2h left to deploy")
    );
    // ... nor by editing it later.
    h.pull_request("edited", 9).await;
    assert_eq!(h.check(HEAD_SHA).conclusion.as_deref(), Some("failure"));
}

/// A trunk-flow repository (no merge-back) whose one pull request is #3
/// from `feature/x`, not a hotfix: pushes to `main` are audited.
async fn trunk_with_a_feature_pull() -> Harness {
    let h = Harness::start().await;
    let pull = PullSeed {
        number: 3,
        head_ref: "feature/x".into(),
        labels: vec![],
        ..h.p0()
    };
    let trunk = POLICY
        .replace("workflow: git-flow", "workflow: trunk")
        .replace("  merge_back: true\n", "");
    h.seed(&trunk, &pull);
    h
}

#[tokio::test]
async fn a_fork_pull_request_on_a_directly_pushed_commit_leaves_the_audit_run() {
    const PUSHED: &str = "c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2";
    let h = trunk_with_a_feature_pull().await;
    let mut payload = common::webhook::push_event(REPO, "refs/heads/main", &["src/session.rs"], 1);
    payload["after"] = serde_json::json!(PUSHED);
    payload["head_commit"]["id"] = serde_json::json!(PUSHED);
    payload["commits"] = serde_json::json!([payload["head_commit"].clone()]);
    payload["before"] = serde_json::json!(common::harness::BASE_SHA);
    payload["sender"]["login"] = serde_json::json!("erin");
    delivered(&h, "push", &payload).await;
    let conclusions = |h: &common::harness::Harness| -> Vec<Option<String>> {
        h.gh.check_runs(REPO, PUSHED)
            .into_iter()
            .map(|r| r.conclusion)
            .collect()
    };
    assert_eq!(conclusions(&h), [Some("action_required".to_string())]);
    // Anyone copies the commit into a fork and opens a pull request with it.
    let fork = PullSeed {
        number: 9,
        head_ref: "innocent".into(),
        head_sha: PUSHED.into(),
        base_ref: "develop".into(),
        author: "mallory".into(),
        labels: vec![],
        ..h.p0()
    };
    h.gh.add_pull(REPO, fork);
    let mut payload = pull_request_event(
        "opened",
        &PrSpec::from_seed(REPO, &h.gh.pull(REPO, 9).expect("pull"), 1),
    );
    payload["pull_request"]["head"]["repo"]["full_name"] = "mallory/app".into();
    delivered(&h, "pull_request", &payload).await;
    assert_eq!(conclusions(&h), [Some("action_required".to_string())]);
}

#[tokio::test]
async fn a_fork_head_pushed_away_and_back_after_comment_approvals_is_not_approved() {
    const EVIL: &str = "e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1";
    let (h, pull) = p0_under(POLICY).await;
    h.gh.add_repo("mallory/app");
    h.gh.update_pull(REPO, pull.number, |p| {
        p.created_at = Utc::now() - Duration::minutes(30);
        p.head_repo = Some("mallory/app".into());
    });
    h.gh.set_file(REPO, EVIL, "VERSION", "1.2.4\n");
    // The fork pushes the malicious head (the app records it) ...
    h.gh.update_pull(REPO, pull.number, |p| p.head_sha = EVIL.into());
    fork_delivery(&h, "synchronize", pull.number).await;
    // ... then force-pushes the head the reviewers look at and approve.
    h.gh.update_pull(REPO, pull.number, |p| p.head_sha = HEAD_SHA.into());
    fork_delivery(&h, "synchronize", pull.number).await;
    for (user, s) in [("alice", 1), ("oncall-olga", 2)] {
        approve_by_comment(&h, pull.number, user, Utc::now() + Duration::seconds(s)).await;
    }
    assert_eq!(h.check(HEAD_SHA).conclusion.as_deref(), Some("success"));
    // After the approvals, the malicious head is pushed back.
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    h.gh.update_pull(REPO, pull.number, |p| p.head_sha = EVIL.into());
    fork_delivery(&h, "synchronize", pull.number).await;
    let run = h.check(EVIL);
    assert_eq!(
        run.conclusion.as_deref(),
        Some("failure"),
        "{:?}",
        run.title
    );
    assert!(
        text_of(&run).contains("came before the latest push"),
        "{}",
        text_of(&run)
    );
}

// ---- (f) A late delivery's snapshot is never evaluated --------------------

#[tokio::test]
async fn a_late_opened_delivery_with_an_old_head_and_labels_writes_nothing_on_the_old_head() {
    let (h, pull) = p0_under(POLICY).await;
    // The snapshot GitHub put in the `opened` delivery: the first head,
    // before the P0 label was applied.
    let stale_seed = PullSeed {
        labels: vec!["hotfix".into()],
        ..pull.clone()
    };
    let stale = pull_request_event("opened", &PrSpec::from_seed(REPO, &stale_seed, 1));
    // Meanwhile the author pushed: GitHub's pull request has a new head.
    h.gh.update_pull(REPO, pull.number, |p| p.head_sha = NEW_HEAD.into());
    h.gh.set_file(REPO, NEW_HEAD, "VERSION", "1.2.4\n");
    h.gh.add_push_activity(
        REPO,
        &pull.head_ref,
        NEW_HEAD,
        "push",
        "dana",
        pull.created_at + Duration::minutes(5),
    );
    h.pull_request("synchronize", pull.number).await;
    // The `opened` delivery arrives last.
    delivered(&h, "pull_request", &stale).await;

    assert!(
        h.gh.check_runs(REPO, HEAD_SHA).is_empty(),
        "nothing written on a head that is no longer the pull request's: {:#?}",
        h.gh.check_runs(REPO, HEAD_SHA)
    );
    let run = h.check(NEW_HEAD);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    assert_eq!(
        run.title.as_deref(),
        Some("needs engineering-lead and on-call-manager approval — 2h left to deploy"),
        "judged as the P0 it is now, not the label-less snapshot"
    );
}

// ---- (a) Only a writer takes a pull request out of the procedure ----------

/// A P0 labelled `hotfix` + `P0` by dana (write access) on a branch without
/// the hotfix prefix: only its labels make it a hotfix.
async fn labelled_only_p0() -> (Harness, PullSeed) {
    let (h, pull) = p0_changed(POLICY, |p0| PullSeed {
        head_ref: "fix/login-loop".into(),
        ..p0
    })
    .await;
    h.gh.set_permission(REPO, "trina", "triage");
    h.clock.set(pull.created_at);
    h.pull_request("opened", pull.number).await;
    assert_eq!(h.check(HEAD_SHA).conclusion.as_deref(), Some("failure"));
    (h, pull)
}

/// `actor` removes `labels` (in that order), and GitHub's `unlabeled`
/// delivery for the last one arrives.
async fn remove_labels(h: &Harness, pull: &PullSeed, actor: &str, labels: &[&str]) {
    for (i, label) in labels.iter().enumerate() {
        h.gh.add_label_event(
            REPO,
            pull.number,
            label,
            actor,
            false,
            pull.created_at + Duration::minutes(10 + i as i64),
        );
    }
    let left: Vec<String> =
        h.gh.pull(REPO, pull.number)
            .expect("pull")
            .labels
            .into_iter()
            .filter(|l| !labels.contains(&l.as_str()))
            .collect();
    let left: Vec<&str> = left.iter().map(String::as_str).collect();
    h.gh.set_labels(REPO, pull.number, &left);
    h.pull_request("unlabeled", pull.number).await;
}

#[tokio::test]
async fn a_triage_user_removing_the_hotfix_labels_neither_turns_the_check_neutral_nor_stops_escalation()
 {
    let (h, pull) = labelled_only_p0().await;
    remove_labels(&h, &pull, "trina", &["hotfix", "P0"]).await;

    let run = h.check(HEAD_SHA);
    assert_eq!(
        run.conclusion.as_deref(),
        Some("failure"),
        "{}",
        text_of(&run)
    );
    assert!(
        run.title
            .as_deref()
            .is_some_and(|t| t.starts_with("`hotfix` removed by @trina, who lacks write access")),
        "{:?}",
        run.title
    );
    let text = text_of(&run);
    assert!(
        // GitHub's `permission` field says `read` for the triage role.
        text.contains("`P0` was removed by @trina (read access)"),
        "{text}"
    );
    assert!(
        text.contains("they still apply: only someone with write access can take a pull request out of the hotfix procedure, so a writer must remove them"),
        "{text}"
    );
    // Still a P0 whose clock dana started: the escalation comes.
    assert_eq!(h.app.engine.watched().await, 1);
    h.clock.advance(Duration::minutes(130));
    assert_eq!(h.app.engine.sweep().await, 1, "the escalation is posted");
}

#[tokio::test]
async fn a_writer_removing_the_hotfix_labels_takes_the_pull_request_out() {
    let (h, pull) = labelled_only_p0().await;
    remove_labels(&h, &pull, "bob", &["hotfix", "P0"]).await;
    let run = h.check(HEAD_SHA);
    assert_eq!(
        run.conclusion.as_deref(),
        Some("neutral"),
        "{:?}",
        run.title
    );
    assert_eq!(h.app.engine.watched().await, 0);
}

#[tokio::test]
async fn a_removal_by_someone_github_gives_no_access_keeps_the_hotfix() {
    let (h, pull) = labelled_only_p0().await;
    // GitHub answers 404 for the remover's permission (not a collaborator
    // it will talk about): no access, so the removal does not count.
    h.gh.set_unknown_user_permission(REPO, None);
    remove_labels(&h, &pull, "ghost-writer", &["hotfix"]).await;
    let run = h.check(HEAD_SHA);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    assert!(
        run.title.as_deref().is_some_and(
            |t| t.starts_with("`hotfix` removed by @ghost-writer, who lacks write access")
        ),
        "{:?}",
        run.title
    );
}

#[tokio::test]
async fn re_applying_a_writers_hotfix_label_and_removing_it_again_does_not_launder_it() {
    let (h, pull) = labelled_only_p0().await;
    // trina removes `hotfix`, puts it back herself, then removes it again:
    // the last application before the removal is hers.
    h.gh.add_label_event(
        REPO,
        pull.number,
        "hotfix",
        "trina",
        false,
        pull.created_at + Duration::minutes(7),
    );
    h.gh.add_label_event(
        REPO,
        pull.number,
        "hotfix",
        "trina",
        true,
        pull.created_at + Duration::minutes(8),
    );
    remove_labels(&h, &pull, "trina", &["hotfix"]).await;
    let run = h.check(HEAD_SHA);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    assert!(
        run.title
            .as_deref()
            .is_some_and(|t| t.starts_with("`hotfix` removed by @trina, who lacks write access")),
        "{:?}",
        run.title
    );
}

// ---- (d) Throw-away approvers cannot drain the rate limit -----------------

#[tokio::test]
async fn two_hundred_throw_away_approvers_cost_a_bounded_number_of_calls() {
    let (h, pull) = p0_under(POLICY).await;
    h.pull_request("opened", pull.number).await;
    for n in 0..200 {
        h.gh.add_comment_at(
            REPO,
            pull.number,
            &format!("throwaway-{n}"),
            "/hotfix approve",
            pull.created_at + Duration::minutes(1),
        );
    }
    h.gh.add_comment_at(
        REPO,
        pull.number,
        "alice",
        "/hotfix approve",
        pull.created_at + Duration::minutes(2),
    );
    h.gh.clear_requests();
    command(&h, &pull, "oncall-olga", 3).await;
    let calls = h.gh.api_calls();
    let memberships = h.gh.count("GET", "/memberships/");
    // Write access but for dana's (she applied the severity label: asked at
    // every evaluation, a free 304 when unchanged).
    let permissions =
        h.gh.count("GET", "/permission") - h.gh.count("GET", "/collaborators/dana/permission");
    println!(
        "evaluation with 200 throw-away approvers: {calls} calls ({memberships} membership, {permissions} permission lookups)"
    );
    let run = h.check(HEAD_SHA);
    assert_eq!(
        run.conclusion.as_deref(),
        Some("success"),
        "{}",
        text_of(&run)
    );
    // One listing per team instead of a lookup per person; write access
    // only for the two role holders.
    assert_eq!(memberships, 0);
    assert_eq!(h.gh.count("GET", "/teams/on-call/members"), 1);
    assert!(permissions <= 2, "{permissions}");
    assert!(calls <= 12, "{calls}: {:#?}", h.gh.requests());
    assert!(
        text_of(&run).contains("@throwaway-7 is not in a required role"),
        "{}",
        text_of(&run)
    );
}

// ---- (e) A role holder counts only with write access ----------------------

#[tokio::test]
async fn a_role_member_who_lost_write_access_fills_no_role() {
    let (h, pull) = p0_under(POLICY).await;
    h.pull_request("opened", pull.number).await;
    // alice is named in engineering-lead, but her write access is gone.
    h.gh.set_permission(REPO, "alice", "read");
    command(&h, &pull, "alice", 1).await;
    command(&h, &pull, "oncall-olga", 2).await;
    let run = h.check(HEAD_SHA);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    assert_eq!(
        run.title.as_deref(),
        Some("needs engineering-lead approval — 2h left to deploy")
    );
    assert!(
        text_of(&run).contains(
            "@alice is in engineering-lead but does not have write access; their approval does not count"
        ),
        "{}",
        text_of(&run)
    );
}

// ---- (h) Nothing accepted is dropped: 300 queued pushes -------------------

#[tokio::test]
async fn three_hundred_queued_direct_pushes_are_each_audited() {
    let h = trunk_with_a_feature_pull().await;
    let sha = |n: usize| format!("{:040x}", n + 1);
    let push = |n: usize| {
        let mut payload =
            common::webhook::push_event(REPO, "refs/heads/main", &["src/session.rs"], 1);
        payload["head_commit"]["id"] = serde_json::json!(sha(n));
        payload["commits"] = serde_json::json!([payload["head_commit"].clone()]);
        payload["before"] = serde_json::json!(if n == 0 {
            common::harness::BASE_SHA.to_string()
        } else {
            sha(n - 1)
        });
        payload["after"] = serde_json::json!(sha(n));
        payload["sender"]["login"] = serde_json::json!("erin");
        payload
    };
    // The first audit is slow to get its answer: the other 299 pushes
    // queue behind it in the repository's commit job.
    h.gh.delay_next("GET", "/pulls", std::time::Duration::from_secs(2), 1);
    for n in 0..300 {
        assert_eq!(h.deliver("push", &push(n)).await, StatusCode::ACCEPTED);
    }
    tokio::time::timeout(std::time::Duration::from_secs(120), h.app.idle())
        .await
        .expect("audits finish");
    let missing: Vec<String> = (0..300)
        .map(sha)
        .filter(|s| {
            !h.gh.check_runs(REPO, s).iter().any(|r| {
                r.name == "hotfix-policy" && r.conclusion.as_deref() == Some("action_required")
            })
        })
        .collect();
    assert!(
        missing.is_empty(),
        "{} of 300 pushes never audited, first {:?}",
        missing.len(),
        missing.first()
    );
}

// ---- (c) Closing announces that escalation stops; reopening resumes it ----

fn level_1_posts(h: &Harness, number: u64) -> usize {
    h.bot_comments(number)
        .into_iter()
        .filter(|c| {
            c.body
                .starts_with("<!-- hotfix-guard:escalation level=1 -->")
        })
        .count()
}

async fn set_state(h: &Harness, pull: &PullSeed, state: &str, event: &str, action: &str) {
    h.gh.update_pull(REPO, pull.number, |p| p.state = state.into());
    h.gh.add_state_event(REPO, pull.number, event, "dana", Utc::now());
    h.pull_request(action, pull.number).await;
}

#[tokio::test]
async fn closing_says_escalation_stopped_and_reopening_posts_the_level_now_due_once() {
    let (h, pull) = p0_under(POLICY).await;
    h.clock.set(pull.created_at);
    h.pull_request("opened", pull.number).await;
    set_state(&h, &pull, "closed", "closed", "closed").await;
    let run = h.check(HEAD_SHA);
    let text = text_of(&run);
    assert!(
        text.contains("Closed without merging by @dana at "),
        "{text}"
    );
    assert!(
        text.contains("escalation stopped. Reopening resumes it at the level then due"),
        "{text}"
    );
    let sticky = h
        .bot_comments(pull.number)
        .into_iter()
        .find(|c| c.body.starts_with("<!-- hotfix-guard -->"))
        .expect("the sticky comment");
    // The comment writes logins as code, so that nobody is notified.
    assert!(
        sticky.body.contains("Closed without merging by `@dana`"),
        "{}",
        sticky.body
    );
    assert_eq!(h.app.engine.watched().await, 0);

    // The deadline passes while it is closed: nothing is posted.
    h.clock.advance(Duration::minutes(130));
    assert_eq!(h.app.engine.sweep().await, 0);
    set_state(&h, &pull, "open", "reopened", "reopened").await;
    assert_eq!(h.app.engine.sweep().await, 1, "the overdue level, once");
    assert_eq!(h.app.engine.sweep().await, 0);
    assert_eq!(level_1_posts(&h, pull.number), 1);
}

#[tokio::test]
async fn a_level_posted_before_closing_is_not_posted_again_after_reopening() {
    let (h, pull) = p0_under(POLICY).await;
    h.clock.set(pull.created_at);
    h.pull_request("opened", pull.number).await;
    h.clock.advance(Duration::minutes(130));
    assert_eq!(h.app.engine.sweep().await, 1);
    set_state(&h, &pull, "closed", "closed", "closed").await;
    h.clock.advance(Duration::minutes(60));
    set_state(&h, &pull, "open", "reopened", "reopened").await;
    assert_eq!(h.app.engine.sweep().await, 0);
    assert_eq!(level_1_posts(&h, pull.number), 1);
}

// ---- (g) Escalation does not depend on listing every comment ---------------

#[tokio::test]
async fn more_than_10000_comments_do_not_stop_the_escalation_nor_repeat_it() {
    let (h, pull) = p0_under(POLICY).await;
    h.clock.set(pull.created_at);
    h.pull_request("opened", pull.number).await;
    assert_eq!(h.app.engine.watched().await, 1);
    // 10,001 comments: GitHub's lists stop at 100 pages of 100.
    for n in 0..10_001 {
        h.gh.add_comment_at(
            REPO,
            pull.number,
            "chatty",
            &format!("+1 ({n})"),
            pull.created_at + Duration::seconds(10),
        );
    }
    h.clock.advance(Duration::minutes(130));
    assert_eq!(
        h.app.engine.sweep().await,
        1,
        "posted from the store's record"
    );
    assert_eq!(h.app.engine.sweep().await, 0, "and only once");
    assert_eq!(level_1_posts(&h, pull.number), 1);
    assert_eq!(
        h.gh.count("GET", &format!("/issues/{}/comments", pull.number)),
        0,
        "the comments were not listed"
    );
}

#[tokio::test]
async fn throw_away_approvers_of_a_count_only_severity_cost_one_listing_of_writers() {
    let (h, pull) = p0_changed(POLICY, |p0| PullSeed {
        labels: vec!["hotfix".into(), "P2".into()],
        ..p0
    })
    .await;
    h.pull_request("opened", pull.number).await;
    for n in 0..50 {
        h.gh.add_comment_at(
            REPO,
            pull.number,
            &format!("throwaway-{n}"),
            "/hotfix approve",
            pull.created_at + Duration::minutes(1),
        );
    }
    h.gh.clear_requests();
    command(&h, &pull, "bob", 2).await;
    let listings = h.gh.count("GET", "/collaborators") - h.gh.count("GET", "/permission");
    // Write access per person, but for dana's (she applied the severity
    // label: asked at every evaluation, a free 304 when unchanged).
    let per_person =
        h.gh.count("GET", "/permission") - h.gh.count("GET", "/collaborators/dana/permission");
    println!(
        "count-only evaluation with 50 throw-away approvers: {} calls ({listings} listing, {per_person} permission lookups)",
        h.gh.api_calls()
    );
    let run = h.check(HEAD_SHA);
    assert_eq!(
        run.conclusion.as_deref(),
        Some("success"),
        "{}",
        text_of(&run)
    );
    assert_eq!(listings, 1);
    assert_eq!(per_person, 0);
    assert!(
        text_of(&run).contains(
            "@throwaway-3 does not have write access; their /hotfix approve was not counted"
        ),
        "{}",
        text_of(&run)
    );
}
