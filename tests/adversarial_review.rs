//! Adversarial review of issue 9 (fail closed). Each test plays what only a
//! pull request's author (write access to their own fork, none on the base
//! repository) or a user with triage access can do, through signed
//! deliveries to the real router and the real client talking to the fake
//! GitHub, and asserts the SAFE outcome: the required `hotfix-policy` check
//! fails naming why, and escalation is not silenced. A passing test is an
//! attack that failed; a test marked `#[ignore = "finding: …"]` is an
//! attack that worked (see the description on it).

use crate::common;

use axum::http::StatusCode;
use chrono::Duration;
use common::attacks::{
    approve_by_comment, approved_by_both_roles, delivered, escalations, fork_delivery, p0,
    p0_changed, text_concluded, text_of,
};
use common::fake_github::{APP_ID, CheckRunSeed, PullSeed};
use common::harness::{HEAD_SHA, Harness, POLICY, POLICY_PATH, REPO};
use common::webhook::{PrSpec, pull_request_edited};

const TREE_TWIN: &str = "t2t2t2t2t2t2t2t2t2t2t2t2t2t2t2t2t2t2t2t2";

// ---- Severity and designation, by a triage user ---------------------------

/// A triage user adds `P2` (one approval of anyone with write access) and
/// removes the writer's `P0` (two role approvals): one review from a
/// writer in no role must not pass.
#[tokio::test]
async fn a_triage_user_lowering_p0_to_p2_does_not_lower_the_approvals_needed() {
    let (h, pull) = p0().await;
    h.gh.add_label_event(
        REPO,
        pull.number,
        "P2",
        "trina",
        true,
        pull.created_at + Duration::minutes(10),
    );
    h.gh.add_label_event(
        REPO,
        pull.number,
        "P0",
        "trina",
        false,
        pull.created_at + Duration::minutes(11),
    );
    h.gh.set_labels(REPO, pull.number, &["hotfix", "P2"]);
    h.gh.add_review(REPO, pull.number, "bob", "APPROVED", HEAD_SHA);
    h.pull_request("unlabeled", pull.number).await;

    let run = h.check(HEAD_SHA);
    let text = text_of(&run);
    assert_eq!(run.conclusion.as_deref(), Some("failure"), "{text}");
    assert!(
        run.title
            .as_deref()
            .is_some_and(|t| t.starts_with("`P0` removed by @trina, who lacks write access")),
        "{text}"
    );
    assert!(
        text.contains("needs engineering-lead and on-call-manager approval"),
        "{text}"
    );
    // Still a P0 whose clock dana started.
    assert_eq!(h.app.engine.watched().await, 1);
    h.clock.advance(Duration::minutes(130));
    assert_eq!(h.app.engine.sweep().await, 1, "the escalation is posted");
}

/// On a pull request that is a hotfix by its branch name only, a triage
/// user picks the mildest severity: it must not count.
#[tokio::test]
async fn a_severity_chosen_by_a_triage_user_does_not_count() {
    let h = Harness::start().await;
    let pull = PullSeed {
        labels: vec!["P2".into()],
        ..h.p0()
    };
    h.seed(POLICY, &pull);
    h.gh.set_permission(REPO, "trina", "triage");
    h.label_events_by(&pull, "trina");
    h.gh.add_review(REPO, pull.number, "bob", "APPROVED", HEAD_SHA);
    h.pull_request("labeled", pull.number).await;

    let text = text_concluded(&h, HEAD_SHA, "failure");
    assert!(
        text.contains("P2 label applied by @trina, who lacks write access"),
        "{text}"
    );
}

// ---- Base and head moves, by the author -----------------------------------

