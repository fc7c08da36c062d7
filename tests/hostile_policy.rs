//! A policy file is input too: the one on a pull request's head is written
//! by whoever opened it, and is only validated, never obeyed. Its size and
//! what its patterns compile to are bounded, with the same limits (and a
//! clear error) for the default branch's policy.

use crate::common;

use common::harness::{HEAD_SHA, Harness, POLICY, POLICY_PATH, REPO};

fn annotations(h: &Harness) -> Vec<String> {
    h.check(HEAD_SHA)
        .annotations
        .iter()
        .map(|a| a["message"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The pull request edits the policy file into `text`.
async fn head_policy(text: &str) -> Harness {
    let h = Harness::start().await;
    let pull = h.p0();
    h.seed(POLICY, &pull);
    h.label_events_by(&pull, "dana");
    h.gh.set_file(REPO, HEAD_SHA, POLICY_PATH, text);
    h.gh.set_pull_files(
        REPO,
        pull.number,
        [("src/fix.rs", 3, 1), (POLICY_PATH, 5, 30)],
    );
    h.pull_request("opened", pull.number).await;
    h
}

#[tokio::test]
async fn a_head_policy_over_64_kib_is_not_read_and_the_annotation_says_so() {
    // 900 KB: one huge title pattern.
    let text = format!(
        "version: 1\nchecks:\n  title_pattern: \"{}\"\n",
        "(a|b)".repeat(180_000)
    );
    let h = head_policy(&text).await;
    let notes = annotations(&h);
    assert_eq!(notes.len(), 1, "{notes:#?}");
    assert_eq!(
        notes[0],
        format!(
            "1:1: the policy file is {} bytes; hotfix-guard reads at most 65536 (64 KiB), so it was not read",
            text.len()
        )
    );
    // Judged by the default branch's policy all the same.
    let title = h.check(HEAD_SHA).title.unwrap_or_default();
    assert!(title.contains("engineering-lead"), "{title}");
}

#[tokio::test]
async fn a_head_pattern_that_compiles_too_large_is_refused_with_its_line() {
    // Twelve characters, megabytes compiled: within the regex crate's own
    // default limit (10 MiB), beyond the policy's (1 MiB).
    let text = "version: 1\nchecks:\n  title_pattern: '[a-z]{50000}'\n";
    let h = head_policy(text).await;
    let notes = annotations(&h);
    assert_eq!(notes.len(), 1, "{notes:#?}");
    assert!(
        notes[0].starts_with("3:18: invalid title_pattern: the pattern is too large"),
        "{notes:#?}"
    );
}

#[tokio::test]
async fn a_default_branch_policy_over_64_kib_fails_the_check_naming_the_limit() {
    let h = Harness::start().await;
    let pull = h.p0();
    let padded = format!("{POLICY}{}", "# padding\n".repeat(7_000));
    h.seed(&padded, &pull);
    h.label_events_by(&pull, "dana");
    h.pull_request("opened", pull.number).await;
    let run = h.check(HEAD_SHA);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    let summary = run.summary.unwrap_or_default();
    assert!(
        summary.contains(&format!(
            "the policy file is {} bytes; hotfix-guard reads at most 65536 (64 KiB)",
            padded.len()
        )),
        "{summary}"
    );
}

/// A default-branch policy too large to download (GitHub's `size` of
/// 3,000,000 bytes, `content` empty): never downloaded, and the check
/// fails naming the policy's own limit, as for one read whole.
/// Checked that the test can fail: with `policy_cache::read_policy`
/// treating it like any file that is not text, the evaluation fails
/// ("could not evaluate").
#[tokio::test]
async fn a_default_branch_policy_too_large_to_download_fails_the_check_naming_the_limit() {
    let h = Harness::start().await;
    let pull = h.p0();
    h.seed(POLICY, &pull);
    h.label_events_by(&pull, "dana");
    h.gh.fail_next_with_body(
        "GET",
        &format!("/contents/{POLICY_PATH}"),
        200,
        Vec::new(),
        serde_json::json!({"type": "file", "name": "hotfix-policy.yml", "path": POLICY_PATH,
                           "size": 3_000_000, "encoding": "none", "content": ""}),
        100,
    );
    h.pull_request("opened", pull.number).await;
    let run = h.check(HEAD_SHA);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    let summary = run.summary.unwrap_or_default();
    assert!(
        summary.contains(
            "the policy file is 3000000 bytes; hotfix-guard reads at most 65536 (64 KiB)"
        ),
        "{summary}"
    );
}
