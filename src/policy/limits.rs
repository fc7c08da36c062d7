//! Bounds on what a policy file may cost to read: its size, and what its
//! patterns may compile to. They apply wherever a policy is read: the
//! default branch's (obeyed), a pull request's head (only validated) and
//! `check-config`. YAML's own costs (nesting, anchors and aliases, node
//! counts) are bounded by serde-saphyr's default `Budget`.

use regex::{Regex, RegexBuilder};

/// Largest policy file read, in bytes (64 KiB; real policies are a few KB,
/// GitHub's contents API itself serves up to 1 MB).
pub const MAX_POLICY_BYTES: usize = 64 * 1024;

/// Longest regular expression accepted in a policy, in bytes.
pub const MAX_PATTERN_LEN: usize = 4 * 1024;

/// Longest glob accepted in a policy, in bytes.
pub const MAX_GLOB_LEN: usize = 1024;

/// Compiled size allowed for one pattern (regex's `size_limit`), in bytes.
pub const PATTERN_SIZE_LIMIT: usize = 1024 * 1024;

/// Lazy DFA cache allowed for one pattern (regex's `dfa_size_limit`), in
/// bytes.
pub const PATTERN_DFA_SIZE_LIMIT: usize = 1024 * 1024;

/// Nesting allowed in one pattern (regex's `nest_limit`).
pub const PATTERN_NEST_LIMIT: u32 = 64;

/// `None` when `text` may be read; otherwise the one-line reason.
pub fn oversized(text: &str) -> Option<String> {
    oversized_bytes(text.len() as u64)
}

/// `None` when a policy file of `bytes` bytes may be read; otherwise the
/// one-line reason. For a file known by its size only (the contents API's
/// `size`, a file too large to download).
pub fn oversized_bytes(bytes: u64) -> Option<String> {
    (bytes > MAX_POLICY_BYTES as u64).then(|| {
        format!(
            "the policy file is {bytes} bytes; hotfix-guard reads at most {MAX_POLICY_BYTES} (64 KiB), so it was not read"
        )
    })
}

/// A policy's regular expression, compiled within the limits above. Every
/// place that compiles a pattern from a policy goes through here.
///
/// # Errors
/// The pattern is longer than [`MAX_PATTERN_LEN`] (reported as a compiled
/// size error), or invalid, or compiles beyond the limits.
pub fn regex(pattern: &str) -> Result<Regex, regex::Error> {
    if pattern.len() > MAX_PATTERN_LEN {
        return Err(regex::Error::CompiledTooBig(MAX_PATTERN_LEN));
    }
    RegexBuilder::new(pattern)
        .size_limit(PATTERN_SIZE_LIMIT)
        .dfa_size_limit(PATTERN_DFA_SIZE_LIMIT)
        .nest_limit(PATTERN_NEST_LIMIT)
        .build()
}

/// One-line reason for a [`regex`] error.
pub fn regex_error(error: &regex::Error) -> String {
    match error {
        regex::Error::CompiledTooBig(limit) => format!(
            "the pattern is too large (over {limit} bytes, or over {MAX_PATTERN_LEN} characters)"
        ),
        other => {
            let text = other.to_string();
            text.lines()
                .rev()
                .find_map(|line| line.trim().strip_prefix("error: "))
                .map(str::to_string)
                .unwrap_or_else(|| text.lines().map(str::trim).collect::<Vec<_>>().join(" "))
        }
    }
}

/// `None` when a glob is short enough to compile; otherwise the reason.
pub fn glob_too_long(glob: &str) -> Option<String> {
    (glob.len() > MAX_GLOB_LEN).then(|| {
        format!(
            "the glob is {} bytes; at most {MAX_GLOB_LEN} are accepted",
            glob.len()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_compile_within_limits() {
        assert!(regex(r"^v(\d+)\.(\d+)$").is_ok());
        // Small text, huge program: counted repetitions multiply.
        let bomb = regex(r"[a-z]{50000}").expect_err("refused");
        assert!(
            Regex::new(r"[a-z]{50000}").is_ok(),
            "the crate's default allows it"
        );
        assert!(
            regex_error(&bomb).starts_with("the pattern is too large"),
            "{bomb}"
        );
        let long = regex(&"a".repeat(MAX_PATTERN_LEN + 1)).expect_err("refused");
        assert!(regex_error(&long).starts_with("the pattern is too large"));
        let deep = format!("{}a{}", "(".repeat(100), ")".repeat(100));
        assert!(regex(&deep).is_err());
        assert_eq!(
            regex_error(&regex("(").expect_err("invalid")),
            "unclosed group"
        );
    }

    #[test]
    fn sizes() {
        assert!(oversized(&"#".repeat(MAX_POLICY_BYTES)).is_none());
        let over = oversized(&"#".repeat(MAX_POLICY_BYTES + 1)).expect("over");
        assert!(over.starts_with("the policy file is 65537 bytes"), "{over}");
        assert!(glob_too_long("tests/**").is_none());
        assert!(glob_too_long(&"*".repeat(MAX_GLOB_LEN + 1)).is_some());
    }
}
