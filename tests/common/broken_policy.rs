//! Arrange steps of the reviews in which the policy in force on `main`
//! does not parse for a while (adversarial reviews 22 to 26): a writer
//! merges the author's other pull request that broke the file, and later
//! merges its fix; the author's (erin's) P0 watched or opened meanwhile;
//! a triage user's lock past the deadline; another instance on the same
//! store. Each step arranges, delivers, or asserts a precondition (said so
//! in its doc); the outcomes several tests share are the `assert_…` steps.

use hotfix_guard::clock::Clock;

use super::attacks::{self, text_of};
use super::fake_github::PullSeed;
use super::harness::{HEAD_SHA, Harness, POLICY, POLICY_PATH, REPO};
use super::merged::writer_pushes_policy;
use super::webhook;

/// `main` after a writer merged the author's other pull request, which
/// broke the policy file.
pub const BROKEN_SHA: &str = "k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1";
/// `main` after a writer merged the fix of the policy file.
pub const FIXED_SHA: &str = "f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1";

/// `policy` with one unknown key appended: it does not parse.
pub fn broken(policy: &str) -> String {
    format!("{policy}notes: reformatted for readability, no rule changes\n")
}

/// The harness's policy, broken (`broken(POLICY)`).
pub fn broken_policy() -> String {
    broken(POLICY)
}

/// A writer merges a pull request that rewrote `policy` so that it does
/// not parse: `main` moves to `BROKEN_SHA`, whose file (and `main`'s) is
/// `broken(policy)`, and the push naming the policy file is delivered and
/// settled (`merged::writer_pushes_policy`).
pub async fn policy_broken_on_main(h: &Harness, policy: &str) {
    writer_pushes_policy(h, BROKEN_SHA, &broken(policy)).await;
}

/// A writer merges the fix: `main` moves to `FIXED_SHA` with the harness's
/// policy; the push delivery lists the policy file when `listed`, and no
/// file at all otherwise (GitHub's list for a squashed commit too large to
/// compute in time, the author's vendoring pull request that also fixed
/// the file). Delivered and settled.
pub async fn policy_fixed_on_main(h: &Harness, listed: bool) {
    if listed {
        return writer_pushes_policy(h, FIXED_SHA, POLICY).await;
    }
    h.gh.set_branch(REPO, "main", FIXED_SHA);
    h.gh.set_file(REPO, FIXED_SHA, POLICY_PATH, POLICY);
    h.gh.set_file(REPO, "main", POLICY_PATH, POLICY);
    let mut push = webhook::push_event(REPO, "refs/heads/main", &[POLICY_PATH], 1);
    push["commits"][0]["modified"] = serde_json::json!([]);
    push["commits"][0]["message"] =
        serde_json::json!("Vendor the client libraries; fix the hotfix policy (#12)");
    push["head_commit"] = push["commits"][0].clone();
    h.deliver("push", &push).await;
    h.settle().await;
}

/// Three hours on (the clock advanced: past a P0's 2h deadline), a writer
/// merges the fix (`policy_fixed_on_main(listed)`).
pub async fn fixed_three_hours_on(h: &Harness, listed: bool) {
    h.clock.advance(chrono::Duration::minutes(180));
    policy_fixed_on_main(h, listed).await;
}

/// The harness's P0 (#7) under `policy`, authored by erin (read access;
/// labels by dana, a writer; trina has triage access), the clock at its
/// opening; nothing delivered yet.
pub async fn erins_p0_under(policy: &str) -> (Harness, PullSeed) {
    let (h, pull) = attacks::p0_changed(policy, |p0| PullSeed {
        author: "erin".into(),
        ..p0
    })
    .await;
    h.clock.set(pull.created_at);
    h.gh.set_permission(REPO, "erin", "read");
    h.gh.set_permission(REPO, "trina", "triage");
    (h, pull)
}

/// `erins_p0_under(policy)`, opened unapproved: its 2h deadline is watched
/// (one watch in the engine, asserted as a precondition).
pub async fn erins_p0_watched_under(policy: &str) -> (Harness, PullSeed) {
    let (h, pull) = erins_p0_under(policy).await;
    h.pull_request("opened", pull.number).await;
    assert_eq!(h.app.engine.watched().await, 1, "precondition: watched");
    (h, pull)
}

/// `erins_p0_under(POLICY)` opened while `main`'s policy does not parse
/// (`policy_broken_on_main` first): its run fails on the policy, its text
/// containing `says` (asserted, as a precondition), and no deadline is
/// watched.
pub async fn erins_p0_opened_under_a_broken_policy(says: &str) -> (Harness, PullSeed) {
    let (h, pull) = erins_p0_under(POLICY).await;
    policy_broken_on_main(&h, POLICY).await;
    h.pull_request("opened", pull.number).await;
    h.settle().await;
    let run = h.check(HEAD_SHA);
    let text = text_of(&run);
    assert!(
        run.conclusion.as_deref() == Some("failure") && text.contains(says),
        "precondition: failed on the broken policy: {text}"
    );
    (h, pull)
}

