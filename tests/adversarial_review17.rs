//! Seventeenth adversarial review of issue 9 (fail closed). Each test plays
//! what only a pull request's author (write access to their own fork, none
//! on the base repository) or a user with triage access can do, through
//! signed deliveries to the real router and the real client talking to the
//! fake GitHub, and asserts the SAFE outcome (conclusion and wording). A
//! passing test is an attack that failed; a test marked
//! `#[ignore = "finding: …"]` is an attack that worked.

use crate::common;

use chrono::Duration;
use common::attacks::{self, text_of};
use common::churn;
use common::fake_github::PullSeed;
use common::harness::{HEAD_SHA, Harness, POLICY, REPO};
use common::twins::{
    TWIN, approved_p2_twin, assert_the_never_judged_p0_still_fails, edit_the_twin,
};

/// The report's note for a timeline that kept changing
/// (`report::unsettled_timeline_note`).
const UNSETTLED: &str = "The timeline kept changing while it was read";

// ---- A placeholder's P0 pushed off its head and back -----------------------

/// A second head the author pushes to the P0's branch.
const OFF_SHA: &str = "o2o2o2o2o2o2o2o2o2o2o2o2o2o2o2o2o2o2o2o2";

/// The author's approved P2 twin #9 passes on the shared head; the P0 #7
/// on the same commit is opened and its evaluation fails on every try
/// (GitHub answers #7's timeline 502): the run shows #7's "could not
/// evaluate" placeholder, recorded unmet. The author pushes #7 off the
/// commit (the placeholder no longer holds it: #7 is not on it), edits the
/// twin (its `success` may now stand on the old commit), then pushes #7
/// back onto it, its evaluation still failing, and edits the twin again.
/// The P0, open on the commit again and never judged, must keep the run
/// failing.
///
/// Checked that the test can fail: with `publish::still_on_head` answering
/// `false` for every other pull request, the twin's last edit replaces the
/// pushed-back P0's placeholder with `success` ("P2 hotfix: all
/// requirements met").
#[tokio::test]
async fn a_p0_never_judged_pushed_off_and_back_does_not_leave_the_twins_success() {
    let (h, pull) = attacks::p0().await;
    approved_p2_twin(&h, "dana");
    h.pull_request("opened", TWIN).await;
    assert_eq!(
        h.check(HEAD_SHA).conclusion.as_deref(),
        Some("success"),
        "precondition: the twin passes"
    );
    h.gh.fail_next(
        "GET",
        &format!("/issues/{}/timeline", pull.number),
        502,
        vec![],
        10_000,
    );
    h.pull_request("opened", pull.number).await;
    let text = text_of(&h.check(HEAD_SHA));
    assert!(
        text.contains("hotfix-guard could not evaluate this pull request"),
        "precondition: the P0 was never judged: {text}"
    );

    let t0 = pull.created_at;
    attacks::push_head(&h, &pull, OFF_SHA, t0 + Duration::minutes(5)).await;
    edit_the_twin(&h).await;
    assert_eq!(
        h.check(HEAD_SHA).conclusion.as_deref(),
        Some("success"),
        "precondition: with the P0 off the commit, the twin passes on it"
    );
    attacks::push_head(&h, &pull, HEAD_SHA, t0 + Duration::minutes(10)).await;
    edit_the_twin(&h).await;
    assert_the_never_judged_p0_still_fails(
        &h,
        "the P0 back on the commit, never judged, must not pass on its twin's approval",
    );
}

// ---- A second label of the same severity, and the writer's label removed ---

/// The policy with P0 carried by two labels, `P0` and `sev0`.
fn two_label_policy() -> String {
    let policy = POLICY.replacen("    labels: [P0]\n", "    labels: [P0, sev0]\n", 1);
    assert_ne!(policy, POLICY, "the harness's policy names P0's label");
    policy
}

