//! Pure rules: facts about a pull request + the policy → a verdict.

pub mod facts;

pub use facts::*;
