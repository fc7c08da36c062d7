//! A short-lived memory of team memberships and collaborator permissions.
//!
//! One evaluation asks "is alice in acme/eng-leads?" once per role and per
//! approval, and a busy pull request is evaluated many times a minute. These
//! answers change rarely, so they are kept for a few minutes per
//! installation; bounded, so a flood of logins cannot grow it.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

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

pub(crate) struct Memo {
    entries: Mutex<HashMap<(Scope, Question), (String, Instant)>>,
    ttl: Duration,
    capacity: usize,
}

impl Memo {
    pub(crate) fn new(ttl: Duration, capacity: usize) -> Memo {
        Memo {
            entries: Mutex::new(HashMap::new()),
            ttl,
            capacity,
        }
    }

    pub(crate) fn get(&self, scope: Scope, question: &Question) -> Option<String> {
        let key = (scope, question.clone());
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        match entries.get(&key) {
            Some((answer, at)) if at.elapsed() < self.ttl => Some(answer.clone()),
            Some(_) => {
                entries.remove(&key);
                None
            }
            None => None,
        }
    }

    pub(crate) fn put(&self, scope: Scope, question: Question, answer: String) {
        if self.capacity == 0 || self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= self.capacity {
            let ttl = self.ttl;
            entries.retain(|_, (_, at)| at.elapsed() < ttl);
        }
        if entries.len() >= self.capacity {
            let oldest = entries
                .iter()
                .min_by_key(|(_, (_, at))| *at)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                entries.remove(&oldest);
            }
        }
        entries.insert((scope, question), (answer, Instant::now()));
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