/// The harness's P0 under [`two_label_policy`] (dana, a writer, applied
/// `hotfix` and `P0`), opened; then trina (triage) applies `sev0` (also
/// P0) five minutes later and, with `remove`, removes dana's `P0` a minute
/// after that. Answers the harness, the run's conclusion and text.
async fn p0_relabelled_by_triage(remove: bool) -> (Harness, PullSeed, Option<String>, String) {
    let (h, pull) = attacks::p0_under(&two_label_policy()).await;
    h.gh.set_permission(REPO, "trina", "triage");
    let t0 = pull.created_at;
    h.clock.set(t0);
    h.pull_request("opened", pull.number).await;
    h.gh.add_label_event(
        REPO,
        pull.number,
        "sev0",
        "trina",
        true,
        t0 + Duration::minutes(5),
    );
    h.clock.set(t0 + Duration::minutes(5));
    if remove {
        h.gh.set_labels(REPO, pull.number, &["hotfix", "P0", "sev0"]);
        attacks::label_delivery(&h, pull.number, "labeled", "sev0").await;
        h.gh.add_label_event(
            REPO,
            pull.number,
            "P0",
            "trina",
            false,
            t0 + Duration::minutes(6),
        );
        h.gh.set_labels(REPO, pull.number, &["hotfix", "sev0"]);
        h.clock.set(t0 + Duration::minutes(6));
        attacks::label_delivery(&h, pull.number, "unlabeled", "P0").await;
    } else {
        h.gh.set_labels(REPO, pull.number, &["hotfix", "P0", "sev0"]);
        attacks::label_delivery(&h, pull.number, "labeled", "sev0").await;
    }
    let run = h.check(HEAD_SHA);
    let text = text_of(&run);
    (h, pull, run.conclusion, text)
}

/// trina (triage) cannot set the severity, and cannot take away the one a
/// writer set: she adds `sev0` (the same severity, by a second label) and
/// removes dana's `P0`. The label a writer applied is gone from the pull
/// request, the one still there is a non-writer's: the P0 must keep
/// failing and its deadline must still run from dana's application, so the
/// sweep past it posts the escalation.
///
/// Two defences hold it, each alone enough: the removal does not count
/// (`designation::held` keeps dana's `P0`, the check fails naming trina's
/// removal, the clock runs from dana's application), and without it the
/// deadline runs from a writer's earlier application
/// (`provenance::clock_start`). Checked that the test can fail: with both
/// `held` answering nothing and `clock_start` answering `None`, no
/// deadline runs and the sweep posts nothing (either mutation alone: the
/// test still passes).
#[tokio::test]
async fn a_triage_user_swapping_the_writers_p0_label_for_its_twin_label_does_not_silence_the_escalation()
 {
    let (h, pull, conclusion, text) = p0_relabelled_by_triage(true).await;
    assert_eq!(conclusion.as_deref(), Some("failure"), "{text}");
    // "`P0` removed by @trina, who lacks write access" (her removal held).
    assert!(text.contains("@trina, who lacks write access"), "{text}");
    assert_escalated_past_the_deadline(&h, &pull, &text).await;
}

/// The control: trina's `sev0` beside dana's `P0` changes nothing; the P0
/// fails unapproved and is escalated past its deadline.
#[tokio::test]
async fn with_the_writers_p0_label_left_on_the_p0_is_escalated() {
    let (h, pull, conclusion, text) = p0_relabelled_by_triage(false).await;
    assert_eq!(conclusion.as_deref(), Some("failure"), "{text}");
    assert_escalated_past_the_deadline(&h, &pull, &text).await;
}

/// The P0's deadline (2h) is past: the sweep posts one escalation on
/// `pull` (asserted); `text` goes into the messages.
async fn assert_escalated_past_the_deadline(h: &Harness, pull: &PullSeed, text: &str) {
    h.clock.set(pull.created_at + Duration::minutes(125));
    assert_eq!(h.app.engine.sweep().await, 1, "{text}");
    assert_eq!(attacks::escalations(h, pull.number), 1, "{text}");
}

// ---- Forcing the unsettled read, then retargeting away and back ------------

/// The author pads `pull`'s timeline with 150 comments a minute after the
/// opening (two pages). Answers their ids, oldest first.
fn pad_timeline(h: &Harness, pull: &PullSeed) -> Vec<u64> {
    (0..150)
        .map(|n| {
            h.gh.add_comment_at(
                REPO,
                pull.number,
                &pull.author,
                &format!("note {n}"),
                pull.created_at + Duration::minutes(1),
            )
        })
        .collect()
}

/// Runs `step` while the author, with `churn`, deletes their oldest
/// remaining padding comment after every timeline GET the app sends (each
/// answered 40 ms late): every read of the timeline sees a removal, and the
/// app reads it like a cut one. Answers how many comments were deleted.
async fn while_the_author_deletes(
    h: &Harness,
    pull: &PullSeed,
    padding: &[u64],
    churn: bool,
    step: impl std::future::Future<Output = ()>,
) -> usize {
    churn::timeline_answered_late(h, pull.number, 40, 10_000);
    let turns = churn::on_timeline_reads(h, pull.number, churn, step, |turn, _| {
        assert!(h.gh.delete_comment_as_author(REPO, padding[turn]));
    })
    .await;
    assert_eq!(turns > 0, churn, "the author deleted comments");
    turns
}

