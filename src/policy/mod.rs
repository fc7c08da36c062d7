//! The policy file `.github/hotfix-policy.yml`: schema, defaults, validation.

pub mod model;

pub use model::*;

/// Where the policy lives in a repository (read from the default branch).
pub const POLICY_PATH: &str = ".github/hotfix-policy.yml";
