//! A failed send, shared by the senders.

use std::time::Duration;

/// A send failed: why (one line, no URL: webhook URLs are secrets), and how
/// long the target asked us to wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError {
    pub message: String,
    pub retry_after: Option<Duration>,
}

impl SendError {
    pub fn new(message: String) -> SendError {
        SendError {
            message,
            retry_after: None,
        }
    }
}

/// A reqwest error in one line, without its URL.
pub(crate) fn reason(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    kind.to_string()
}
