//! Twentieth adversarial review of issue 9 (fail closed): what review 19's
//! fixes changed in the post-merge path (`policy::after_merge::widened`:
//! a merged pull request judged by the policy at its `base.sha` owes after
//! the merge the union of what that policy and the policy in force ask;
//! the follow-up's incident report), with fresh eyes. Each test plays what
//! only a pull request's author (write access to their own fork, none on
//! the base repository) or a user without write access can do, through
//! signed deliveries to the real router and the real client talking to the
//! fake GitHub, and asserts the SAFE outcome (conclusion and wording). A
//! passing test is an attack that failed; a test marked
//! `#[ignore = "finding: …"]` is an attack that worked.

use crate::common;

use common::attacks::{self, text_of};
use common::harness::{BASE_SHA, HEAD_SHA, Harness, POLICY, POLICY_PATH, REPO};
use common::merged::{self, MERGE_SHA, p0_files_with, with_authors_comment, with_new_sev0};
use common::merged::{assert_the_post_incident_review_is_opened, without_follow_up};

/// The harness's policy with its P0 severity named `SEV0` (same label
/// `P0`, same approvals, same follow-up): a writer's rename.
fn renamed_to_sev0() -> String {
    let renamed = POLICY.replace("  P0:\n    labels: [P0]\n", "  SEV0:\n    labels: [P0]\n");
    assert_ne!(renamed, POLICY);
    renamed
}

// ---- Attack 1: the union matches severities by name -----------------------

/// The P0 (#7, labelled `labels` by dana, a writer) opened while `main`'s
/// policy is `loose` (`base.sha` = `BASE_SHA` holds it), its change
/// touching the policy file with `with_authors_comment` when `touch`; a
/// writer then pushes `tightened` to `main` (`TIGHTENED_SHA`); both roles
/// approve and the open P0 passes under the policy in force, whose sticky
/// comment says it owes the post-incident review (asserted); alice merges
/// it (`main` then holds the writer's policy plus the author's comment:
/// the writer's change is in the severities block, the author's at the end
/// of the file, so the two merge cleanly on GitHub).
async fn opened_then_tightened_and_merged(
    labels: &[&str],
    loose: &str,
    tightened: &str,
    touch: bool,
) -> Harness {
    let (head, files, at_merge) = if touch {
        let at_merge = with_authors_comment(tightened);
        (
            with_authors_comment(loose),
            p0_files_with(&[POLICY_PATH]),
            at_merge,
        )
    } else {
        (loose.to_string(), p0_files_with(&[]), tightened.to_string())
    };
    let (h, pull) =
        merged::opened_loose_then_tightened(labels, loose, &head, files, tightened).await;
    merged::merged_with(&h, pull.number, &at_merge).await;
    h
}

/// The harness's P0, labelled `hotfix` and `P0`.
const P0: &[&str] = &["hotfix", "P0"];
/// The hotfix labelled `hotfix` and `sev0`.
const SEV0: &[&str] = &["hotfix", "sev0"];

