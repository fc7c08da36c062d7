//! The concurrent gather (issue 13): reads that do not depend on each other
//! go out together, never more than four of one installation at once
//! (`github::in_flight`), and the evaluation reads exactly what it read
//! with one request at a time and reaches the same verdict. The fake GitHub
//! answers every request after a delay, so reads sent together overlap
//! there, and it records the most it was answering at once.

use crate::common;

use std::time::Duration;

use axum::http::StatusCode;
use common::fake_github::FakeGitHub;
use common::harness::{HEAD_SHA, Harness, POLICY, REPO};

/// Reviewers whose roles only team membership can give (none is named in
/// the policy): each needs a membership read per team of the P0's roles.
const REVIEWERS: [&str; 4] = ["erin", "frank", "gina", "oncall-olga"];

/// A P0 reviewed by `REVIEWERS`, evaluated with at most `in_flight`
/// requests at once (`None`: the app's default). Answers the sorted calls
/// and the check run's conclusion and title.
async fn evaluate(in_flight: Option<usize>) -> (Harness, Vec<String>, String, String) {
    let h = Harness::on(FakeGitHub::start().await).await;
    if let Some(limit) = in_flight {
        h.app.github.limit_requests_in_flight(limit);
    }
    let pull = h.p0();
    h.seed(POLICY, &pull);
    h.label_events_by(&pull, "dana");
    h.gh.add_team("acme", "eng-leads");
    for reviewer in REVIEWERS {
        h.gh.add_review(REPO, pull.number, reviewer, "APPROVED", HEAD_SHA);
    }
    // Every answer takes a while: reads sent together are answered
    // together.
    h.gh.delay_next("*", "", Duration::from_millis(150), usize::MAX);
    h.gh.clear_requests();
    h.gh.reset_most_in_flight();
    assert_eq!(
        h.pull_request("opened", pull.number).await,
        StatusCode::ACCEPTED
    );
    let mut calls: Vec<String> =
        h.gh.requests()
            .into_iter()
            .map(|r| format!("{} {}?{}", r.method, r.path, r.query))
            .collect();
    calls.sort();
    let run = h.check(HEAD_SHA);
    let conclusion = run.conclusion.unwrap_or_default();
    let title = run.title.unwrap_or_default();
    (h, calls, conclusion, title)
}

#[tokio::test]
async fn a_p0_sends_its_independent_reads_together_but_never_more_than_four_at_once() {
    let (h, calls, conclusion, title) = evaluate(None).await;
    // Two version files, dana's permission (she set the severity) and a
    // membership read per reviewer and team wait on nothing but the
    // timeline: eleven reads, four at a time.
    assert_eq!(h.gh.most_in_flight(), 4, "{calls:#?}");
    // oncall-olga fills on-call-manager through acme/on-call; nobody is an
    // engineering lead.
    assert_eq!(conclusion, "failure");
    assert!(
        title.contains("engineering-lead") && !title.contains("on-call-manager"),
        "{title}"
    );
    for team in ["eng-leads", "on-call"] {
        for reviewer in REVIEWERS {
            let read = format!("GET /orgs/acme/teams/{team}/memberships/{reviewer}?");
            assert_eq!(
                calls.iter().filter(|c| **c == read).count(),
                1,
                "{read} once: {calls:#?}"
            );
        }
    }
    // Only the team member's write access is read, after the memberships
    // said who she is: the others hold no role and cost nothing more.
    let permissions: Vec<&String> = calls.iter().filter(|c| c.contains("/permission")).collect();
    assert_eq!(
        permissions,
        [
            "GET /repos/octo/app/collaborators/dana/permission?",
            "GET /repos/octo/app/collaborators/oncall-olga/permission?",
        ],
        "{calls:#?}"
    );
}

#[tokio::test]
async fn one_request_at_a_time_reads_the_same_and_reaches_the_same_verdict() {
    let (one, calls_one, conclusion_one, title_one) = evaluate(Some(1)).await;
    assert_eq!(one.gh.most_in_flight(), 1, "{calls_one:#?}");
    let (together, calls, conclusion, title) = evaluate(None).await;
    assert!(together.gh.most_in_flight() > 1);
    // The same reads and writes (order aside: reads sent together arrive
    // in any order), the same verdict.
    assert_eq!(calls, calls_one);
    assert_eq!(conclusion, conclusion_one);
    assert_eq!(title, title_one);
}

/// A commit's files never change: read once, they are not asked for again
/// by later evaluations of the same commits, and a new head's are read.
#[tokio::test]
async fn a_commits_version_file_is_read_once_and_a_new_heads_is_read_again() {
    let h = Harness::start().await;
    let pull = common::fake_github::PullSeed {
        head_sha: "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1".into(),
        ..h.p0()
    };
    h.seed(POLICY, &pull);
    h.label_events_by(&pull, "dana");
    let version_reads = |h: &Harness| {
        h.gh.requests()
            .into_iter()
            .filter(|r| r.path.ends_with("/contents/VERSION"))
            .map(|r| r.query)
            .collect::<Vec<_>>()
    };
    h.pull_request("opened", pull.number).await;
    assert_eq!(version_reads(&h).len(), 2, "base and head");
    assert!(
        h.check(&pull.head_sha)
            .title
            .unwrap_or_default()
            .contains("approval")
    );

    h.gh.clear_requests();
    h.pull_request("synchronize", pull.number).await;
    assert_eq!(
        version_reads(&h),
        Vec::<String>::new(),
        "{:#?}",
        h.gh.requests()
    );

    // A push: the new head's VERSION is read (and says 1.2.3: no bump).
    let new_head = "a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2";
    h.gh.set_file(REPO, new_head, "VERSION", "1.2.3\n");
    h.gh.update_pull(REPO, pull.number, |p| p.head_sha = new_head.into());
    h.gh.clear_requests();
    h.pull_request("synchronize", pull.number).await;
    let reads = version_reads(&h);
    assert_eq!(reads.len(), 1, "{reads:?}");
    assert!(reads[0].contains(new_head), "{reads:?}");
    let run = h.check(new_head);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    let text = format!("{:?} {:?}", run.title, run.summary);
    assert!(text.contains("VERSION"), "{text}");
}

/// A release tag seen missing is not asked for again by the next
/// evaluation (it is remembered for ten minutes): a re-evaluation of a P0
/// sends no tag read. The first evaluation asks once.
#[tokio::test]
async fn a_missing_release_tag_is_asked_for_once_not_on_every_evaluation() {
    let h = Harness::start().await;
    let pull = h.p0();
    h.seed(POLICY, &pull);
    h.label_events_by(&pull, "dana");
    let tag_reads = |h: &Harness| {
        h.gh.requests()
            .into_iter()
            .filter(|r| r.path.contains("/git/ref/tags/"))
            .count()
    };
    h.pull_request("opened", pull.number).await;
    assert_eq!(tag_reads(&h), 1, "{:#?}", h.gh.requests());
    h.gh.clear_requests();
    h.pull_request("labeled", pull.number).await;
    assert_eq!(tag_reads(&h), 0, "{:#?}", h.gh.requests());
}