/// Approved on `main`, the author retargets to `develop`: the check on the
/// head must not stay `success` (nor turn `neutral`).
#[tokio::test]
async fn retargeting_an_approved_hotfix_away_from_production_fails_the_check() {
    let (h, pull) = p0().await;
    approved_by_both_roles(&h, pull.number, HEAD_SHA);
    h.pull_request("opened", pull.number).await;
    assert_eq!(h.check(HEAD_SHA).conclusion.as_deref(), Some("success"));

    h.gh.update_pull(REPO, pull.number, |p| {
        p.base_ref = "develop".into();
    });
    let spec = PrSpec::from_seed(REPO, &h.gh.pull(REPO, pull.number).expect("pull"), 1);
    let payload = pull_request_edited(
        &spec,
        serde_json::json!({"base": {"ref": {"from": "main"}, "sha": {"from": pull.base_sha}}}),
    );
    delivered(&h, "pull_request", &payload).await;
    let text = text_concluded(&h, HEAD_SHA, "failure");
    assert!(
        text.contains("targets develop; hotfixes must target main"),
        "{text}"
    );
}

/// Reviews on one commit; the author force-pushes another commit with the
/// very same tree (amended message): the reviews do not carry over.
#[tokio::test]
async fn a_force_push_of_a_tree_identical_commit_leaves_reviews_stale() {
    let (h, pull) = p0().await;
    approved_by_both_roles(&h, pull.number, HEAD_SHA);
    h.pull_request("opened", pull.number).await;
    assert_eq!(h.check(HEAD_SHA).conclusion.as_deref(), Some("success"));

    h.gh.update_pull(REPO, pull.number, |p| p.head_sha = TREE_TWIN.into());
    h.gh.set_file(REPO, TREE_TWIN, "VERSION", "1.2.4\n");
    h.gh.add_push_activity(
        REPO,
        &pull.head_ref,
        TREE_TWIN,
        "force_push",
        "dana",
        pull.created_at + Duration::minutes(30),
    );
    h.pull_request("synchronize", pull.number).await;
    let text = text_concluded(&h, TREE_TWIN, "failure");
    assert!(text.contains("not the head commit"), "{text}");
}

// ---- Approvals the author makes up ----------------------------------------

/// On a count-only P2 (set by a writer), the author approves by comment and
/// by review, and so does the author's second account, which has write
/// access only to its own fork: nothing counts.
#[tokio::test]
async fn the_author_and_a_second_account_without_write_access_cannot_approve() {
    let h = Harness::start().await;
    let pull = PullSeed {
        labels: vec!["hotfix".into(), "P2".into()],
        ..h.p0()
    };
    h.seed(POLICY, &pull);
    h.label_events_by(&pull, "bob");
    h.gh.set_permission(REPO, "dana-alt", "read");
    h.gh.add_review(REPO, pull.number, "dana", "APPROVED", HEAD_SHA);
    h.gh.add_review(REPO, pull.number, "dana-alt", "APPROVED", HEAD_SHA);
    for user in ["dana", "dana-alt"] {
        h.gh.add_comment_at(
            REPO,
            pull.number,
            user,
            "/hotfix approve",
            pull.created_at + Duration::minutes(3),
        );
    }
    h.pull_request("opened", pull.number).await;
    let text = text_concluded(&h, HEAD_SHA, "failure");
    assert!(
        text.contains("0 of 1 approval from people with write access"),
        "{text}"
    );
    println!("{text}");
}

/// The author's own GitHub Actions job named `hotfix-policy` reports
/// `success` on the head: the app neither adopts (nor edits) that run nor
/// skips writing its own.
#[tokio::test]
async fn an_authors_job_named_hotfix_policy_is_neither_adopted_nor_trusted() {
    let (h, pull) = p0().await;
    let fake = h.gh.add_check_run(
        REPO,
        CheckRunSeed {
            name: "hotfix-policy".into(),
            head_sha: HEAD_SHA.into(),
            conclusion: Some("success".into()),
            title: Some("all good".into()),
            app_id: 15368, // GitHub Actions
            ..CheckRunSeed::default()
        },
    );
    h.pull_request("opened", pull.number).await;
    let runs = h.gh.check_runs(REPO, HEAD_SHA);
    let ours: Vec<_> = runs.iter().filter(|r| r.app_id == APP_ID).collect();
    assert_eq!(ours.len(), 1, "{runs:#?}");
    assert_eq!(ours[0].conclusion.as_deref(), Some("failure"));
    let theirs = runs.iter().find(|r| r.id == fake).expect("their run");
    assert_eq!(theirs.conclusion.as_deref(), Some("success"));
    assert_eq!(theirs.title.as_deref(), Some("all good"), "not edited");
}

