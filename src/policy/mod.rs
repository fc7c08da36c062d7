//! The policy file `.github/hotfix-policy.yml`: schema, defaults, validation.
//!
//! Reading a file goes in two passes. serde-saphyr reads the YAML into the
//! `raw` types: a syntax error stops it (there is no sound way to carry on
//! past broken YAML), a type or unknown-key error is collected and its entry
//! set aside so the next one is found too (see `syntax`). A file that reads
//! cleanly is then checked as a whole and every semantic error is reported at
//! once, each with its line and column, before `validate` builds the `Policy`
//! the rules read.

pub mod after_merge;
pub mod defaults;
pub mod duration;
pub mod limits;
pub mod model;
pub mod notify;
pub mod raw;
pub mod schema;
mod syntax;
mod validate;

#[cfg(test)]
mod mutant_tests;

use std::fmt;

pub use duration::parse_duration;
pub use model::*;
pub use notify::{NoticeEvent, NotifyRule, Target};
pub use schema::json_schema;

/// Where the policy lives, on the repository's default branch.
pub const POLICY_PATH: &str = ".github/hotfix-policy.yml";

/// What a role member must look like (also the JSON Schema's pattern): a
/// login, or `org/team-slug`, optionally written with a leading `@`.
pub const MEMBER_PATTERN: &str =
    r"^@?[A-Za-z0-9][A-Za-z0-9_.\[\]-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)?$";

/// One problem in a policy file, at a 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl PolicyError {
    /// Builds an error; positions of 0 (unknown) become 1 so that every error
    /// points somewhere in the file. Messages quote the file, and end up on a
    /// terminal and in a check run: control characters are escaped so that
    /// each error stays one harmless line.
    pub fn new(line: usize, column: usize, message: impl Into<String>) -> PolicyError {
        let message: String = message.into();
        let message = if message.chars().any(char::is_control) {
            message
                .chars()
                .map(|c| {
                    if c.is_control() {
                        c.escape_default().to_string()
                    } else {
                        c.to_string()
                    }
                })
                .collect()
        } else {
            message
        };
        PolicyError {
            line: line.max(1),
            column: column.max(1),
            message,
        }
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

impl std::error::Error for PolicyError {}

/// Reads and validates a policy file's text.
///
/// A YAML syntax error is returned alone (the file cannot be read past it);
/// type, value and unknown-key errors are returned together (up to 20);
/// a file without those gets all its semantic errors together. Each list is
/// ordered by position.
///
/// A file over [`limits::MAX_POLICY_BYTES`] is not read at all: one error,
/// at 1:1, says so.
pub fn parse(text: &str) -> Result<Policy, Vec<PolicyError>> {
    if let Some(reason) = limits::oversized(text) {
        return Err(vec![PolicyError::new(1, 1, reason)]);
    }
    let raw = syntax::read_raw_all(text)?;
    validate::validate(raw)
}

/// `hotfix-guard check-config PATH`: the policy, or one line per error
/// formatted `PATH:LINE:COL: message`.
pub fn check_config_text(path_display: &str, text: &str) -> Result<Policy, Vec<String>> {
    parse(text).map_err(|errors| {
        errors
            .iter()
            .map(|error| format!("{path_display}:{error}"))
            .collect()
    })
}
