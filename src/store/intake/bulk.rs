//! A batch's writes as multi-row statements: one `INSERT … VALUES (…), (…)`
//! for all the batch's delivery ids, one upsert for its jobs, one for its
//! head commits, instead of three or four statements per delivery.
//!
//! Used when no delivery of the batch can be refused for the capacity (the
//! jobs waiting plus every job of the batch fit): then each delivery's
//! outcome depends only on its id, and the per-delivery semantics of
//! `accept_one` are kept exactly:
//! - a delivery id seen before, or earlier in the batch, is `Duplicate` and
//!   writes nothing (`RETURNING` says which ids were new);
//! - the jobs of the other deliveries are upserted in arrival order: a pull
//!   request named by several deliveries of the batch is upserted once per
//!   delivery, in successive statements ("rounds"), because one
//!   `ON CONFLICT DO UPDATE` statement may not touch a row twice on
//!   PostgreSQL, and each fold-in must see the one before;
//! - a head commit named by several deliveries keeps the latest receipt,
//!   as the per-delivery upserts did.
//!
//! Statements are cut into chunks of power-of-two rows (at most `CHUNK`),
//! so that a handful of statement texts serve every batch size and stay in
//! each connection's prepared-statement cache; a batch costs a number of
//! round trips that grows with the logarithm of its size, not linearly.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::time::Duration;

use sqlx::Row as _;

use super::super::jobs::{Accepted, trigger_text};
use super::super::{StoreError, dur_ms, int, ms};
use super::{DELIVERIES_CHARS, Intake};
use crate::events::Trigger;

/// Most rows in one statement (jobs have 10 parameters: 1,280 a
/// statement, far below SQLite's 32,766 and PostgreSQL's 65,535).
const CHUNK: usize = 128;

/// The job upsert for `rows` rows (one text for one delivery and for a
/// batch): folds each job into the pending row of its pull request.
/// Parameters per row: key (installation, owner, name, number), pull JSON,
/// its updated_at (ms), trigger, delivery ids, receipt time (ms; the new
/// row's `first_queued`, read back from `excluded`), ready-at for a new job
/// (ms). Returns each row's key and `version`: 1 for a new job.
pub(super) fn upsert_sql(rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO jobs (installation, owner, name, number, pull, pull_updated, trigger_kind, \
         deliveries, first_queued, ready_at, version) VALUES ",
    );
    values(&mut sql, rows, 10, ", 1");
    let _ = write!(
        sql,
        " ON CONFLICT (installation, owner, name, number) DO UPDATE SET \
    pull = CASE WHEN excluded.pull IS NULL THEN jobs.pull \
        WHEN jobs.pull IS NOT NULL AND jobs.pull_updated IS NOT NULL \
            AND excluded.pull_updated IS NOT NULL AND jobs.pull_updated > excluded.pull_updated \
            THEN jobs.pull \
        ELSE excluded.pull END, \
    pull_updated = CASE WHEN excluded.pull IS NULL THEN jobs.pull_updated \
        WHEN jobs.pull IS NOT NULL AND jobs.pull_updated IS NOT NULL \
            AND excluded.pull_updated IS NOT NULL AND jobs.pull_updated > excluded.pull_updated \
            THEN jobs.pull_updated \
        ELSE excluded.pull_updated END, \
    trigger_kind = CASE WHEN jobs.trigger_kind = excluded.trigger_kind THEN jobs.trigger_kind \
        WHEN jobs.trigger_kind = 'rerun' OR excluded.trigger_kind = 'rerun' THEN 'rerun' \
        ELSE 'full' END, \
    deliveries = CASE WHEN length(jobs.deliveries) > {DELIVERIES_CHARS} \
        THEN substr(jobs.deliveries, CAST(length(jobs.deliveries) - {DELIVERIES_CHARS} + 1 AS INTEGER)) || ',' || excluded.deliveries \
        ELSE jobs.deliveries || ',' || excluded.deliveries END, \
    ready_at = CASE \
        WHEN jobs.lease_until >= excluded.first_queued AND jobs.version = jobs.claimed_version THEN excluded.ready_at \
        WHEN excluded.ready_at < jobs.ready_at THEN excluded.ready_at \
        ELSE jobs.ready_at END, \
    version = jobs.version + 1 \
RETURNING installation, owner, name, number, version"
    );
    sql
}

