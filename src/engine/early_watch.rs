//! The deadline is watched from the designation alone, independently of
//! the reads a pull request's content can break.
//!
//! Which severity's deadline runs, and from when, follows from GitHub's
//! facts about the labels: which are on the pull request (and which still
//! apply after a non-writer removed them), who applied each and when (the
//! timeline's `labeled` items) and whether they have write access
//! (`GET /collaborators/{u}/permission`). None of that depends on what the
//! pull request's commits hold. Recording the watch here, alongside the
//! version files, team memberships, evidence and the rest (the engine
//! joins both and lets both finish), means an evaluation whose reads fail,
//! for any reason and however often, still leaves the deadline watched and
//! the escalation posted on time; running alongside them, it adds no round
//! trip (the write access it needs is the one the step-2 reads ask for,
//! one request for both: `github::memo`). The full evaluation then records
//! the same watch again (or forgets it, for a pull request merged or closed
//! by a writer).

use std::collections::BTreeMap;

use crate::events::PrKey;
use crate::github::{GitHubError, RepoClient};
use crate::policy::{Policy, Severity};
use crate::pull::Pull;
use crate::rules::{self, Label, LabelEvent, Permission};
use crate::store::Store;

use super::escalation::Watch;
use super::gather::{self, Designation};

/// What the watch needs of the designation, taken before the designation
/// is handed to the gather (which consumes it while the watch runs).
pub(super) struct Designated {
    /// The labels to classify by (`Designation::labels`).
    labels: Vec<String>,
    /// The timeline's `labeled`/`unlabeled` items, oldest first.
    label_events: Vec<LabelEvent>,
    /// The write access the designation read (of label removers).
    permissions: BTreeMap<String, Permission>,
}

impl Designated {
    pub(super) fn of(designation: &Designation) -> Designated {
        Designated {
            labels: designation.labels.clone(),
            label_events: designation.label_events.clone(),
            permissions: designation.permissions.clone(),
        }
    }
}

/// Records the deadline the designation gives an unmerged hotfix whose
/// severity (`in_force`, by its labels) is known, once the appliers'
/// write access is read (`GET /collaborators/{u}/permission`). Runs
/// alongside the gather's step-2 reads, which need the same write access:
/// the client's memo sends one request for both (single flight). Nothing
/// is recorded, and no watch is ever forgotten here, for a pull request
/// that is merged, has no severity, or whose labels run no deadline.
///
/// A closed pull request is watched too: who closed it is not read here,
/// and a close by someone without write access keeps it escalating (the
/// procedure). The sweep judges the close itself (`escalation::escalate`'s
/// `closed_by_writer`, from the timeline) and stops at a writer's close;
/// the full evaluation forgets the watch then too.
///
/// Errors: GitHub's, reading a permission (the gather shares the same
/// request and its error); the store's, recording the watch. Both are
/// retried with the evaluation.
pub(super) async fn record(
    client: &RepoClient,
    store: &Store,
    key: &PrKey,
    policy: &Policy,
    in_force: Option<&Severity>,
    pull: &Pull,
    designated: &Designated,
) -> Result<(), super::EngineError> {
    let Some(in_force) = in_force else {
        return Ok(());
    };
    // Merged is final whoever merged it (only a writer can); closed is
    // not: see above.
    if pull.is_merged() {
        return Ok(());
    }
    let Some(watch) = watch_of(client, policy, in_force, pull, designated).await? else {
        return Ok(());
    };
    store.watch_deadline(key, &watch).await?;
    Ok(())
}

async fn watch_of(
    client: &RepoClient,
    policy: &Policy,
    in_force: &Severity,
    pull: &Pull,
    designated: &Designated,
) -> Result<Option<Watch>, GitHubError> {
    let mut facts = gather::base_facts(client, pull);
    // Classified by these: the labels on the pull request and those whose
    // removal does not count.
    facts.labels = designated
        .labels
        .iter()
        .map(|name| Label {
            name: name.clone(),
            applied_by: None,
            applied_at: None,
        })
        .collect();
    facts.label_events = designated.label_events.clone();
    let appliers = rules::label_appliers(policy, in_force, &facts);
    let read = gather::permissions(client, &designated.permissions, &appliers).await?;
    facts.permissions = designated.permissions.clone();
    facts.permissions.extend(read);
    let Some(running) = rules::deadline::running(policy, &facts, in_force) else {
        return Ok(None);
    };
    Ok(running
        .deadline
        .map(|deadline| Watch::of(running.severity, deadline, &policy.escalation)))
}
