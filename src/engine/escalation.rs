//! Deadlines: every open hotfix with a deadline is watched; a sweep posts
//! one escalation comment when the deadline passes unmerged, and a second
//! one (the procedure's "notify CEO/CTO if resolution exceeds 4 hours") once
//! `escalation.after` has run out. The levels posted are recorded in the
//! store (kept when the pull request is closed and reopened), and each
//! comment carries a marker the app reads back from its own comments when
//! the store cannot say, so a level is posted once across restarts,
//! instances, closing and reopening. The one exception is chosen: a level
//! whose posting GitHub left unanswered, when the app's comments cannot be
//! read back, is posted again saying so (a repeat, never silence).

use chrono::{DateTime, Utc};

use crate::events::PrKey;
use crate::github::RepoClient;
use crate::policy::Escalation;
use crate::pull::Pull;
use crate::report::post_merge::{
    escalation_comment, escalation_marker, escalation_policy_unreadable_note,
    escalation_repeat_note,
};

/// A watched deadline (kept in the store's `deadlines`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watch {
    pub severity: String,
    /// When the pull request became a hotfix of this severity.
    pub started: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    /// The policy's `escalation` section when the deadline was watched:
    /// what the sweep follows if the policy in force cannot be read later.
    /// `None`: not known (a watch recorded before it was kept).
    pub escalation: Option<Escalation>,
}

impl Watch {
    /// The watch of `severity`'s `deadline` (as `Verdict::running_deadline`
    /// or `rules::deadline::running` gives it): it started the severity's
    /// `deadline` duration before (the deadline itself when the policy
    /// gives none); `escalation` is the policy's section, kept with it.
    pub fn of(
        severity: &crate::policy::Severity,
        deadline: DateTime<Utc>,
        escalation: &Escalation,
    ) -> Watch {
        let limit = severity
            .deadline
            .and_then(|d| chrono::Duration::from_std(d).ok())
            .unwrap_or_default();
        Watch {
            severity: severity.name.clone(),
            started: deadline - limit,
            deadline,
            escalation: Some(escalation.clone()),
        }
    }
}

/// The durable record of levels failed (the store is unreachable): the
/// sweep retries later; nothing is posted without it.
#[derive(Debug, thiserror::Error)]
#[error("the record of escalation levels failed: {0}")]
pub struct RecordError(pub String);