/// Appends `rows` groups of `per_row` numbered placeholders, each group
/// followed by `tail` (literal columns) inside its parentheses.
fn values(sql: &mut String, rows: usize, per_row: usize, tail: &str) {
    let mut n = 0;
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for col in 0..per_row {
            n += 1;
            if col > 0 {
                sql.push_str(", ");
            }
            let _ = write!(sql, "${n}");
        }
        sql.push_str(tail);
        sql.push(')');
    }
}

/// `0..len` cut into chunks of power-of-two lengths, largest first, none
/// over `CHUNK`.
fn chunks(len: usize) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < len {
        let left = len - start;
        let size = if left >= CHUNK {
            CHUNK
        } else {
            // The largest power of two not above `left`.
            1 << (usize::BITS - 1 - left.leading_zeros())
        };
        out.push(start..start + size);
        start += size;
    }
    out
}

/// One job to upsert, with what its delivery brought.
struct JobRow<'a> {
    item: usize,
    job: &'a crate::events::Job,
    pull: Option<String>,
}

type Key<'a> = (u64, &'a str, &'a str, u64);

fn key_of<'a>(job: &'a crate::events::Job) -> Key<'a> {
    (
        job.key.installation,
        &job.key.repo.owner,
        &job.key.repo.name,
        job.key.number,
    )
}

