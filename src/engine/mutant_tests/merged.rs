//! `engine::merged::policy_before_merge` against a GitHub on loopback:
//! only a merged pull request whose own change touches the policy file is
//! judged by the file at its `base.sha`.

use super::stub::{Answers, Stub, file};
use super::{BASE_SHA, pull};
use crate::engine::merged::policy_before_merge;
use crate::engine::policy_cache::PolicyCache;
use crate::github::FileInfo;
use crate::policy::POLICY_PATH;
use crate::pull::Pull;

const POLICY: &str = "version: 1\nworkflow: github-flow\nbranches: { production: prod }\nseverities:\n  P0:\n    labels: [P0]\n    approvals: { count: 1 }\n";

fn files(name: &str) -> Vec<FileInfo> {
    vec![FileInfo {
        filename: name.into(),
        additions: 1,
        deletions: 0,
        status: "modified".into(),
        previous_filename: None,
    }]
}

fn with_totals(mut pull: Pull, merged: bool) -> Pull {
    pull.merged = Some(merged);
    pull.state = if merged { "closed" } else { "open" }.into();
    pull.changed_files = Some(1);
    pull.additions = Some(1);
    pull.deletions = Some(0);
    pull
}

async fn stub() -> Stub {
    let at = format!("/repos/octo/app/contents/.github/hotfix-policy.yml?ref={BASE_SHA}");
    Stub::start(Answers::default().with(&at, file(POLICY))).await
}

#[tokio::test]
async fn a_merged_pull_request_editing_the_policy_is_judged_by_the_file_at_its_base() {
    let stub = stub().await;
    let merged = with_totals(pull(), true);
    let before = policy_before_merge(
        &PolicyCache::default(),
        &stub.client(),
        &merged,
        &files(POLICY_PATH),
    )
    .await
    .expect("read")
    .expect("judged by the file before its merge");
    assert_eq!(before.base_sha, BASE_SHA);
    assert_eq!(before.branch, "main");
    let production = before
        .loaded
        .policy
        .as_ref()
        .ok()
        .map(|p| p.branches.production.as_str());
    assert_eq!(production, Some("prod"));
}

#[tokio::test]
async fn an_open_pull_request_or_one_leaving_the_policy_alone_is_judged_by_the_policy_in_force() {
    let stub = stub().await;
    let cases = [
        (with_totals(pull(), false), files(POLICY_PATH)),
        (with_totals(pull(), true), files("src/fix.rs")),
        (with_totals(pull(), false), files("src/fix.rs")),
    ];
    for (pull, files) in cases {
        let before =
            policy_before_merge(&PolicyCache::default(), &stub.client(), &pull, &files).await;
        assert!(
            matches!(before, Ok(None)),
            "merged {:?}, {}",
            pull.merged,
            files[0].filename
        );
    }
    assert_eq!(stub.seen(), Vec::<String>::new(), "nothing read");
}
