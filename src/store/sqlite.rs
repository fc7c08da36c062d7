//! SQLite specifics: the durability setting the operator chose in the URL,
//! and WAL checkpoints kept off the commit path.
//!
//! In WAL mode a commit appends to the `-wal` file; a *checkpoint* copies
//! those pages back into the database file and syncs it. SQLite runs one
//! automatically inside the commit that makes the WAL pass 1,000 pages, so
//! in a burst every few thousand deliveries one intake commit (and every
//! delivery waiting for it) also paid for copying and syncing megabytes.
//! Here a task of its own, on a connection of its own, checkpoints
//! `PASSIVE` (never waiting for the writer, never making it wait) every
//! `EVERY`; the automatic checkpoint stays as a bound, at `AUTO_PAGES`, for
//! when the task falls behind.

use std::time::Duration;

use sqlx::AnyPool;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};

use super::StoreError;

/// How often the background checkpoint runs.
const EVERY: Duration = Duration::from_millis(250);

/// WAL pages (4 KiB) after which a commit checkpoints by itself (SQLite's
/// default is 1,000): only reached if the background task falls behind.
pub(super) const AUTO_PAGES: u32 = 16_000;

/// `synchronous` for the store's connections: `NORMAL` by default, `FULL`
/// when the URL asks for it with `synchronous=full`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Synchronous {
    /// A commit is in the WAL (the operating system's hands) before the
    /// 202: it survives the process being killed, not a power loss.
    Normal,
    /// Every commit (one per intake batch) is synced to the disk.
    Full,
}

impl Synchronous {
    pub(super) fn pragma(self) -> &'static str {
        match self {
            Synchronous::Normal => "PRAGMA synchronous = NORMAL",
            Synchronous::Full => "PRAGMA synchronous = FULL",
        }
    }
}

/// Takes the app's own `synchronous=normal|full` parameter out of a SQLite
/// URL (sqlx does not know it). Errors: another value.
pub(super) fn take_synchronous(url: &str) -> Result<(String, Synchronous), StoreError> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_string(), Synchronous::Normal));
    };
    let mut mode = Synchronous::Normal;
    let mut rest = Vec::new();
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some((key, value)) if key.eq_ignore_ascii_case("synchronous") => {
                mode = match value.to_ascii_lowercase().as_str() {
                    "normal" => Synchronous::Normal,
                    "full" => Synchronous::Full,
                    _ => {
                        return Err(StoreError::BadSetting(format!(
                            "synchronous={value} in DATABASE_URL: use normal or full"
                        )));
                    }
                }
            }
            _ => rest.push(pair),
        }
    }
    let url = if rest.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    Ok((url, mode))
}

/// Starts the background checkpoint for the database `options` open; it
/// ends when `pool` (the store's) is closed. A failure to open its own
/// connection is logged: the automatic checkpoint still bounds the WAL.
pub(super) fn spawn_checkpoints(options: AnyConnectOptions, pool: AnyPool) {
    tokio::spawn(async move {
        let own = match AnyPoolOptions::new()
            .max_connections(1)
            .min_connections(0)
            .connect_with(options)
            .await
        {
            Ok(own) => own,
            Err(e) => {
                tracing::warn!(error = %e, "cannot open the checkpoint connection; SQLite checkpoints in commits");
                return;
            }
        };
        while !pool.is_closed() {
            tokio::time::sleep(EVERY).await;
            if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&own)
                .await
            {
                tracing::debug!(error = %e, "background checkpoint failed; trying again");
            }
        }
        own.close().await;
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_synchronous_parameter_is_read_and_removed() {
        assert_eq!(
            take_synchronous("sqlite:///data/h.db").expect("ok"),
            ("sqlite:///data/h.db".to_string(), Synchronous::Normal)
        );
        assert_eq!(
            take_synchronous("sqlite:///data/h.db?synchronous=FULL&mode=rwc").expect("ok"),
            (
                "sqlite:///data/h.db?mode=rwc".to_string(),
                Synchronous::Full
            )
        );
        assert_eq!(
            take_synchronous("sqlite://h.db?mode=rwc&synchronous=normal").expect("ok"),
            ("sqlite://h.db?mode=rwc".to_string(), Synchronous::Normal)
        );
        let e = take_synchronous("sqlite://h.db?synchronous=off").expect_err("refused");
        assert_eq!(
            e.to_string(),
            "the store's setting is not valid: synchronous=off in DATABASE_URL: use normal or full"
        );
    }
}