/// The batch's writes, in `tx`; one outcome per delivery, as
/// `accept_one` would give each alone, in order. The caller has checked
/// that no job can be refused for the capacity.
pub(super) async fn write(
    tx: &mut sqlx::AnyConnection,
    batch: &[Intake<'_>],
    debounce: Duration,
) -> Result<Vec<Accepted>, StoreError> {
    let mut outcomes = vec![Accepted::Queued; batch.len()];

    // Delivery ids: a repeat within the batch is a duplicate at once; the
    // first of each is inserted, and one that was there before is not
    // returned.
    let mut firsts: Vec<(usize, &str)> = Vec::new();
    let mut in_batch: HashSet<&str> = HashSet::new();
    for (i, item) in batch.iter().enumerate() {
        if let Some(id) = item.delivery {
            if in_batch.insert(id) {
                firsts.push((i, id));
            } else {
                outcomes[i] = Accepted::Duplicate;
            }
        }
    }
    let mut inserted: HashSet<String> = HashSet::with_capacity(firsts.len());
    for range in chunks(firsts.len()) {
        let rows = &firsts[range];
        let mut sql = String::from("INSERT INTO deliveries (id, seen_at) VALUES ");
        values(&mut sql, rows.len(), 2, "");
        sql.push_str(" ON CONFLICT (id) DO NOTHING RETURNING id");
        let mut query = sqlx::query(&sql);
        for (i, id) in rows {
            query = query.bind(*id).bind(ms(batch[*i].received));
        }
        for row in query.fetch_all(&mut *tx).await? {
            inserted.insert(row.try_get("id")?);
        }
    }
    for (i, id) in &firsts {
        if !inserted.contains(*id) {
            outcomes[*i] = Accepted::Duplicate;
        }
    }

    // Jobs of the deliveries taken, in rounds: round r holds the r-th job
    // of each pull request, so no statement names a pull request twice
    // and fold-ins happen in arrival order.
    let mut rounds: Vec<Vec<JobRow<'_>>> = Vec::new();
    let mut seen: HashMap<Key<'_>, usize> = HashMap::new();
    for (i, item) in batch.iter().enumerate() {
        if outcomes[i] != Accepted::Queued {
            continue;
        }
        for job in item.jobs {
            let pull = match &job.pull {
                Some(p) => {
                    Some(serde_json::to_string(p).map_err(|e| StoreError::Corrupt(e.to_string()))?)
                }
                None => None,
            };
            let round = seen.entry(key_of(job)).or_insert(0);
            if rounds.len() <= *round {
                rounds.push(Vec::new());
            }
            rounds[*round].push(JobRow { item: i, job, pull });
            *round += 1;
        }
    }
    for round in &rounds {
        let mut versions: HashMap<(i64, String, String, i64), i64> =
            HashMap::with_capacity(round.len());
        for range in chunks(round.len()) {
            let rows = &round[range];
            let sql = upsert_sql(rows.len());
            let mut query = sqlx::query(&sql);
            for row in rows {
                let job = row.job;
                let now_ms = ms(batch[row.item].received);
                query = query
                    .bind(int(job.key.installation))
                    .bind(&job.key.repo.owner)
                    .bind(&job.key.repo.name)
                    .bind(int(job.key.number))
                    .bind(row.pull.as_deref())
                    .bind(job.pull.as_ref().and_then(|p| p.updated_at).map(ms))
                    .bind(trigger_text(&job.trigger))
                    .bind(job.deliveries.join(","))
                    .bind(now_ms)
                    .bind(now_ms + dur_ms(debounce));
            }
            for r in query.fetch_all(&mut *tx).await? {
                versions.insert(
                    (
                        r.try_get("installation")?,
                        r.try_get("owner")?,
                        r.try_get("name")?,
                        r.try_get("number")?,
                    ),
                    r.try_get("version")?,
                );
            }
        }
        // A commit job's units carry the version they arrived with (rare:
        // check run, status and deployment deliveries; one statement each).
        for row in round {
            if let Trigger::Commits(work) = &row.job.trigger {
                let key = &row.job.key;
                let version = versions
                    .get(&(
                        int(key.installation),
                        key.repo.owner.clone(),
                        key.repo.name.clone(),
                        int(key.number),
                    ))
                    .copied()
                    .ok_or_else(|| StoreError::Corrupt("a job upsert returned no row".into()))?;
                super::super::commits::insert(
                    &mut *tx,
                    key,
                    work,
                    version,
                    ms(batch[row.item].received),
                )
                .await?;
            }
        }
    }

    // Head commits: per pull request, the latest receipt in the batch (a
    // later delivery of the same receipt time wins: it came later).
    let mut heads: HashMap<(&str, &str, u64), (&str, i64)> = HashMap::new();
    let mut order: Vec<(&str, &str, u64)> = Vec::new();
    for (i, item) in batch.iter().enumerate() {
        if outcomes[i] != Accepted::Queued {
            continue;
        }
        let at = ms(item.received);
        for (repo, number, sha) in item.heads {
            let key = (repo.owner.as_str(), repo.name.as_str(), *number);
            match heads.get_mut(&key) {
                Some(held) if held.1 <= at => *held = (sha.as_str(), at),
                Some(_) => {}
                None => {
                    heads.insert(key, (sha.as_str(), at));
                    order.push(key);
                }
            }
        }
    }
    for range in chunks(order.len()) {
        let rows = &order[range];
        let mut sql =
            String::from("INSERT INTO pull_heads (owner, name, number, sha, received) VALUES ");
        values(&mut sql, rows.len(), 5, "");
        sql.push_str(super::PULL_HEAD_UPSERT);
        let mut query = sqlx::query(&sql);
        for key in rows {
            let (sha, at) = heads.get(key).copied().unwrap_or_default();
            query = query
                .bind(key.0)
                .bind(key.1)
                .bind(super::super::int(key.2))
                .bind(sha)
                .bind(at);
        }
        query.execute(&mut *tx).await?;
    }
    Ok(outcomes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_powers_of_two_largest_first_and_cover_everything() {
        assert!(chunks(0).is_empty());
        assert_eq!(chunks(1), vec![0..1]);
        assert_eq!(chunks(7), vec![0..4, 4..6, 6..7]);
        assert_eq!(
            chunks(300),
            vec![0..128, 128..256, 256..288, 288..296, 296..300]
        );
    }

    #[test]
    fn placeholders_are_numbered_across_rows() {
        let mut sql = String::new();
        values(&mut sql, 2, 2, ", 1");
        assert_eq!(sql, "($1, $2, 1), ($3, $4, 1)");
    }
}
