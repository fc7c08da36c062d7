//! Sixth adversarial review of issue 9 (fail closed). As the other review
//! files: each test plays what only a pull request's author (write access
//! to their own fork, none on the base repository) or a user with triage
//! access (labels, close, reopen, lock; no push, no merge) can do, through
//! signed deliveries to the real router and the real client talking to the
//! fake GitHub, and asserts the SAFE outcome (conclusion and wording). A
//! passing test is an attack that failed; a test marked
//! `#[ignore = "finding: …"]` is an attack that worked (see its comment).

mod common;

use common::attacks::text_of;
use common::fake_github::PullSeed;
use common::harness::{HEAD_SHA, Harness, POLICY, REPO};

/// The P0 hotfix #7 (labelled by dana, a writer; unapproved) and, on the
/// very same head commit, the author's second pull request #9 from
/// `hotfix/twin`, an earlier P2 hotfix of the same code that bob approved
/// (P2 needs one approval), its labels set by `labeller`. Both are
/// evaluated; the P0 fails.
async fn p0_with_an_approved_p2_twin(labeller: &str) -> (Harness, PullSeed) {
    let h = Harness::start().await;
    let pull = h.p0();
    h.seed(POLICY, &pull);
    h.label_events_by(&pull, "dana");
    h.clock.set(pull.created_at);
    let twin = PullSeed {
        number: 9,
        head_ref: "hotfix/twin".into(),
        head_sha: HEAD_SHA.into(),
        labels: vec!["hotfix".into(), "P2".into()],
        ..h.p0()
    };
    h.gh.add_pull(REPO, twin.clone());
    h.gh.set_pull_files(REPO, 9, [("src/fix.rs", 3, 1), ("VERSION", 1, 1)]);
    h.gh.set_permission(REPO, "trina", "triage");
    h.label_events_by(&twin, labeller);
    h.gh.add_review(REPO, 9, "bob", "APPROVED", HEAD_SHA);
    h.pull_request("opened", 9).await;
    h.pull_request("opened", pull.number).await;
    let run = h.check(HEAD_SHA);
    assert_eq!(
        run.conclusion.as_deref(),
        Some("failure"),
        "precondition: the P0 fails: {}",
        text_of(&run)
    );
    (h, pull)
}

/// The shared run must keep the P0's failure: branch protection of #7
/// reads `hotfix-policy` on its head, and GitHub shows one run per name.
fn assert_the_p0_failure_holds(h: &Harness) {
    let run = h.check(HEAD_SHA);
    let text = text_of(&run);
    assert_eq!(run.conclusion.as_deref(), Some("failure"), "{text}");
    assert!(
        text.contains("needs engineering-lead and on-call-manager approval"),
        "{text}"
    );
}

// ---- Two hotfix pull requests on one head, by the author ------------------

/// The author edits the approved P2 twin's title (anyone may edit their
/// own pull request): GitHub delivers `edited` for #9 and the app writes
/// #9's `success` on the commit #7 shares. The P0 #7 is then mergeable
/// with no approval from either role.
#[tokio::test]
async fn an_approved_lower_severity_twin_on_the_same_head_does_not_pass_the_p0() {
    let (h, _pull) = p0_with_an_approved_p2_twin("dana").await;
    h.gh.update_pull(REPO, 9, |p| {
        p.title = "fix: stop the login loop (P2)".into()
    });
    h.pull_request("edited", 9).await;
    assert_the_p0_failure_holds(&h);
}

/// The same through a pull request the author abandoned: they close the
/// P2 twin (no write access needed for one's own pull request) and edit
/// its title afterwards. A closed, unmerged hotfix's verdict must not
/// replace the open P0's on their shared head either.
#[tokio::test]
async fn a_closed_approved_twin_edited_by_its_author_does_not_pass_the_p0() {
    let (h, _pull) = p0_with_an_approved_p2_twin("dana").await;
    h.gh.update_pull(REPO, 9, |p| p.state = "closed".into());
    h.pull_request("closed", 9).await;
    h.gh.update_pull(REPO, 9, |p| p.title = "abandoned".into());
    h.pull_request("edited", 9).await;
    assert_the_p0_failure_holds(&h);
}

/// The boundary of the finding above: the same twin whose severity a
/// triage user chose (a label that does not count) fails on its own, so
/// whatever order the author makes the two evaluations run in, the shared
/// run stays failing. The finding needs a writer's severity on the twin.
#[tokio::test]
async fn a_twin_whose_severity_a_triage_user_chose_does_not_pass_the_p0() {
    let (h, _pull) = p0_with_an_approved_p2_twin("trina").await;
    h.gh.update_pull(REPO, 9, |p| {
        p.title = "fix: stop the login loop (P2)".into()
    });
    h.pull_request("edited", 9).await;
    let run = h.check(HEAD_SHA);
    let text = text_of(&run);
    assert_eq!(run.conclusion.as_deref(), Some("failure"), "{text}");
    assert!(
        text.contains("trina"),
        "the twin's verdict names the triage user: {text}"
    );
}

