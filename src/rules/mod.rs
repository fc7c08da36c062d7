//! Pure rules: facts about a pull request + the policy → a verdict.
//!
//! Nothing here performs I/O or reads the clock: the engine gathers
//! [`PullRequestFacts`] (guided by [`needs::needs`] and
//! [`needs::candidate_logins`]) and calls [`verdict::evaluate`].

pub mod approvals;
pub mod classify;
pub mod deadline;
pub mod designation;
pub mod escalation;
pub mod evidence;
pub mod facts;
pub mod hygiene;
mod matching;
mod members;
pub mod needs;
pub mod provenance;
mod result;
pub mod target;
mod time;
pub mod verdict;
pub mod version;

#[cfg(test)]
mod mutant_tests;
#[cfg(test)]
pub(crate) mod testutil;

pub use approvals::is_command;
pub use classify::{Classification, HotfixReason, classify};
pub use facts::*;
pub use members::permission_in as members_permission;
pub use members::push_unique_login;
pub use needs::{
    FactNeeds, candidate_logins, deciders, direct_roles_cover, label_appliers, needs, role_holders,
};
pub use result::{RuleId, RuleResult, RuleStatus};
pub use time::{format_duration, format_span, format_utc_minute};
pub use verdict::{Conclusion, Verdict, evaluate};
pub use version::{expected_tag, new_version};