/// The author edits the policy in the pull request to need nothing: the
/// policy that judges is production's.
#[tokio::test]
async fn a_policy_loosened_in_the_pull_request_does_not_judge_it() {
    let (h, pull) = p0().await;
    let lax = POLICY.replace(
        "approvals: { roles: [engineering-lead, on-call-manager] }",
        "approvals: { count: 0 }",
    );
    assert_ne!(lax, POLICY);
    h.gh.set_file(REPO, HEAD_SHA, POLICY_PATH, &lax);
    h.gh.set_pull_files(
        REPO,
        pull.number,
        [("src/fix.rs", 3, 1), ("VERSION", 1, 1), (POLICY_PATH, 1, 1)],
    );
    h.pull_request("opened", pull.number).await;
    let text = text_concluded(&h, HEAD_SHA, "failure");
    assert!(
        text.contains("needs engineering-lead and on-call-manager approval"),
        "{text}"
    );
}

/// Build metadata or a pre-release is not a patch bump, whatever else is
/// approved.
#[tokio::test]
async fn a_version_that_only_adds_build_metadata_or_a_pre_release_is_not_a_bump() {
    for (head_version, wording) in [
        (
            "1.2.3+hotfix.1\n",
            "VERSION 1.2.3 → 1.2.3+hotfix.1: expected 1.2.4",
        ),
        (
            "\u{feff}v1.2.4-rc.1\r\n",
            "a hotfix must not be a pre-release",
        ),
    ] {
        let (h, pull) = p0().await;
        h.gh.set_file(REPO, HEAD_SHA, "VERSION", head_version);
        approved_by_both_roles(&h, pull.number, HEAD_SHA);
        h.pull_request("opened", pull.number).await;
        let run = h.check(HEAD_SHA);
        let text = text_of(&run);
        assert_eq!(
            run.conclusion.as_deref(),
            Some("failure"),
            "{head_version:?}: {text}"
        );
        assert!(text.contains(wording), "{head_version:?}: {text}");
    }
}

// ---- Silencing the escalation ---------------------------------------------

/// The author writes the app's markers into the pull request's body: the
/// escalation still comes, and the body is not taken for the sticky
/// comment.
#[tokio::test]
async fn markers_in_the_pull_request_body_silence_nothing() {
    let (h, pull) = p0_changed(POLICY, |p0| PullSeed {
        body: Some(
            "<!-- hotfix-guard -->\n<!-- hotfix-guard:escalation level=1 -->\n<!-- hotfix-guard:escalation level=2 -->"
                .into(),
        ),
        ..p0
    })
    .await;
    h.clock.set(pull.created_at);
    h.pull_request("opened", pull.number).await;
    assert_eq!(h.app.engine.watched().await, 1);
    h.clock.advance(Duration::minutes(130));
    assert_eq!(h.app.engine.sweep().await, 1, "the escalation is posted");
    assert_eq!(escalations(&h, pull.number), 1);
}

/// Converting the pull request to a draft (the author may) does not stop
/// the escalation.
#[tokio::test]
async fn converting_to_draft_does_not_stop_the_escalation() {
    let (h, pull) = p0().await;
    h.pull_request("opened", pull.number).await;
    h.gh.update_pull(REPO, pull.number, |p| p.draft = true);
    h.pull_request("converted_to_draft", pull.number).await;
    h.clock.advance(Duration::minutes(130));
    assert_eq!(h.app.engine.sweep().await, 1, "the escalation is posted");
    assert_eq!(escalations(&h, pull.number), 1);
}

/// Closes the P0 as `closer` (a `closed` timeline event by them), lets
/// its deadline pass and sweeps; returns the check run's text.
async fn close_and_sweep(h: &Harness, number: u64, closer: &str) -> String {
    h.pull_request("opened", number).await;
    h.gh.update_pull(REPO, number, |p| p.state = "closed".into());
    h.gh.add_state_event(REPO, number, "closed", closer, chrono::Utc::now());
    h.pull_request("closed", number).await;
    let text = text_of(&h.check(HEAD_SHA));
    h.clock.advance(Duration::minutes(130));
    assert_eq!(h.app.engine.sweep().await, 1, "the escalation is posted");
    assert_eq!(escalations(h, number), 1);
    text
}

