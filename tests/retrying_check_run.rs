//! What the `hotfix-policy` check run shows while an evaluation fails and
//! is retried from the store: the older verdict must not stand (a required
//! `success` would let the pull request merge while the evaluation that
//! would replace it keeps failing), a run already failing takes no more
//! writes, and the verdict comes back once GitHub answers. Signed
//! deliveries to the real router, the real client against the fake GitHub;
//! assertions on the check-run writes the fake received, in order.

use crate::common;

use std::time::Duration;

use common::attacks::{text_concluded, text_of};
use common::fake_github::PullSeed;
use common::harness::{HEAD_SHA, Harness, POLICY, REPO};
use common::pages::review;

/// One write of a check run the fake took (`POST …/check-runs` or
/// `PATCH …/check-runs/{id}`, answered 2xx): its conclusion, title and
/// summary as sent.
#[derive(Debug)]
struct RunWrite {
    conclusion: String,
    title: String,
    summary: String,
}

/// The check-run writes the fake took from request `from` on.
fn run_writes(h: &Harness, from: usize) -> Vec<RunWrite> {
    h.gh.requests()
        .into_iter()
        .skip(from)
        .filter(|r| {
            r.status < 300
                && ((r.method == "POST" && r.path.ends_with("/check-runs"))
                    || (r.method == "PATCH" && r.path.contains("/check-runs/")))
        })
        .map(|r| {
            let body = r.json();
            let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
            RunWrite {
                conclusion: text(&body["conclusion"]),
                title: text(&body["output"]["title"]),
                summary: text(&body["output"]["summary"]),
            }
        })
        .collect()
}

/// Requests answered `status` from request `from` on.
fn answered(h: &Harness, from: usize, status: u16) -> usize {
    h.gh.requests()
        .into_iter()
        .skip(from)
        .filter(|r| r.status == status)
        .count()
}

/// The P0 #7, labelled by dana, opened and evaluated (no approvals yet:
/// `failure`, waiting for both roles).
async fn opened_p0() -> (Harness, PullSeed) {
    opened_p0_with(POLICY, |_| ()).await
}

/// [`opened_p0`] under `policy`, with `prepare` run on the seeded fake
/// before the pull request opens.
async fn opened_p0_with(policy: &str, prepare: impl FnOnce(&Harness)) -> (Harness, PullSeed) {
    let h = Harness::start().await;
    let pull = h.p0();
    h.seed(policy, &pull);
    prepare(&h);
    h.label_events_by(&pull, "dana");
    h.clock.set(pull.created_at);
    h.pull_request("opened", pull.number).await;
    let run = h.check(HEAD_SHA);
    assert_eq!(
        run.conclusion.as_deref(),
        Some("failure"),
        "precondition: {}",
        text_of(&run)
    );
    (h, pull)
}

/// As [`opened_p0`], then approved by review by alice (engineering lead)
/// and olga (on-call): `success`.
async fn approved_p0() -> (Harness, PullSeed) {
    approved_p0_with(POLICY, |_| ()).await
}

/// [`approved_p0`] as [`opened_p0_with`] (`prepare` must make every other
/// requirement hold).
async fn approved_p0_with(policy: &str, prepare: impl FnOnce(&Harness)) -> (Harness, PullSeed) {
    let (h, pull) = opened_p0_with(policy, prepare).await;
    review(&h, &pull, "alice", "APPROVED", 1).await;
    review(&h, &pull, "oncall-olga", "APPROVED", 2).await;
    let run = h.check(HEAD_SHA);
    assert_eq!(
        run.conclusion.as_deref(),
        Some("success"),
        "precondition: {}",
        text_of(&run)
    );
    (h, pull)
}

