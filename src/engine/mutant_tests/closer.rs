//! `engine::closer`: who closed a pull request last (the timeline, else the
//! events list when the timeline is cut or kept changing) and whether that
//! stops its escalation (only a confirmed writer's close does).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::stub::{Answers, Reply, Stub, refused};
use crate::engine::closer::{ClosedUnmerged, judge, latest_closed, read_latest_closed};
use crate::events::{PrKey, RepoName};
use crate::github::{IssueEventInfo, Timeline};
use crate::rules::Permission;

const TIMELINE: &str = "/repos/octo/app/issues/7/timeline";
const EVENTS: &str = "/repos/octo/app/issues/7/events";

fn at(minute: u32) -> DateTime<Utc> {
    format!("2026-03-01T10:{minute:02}:00Z")
        .parse()
        .expect("a time")
}

fn key() -> PrKey {
    PrKey {
        installation: 1,
        repo: RepoName {
            owner: "octo".into(),
            name: "app".into(),
        },
        number: 7,
    }
}

#[test]
fn only_a_confirmed_writers_close_stops_the_escalation() {
    let closed = |writer| ClosedUnmerged {
        by: Some(("dana".into(), None)),
        writer,
    };
    assert!(closed(Some(true)).stops_escalation());
    assert!(!closed(Some(false)).stops_escalation());
    assert!(!closed(None).stops_escalation());
}

fn state_event(event: &str, actor: Option<&str>, minute: u32) -> IssueEventInfo {
    IssueEventInfo {
        event: event.into(),
        actor: actor.map(Into::into),
        label: None,
        created_at: Some(at(minute)),
    }
}

#[test]
fn the_latest_close_names_its_actor_and_time() {
    let timeline = Timeline {
        state_events: vec![
            state_event("closed", Some("erin"), 1),
            state_event("reopened", Some("dana"), 2),
            state_event("closed", Some("dana"), 3),
            state_event("reopened", Some("erin"), 4),
        ],
        ..Timeline::default()
    };
    assert_eq!(latest_closed(&timeline), Some(("dana".into(), Some(at(3)))));
    // A close without an actor (a deleted account) confirms nobody.
    let anonymous = Timeline {
        state_events: vec![
            state_event("closed", Some("dana"), 1),
            state_event("closed", None, 2),
        ],
        ..Timeline::default()
    };
    assert_eq!(latest_closed(&anonymous), None);
    assert_eq!(latest_closed(&Timeline::default()), None);
}

fn permission(level: &str) -> Reply {
    (200, serde_json::json!({ "permission": level }))
}

#[tokio::test]
async fn a_close_is_judged_by_the_closers_write_access() {
    let stub = Stub::start(
        Answers::default()
            .with(
                "/repos/octo/app/collaborators/erin/permission",
                permission("read"),
            )
            .with(
                "/repos/octo/app/collaborators/frank/permission",
                permission("admin"),
            )
            .with(
                "/repos/octo/app/collaborators/gina/permission",
                refused(500),
            ),
    )
    .await;
    let client = stub.client();
    let known = BTreeMap::from([("Dana".to_string(), Permission::Write)]);
    let judged = |login: &str| (login.to_string(), Some(at(5)));
    let writer = |login: &'static str| {
        let (client, known) = (&client, &known);
        async move { judge(client, Some(judged(login)), known).await }
    };
    // Already read (by any spelling of the login): no request.
    assert_eq!(
        writer("dana").await,
        ClosedUnmerged {
            by: Some(judged("dana")),
            writer: Some(true)
        }
    );
    assert_eq!(writer("erin").await.writer, Some(false));
    assert_eq!(writer("frank").await.writer, Some(true));
    // Unreadable, or a deleted account: unknown, and the escalation runs.
    assert_eq!(writer("gina").await.writer, None);
    assert_eq!(
        writer("ghost").await,
        ClosedUnmerged {
            by: Some(judged("ghost")),
            writer: None
        }
    );
    assert_eq!(
        judge(&client, None, &known).await,
        ClosedUnmerged::default()
    );
    let asked: Vec<String> = stub
        .seen()
        .into_iter()
        .filter(|s| s.contains("/collaborators/"))
        .collect();
    assert!(
        !asked
            .iter()
            .any(|s| s.contains("dana") || s.contains("ghost")),
        "{asked:?}"
    );
}

fn closed_by(actor: &str, minute: u32) -> serde_json::Value {
    serde_json::json!({
        "id": minute,
        "event": "closed",
        "actor": { "login": actor },
        "created_at": at(minute),
    })
}

fn list(items: &[serde_json::Value]) -> Reply {
    (200, serde_json::Value::Array(items.to_vec()))
}

#[tokio::test]
async fn a_whole_timeline_names_who_closed_it() {
    // The events list is not read (it would fail here).
    let stub = Stub::start(
        Answers::default()
            .with(TIMELINE, list(&[closed_by("dana", 3)]))
            .with(EVENTS, refused(500)),
    )
    .await;
    let closed = read_latest_closed(&stub.client(), &key()).await;
    assert_eq!(closed, Some(("dana".into(), Some(at(3)))));
}

#[tokio::test]
async fn a_cut_timeline_gives_way_to_the_events_list() {
    let mut answers = Answers::default()
        .with(TIMELINE, list(&[closed_by("erin", 1)]))
        .with(EVENTS, list(&[closed_by("dana", 3)]));
    answers.more_pages.insert(TIMELINE.into());
    let stub = Stub::start(answers).await;
    let closed = read_latest_closed(&stub.client_reading_pages(1), &key()).await;
    assert_eq!(closed, Some(("dana".into(), Some(at(3)))));
}

#[tokio::test]
async fn both_lists_cut_name_nobody() {
    let mut answers = Answers::default()
        .with(TIMELINE, list(&[closed_by("erin", 1)]))
        .with(EVENTS, list(&[closed_by("dana", 3)]));
    answers.more_pages.insert(TIMELINE.into());
    answers.more_pages.insert(EVENTS.into());
    let stub = Stub::start(answers).await;
    assert_eq!(
        read_latest_closed(&stub.client_reading_pages(1), &key()).await,
        None
    );
}

#[tokio::test]
async fn a_timeline_that_kept_changing_gives_way_to_the_events_list_and_a_failed_one_to_nobody() {
    // Two pages; each read of the first holds another item than the read
    // before (an item removed, another in its place): never the same
    // twice, so the timeline "kept changing".
    let first = format!("{TIMELINE}?per_page=100");
    let churn: Vec<Reply> = (0..12)
        .map(|i| list(&[closed_by(if i % 2 == 0 { "erin" } else { "frank" }, i)]))
        .collect();
    let mut answers = Answers::default()
        .with(&format!("{first}&page=2"), list(&[closed_by("erin", 20)]))
        .with(EVENTS, list(&[closed_by("dana", 3)]));
    answers.replies.insert(first.clone(), churn);
    answers.more_pages.insert(first);
    let stub = Stub::start(answers).await;
    let closed = read_latest_closed(&stub.client(), &key()).await;
    assert_eq!(closed, Some(("dana".into(), Some(at(3)))));
    // A timeline GitHub fails to serve is not replaced by the events list:
    // who closed it is unknown.
    let stub = Stub::start(
        Answers::default()
            .with(TIMELINE, refused(500))
            .with(EVENTS, list(&[closed_by("dana", 3)])),
    )
    .await;
    assert_eq!(read_latest_closed(&stub.client(), &key()).await, None);
}