/// The author without write access (who may close their own pull
/// request) closes the P0 a writer labelled; its deadline passes. The
/// procedure's escalation exists because the incident is not fixed: a
/// close by someone who could not have taken the pull request out of the
/// procedure by removing its labels must not silence it either.
#[tokio::test]
async fn closing_by_the_author_does_not_silence_the_escalation() {
    let (h, pull) = p0_changed(POLICY, |p0| PullSeed {
        author: "erin".into(),
        ..p0
    })
    .await;
    h.gh.set_permission(REPO, "erin", "read");
    h.clock.set(pull.created_at);
    let text = close_and_sweep(&h, pull.number, "erin").await;
    assert!(
        text.contains("Closed without merging by @erin at ")
            && text.contains(
                ", who lacks write access: escalation continues; a writer can close it to stop it."
            ),
        "{text}"
    );
}

/// The same close by a triage user; then a writer closes it again, which
/// stops the escalation (the second level is never posted).
#[tokio::test]
async fn closing_by_a_triage_user_does_not_silence_the_escalation() {
    let (h, pull) = p0().await;
    let text = close_and_sweep(&h, pull.number, "trina").await;
    assert!(
        text.contains("Closed without merging by @trina at ")
            && text.contains(", who lacks write access: escalation continues"),
        "{text}"
    );
    h.gh.add_state_event(REPO, pull.number, "reopened", "dana", chrono::Utc::now());
    h.gh.add_state_event(REPO, pull.number, "closed", "bob", chrono::Utc::now());
    h.pull_request("closed", pull.number).await;
    let text = text_of(&h.check(HEAD_SHA));
    assert!(
        text.contains("Closed without merging by @bob at ") && text.contains("escalation stopped"),
        "{text}"
    );
    assert_eq!(h.app.engine.watched().await, 0);
    h.clock.advance(Duration::hours(5));
    assert_eq!(h.app.engine.sweep().await, 0);
    assert_eq!(escalations(&h, pull.number), 1);
}

/// The deadline sweep judges a close itself (fresh from the timeline),
/// not only the evaluation: a writer's close whose delivery has not
/// arrived stops it; a triage user's does not.
#[tokio::test]
async fn the_sweep_judges_a_close_whose_delivery_has_not_arrived() {
    let (h, pull) = p0().await;
    h.pull_request("opened", pull.number).await;
    h.gh.update_pull(REPO, pull.number, |p| p.state = "closed".into());
    h.gh.add_state_event(REPO, pull.number, "closed", "trina", chrono::Utc::now());
    h.clock.advance(Duration::minutes(130));
    assert_eq!(h.app.engine.sweep().await, 1, "a triage user's close");
    assert_eq!(escalations(&h, pull.number), 1);

    let (h, pull) = p0().await;
    h.pull_request("opened", pull.number).await;
    h.gh.update_pull(REPO, pull.number, |p| p.state = "closed".into());
    h.gh.add_state_event(REPO, pull.number, "closed", "bob", chrono::Utc::now());
    h.clock.advance(Duration::minutes(130));
    assert_eq!(h.app.engine.sweep().await, 0, "a writer's close");
    assert_eq!(escalations(&h, pull.number), 0);
    assert_eq!(h.app.engine.watched().await, 0);
}