/// The P0 approved by both roles by review on its head (passes: asserted),
/// its timeline padded by the author. The author then retargets it to
/// `develop` and back to `main` (GitHub records two `base_ref_changed`
/// events), and, with `churn`, deletes a padding comment at every timeline
/// read while the `edited` delivery of the retarget back is evaluated.
async fn approved_then_retargeted_while(churn: bool) -> (Option<String>, String) {
    let (h, pull) = attacks::p0().await;
    let t0 = pull.created_at;
    let padding = pad_timeline(&h, &pull);
    attacks::approved_by_both_roles(&h, pull.number, HEAD_SHA);
    h.pull_request("opened", pull.number).await;
    let run = h.check(HEAD_SHA);
    assert_eq!(
        run.conclusion.as_deref(),
        Some("success"),
        "precondition: the approved P0 passes: {}",
        text_of(&run)
    );
    h.gh.add_base_change(REPO, pull.number, &pull.author, t0 + Duration::minutes(30));
    h.gh.add_base_change(REPO, pull.number, &pull.author, t0 + Duration::minutes(31));
    h.clock.set(t0 + Duration::minutes(31));
    while_the_author_deletes(&h, &pull, &padding, churn, async {
        h.pull_request("edited", pull.number).await;
    })
    .await;
    let run = h.check(HEAD_SHA);
    let text = text_of(&run);
    (run.conclusion, text)
}

/// The author forces the unsettled read (the timeline kept changing: label
/// and state events from the issue events list, reviews from the reviews
/// list) after retargeting away and back: the reviews given against the
/// old base must still be stale, and the report says why.
///
/// Checked that the test can fail: with `gather::designation` not copying
/// the events list's `base_changes` into the timeline it reads like a cut
/// one, the run is `success`.
#[tokio::test]
async fn reviews_before_a_retarget_away_and_back_stay_stale_when_the_author_unsettles_the_timeline()
{
    let (conclusion, text) = approved_then_retargeted_while(true).await;
    assert_eq!(conclusion.as_deref(), Some("failure"), "{text}");
    assert!(text.contains(UNSETTLED), "{text}");
    assert!(
        text.contains("needs engineering-lead and on-call-manager approval"),
        "{text}"
    );
}

/// The control: the same retarget on a timeline left alone makes the
/// reviews stale too.
#[tokio::test]
async fn without_the_churn_reviews_before_a_retarget_away_and_back_are_stale() {
    let (conclusion, text) = approved_then_retargeted_while(false).await;
    assert_eq!(conclusion.as_deref(), Some("failure"), "{text}");
    assert!(!text.contains(UNSETTLED), "{text}");
    assert!(
        text.contains("needs engineering-lead and on-call-manager approval"),
        "{text}"
    );
}

// ---- A triage user's label removal while the author unsettles the timeline -

/// The P0 (labels by dana, a writer), opened unapproved, its timeline
/// padded by the author. trina (triage) removes `hotfix` and `P0` ten
/// minutes after the opening while, with `churn`, the author deletes a
/// padding comment at every timeline read of that evaluation. Answers the
/// harness, the pull request, the run's conclusion and text.
async fn labels_removed_by_triage_while(
    churn: bool,
) -> (Harness, PullSeed, Option<String>, String) {
    let (h, pull) = attacks::p0().await;
    let t0 = pull.created_at;
    let padding = pad_timeline(&h, &pull);
    h.pull_request("opened", pull.number).await;
    for label in ["hotfix", "P0"] {
        h.gh.add_label_event(
            REPO,
            pull.number,
            label,
            "trina",
            false,
            t0 + Duration::minutes(10),
        );
    }
    h.gh.set_labels(REPO, pull.number, &[]);
    h.clock.set(t0 + Duration::minutes(10));
    while_the_author_deletes(&h, &pull, &padding, churn, async {
        attacks::label_delivery(&h, pull.number, "unlabeled", "P0").await;
    })
    .await;
    let run = h.check(HEAD_SHA);
    let text = text_of(&run);
    (h, pull, run.conclusion, text)
}

/// The author forces the unsettled read (label events then come from the
/// issue events list) in the evaluation of a triage user's removal of both
/// hotfix labels: the removal must still not count (the check fails and
/// names it), and the P0's deadline must still be escalated.
///
/// Checked that the test can fail: with `gather::designation` not copying
/// the events list's `label_events` into the timeline it reads like a cut
/// one, the pull request is judged not a hotfix (`neutral`) and nothing is
/// escalated.
#[tokio::test]
async fn a_triage_users_label_removal_read_from_an_unsettled_timeline_still_does_not_count() {
    let (h, pull, conclusion, text) = labels_removed_by_triage_while(true).await;
    assert_eq!(conclusion.as_deref(), Some("failure"), "{text}");
    assert!(text.contains(UNSETTLED), "{text}");
    assert!(
        text.contains("`P0` was removed by @trina") && text.contains("they still apply"),
        "{text}"
    );
    assert_escalated_past_the_deadline(&h, &pull, &text).await;
}

