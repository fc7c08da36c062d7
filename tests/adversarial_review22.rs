//! Twenty-second adversarial review of issue 9 (fail closed): review 21's
//! fixes (a merged pull request judged by the policy at its `base.sha`
//! fails closed when the policy in force does not parse, `Engine::evaluate`;
//! both policies' hotfix and severity labels designate,
//! `rules::designation`). Each test plays what only a pull request's author
//! (write access to their own fork, none on the base repository) or a user
//! without write access can do, through signed deliveries to the real
//! router and the real client talking to the fake GitHub, and asserts the
//! SAFE outcome (conclusion and wording). A passing test is an attack that
//! failed. The findings (their "Reproduction" paragraphs) were fixed after
//! the review: a policy file that is not text is an invalid policy
//! (`policy_cache::read_policy`), and an unreadable policy in force no
//! longer silences an escalation (`Engine::escalate`).
//!
//! Attack 1: the author's change leaves `main`'s policy file something
//! other than a file that does not parse (a symlink, non-UTF-8 bytes: two
//! findings; over 1 MB: held). Attack 2: a policy in force that does not
//! parse or is a symlink, merged by a writer, silences every open P0's
//! escalation (two findings). Attack 3: a triage user's removal of a
//! hotfix label only the policy in force knows (held).

use crate::common;

use common::attacks::{self, text_of};
use common::broken_policy::BROKEN_SHA;
use common::harness::{BASE_SHA, HEAD_SHA, Harness, POLICY, POLICY_PATH, REPO};
use common::merged::{self, MERGE_PUSH};
use serde_json::{Value, json};

// ---- Attack 1: the author's change leaves a policy in force that is not
// text ---------------------------------------------------------------------

/// The P0 (#7) under the harness's policy (P0 owes the post-incident
/// review); its change also rewrites the policy file (its head's copy the
/// harness's policy). Both roles approve (`success`); alice merges. From
/// the merge on, `main`'s policy file is `merged` and, when `in_force` is
/// given, every read of it is answered with that (what the author's change
/// made of it). Returns the harness after the merge.
async fn policy_rewritten_then_merged(merged: &str, in_force: Option<Value>) -> Harness {
    let (h, pull) = attacks::p0().await;
    h.gh.set_file(REPO, HEAD_SHA, POLICY_PATH, POLICY);
    h.gh.set_pull_files(REPO, pull.number, merged::p0_files_with_the_policy(1, 1));
    h.pull_request("opened", pull.number).await;
    attacks::approved_by_both_roles(&h, pull.number, HEAD_SHA);
    h.pull_request("edited", pull.number).await;
    attacks::text_concluded(&h, HEAD_SHA, "success");
    merged::main_moves_to_the_merge(&h, merged);
    if let Some(answer) = in_force {
        common::head_files::file_answered_with(&h, POLICY_PATH, answer);
    }
    merged::pushed_then_closed(&h, pull.number, MERGE_PUSH).await;
    h
}

/// The safe outcome after the merge: the follow-up the policy at
/// `base.sha` owes (it is readable) is opened, or the run fails saying
/// the policy cannot be read and the follow-up is not taken.
fn assert_follow_up_opened_or_said_missing(h: &Harness) {
    let opened = merged::issues_the_app_opened(h);
    let runs: Vec<_> =
        h.gh.check_runs(REPO, HEAD_SHA)
            .into_iter()
            .filter(|r| r.name == "hotfix-policy")
            .collect();
    let text: String = runs.iter().map(text_of).collect::<Vec<_>>().join("\n---\n");
    let failed = runs
        .iter()
        .all(|r| r.conclusion.as_deref() == Some("failure"));
    assert!(
        !opened.is_empty()
            || (failed
                && !runs.is_empty()
                && text.contains("cannot be read")
                && text.contains("follow-up")),
        "the follow-up owed by the policy at base.sha is neither opened nor said to be \
         missing:\n{text}\nsticky: {}",
        attacks::sticky(h, 7)
    );
}

