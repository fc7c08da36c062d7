//! `engine::commit_files`: a full commit sha's file is read from GitHub
//! once; a branch or tag name, whose target moves, every time.

use super::{BASE_SHA, pull};
use crate::engine::commit_files::CommitFiles;
use crate::engine::reads::memory::MemoryReads;
use crate::github::FileRead;

fn github() -> MemoryReads {
    let mut github = MemoryReads::new(pull());
    github
        .contents
        .insert(("VERSION".into(), BASE_SHA.into()), "1.4.2\n".into());
    github
        .contents
        .insert(("VERSION".into(), "main".into()), "1.4.3\n".into());
    github
}

#[tokio::test]
async fn a_commit_sha_is_read_once_and_a_branch_name_every_time() {
    let (files, github) = (CommitFiles::default(), github());
    for _ in 0..3 {
        let read = files.get(&github, "VERSION", BASE_SHA).await;
        assert_eq!(read.ok(), Some(FileRead::Text("1.4.2\n".into())));
    }
    // The same commit spelled in upper case is the same key.
    let upper = files
        .get(&github, "VERSION", &BASE_SHA.to_ascii_uppercase())
        .await;
    assert_eq!(upper.ok(), Some(FileRead::Text("1.4.2\n".into())));
    assert_eq!(
        github.calls_to("read_file"),
        vec![format!("read_file VERSION {BASE_SHA}")],
        "one request for the commit, then memory"
    );
    for _ in 0..2 {
        let read = files.get(&github, "VERSION", "main").await;
        assert_eq!(read.ok(), Some(FileRead::Text("1.4.3\n".into())));
    }
    assert_eq!(
        github.calls_to("read_file").len(),
        3,
        "a branch name is read every time: {:?}",
        github.calls()
    );
}
