//! The critical path of an evaluation, measured (issue 13, "a concurrent
//! gather"): the real app (`App::start`) against the fake GitHub answering
//! every request after the same fixed delay, no debounce. For each case it
//! reports the time from sending the signed delivery to the moment GitHub
//! (the fake) answered the check run's write, that time divided by the
//! delay (the round trips on the critical path), and the API calls the
//! evaluation made: up to the check run's write and in all, 304 answers
//! counted apart (GitHub does not charge them against the rate limit).
//!
//! Ignored by default (it takes seconds and prints figures rather than
//! judging them); `scripts/critical-path.sh` runs it and
//! `docs/critical-path.md` records the figures.
//!
//! `CRITICAL_PATH_DELAY_MS` (default 100) sets the delay;
//! `CRITICAL_PATH_IN_FLIGHT` the requests one installation may have in
//! flight (default: the app's); `CRITICAL_PATH_CALLS=1` lists each case's
//! calls.

use crate::common;

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::Value;

use common::fake_github::{FakeGitHub, PullSeed, Recorded};
use common::harness::{Harness, POLICY, REPO};
use common::webhook::{PrSpec, ReviewSpec, pull_request_event, review_event};

/// What one case cost.
struct Figures {
    case: &'static str,
    /// Delivery sent → check run written (GitHub's answer to the write).
    to_check_run: Duration,
    /// Calls charged by GitHub up to and including the check run's write,
    /// and 304 answers among the requests up to then.
    calls_to_run: usize,
    not_modified_to_run: usize,
    /// The same over the whole evaluation (the sticky comment and the rest).
    calls: usize,
    not_modified: usize,
    listed: Vec<String>,
}

fn is_token(r: &Recorded) -> bool {
    r.method == "POST" && r.path.ends_with("/access_tokens")
}

fn is_check_run_write(r: &Recorded) -> bool {
    (r.method == "POST" && r.path.ends_with("/check-runs"))
        || (r.method == "PATCH" && r.path.contains("/check-runs/"))
}

fn charged(requests: &[Recorded]) -> (usize, usize) {
    let calls = requests
        .iter()
        .filter(|r| r.status != 304 && !is_token(r))
        .count();
    let not_modified = requests.iter().filter(|r| r.status == 304).count();
    (calls, not_modified)
}

