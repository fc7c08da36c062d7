//! Sixth adversarial review of issue 9 (fail closed). As the other review
//! files: each test plays what only a pull request's author (write access
//! to their own fork, none on the base repository) or a user with triage
//! access (labels, close, reopen, lock; no push, no merge) can do, through
//! signed deliveries to the real router and the real client talking to the
//! fake GitHub, and asserts the SAFE outcome (conclusion and wording). A
//! passing test is an attack that failed; a test marked
//! `#[ignore = "finding: …"]` is an attack that worked (see its comment).

use crate::common;

use common::attacks::text_concluded;
use common::harness::{HEAD_SHA, Harness, REPO};
use common::twins::{
    TWIN, add_with_the_fix, assert_the_p0_failure_holds, edit_the_twin,
    p0_with_an_approved_p2_twin, pull_on_the_head,
};

// ---- Two hotfix pull requests on one head, by the author ------------------

/// The author edits the approved P2 twin's title (anyone may edit their
/// own pull request): GitHub delivers `edited` for #9 and the app writes
/// #9's `success` on the commit #7 shares. The P0 #7 is then mergeable
/// with no approval from either role.
#[tokio::test]
async fn an_approved_lower_severity_twin_on_the_same_head_does_not_pass_the_p0() {
    let (h, _pull) = p0_with_an_approved_p2_twin("dana").await;
    edit_the_twin(&h).await;
    assert_the_p0_failure_holds(&h);
}

/// The same through a pull request the author abandoned: they close the
/// P2 twin (no write access needed for one's own pull request) and edit
/// its title afterwards. A closed, unmerged hotfix's verdict must not
/// replace the open P0's on their shared head either.
#[tokio::test]
async fn a_closed_approved_twin_edited_by_its_author_does_not_pass_the_p0() {
    let (h, _pull) = p0_with_an_approved_p2_twin("dana").await;
    h.gh.update_pull(REPO, TWIN, |p| p.state = "closed".into());
    h.pull_request("closed", TWIN).await;
    h.gh.update_pull(REPO, TWIN, |p| p.title = "abandoned".into());
    h.pull_request("edited", TWIN).await;
    assert_the_p0_failure_holds(&h);
}

/// The boundary of the finding above: the same twin whose severity a
/// triage user chose (a label that does not count) fails on its own, so
/// whatever order the author makes the two evaluations run in, the shared
/// run stays failing. The finding needs a writer's severity on the twin.
#[tokio::test]
async fn a_twin_whose_severity_a_triage_user_chose_does_not_pass_the_p0() {
    let (h, _pull) = p0_with_an_approved_p2_twin("trina").await;
    edit_the_twin(&h).await;
    let text = text_concluded(&h, HEAD_SHA, "failure");
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
    let text = text_concluded(&h, HEAD_SHA, "failure");
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
    add_with_the_fix(&h, &pull_on_the_head(&h, TWIN, "hotfix/twin"));
    h.pull_request("opened", pull.number).await;
    h.pull_request("opened", TWIN).await;
    h.clock.advance(chrono::Duration::minutes(100));
    h.pull_request("edited", TWIN).await;
    h.clock.advance(chrono::Duration::minutes(30));
    h.pull_request("edited", TWIN).await;
    h.app.engine.sweep().await;
    h.pull_request("edited", TWIN).await;
    h.app.engine.sweep().await;
    assert_eq!(
        common::attacks::escalations(&h, pull.number),
        1,
        "the P0's escalation is posted once"
    );
    assert_eq!(
        common::attacks::escalations(&h, TWIN),
        0,
        "none on the twin"
    );
    text_concluded(&h, HEAD_SHA, "failure");
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
    let (h, pull) = common::attacks::approved_p0_titled(title).await;
    common::attacks::merge(&h, pull.number, MERGE_SHA).await;

    let sticky = common::attacks::assert_the_follow_up_is_opened_and_named(&h, pull.number);
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
    let (h, pull) = common::attacks::p2_approved_by_bob().await;
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

    let text = text_concluded(&h, HEAD_SHA, "failure");
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
    edit_the_twin(&h).await;
    text_concluded(&h, HEAD_SHA, "success");
}