/// The control: the same removal on a timeline left alone is held the
/// same way.
#[tokio::test]
async fn without_the_churn_a_triage_users_label_removal_does_not_count() {
    let (h, pull, conclusion, text) = labels_removed_by_triage_while(false).await;
    assert_eq!(conclusion.as_deref(), Some("failure"), "{text}");
    assert!(!text.contains(UNSETTLED), "{text}");
    assert!(
        text.contains("`P0` was removed by @trina") && text.contains("they still apply"),
        "{text}"
    );
    assert_escalated_past_the_deadline(&h, &pull, &text).await;
}

// ---- A change request appended on the last page while it is read ----------

/// The P0 approved by both roles by review (`success`: asserted), its
/// timeline padded by the author to two pages. The author edits the title;
/// while that evaluation reads the timeline (each page answered 40 ms
/// late), once the last page was first read, alice (engineering lead)
/// requests changes: her review is appended after the items read (the
/// verification accepts it as an append and the evaluation keeps the first
/// pass), and its `pull_request_review` delivery arrives while the
/// evaluation is in flight. Answers the run's conclusion and text once all
/// is settled.
async fn change_request_appended_during_the_read() -> (Option<String>, String) {
    let (h, pull) = attacks::p0().await;
    let _padding = pad_timeline(&h, &pull);
    attacks::approved_by_both_roles(&h, pull.number, HEAD_SHA);
    h.pull_request("opened", pull.number).await;
    let run = h.check(HEAD_SHA);
    assert_eq!(
        run.conclusion.as_deref(),
        Some("success"),
        "precondition: the approved P0 passes: {}",
        text_of(&run)
    );
    let timeline = format!("/issues/{}/timeline", pull.number);
    h.gh.delay_next(
        "GET",
        &timeline,
        std::time::Duration::from_millis(40),
        10_000,
    );
    let before = h.gh.count("GET", &timeline);
    let edit = async {
        h.gh.update_pull(REPO, pull.number, |p| {
            p.title = "fix: stop the login loop, again".into()
        });
        h.pull_request("edited", pull.number).await;
    };
    let appended = async {
        for _ in 0..5_000 {
            // Pages 1 and 2 read, page 1 asked for again (verifying):
            // the first pass is in hand and page 2 is yet to be verified.
            if h.gh.count("GET", &timeline) >= before + 3 {
                // After every item listed (the padding is a minute past
                // the opening): appended at the end of the timeline.
                let at = pull.created_at + Duration::minutes(5);
                let id = h.gh.add_review_at(
                    REPO,
                    pull.number,
                    "alice",
                    "CHANGES_REQUESTED",
                    HEAD_SHA,
                    at,
                );
                let spec = common::webhook::PrSpec::from_seed(
                    REPO,
                    &h.gh.pull(REPO, pull.number).expect("pull"),
                    1,
                );
                let review = common::webhook::ReviewSpec {
                    id,
                    user: "alice".into(),
                    state: "changes_requested".into(),
                    commit_id: HEAD_SHA.into(),
                    body: None,
                    submitted_at: at,
                };
                let payload = common::webhook::review_event("submitted", &spec, &review);
                h.deliver("pull_request_review", &payload).await;
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        false
    };
    let ((), timed) = tokio::join!(edit, appended);
    assert!(timed, "alice's review landed during the read");
    h.settle().await;
    let run = h.check(HEAD_SHA);
    let text = text_of(&run);
    (run.conclusion, text)
}

/// An append is "no change" to a list being read, so the evaluation in
/// flight judges without alice's change request: the app must still end
/// on it (her review's own delivery runs the pull request's evaluation
/// once more after the one in flight).
///
/// Checked that the test can fail: with `Store::complete` deleting the job
/// whatever was folded into it since the claim (`version >= $6`: the
/// delivery that arrived during the evaluation dropped), the run stays
/// `success`; so it does without the review's delivery (the evaluation in
/// flight kept its first pass, without the appended review, as designed).
#[tokio::test]
async fn a_change_request_appended_while_the_timeline_is_read_still_blocks() {
    let (conclusion, text) = change_request_appended_during_the_read().await;
    assert_eq!(conclusion.as_deref(), Some("failure"), "{text}");
    assert!(text.contains("changes requested by @alice"), "{text}");
}