/// erin, the P0's author (no write access), closes #`number`: GitHub's
/// `closed` state event by her now, and the `closed` delivery, settled.
pub async fn closed_by_its_author(h: &Harness, number: u64) {
    h.gh.update_pull(REPO, number, |p| p.state = "closed".into());
    h.gh.add_state_event(REPO, number, "closed", "erin", h.clock_now());
    h.pull_request("closed", number).await;
    h.settle().await;
}

/// The app's level-1 escalation comments on #`number`.
pub fn first_levels(h: &Harness, number: u64) -> Vec<String> {
    h.bot_comments(number)
        .into_iter()
        .filter(|c| c.body.starts_with("<!-- hotfix-guard:escalation level=1"))
        .map(|c| c.body)
        .collect()
}

/// Asserts the safe outcome once the policy can be read again: the P0 is
/// judged by the readable policy (its run fails without naming a broken
/// file), its deadline (2h, long past) is watched, and the sweep a minute
/// on (the clock advanced) posts exactly one first level, mentioning the
/// policy's escalation team `@acme/incident-commanders`.
pub async fn assert_judged_and_escalated(h: &Harness, number: u64) {
    let run = h.check(HEAD_SHA);
    let text = text_of(&run);
    assert!(
        !text.contains("is invalid"),
        "the fix re-evaluates the P0: {text}"
    );
    assert_eq!(run.conclusion.as_deref(), Some("failure"), "{text}");
    assert_eq!(h.app.engine.watched().await, 1, "watched: {text}");
    h.clock.advance(chrono::Duration::minutes(1));
    assert_eq!(h.app.engine.sweep().await, 1, "escalated: {text}");
    h.settle().await;
    assert_the_only_first_level_says(&first_levels(h, number), &["@acme/incident-commanders"]);
}

/// Asserts `first` (`first_levels`) holds exactly one comment and that it
/// contains each of `says`.
pub fn assert_the_only_first_level_says(first: &[String], says: &[&str]) {
    assert_eq!(first.len(), 1, "{first:?}");
    for said in says {
        assert!(first[0].contains(said), "{}", first[0]);
    }
}

/// trina (triage) locks #`number`'s conversation: GitHub's `locked` (reason
/// "too heated"), and 403 on the app's comments there from then on.
pub fn locked_by_triage(h: &Harness, number: u64) {
    h.gh.update_pull(REPO, number, |p| {
        p.locked = true;
        p.active_lock_reason = Some("too heated".into());
    });
    attacks::refuse_comment_posts(h, number, 1000);
}

/// `erins_p0_watched_under(policy)`. Ten minutes on, the policy in force
/// breaks when `broken` (`policy_broken_on_main(policy)`); trina locks the
/// conversation (`locked_by_triage`); 120 minutes on (past the 2h
/// deadline) instance A's sweep meets the refusal of the first level and
/// renders the run again: no first level is posted (asserted, as a
/// precondition). Answers instance A and the P0's number.
pub async fn locked_at_the_first_level(policy: &str, broken: bool) -> (Harness, u64) {
    let (h, pull) = erins_p0_watched_under(policy).await;
    h.clock.advance(chrono::Duration::minutes(10));
    if broken {
        policy_broken_on_main(&h, policy).await;
    }
    locked_by_triage(&h, pull.number);
    h.clock.advance(chrono::Duration::minutes(120));
    h.app.engine.sweep().await;
    h.settle().await;
    assert!(first_levels(&h, pull.number).is_empty(), "locked");
    (h, pull.number)
}

/// Instance A stops (drained: a restart, or a replica that does not hold
/// the sweep lease takes the next job); instance B, on the same store and
/// the same fake GitHub, its clock at A's time, handles the author's title
/// edit of #`number` (GitHub's pull request retitled, `edited` delivered
/// and settled). Answers instance B.
pub async fn author_edits_on_b(a: Harness, number: u64) -> Harness {
    let Harness {
        gh,
        app,
        clock,
        database_url,
    } = a;
    let now = clock.now();
    assert!(
        app.drain(std::time::Duration::from_secs(5)).await,
        "A drained"
    );
    let b = Harness::with_store(gh, database_url).await;
    b.clock.advance(now - b.clock_now());
    attacks::retitled(&b, number);
    b.pull_request("edited", number).await;
    b.settle().await;
    b
}
