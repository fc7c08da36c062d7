//! A short-lived memory of team memberships and collaborator permissions.
//!
//! One evaluation asks "is alice in acme/eng-leads?" once per role and per
//! approval. Each repository client (one per evaluation, one per sweep)
//! has its own memo, so the same question is asked once per evaluation and
//! never answered from an earlier one: a membership or write access taken
//! away counts at the next evaluation, on every replica (an unchanged
//! answer is a conditional request's 304, free against the rate limit).
//! Bounded, so a flood of logins cannot grow it.
//!
//! Single flight: askers of the same question at the same time share one
//! request (moka's `try_get_with`). The deadline watch and the step-2 reads
//! of an evaluation both need the label appliers' write access and run
//! together; without it each would send its own request. A failed request
//! is not remembered (`try_get_with` inserts only an `Ok`): the askers
//! waiting on it get its error, and the next ask sends a request again.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache;
use moka::policy::EvictionPolicy;

use super::error::GitHubError;
use super::http::Scope;

/// What was asked. Names are lowercased: GitHub logins, orgs and slugs are
/// case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Question {
    Team {
        org: String,
        slug: String,
        user: String,
    },
    Permission {
        owner: String,
        repo: String,
        user: String,
    },
}

impl Question {
    pub(crate) fn team(org: &str, slug: &str, user: &str) -> Question {
        Question::Team {
            org: org.to_lowercase(),
            slug: slug.to_lowercase(),
            user: user.to_lowercase(),
        }
    }

    pub(crate) fn permission(owner: &str, repo: &str, user: &str) -> Question {
        Question::Permission {
            owner: owner.to_lowercase(),
            repo: repo.to_lowercase(),
            user: user.to_lowercase(),
        }
    }
}

/// Answers by installation and question (moka: expire `ttl` after they were
/// stored, least recently used out first beyond `capacity`; concurrent
/// loads of one key coalesced).
pub(crate) struct Memo {
    /// `None` when `ttl` or `capacity` is zero: nothing is remembered, and
    /// every ask is a request of its own (no single flight either).
    entries: Option<Cache<(Scope, Question), String>>,
}

impl Memo {
    pub(crate) fn new(ttl: Duration, capacity: usize) -> Memo {
        let entries = (!ttl.is_zero() && capacity > 0).then(|| {
            Cache::builder()
                .max_capacity(u64::try_from(capacity).unwrap_or(u64::MAX))
                .time_to_live(ttl)
                .eviction_policy(EvictionPolicy::lru())
                .build()
        });
        Memo { entries }
    }

