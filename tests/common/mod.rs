//! Shared by every integration test (`mod common;`): the fake GitHub and the
//! webhook helpers. Each test uses a different part, hence the allow.
#![allow(dead_code)]

pub mod attacks;
pub mod broken_policy;
pub mod churn;
pub mod fake_github;
pub mod fake_notify;
pub mod harness;
pub mod head_files;
pub mod merged;
pub mod org_policy;
pub mod pages;
pub mod serve;
pub mod store;
pub mod twins;
pub mod webhook;
