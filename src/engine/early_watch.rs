//! The deadline is watched from the designation alone, before the reads a
//! pull request's content can break.
//!
//! Which severity's deadline runs, and from when, follows from GitHub's
//! facts about the labels: which are on the pull request (and which still
//! apply after a non-writer removed them), who applied each and when (the
//! timeline's `labeled` items) and whether they have write access
//! (`GET /collaborators/{u}/permission`). None of that depends on what the
//! pull request's commits hold. Recording the watch here, before the
//! version files, team memberships, evidence and the rest are read, means
//! an evaluation that fails afterwards, for any reason and however often,
//! still leaves the deadline watched and the escalation posted on time.
//! The full evaluation then records the same watch again (or forgets it,
//! for a pull request merged or closed by a writer).

use crate::events::PrKey;
use crate::github::{GitHubError, RepoClient};
use crate::policy::{Policy, Severity};
use crate::pull::Pull;
use crate::rules::{self, Label};
use crate::store::Store;

use super::escalation::Watch;
use super::gather::{self, Designation};

/// Records the deadline the designation gives an open, unmerged hotfix
/// whose severity (`in_force`, by its labels) is known: the appliers'
/// permissions are read first (into `designation.permissions`, so that the
/// later reads ask for none of them again). Nothing is recorded, and no
/// watch is ever forgotten here, for a pull request that is merged or
/// closed, has no severity, or whose labels run no deadline.
///
/// Errors: GitHub's, reading a permission (the evaluation would have read
/// the same later); the store's, recording the watch. Both are retried
/// with the evaluation.
pub(super) async fn record(
    client: &RepoClient,
    store: &Store,
    key: &PrKey,
    policy: &Policy,
    in_force: Option<&Severity>,
    pull: &Pull,
    designation: &mut Designation,
) -> Result<(), super::EngineError> {
    let Some(in_force) = in_force else {
        return Ok(());
    };
    if pull.is_merged() || pull.state == "closed" {
        return Ok(());
    }
    let Some(watch) = watch_of(client, policy, in_force, pull, designation).await? else {
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
    designation: &mut Designation,
) -> Result<Option<Watch>, GitHubError> {
    let mut facts = gather::base_facts(client, pull);
    // Classified by these: the labels on the pull request and those whose
    // removal does not count.
    facts.labels = designation
        .labels
        .iter()
        .map(|name| Label {
            name: name.clone(),
            applied_by: None,
            applied_at: None,
        })
        .collect();
    facts.label_events = designation.label_events.clone();
    let appliers = rules::label_appliers(policy, in_force, &facts);
    let read = gather::permissions(client, &designation.permissions, &appliers).await?;
    designation.permissions.extend(read);
    facts.permissions = designation.permissions.clone();
    let Some(running) = rules::deadline::running(policy, &facts, in_force) else {
        return Ok(None);
    };
    Ok(running.deadline.map(|deadline| Watch {
        severity: running.severity.name.clone(),
        started: running.since,
        deadline,
    }))
}