/// Attack: `engine::policy_cache::read_policy` turns a policy file in force
/// that is not text into an error of the read ("only writers put it
/// there"), but a writer merging the author's change puts there what the
/// author wrote. The author's P0 replaces `.github/hotfix-policy.yml` with
/// a symbolic link (say to `hotfix-policy.yaml`, "renamed, link kept for
/// compatibility"). After the merge every evaluation of the merged P0
/// fails before the policy at `base.sha` (readable, owing the follow-up)
/// is consulted. Safe outcome: the follow-up is opened, or the run says
/// that the policy cannot be read and the follow-up is not taken.
///
/// Reproduction (on this commit, 5a442ec + a2c1b89): the test as written.
/// The open P0 is `success` (it is judged by `main`'s policy; the head's
/// copy is never read as the policy). After the merge,
/// `Engine::evaluate` calls `self.policy(&client).await?` first
/// (`src/engine/mod.rs`); `policy_cache::read_policy` answers
/// `FileRead::NotText(Symlink)` through `into_text(POLICY_PATH)?` as a
/// `GitHubError` (only `TooLarge` becomes a policy error), so every try
/// fails before `merged::policy_before_merge` and `merge_union` run; after
/// five tries `report_failure` writes "hotfix-guard could not evaluate this
/// pull request … .github/hotfix-policy.yml is a symbolic link, not a text
/// file" (`failure`). No follow-up issue is opened although the policy at
/// `base.sha` (readable) owes it, the run never names the follow-up, the
/// sticky comment still says "ready: all requirements met", and once a
/// writer repairs the file nothing re-evaluates the merged P0 (only a
/// Re-check would). a2c1b89's fail-closed branch ("Policy in force cannot
/// be read: after-merge steps unknown", taking what the `base.sha` policy
/// owes) covers only a file that does not parse. Severity: low-medium
/// (needs a writer to merge a policy file turned symlink or non-UTF-8; the
/// run fails, but for the wrong reason, and the follow-up is lost for
/// good unless someone presses Re-check after the fix).
///
/// Fix to consider: in `policy_cache::read_policy`, map every
/// `FileRead::NotText` of the policy file (as `TooLarge` already is) to a
/// `PolicyError` ("… is a symbolic link, not a text file") instead of a
/// read error, so the policy in force is an `Err` and a2c1b89's branch
/// (and the invalid-policy path for open pull requests) applies.
#[tokio::test]
async fn an_authors_symlink_for_the_policy_file_does_not_silently_drop_the_follow_up() {
    let h = policy_rewritten_then_merged(
        POLICY,
        Some(json!({
            "type": "symlink", "name": "hotfix-policy.yml", "path": POLICY_PATH,
            "size": 18, "target": "hotfix-policy.yaml"
        })),
    )
    .await;
    assert_follow_up_opened_or_said_missing(&h);
}

/// The same with the most ordinary form of it: one byte that is not UTF-8
/// (a Latin-1 `é` in a comment, `# r\xe9vis\xe9`), which the contents API
/// answers as a base64 file.
///
/// Reproduction: as the symlink test; the last error reads
/// ".github/hotfix-policy.yml is a file whose bytes are not UTF-8 text, not
/// a text file"; no follow-up is opened. Same fix.
#[tokio::test]
async fn an_authors_non_utf8_byte_in_the_policy_file_does_not_silently_drop_the_follow_up() {
    use base64::Engine as _;
    let mut bytes = POLICY.as_bytes().to_vec();
    bytes.extend_from_slice(b"# r\xe9vis\xe9\n");
    let content = base64::engine::general_purpose::STANDARD.encode(&bytes);
    let h = policy_rewritten_then_merged(
        POLICY,
        Some(json!({
            "type": "file", "name": "hotfix-policy.yml", "path": POLICY_PATH,
            "size": bytes.len(), "encoding": "base64", "content": content
        })),
    )
    .await;
    assert_follow_up_opened_or_said_missing(&h);
}

/// The same with a policy file too large to download: the author pads it
/// with a comment past 1 MB. `policy_cache::read_policy` makes that the
/// policy's own size error (an `Err` policy), so a2c1b89's branch applies:
/// the run fails saying the policy in force cannot be read, and the
/// follow-up the policy at `base.sha` owes is opened.
#[tokio::test]
async fn an_authors_oversized_policy_file_does_not_silently_drop_the_follow_up() {
    let padded = format!("{POLICY}#{}\n", "x".repeat(1_100_000));
    let h = policy_rewritten_then_merged(&padded, None).await;
    assert_follow_up_opened_or_said_missing(&h);
    let text = attacks::text_concluded(&h, HEAD_SHA, "failure");
    assert!(
        text.contains("Policy in force cannot be read: after-merge steps unknown"),
        "{text}"
    );
    merged::assert_the_post_incident_review_is_opened(&h, 7);
}

