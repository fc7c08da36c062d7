//! Pure rendering: verdict → check-run output and comment markdown.
//!
//! Nothing here reads the clock: the sticky comment is edited only when its
//! text changes, so it must depend on the verdict alone.

mod check;
mod comment;
mod markdown;
pub mod post_merge;
mod procedure;

pub use check::{CheckOutput, MAX_OUTPUT_BYTES, check_output, policy_error_output};
pub use comment::{COMMENT_MARKER, sticky_comment};

#[cfg(test)]
mod evidence_tests;
#[cfg(test)]
mod tests;