/// Sends one signed delivery and times it to the check run's write.
async fn measure(h: &Harness, case: &'static str, event: &str, payload: &Value) -> Figures {
    let before = h.gh.requests().len();
    let started = Instant::now();
    assert_eq!(h.deliver(event, payload).await, StatusCode::ACCEPTED);
    let (to_check_run, upto) = loop {
        let requests = h.gh.requests();
        if let Some(i) = requests[before..].iter().position(is_check_run_write) {
            break (started.elapsed(), before + i + 1);
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{case}: no check run written within a minute: {:#?}",
            &requests[before..]
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    };
    h.settle().await;
    let requests = h.gh.requests();
    let (calls_to_run, not_modified_to_run) = charged(&requests[before..upto]);
    let (calls, not_modified) = charged(&requests[before..]);
    Figures {
        case,
        to_check_run,
        calls_to_run,
        not_modified_to_run,
        calls,
        not_modified,
        listed: requests[before..]
            .iter()
            .map(|r| format!("{} {} {}", r.status, r.method, r.path))
            .collect(),
    }
}

fn opened(h: &Harness, number: u64) -> Value {
    let seed = h.gh.pull(REPO, number).expect("seeded pull request");
    let mut payload = pull_request_event("opened", &PrSpec::from_seed(REPO, &seed, 1));
    if let Some((files, additions, deletions)) = h.gh.pull_totals(REPO, number) {
        payload["pull_request"]["changed_files"] = files.into();
        payload["pull_request"]["additions"] = additions.into();
        payload["pull_request"]["deletions"] = deletions.into();
    }
    payload
}

/// GitHub's `check_suite` `requested` for a freshly pushed head (no runs
/// yet), delivered before the pull request's `opened` as on a push: with
/// it, the first check-run write needs no lookup (see docs/store.md).
/// Without it (a fork's head, an old commit, a lost store) the lookup adds
/// one round trip.
async fn fresh_suite(h: &Harness, sha: &str, head_branch: &str) {
    let payload = common::webhook::check_suite_requested(REPO, sha, head_branch, 1, 0);
    assert_eq!(h.deliver("check_suite", &payload).await, StatusCode::OK);
}

fn plain(h: &Harness, number: u64) -> PullSeed {
    PullSeed {
        number,
        head_ref: format!("feature/search-{number}"),
        head_sha: format!("{number:0>40}"),
        labels: vec!["enhancement".into()],
        ..h.p0()
    }
}

/// The three cases on a fresh app and fake GitHub, every request answered
/// after `delay`, at most `in_flight` requests per installation at once
/// (`None`: the app's default).
async fn scenario(delay: Duration, in_flight: Option<usize>) -> Vec<Figures> {
    let h = Harness::on(FakeGitHub::start().await).await;
    if let Some(limit) = in_flight {
        h.app.github.limit_requests_in_flight(limit);
    }
    // Commit shas as GitHub spells them (hex): what is known of a commit
    // is remembered by its sha.
    let p0 = PullSeed {
        head_sha: "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1".into(),
        ..h.p0()
    };
    h.seed(POLICY, &p0);
    h.label_events_by(&p0, "dana");
    for number in [50, 3] {
        let pull = plain(&h, number);
        h.gh.add_pull(REPO, pull);
        h.gh.set_pull_files(REPO, number, [("src/search.rs", 10, 2)]);
    }
    // Warm up: the installation token and the policy are cached (they are
    // read once per hour and per policy change, not per evaluation).
    assert_eq!(h.pull_request("opened", 50).await, StatusCode::ACCEPTED);
    h.gh.delay_next("*", "", delay, usize::MAX);

    let mut figures = Vec::new();
    fresh_suite(&h, &p0.head_sha, &p0.head_ref).await;
    figures.push(
        measure(
            &h,
            "first P0 evaluation",
            "pull_request",
            &opened(&h, p0.number),
        )
        .await,
    );
    let run = h.check(&p0.head_sha);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    let title = run.title.unwrap_or_default();
    assert!(
        title.contains("engineering-lead") && title.contains("on-call-manager"),
        "{title}"
    );

    // alice holds engineering-lead by name; on-call-manager still missing.
    h.gh.add_review(REPO, p0.number, "alice", "APPROVED", &p0.head_sha);
    let review = ReviewSpec::approved(101, "alice", &p0.head_sha);
    let payload = review_event("submitted", &PrSpec::from_seed(REPO, &p0, 1), &review);
    figures.push(
        measure(
            &h,
            "re-evaluation after a review",
            "pull_request_review",
            &payload,
        )
        .await,
    );
    let title = h.check(&p0.head_sha).title.unwrap_or_default();
    assert!(
        title.contains("on-call-manager") && !title.contains("engineering-lead"),
        "{title}"
    );

    // oncall-olga holds on-call-manager through the acme/on-call team: her
    // membership is read before her write access (a chain of two).
    h.gh.add_review(REPO, p0.number, "oncall-olga", "APPROVED", &p0.head_sha);
    let review = ReviewSpec::approved(102, "oncall-olga", &p0.head_sha);
    let payload = review_event("submitted", &PrSpec::from_seed(REPO, &p0, 1), &review);
    figures.push(
        measure(
            &h,
            "re-evaluation after a team member's review",
            "pull_request_review",
            &payload,
        )
        .await,
    );
    let run = h.check(&p0.head_sha);
    assert_eq!(run.conclusion.as_deref(), Some("success"), "{run:#?}");

    let pull = plain(&h, 3);
    fresh_suite(&h, &pull.head_sha, &pull.head_ref).await;
    figures.push(
        measure(
            &h,
            "first non-hotfix evaluation",
            "pull_request",
            &opened(&h, 3),
        )
        .await,
    );
    let run = h.check(&plain(&h, 3).head_sha);
    assert_eq!(run.conclusion.as_deref(), Some("neutral"));
    figures
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: scripts/critical-path.sh"]
async fn critical_path() {
    let delay = Duration::from_millis(env_u64("CRITICAL_PATH_DELAY_MS").unwrap_or(100));
    let in_flight = env_u64("CRITICAL_PATH_IN_FLIGHT").map(|n| n as usize);
    let limit = in_flight.map_or("the app's default".to_string(), |n| n.to_string());
    // The app's own time (store, rendering, the fake's), with GitHub
    // answering at once: what is left of a case's time is the round trips.
    let own = scenario(Duration::ZERO, in_flight).await;
    let timed = scenario(delay, in_flight).await;
    println!(
        "\ndelay {} ms, requests in flight per installation: {limit}",
        delay.as_millis()
    );
    println!(
        "| case | delivery → check run | with GitHub answering at once | round trips (time / delay) | round trips beyond the app's own time | calls to the run (+304) | calls in all (+304) |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (f, zero) in timed.iter().zip(&own) {
        let beyond = f.to_check_run.saturating_sub(zero.to_check_run);
        println!(
            "| {} | {} ms | {} ms | {:.1} | {:.1} | {} (+{}) | {} (+{}) |",
            f.case,
            f.to_check_run.as_millis(),
            zero.to_check_run.as_millis(),
            f.to_check_run.as_secs_f64() / delay.as_secs_f64(),
            beyond.as_secs_f64() / delay.as_secs_f64(),
            f.calls_to_run,
            f.not_modified_to_run,
            f.calls,
            f.not_modified,
        );
    }
    if std::env::var("CRITICAL_PATH_CALLS").is_ok_and(|v| v == "1") {
        for f in &timed {
            println!("\n{}:", f.case);
            for line in &f.listed {
                println!("  {line}");
            }
        }
    }
}
