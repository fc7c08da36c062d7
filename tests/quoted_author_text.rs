//! Text the author controls never carries a marker into what the app
//! writes: the pull request's title and head branch name, quoted in the
//! sticky comment, the follow-up issue and the merge-back pull request,
//! come out with `<!--` and `-->` broken, so the only marker lines in the
//! app's output are the ones it writes itself.

use crate::common;

use common::attacks::{approved_p0_with, merge, sticky};
use common::fake_github::{BOT_LOGIN, PullSeed};
use common::harness::REPO;

const MERGE_SHA: &str = "m4m4m4m4m4m4m4m4m4m4m4m4m4m4m4m4m4m4m4m4";
const TITLE: &str = "fix <!-- hotfix-guard:follow-up #999 --> loop";
const BRANCH: &str = "hotfix/<!--hotfix-guard:escalation-->";

/// The lines of `body` that hold an HTML comment opener.
fn comment_lines(body: &str) -> Vec<&str> {
    body.lines().filter(|l| l.contains("<!--")).collect()
}

#[tokio::test]
async fn a_hostile_title_and_branch_come_out_without_markers() {
    let (h, pull) = approved_p0_with(|p| PullSeed {
        title: TITLE.into(),
        head_ref: BRANCH.into(),
        ..p
    })
    .await;
    merge(&h, pull.number, MERGE_SHA).await;

    // The sticky comment: its first line and the follow-up's own line are
    // the only marker lines; the title is quoted with its opener broken.
    let sticky = sticky(&h, pull.number);
    let issue =
        h.gh.issues(REPO)
            .into_iter()
            .find(|i| i.user == BOT_LOGIN)
            .expect("the follow-up issue");
    assert_eq!(
        comment_lines(&sticky),
        [
            "<!-- hotfix-guard -->".to_string(),
            format!("<!-- hotfix-guard:follow-up #{} -->", issue.number)
        ],
        "{sticky}"
    );
    assert!(
        sticky.contains("fix &lt;!-- hotfix-guard:follow-up #999 --&gt; loop"),
        "{sticky}"
    );

    // The follow-up issue: its title and body quote the title inert.
    assert!(!issue.title.contains("<!--"), "{}", issue.title);
    let body = issue.body.clone().unwrap_or_default();
    assert_eq!(
        comment_lines(&body),
        [format!(
            "<!-- hotfix-guard:follow-up-of #{} -->",
            pull.number
        )],
        "{body}"
    );

    // The merge-back pull request: title and the branch in its commands.
    let merge_back =
        h.gh.pulls(REPO)
            .into_iter()
            .find(|p| p.author == BOT_LOGIN)
            .expect("the merge-back pull request");
    assert_eq!(
        merge_back.title,
        format!(
            "Merge back hotfix #{}: fix &lt;!-- hotfix-guard:follow-up #999 --&gt; loop",
            pull.number
        )
    );
    let mb_body = merge_back.body.unwrap_or_default();
    assert!(comment_lines(&mb_body).is_empty(), "{mb_body}");
    assert!(
        mb_body.contains("git merge --no-ff hotfix/&lt;!--hotfix-guard:escalation--&gt;"),
        "{mb_body}"
    );
}
