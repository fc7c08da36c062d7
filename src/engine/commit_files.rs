//! Files read at a commit, remembered: a commit's tree never changes, so
//! the text of `VERSION` at a pull request's base or head commit read once
//! is the answer for every later evaluation of that commit. Without this,
//! each re-evaluation asks again (`GET …/contents/{path}?ref={sha}`): free
//! against the rate limit (a conditional request answered 304) but a round
//! trip on the critical path and a request in flight.
//!
//! Only commit shas are keys (40 or 64 hex digits), never a branch or tag
//! name, whose target moves. A read that failed is not remembered.

use std::time::Duration;

use moka::future::Cache;

use super::reads::GitHubReads;
use crate::github::{FileRead, GitHubError, NotText};

/// Bytes of file text remembered in all (version files are a few bytes;
/// a huge one is simply not kept long).
const MAX_BYTES: u64 = 16 << 20;

/// Unread for this long, an entry goes (a pull request's commits stop
/// being evaluated once it is merged or left).
const IDLE: Duration = Duration::from_secs(6 * 60 * 60);

/// `(repository "owner/name" in lower case, path, commit sha)` → what the
/// path holds there (its text, nothing, or something that is not text: a
/// fact of the commit as much as its text is).
#[derive(Clone)]
pub struct CommitFiles {
    cache: Cache<(String, String, String), FileRead>,
}

impl Default for CommitFiles {
    fn default() -> CommitFiles {
        CommitFiles {
            cache: Cache::builder()
                .max_capacity(MAX_BYTES)
                .weigher(
                    |(repo, path, sha): &(String, String, String), read: &FileRead| {
                        let text = match read {
                            FileRead::Text(text) => text.len(),
                            FileRead::Missing | FileRead::NotText(_) => 0,
                        };
                        let bytes = repo.len() + path.len() + sha.len() + text;
                        u32::try_from(bytes).unwrap_or(u32::MAX)
                    },
                )
                .time_to_idle(IDLE)
                .build(),
        }
    }
}

impl CommitFiles {
    /// `path` at commit `sha` (`GitHubReads::read_file`), from memory when
    /// read before. Concurrent first reads of one file make one request.
    /// A `sha` that is not a full commit sha is always read from GitHub.
    pub async fn get<C: GitHubReads>(
        &self,
        client: &C,
        path: &str,
        sha: &str,
    ) -> Result<FileRead, GitHubError> {
        if !is_commit_sha(sha) {
            return client.read_file(path, Some(sha)).await;
        }
        let key = (
            client.full_name().to_ascii_lowercase(),
            path.to_string(),
            sha.to_ascii_lowercase(),
        );
        self.cache
            .try_get_with(key, client.read_file(path, Some(sha)))
            .await
            .map_err(std::sync::Arc::unwrap_or_clone)
    }
}

/// A file's two sides as the rules read them: the text, or `None` with
/// what the path holds when it exists but is not text
/// (`FileAtRefs::base_not_text` / `head_not_text`), or its size when it is
/// too large to read (`base_too_large` / `head_too_large`).
pub fn file_at_refs(base: FileRead, head: FileRead) -> crate::rules::FileAtRefs {
    let split = |read: FileRead| match read {
        FileRead::Text(text) => (Some(text), None, None),
        FileRead::Missing => (None, None, None),
        FileRead::NotText(NotText::TooLarge { bytes }) => (None, None, Some(bytes)),
        FileRead::NotText(kind) => (None, Some(kind.describe()), None),
    };
    let (base, base_not_text, base_too_large) = split(base);
    let (head, head_not_text, head_too_large) = split(head);
    crate::rules::FileAtRefs {
        base,
        head,
        base_not_text,
        head_not_text,
        base_too_large,
        head_too_large,
    }
}

/// 40 (SHA-1) or 64 (SHA-256) hex digits: a commit, whose tree is fixed.
fn is_commit_sha(sha: &str) -> bool {
    matches!(sha.len(), 40 | 64) && sha.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::is_commit_sha;

    #[test]
    fn only_full_commit_shas_are_remembered() {
        assert!(is_commit_sha("b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0"));
        assert!(is_commit_sha(&"a".repeat(64)));
        assert!(!is_commit_sha("main"));
        assert!(!is_commit_sha("v1.2.3"));
        assert!(!is_commit_sha("b0b0b0b"));
        assert!(!is_commit_sha("h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1"));
    }
}
