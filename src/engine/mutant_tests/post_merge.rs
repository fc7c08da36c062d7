//! `engine::post_merge`: the merge-back branch's name (the rest of the
//! after-merge steps write to GitHub and are tested end to end:
//! `tests/post_merge_flow.rs`, `tests/merged_hotfix_steps.rs`).

use crate::engine::post_merge::merge_back_branch;
use crate::events::MERGE_BACK_PREFIX;

#[test]
fn the_merge_back_branch_is_named_after_the_pull_request() {
    // The prefix is a contract (DESIGN's branch names): spelled out.
    assert_eq!(merge_back_branch(7), "hotfix-guard/merge-back-7");
    assert_eq!(merge_back_branch(1234), format!("{MERGE_BACK_PREFIX}1234"));
}