/// The P0 is opened while `main`'s policy owes no follow-up for P0; the
/// author's change adds one comment line at the end of the policy file
/// (valid: nothing is annotated). A writer then restructures the
/// severities on `main`: P0 is renamed `SEV0` (same label `P0`, same
/// approvals) and now owes the post-incident review. The open P0 is judged
/// by that policy (its sticky comment says "After the merge:
/// **Post-incident review**"), approved by both roles and merged. Every
/// policy on `main` since the writer's change owes the follow-up for a
/// pull request labelled `P0`: the merged P0 must get it, as it does when
/// the writer only adds the follow-up without the rename
/// (`adversarial_review19::a_harmless_policy_touch_does_not_let_the_merged_p0_drop_a_follow_up_added_since`).
///
/// Reproduction (on this commit): the policy touch makes the merged P0
/// judged by the file at its `base.sha` (`engine::merged`), where its
/// severity is `P0`, owing no follow-up. `policy::after_merge::widened`
/// then looks for the follow-up of a severity of the same NAME in the
/// policy in force (`in_force.severities.iter().find(|f| f.name ==
/// s.name)`): there is none (it is `SEV0` now), so nothing is widened, no
/// issue is opened and the sticky comment's after-merge section names no
/// follow-up. The same hole with any rename between the two files (`P0` →
/// `critical`, `sev-1` → `SEV1`), and when the in-force policy classifies
/// the pull request under a severity the file at `base.sha` does not have
/// at all. The author needs no luck beyond a writer's rename after the
/// P0's `base.sha` (the author picks `base.sha` by when they open or push),
/// and one harmless-looking comment line in the policy file (or a files
/// list cut at 3,000 files, which needs no policy touch).
/// Severity: medium (silences the follow-up, review 19's finding again for
/// a renamed severity; visible only as an absence).
///
/// Fix to consider: widen by what the policy in force makes of the same
/// pull request, not by name: the in-force severity its labels select
/// (`rules` classification with `in_force` and the same label facts),
/// e.g. `widened(judging, severity, in_force, in_force_severity)`; or
/// classify the merged pull request under both policies and owe the union
/// of both severities' follow-ups.
///
/// Fixed (issue 9, review 20's fix 2): `engine::merge_union` classifies
/// the same labels under the policy in force too and owes the union
/// (`widened` takes the in-force severity the labels select); with that
/// reverted (judging policy alone decides, in-force severity by name) this
/// test fails again.
/// Checked that the test can fail and pass: it fails on this commit (no
/// issue opened); the control below (the same rename without the policy
/// touch, judged by the policy in force) passes.
#[tokio::test]
async fn a_severity_renamed_since_base_sha_does_not_let_a_policy_touch_drop_its_follow_up() {
    let h =
        opened_then_tightened_and_merged(P0, &without_follow_up(), &renamed_to_sev0(), true).await;
    assert_the_post_incident_review_is_opened(&h, 7);
}

/// The control: the same rename, the P0's change leaving the policy file
/// alone: judged by the policy in force, the merged P0 gets its follow-up.
#[tokio::test]
async fn without_the_policy_touch_the_renamed_severitys_follow_up_is_opened() {
    let h =
        opened_then_tightened_and_merged(P0, &without_follow_up(), &renamed_to_sev0(), false).await;
    assert_the_post_incident_review_is_opened(&h, 7);
}

// ---- Attack 2: the P0's own diff deletes the policy file ------------------

/// The harness's P0 (#7), whose change deletes the policy file (its files
/// list names it, `removed`), approved by both roles under the policy in
/// force (`policy`, also at `base.sha`) and merged by alice:
/// after the merge `main` has no policy file. `org_policy`: the
/// organisation's `.github` repository's policy, which is then in force,
/// else the built-in default is.
async fn merged_p0_deleting_the_policy(policy: &str, org_policy: Option<&str>) -> Harness {
    let (h, pull) = attacks::p0().await;
    h.gh.set_file(REPO, "main", POLICY_PATH, policy);
    h.gh.set_file(REPO, BASE_SHA, POLICY_PATH, policy);
    h.gh.set_pull_files(REPO, pull.number, merged::p0_files_with_the_policy(0, 74));
    if let Some(org) = org_policy {
        h.gh.add_repo("octo/.github");
        h.gh.set_file("octo/.github", "main", POLICY_PATH, org);
    }
    attacks::approved_by_both_roles(&h, pull.number, HEAD_SHA);
    h.pull_request("opened", pull.number).await;
    merged::assert_approved_under_the_policy_in_force(&h);
    h.gh.set_branch(REPO, "main", MERGE_SHA);
    h.gh.remove_file(REPO, "main", POLICY_PATH);
    merged::pushed_then_closed(&h, pull.number, merged::MERGE_PUSH).await;
    h
}

/// Asserts the app opened one pull request into `develop` (the merge-back);
/// `sticky` goes into the message.
fn assert_one_merge_back_into_develop(h: &Harness, sticky: &str) {
    let merge_backs: Vec<_> =
        h.gh.pulls(REPO)
            .into_iter()
            .filter(|p| p.base_ref == "develop")
            .collect();
    assert_eq!(
        merge_backs.len(),
        1,
        "the merge-back into develop is opened: {sticky}"
    );
}

