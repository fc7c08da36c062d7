//! The policy file `.github/hotfix-policy.yml`: schema, defaults, validation.

pub mod model;

pub use model::*;
