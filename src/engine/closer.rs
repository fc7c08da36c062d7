//! Who closed a hotfix without merging, and whether that stops its
//! escalation. Only a writer can take a pull request out of the procedure
//! (removing its labels needs a writer too): a close by the author without
//! write access or by a triage user leaves the escalation running, and so
//! does a close whose author or permission cannot be confirmed.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::events::PrKey;
use crate::github::{RepoClient, Timeline};
use crate::rules::Permission;

/// Who closed the pull request and whether they have write access.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClosedUnmerged {
    /// The latest `closed` timeline event's `actor.login` and `created_at`;
    /// `None` when the timeline lists no such event or it names no actor.
    pub by: Option<(String, Option<DateTime<Utc>>)>,
    /// `GET /repos/{o}/{r}/collaborators/{actor}/permission` → `permission`
    /// can write; `None` when it could not be read (or nobody to ask).
    pub writer: Option<bool>,
}

impl ClosedUnmerged {
    /// Escalation stops only when a confirmed writer closed it; unknown
    /// keeps it running (fail closed).
    pub fn stops_escalation(&self) -> bool {
        self.writer == Some(true)
    }
}

/// The latest `closed` event in `timeline` (an event without an actor
/// names nobody: the close stays unconfirmed).
pub fn latest_closed(timeline: &Timeline) -> Option<(String, Option<DateTime<Utc>>)> {
    timeline
        .state_events
        .iter()
        .rev()
        .find(|e| e.event == "closed")
        .and_then(|e| Some((e.actor.clone()?, e.created_at)))
}

/// Judges a close: `by` from the timeline, `known` the permissions the
/// evaluation already read (by login), else the client's permission
/// lookup (memoised like the rules' lookups). A failed lookup is logged
/// and leaves `writer` unknown.
pub async fn judge(
    client: &RepoClient,
    by: Option<(String, Option<DateTime<Utc>>)>,
    known: &BTreeMap<String, Permission>,
) -> ClosedUnmerged {
    let Some((login, _)) = &by else {
        return ClosedUnmerged { by, writer: None };
    };
    // GitHub's `ghost` stands for a deleted account: nobody to ask.
    if login.eq_ignore_ascii_case(crate::pull::DELETED_USER) {
        return ClosedUnmerged { by, writer: None };
    }
    let cached = known
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(login))
        .map(|(_, p)| *p);
    let writer = match cached {
        Some(p) => Some(p.can_write()),
        None => match client.collaborator_permission(login).await {
            Ok(p) => Some(Permission::from_api(&p).can_write()),
            Err(e) => {
                tracing::warn!(user = %login, error = %e, "cannot read who closed the pull request's permission; escalation continues");
                None
            }
        },
    };
    ClosedUnmerged { by, writer }
}

/// Who closed the pull request last, read fresh for the deadline sweep:
/// the timeline's latest `closed` event, or the issue events list's when
/// the timeline is cut at the page cap or kept changing while it was read (the events list has no comments,
/// so bulk comments cannot push a close out of it). `None` (unknown, so
/// escalation continues) when both lists are cut, when either read fails,
/// or when no `closed` event names an actor; the reason is logged.
pub async fn read_latest_closed(
    client: &RepoClient,
    key: &PrKey,
) -> Option<(String, Option<DateTime<Utc>>)> {
    // A timeline that kept changing while it was read is read like a cut
    // one: the events list has no comments to delete.
    let timeline = match client.timeline(key.number).await {
        Err(e) if e.is_list_kept_changing() => Ok(None),
        read => read.map(Some),
    };
    let read = match timeline {
        Ok(Some(timeline)) if timeline.cut_after.is_none() => Ok(latest_closed(&timeline)),
        Ok(_) => match client.issue_events(key.number).await {
            Ok(events) if events.cut_after.is_none() => Ok(latest_closed(&events)),
            Ok(_) => {
                tracing::warn!(repository = %key.repo, pr = key.number, "the timeline and the events list are cut: who closed the pull request last is unknown; escalation continues");
                return None;
            }
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    read.unwrap_or_else(|e| {
        tracing::warn!(repository = %key.repo, pr = key.number, error = %e, "cannot read who closed the pull request; escalation continues");
        None
    })
}
