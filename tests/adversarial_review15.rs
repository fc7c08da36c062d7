//! Fifteenth adversarial review of issue 9 (fail closed): the newest fixes
//! (the early deadline watch, whose deadline runs when a non-writer's label
//! is in force, the "could not evaluate yet" placeholder, the escalation
//! posted when its read-back cannot say). Each test plays what only a pull
//! request's author (write access to their own fork, none on the base
//! repository) or a user with triage access can do, through signed
//! deliveries to the real router and the real client talking to the fake
//! GitHub, and asserts the SAFE outcome (conclusion and wording). A passing
//! test is an attack that failed; a test marked `#[ignore = "finding: …"]`
//! is an attack that worked.
//!
//! Two of the three findings here share one primitive, an author (or anyone who
//! can comment) keeping a multi-page timeline changing while it is read:
//! `Core::pages_up_to_cap` then fails the read ("the list changed while it
//! was read, 3 times in a row"), and every evaluation fails in
//! `gather::first_reads`, before the early deadline watch and before the
//! post-merge steps. Since every page is verified, the last included, a
//! comment merely appended at the end is enough: with the last page left
//! unverified (as before the newest fix) both churn tests pass, since an
//! append shifts nothing; editing a comment on page 1 works either way
//! (the thirteenth review's churn). Appends hide nothing, so a last page
//! whose second read only extends its first could count as unchanged.

use crate::common;

use chrono::Duration;
use common::attacks::{escalations, label_delivery, p0, p0_with, text_concluded, text_of};
use common::fake_github::PullSeed;
use common::harness::{HEAD_SHA, Harness, REPO};

// ---- A triage removal that a writer repairs ---------------------------------

/// dana (write) made the hotfix P0 at its opening. An hour and a half
/// later a triage user removes `P0`; the check fails saying a writer must
/// act, and dana, as asked, applies `P0` again ten minutes later. The P0's
/// deadline ran from dana's first application: the escalation is due two
/// hours after the opening, and the triage user's removal (with the
/// writer's repair it provoked) must not move it 1h40 later.
///
/// Reproduction: P0 by dana at t0+5s, opened (watched, due t0+2h); trina
/// removes `P0` at t0+90m (the check fails: "`P0` removed by @trina, who
/// lacks write access … a writer must remove it (apply it again, then
/// remove it)"); dana applies `P0` again at t0+100m. The report then says
/// "severity set by @dana at <t0+100m>", "Deploy by <t0+3h40m>", and the
/// sweep at t0+2h05m posts nothing. `provenance::applications` keeps only
/// each label's latest `labeled` event, so `provenance::check`'s `set_by`
/// (documented as "the earliest application by someone with write
/// access") is dana's re-application, and `deadline::clock_of` runs the
/// clock from it; `provenance::clock_start` (the writer's first
/// application) is used only when the current label does not count. A
/// removal by someone without write access, which does not count, still
/// breaks the clock's continuity once a writer repairs it.
///
/// Fixed: an application now stands from the earliest writer's
/// `labeled` event since the last writer's removal; the report names
/// dana's first application and the sweep escalates at t0+2h05m.
/// Checked that the test can fail: with `provenance::applications`
/// back on the latest `labeled` event, the sweep posts nothing.
#[tokio::test]
async fn a_writer_restoring_the_p0_a_triage_user_removed_does_not_restart_its_clock() {
    let (h, pull) = p0().await;
    h.pull_request("opened", pull.number).await;
    let t0 = pull.created_at;
    h.gh.add_label_event(
        REPO,
        pull.number,
        "P0",
        "trina",
        false,
        t0 + Duration::minutes(90),
    );
    h.gh.set_labels(REPO, pull.number, &["hotfix"]);
    h.clock.set(t0 + Duration::minutes(90));
    label_delivery(&h, pull.number, "unlabeled", "P0").await;
    let text = text_of(&h.check(HEAD_SHA));
    assert!(text.contains("removed by @trina"), "{text}");
    h.gh.add_label_event(
        REPO,
        pull.number,
        "P0",
        "dana",
        true,
        t0 + Duration::minutes(100),
    );
    h.gh.set_labels(REPO, pull.number, &["hotfix", "P0"]);
    h.clock.set(t0 + Duration::minutes(100));
    label_delivery(&h, pull.number, "labeled", "P0").await;
    let text = text_of(&h.check(HEAD_SHA));
    let first = (t0 + Duration::seconds(5)).format("%Y-%m-%d %H:%M UTC");
    assert!(text.contains(&format!("set by @dana at {first}")), "{text}");
    assert_eq!(h.app.engine.watched().await, 1, "{text}");
    // dana's first P0 was applied 5 s after the opening: due at 2h.
    h.clock.set(t0 + Duration::minutes(125));
    assert_eq!(h.app.engine.sweep().await, 1, "{text}");
    assert_eq!(escalations(&h, pull.number), 1, "{text}");
}

