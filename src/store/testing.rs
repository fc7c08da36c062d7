//! A fresh, empty database per test: a temporary SQLite file, or, when
//! `TEST_DATABASE_URL` names a PostgreSQL, a new schema in it. The URL is
//! made by the integration tests' own helper, so unit and integration
//! tests scratch their stores the same way.

#[path = "../../tests/common/store.rs"]
mod shared;

pub use shared::scratch_url;

use super::Store;

pub async fn scratch() -> Store {
    Store::connect(&scratch_url().await)
        .await
        .expect("the scratch store opens")
}
