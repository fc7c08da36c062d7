//! Twenty-first adversarial review of issue 9 (fail closed): review 20's
//! fixes (`engine::merge_union`: a merged pull request judged by the policy
//! at its `base.sha` owes the union of what that policy and the policy in
//! force ask, each classifying the same labels; `policy::validate` refusing
//! control characters and HTML comment delimiters in rendered strings).
//! Each test plays what only a pull request's author (write access to their
//! own fork, none on the base repository) or a user without write access
//! can do, through signed deliveries to the real router and the real client
//! talking to the fake GitHub, and asserts the SAFE outcome (conclusion and
//! wording). A passing test is an attack that failed. Both attacks
//! worked when this review was written (the "Reproduction" paragraphs);
//! both are fixed: an unreadable policy in force beside the `base.sha` one
//! fails the run and says what is unknown (`Engine::evaluate`,
//! `report::post_merge::unreadable_policy_in_force_beside_base`), and both
//! policies' labels are designation labels (`rules::designation`).

use crate::common;

use chrono::Duration;
use common::attacks::{self, text_of};
use common::harness::{HEAD_SHA, Harness, POLICY, POLICY_PATH, REPO};
use common::merged::{self, assert_the_post_incident_review_is_opened, p0_files_with};
use common::merged::{with_new_sev0, without_follow_up};

// ---- Attack 1: the author's policy edit leaves no policy in force ---------

/// The author's edit of the policy file: one line appended that the
/// validator refuses (an unknown top-level key, looking like a note).
const AUTHORS_NOTE: &str = "notes: reformatted for readability, no rule changes\n";
/// The control: the same note as a YAML comment (valid).
const AUTHORS_COMMENT: &str = "# reformatted for readability, no rule changes\n";

/// The P0 (#7) is opened while `main`'s policy owes no follow-up for P0;
/// its change appends `appended` to the policy file (with `AUTHORS_NOTE`: so after the
/// merge it is judged by the file at `base.sha`, and the file in force on
/// `main` does not parse). A writer then adds the follow-up on `main`; both
/// roles approve; alice merges. Returns the harness after the merge.
async fn opened_loose_editing_the_policy_then_merged(appended: &str) -> Harness {
    let loose = without_follow_up();
    let head = format!("{loose}{appended}");
    let files = p0_files_with(&[POLICY_PATH]);
    let (h, pull) =
        merged::opened_loose_then_tightened(&["hotfix", "P0"], &loose, &head, files, POLICY).await;
    merged::merged_with(&h, pull.number, &format!("{POLICY}{appended}")).await;
    h
}

/// Attack: `engine::merge_union` widens with the policy in force only when
/// it parses (`union_with` is `None` for `Err`). The author's own edit of
/// the policy file makes the file on `main` after the merge unreadable, so
/// the merged P0 is judged by the older file at `base.sha` alone, which
/// owes no follow-up, while the policy a writer put in force before the
/// merge owed one. Safe outcome: either the follow-up is opened, or the
/// run says plainly that the policy in force cannot be read and the
/// after-merge steps it may owe are not taken.
///
/// Reproduction (on this commit): the test as written. After the merge the
/// run stays `success` ("P0 hotfix: all requirements met"), its "What P0
/// requires" names no follow-up, no issue is opened, and nothing says the
/// policy in force could not be read: `Engine::evaluate`
/// (`src/engine/mod.rs`, `union_with`: `(Some(_), Ok(now))`) silently
/// falls back to the judging policy alone when the policy in force is an
/// `Err`. The control below (the same flow, the author's line a valid YAML
/// comment) opens the follow-up, so the only difference is that the
/// author's own line leaves `main` with a policy that does not parse. The
/// open pull request's check never flagged that its head's policy file is
/// invalid (it is judged by `main`'s), so the approvers see a green P0.
/// Severity: low-medium (needs a writer's tightening after `base.sha` and
/// approvers who miss the line; every later pull request then fails
/// closed on the broken file, but this P0's follow-up is dropped for good,
/// since a fix of the file re-evaluates nothing merged).
///
/// Fix to consider: when judged by the file at `base.sha` and the policy in
/// force (not the built-in default) is an `Err`, append
/// `report::post_merge::unreadable_policy_in_force_after_merge`-like text
/// and fail the run closed (as the not-judged-by-`base.sha` path does),
/// saying the steps the policy in force owes are unknown until the file is
/// fixed and the check re-run.
#[tokio::test]
async fn an_authors_edit_that_breaks_the_policy_in_force_does_not_silently_drop_the_follow_up() {
    let h = opened_loose_editing_the_policy_then_merged(AUTHORS_NOTE).await;
    let opened = merged::issues_the_app_opened(&h);
    let run = h.check(HEAD_SHA);
    let text = text_of(&run);
    let sticky = attacks::sticky(&h, 7);
    assert!(
        !opened.is_empty()
            || (run.conclusion.as_deref() != Some("success")
                && text.contains("cannot be read")
                && text.contains("follow-up")),
        "the follow-up owed by the policy in force before the merge is neither opened nor \
         said to be missing: conclusion {:?}\n{text}\nsticky: {sticky}",
        run.conclusion
    );
}