/// A sweep of one pull request failed: GitHub, or the record of levels.
/// Retried at the next sweep.
#[derive(Debug, thiserror::Error)]
pub enum EscalateError {
    #[error("GitHub did not answer as expected: {0}")]
    GitHub(#[from] crate::github::GitHubError),
    #[error(transparent)]
    Record(#[from] RecordError),
}

/// The levels posted so far, as a durable record knows them (the store's
/// `escalation_levels`; implemented there, so that this module does not
/// depend on the store).
#[async_trait::async_trait]
pub trait LevelRecord: Send + Sync {
    /// `(posted, posting)`: the highest level posted and a level whose
    /// posting started and was not seen to finish (0 for none); `None`
    /// when nothing is recorded.
    async fn levels(&self, key: &PrKey) -> Result<Option<(u8, u8)>, RecordError>;
    /// Levels up to `level` are posted (never lowered).
    async fn posted(&self, key: &PrKey, level: u8) -> Result<(), RecordError>;
    /// What the app's own comments show after an unfinished posting.
    async fn seen(&self, key: &PrKey, level: u8) -> Result<(), RecordError>;
    /// Posting `level` starts.
    async fn posting(&self, key: &PrKey, level: u8) -> Result<(), RecordError>;
}

/// How far before a level fell due (the app's clock) a comment posting it
/// is looked for (GitHub's clock): the two may disagree by this much.
const SKEW_MARGIN: chrono::Duration = chrono::Duration::minutes(10);

/// What a sweep posted for one pull request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Escalated {
    pub first: bool,
    pub second: bool,
    /// The pull request is merged or closed by a writer: stop watching it.
    pub finished: bool,
    /// The level whose comment the conversation's lock held back: GitHub's
    /// `locked` on the pull request (nothing sent), or its 403 "… because
    /// issue is locked." to the comment. Tried again at the next sweep.
    pub held: Option<u8>,
}

/// Posts what is due for one watched pull request (`closed_by_writer`:
/// it is closed unmerged and a writer closed it, which stops it). Which levels were
/// posted comes from the store (`escalation_levels`), seeded by the
/// evaluation from the app's own comments when the deadline is first
/// watched; the app's own comments are read only when the store has no
/// record or a posting was interrupted. When neither can say (the comments
/// cannot all be listed: GitHub's lists stop at 100 pages, and anyone who
/// can comment can write 10,000 comments inside the window read back; or
/// GitHub does not answer the listing), the level is posted anyway, with a
/// note that it may be a repeat, and the sweep logs why: a duplicate
/// escalation is noise, a silenced one is what the procedure forbids.
///
/// `escalation`: the policy in force's `escalation` section, or
/// `Err(shown_path)` when that policy cannot be read (it does not parse, or
/// is not a text file). The watch was fixed when the deadline was watched:
/// its severity, deadline and the `escalation` section of the policy then
/// (`Watch::escalation`), which the levels follow, saying the policy cannot
/// be read. A watch without it (recorded before it was kept) posts the
/// first level mentioning nobody, and the second level, whose time and
/// mentions are the policy's, waits until the file can be read again: the
/// watch stays unfinished until then.
#[allow(clippy::too_many_arguments)]
pub async fn escalate(
    client: &RepoClient,
    store: &dyn LevelRecord,
    key: &PrKey,
    escalation: Result<&Escalation, &str>,
    pull: &Pull,
    watch: &Watch,
    now: DateTime<Utc>,
    closed_by_writer: bool,
) -> Result<Escalated, EscalateError> {
    // Closed unmerged by anyone but a writer (`closed_by_writer`, judged by
    // the caller from the timeline) keeps escalating.
    if pull.is_merged() || (pull.state == "closed" && closed_by_writer) {
        return Ok(Escalated {
            finished: true,
            ..Escalated::default()
        });
    }
    let unknown = Escalation::default();
    let (settings, unreadable, known) = match (escalation, &watch.escalation) {
        (Ok(settings), _) => (settings, String::new(), true),
        (Err(shown_path), Some(kept)) => (
            kept,
            escalation_policy_unreadable_note(shown_path, true),
            true,
        ),
        (Err(shown_path), None) => (
            &unknown,
            escalation_policy_unreadable_note(shown_path, false),
            false,
        ),
    };
    let mut done = Escalated::default();
    let levels = crate::rules::escalation::levels(settings, watch.started, watch.deadline);
    // `maybe_posted`: a level above `posted` may exist already (unknown).
    let (posted, maybe_posted) = match store.levels(key).await? {
        Some((posted, 0)) => (posted, false),
        recorded => match read_back(client, key, &levels, pull, watch, recorded).await? {
            Some(seen) => {
                store.seen(key, seen).await?;
                (seen, false)
            }
            // Unknown: the posting mark stays (a later sweep that can read
            // the comments still clears it), and the levels due above what
            // the store knows are posted, each saying it may be a repeat.
            None => (recorded.map_or(0, |(posted, _)| posted), true),
        },
    };
    let note = if maybe_posted {
        escalation_repeat_note()
    } else {
        String::new()
    } + &unreadable;
    let second_owed = levels.iter().any(|level| level.number == 2);
    for level in levels {
        if now < level.due || posted >= level.number {
            continue;
        }
        let body = escalation_comment(
            level.number,
            &watch.severity,
            &level.mention,
            watch.deadline,
            now,
            level.waited,
        ) + &note;
        if !post(client, store, key, pull, level.number, &body).await? {
            done.held = Some(level.number);
            return Ok(done);
        }
        match level.number {
            1 => done.first = true,
            _ => done.second = true,
        }
    }
    let first_done = done.first || posted >= 1;
    let second_done = !second_owed || done.second || posted >= 2;
    // Unreadable: whether a second level is owed is unknown until it can be
    // read again; keep watching.
    done.finished = first_done && second_done && known;
    Ok(done)
}

/// After an unfinished posting (or with no record in the store), which
/// levels the app's own comments show posted: `Some(level)` (0 for none),
/// or `None` when they cannot say — the comments written since the level
/// fell due (less [`SKEW_MARGIN`]; GitHub's `since` is the comments'
/// `updated_at`) are more than the 100 pages a list is read to, or GitHub
/// did not answer the listing after the client's retries. Errors only when
/// the app's own identity cannot be read (`RepoClient::own_marked`).
///
/// A cheaper look-up does not exist that a flood cannot defeat: "List
/// issue comments" takes only `since` (no `sort`, no `direction`); the
/// repository-wide "List issue comments for a repository" can list newest
/// first (`sort=created&direction=desc`), but comments written after the
/// posting still come before it, so a flood inside the window hides it
/// there too. Hence `None` and the forced post, not silence.
async fn read_back(
    client: &RepoClient,
    key: &PrKey,
    levels: &[crate::rules::escalation::Level],
    pull: &Pull,
    watch: &Watch,
    recorded: Option<(u8, u8)>,
) -> Result<Option<u8>, EscalateError> {
    // After an interrupted posting only the comments written since that
    // level fell due can be it (less a margin for clock skew): a flood of
    // older comments cannot hide whether it was posted.
    let due = match recorded {
        Some((_, 1)) => Some(watch.deadline),
        Some((_, 2)) => levels
            .iter()
            .find(|level| level.number == 2)
            .map(|level| level.due),
        _ => None,
    };
    let listed = match due {
        Some(due) => {
            client
                .list_issue_comments_since(pull.number, due - SKEW_MARGIN)
                .await
        }
        None => client.list_issue_comments(pull.number).await,
    };
    let comments = match listed {
        Ok(comments) => comments,
        Err(e) => {
            tracing::warn!(
                repository = %key.repo,
                pr = key.number,
                error = %e,
                "cannot establish which escalation levels were posted (comments not listable); posting the levels due anyway, marked as possible repeats: a duplicate escalation is noise, a silenced one is not allowed"
            );
            return Ok(None);
        }
    };
    // Only the app's own comments: a marker typed by the author must not
    // pass for an escalation already posted.
    let mut seen = recorded.map_or(0, |(posted, _)| posted);
    for level in [1u8, 2] {
        if !client
            .own_marked(&comments, &escalation_marker(level))
            .await?
            .is_empty()
        {
            seen = seen.max(level);
        }
    }
    Ok(Some(seen))
}

/// Posts one level's comment and records it; `false` when the
/// conversation's lock holds it back: GitHub's `locked` (nothing is sent:
/// it would be refused) or its 403 to the comment. The app never unlocks a
/// conversation itself (that would undo a moderator's act).
async fn post(
    client: &RepoClient,
    store: &dyn LevelRecord,
    key: &PrKey,
    pull: &Pull,
    level: u8,
    body: &str,
) -> Result<bool, EscalateError> {
    if pull.locked {
        return Ok(false);
    }
    store.posting(key, level).await?;
    match client.create_comment(pull.number, body).await {
        Ok(_) => {}
        Err(e) => {
            // GitHub refused it (a lock's 403 among others): nothing was
            // written, so the mark goes and the next sweep posts the level
            // without listing the comments first. Only an unknown outcome
            // (a 5xx, no answer) keeps the mark: then the app's own
            // comments must say whether it exists. Were a refusal to keep
            // it, anyone could flood the conversation past the 100 pages a
            // list can be read to, have a triage user lock it at the right
            // moment, and silence the escalation for good.
            if e.nothing_written() {
                store.seen(key, level - 1).await?;
            }
            if e.is_locked() {
                return Ok(false);
            }
            return Err(e.into());
        }
    }
    store.posted(key, level).await?;
    Ok(true)
}
