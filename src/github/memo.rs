//! A short-lived memory of team memberships and collaborator permissions.
//!
//! One evaluation asks "is alice in acme/eng-leads?" once per role and per
//! approval. Each repository client (one per evaluation, one per sweep)
//! has its own memo, so the same question is asked once per evaluation and
//! never answered from an earlier one: a membership or write access taken
//! away counts at the next evaluation, on every replica (an unchanged
//! answer is a conditional request's 304, free against the rate limit).
//! Bounded, so a flood of logins cannot grow it.

use std::time::Duration;

use moka::policy::EvictionPolicy;
use moka::sync::Cache;

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
/// stored, least recently used out first beyond `capacity`).
pub(crate) struct Memo {
    /// `None` when `ttl` or `capacity` is zero: nothing is remembered.
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

    pub(crate) fn get(&self, scope: Scope, question: &Question) -> Option<String> {
        self.entries.as_ref()?.get(&(scope, question.clone()))
    }

    pub(crate) fn put(&self, scope: Scope, question: Question, answer: String) {
        if let Some(entries) = &self.entries {
            entries.insert((scope, question), answer);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_per_installation_and_case_insensitive() {
        let memo = Memo::new(Duration::from_secs(60), 10);
        memo.put(
            Scope::Installation(1),
            Question::team("Acme", "Eng-Leads", "Alice"),
            "true".into(),
        );
        assert_eq!(
            memo.get(
                Scope::Installation(1),
                &Question::team("acme", "eng-leads", "alice")
            ),
            Some("true".to_string())
        );
        assert_eq!(
            memo.get(
                Scope::Installation(2),
                &Question::team("acme", "eng-leads", "alice")
            ),
            None
        );
    }

    #[test]
    fn answers_expire() {
        let memo = Memo::new(Duration::from_millis(1), 10);
        let q = Question::permission("o", "r", "u");
        memo.put(Scope::Token, q.clone(), "write".into());
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(memo.get(Scope::Token, &q), None);
    }

    #[test]
    fn stays_within_capacity() {
        let memo = Memo::new(Duration::from_secs(60), 2);
        for user in ["a", "b", "c"] {
            memo.put(
                Scope::Token,
                Question::permission("o", "r", user),
                "read".into(),
            );
        }
        if let Some(entries) = &memo.entries {
            entries.run_pending_tasks();
        }
        let kept = ["a", "b", "c"]
            .iter()
            .filter(|u| {
                memo.get(Scope::Token, &Question::permission("o", "r", u))
                    .is_some()
            })
            .count();
        assert_eq!(kept, 2);
        assert!(
            memo.get(Scope::Token, &Question::permission("o", "r", "c"))
                .is_some()
        );
    }
}