/// The control: the author's rewrite leaves a readable policy: the
/// follow-up is opened.
#[tokio::test]
async fn with_a_readable_policy_rewrite_the_merged_p0_gets_its_follow_up() {
    let h = policy_rewritten_then_merged(POLICY, None).await;
    merged::assert_the_post_incident_review_is_opened(&h, 7);
}

// ---- Attack 2: a broken policy in force silences an open P0's escalation --

/// The harness's P0 (#7) opened (unapproved: its 2h deadline runs and is
/// watched). Then a writer merges the author's other pull request, which
/// rewrites the policy file: `main` moves to `BROKEN_SHA`, its file
/// `policy` (or, with `answer`, answered with that), and the push is
/// delivered. 130 minutes later the sweep runs. Returns the harness and
/// what the sweep posted.
async fn p0_watched_then_policy_rewritten(policy: &str, answer: Option<Value>) -> (Harness, usize) {
    let (h, pull) = attacks::p0().await;
    h.pull_request("opened", pull.number).await;
    assert_eq!(h.app.engine.watched().await, 1, "precondition: watched");
    h.clock.advance(chrono::Duration::minutes(10));
    if let Some(answer) = answer {
        common::head_files::file_answered_with(&h, POLICY_PATH, answer);
    }
    merged::writer_pushes_policy(&h, BROKEN_SHA, policy).await;
    h.clock.advance(chrono::Duration::minutes(120));
    let posted = h.app.engine.sweep().await;
    h.settle().await;
    (h, posted)
}

/// The safe outcome for the open P0 past its deadline: the escalation is
/// posted, or its check run fails saying the escalation is not posted.
fn assert_escalated_or_said_not(h: &Harness, posted: usize) {
    let run = h.check(HEAD_SHA);
    let text = text_of(&run);
    assert!(
        (posted >= 1 && attacks::escalations(h, 7) >= 1)
            || (run.conclusion.as_deref() == Some("failure") && text.contains("escalation")),
        "the P0 past its deadline is neither escalated nor said not to be (posted {posted}): \
         conclusion {:?}\n{text}",
        run.conclusion
    );
}

/// Attack: `Engine::escalate` (`src/engine/mod.rs`) reads the policy in
/// force and, when it does not parse, returns `Escalated::default()`: no
/// comment, no error, nothing retried or said. The author of any pull
/// request that edits the policy file (an unknown key appended, "notes:
/// …") gets it merged by a writer; from then on no open P0 is escalated.
/// Safe outcome: the escalation is posted, or the P0's run says it is not.
///
/// Reproduction (on this commit): the test as written. The P0 (#7,
/// unapproved, 2h deadline, watched) is left alone; the push that breaks
/// `main`'s policy does not re-evaluate it, and 130 minutes after its
/// opening `Engine::sweep` posts nothing (returns 0): `Engine::escalate`
/// hits `let Ok(policy) = &loaded.policy else { return
/// Ok(escalation::Escalated::default()) }`, which the sweep takes as
/// "nothing due". No escalation comment, no log at warn, and the P0's run
/// still reads "needs engineering-lead and on-call-manager approval — 2h
/// left to deploy" (stale: the deadline has passed). It stays so for every
/// open P0 of the repository until a writer repairs the file. Needs: a
/// writer to merge a policy edit that does not parse (the open pull
/// request that carries it gets an annotation, but a P0 opened earlier
/// shows nothing). Severity: medium (escalations silenced, silently).
///
/// Fix to consider: with the policy in force unreadable or invalid, the
/// sweep still escalates from the stored `Watch` (its severity and
/// deadline were decided by the policy that was valid when it was
/// watched), mentioning the escalation targets recorded with the watch or,
/// if unknown, saying so in the comment; at the least re-render the P0's
/// run to say "policy in force cannot be read: escalation not posted".
#[tokio::test]
async fn a_policy_in_force_that_does_not_parse_does_not_silence_an_open_p0s_escalation() {
    let broken = format!("{POLICY}notes: reformatted for readability, no rule changes\n");
    let (h, posted) = p0_watched_then_policy_rewritten(&broken, None).await;
    assert_escalated_or_said_not(&h, posted);
}