/// The author's P0 deletes `.github/hotfix-policy.yml` (one line in the
/// diff among the fix; approvers see a deletion, nothing is annotated).
/// After the merge the repository has no file and no organisation policy:
/// the built-in default is in force, and `engine` skips the union with it
/// ("no writer added anything"). The P0 is judged by the file at its
/// `base.sha`, which owes the post-incident review, a merge-back into
/// `develop` and a release tag `v1.2.4` (the built-in default asks no
/// tag): all three must be taken.
///
/// Outcome: the attack fails (the file at `base.sha` alone owes
/// everything; the deletion changes nothing after the merge).
/// Checked that the test can fail: with `POLICY_PATH` left out of the
/// files list (judged by the built-in default in force, which asks no
/// tag) no tag is created and the test fails.
#[tokio::test]
async fn a_merged_p0_that_deletes_the_policy_file_still_gets_its_follow_up_merge_back_and_tag() {
    let tagged = format!("{POLICY}release: {{ tag: true, prefix: v }}\n");
    let h = merged_p0_deleting_the_policy(&tagged, None).await;
    let sticky = attacks::assert_the_follow_up_is_opened_and_named(&h, 7);
    assert_one_merge_back_into_develop(&h, &sticky);
    assert!(sticky.contains("develop"), "{sticky}");
    assert_eq!(
        h.gh.tag_sha(REPO, "v1.2.4").as_deref(),
        Some(MERGE_SHA),
        "the release tag is created at the merge commit: {sticky}"
    );
}

/// As above, with the organisation's `.github` policy in force once the
/// repository's own file is deleted: a looser one (GitHub Flow, no
/// follow-up, no merge-back). The union with it must drop nothing the
/// file at `base.sha` asks.
///
/// Outcome: the attack fails. Checked that the test can fail: with
/// `POLICY_PATH` left out of the files list (judged by the organisation's
/// loose policy in force) the follow-up is not opened and the test fails.
#[tokio::test]
async fn a_merged_p0_that_deletes_the_policy_file_for_a_looser_org_policy_still_gets_its_steps() {
    let org = without_follow_up()
        .replace("workflow: git-flow", "workflow: github-flow")
        .replace("  merge_back: true\n", "");
    let h = merged_p0_deleting_the_policy(POLICY, Some(&org)).await;
    let sticky = attacks::assert_the_follow_up_is_opened_and_named(&h, 7);
    assert_one_merge_back_into_develop(&h, &sticky);
}

/// Attack 1 with a severity the file at `base.sha` does not have at all: a
/// writer adds `SEV0` (label `sev0`, owing the post-incident review) to
/// `main`'s policy after the P0 was opened, and dana (a writer) labels the
/// hotfix `sev0`; the author's change carries one comment line in the
/// policy file. Approved under the policy in force (its sticky comment
/// says "After the merge: **Post-incident review**") and merged, it must
/// get the follow-up every policy on `main` since the writer's change
/// owes a `sev0` hotfix.
///
/// Reproduction (on this commit): judged by the file at `base.sha`, the
/// merged pull request is a hotfix (label `hotfix`) with no severity
/// (`sev0` names none there); `widened` gets no severity and widens none,
/// so no follow-up is opened; the merged pull request's check turns to
/// failure, "Hotfix needs a severity label: add one of P0, P1, P2" (a
/// severity label the policy in force knows is on it, and a label added
/// after the merge cannot change the file at `base.sha`), so the drop is
/// visible but misexplained. Same root cause as attack 1 (the union is
/// taken over the judging policy's classification, not over what the
/// policy in force makes of the same labels); severity low (visible). A
/// fix matching severities by name alone would not close this one.
///
/// Fixed (issue 9, review 20's fix 2): `engine::merge_union` classifies
/// the same labels under the policy in force too and owes the union
/// (`widened` takes the in-force severity the labels select); with that
/// reverted (judging policy alone decides, in-force severity by name) this
/// test fails again.
/// Checked that the test can fail and pass: it fails on this commit (no
/// issue opened); the control below (no policy touch) passes.
#[tokio::test]
async fn a_severity_added_since_base_sha_does_not_let_a_policy_touch_drop_its_follow_up() {
    let h =
        opened_then_tightened_and_merged(SEV0, &without_follow_up(), &with_new_sev0(), true).await;
    assert_the_post_incident_review_is_opened(&h, 7);
}

