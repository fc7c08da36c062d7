//! A file at a commit, as the contents API answers for it: its text, its
//! absence, or a path that exists but holds no readable text (a directory,
//! a symbolic link, a submodule, bytes that are not UTF-8, or a file larger
//! than [`MAX_FILE_BYTES`], never downloaded).
//!
//! The last is a fact about the commit, not a failure to read it: whoever
//! pushed the commit chose it (a pull request's author at the head), and
//! reading it again gives the same answer. Callers that judge a pull
//! request report it as what it is ("`VERSION` at the head is not a text
//! file: it is a directory") instead of failing the evaluation, which an
//! author could otherwise make fail for good. Transport errors and 5xx
//! answers stay errors (retried).

use base64::Engine as _;

use super::{RAW, RepoClient, normalise_text, wire};
use crate::github::error::{ErrorKind, GitHubError};
use crate::github::http::{Call, encode_path, query};
use crate::rules::MAX_FILE_BYTES;

/// `GET /repos/{owner}/{repo}/contents/{path}?ref=` for one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileRead {
    /// A regular file's text, normalised ([`normalise_text`]: no leading
    /// byte-order mark, LF line endings).
    Text(String),
    /// 404: nothing at that path at that commit.
    Missing,
    /// Something is at the path, but not a file's text.
    NotText(NotText),
}

/// What a path holds when it is not a file's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotText {
    /// The answer is a list of entries (`mkdir VERSION`), or `type: "dir"`.
    Directory,
    /// `type: "symlink"` (a symbolic link whose target is not a file).
    Symlink,
    /// `type: "submodule"`.
    Submodule,
    /// A file whose bytes (base64 `content`, or the raw answer over 1 MB)
    /// are not UTF-8.
    NotUtf8,
    /// A file of `bytes` bytes (the answer's `size`, or the raw answer's
    /// length), more than [`MAX_FILE_BYTES`]: not downloaded (up to 100 MB
    /// on GitHub, which would cost memory and time on every evaluation).
    TooLarge { bytes: u64 },
}

impl NotText {
    /// For the report: "a directory", "a symbolic link", "a submodule",
    /// "a file whose bytes are not UTF-8 text", "a file of 5242880 bytes,
    /// more than the 1000000 (1 MB) hotfix-guard reads".
    pub fn describe(self) -> String {
        match self {
            NotText::Directory => "a directory".to_string(),
            NotText::Symlink => "a symbolic link".to_string(),
            NotText::Submodule => "a submodule".to_string(),
            NotText::NotUtf8 => "a file whose bytes are not UTF-8 text".to_string(),
            NotText::TooLarge { bytes } => format!(
                "a file of {bytes} bytes, more than the {MAX_FILE_BYTES} (1 MB) hotfix-guard reads"
            ),
        }
    }
}

impl FileRead {
    /// The text, `None` when missing; a path that is not text is an error
    /// (`Decode`, attempted once) for callers that read what only people
    /// with write access control (the default branch's policy).
    pub fn into_text(self, path: &str) -> Result<Option<String>, GitHubError> {
        const ROUTE: &str = "GET /repos/{owner}/{repo}/contents/{path}";
        match self {
            FileRead::Text(text) => Ok(Some(text)),
            FileRead::Missing => Ok(None),
            FileRead::NotText(kind) => Err(GitHubError::new(
                ErrorKind::Decode(format!("{path} is {}, not a text file", kind.describe())),
                ROUTE,
            )
            .with_attempts(1)),
        }
    }
}

impl RepoClient {
    /// `GET /repos/{owner}/{repo}/contents/{path}?ref=`: what `path` holds
    /// at `git_ref` (the default branch when `None`). A file whose `size`
    /// is over [`MAX_FILE_BYTES`] is [`NotText::TooLarge`], decided from
    /// the JSON answer (which carries `size` even over 1 MB, where its
    /// `content` is empty) without downloading it. Errors: transport, 5xx
    /// and other unexpected answers, and a `base64` content GitHub itself
    /// garbled; never what the commit holds.
    pub async fn read_file(
        &self,
        path: &str,
        git_ref: Option<&str>,
    ) -> Result<FileRead, GitHubError> {
        const ROUTE: &str = "GET /repos/{owner}/{repo}/contents/{path}";
        const ROUTE_RAW: &str = "GET /repos/{owner}/{repo}/contents/{path} (raw)";
        let mut url = format!(
            "{}/contents/{}",
            self.prefix,
            encode_path(path.trim_start_matches('/'), true),
        );
        if let Some(git_ref) = git_ref {
            url = format!("{url}?{}", query(&[("ref", git_ref)]));
        }
        let value: Option<serde_json::Value> = self.get_optional(ROUTE, url.clone()).await?;
        let Some(value) = value else {
            return Ok(FileRead::Missing);
        };
        let decode_error =
            |message: String| GitHubError::new(ErrorKind::Decode(message), ROUTE).with_attempts(1);
        if value.is_array() {
            return Ok(FileRead::NotText(NotText::Directory));
        }
        let content: wire::Content =
            serde_json::from_value(value).map_err(|e| decode_error(e.to_string()))?;
        match content.kind.as_str() {
            "" | "file" => {}
            "dir" => return Ok(FileRead::NotText(NotText::Directory)),
            "symlink" => return Ok(FileRead::NotText(NotText::Symlink)),
            "submodule" => return Ok(FileRead::NotText(NotText::Submodule)),
            other => {
                // Not one of the four types GitHub documents: an answer
                // this client does not understand, not a fact.
                return Err(decode_error(format!("{path} is a {other}, not a file")));
            }
        }
        // Decided before any download: the raw path would read up to
        // 100 MB into memory, on every evaluation of the pull request.
        if content.size > MAX_FILE_BYTES {
            return Ok(FileRead::NotText(NotText::TooLarge {
                bytes: content.size,
            }));
        }
        let text = match content.encoding.as_deref() {
            Some("base64") => {
                let packed: String = content
                    .content
                    .chars()
                    .filter(|c| !c.is_ascii_whitespace())
                    .collect();
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(packed)
                    .map_err(|e| decode_error(format!("{path}: bad base64: {e}")))?;
                match String::from_utf8(bytes) {
                    Ok(text) => text,
                    Err(_) => return Ok(FileRead::NotText(NotText::NotUtf8)),
                }
            }
            Some("") | None if content.size == 0 => content.content,
            // Over 1 MB the JSON form carries no content (`encoding: none`):
            // ask for the raw file.
            _ => {
                let call = Call::get(ROUTE_RAW, url).accept(RAW);
                match self.core.send(&self.cred, &call).await {
                    // A ref that is a branch may have moved between the two
                    // reads: the bytes themselves decide too.
                    Ok(answer) if answer.body.len() as u64 > MAX_FILE_BYTES => {
                        return Ok(FileRead::NotText(NotText::TooLarge {
                            bytes: answer.body.len() as u64,
                        }));
                    }
                    Ok(answer) => answer.body.to_string(),
                    Err(e) if e.is_not_found() => return Ok(FileRead::Missing),
                    Err(e) => return Err(e),
                }
            }
        };
        Ok(FileRead::Text(normalise_text(text)))
    }
}
