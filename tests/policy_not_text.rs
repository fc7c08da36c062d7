//! A repository's own policy file on its default branch that is not a text
//! file (a symbolic link, a directory) is an invalid policy, an error at
//! 1:1 (`policy_cache::read_policy`), never "no file here": were it taken
//! as missing, a writer's merge of an author's change that turns the file
//! into a link would put the repository under its organisation's policy
//! (`{owner}/.github`), which may be looser, or the built-in default.

use crate::common;

use common::attacks::{self, text_of};
use common::harness::{HEAD_SHA, POLICY_PATH, REPO};
use common::org_policy::falls_back_to_the_org;
use serde_json::{Value, json};

/// The harness's P0 (#7, labels by dana) approved by alice alone, which
/// the organisation's loose policy (`attacks::loose_policy`) accepts; the
/// repository's own policy file on `main` is answered with `answer` (the
/// organisation's file is not). `opened` is delivered; answers the text of
/// the run on the head, after asserting it fails.
async fn p0_under_a_repository_policy_answered_with(answer: Value) -> String {
    let loose = attacks::loose_policy();
    let (h, pull) = attacks::p0_under(&loose).await;
    falls_back_to_the_org(&h, &loose);
    h.gh.fail_next_with_body(
        "GET",
        &format!("{REPO}/contents/{POLICY_PATH}"),
        200,
        Vec::new(),
        answer,
        100,
    );
    h.gh.add_review(REPO, pull.number, "alice", "APPROVED", HEAD_SHA);
    h.pull_request("opened", pull.number).await;
    h.settle().await;
    let run = h.check(HEAD_SHA);
    let text = text_of(&run);
    assert_eq!(run.conclusion.as_deref(), Some("failure"), "{text}");
    assert!(
        !text.contains("using the organisation's policy"),
        "judged by the organisation's policy: {text}"
    );
    text
}

#[tokio::test]
async fn a_policy_file_that_is_a_symlink_fails_the_check_instead_of_falling_back() {
    let text = p0_under_a_repository_policy_answered_with(json!({
        "type": "symlink", "name": "hotfix-policy.yml", "path": POLICY_PATH,
        "size": 18, "target": "hotfix-policy.yaml"
    }))
    .await;
    assert!(
        text.contains("is a symbolic link, not a text file"),
        "the run names what the file is: {text}"
    );
}

#[tokio::test]
async fn a_policy_path_that_is_a_directory_fails_the_check_instead_of_falling_back() {
    let text = p0_under_a_repository_policy_answered_with(json!([
        { "type": "file", "name": "a.yml", "path": format!("{POLICY_PATH}/a.yml"), "size": 3 }
    ]))
    .await;
    assert!(
        text.contains("is a directory, not a text file"),
        "the run names what the file is: {text}"
    );
}
