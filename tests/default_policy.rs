//! A repository without `.github/hotfix-policy.yml` is judged by the
//! built-in default fitted to it: its default branch is production, the
//! version rule reads only the version files its base has, merge-back only
//! where `develop` exists. Through the real router and the fake GitHub.

use crate::common;

use common::fake_github::PullSeed;
use common::harness::{BASE_SHA, HEAD_SHA, Harness, REPO};

/// `octo/app` with `master` as its default branch, no policy file anywhere,
/// no `VERSION`, no `develop`; a P2 hotfix by dana into `master`.
fn seed_master_repository(h: &Harness) -> PullSeed {
    h.gh.add_repo(REPO);
    h.gh.set_default_branch(REPO, "master");
    h.gh.set_branch(REPO, "master", BASE_SHA);
    let pull = PullSeed {
        number: 12,
        title: "fix: the invoice rounding".into(),
        author: "dana".into(),
        head_ref: "hotfix/rounding".into(),
        head_sha: HEAD_SHA.into(),
        base_ref: "master".into(),
        base_sha: BASE_SHA.into(),
        labels: vec!["hotfix".into(), "P2".into()],
        ..PullSeed::default()
    };
    h.gh.add_pull(REPO, pull.clone());
    h.gh.set_commit_date(
        REPO,
        &pull.head_sha,
        pull.created_at - chrono::Duration::minutes(1),
    );
    h.gh.set_pull_files(REPO, pull.number, [("src/invoice.rs", 2, 1)]);
    for login in ["dana", "alice"] {
        h.gh.set_permission(REPO, login, "write");
    }
    h.label_events_by(&pull, "dana");
    pull
}

#[tokio::test]
async fn a_p2_hotfix_into_master_with_one_writers_approval_passes() {
    let h = Harness::start().await;
    let pull = seed_master_repository(&h);
    h.gh.add_review(REPO, pull.number, "alice", "APPROVED", &pull.head_sha);
    h.pull_request("opened", pull.number).await;

    let run = h.check(HEAD_SHA);
    let summary = run.summary.clone().unwrap_or_default();
    assert_eq!(run.conclusion.as_deref(), Some("success"), "{run:#?}");
    assert_eq!(
        run.title.as_deref(),
        Some("P2 hotfix: all requirements met")
    );
    // It says where the rules came from even when they pass.
    assert!(summary.contains("built-in default policy"), "{summary}");
    let comment = &h.bot_comments(pull.number)[0].body;
    // No version file: the rule is skipped, and the comment says why.
    assert!(
        comment.contains("Version bump not checked: the built-in default found no version file"),
        "{comment}"
    );
    assert!(comment.contains("Merge-back not required"), "{comment}");
}

#[tokio::test]
async fn without_an_approval_the_failure_names_the_default_and_the_policy_file() {
    let h = Harness::start().await;
    let pull = seed_master_repository(&h);
    h.pull_request("opened", pull.number).await;

    let run = h.check(HEAD_SHA);
    assert_eq!(run.conclusion.as_deref(), Some("failure"), "{run:#?}");
    let title = run.title.clone().unwrap_or_default();
    assert!(title.ends_with("(built-in default policy)"), "{title}");
    assert!(
        !title.contains("master"),
        "the target branch is right: {title}"
    );
    let summary = run.summary.clone().unwrap_or_default();
    assert!(
        summary.contains("**built-in default policy**")
            && summary.contains("add `.github/hotfix-policy.yml` on the default branch"),
        "{summary}"
    );
    let text = run.text.clone().unwrap_or_default();
    let link = format!(
        "{}/octo/app/new/master?filename=.github%2Fhotfix-policy.yml",
        h.gh.url()
    );
    assert!(text.contains(&link), "{text}");
    let comment = &h.bot_comments(pull.number)[0].body;
    assert!(comment.contains("(built-in default policy)"), "{comment}");
    assert!(comment.contains(&link), "{comment}");
}

#[tokio::test]
async fn a_version_file_on_the_base_brings_the_version_rule_back() {
    let h = Harness::start().await;
    let pull = seed_master_repository(&h);
    h.gh.add_review(REPO, pull.number, "alice", "APPROVED", &pull.head_sha);
    h.gh.set_file(REPO, BASE_SHA, "package.json", r#"{"version": "2.0.0"}"#);
    h.gh.set_file(REPO, HEAD_SHA, "package.json", r#"{"version": "2.0.0"}"#);
    h.pull_request("opened", pull.number).await;

    let run = h.check(HEAD_SHA);
    assert_eq!(run.conclusion.as_deref(), Some("failure"), "{run:#?}");
    let title = run.title.unwrap_or_default();
    assert!(title.contains("package.json"), "{title}");
    assert!(!title.contains("VERSION"), "{title}");
}

#[tokio::test]
async fn a_pull_request_adding_a_version_file_does_not_choose_the_rules() {
    // Only the base counts: a head-only VERSION does not switch the rule on.
    let h = Harness::start().await;
    let pull = seed_master_repository(&h);
    h.gh.add_review(REPO, pull.number, "alice", "APPROVED", &pull.head_sha);
    h.gh.set_file(REPO, HEAD_SHA, "VERSION", "not a version\n");
    h.pull_request("opened", pull.number).await;
    assert_eq!(h.check(HEAD_SHA).conclusion.as_deref(), Some("success"));
}