/// The same with a policy file in force that is a symbolic link (the read
/// fails: "escalation failed; retried next sweep", for ever).
///
/// Reproduction: as the test above, but `self.policy(&client).await?` in
/// `Engine::escalate` errors (`policy_cache::read_policy`, `NotText`), the
/// sweep logs "escalation failed; retried next sweep" and posts nothing, at
/// every sweep. Same fix, plus the `NotText` mapping of attack 1.
#[tokio::test]
async fn a_policy_in_force_that_is_a_symlink_does_not_silence_an_open_p0s_escalation() {
    let (h, posted) = p0_watched_then_policy_rewritten(
        POLICY,
        Some(json!({
            "type": "symlink", "name": "hotfix-policy.yml", "path": POLICY_PATH,
            "size": 18, "target": "hotfix-policy.yaml"
        })),
    )
    .await;
    assert_escalated_or_said_not(&h, posted);
}

/// The control: the other pull request's rewrite parses: the P0 past its
/// deadline is escalated.
#[tokio::test]
async fn with_a_readable_policy_rewrite_the_open_p0_is_escalated() {
    let rewritten = format!("{POLICY}# reformatted for readability, no rule changes\n");
    let (h, posted) = p0_watched_then_policy_rewritten(&rewritten, None).await;
    assert_escalated_or_said_not(&h, posted);
    assert_eq!(attacks::escalations(&h, 7), 1);
}

/// The fix of the two findings above, in full (the lead's, after this
/// review, and after review 24): under a policy in force that does not
/// parse, the levels follow the `escalation` section kept with the watch
/// (the policy's when the deadline was watched), each saying that the
/// policy cannot be read: the first mentions the incident commanders, the
/// second, at `after`, the CTO too.
///
/// Checked that it can fail: with `Engine::escalate` returning
/// `Escalated::default()` for an unreadable policy (as before), no level is
/// posted; with the kept section ignored (`Watch::escalation` read as
/// `None`), the first level mentions nobody and the second is not posted.
#[tokio::test]
async fn under_an_unreadable_policy_the_levels_follow_the_escalation_kept_with_the_watch() {
    let with_second = attacks::two_level_policy();
    let (h, pull) = attacks::p0().await;
    h.gh.set_file(REPO, "main", POLICY_PATH, &with_second);
    h.pull_request("opened", pull.number).await;
    assert_eq!(h.app.engine.watched().await, 1, "precondition: watched");
    let broken = format!("{with_second}notes: reformatted\n");
    h.gh.set_file(REPO, "main", POLICY_PATH, &broken);
    merged::push_to_main(&h, &[POLICY_PATH]).await;
    h.clock.advance(chrono::Duration::minutes(130));
    assert_eq!(h.app.engine.sweep().await, 1, "the first level is posted");
    h.settle().await;
    let level = |n: u8| {
        h.bot_comments(pull.number)
            .into_iter()
            .find(|c| {
                c.body
                    .starts_with(&format!("<!-- hotfix-guard:escalation level={n}"))
            })
            .map(|c| c.body)
    };
    let first = level(1).expect("the first level");
    assert!(
        first.contains("The policy in force (`.github/hotfix-policy.yml`) cannot be read")
            && first.contains("as it was when the deadline was set")
            && first.contains("@acme/incident-commanders"),
        "{first}"
    );
    // Four hours in, still broken: the second level, as the policy asked.
    h.clock.advance(chrono::Duration::minutes(120));
    assert_eq!(h.app.engine.sweep().await, 1, "the second level is posted");
    h.settle().await;
    let second = level(2).expect("the second level");
    assert!(
        second.contains("@acme/incident-commanders") && second.contains("@acme/cto"),
        "{second}"
    );
}

// ---- Attack 3: a triage user removes a hotfix label only the policy in
// force knows ---------------------------------------------------------------

/// The author's harmless touch of the policy file (a valid YAML comment).
const AUTHORS_COMMENT: &str = "# reformatted for readability, no rule changes\n";