/// A run showing `success`: the first failed try (the timeline answered
/// 502 to each of the client's four attempts) turns it into "could not
/// evaluate this pull request yet", naming the error and the wait, before
/// the retry; the retry, with GitHub answering, writes `success` again.
///
/// Checked that the test can fail: with `finish_failed` writing nothing on
/// a retried failure (as before this change) the only write is none at all
/// (the retry's `success` is unchanged), and the first assertion fails.
#[tokio::test]
async fn a_passing_run_says_could_not_evaluate_yet_after_a_failed_try_and_passes_again_once_github_answers()
 {
    let (h, pull) = approved_p0().await;
    let passed = h.check(HEAD_SHA);
    let from = h.gh.requests().len();
    h.gh.fail_next("GET", "/timeline", 502, vec![], 4);
    h.pull_request("labeled", pull.number).await;

    assert_eq!(
        answered(&h, from, 502),
        4,
        "one try failed, the next did not"
    );
    let writes = run_writes(&h, from);
    assert_eq!(writes.len(), 2, "{writes:#?}");
    let (during, after) = (&writes[0], &writes[1]);
    assert_eq!(during.conclusion, "failure", "{during:#?}");
    assert_eq!(
        during.title, "hotfix-guard could not evaluate this pull request yet",
        "{during:#?}"
    );
    assert!(
        during
            .summary
            .starts_with("The evaluation could not finish: ")
            && during.summary.contains("502")
            && during
                .summary
                .contains("this check fails rather than keep an older verdict")
            && during.summary.contains("It will be tried again in "),
        "names the error and when it is tried again: {}",
        during.summary
    );
    assert_eq!(after.conclusion, "success", "{after:#?}");
    assert_eq!(Some(&after.title), passed.title.as_ref(), "{after:#?}");

    let run = h.check(HEAD_SHA);
    assert_eq!(
        run.conclusion.as_deref(),
        Some("success"),
        "{}",
        text_of(&run)
    );
    assert_eq!(run.title, passed.title);
    assert_eq!(run.external_id.as_deref(), Some("hotfix-pr:7"));
}

/// A run already showing `failure` (the P0 waits for its approvals): three
/// tries fail, the fourth completes with the same verdict. Not one write
/// of the check run: no placeholder over a failure, and the unchanged
/// verdict costs none.
///
/// Checked that the test can fail: with the placeholder written whatever
/// the run shows (`keep_failure` ignored in `publish::unevaluated::plan`),
/// two writes are counted here (the placeholder, then the verdict back).
#[tokio::test]
async fn a_failing_run_takes_no_write_while_the_evaluation_is_retried() {
    let (h, pull) = opened_p0().await;
    let failed = h.check(HEAD_SHA);
    let from = h.gh.requests().len();
    h.gh.fail_next("GET", "/timeline", 502, vec![], 12);
    h.pull_request("labeled", pull.number).await;

    assert_eq!(answered(&h, from, 502), 12, "three tries failed");
    let writes = run_writes(&h, from);
    assert!(writes.is_empty(), "{writes:#?}");
    let run = h.check(HEAD_SHA);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    assert_eq!(run.title, failed.title, "{}", text_of(&run));
    assert_eq!(run.update_count, failed.update_count);
}

/// GitHub down through every try, from `success`: the first failed try
/// writes the "yet" failure, the three retries after it write nothing (the
/// record says `failure`), and the last says the tries are used up. Two
/// writes in all.
///
/// Checked that the test can fail: with the placeholder written whatever
/// the run shows, three are counted (a second placeholder once the wait it
/// names reads differently: "under a second", then "3s").
#[tokio::test]
async fn an_outage_through_every_try_writes_the_run_twice() {
    let (h, pull) = approved_p0().await;
    let from = h.gh.requests().len();
    h.gh.fail_next("GET", "/timeline", 502, vec![], 1_000);
    h.pull_request("labeled", pull.number).await;

    let tries = hotfix_guard::app::MAX_ATTEMPTS as usize;
    assert_eq!(answered(&h, from, 502), 4 * tries);
    let writes = run_writes(&h, from);
    let titles: Vec<&str> = writes.iter().map(|w| w.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "hotfix-guard could not evaluate this pull request yet",
            "hotfix-guard could not evaluate this pull request",
        ],
        "{writes:#?}"
    );
    let run = h.check(HEAD_SHA);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    let summary = run.summary.clone().unwrap_or_default();
    assert!(
        summary.starts_with(&format!(
            "The evaluation failed {tries} times; the last error: "
        )) && summary.contains("502")
            && summary.contains("It will run again on the next change"),
        "{summary}"
    );
}

