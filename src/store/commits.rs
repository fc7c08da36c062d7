//! The work of a repository's commit job (`events::COMMITS_JOB`), one row
//! per unit in `commit_work`: a head commit whose checks, statuses or
//! deployments changed, or a branch push to audit.
//!
//! Units are rows of their own, not a field of the job row, because
//! deliveries that fold into one job must add to its work, never replace
//! it: intake inserts its units in the transaction that upserts the job,
//! a claim reads the units at or below the version it claimed, and only
//! the lease holder's `complete` deletes exactly those. A unit arriving
//! during an evaluation carries a higher version, stays, and the job runs
//! once more for it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use sqlx::Row as _;

use super::{StoreError, int};
use crate::events::{CommitWork, MAX_COMMITS, PrKey, PushAudit};

/// Units read for one claim at most: past `MAX_COMMITS` commits the job
/// re-evaluates every open hotfix anyway (`overflow`).
const UNITS_READ: i64 = 1_024;

/// One unit of a commit job's work, as stored (JSON).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Unit {
    /// A head commit and the pull requests the delivery named for it.
    Commit { sha: String, pulls: Vec<u64> },
    /// A branch push to audit.
    Push(PushAudit),
    /// More commits arrived than one job keeps: re-evaluate every open
    /// hotfix of the repository.
    Overflow,
    /// The policy file changed on the default branch: re-evaluate every
    /// open pull request of the repository.
    PolicyChanged,
}

/// `work` as stored units: `(unit_key, unit JSON)`.
fn units(work: &CommitWork) -> Result<Vec<(String, String)>, StoreError> {
    let mut out = Vec::new();
    let mut push = |unit: Unit| -> Result<(), StoreError> {
        let text = serde_json::to_string(&unit).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let key = hex::encode(Sha256::digest(text.as_bytes()));
        out.push((key, text));
        Ok(())
    };
    for (sha, pulls) in &work.commits {
        push(Unit::Commit {
            sha: sha.clone(),
            pulls: pulls.clone(),
        })?;
    }
    for audit in &work.pushes {
        push(Unit::Push(audit.clone()))?;
    }
    if work.overflow {
        push(Unit::Overflow)?;
    }
    if work.policy_changed {
        push(Unit::PolicyChanged)?;
    }
    Ok(out)
}

/// Records `work`'s units for the commit job `key` whose row, just
/// upserted in the same transaction, has version `version`.
pub(super) async fn insert(
    tx: &mut sqlx::AnyConnection,
    key: &PrKey,
    work: &CommitWork,
    version: i64,
    now_ms: i64,
) -> Result<(), StoreError> {
    for (unit_key, unit) in units(work)? {
        sqlx::query(
            "INSERT INTO commit_work (installation, owner, name, unit_key, unit, version, seq) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (installation, owner, name, unit_key) \
             DO UPDATE SET version = excluded.version, seq = excluded.seq",
        )
        .bind(int(key.installation))
        .bind(&key.repo.owner)
        .bind(&key.repo.name)
        .bind(unit_key)
        .bind(unit)
        .bind(version)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// The work of the commit job `key` claimed at `version`: its units at or
/// below that version, oldest first, folded with `CommitWork::absorb`. A
/// unit that cannot be read is logged and skipped (it is deleted with the
/// rest when the job completes).
pub(super) async fn load(
    pool: &sqlx::AnyPool,
    key: &PrKey,
    version: i64,
) -> Result<CommitWork, StoreError> {
    // Commits past `UNITS_READ` are covered by `overflow` (every open
    // hotfix is re-evaluated); pushes and a policy change are not (an audit,
    // every open pull request), so each of those units is read: `done`
    // deletes all units at or below the version, and one left unread would
    // be work lost.
    let rows = sqlx::query(
        "SELECT unit FROM commit_work WHERE installation = $1 AND owner = $2 AND name = $3 \
         AND version <= $4 AND unit NOT LIKE '{\"push\"%' AND unit <> '\"policy_changed\"' \
         ORDER BY seq, unit_key LIMIT $5",
    )
    .bind(int(key.installation))
    .bind(&key.repo.owner)
    .bind(&key.repo.name)
    .bind(version)
    .bind(UNITS_READ)
    .fetch_all(pool)
    .await?;
    let mut work = CommitWork::default();
    if rows.len() as i64 >= UNITS_READ {
        work.overflow = true;
    }
    let pushes = sqlx::query(
        "SELECT unit FROM commit_work WHERE installation = $1 AND owner = $2 AND name = $3 \
         AND version <= $4 AND (unit LIKE '{\"push\"%' OR unit = '\"policy_changed\"') \
         ORDER BY seq, unit_key",
    )
    .bind(int(key.installation))
    .bind(&key.repo.owner)
    .bind(&key.repo.name)
    .bind(version)
    .fetch_all(pool)
    .await?;
    for row in rows.into_iter().chain(pushes) {
        let text: String = row.try_get("unit")?;
        let mut one = CommitWork::default();
        match serde_json::from_str::<Unit>(&text) {
            Ok(Unit::Commit { sha, pulls }) => {
                one.commits = BTreeMap::from([(sha, pulls)]);
            }
            Ok(Unit::Push(audit)) => one.pushes.push(audit),
            Ok(Unit::Overflow) => one.overflow = true,
            Ok(Unit::PolicyChanged) => one.policy_changed = true,
            Err(e) => {
                tracing::error!(error = %e, repository = %key.repo, "stored commit work unreadable; skipped");
                continue;
            }
        }
        work.absorb(one);
    }
    if work.commits.len() > MAX_COMMITS {
        work.overflow = true;
    }
    Ok(work)
}

/// Deletes the units the lease holder's claim at `version` read (those at
/// or below it), once its evaluation's writes succeeded.
pub(super) async fn done(
    pool: &sqlx::AnyPool,
    key: &PrKey,
    version: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "DELETE FROM commit_work WHERE installation = $1 AND owner = $2 AND name = $3 \
         AND version <= $4",
    )
    .bind(int(key.installation))
    .bind(&key.repo.owner)
    .bind(&key.repo.name)
    .bind(version)
    .execute(pool)
    .await?;
    Ok(())
}
