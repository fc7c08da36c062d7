//! The read-back after an escalation posting whose outcome is unknown (a
//! 5xx on every attempt): when the app's own comments cannot say whether
//! the level was written (the listing unanswered after the client's
//! retries, or cut at the page cap: `tests/adversarial_review11.rs`), the
//! level is posted anyway, saying it may be a repeat, and the store's
//! level record stops it from being posted again at later sweeps.

use crate::common;

use chrono::Duration;

use common::attacks::posts_of_level;
use common::fake_github::{BOT_LOGIN, PullSeed};
use common::harness::{Harness, POLICY, REPO};

/// How many times the app's HTTP client sends one request before it gives
/// up on a 5xx (`HttpOptions::max_attempts`' default).
const ATTEMPTS: usize = 4;

/// The paragraph a level posted without confirmation carries.
const MAY_REPEAT: &str = "_This escalation may appear twice: GitHub did not answer an earlier posting of it, and the comments could not be read back to see whether it was written (too many comments to list, or GitHub not answering). Posting it again is the safer choice; silence is not._";

/// The policy with a second level (4 hours after the start): the deadline
/// stays watched after level 1 is posted, so later sweeps still visit it.
fn policy() -> String {
    POLICY.replace(
        "escalation:\n  mention: [acme/incident-commanders]\n",
        "escalation:\n  mention: [acme/incident-commanders]\n  after: 4h\n  mention_after: [acme/cto]\n",
    )
}

/// The unapproved P0 #7 (two levels), opened and watched; at 130 minutes (level 1 fell
/// due at 120) GitHub answers the escalation comment with a 502 on every
/// attempt. `written`: GitHub had written it all the same (the app's
/// comment exists; the answer was lost).
async fn level_one_posting_unanswered(written: bool) -> (Harness, PullSeed) {
    let h = Harness::start().await;
    let pull = h.p0();
    let policy = policy();
    assert_ne!(policy, POLICY, "the second level is configured");
    h.seed(&policy, &pull);
    h.label_events_by(&pull, "dana");
    h.clock.set(pull.created_at);
    h.pull_request("opened", pull.number).await;
    let posting = pull.created_at + Duration::minutes(130);
    h.clock.set(posting);
    h.gh.fail_next("POST", "/comments", 502, Vec::new(), ATTEMPTS);
    h.app.engine.sweep().await;
    assert_eq!(posts_of_level(&h, pull.number, 1), 0, "precondition");
    if written {
        h.gh.add_comment_at(
            REPO,
            pull.number,
            BOT_LOGIN,
            "<!-- hotfix-guard:escalation level=1 -->\n⏰ @acme/incident-commanders this P0 hotfix was due",
            posting,
        );
    }
    (h, pull)
}

fn level_one_bodies(h: &Harness, number: u64) -> Vec<String> {
    h.bot_comments(number)
        .into_iter()
        .map(|c| c.body)
        .filter(|b| b.starts_with("<!-- hotfix-guard:escalation level=1 -->"))
        .collect()
}

/// The sweep after the unknown outcome cannot list the comments (a 502 on
/// every attempt): the level is posted, saying it may be a repeat, and the
/// sweeps after it post nothing more (the store records it posted: they do
/// not read the comments again).
#[tokio::test]
async fn a_level_whose_read_back_gets_no_answer_is_posted_once_saying_it_may_repeat() {
    let (h, pull) = level_one_posting_unanswered(false).await;
    // Unanswered at this sweep and the two after: only the store's level
    // record keeps those from posting the level again.
    h.gh.fail_next("GET", "/comments", 502, Vec::new(), 3 * ATTEMPTS);
    h.app.engine.sweep().await;
    let posted = level_one_bodies(&h, pull.number);
    assert_eq!(posted.len(), 1, "posted despite the unreadable comments");
    assert!(posted[0].contains(MAY_REPEAT), "{}", posted[0]);
    assert!(
        posted[0].contains("@acme/incident-commanders"),
        "{}",
        posted[0]
    );
    h.app.engine.sweep().await;
    h.app.engine.sweep().await;
    assert_eq!(h.app.engine.watched().await, 1, "level 2 still to come");
    assert_eq!(posts_of_level(&h, pull.number, 1), 1, "posted once");
}

/// The price of never being silent: GitHub had written the comment it
/// answered with 502s, and the read-back gets no answer, so the level
/// appears twice (the second saying why); never a third time.
#[tokio::test]
async fn a_written_but_unanswered_level_repeats_once_when_it_cannot_be_read_back() {
    let (h, pull) = level_one_posting_unanswered(true).await;
    // Unanswered at this sweep and the two after: only the store's level
    // record keeps those from posting the level again.
    h.gh.fail_next("GET", "/comments", 502, Vec::new(), 3 * ATTEMPTS);
    h.app.engine.sweep().await;
    let posted = level_one_bodies(&h, pull.number);
    assert_eq!(posted.len(), 2, "{posted:#?}");
    assert!(posted[1].contains(MAY_REPEAT), "{}", posted[1]);
    h.app.engine.sweep().await;
    h.app.engine.sweep().await;
    assert_eq!(posts_of_level(&h, pull.number, 1), 2, "not a third time");
}

/// Control: when the comments can be read back, the app's own comment
/// settles it: nothing is posted again, and nothing says "may repeat".
#[tokio::test]
async fn a_written_but_unanswered_level_read_back_is_not_posted_again() {
    let (h, pull) = level_one_posting_unanswered(true).await;
    h.app.engine.sweep().await;
    h.app.engine.sweep().await;
    let posted = level_one_bodies(&h, pull.number);
    assert_eq!(posted.len(), 1, "{posted:#?}");
    assert!(!posted[0].contains("may appear twice"), "{}", posted[0]);
}