/// The control: the author's edit a valid comment, the policy in force
/// parses and `engine::merge_union` widens with it: the follow-up is opened.
#[tokio::test]
async fn with_a_valid_policy_edit_the_merged_p0_gets_the_follow_up_added_since() {
    let h = opened_loose_editing_the_policy_then_merged(AUTHORS_COMMENT).await;
    assert_the_post_incident_review_is_opened(&h, 7);
}

// ---- Attack 2: a triage user removes a severity label only the policy in
// force knows --------------------------------------------------------------

/// The hotfix (#7, labels `hotfix` and `sev0` applied by dana, a writer)
/// is opened under `without_follow_up()`; its change touches the policy
/// file with a valid comment when `touch`. A writer adds `SEV0` on `main`;
/// both roles approve; then trina (triage, no write access) removes `sev0`
/// (delivered); alice merges.
async fn sev0_unlabelled_by_triage_then_merged(touch: bool) -> Harness {
    let loose = without_follow_up();
    let appended = if touch { AUTHORS_COMMENT } else { "" };
    let head = format!("{loose}{appended}");
    let files = p0_files_with(if touch { &[POLICY_PATH] } else { &[] });
    let (h, pull) = merged::opened_under(&["hotfix", "sev0"], &loose, &head, files).await;
    let tightened = with_new_sev0();
    merged::tightened_then_approved(&h, pull.number, &tightened).await;
    merged::assert_told_it_owes_the_follow_up(&h, pull.number);
    h.gh.set_permission(REPO, "trina", "triage");
    h.clock.advance(Duration::minutes(5));
    let at = pull.created_at + Duration::minutes(12);
    h.gh.add_label_event(REPO, pull.number, "sev0", "trina", false, at);
    h.gh.set_labels(REPO, pull.number, &["hotfix"]);
    attacks::label_delivery(&h, pull.number, "unlabeled", "sev0").await;
    merged::merged_with(&h, pull.number, &format!("{tightened}{appended}")).await;
    h
}

/// Attack: `engine::merge_union` classifies the labels under the policy in
/// force, but those labels come from `gather::designation` run with the
/// JUDGING policy (the file at `base.sha`), which does not know `sev0` as a
/// severity label, so a triage user's removal of `sev0` might be honoured
/// there although the policy in force ignores a non-writer's removal.
/// Safe outcome: the merged hotfix still gets the follow-up `SEV0` owes.
///
/// Reproduction (on this commit): the test as written. While open, the
/// hotfix is judged by the policy in force (trina's removal of `sev0` is
/// ignored: she lacks write access; the control below shows the same after
/// the merge). After the merge it is judged by the file at `base.sha`
/// (its change touched the policy file); `gather::designation` is called
/// with that policy only (`src/engine/mod.rs`, `let designation =
/// gather::designation(&client, policy, …)`), for which `sev0` is no
/// designation label, so trina's removal stands and `labels` lacks `sev0`;
/// `engine::merge_union::owed` then classifies those labels under the
/// policy in force: no severity, no follow-up. No issue is opened; the
/// merged pull request's check turns to failure, "Hotfix needs a severity
/// label: add one of P0, P1, P2" (misexplained: the severity label was
/// removed by a non-writer, and adding one after the merge changes nothing
/// at `base.sha`); the merge-back is still opened.
/// Needs: a writer's added (or relabelled) severity after the P0's
/// `base.sha`, the author's harmless touch of the policy file (or a files
/// list cut at 3,000), and a triage user's label removal before or after
/// the merge. Severity: low-medium (the follow-up is silenced for good; the
/// check shows a failure, but a wrong reason).
///
/// Fix to consider: derive the labels `merge_union` classifies under the
/// policy in force from a designation made with the policy in force (or
/// with the union of both policies' hotfix and severity labels), so a
/// non-writer's removal of a label either policy designates is ignored.
#[tokio::test]
async fn a_triage_users_removal_of_a_severity_label_only_the_policy_in_force_knows_does_not_drop_the_follow_up()
 {
    let h = sev0_unlabelled_by_triage_then_merged(true).await;
    assert_the_post_incident_review_is_opened(&h, 7);
}

/// The control: without the policy touch (judged by the policy in force),
/// the triage user's removal is ignored and the follow-up is opened.
#[tokio::test]
async fn without_the_policy_touch_a_triage_users_removal_of_sev0_does_not_drop_the_follow_up() {
    let h = sev0_unlabelled_by_triage_then_merged(false).await;
    assert_the_post_incident_review_is_opened(&h, 7);
}
