//! `closed` and `reopened` timeline events: who closed or reopened a pull
//! request, with GitHub's time (the timeline's `actor` and `created_at`);
//! and `base_ref_changed`: who retargeted it, and when. All are served by
//! both the timeline and the issue events list.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::FakeGitHub;
use super::shapes::{self, Ctx};

/// One `closed`/`reopened` event as seeded.
#[derive(Clone, Debug, PartialEq)]
pub struct StateEventRec {
    pub id: u64,
    pub issue_number: u64,
    /// `closed`, `reopened` or `base_ref_changed`.
    pub event: String,
    pub actor: String,
    pub created_at: DateTime<Utc>,
}

impl FakeGitHub {
    /// `actor` closed (`"closed"`) or reopened (`"reopened"`) pull request
    /// `number` at `at`. The pull request's own `state` is set apart
    /// (`update_pull`).
    pub fn add_state_event(
        &self,
        repo: &str,
        number: u64,
        event: &str,
        actor: &str,
        at: DateTime<Utc>,
    ) {
        self.with(|s| {
            let id = s.next_id();
            s.repo_or_create(repo).state_events.push(StateEventRec {
                id,
                issue_number: number,
                event: event.to_string(),
                actor: actor.to_string(),
                created_at: at,
            });
        });
    }

    /// `actor` changed pull request `number`'s base branch at `at` (the
    /// `base_ref_changed` event; it names neither branch). The pull
    /// request's own `base` is set apart (`update_pull`).
    pub fn add_base_change(&self, repo: &str, number: u64, actor: &str, at: DateTime<Utc>) {
        self.add_state_event(repo, number, "base_ref_changed", actor, at);
    }
}

/// The timeline item GitHub writes for it.
pub(super) fn item(cx: &Ctx, full_name: &str, e: &StateEventRec) -> Value {
    let mut item = json!({
        "id": e.id,
        "node_id": format!("CE_{}", e.id),
        "url": format!("{}/issues/events/{}", cx.repo_api(full_name), e.id),
        "actor": shapes::user(cx, &e.actor, false),
        "event": e.event,
        "commit_id": null,
        "commit_url": null,
        "created_at": e.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "state_reason": null,
        "performed_via_github_app": null,
    });
    // Only a close or reopen has a state reason.
    if e.event == "base_ref_changed"
        && let Some(map) = item.as_object_mut()
    {
        map.remove("state_reason");
    }
    item
}