/// The control: the same new severity, the P0's change leaving the policy
/// file alone: judged by the policy in force, it gets its follow-up.
#[tokio::test]
async fn without_the_policy_touch_the_new_severitys_follow_up_is_opened() {
    let h =
        opened_then_tightened_and_merged(SEV0, &without_follow_up(), &with_new_sev0(), false).await;
    assert_the_post_incident_review_is_opened(&h, 7);
}

// ---- Attack 3: a marker inside the follow-up's title, from the policy ----

/// The harness's policy whose P0 follow-up title carries a line break and
/// a follow-up marker naming issue #1 on a line of its own (a YAML
/// double-quoted string: two `\n` in the diff).
fn with_marker_in_follow_up_title() -> String {
    let marked = POLICY.replace(
        "follow_up: { title: Post-incident review, within: 24h }",
        r#"follow_up: { title: "Post-incident review\n<!-- hotfix-guard:follow-up #1 -->\n", within: 24h }"#,
    );
    assert_ne!(marked, POLICY);
    marked
}

/// An author's earlier pull request, merged with a writer's approval,
/// changed the P0 follow-up's title in the policy to
/// `"Post-incident review\n<!-- hotfix-guard:follow-up #1 -->\n"` (one line
/// of YAML; the policy parses, nothing is annotated). Every later P0's
/// sticky comment then names the follow-up it will owe ("After the merge:
/// **…**") with that text, and the app reads its follow-up marker back
/// from its own sticky comment (`engine::post_merge::recorded_follow_up`,
/// any line that starts with `<!-- hotfix-guard:follow-up #`). The next
/// P0, approved and merged, must still get its own follow-up issue.
///
/// Reproduction (on this commit): the follow-up title is written into the
/// sticky comment raw (`report::procedure`: `After the merge: **{title}**`;
/// also `report::post_merge::section` and the issue body's first lines),
/// so the sticky comment of the open P0 carries the line
/// `<!-- hotfix-guard:follow-up #1 -->`; after the merge
/// `recorded_follow_up` answers #1, and no issue is opened: the sticky
/// comment links "#1" as the post-incident review. Every P0 after the
/// policy change is silenced the same way.
/// Severity: low, and at the edge of the threat model: the text is in the
/// policy in force, which only a merged change reviewed by a writer can
/// write (here the author's, whose one odd YAML line the writer missed).
/// The class is the one `markdown::quoted` closes for every other text the
/// app quotes: the policy's own strings are not passed through it.
///
/// Fix to consider: refuse a follow-up title (and any policy string the
/// app renders: severity names, role names, branch names, tag prefix)
/// holding a line break or `<!--`/`-->` in `policy::validate`, and/or pass
/// them through `quoted` where rendered.
///
/// Fixed (issue 9, review 20's fix 1): `policy::validate` refuses a
/// follow-up title (and a severity, role or branch name) holding a control
/// character or `<!--`/`-->`, with its line and column. The marked policy
/// is then an invalid policy in force, and an invalid policy fails closed:
/// every pull request's check is `failure` naming the policy error, and
/// the title is never rendered, so no marker line reaches the sticky
/// comment. That is the safe outcome asserted here (the follow-up of a P0
/// merged under a policy nobody can read is not owed by that policy; the
/// admin must first fix the file the check names).
///
/// Checked that the test can fail and pass: with the check in
/// `policy::validate` reverted, the run is `success` (the precondition of
/// the original attack) and the assertion fails.
#[tokio::test]
async fn a_marker_in_the_policys_follow_up_title_does_not_stop_the_follow_up_issue() {
    let (h, pull) = attacks::p0_under(&with_marker_in_follow_up_title()).await;
    h.gh.set_file(
        REPO,
        BASE_SHA,
        POLICY_PATH,
        &with_marker_in_follow_up_title(),
    );
    attacks::approved_by_both_roles(&h, pull.number, HEAD_SHA);
    h.pull_request("opened", pull.number).await;
    let run = h.check(HEAD_SHA);
    let text = text_of(&run);
    assert_eq!(run.conclusion.as_deref(), Some("failure"), "{text}");
    assert!(
        text.contains("follow-up title") && text.contains("contains a control character"),
        "the check names the refused field: {text}"
    );
    for comment in h.bot_comments(pull.number) {
        assert!(
            !comment.body.contains("<!-- hotfix-guard:follow-up #1"),
            "no marker planted in the app's own comment: {}",
            comment.body
        );
    }
}

