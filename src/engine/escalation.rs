//! Deadlines: every open hotfix with a deadline is watched; a sweep posts
//! one escalation comment when the deadline passes unmerged, and a second
//! one (the procedure's "notify CEO/CTO if resolution exceeds 4 hours") once
//! `escalation.after` has run out. Each comment carries a marker and is
//! looked for before posting, so it is posted once across restarts and
//! instances.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::events::{PrKey, PullPayload};
use crate::github::{GitHubError, RepoClient};
use crate::policy::Policy;
use crate::report::post_merge::{escalation_comment, escalation_marker};

/// Open hotfixes this instance watches at most; past it, the oldest
/// deadlines are dropped first (a restart's discovery finds them again).
const MAX_WATCHED: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watch {
    pub severity: String,
    /// When the pull request became a hotfix of this severity.
    pub started: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
}

#[derive(Default)]
pub struct Watches(Mutex<HashMap<PrKey, Watch>>);

impl Watches {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PrKey, Watch>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn watch(&self, key: PrKey, watch: Watch) {
        let mut map = self.lock();
        if map.len() >= MAX_WATCHED
            && !map.contains_key(&key)
            && let Some(oldest) = map
                .iter()
                .min_by_key(|(_, w)| w.deadline)
                .map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
        map.insert(key, watch);
    }

    pub fn forget(&self, key: &PrKey) {
        self.lock().remove(key);
    }

    /// Watched pull requests whose deadline has passed at `now`.
    pub fn due(&self, now: DateTime<Utc>) -> Vec<(PrKey, Watch)> {
        let mut due: Vec<_> = self
            .lock()
            .iter()
            .filter(|(_, w)| w.deadline <= now)
            .map(|(k, w)| (k.clone(), w.clone()))
            .collect();
        due.sort_by_key(|(_, w)| w.deadline);
        due
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What a sweep posted for one pull request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Escalated {
    pub first: bool,
    pub second: bool,
    /// The pull request is merged or closed: stop watching it.
    pub finished: bool,
}

/// Posts what is due for one watched pull request.
pub async fn escalate(
    client: &RepoClient,
    policy: &Policy,
    pull: &PullPayload,
    watch: &Watch,
    now: DateTime<Utc>,
) -> Result<Escalated, GitHubError> {
    if pull.is_merged() || pull.state == "closed" {
        return Ok(Escalated {
            finished: true,
            ..Escalated::default()
        });
    }
    let mut done = Escalated::default();
    let comments = client.list_issue_comments(pull.number).await?;
    // Only the app's own comments: a marker typed by the author must not
    // pass for an escalation already posted.
    let posted_1 = !client
        .own_marked(&comments, &escalation_marker(1))
        .await?
        .is_empty();
    let posted_2 = !client
        .own_marked(&comments, &escalation_marker(2))
        .await?
        .is_empty();
    let posted = |level: u8| if level == 1 { posted_1 } else { posted_2 };
    let limit = watch
        .deadline
        .signed_duration_since(watch.started)
        .to_std()
        .unwrap_or_default();
    if now >= watch.deadline && !posted(1) {
        let body = escalation_comment(
            1,
            &watch.severity,
            &policy.escalation.mention,
            watch.deadline,
            now,
            limit,
        );
        client.create_comment(pull.number, &body).await?;
        done.first = true;
    }
    if let Some(after) = policy.escalation.after {
        let second_at = watch.started + chrono::Duration::from_std(after).unwrap_or_default();
        if now >= second_at && !posted(2) {
            let mut mention = policy.escalation.mention.clone();
            mention.extend(policy.escalation.mention_after.iter().cloned());
            let body = escalation_comment(2, &watch.severity, &mention, watch.deadline, now, after);
            client.create_comment(pull.number, &body).await?;
            done.second = true;
        }
    }
    let first_done = done.first || posted(1);
    let second_done = policy.escalation.after.is_none() || done.second || posted(2);
    done.finished = first_done && second_done;
    Ok(done)
}
