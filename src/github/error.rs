//! The one error type every GitHub call returns: what went wrong, on which
//! route (a template, never a raw path), after how many attempts.

use std::fmt;
use std::time::Duration;

/// What kind of failure a GitHub call ended in. Callers branch on this (a
/// `NotFound` is often an answer, a `RateLimited` means "try the whole
/// evaluation later"), so keep the variants few and stable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// 404 (also what GitHub answers for private resources we may not see).
    NotFound,
    /// 401: the JWT or the installation token was refused.
    Unauthorized,
    /// 403 without any rate-limit sign: a missing permission.
    Forbidden,
    /// 403 whose message says the issue (the pull request's conversation)
    /// is locked: GitHub refuses comments until it is unlocked.
    Locked,
    /// 400, 409, 422 and other 4xx: the request itself was refused; the
    /// message is GitHub's own.
    Validation(String),
    /// 422 "Reference already exists" from `create_ref` (or "already exists"
    /// from `create_pull`): the write had in effect already been done.
    AlreadyExists,
    /// 429 or 403 with rate-limit headers, when waiting would take longer
    /// than the configured cap or the attempts ran out. `retry_after` is
    /// what GitHub asked for, where it said.
    RateLimited { retry_after: Option<Duration> },
    /// 5xx after the last attempt.
    Server { status: u16 },
    /// No answer: connection refused or reset, TLS, timeout.
    Transport(String),
    /// A list read page by page changed under the read (an item removed or
    /// inserted before the end of what was read) at each of `tries` reads
    /// in a row (`Core::pages_up_to_cap`): no consistent copy was had.
    /// Transient like a transport error; the gather reads a timeline that
    /// kept changing like a cut one (`engine::gather::designation`).
    ListKeptChanging { tries: usize },
    /// An answer we could not read: not JSON, or not the shape we need.
    Decode(String),
    /// Our own set-up is wrong (bad key, bad base URL, no runtime).
    Config(String),
}

/// A failed GitHub call. Its `Display` is one line fit for a log or a
/// check-run summary, e.g. "GitHub answered 502 to GET
/// /repos/{owner}/{repo}/pulls/{n}/reviews after 4 attempts".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct GitHubError {
    pub kind: ErrorKind,
    /// Method and route template, e.g. `GET /repos/{owner}/{repo}/pulls/{n}`.
    pub route: String,
    /// The HTTP status of the last answer, if there was one.
    pub status: Option<u16>,
    /// How many requests were sent (1 when there was no retry).
    pub attempts: u32,
    /// An earlier attempt of this write had an unknown outcome (a 5xx, no
    /// answer): GitHub may have written it even though the last attempt
    /// was refused, so [`GitHubError::nothing_written`] cannot say so.
    pub earlier_attempt_unknown: bool,
}

impl GitHubError {
    pub(crate) fn new(kind: ErrorKind, route: impl Into<String>) -> GitHubError {
        GitHubError {
            kind,
            route: route.into(),
            status: None,
            attempts: 0,
            earlier_attempt_unknown: false,
        }
    }

    pub(crate) fn config(message: impl Into<String>) -> GitHubError {
        GitHubError::new(ErrorKind::Config(message.into()), "set-up")
    }

    pub(crate) fn with_status(mut self, status: u16) -> GitHubError {
        self.status = Some(status);
        self
    }

    pub(crate) fn with_attempts(mut self, attempts: u32) -> GitHubError {
        self.attempts = attempts;
        self
    }

    pub(crate) fn with_earlier_attempt_unknown(mut self, unknown: bool) -> GitHubError {
        self.earlier_attempt_unknown = unknown;
        self
    }

    pub fn is_not_found(&self) -> bool {
        self.kind == ErrorKind::NotFound
    }

    pub fn is_already_exists(&self) -> bool {
        self.kind == ErrorKind::AlreadyExists
    }

    /// GitHub refused a comment because the conversation is locked: a 403
    /// whose message says so ("Unable to create comment because issue is
    /// locked."). A refusal that stands until someone with triage access
    /// unlocks it, not a missing permission and not worth retrying now.
    pub fn is_locked(&self) -> bool {
        self.kind == ErrorKind::Locked
    }

    /// The list kept changing while it was read (see
    /// [`ErrorKind::ListKeptChanging`]): every answer was real, but no two
    /// reads agreed, unlike a transport error or a 5xx.
    pub fn is_list_kept_changing(&self) -> bool {
        matches!(self.kind, ErrorKind::ListKeptChanging { .. })
    }

    pub fn is_rate_limited(&self) -> bool {
        matches!(self.kind, ErrorKind::RateLimited { .. })
    }