/// A comment that is not the approval command, on an approved P0, meets a
/// cold policy cache (a restarted instance) and a policy read that fails:
/// the try fails before the comment is known not to be the command, and
/// the run says "could not evaluate yet". The retry must not end at "not
/// the command" with that failure left standing: it evaluates fully and
/// writes `success` again.
///
/// Checked that the test can fail: with `app::retried` returning the job
/// as claimed, the run stays "could not evaluate this pull request yet".
#[tokio::test]
async fn a_retried_comment_that_is_not_the_command_still_replaces_the_failure() {
    let (h, pull) = approved_p0().await;
    let database_url = h.database_url.clone();
    let gh = h.gh.clone();
    let Harness { app, .. } = h;
    assert!(app.drain(Duration::from_secs(5)).await);
    let h = Harness::with_store(gh, database_url).await;

    let from = h.gh.requests().len();
    h.gh.fail_next("GET", "hotfix-policy.yml", 502, vec![], 4);
    common::attacks::comment(
        &h,
        pull.number,
        "bob",
        "looks fine to me",
        pull.created_at + chrono::Duration::minutes(3),
    )
    .await;

    assert_eq!(answered(&h, from, 502), 4, "the policy read failed once");
    let titles: Vec<String> = run_writes(&h, from).into_iter().map(|w| w.title).collect();
    assert_eq!(
        titles.first().map(String::as_str),
        Some("hotfix-guard could not evaluate this pull request yet"),
        "{titles:?}"
    );
    let run = h.check(HEAD_SHA);
    assert_eq!(
        run.conclusion.as_deref(),
        Some("success"),
        "{}",
        text_of(&run)
    );
}

/// A pull request that is not a hotfix, whose first evaluation fails (no
/// run on its head yet): the placeholder creates the run, and the retry's
/// `neutral` ("not a hotfix") must be able to replace it. A not-a-hotfix
/// verdict never replaces a `failure` that names no pull request (that
/// could be the direct-push audit's), so the placeholder names this one.
///
/// Checked that the test can fail: with `publish::unevaluated::plan`
/// keeping the run's name (none) over a new run, the run stays "could not
/// evaluate this pull request yet" (`failure`) after the retry.
#[tokio::test]
async fn a_first_evaluation_that_fails_leaves_a_run_the_next_verdict_replaces() {
    let h = Harness::start().await;
    let pull = PullSeed {
        labels: Vec::new(),
        head_ref: "feature/login-copy".into(),
        ..h.p0()
    };
    h.seed(POLICY, &pull);
    h.clock.set(pull.created_at);
    h.gh.fail_next("GET", "/timeline", 502, vec![], 4);
    h.pull_request("opened", pull.number).await;

    assert_eq!(answered(&h, 0, 502), 4, "one try failed, the next did not");
    let writes = run_writes(&h, 0);
    let shown: Vec<(&str, &str)> = writes
        .iter()
        .map(|w| (w.conclusion.as_str(), w.title.as_str()))
        .collect();
    assert_eq!(
        shown.first(),
        Some(&(
            "failure",
            "hotfix-guard could not evaluate this pull request yet"
        )),
        "{writes:#?}"
    );
    let run = h.check(HEAD_SHA);
    assert_eq!(
        run.conclusion.as_deref(),
        Some("neutral"),
        "{}",
        text_of(&run)
    );
    assert_eq!(run.external_id.as_deref(), Some("pr:7"));
}

/// GitHub's `status` delivery for `context` on `sha` (a commit status: it
/// names no pull request), on a real push delivery's repository, sender
/// and installation.
fn status_event(sha: &str, context: &str, state: &str) -> serde_json::Value {
    let base = common::webhook::push_event(REPO, "refs/heads/main", &["x"], 1);
    serde_json::json!({
        "id": 9001, "sha": sha, "name": REPO, "target_url": null,
        "context": context, "description": null, "state": state,
        "commit": {"sha": sha}, "branches": [],
        "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
        "repository": base["repository"],
        "sender": base["sender"],
        "installation": base["installation"],
    })
}

