//! A fresh, empty store per test: a temporary SQLite file, or, when
//! `TEST_DATABASE_URL` names a PostgreSQL (as `.ci/run` sets it), a new
//! schema in that database, so that every test starts from nothing.

use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::{Connection as _, Executor as _};

/// A `DATABASE_URL` naming a new, empty database.
pub async fn scratch_url() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let tag = format!("{}_{n}_{nanos}", std::process::id());
    match std::env::var("TEST_DATABASE_URL") {
        Ok(base) if base.starts_with("postgres") => {
            sqlx::any::install_default_drivers();
            let schema = format!("t_{tag}");
            let mut conn = sqlx::AnyConnection::connect(&base)
                .await
                .expect("TEST_DATABASE_URL reachable");
            conn.execute(format!("CREATE SCHEMA {schema}").as_str())
                .await
                .expect("create schema");
            let sep = if base.contains('?') { '&' } else { '?' };
            format!("{base}{sep}options[search_path]={schema}")
        }
        _ => format!(
            "sqlite://{}",
            std::env::temp_dir()
                .join(format!("hotfix-guard-test-{tag}.db"))
                .display()
        ),
    }
}