// ---- Attack 4: a production branch a writer changed since base.sha ------

/// The harness's policy with `production: prod` (the branch hotfixes went
/// to before the writer's change) and no P0 follow-up.
fn production_was_prod() -> String {
    let old = without_follow_up().replace(
        "branches: { production: main, develop: develop }",
        "branches: { production: prod, develop: develop }",
    );
    assert_ne!(old, without_follow_up());
    old
}

/// Attack 1 with the production branch: when the P0 was opened against
/// `main`, `main`'s policy named `prod` as the production branch; a writer
/// then makes `main` the production branch (and adds P0's post-incident
/// review). The P0, judged by that policy while open (its sticky comment
/// says it owes the post-incident review), is approved by both roles and
/// merged into `main`, its change carrying one comment line in the policy
/// file. Every policy on `main` since the writer's change makes this a
/// production hotfix owing the follow-up and a merge-back: both must be
/// taken.
///
/// Reproduction (on this commit): judged by the file at `base.sha`
/// (`engine::merged`: the policy touch), the merged P0 targets `main`
/// where `prod` is the production branch; `engine` decides whether the
/// after-merge steps run at all (`pull.base.ref ==
/// policy.branches.production`, `src/engine/mod.rs`) with that file alone,
/// before `policy::after_merge::widened` is reached: no follow-up, no
/// merge-back, and the merged P0's check turns to failure, "targets main
/// instead of prod" (visible, and misleading: every policy since the
/// writer's change says `main`). Severity: low (visible; needs a writer's
/// change of the production branch after the P0's `base.sha`). Same root
/// cause as attacks 1 and 1b: the union covers the after-merge
/// obligations, not the facts that decide them (severity, production
/// branch, hotfix match).
///
/// Fix to consider: decide "a hotfix merged into production" and the
/// severity under both policies and run the steps when either says so,
/// owing the union of both severities' follow-ups (one more pure call of
/// the classification with `in_force`).
///
/// Fixed (issue 9, review 20's fix 2): `engine::merge_union` classifies
/// the same labels under the policy in force too and owes the union
/// (`widened` takes the in-force severity the labels select); with that
/// reverted (judging policy alone decides, in-force severity by name) this
/// test fails again.
/// Checked that the test can fail and pass: it fails on this commit; the
/// control below (no policy touch) passes.
#[tokio::test]
async fn a_production_branch_changed_since_base_sha_does_not_let_a_policy_touch_drop_the_steps() {
    let h = opened_then_tightened_and_merged(P0, &production_was_prod(), POLICY, true).await;
    let sticky = attacks::assert_the_follow_up_is_opened_and_named(&h, 7);
    assert!(sticky.contains("Merge-back"), "{sticky}");
}

/// The control: the same change of the production branch, the P0's change
/// leaving the policy file alone: judged by the policy in force, it gets
/// its follow-up and merge-back.
#[tokio::test]
async fn without_the_policy_touch_the_changed_production_branch_gets_the_steps() {
    let h = opened_then_tightened_and_merged(P0, &production_was_prod(), POLICY, false).await;
    let sticky = attacks::assert_the_follow_up_is_opened_and_named(&h, 7);
    assert!(sticky.contains("Merge-back"), "{sticky}");
}