    /// Whether GitHub answered a write with a refusal, so that nothing was
    /// written: a 4xx (a lock, a missing permission, a validation error, a
    /// rate limit) or our own set-up stopping the request before it was
    /// sent. `false` when the outcome is unknown: a 5xx, no answer, or an
    /// answer we could not read (the write may have happened), and when an
    /// earlier attempt of the same write had such an outcome (a 502 that
    /// wrote, then a lock's 403 to the retry).
    pub fn nothing_written(&self) -> bool {
        !self.earlier_attempt_unknown
            && matches!(
                self.kind,
                ErrorKind::NotFound
                    | ErrorKind::Unauthorized
                    | ErrorKind::Forbidden
                    | ErrorKind::Locked
                    | ErrorKind::Validation(_)
                    | ErrorKind::RateLimited { .. }
                    | ErrorKind::Config(_)
            )
    }

    /// Whether trying the same work again later may succeed (rate limits,
    /// server and network trouble), as opposed to a refusal that will stand.
    pub fn is_transient(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::RateLimited { .. }
                | ErrorKind::Server { .. }
                | ErrorKind::Transport(_)
                | ErrorKind::ListKeptChanging { .. }
        )
    }

    fn describe(&self) -> String {
        let route = &self.route;
        let after = AfterAttempts(self.attempts);
        match &self.kind {
            ErrorKind::NotFound => format!("GitHub answered 404 (not found) to {route}"),
            ErrorKind::Unauthorized => format!(
                "GitHub answered 401 (bad credentials) to {route}; check the app id and private key"
            ),
            ErrorKind::Forbidden => {
                format!("GitHub answered 403 (forbidden) to {route}; the app may lack a permission")
            }
            ErrorKind::Validation(message) => {
                let status = self.status.unwrap_or(422);
                format!("GitHub refused {route} with {status}: {message}")
            }
            ErrorKind::AlreadyExists => format!("GitHub answered {route}: already exists"),
            ErrorKind::Locked => format!(
                "GitHub answered 403 to {route}: the conversation is locked, so it takes no comments until someone unlocks it"
            ),
            ErrorKind::RateLimited { retry_after } => match retry_after {
                Some(wait) => format!(
                    "GitHub rate limit hit on {route}{after}; it asks to wait {}",
                    crate::rules::format_duration(*wait)
                ),
                None => format!("GitHub rate limit hit on {route}{after}"),
            },
            ErrorKind::Server { status } => format!("GitHub answered {status} to {route}{after}"),
            ErrorKind::Transport(message) => {
                format!("could not reach GitHub for {route}{after}: {message}")
            }
            ErrorKind::ListKeptChanging { tries } => {
                format!("{route}: the list changed while it was read, {tries} times in a row")
            }
            ErrorKind::Decode(message) => {
                format!("could not read GitHub's answer to {route}: {message}")
            }
            ErrorKind::Config(message) => format!("GitHub client set-up: {message}"),
        }
    }
}

/// " after 4 attempts", or nothing for a single attempt.
struct AfterAttempts(u32);

impl fmt::Display for AfterAttempts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 > 1 {
            write!(f, " after {} attempts", self.0)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_refusal_says_nothing_was_written() {
        let route = "POST /repos/{owner}/{repo}/issues/{n}/comments";
        for kind in [
            ErrorKind::Locked,
            ErrorKind::Forbidden,
            ErrorKind::NotFound,
            ErrorKind::Validation("Body is too long".into()),
            ErrorKind::RateLimited { retry_after: None },
        ] {
            assert!(
                GitHubError::new(kind.clone(), route).nothing_written(),
                "{kind:?}"
            );
        }
        for kind in [
            ErrorKind::Server { status: 502 },
            ErrorKind::Transport("timed out".into()),
            ErrorKind::Decode("not JSON".into()),
        ] {
            assert!(
                !GitHubError::new(kind.clone(), route).nothing_written(),
                "{kind:?}"
            );
        }
    }

    #[test]
    fn server_error_reads_as_one_line_with_route_and_attempts() {
        let e = GitHubError::new(
            ErrorKind::Server { status: 502 },
            "GET /repos/{owner}/{repo}/pulls/{n}/reviews",
        )
        .with_status(502)
        .with_attempts(4);
        assert_eq!(
            e.to_string(),
            "GitHub answered 502 to GET /repos/{owner}/{repo}/pulls/{n}/reviews after 4 attempts"
        );
    }

    #[test]
    fn single_attempt_is_not_mentioned() {
        let e = GitHubError::new(ErrorKind::NotFound, "GET /repos/{owner}/{repo}").with_attempts(1);
        assert_eq!(
            e.to_string(),
            "GitHub answered 404 (not found) to GET /repos/{owner}/{repo}"
        );
        assert!(!e.to_string().contains('\n'));
    }

    #[test]
    fn transient_kinds() {
        let rl = GitHubError::new(ErrorKind::RateLimited { retry_after: None }, "r");
        assert!(rl.is_transient() && rl.is_rate_limited());
        assert!(!GitHubError::new(ErrorKind::Forbidden, "r").is_transient());
    }
}