    /// The answer to `question`: remembered, or the one an ask already in
    /// flight gets, or `load`'s (GitHub's: the raw `state` of a membership,
    /// the `permission` of a collaborator), which is then remembered.
    ///
    /// Errors: `load`'s, given to every asker that waited on it and never
    /// remembered. Should the asker whose `load` is in flight be dropped
    /// (its evaluation's other reads failed first), a waiting asker sends
    /// its own.
    pub(crate) async fn answer<F>(
        &self,
        scope: Scope,
        question: Question,
        load: F,
    ) -> Result<String, GitHubError>
    where
        F: Future<Output = Result<String, GitHubError>>,
    {
        match &self.entries {
            Some(entries) => entries
                .try_get_with((scope, question), load)
                .await
                .map_err(Arc::unwrap_or_clone),
            None => load.await,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::github::ErrorKind;

    /// A load that counts its requests and answers `answer` after a pause
    /// (long enough for another ask to arrive while it is in flight).
    async fn counted(
        sent: &AtomicUsize,
        answer: Result<&str, GitHubError>,
    ) -> Result<String, GitHubError> {
        sent.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(20)).await;
        answer.map(str::to_string)
    }

    fn server_error() -> GitHubError {
        GitHubError::new(
            ErrorKind::Server { status: 502 },
            "GET /repos/{owner}/{repo}/collaborators/{user}/permission",
        )
        .with_status(502)
    }

    #[tokio::test]
    async fn answers_are_per_installation_and_case_insensitive() {
        let memo = Memo::new(Duration::from_secs(60), 10);
        let sent = AtomicUsize::new(0);
        let first = memo
            .answer(
                Scope::Installation(1),
                Question::team("Acme", "Eng-Leads", "Alice"),
                counted(&sent, Ok("active")),
            )
            .await;
        assert_eq!(first, Ok("active".to_string()));
        let again = memo
            .answer(
                Scope::Installation(1),
                Question::team("acme", "eng-leads", "alice"),
                counted(&sent, Ok("other")),
            )
            .await;
        assert_eq!(again, Ok("active".to_string()));
        assert_eq!(
            sent.load(Ordering::SeqCst),
            1,
            "remembered, not asked again"
        );
        let other_installation = memo
            .answer(
                Scope::Installation(2),
                Question::team("acme", "eng-leads", "alice"),
                counted(&sent, Ok("pending")),
            )
            .await;
        assert_eq!(other_installation, Ok("pending".to_string()));
        assert_eq!(sent.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn answers_expire() {
        let memo = Memo::new(Duration::from_millis(1), 10);
        let sent = AtomicUsize::new(0);
        let q = Question::permission("o", "r", "u");
        let _ = memo
            .answer(Scope::Token, q.clone(), counted(&sent, Ok("write")))
            .await;
        tokio::time::sleep(Duration::from_millis(5)).await;
        let again = memo
            .answer(Scope::Token, q, counted(&sent, Ok("read")))
            .await;
        assert_eq!(again, Ok("read".to_string()));
        assert_eq!(sent.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn stays_within_capacity() {
        let memo = Memo::new(Duration::from_secs(60), 2);
        let sent = AtomicUsize::new(0);
        for user in ["a", "b", "c"] {
            let _ = memo
                .answer(
                    Scope::Token,
                    Question::permission("o", "r", user),
                    counted(&sent, Ok("read")),
                )
                .await;
        }
        let Some(entries) = &memo.entries else {
            panic!("a memo with a ttl and a capacity remembers");
        };
        entries.run_pending_tasks().await;
        let mut kept = 0;
        for user in ["a", "b", "c"] {
            if entries
                .get(&(Scope::Token, Question::permission("o", "r", user)))
                .await
                .is_some()
            {
                kept += 1;
            }
        }
        assert_eq!(kept, 2);
        assert!(
            entries
                .get(&(Scope::Token, Question::permission("o", "r", "c")))
                .await
                .is_some()
        );
    }

    /// Two askers of one question at the same time (the deadline watch and
    /// the step-2 reads): one request, one answer for both.
    #[tokio::test]
    async fn concurrent_asks_of_one_question_send_one_request() {
        let memo = Memo::new(Duration::from_secs(60), 10);
        let sent = AtomicUsize::new(0);
        let (watch, step2) = tokio::join!(
            memo.answer(
                Scope::Installation(1),
                Question::permission("octo", "app", "dana"),
                counted(&sent, Ok("write")),
            ),
            memo.answer(
                Scope::Installation(1),
                Question::permission("Octo", "App", "Dana"),
                counted(&sent, Ok("write")),
            ),
        );
        assert_eq!(sent.load(Ordering::SeqCst), 1, "one request for both");
        assert_eq!(watch, Ok("write".to_string()));
        assert_eq!(step2, Ok("write".to_string()));
    }

    /// A failed request is shared by who waited on it and never
    /// remembered: the next ask sends a request again.
    #[tokio::test]
    async fn a_failed_request_is_not_remembered() {
        let memo = Memo::new(Duration::from_secs(60), 10);
        let sent = AtomicUsize::new(0);
        let q = Question::permission("octo", "app", "dana");
        let (first, waiting) = tokio::join!(
            memo.answer(
                Scope::Installation(1),
                q.clone(),
                counted(&sent, Err(server_error()))
            ),
            memo.answer(
                Scope::Installation(1),
                q.clone(),
                counted(&sent, Ok("write"))
            ),
        );
        assert_eq!(sent.load(Ordering::SeqCst), 1);
        assert_eq!(first, Err(server_error()));
        assert_eq!(waiting, Err(server_error()));
        let retried = memo
            .answer(Scope::Installation(1), q, counted(&sent, Ok("write")))
            .await;
        assert_eq!(retried, Ok("write".to_string()));
        assert_eq!(
            sent.load(Ordering::SeqCst),
            2,
            "asked again after the failure"
        );
    }

    /// An asker whose request is dropped in flight (its evaluation's other
    /// reads failed first) leaves the waiting asker to send its own.
    #[tokio::test]
    async fn a_dropped_asker_leaves_the_waiting_one_to_ask() {
        let memo = Memo::new(Duration::from_secs(60), 10);
        let sent = AtomicUsize::new(0);
        let q = Question::permission("octo", "app", "dana");
        let dropped = async {
            tokio::select! {
                _ = memo.answer(Scope::Installation(1), q.clone(), counted(&sent, Ok("write"))) => {
                    panic!("dropped before its answer")
                }
                () = tokio::time::sleep(Duration::from_millis(5)) => {}
            }
        };
        let ((), waiting) = tokio::join!(
            dropped,
            memo.answer(
                Scope::Installation(1),
                q.clone(),
                counted(&sent, Ok("admin"))
            ),
        );
        assert_eq!(waiting, Ok("admin".to_string()));
        assert_eq!(sent.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_memo_without_ttl_remembers_nothing() {
        let memo = Memo::new(Duration::ZERO, 10);
        let sent = AtomicUsize::new(0);
        let q = Question::permission("o", "r", "u");
        for _ in 0..2 {
            let answer = memo
                .answer(Scope::Token, q.clone(), counted(&sent, Ok("write")))
                .await;
            assert_eq!(answer, Ok("write".to_string()));
        }
        assert_eq!(sent.load(Ordering::SeqCst), 2);
    }
}