/// Before a writer sets the severity, the author buries the timeline under
/// more than 10,000 comments (GitHub's lists stop at 100 pages of 100).
/// When the writer labels it P0, the evaluation must not give up in a way
/// that leaves the deadline unwatched: the check fails naming the limit,
/// the severity's time comes from the issue events list, and the
/// escalation is posted once the deadline passes.
#[tokio::test]
async fn a_timeline_flooded_before_the_severity_does_not_silence_the_escalation() {
    let h = Harness::start().await;
    let pull = PullSeed {
        labels: Vec::new(),
        ..h.p0()
    };
    h.seed(POLICY, &pull);
    h.clock.set(pull.created_at);
    h.pull_request("opened", pull.number).await;
    for n in 0..10_001 {
        h.gh.add_comment_at(
            REPO,
            pull.number,
            "dana",
            &format!("bump ({n})"),
            pull.created_at + Duration::seconds(10),
        );
    }
    h.gh.set_labels(REPO, pull.number, &["hotfix", "P0"]);
    for label in ["hotfix", "P0"] {
        h.gh.add_label_event(
            REPO,
            pull.number,
            label,
            "alice",
            true,
            pull.created_at + Duration::minutes(20),
        );
    }
    let spec = PrSpec::from_seed(REPO, &h.gh.pull(REPO, pull.number).expect("pull"), 1);
    let payload = common::webhook::pull_request_label_event("labeled", &spec, "P0");
    assert_eq!(
        h.deliver("pull_request", &payload).await,
        StatusCode::ACCEPTED
    );
    // Reading 100 pages of timeline (one try, a few seconds in debug; five
    // tries of it before the fix) may take longer than `settle` waits:
    // wait for the run the evaluation leaves.
    let started = std::time::Instant::now();
    while started.elapsed() < std::time::Duration::from_secs(300) {
        let done = h.gh.check_runs(REPO, HEAD_SHA).iter().any(|r| {
            r.title.as_deref() == Some("hotfix-guard could not evaluate this pull request")
                || r.conclusion.as_deref() == Some("failure") && r.update_count > 0
        });
        if done {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        eprintln!(
            "{:?}: {} timeline pages read",
            started.elapsed(),
            h.gh.count("GET", "/timeline")
        );
    }
    let run = h.check(HEAD_SHA);
    let text = text_of(&run);
    // The figure docs/facts.md quotes: what the flooded evaluations cost.
    println!(
        "timeline pages {}, events pages {}, GitHub requests in all {}",
        h.gh.count("GET", "/timeline"),
        h.gh.count("GET", "/events"),
        h.gh.count("*", "/")
    );
    assert_eq!(run.conclusion.as_deref(), Some("failure"), "{text}");
    assert!(
        text.contains("more than 10,000 timeline items")
            && text.contains(
                "`/hotfix approve` comments after them are not read, so approve by review"
            ),
        "the failure names the limit: {text}"
    );
    // Who set the severity, and when, still comes from GitHub's events
    // list (the label events lie past the cut).
    assert!(text.contains("P0 set by @alice"), "{text}");
    assert_eq!(
        h.app.engine.watched().await,
        1,
        "the P0's deadline is watched: {text}"
    );
    assert_eq!(
        h.gh.count("GET", "/events"),
        1,
        "the events list is read once"
    );
    assert_eq!(
        h.gh.count("GET", "/reviews"),
        1,
        "the reviews list is read once"
    );
    // P0 was set 20 minutes after the opening: its 2h deadline passes at
    // 2h 20m.
    h.clock.advance(Duration::minutes(130));
    h.app.engine.sweep().await;
    assert_eq!(
        escalations(&h, pull.number),
        0,
        "not due before the deadline"
    );
    h.clock.advance(Duration::minutes(20));
    h.app.engine.sweep().await;
    assert_eq!(escalations(&h, pull.number), 1, "the escalation is posted");
}

/// The flood must not block the hotfix for good either: label events and
/// reviews are read from their own lists when the timeline is cut, so two
/// role members' approving reviews pass it, and the report does not name
/// the limit (the unread comments could only have added approvals). A
/// role member's later review requesting changes still blocks it.
#[tokio::test]
async fn a_flooded_timeline_still_passes_on_approving_reviews_and_blocks_on_changes_requested() {
    let h = Harness::start().await;
    let pull = PullSeed {
        labels: Vec::new(),
        ..h.p0()
    };
    h.seed(POLICY, &pull);
    h.clock.set(pull.created_at);
    for n in 0..10_001 {
        h.gh.add_comment_at(
            REPO,
            pull.number,
            "dana",
            &format!("bump ({n})"),
            pull.created_at + Duration::seconds(10),
        );
    }
    h.gh.set_labels(REPO, pull.number, &["hotfix", "P0"]);
    for label in ["hotfix", "P0"] {
        h.gh.add_label_event(
            REPO,
            pull.number,
            label,
            "alice",
            true,
            pull.created_at + Duration::minutes(20),
        );
    }
    // Reviewed after the flood: past the timeline's cut.
    let after = pull.created_at + Duration::minutes(30);
    h.gh.add_review_at(REPO, pull.number, "alice", "APPROVED", HEAD_SHA, after);
    h.gh.add_review_at(
        REPO,
        pull.number,
        "oncall-olga",
        "APPROVED",
        HEAD_SHA,
        after,
    );
    h.pull_request("labeled", pull.number).await;
    h.settle().await;
    let text = text_concluded(&h, HEAD_SHA, "success");
    assert!(!text.contains("timeline items"), "{text}");
    assert_eq!(h.app.engine.watched().await, 1, "{text}");

    // A role member (only they may block) changes her mind.
    h.gh.add_review_at(
        REPO,
        pull.number,
        "alice",
        "CHANGES_REQUESTED",
        HEAD_SHA,
        after + Duration::minutes(1),
    );
    h.pull_request("labeled", pull.number).await;
    h.settle().await;
    let text = text_concluded(&h, HEAD_SHA, "failure");
    assert!(
        text.contains("changes requested by @alice"),
        "the blocking review is named: {text}"
    );
}

// ---- Freshness of comment approvals, by the author ------------------------

/// The author first opens a second pull request (#8, not a hotfix) whose
/// head is the malicious commit EVIL: the app records when it received
/// EVIL. Reviewers approve the hotfix #7 by comment, on its own head. The
/// author pushes EVIL to #7's branch; GitHub's `synchronize` delivery is
/// late (GitHub delays deliveries at times), and meanwhile the author
/// comments on #7 to have it evaluated. The receipt of EVIL for #8 must not
/// vouch that the approvals on #7 came after EVIL became #7's head.
#[tokio::test]

async fn another_pull_requests_delivery_of_the_same_commit_does_not_make_comments_fresh() {
    const EVIL: &str = "e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1";
    let (h, pull) = p0().await;
    h.gh.add_repo("mallory/app");
    h.gh.update_pull(REPO, pull.number, |p| {
        p.created_at = chrono::Utc::now() - Duration::minutes(30);
        p.head_repo = Some("mallory/app".into());
    });
    h.gh.set_file(REPO, EVIL, "VERSION", "1.2.4\n");
    h.gh.add_pull(
        REPO,
        PullSeed {
            number: 8,
            head_ref: "feature/other".into(),
            head_sha: EVIL.into(),
            head_repo: Some("mallory/app".into()),
            labels: Vec::new(),
            created_at: chrono::Utc::now() - Duration::minutes(20),
            ..h.p0()
        },
    );
    fork_delivery(&h, "opened", 8).await;
    fork_delivery(&h, "synchronize", pull.number).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let now = chrono::Utc::now();
    approve_by_comment(&h, pull.number, "alice", now + Duration::seconds(1)).await;
    approve_by_comment(&h, pull.number, "oncall-olga", now + Duration::seconds(2)).await;
    assert_eq!(h.check(HEAD_SHA).conclusion.as_deref(), Some("success"));

    // EVIL is pushed to #7; its `synchronize` has not arrived yet.
    h.gh.update_pull(REPO, pull.number, |p| p.head_sha = EVIL.into());
    approve_by_comment(&h, pull.number, "dana", now + Duration::seconds(5)).await;
    let text = text_concluded(&h, EVIL, "failure");
    assert!(text.contains("approve again"), "{text}");
}

// ---- Silencing the merge-back, by a triage user ---------------------------

/// A merged P0's merge-back pull request is open; a triage user closes it
/// without merging. The hotfix's merge-back check must not keep saying
/// "Waiting for #n to merge" about a closed pull request: either a new
/// merge-back pull request is opened or the check fails saying so.
#[tokio::test]
async fn a_merge_back_closed_by_a_triage_user_is_not_silently_waited_on() {
    const MERGE_SHA: &str = "m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3";
    let (h, pull) = common::attacks::merged_approved_p0(POLICY, MERGE_SHA).await;
    h.gh.set_permission(REPO, "trina", "triage");
    h.pull_request("closed", pull.number).await;
    let merge_backs = |h: &Harness| -> Vec<PullSeed> {
        h.gh.pulls(REPO)
            .into_iter()
            .filter(|p| p.head_ref == "hotfix-guard/merge-back-7")
            .collect()
    };
    let opened = merge_backs(&h);
    assert_eq!(opened.len(), 1);
    let mb = opened[0].number;

    h.gh.update_pull(REPO, mb, |p| p.state = "closed".into());
    h.gh.add_state_event(REPO, mb, "closed", "trina", chrono::Utc::now());
    h.pull_request("closed", mb).await;

    let open = merge_backs(&h)
        .into_iter()
        .filter(|p| p.state == "open")
        .count();
    let run =
        h.gh.check_runs(REPO, MERGE_SHA)
            .into_iter()
            .find(|r| r.name == "hotfix-policy/merge-back")
            .expect("the merge-back check");
    assert!(
        open == 1 || run.conclusion.as_deref() == Some("failure"),
        "{} open merge-back pull requests; the check says {:?} / {:?}",
        open,
        run.status,
        run.title
    );
    // The design chosen: a person closed it, so the app does not open
    // another one behind them; the check fails naming who and what to do.
    assert_eq!(open, 0, "no new merge-back pull request is opened");
    let text = text_of(&run);
    assert!(
        text.contains(&format!(
            "#{mb} was closed without merging: merge the hotfix into develop"
        )) && text.contains(&format!(
            "was closed by @trina without merging. Reopen #{mb} and merge it"
        )) && text.contains("git merge --no-ff hotfix/login-loop"),
        "{text}"
    );

    // Reopened: the check waits on it again.
    h.gh.update_pull(REPO, mb, |p| p.state = "open".into());
    h.gh.add_state_event(REPO, mb, "reopened", "dana", chrono::Utc::now());
    h.pull_request("reopened", mb).await;
    let run =
        h.gh.check_runs(REPO, MERGE_SHA)
            .into_iter()
            .find(|r| r.name == "hotfix-policy/merge-back")
            .expect("the merge-back check");
    assert_eq!(
        run.title.as_deref(),
        Some(format!("Waiting for #{mb} to merge into develop").as_str()),
        "{:?}",
        run.conclusion
    );
}

/// The same as above within one pull request: EVIL was #7's head once
/// (the app recorded it), the author force-pushed the reviewed head back,
/// reviewers approved it by comment, and the author force-pushes EVIL
/// again. Until that `synchronize` arrives, the author's own comment has
/// #7 evaluated on EVIL with EVIL's old receipt time.
#[tokio::test]

async fn a_re_pushed_head_whose_delivery_is_late_does_not_make_comments_fresh() {
    const EVIL: &str = "e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1";
    let (h, pull) = p0().await;
    h.gh.add_repo("mallory/app");
    h.gh.update_pull(REPO, pull.number, |p| {
        p.created_at = chrono::Utc::now() - Duration::minutes(30);
        p.head_repo = Some("mallory/app".into());
    });
    h.gh.set_file(REPO, EVIL, "VERSION", "1.2.4\n");
    h.gh.update_pull(REPO, pull.number, |p| p.head_sha = EVIL.into());
    fork_delivery(&h, "synchronize", pull.number).await;
    h.gh.update_pull(REPO, pull.number, |p| p.head_sha = HEAD_SHA.into());
    fork_delivery(&h, "synchronize", pull.number).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let now = chrono::Utc::now();
    approve_by_comment(&h, pull.number, "alice", now + Duration::seconds(1)).await;
    approve_by_comment(&h, pull.number, "oncall-olga", now + Duration::seconds(2)).await;
    assert_eq!(h.check(HEAD_SHA).conclusion.as_deref(), Some("success"));

    // EVIL is force-pushed again; its `synchronize` has not arrived yet.
    h.gh.update_pull(REPO, pull.number, |p| p.head_sha = EVIL.into());
    approve_by_comment(&h, pull.number, "dana", now + Duration::seconds(5)).await;
    let text = text_concluded(&h, EVIL, "failure");
    assert!(text.contains("approve again"), "{text}");
}