/// The P0 requires the `ci/build` status and passes; the status turns
/// `failure`. A status names no pull request, so the repository's commit
/// job asks GitHub for the commit's pull requests, and that read fails on
/// every try. The job's failure must not leave the older `success`
/// standing: the pull request whose verdict the store records on that
/// commit's run is evaluated in its own job, which reads the red status.
///
/// Checked that the test can fail: with `route_failed_commits` returning
/// at once, the run stays `success` ("all requirements met").
#[tokio::test]
async fn a_failing_commit_job_still_re_evaluates_the_hotfix_on_that_commit() {
    let policy = POLICY.replace(
        "    follow_up: { title: Post-incident review, within: 24h }\n",
        "    follow_up: { title: Post-incident review, within: 24h }\n    require_checks: [ci/build]\n",
    );
    assert_ne!(policy, POLICY);
    let (h, _pull) = approved_p0_with(&policy, |h| {
        h.gh.add_status(REPO, HEAD_SHA, "ci/build", "success", "ci-bot")
    })
    .await;

    let from = h.gh.requests().len();
    h.gh.fail_next(
        "GET",
        &format!("/commits/{HEAD_SHA}/pulls"),
        502,
        vec![],
        1_000,
    );
    h.gh.add_status(REPO, HEAD_SHA, "ci/build", "failure", "ci-bot");
    assert_eq!(
        h.deliver("status", &status_event(HEAD_SHA, "ci/build", "failure"))
            .await,
        axum::http::StatusCode::ACCEPTED
    );
    h.settle().await;

    let tries = hotfix_guard::app::MAX_ATTEMPTS as usize;
    assert_eq!(
        answered(&h, from, 502),
        4 * tries,
        "every try of the commit job failed"
    );
    let text = text_concluded(&h, HEAD_SHA, "failure");
    assert!(text.contains("ci/build"), "{text}");
    assert!(!text.contains("could not evaluate"), "{text}");
}

/// The P0 #7 shares its head with its author's approved P2 twin #9, which
/// passes (`ci/build` green); #7's evaluation fails on every try, and its
/// placeholder names it `pr:7`. GitHub answers #7's reads again; then
/// `ci/build` turns red and the repository's commit job fails on every
/// try. The P0 must still be evaluated in its own job: the store records
/// it as never judged on that commit (`commit_verdicts`), though the run
/// names no `hotfix-pr:N`.
///
/// Checked that the test can fail: without `route_failed_commits` reading
/// `commit_verdicts`, the run keeps the placeholder ("could not
/// evaluate", `pr:7`).
#[tokio::test]
async fn a_failing_commit_job_evaluates_the_pull_request_never_judged_on_that_commit() {
    let policy = POLICY.replace(
        "    follow_up: { title: Post-incident review, within: 24h }\n",
        "    follow_up: { title: Post-incident review, within: 24h }\n    require_checks: [ci/build]\n",
    );
    assert_ne!(policy, POLICY);
    let (h, pull) = common::attacks::p0_under(&policy).await;
    h.gh.add_status(REPO, HEAD_SHA, "ci/build", "success", "ci-bot");
    common::twins::approved_p2_twin(&h, "dana");
    h.pull_request("opened", common::twins::TWIN).await;
    assert_eq!(h.check(HEAD_SHA).conclusion.as_deref(), Some("success"));
    let timeline = format!("/issues/{}/timeline", pull.number);
    h.gh.fail_next("GET", &timeline, 502, vec![], 1_000);
    h.pull_request("opened", pull.number).await;
    let run = h.check(HEAD_SHA);
    assert_eq!(
        run.external_id.as_deref(),
        Some("pr:7"),
        "precondition: the placeholder: {}",
        text_of(&run)
    );

    assert!(h.gh.recover(&timeline) > 0);
    h.gh.fail_next(
        "GET",
        &format!("/commits/{HEAD_SHA}/pulls"),
        502,
        vec![],
        1_000,
    );
    h.gh.add_status(REPO, HEAD_SHA, "ci/build", "failure", "ci-bot");
    assert_eq!(
        h.deliver("status", &status_event(HEAD_SHA, "ci/build", "failure"))
            .await,
        axum::http::StatusCode::ACCEPTED
    );
    h.settle().await;
    let run = h.check(HEAD_SHA);
    let text = text_of(&run);
    assert_eq!(run.conclusion.as_deref(), Some("failure"), "{text}");
    assert_eq!(run.external_id.as_deref(), Some("hotfix-pr:7"), "{text}");
    assert!(!text.contains("could not evaluate"), "{text}");
}
