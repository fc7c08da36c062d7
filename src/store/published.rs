//! What the app published, as far as a later evaluation needs it without
//! asking GitHub: a check run's id, the fingerprint of its content and
//! whose verdict it shows; and the follow-up issue opened after a hotfix
//! merged.
//!
//! Only this app can write its check runs (GitHub lets the app that
//! created a run update it, nobody else), and every instance records each
//! write here, so while the store lives this record is what the run shows.
//! A record that may be behind GitHub is marked unknown (`shows` NULL)
//! before the write and set again after it: a crash in between leaves it
//! unknown, and the next evaluation reads the run from GitHub instead.

use chrono::{DateTime, Utc};
use sqlx::Row as _;

use super::{Store, StoreError, int, ms, uint};
use crate::events::RepoName;

/// A check run as the app last wrote it (`published` table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedCheck {
    /// GitHub's check run id (`POST /repos/{o}/{r}/check-runs` → `id`).
    pub id: u64,
    /// Fingerprint of the output written (the app's own hash).
    pub fingerprint: u64,
    /// The run's `external_id` and `conclusion` as last written, when known
    /// (`None`: a write was under way or is older than this record; read
    /// the run from GitHub). An empty `external_id` is a run without one.
    pub shows: Option<(Option<String>, Option<String>)>,
}

fn shows_text(external_id: Option<&str>, conclusion: Option<&str>) -> String {
    format!("{}|{}", external_id.unwrap_or(""), conclusion.unwrap_or(""))
}

fn shows_parse(text: &str) -> Option<(Option<String>, Option<String>)> {
    let (id, conclusion) = text.split_once('|')?;
    let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
    Some((some(id), some(conclusion)))
}

impl Store {
    /// The check run the app last wrote as `what` (`check:NAME@SHA`) in
    /// `repo`, if this store recorded one.
    pub async fn published_check(
        &self,
        repo: &RepoName,
        what: &str,
    ) -> Result<Option<PublishedCheck>, StoreError> {
        let row = sqlx::query(
            "SELECT id, fingerprint, shows FROM published \
             WHERE owner = $1 AND name = $2 AND what = $3",
        )
        .bind(&repo.owner)
        .bind(&repo.name)
        .bind(what)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let id: i64 = row.try_get("id")?;
        let fp: i64 = row.try_get("fingerprint")?;
        let shows: Option<String> = row.try_get("shows")?;
        Ok(Some(PublishedCheck {
            id: uint(id),
            // The fingerprint is a u64 stored bit for bit.
            fingerprint: u64::from_ne_bytes(fp.to_ne_bytes()),
            shows: shows.as_deref().and_then(shows_parse),
        }))
    }

    /// Marks what `what` shows as unknown, before a write that changes it:
    /// if the write's outcome is never recorded, the next evaluation asks
    /// GitHub rather than trusting an outdated record.
    pub async fn forget_shown(&self, repo: &RepoName, what: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE published SET shows = NULL WHERE owner = $1 AND name = $2 AND what = $3",
        )
        .bind(&repo.owner)
        .bind(&repo.name)
        .bind(what)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records the check run written as `what`: its id, the fingerprint of
    /// its content and, when known, its `external_id` and `conclusion`.
    pub async fn remember_check(
        &self,
        repo: &RepoName,
        what: &str,
        id: u64,
        fingerprint: u64,
        shows: Option<(Option<&str>, Option<&str>)>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO published (owner, name, what, id, fingerprint, shows) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (owner, name, what) DO UPDATE SET id = excluded.id, \
             fingerprint = excluded.fingerprint, shows = excluded.shows",
        )
        .bind(&repo.owner)
        .bind(&repo.name)
        .bind(what)
        .bind(int(id))
        .bind(i64::from_ne_bytes(fingerprint.to_ne_bytes()))
        .bind(shows.map(|(e, c)| shows_text(e, c)))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Forgets the check run recorded as `what` (GitHub answered 404 for
    /// its id: the record is not about this GitHub's run).
    pub async fn forget_check(&self, repo: &RepoName, what: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM published WHERE owner = $1 AND name = $2 AND what = $3")
            .bind(&repo.owner)
            .bind(&repo.name)
            .bind(what)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The follow-up issue number recorded for merged hotfix `number` of
    /// `repo` (`POST /repos/{o}/{r}/issues` → `number`), if any.
    pub async fn follow_up(&self, repo: &RepoName, number: u64) -> Result<Option<u64>, StoreError> {
        let row = sqlx::query(
            "SELECT issue FROM follow_ups WHERE owner = $1 AND name = $2 AND number = $3",
        )
        .bind(&repo.owner)
        .bind(&repo.name)
        .bind(int(number))
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some(row) => Some(uint(row.try_get("issue")?)),
            None => None,
        })
    }

    /// Records `issue` as the follow-up of merged hotfix `number`; the
    /// first record stays (two writers found or opened the same issue, or
    /// the later one is a duplicate that must not replace it).
    pub async fn remember_follow_up(
        &self,
        repo: &RepoName,
        number: u64,
        issue: u64,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO follow_ups (owner, name, number, issue, opened_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (owner, name, number) DO NOTHING",
        )
        .bind(&repo.owner)
        .bind(&repo.name)
        .bind(int(number))
        .bind(int(issue))
        .bind(ms(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_run_shows_reads_back_as_written() {
        assert_eq!(
            shows_parse(&shows_text(Some("hotfix-pr:7"), Some("failure"))),
            Some((Some("hotfix-pr:7".into()), Some("failure".into())))
        );
        assert_eq!(shows_parse(&shows_text(None, None)), Some((None, None)));
        assert_eq!(shows_parse("garbage"), None);
    }
}