// ---- A triage user's P0 on a writer's P1 whose P1 they then remove ---------

/// dana (write) made the hotfix P1 (24h). A triage user adds `P0` and then
/// removes dana's `P1`: the pull request now carries only the triage
/// user's P0, which does not count, and the writer's P1 whose removal does
/// not count either. The check fails naming both, and the P1's deadline
/// (from dana's application) stays watched and is escalated at 24h.
///
/// Attack failed. Checked that the test can fail: with `deadline::running`
/// trying only the severity in force (no less severe candidate), nothing
/// is watched (`watched()` 0).
#[tokio::test]
async fn a_triage_users_p0_plus_removing_the_writers_p1_does_not_silence_its_escalation() {
    let (h, pull) = p0_with(|pull| PullSeed {
        labels: vec!["hotfix".into(), "P1".into()],
        ..pull
    })
    .await;
    h.pull_request("opened", pull.number).await;
    assert_eq!(h.app.engine.watched().await, 1, "the P1 is watched");
    let t0 = pull.created_at;
    h.gh.add_label_event(
        REPO,
        pull.number,
        "P0",
        "trina",
        true,
        t0 + Duration::hours(1),
    );
    h.gh.set_labels(REPO, pull.number, &["hotfix", "P1", "P0"]);
    h.clock.set(t0 + Duration::hours(1));
    label_delivery(&h, pull.number, "labeled", "P0").await;
    h.gh.add_label_event(
        REPO,
        pull.number,
        "P1",
        "trina",
        false,
        t0 + Duration::hours(1) + Duration::minutes(1),
    );
    h.gh.set_labels(REPO, pull.number, &["hotfix", "P0"]);
    h.clock.set(t0 + Duration::hours(1) + Duration::minutes(1));
    label_delivery(&h, pull.number, "unlabeled", "P1").await;
    let text = text_concluded(&h, HEAD_SHA, "failure");
    assert!(
        text.contains("P0 label applied by @trina, who lacks write access"),
        "{text}"
    );
    assert!(text.contains("removed by @trina"), "{text}");
    assert_eq!(h.app.engine.watched().await, 1, "{text}");
    h.clock.set(t0 + Duration::hours(24) + Duration::minutes(5));
    assert_eq!(h.app.engine.sweep().await, 1, "{text}");
    assert_eq!(escalations(&h, pull.number), 1, "{text}");
}

// ---- The designation read itself kept failing by the author ----------------

/// The author's hotfix is P2 (no deadline), its timeline padded by the
/// author to more than one page (100 comments). A writer (dana) raises it
/// to P0. While the `labeled` delivery is evaluated, through every try, the
/// author keeps the timeline changing (on GitHub: posting a comment, or
/// editing their own, whenever the app reads it: any change before the
/// end of what was read makes `pages_unchanged` read it again, three times,
/// then fail). The early watch (`early_watch::record`) runs after the
/// timeline is read (`gather::first_reads`, `gather::designation`), so the
/// deadline the writer's P0 starts must still be watched some other way,
/// and escalated two hours after dana's label.
///
/// Reproduction: P2 by dana, opened (nothing watched: P2 has no
/// deadline); the author posts 100 comments (two timeline pages); dana
/// applies P0 and the `labeled` delivery is evaluated while the author
/// appends a comment after each timeline GET the app sends. Every try
/// fails in `gather::first_reads` (`RepoClient::timeline` →
/// `Core::pages_up_to_cap`: "the list changed while it was read, 3 times in
/// a row"), before `early_watch::record`; after `MAX_ATTEMPTS` (5) tries
/// the run says "hotfix-guard could not evaluate this pull request" and
/// the job is done. Nothing watches the P0: `watched()` is 0 and the sweep
/// past the deadline posts nothing, until some later delivery on the pull
/// request evaluates it fully. The placeholder the first failed try
/// writes ("could not evaluate … yet", naming the retry wait) even tells
/// the author when the next try comes.
///
/// Was a finding (medium). Fixed: pages are compared by their items'
/// identity and order, and the last page may gain items after those first
/// read (`page_items::page_still_holds`): a comment posted, or edited, at
/// every read no longer fails it. The churn here stamps its comments as
/// GitHub does (after everything before them: appended); the first
/// reproduction stamped them at +2m, before dana's label, an insertion
/// before an item already read, which is still a change (a back-dated item
/// cannot be told from one that vanished and came back). Checked that the
/// test can fail: with byte-for-byte comparison, or no extension allowed
/// on the last page, every try fails again and nothing is watched.
#[tokio::test]
async fn a_timeline_kept_changing_while_p0_is_applied_does_not_silence_the_escalation() {
    raised_to_p0_on_a_padded_timeline(Churn::Append).await;
}

