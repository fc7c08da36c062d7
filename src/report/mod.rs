//! Pure rendering: verdict → check-run output and comment markdown.
//!
//! Nothing here reads the clock: the time comes in as a [`Moment`] (see
//! `timing` for why the comment still changes only when a state changes).

mod check;
mod closed;
mod comment;
pub mod locked;
mod markdown;
pub use markdown::{inert, quoted};
pub mod markers;
pub mod notices;
pub mod post_merge;
mod procedure;
pub mod timing;
pub mod title;
pub mod unevaluated;
mod unsettled;

pub use check::{
    CheckOutput, MAX_OUTPUT_BYTES, check_output, check_output_at, policy_error_output,
};
pub use closed::closed_unmerged_note;
pub use comment::{COMMENT_MARKER, sticky_comment, sticky_comment_at};
pub use timing::{EscalationPosted, Moment};
pub use unsettled::unsettled_timeline_note;

#[cfg(test)]
mod evidence_tests;
#[cfg(test)]
mod tests;