// ---- Retargeting, by the author -------------------------------------------

/// The author moves the unapproved P0 to `develop` (anyone may change the
/// base of their own pull request; GitHub delivers `edited`). The check
/// must say where it should go, and its deadline must still escalate: a
/// hotfix is one by its labels, not by where it currently points.
#[tokio::test]
async fn retargeting_an_unapproved_p0_to_develop_neither_passes_nor_silences_the_escalation() {
    let (h, pull) = common::attacks::p0().await;
    h.clock.set(pull.created_at);
    h.pull_request("opened", pull.number).await;
    h.gh.update_pull(REPO, pull.number, |p| {
        p.base_ref = "develop".into();
        p.base_sha = "d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0".into();
    });
    h.gh.set_file(
        REPO,
        "d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0",
        "VERSION",
        "1.2.3\n",
    );
    h.pull_request("edited", pull.number).await;
    let run = h.check(HEAD_SHA);
    let text = text_of(&run);
    assert_eq!(run.conclusion.as_deref(), Some("failure"), "{text}");
    assert!(
        text.contains("targets develop; hotfixes must target main"),
        "{text}"
    );

    h.clock.advance(chrono::Duration::minutes(130));
    h.app.engine.sweep().await;
    assert_eq!(
        common::attacks::escalations(&h, pull.number),
        1,
        "the P0's escalation is posted"
    );
}

// ---- A second pull request on the head, and the escalation ----------------

/// The author opens a second pull request from `hotfix/twin` on the P0's
/// head (no severity: it is a hotfix by its branch only) and keeps editing
/// it, so that the shared run shows #9's verdict. The P0 #7's deadline
/// must still escalate on #7, once.
#[tokio::test]
async fn a_twin_pull_request_on_the_head_does_not_silence_the_p0s_escalation() {
    let (h, pull) = common::attacks::p0().await;
    h.clock.set(pull.created_at);
    h.gh.add_pull(
        REPO,
        PullSeed {
            number: 9,
            head_ref: "hotfix/twin".into(),
            labels: vec![],
            ..pull.clone()
        },
    );
    h.gh.set_pull_files(REPO, 9, [("src/fix.rs", 3, 1), ("VERSION", 1, 1)]);
    h.pull_request("opened", pull.number).await;
    h.pull_request("opened", 9).await;
    h.clock.advance(chrono::Duration::minutes(100));
    h.pull_request("edited", 9).await;
    h.clock.advance(chrono::Duration::minutes(30));
    h.pull_request("edited", 9).await;
    h.app.engine.sweep().await;
    h.pull_request("edited", 9).await;
    h.app.engine.sweep().await;
    assert_eq!(
        common::attacks::escalations(&h, pull.number),
        1,
        "the P0's escalation is posted once"
    );
    assert_eq!(common::attacks::escalations(&h, 9), 0, "none on the twin");
    let run = h.check(HEAD_SHA);
    assert_eq!(
        run.conclusion.as_deref(),
        Some("failure"),
        "{}",
        text_of(&run)
    );
}

// ---- Markers in the title with odd line breaks, by the author -------------

const MERGE_SHA: &str = "m6m6m6m6m6m6m6m6m6m6m6m6m6m6m6m6m6m6m6m6";

/// The author titles the approved P0 with the follow-up marker after a
/// CR, a CRLF, a Unicode line separator and a next-line character (the
/// API takes any of them in a title), then once more with odd spacing and
/// a full-width `<`, and on lines of their own (LF, CRLF) with text
/// after them so that the app's own words do not end those lines. Once merged, the follow-up issue must still be
/// opened and named in the sticky comment, never #999.
#[tokio::test]
async fn follow_up_markers_after_odd_line_breaks_in_the_title_do_not_stop_the_follow_up() {
    follow_up_after_merge(
        "fix\r<!-- hotfix-guard:follow-up #999 -->\r\n<!-- hotfix-guard:follow-up #999 -->\u{2028}<!-- hotfix-guard:follow-up #999 -->\u{85}<!--  hotfix-guard:follow-up #999 -->\n\u{ff1c}!-- hotfix-guard:follow-up #999 -->\n<!-- hotfix-guard:follow-up #999 -->\r\n<!-- hotfix-guard:follow-up #999 -->\nend",
    )
    .await;
}

/// The same with a plain title: the follow-up is opened.
#[tokio::test]
async fn with_a_plain_title_the_follow_up_is_opened_and_named() {
    follow_up_after_merge("fix: stop the login loop").await;
}