/// The same, the author editing their comment on page 1 after every read
/// instead (the thirteenth review's churn): an edit hides nothing and is
/// not a change.
///
/// Checked that the test can fail: with pages compared byte for byte
/// again (`page_still_holds` answering `first == again`) every try fails
/// and the P0 is not watched.
#[tokio::test]
async fn a_comment_edited_on_page_1_while_p0_is_applied_does_not_silence_the_escalation() {
    raised_to_p0_on_a_padded_timeline(Churn::EditOnPage1).await;
}

/// The control: the same P0 raised on the same padded timeline, with the
/// author not changing it, is watched and escalated by the same sweep, so
/// the churn alone makes the difference above.
#[tokio::test]
async fn without_the_churn_the_p0_raised_on_a_padded_timeline_is_escalated() {
    raised_to_p0_on_a_padded_timeline(Churn::None).await;
}

/// What the author does to the padded timeline after every timeline GET
/// the app sends.
#[derive(Clone, Copy, PartialEq)]
enum Churn {
    None,
    /// Posts a comment (at the timeline's end).
    Append,
    /// Edits their first padding comment (on page 1) in place.
    EditOnPage1,
}

/// The harness's hotfix as P2 (labels by dana), opened; its author posts
/// 100 comments (two timeline pages); dana raises it to P0 20 minutes
/// after the opening while the author does `churn` after every timeline
/// GET the app sends (`churn::raised_to_p0_on_a_padded_timeline`, which
/// asserts the P0 is watched and escalated at its deadline). Asserts the
/// churn happened exactly when asked and the check fails (no approvals).
async fn raised_to_p0_on_a_padded_timeline(churn: Churn) {
    let (turns, conclusion, text) = common::churn::raised_to_p0_on_a_padded_timeline(
        100,
        churn != Churn::None,
        |h, pull, padding, turn| churn.make(h, pull, padding, turn),
    )
    .await;
    assert_eq!(
        turns > 0,
        churn != Churn::None,
        "the author changed the timeline"
    );
    assert_eq!(conclusion.as_deref(), Some("failure"), "{text}");
}

impl Churn {
    /// The author's `turn`th change to `pull`'s timeline (`padding`: the
    /// padding comments' ids, oldest first), made after a timeline GET.
    fn make(self, h: &Harness, pull: &PullSeed, padding: &[u64], turn: usize) {
        // Stamped as GitHub stamps a new comment or edit, later than
        // everything before it (dana's P0 at +20m, the approvals at the
        // seeding): a new comment is appended at the timeline's end.
        let at = pull.created_at + Duration::hours(1) + Duration::seconds(turn as i64);
        if self == Churn::Append {
            h.gh.add_comment_at(
                REPO,
                pull.number,
                &pull.author,
                &format!("churn {turn}"),
                at,
            );
        } else {
            assert!(h.gh.edit_comment_as_author(REPO, padding[0], &format!("edit {turn}"), at));
        }
    }
}

// ---- The merged hotfix's follow-up, its evaluation kept failing ------------

const MERGE_SHA: &str = "m5m5m5m5m5m5m5m5m5m5m5m5m5m5m5m5m5m5m5m5";

/// The approved P0 is merged by alice. Its author, wanting no
/// post-incident review, has padded the conversation to two timeline
/// pages and keeps it changing while the `closed` delivery is evaluated
/// (comments on a merged pull request are allowed; anyone who can comment
/// can do it). The follow-up issue the procedure asks for (and the
/// merge-back) must still be opened: the evaluation that opens them reads
/// the timeline first.
///
/// Reproduction: `merged_approved_p0`; 100 comments by the author; the
/// `closed` delivery is evaluated while a comment is appended after every
/// timeline GET: every try fails in `gather::first_reads` ("the list
/// changed while it was read, 3 times in a row"), before
/// `post_merge::run`; after five tries the run says "hotfix-guard could
/// not evaluate this pull request" and the job is done. No follow-up issue,
/// no merge-back pull request, no tag; nothing later brings them (a merged
/// pull request gets no further deliveries of its own, and the sweep only
/// posts escalations).
///
/// Was a finding (medium). Fixed as the one above (appends and edits are
/// not changes). Checked that the test can fail: with byte-for-byte
/// comparison, or no extension allowed on the last page, no follow-up
/// issue and no merge-back are opened.
#[tokio::test]
async fn a_timeline_kept_changing_at_the_merge_does_not_silence_the_follow_up() {
    merged_on_a_padded_timeline(Churn::Append).await;
}

/// The same, the author editing their comment on page 1 after every read.
///
/// Checked that the test can fail: with pages compared byte for byte
/// again, no follow-up issue and no merge-back are opened.
#[tokio::test]
async fn a_comment_edited_on_page_1_at_the_merge_does_not_silence_the_follow_up() {
    merged_on_a_padded_timeline(Churn::EditOnPage1).await;
}

