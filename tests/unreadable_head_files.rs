//! A file the pull request's author controls at the head that is not a
//! readable text file (a directory, a symbolic link, a submodule, bytes
//! that are not UTF-8) is a fact the report names, never a failed
//! evaluation; and the deadline is watched from the designation (labels,
//! who applied them, their write access) before the reads a pull request's
//! content could break, so that an evaluation failing for any reason still
//! leaves it watched. Signed deliveries to the real router; the real
//! client talks to the fake GitHub.

use crate::common;

use common::attacks::text_of;
use common::harness::HEAD_SHA;
use common::head_files::assert_watched_and_escalated;
use serde_json::json;

/// `head_files::p0_with_head_answer(path, answer)`: the harness's P0
/// (#7), opened after another hotfix on the same base (#8) was evaluated,
/// so that the base's files are read already and only #7's head is asked
/// for; GitHub answers every later read of `path` with `answer`. Answers
/// the check run of #7's head.
async fn p0_with_head_answer(
    path: &str,
    answer: serde_json::Value,
) -> (
    common::harness::Harness,
    u64,
    common::fake_github::CheckRunRec,
) {
    let (h, pull) = common::head_files::p0_with_head_answer(path, Some(answer)).await;
    let run = h.check(HEAD_SHA);
    (h, pull.number, run)
}

/// A head `VERSION` that is a symbolic link or a submodule: the version
/// rule fails naming the file, the side and what it is.
#[tokio::test]
async fn a_head_version_file_that_is_a_symlink_or_submodule_is_named() {
    for (kind, what) in [("symlink", "a symbolic link"), ("submodule", "a submodule")] {
        let (_h, _, run) = p0_with_head_answer(
            "VERSION",
            json!({"type": kind, "name": "VERSION", "path": "VERSION", "size": 0,
                   "target": "/etc/passwd", "submodule_git_url": "https://example.com/x.git"}),
        )
        .await;
        let text = text_of(&run);
        assert_eq!(run.conclusion.as_deref(), Some("failure"), "{text}");
        assert!(text.contains("VERSION unreadable"), "{text}");
        assert!(
            text.contains(&format!(
                "`VERSION` at the head is not a text file: it is {what}; the version file must be a regular UTF-8 text file"
            )),
            "{text}"
        );
    }
}

/// A head `VERSION` whose bytes are not UTF-8.
#[tokio::test]
async fn a_head_version_file_that_is_not_utf8_is_named() {
    let (_h, _, run) = p0_with_head_answer(
        "VERSION",
        json!({"type": "file", "name": "VERSION", "path": "VERSION", "size": 7,
               "encoding": "base64", "content": "MS4yLjT/Cg=="}),
    )
    .await;
    let text = text_of(&run);
    assert!(
        text.contains(
            "`VERSION` at the head is not a text file: it is a file whose bytes are not UTF-8 text"
        ),
        "{text}"
    );
}

/// A head `VERSION` of 5 MB (GitHub serves files up to 100 MB; its JSON
/// answer over 1 MB carries the `size` and an empty `content`): the
/// version rule fails naming its size, and the file is never downloaded
/// (no raw read of it: one contents request at the head's sha).
#[tokio::test]
async fn a_head_version_file_too_large_to_read_is_named_not_downloaded() {
    let (h, _, run) = p0_with_head_answer(
        "VERSION",
        json!({"type": "file", "name": "VERSION", "path": "VERSION", "size": 5_242_880,
               "encoding": "none", "content": ""}),
    )
    .await;
    let text = text_of(&run);
    assert_eq!(run.conclusion.as_deref(), Some("failure"), "{text}");
    assert!(!text.contains("could not evaluate"), "{text}");
    assert!(text.contains("VERSION too large"), "{text}");
    assert!(
        text.contains(
            "`VERSION` at the head is 5242880 bytes; hotfix-guard reads a version file of at most 1000000 bytes (1 MB), so it was not read"
        ),
        "{text}"
    );
    let head_reads =
        h.gh.requests()
            .iter()
            .filter(|r| r.path.ends_with("/contents/VERSION") && r.query.contains(HEAD_SHA))
            .count();
    assert_eq!(head_reads, 1, "the JSON answer only, no raw download");
}

/// The head's policy file of 2 MB: the edit gets an annotation naming its
/// size, never downloaded; the verdict is the default branch's policy's.
#[tokio::test]
async fn a_head_policy_file_too_large_to_read_gets_an_annotation() {
    let (_h, _, run) = p0_with_head_answer(
        ".github/hotfix-policy.yml",
        json!({"type": "file", "name": "hotfix-policy.yml", "path": ".github/hotfix-policy.yml",
               "size": 2_000_000, "encoding": "none", "content": ""}),
    )
    .await;
    let text = text_of(&run);
    assert!(!text.contains("could not evaluate"), "{text}");
    let messages: Vec<String> = run
        .annotations
        .iter()
        .map(|a| format!("{} {}", a["path"], a["message"]))
        .collect();
    assert!(
        messages.iter().any(|m| m.contains(
            "at the head is not a text file: it is a file of 2000000 bytes, more than the 1000000 (1 MB) hotfix-guard reads"
        )),
        "{messages:?}"
    );
}

/// The head's policy file a directory: the edit gets an annotation saying
/// the file is not readable text; the verdict is the default branch's
/// policy's, as always.
#[tokio::test]
async fn a_head_policy_file_that_is_a_directory_gets_an_annotation() {
    let (_h, _, run) = p0_with_head_answer(
        ".github/hotfix-policy.yml",
        json!([{"type": "file", "name": "x", "path": ".github/hotfix-policy.yml/x"}]),
    )
    .await;
    let text = text_of(&run);
    assert_eq!(run.conclusion.as_deref(), Some("failure"), "{text}");
    assert!(!text.contains("could not evaluate"), "{text}");
    let messages: Vec<String> = run
        .annotations
        .iter()
        .map(|a| format!("{} {}", a["path"], a["message"]))
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains(".github/hotfix-policy.yml")
                && m.contains(
                    "at the head is not a text file: it is a directory; the policy cannot be read"
                )),
        "{messages:?}"
    );
}

/// Defence in depth: an evaluation that fails after the designation was
/// read, on every try (here GitHub garbles the head `VERSION`'s base64,
/// an error, not a fact), still leaves the P0's deadline watched, and the
/// sweep posts the escalation when it passes.
#[tokio::test]
async fn an_evaluation_that_always_fails_after_the_labels_are_read_still_watches_the_deadline() {
    let (h, number, run) = p0_with_head_answer(
        "VERSION",
        json!({"type": "file", "name": "VERSION", "path": "VERSION", "size": 6,
               "encoding": "base64", "content": "!!not base64!!"}),
    )
    .await;
    let text = text_of(&run);
    assert!(
        text.contains("hotfix-guard could not evaluate this pull request"),
        "the evaluation failed: {text}"
    );
    assert_watched_and_escalated(&h, number, &text).await;
}