/// The harness's policy with a second hotfix label, `incident`: a writer's
/// addition after the P0's `base.sha`.
fn with_incident_label() -> String {
    attacks::policy_with("labels: [hotfix]\n", "labels: [hotfix, incident]\n")
}

/// The P0 (#7) from `fix/login-loop` (no hotfix branch prefix), labelled
/// `incident` and `P0` by dana (a writer), opened under the harness's
/// policy (no `incident` label there: not a hotfix); its change touches
/// the policy file with a valid comment when `touch` (so after the merge
/// it is judged by the file at `base.sha`). A writer adds `incident` as a
/// hotfix label on `main`; both roles approve (`success`, the follow-up
/// announced); trina (triage) removes `incident`; alice merges.
async fn incident_unlabelled_by_triage_then_merged(touch: bool) -> Harness {
    let labels = vec!["incident".to_string(), "P0".to_string()];
    let head_ref = "fix/login-loop".to_string();
    let (h, pull) = attacks::p0_with(|pull| common::fake_github::PullSeed {
        labels,
        head_ref,
        ..pull
    })
    .await;
    let appended = if touch { AUTHORS_COMMENT } else { "" };
    h.gh.set_file(REPO, BASE_SHA, POLICY_PATH, POLICY);
    h.gh.set_file(REPO, HEAD_SHA, POLICY_PATH, &format!("{POLICY}{appended}"));
    let touched: &[&str] = if touch { &[POLICY_PATH] } else { &[] };
    h.gh.set_pull_files(REPO, pull.number, merged::p0_files_with(touched));
    h.pull_request("opened", pull.number).await;
    let tightened = with_incident_label();
    merged::tightened_then_approved(&h, pull.number, &tightened).await;
    merged::assert_approved_under_the_policy_in_force(&h);
    merged::assert_told_it_owes_the_follow_up(&h, pull.number);
    h.clock.advance(chrono::Duration::minutes(5));
    let at = pull.created_at + chrono::Duration::minutes(12);
    h.gh.add_label_event(REPO, pull.number, "incident", "trina", false, at);
    h.gh.set_labels(REPO, pull.number, &["P0"]);
    attacks::label_delivery(&h, pull.number, "unlabeled", "incident").await;
    merged::merged_with(&h, pull.number, &format!("{tightened}{appended}")).await;
    h
}

/// The app opened exactly one issue, the post-incident review of #7 (the
/// sticky comment may not name it: judged by the file at `base.sha`, the
/// merged pull request is no hotfix, the residual `docs/facts.md` accepts).
fn assert_the_follow_up_is_opened(h: &Harness) {
    let opened = merged::issues_the_app_opened(h);
    assert_eq!(
        opened.len(),
        1,
        "the app opens the follow-up issue: {:?}\nrun: {}\nsticky: {}",
        opened.iter().map(|i| &i.title).collect::<Vec<_>>(),
        text_of(&h.check(HEAD_SHA)),
        attacks::sticky(h, 7)
    );
    assert!(
        opened[0].title.starts_with("Post-incident review"),
        "{}",
        opened[0].title
    );
}

/// Attack: review 21's fix (5a442ec) made both policies' labels designation
/// labels, tested with a SEVERITY label only the policy in force knows.
/// Here the label only the policy in force knows is a HOTFIX label, and
/// the pull request is a hotfix by nothing else (its branch has no hotfix
/// prefix): the policy at `base.sha` does not see a hotfix at all, so only
/// the in-force side of `merge_union` can owe the follow-up, and only if
/// trina's removal of `incident` does not count. Safe outcome: the
/// follow-up is opened.
#[tokio::test]
async fn a_triage_users_removal_of_a_hotfix_label_only_the_policy_in_force_knows_does_not_drop_the_follow_up()
 {
    let h = incident_unlabelled_by_triage_then_merged(true).await;
    assert_the_follow_up_is_opened(&h);
}

/// The control: without the policy touch (judged by the policy in force),
/// trina's removal is ignored and the follow-up is opened.
#[tokio::test]
async fn without_the_policy_touch_a_triage_users_removal_of_incident_does_not_drop_the_follow_up() {
    let h = incident_unlabelled_by_triage_then_merged(false).await;
    assert_the_follow_up_is_opened(&h);
    merged::assert_the_post_incident_review_is_opened(&h, 7);
}