/// The control: the same merge with the padded timeline left alone opens
/// the follow-up issue and names it.
#[tokio::test]
async fn without_the_churn_the_merged_p0_gets_its_follow_up() {
    merged_on_a_padded_timeline(Churn::None).await;
}

/// `churn::merged_on_a_padded_timeline` with 100 padding comments (two
/// pages) and the author's `churn` (which asserts the follow-up issue and
/// the merge-back are opened); asserts the churn happened exactly when
/// asked.
async fn merged_on_a_padded_timeline(churn: Churn) {
    let (turns, _) = common::churn::merged_on_a_padded_timeline(
        MERGE_SHA,
        100,
        churn != Churn::None,
        |h, pull, padding, turn| churn.make(h, pull, padding, turn),
    )
    .await;
    assert_eq!(
        turns > 0,
        churn != Churn::None,
        "the author changed the timeline"
    );
}

// ---- A head policy file that is valid-looking but hostile YAML --------------

/// The author's P0 "edits" `.github/hotfix-policy.yml`; at the head it is
/// YAML built to exhaust the parser that validates it for annotations
/// (`Engine::policy_edit_annotations` → `policy::parse`, serde-saphyr),
/// under the 64 KiB read limit: nesting tens of thousands deep (a
/// recursive parser or `IgnoredAny` overflows the stack, which aborts the
/// whole process: every instance that takes the job dies, and the job is
/// taken again), or aliases doubling at every level (a billion laughs).
/// The evaluation must finish: the P0's own verdict (failing, approvals
/// missing), the file named in an annotation or ignored, the deadline
/// watched.
///
/// Attacks failed: serde-saphyr stops at the first key or type the schema
/// does not take (`RawPolicy` has no untyped field and no untagged enum to
/// buffer input), and nothing recursed or expanded. Checked that the tests
/// can fail: with `policy_edit_annotations` dropping the parse errors, all
/// three fail on the missing annotation.
async fn p0_with_head_policy(text: &str) -> (common::harness::Harness, String) {
    let (h, pull) = p0().await;
    assert!(text.len() < 64 * 1024, "under the read limit");
    h.gh.set_file(REPO, &pull.head_sha, common::harness::POLICY_PATH, text);
    h.gh.set_pull_files(
        REPO,
        pull.number,
        [
            ("src/fix.rs", 3, 1),
            ("VERSION", 1, 1),
            (common::harness::POLICY_PATH, 1, 0),
        ],
    );
    h.pull_request("opened", pull.number).await;
    let run = h.check(HEAD_SHA);
    let text = text_of(&run);
    assert_eq!(run.conclusion.as_deref(), Some("failure"), "{text}");
    assert!(
        text.contains("engineering-lead: missing"),
        "the P0's own verdict: {text}"
    );
    assert!(!text.contains("could not evaluate"), "{text}");
    assert_eq!(h.app.engine.watched().await, 1, "{text}");
    // The head's copy was read and judged: an annotation on it.
    let annotations: Vec<String> = run
        .annotations
        .iter()
        .filter(|a| a["path"] == common::harness::POLICY_PATH)
        .map(|a| a["message"].to_string())
        .collect();
    assert!(!annotations.is_empty(), "the head's policy is annotated");
    (h, annotations.join("\n"))
}

#[tokio::test]
async fn a_head_policy_nested_thirty_thousand_deep_does_not_stop_the_evaluation() {
    let depth = 30_000;
    let text = format!(
        "version: 1\nx: {}{}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let (_h, annotations) = p0_with_head_policy(&text).await;
    assert!(annotations.contains("2:1:"), "{annotations}");
}

#[tokio::test]
async fn a_head_policy_of_nested_block_mappings_does_not_stop_the_evaluation() {
    // `a:\n a:\n  a:` … one space deeper each line, as deep as 64 KiB allows.
    let mut text = String::from("version: 1\nx:\n");
    let mut depth = 1;
    while text.len() + depth + 4 < 60 * 1024 {
        text.push_str(&" ".repeat(depth));
        text.push_str("a:\n");
        depth += 1;
    }
    let (_h, annotations) = p0_with_head_policy(&text).await;
    assert!(annotations.contains("2:1:"), "{annotations}");
}

#[tokio::test]
async fn a_head_policy_of_doubling_aliases_does_not_stop_the_evaluation() {
    let mut text = String::from("version: 1\na0: &a0 [\"lol\", \"lol\", \"lol\", \"lol\"]\n");
    for n in 1..20 {
        let prev = n - 1;
        text.push_str(&format!(
            "a{n}: &a{n} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
        ));
    }
    text.push_str("severities: *a19\n");
    let (_h, annotations) = p0_with_head_policy(&text).await;
    assert!(annotations.contains("2:1:"), "{annotations}");
}
