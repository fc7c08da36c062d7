//! Tuning for the GitHub clients, shared by the app client (`app`) and the
//! repository client (`repo`).

use std::time::Duration;

use super::http::HttpOptions;

/// Tuning for the clients; `Default` is the production setting.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub http: HttpOptions,
    /// Installation tokens last an hour; renew them this long before.
    pub token_refresh_margin: Duration,
    /// How long team memberships and collaborator permissions are reused.
    pub membership_ttl: Duration,
    /// Most memberships and permissions remembered at once.
    pub membership_capacity: usize,
}

impl Default for ClientOptions {
    fn default() -> ClientOptions {
        ClientOptions {
            http: HttpOptions::default(),
            token_refresh_margin: Duration::from_secs(5 * 60),
            membership_ttl: Duration::from_secs(5 * 60),
            membership_capacity: 10_000,
        }
    }
}