async fn follow_up_after_merge(title: &str) {
    let h = Harness::start().await;
    let pull = PullSeed {
        title: title.into(),
        ..h.p0()
    };
    h.seed(POLICY, &pull);
    h.label_events_by(&pull, "dana");
    h.clock.set(pull.created_at);
    common::attacks::approved_by_both_roles(&h, pull.number, HEAD_SHA);
    h.pull_request("opened", pull.number).await;
    assert_eq!(h.check(HEAD_SHA).conclusion.as_deref(), Some("success"));

    h.gh.update_pull(REPO, pull.number, |p| {
        p.state = "closed".into();
        p.merged = true;
        p.merge_commit_sha = Some(MERGE_SHA.into());
        p.merged_by = Some("alice".into());
        p.merged_at = Some(chrono::Utc::now());
    });
    h.pull_request("closed", pull.number).await;

    let opened: Vec<_> =
        h.gh.issues(REPO)
            .into_iter()
            .filter(|i| i.user == common::fake_github::BOT_LOGIN)
            .collect();
    let sticky = h
        .bot_comments(pull.number)
        .into_iter()
        .find(|c| c.body.starts_with("<!-- hotfix-guard -->"))
        .map(|c| c.body)
        .expect("the sticky comment");
    assert_eq!(opened.len(), 1, "the follow-up issue is opened: {sticky}");
    assert!(
        sticky.contains(&format!("Post-incident review: [#{}]", opened[0].number)),
        "{sticky}"
    );
    assert!(!sticky.contains("[#999]"), "{sticky}");
}

// ---- Two instances, and the author's timing --------------------------------

/// A P2 approved by bob passes. Two replicas share the store. The author
/// edits the title (instance one evaluates it, and one of its reads after
/// the reviews is slow); meanwhile alice requests changes and instance two
/// evaluates that. Whatever order the two writes land in, the run must
/// end `failure` naming alice, never instance one's older `success`.
#[tokio::test]
async fn an_older_evaluation_on_another_instance_does_not_write_its_success_last() {
    let h = Harness::start().await;
    let pull = PullSeed {
        labels: vec!["hotfix".into(), "P2".into()],
        ..h.p0()
    };
    h.seed(POLICY, &pull);
    h.label_events_by(&pull, "dana");
    h.gh.add_review(REPO, pull.number, "bob", "APPROVED", HEAD_SHA);
    h.clock.set(pull.created_at);
    h.pull_request("opened", pull.number).await;
    assert_eq!(h.check(HEAD_SHA).conclusion.as_deref(), Some("success"));
    let second = Harness::on_shared_store(&h).await;
    second.clock.set(pull.created_at);

    for path in ["/contents/VERSION", "/pulls/7/files"] {
        h.gh.delay_next("GET", path, std::time::Duration::from_millis(800), 1);
    }
    let request_changes = async {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        h.gh.add_review(REPO, pull.number, "alice", "CHANGES_REQUESTED", HEAD_SHA);
        edited_on(&second, pull.number, "6b6b6b6b-0000-4000-8000-000000000001").await
    };
    let _ = tokio::join!(h.pull_request("edited", pull.number), request_changes);
    h.settle().await;
    second.settle().await;

    let run = h.check(HEAD_SHA);
    let text = text_of(&run);
    assert_eq!(run.conclusion.as_deref(), Some("failure"), "{text}");
    assert!(text.contains("alice"), "{text}");
}

/// `pull_request.edited` for `number` as the fake holds it now, delivered
/// to `instance` under delivery id `id` (each harness counts its own ids
/// from zero; GitHub never reuses one, and a shared store would take a
/// reused id for a redelivery); waits for that instance's evaluation.
async fn edited_on(instance: &Harness, number: u64, id: &str) {
    let seed = instance.gh.pull(REPO, number).expect("seeded pull request");
    let mut payload = common::webhook::pull_request_event(
        "edited",
        &common::webhook::PrSpec::from_seed(REPO, &seed, 1),
    );
    if let Some((files, additions, deletions)) = instance.gh.pull_totals(REPO, number) {
        payload["pull_request"]["changed_files"] = files.into();
        payload["pull_request"]["additions"] = additions.into();
        payload["pull_request"]["deletions"] = deletions.into();
    }
    payload["pull_request"]["html_url"] =
        format!("{}/{REPO}/pull/{number}", instance.gh.url()).into();
    instance.deliver_as("pull_request", id, &payload).await;
    instance.settle().await;
}

/// The other side of the twin rule: once the P0 is closed (its verdict no
/// longer stands on the commit), the approved twin's `success` replaces
/// the P0's failure on their shared head; a commit is not held by a pull
/// request that is gone from it.
#[tokio::test]
async fn a_closed_p0_no_longer_holds_the_shared_head_against_an_approved_twin() {
    let (h, pull) = p0_with_an_approved_p2_twin("dana").await;
    h.gh.update_pull(REPO, pull.number, |p| p.state = "closed".into());
    h.gh.update_pull(REPO, 9, |p| {
        p.title = "fix: stop the login loop (P2)".into()
    });
    h.pull_request("edited", 9).await;
    let run = h.check(HEAD_SHA);
    assert_eq!(
        run.conclusion.as_deref(),
        Some("success"),
        "{}",
        text_of(&run)
    );
}
