use std::time::Duration;

use chrono::{TimeDelta, Utc};

use super::testing::scratch;
use super::*;
use crate::events::{Job, PrKey, RepoName, Trigger};

fn key(number: u64) -> PrKey {
    PrKey {
        installation: 1,
        repo: RepoName {
            owner: "octo".into(),
            name: "app".into(),
        },
        number,
    }
}

fn job(number: u64, trigger: Trigger, delivery: &str) -> Job {
    Job {
        key: key(number),
        pull: None,
        trigger,
        deliveries: vec![delivery.to_string()],
    }
}

const LEASE: Duration = Duration::from_secs(30);

#[tokio::test]
async fn a_burst_for_one_pull_request_is_one_job_and_a_repeated_delivery_is_a_duplicate() {
    let store = scratch().await;
    let now = Utc::now();
    for i in 0..50 {
        let id = format!("d-{i}");
        let j = job(1, Trigger::Full, &id);
        let got = store
            .accept(Some(&id), &[j], &[], now, Duration::ZERO, 100)
            .await
            .expect("accepted");
        assert_eq!(got, Accepted::Queued);
    }
    let again = store
        .accept(
            Some("d-3"),
            &[job(2, Trigger::Full, "d-3")],
            &[],
            now,
            Duration::ZERO,
            100,
        )
        .await
        .expect("answered");
    assert_eq!(again, Accepted::Duplicate);
    let stats = store.job_stats(now).await.expect("stats");
    assert_eq!(stats.pending, 1, "pull request 2's job was not written");
    let claimed = store
        .claim("w1", now, LEASE)
        .await
        .expect("claim")
        .expect("a job");
    assert_eq!(claimed.job.key, key(1));
    assert_eq!(
        claimed.job.deliveries.len(),
        8,
        "the latest few ids are kept"
    );
    assert_eq!(
        claimed.job.deliveries.last().map(String::as_str),
        Some("d-49")
    );
    store.complete(&claimed).await.expect("completed");
    assert_eq!(store.job_stats(now).await.expect("stats").pending, 0);
}

#[tokio::test]
async fn different_comments_fold_into_a_full_evaluation_and_equal_ones_stay_a_comment() {
    let store = scratch().await;
    let now = Utc::now();
    let comment = |b: &str| Trigger::Comment { body: b.into() };
    for (n, bodies) in [(1, ["a", "a"]), (2, ["a", "b"])] {
        for (i, b) in bodies.iter().enumerate() {
            let j = job(n, comment(b), &format!("{n}-{i}"));
            store
                .accept(None, &[j], &[], now, Duration::ZERO, 100)
                .await
                .expect("ok");
        }
    }
    let first = store
        .claim("w", now, LEASE)
        .await
        .expect("claim")
        .expect("job");
    let second = store
        .claim("w", now, LEASE)
        .await
        .expect("claim")
        .expect("job");
    let mut got = [first.job, second.job];
    got.sort_by_key(|j| j.key.number);
    assert_eq!(got[0].trigger, comment("a"));
    assert_eq!(got[1].trigger, Trigger::Full);
}

#[tokio::test]
async fn a_claimed_job_is_not_handed_out_again_until_its_lease_expires() {
    let store = scratch().await;
    let now = Utc::now();
    store
        .accept(
            None,
            &[job(1, Trigger::Full, "a")],
            &[],
            now,
            Duration::ZERO,
            100,
        )
        .await
        .expect("ok");
    let first = store
        .claim("w1", now, LEASE)
        .await
        .expect("claim")
        .expect("job");
    assert!(!first.taken_over);
    assert!(
        store
            .claim("w2", now, LEASE)
            .await
            .expect("claim")
            .is_none()
    );
    // The first worker died: after its lease, another takes the job.
    let later = now + TimeDelta::seconds(31);
    let second = store
        .claim("w2", later, LEASE)
        .await
        .expect("claim")
        .expect("job");
    assert!(second.taken_over, "counted as a lease expiry");
    // The dead worker's late completion does not delete the job.
    store.complete(&first).await.expect("no-op");
    assert_eq!(store.job_stats(later).await.expect("stats").pending, 1);
    store.complete(&second).await.expect("done");
    assert_eq!(store.job_stats(later).await.expect("stats").pending, 0);
}

#[tokio::test]
async fn a_delivery_during_an_evaluation_makes_it_run_once_more() {
    let store = scratch().await;
    let now = Utc::now();
    let debounce = Duration::from_millis(300);
    store
        .accept(
            None,
            &[job(1, Trigger::Full, "a")],
            &[],
            now,
            Duration::ZERO,
            100,
        )
        .await
        .expect("ok");
    let running = store
        .claim("w1", now, LEASE)
        .await
        .expect("claim")
        .expect("job");
    store
        .accept(None, &[job(1, Trigger::Full, "b")], &[], now, debounce, 100)
        .await
        .expect("ok");
    store
        .complete(&running)
        .await
        .expect("released, not deleted");
    assert!(
        store
            .claim("w2", now, LEASE)
            .await
            .expect("claim")
            .is_none(),
        "debounced"
    );
    let again = store
        .claim("w2", now + TimeDelta::milliseconds(300), LEASE)
        .await
        .expect("claim")
        .expect("runs once more");
    assert!(!again.taken_over);
    store.complete(&again).await.expect("done");
    assert_eq!(store.job_stats(now).await.expect("stats").pending, 0);
}

#[tokio::test]
async fn a_failed_job_backs_off_and_counts_attempts() {
    let store = scratch().await;
    let now = Utc::now();
    store
        .accept(
            None,
            &[job(1, Trigger::Full, "a")],
            &[],
            now,
            Duration::ZERO,
            100,
        )
        .await
        .expect("ok");
    let c = store
        .claim("w", now, LEASE)
        .await
        .expect("claim")
        .expect("job");
    assert_eq!(c.attempts, 0);
    store
        .retry(&c, now, Duration::from_secs(10))
        .await
        .expect("retry");
    assert!(store.claim("w", now, LEASE).await.expect("claim").is_none());
    let wait = store.next_ready(now).await.expect("ok").expect("one job");
    assert_eq!(wait, Duration::from_secs(10));
    let c = store
        .claim("w", now + TimeDelta::seconds(10), LEASE)
        .await
        .expect("claim")
        .expect("job");
    assert_eq!(c.attempts, 1);
}

#[tokio::test]
async fn a_full_store_refuses_new_pull_requests_but_still_folds_deliveries_in() {
    let store = scratch().await;
    let now = Utc::now();
    let take = |n: u64, id: &'static str| {
        let store = store.clone();
        async move {
            store
                .accept(
                    Some(id),
                    &[job(n, Trigger::Full, id)],
                    &[],
                    now,
                    Duration::ZERO,
                    2,
                )
                .await
                .expect("answered")
        }
    };
    assert_eq!(take(1, "a").await, Accepted::Queued);
    assert_eq!(take(2, "b").await, Accepted::Queued);
    assert_eq!(take(3, "c").await, Accepted::Full);
    assert_eq!(take(2, "d").await, Accepted::Queued);
    // The refused delivery was not recorded: its redelivery counts.
    assert_eq!(take(1, "c").await, Accepted::Queued);
}

#[tokio::test]
async fn a_pull_requests_head_keeps_its_latest_receipt_and_only_for_that_head() {
    let store = scratch().await;
    let repo = key(1).repo;
    let t0 = Utc::now();
    let heads = [(repo.clone(), 7, "abc".to_string())];
    store
        .accept(Some("x"), &[], &heads, t0, Duration::ZERO, 100)
        .await
        .expect("ok");
    let t1 = t0 + TimeDelta::minutes(5);
    store
        .accept(Some("y"), &[], &heads, t1, Duration::ZERO, 100)
        .await
        .expect("ok");
    let seen = store
        .head_last_received(&repo, 7, "abc")
        .await
        .expect("read");
    // The latest receipt: a head pushed back arrives anew.
    assert_eq!(
        seen.map(|t| t.timestamp_millis()),
        Some(t1.timestamp_millis())
    );
    store
        .accept(Some("z"), &[], &heads, t0, Duration::ZERO, 100)
        .await
        .expect("ok");
    let seen = store
        .head_last_received(&repo, 7, "abc")
        .await
        .expect("read");
    assert_eq!(
        seen.map(|t| t.timestamp_millis()),
        Some(t1.timestamp_millis()),
        "a late delivery does not move it back"
    );
    assert_eq!(
        store
            .head_last_received(&repo, 7, "def")
            .await
            .expect("read"),
        None
    );
    // Another pull request's delivery of the same commit says nothing
    // about this pull request's push of it.
    assert_eq!(
        store
            .head_last_received(&repo, 8, "abc")
            .await
            .expect("read"),
        None
    );
    // A newer push of another head: the old head's receipt no longer
    // speaks for the pull request, even if the head returns to it before
    // its delivery arrives.
    let t2 = t1 + TimeDelta::minutes(1);
    store
        .accept(
            Some("w"),
            &[],
            &[(repo.clone(), 7, "def".to_string())],
            t2,
            Duration::ZERO,
            100,
        )
        .await
        .expect("ok");
    assert_eq!(
        store
            .head_last_received(&repo, 7, "abc")
            .await
            .expect("read"),
        None
    );
    assert_eq!(
        store
            .head_last_received(&repo, 7, "def")
            .await
            .expect("read")
            .map(|t| t.timestamp_millis()),
        Some(t2.timestamp_millis())
    );
}

#[tokio::test]
async fn one_leader_at_a_time_until_its_lease_runs_out() {
    let store = scratch().await;
    let now = Utc::now();
    let lease = Duration::from_secs(60);
    assert!(store.try_lead("sweep", "a", now, lease).await.expect("ok"));
    assert!(!store.try_lead("sweep", "b", now, lease).await.expect("ok"));
    assert!(
        store
            .try_lead("sweep", "a", now, lease)
            .await
            .expect("renewed")
    );
    let later = now + TimeDelta::seconds(61);
    assert!(
        store
            .try_lead("sweep", "b", later, lease)
            .await
            .expect("ok")
    );
    store.resign("sweep", "b").await.expect("ok");
    assert!(
        store
            .try_lead("sweep", "a", later, lease)
            .await
            .expect("ok")
    );
}

/// The lease serialising writes of one check run (`publish::serial`):
/// of holders trying at one instant exactly one holds it; a live lease is
/// not taken over, an expired one is, and a given-back one is free at once.
#[tokio::test]
async fn one_writer_of_a_check_run_at_a_time_until_its_lease_runs_out() {
    let store = scratch().await;
    let repo = RepoName {
        owner: "acme".into(),
        name: "shop".into(),
    };
    let shouting = RepoName {
        owner: "ACME".into(),
        name: "Shop".into(),
    };
    let now = Utc::now();
    let tries = (0..8).map(|n| {
        let (store, repo, shouting) = (store.clone(), repo.clone(), shouting.clone());
        tokio::spawn(async move {
            // One run, however its repository and sha are spelled.
            let (repo, sha) = if n % 2 == 0 {
                (repo, "abc")
            } else {
                (shouting, "ABC")
            };
            store
                .lease_check_run_write(&repo, sha, "hotfix-policy", &format!("instance-{n}"), now)
                .await
                .expect("ok")
        })
    });
    let mut holders = 0;
    for held in futures_util::future::join_all(tries).await {
        holders += usize::from(held.expect("joins"));
    }
    assert_eq!(holders, 1);
    // Another run of the same commit is another lease.
    assert!(
        store
            .lease_check_run_write(&repo, "abc", "hotfix-merge-back", "late", now)
            .await
            .expect("ok")
    );

    let lease = |holder: &'static str, at| {
        let (store, repo) = (store.clone(), repo.clone());
        async move {
            store
                .lease_check_run_write(&repo, "def", "hotfix-policy", holder, at)
                .await
                .expect("ok")
        }
    };
    assert!(lease("a", now).await);
    assert!(!lease("b", now + TimeDelta::seconds(29)).await);
    // a crashed: its lease runs out and b takes the run over.
    let expired = now + TimeDelta::seconds(31);
    assert!(lease("b", expired).await);
    assert!(!lease("a", expired).await);
    // a's late release does not free b's lease; b's own does.
    store
        .release_check_run_write(&repo, "def", "hotfix-policy", "a")
        .await
        .expect("ok");
    assert!(!lease("c", expired).await);
    store
        .release_check_run_write(&repo, "def", "hotfix-policy", "b")
        .await
        .expect("ok");
    assert!(lease("c", expired).await);
}

#[tokio::test]
async fn merge_backs_and_deadlines_survive_in_the_store() {
    let url = testing::scratch_url().await;
    let store = Store::connect(&url).await.expect("opens");
    let now = Utc::now();
    store
        .watch_merge_back(&key(7), "develop", now)
        .await
        .expect("ok");
    let watch = crate::engine::escalation::Watch {
        severity: "P0".into(),
        started: now,
        deadline: now + TimeDelta::hours(2),
        escalation: None,
    };
    store.watch_deadline(&key(7), &watch).await.expect("ok");
    store.close().await;
    // A restart: a new pool on the same database.
    let store = Store::connect(&url).await.expect("opens again");
    let waiting = store
        .merge_backs_waiting_on(1, &key(7).repo, "develop")
        .await
        .expect("read");
    assert_eq!(waiting, vec![7]);
    assert!(store.due_deadlines(now).await.expect("read").is_empty());
    let due = store
        .due_deadlines(now + TimeDelta::hours(2))
        .await
        .expect("read");
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].1.severity, "P0");
    store.escalated(&key(7), 1).await.expect("ok");
    let due = store
        .due_deadlines(now + TimeDelta::hours(3))
        .await
        .expect("read");
    assert_eq!(due[0].2, 1);
    store.forget_merge_back(&key(7)).await.expect("ok");
    assert!(
        store
            .merge_backs_waiting_on(1, &key(7).repo, "develop")
            .await
            .expect("read")
            .is_empty()
    );
}

#[tokio::test]
async fn a_url_of_another_kind_is_refused_with_a_clear_error() {
    let e = Store::connect("mysql://x")
        .await
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        e.as_deref(),
        Some(
            "DATABASE_URL must start with sqlite:// or postgres:// (or postgresql://), not `mysql://x`"
        )
    );
    let e = backend_of("postgres://u:secret@host/db").map(|b| b == Backend::Postgres);
    assert_eq!(e.ok(), Some(true));
    assert!(!redact("postgres://u:secret@host/db").contains("secret"));
}

fn commits(shas: &[&str]) -> Trigger {
    let mut work = crate::events::CommitWork::default();
    for sha in shas {
        work.commits.insert((*sha).to_string(), vec![]);
    }
    Trigger::Commits(work)
}

fn shas(claimed: &Claimed) -> Vec<String> {
    match &claimed.job.trigger {
        Trigger::Commits(work) => work.commits.keys().cloned().collect(),
        other => panic!("not a commit job: {other:?}"),
    }
}

#[tokio::test]
async fn commit_work_folds_across_deliveries_and_work_arriving_mid_evaluation_runs_next() {
    let store = scratch().await;
    let now = Utc::now();
    let number = crate::events::COMMITS_JOB;
    for (id, sha) in [("c-1", "aaa"), ("c-2", "bbb")] {
        store
            .accept(
                Some(id),
                &[job(number, commits(&[sha]), id)],
                &[],
                now,
                Duration::ZERO,
                100,
            )
            .await
            .expect("accepted");
    }
    let first = store
        .claim("w1", now, LEASE)
        .await
        .expect("claim")
        .expect("a job");
    assert_eq!(shas(&first), ["aaa", "bbb"], "the second delivery added");
    // A status on `aaa` again, and a new commit, while it runs.
    store
        .accept(
            Some("c-3"),
            &[job(number, commits(&["aaa", "ccc"]), "c-3")],
            &[],
            now,
            Duration::ZERO,
            100,
        )
        .await
        .expect("accepted");
    store.complete(&first).await.expect("completed");
    let second = store
        .claim("w1", now, LEASE)
        .await
        .expect("claim")
        .expect("the job runs once more");
    assert_eq!(shas(&second), ["aaa", "ccc"], "only what came mid-run");
    store.complete(&second).await.expect("completed");
    assert!(
        store
            .claim("w1", now, LEASE)
            .await
            .expect("claim")
            .is_none()
    );
}

/// Several jobs ready at once: each claim takes one and leaves the others
/// for the next worker. On PostgreSQL, `(key) IN (SELECT … LIMIT 1 FOR
/// UPDATE SKIP LOCKED)` can run as a nested-loop semi-join that re-runs its
/// subquery per row (when the statistics say the queue is about one row
/// long, as on a queue that is usually short); one claim then leased every
/// ready job while the worker ran one, and the others waited for their
/// lease to expire.
#[tokio::test]
async fn one_claim_leases_one_job_and_leaves_the_others_ready() {
    let store = scratch().await;
    let now = Utc::now();
    let accept = |number: u64, delivery: &'static str| {
        let store = store.clone();
        async move {
            store
                .accept(
                    None,
                    &[job(number, Trigger::Full, delivery)],
                    &[],
                    now,
                    Duration::ZERO,
                    100,
                )
                .await
                .expect("ok");
        }
    };
    accept(1, "a").await;
    if store.backend == Backend::Postgres {
        // The statistics autovacuum gathers on a short queue.
        sqlx::query("ANALYZE jobs")
            .execute(&store.pool)
            .await
            .expect("analyze");
    }
    accept(2, "b").await;
    accept(3, "c").await;
    let mut numbers = Vec::new();
    for worker in ["w1", "w2", "w3"] {
        let claimed = store.claim(worker, now, LEASE).await.expect("claim");
        numbers.push(claimed.expect("a job still ready").job.key.number);
    }
    numbers.sort_unstable();
    assert_eq!(numbers, [1, 2, 3]);
    assert!(
        store
            .claim("w4", now, LEASE)
            .await
            .expect("claim")
            .is_none()
    );
}

#[tokio::test]
async fn a_commits_unmet_hotfix_verdicts_are_those_of_the_other_pull_requests_not_yet_success() {
    let store = scratch().await;
    let now = Utc::now();
    let repo = RepoName {
        owner: "Octo".into(),
        name: "App".into(),
    };
    let lower = RepoName {
        owner: "octo".into(),
        name: "app".into(),
    };
    let sha = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1";
    for (number, conclusion) in [(7, "failure"), (9, "success"), (11, "failure")] {
        store
            .record_commit_verdict(&repo, sha, number, conclusion, now)
            .await
            .expect("record");
    }
    // The latest verdict of a pull request replaces its earlier one.
    store
        .record_commit_verdict(&lower, sha, 11, "success", now)
        .await
        .expect("record");
    assert_eq!(
        store
            .unmet_commit_verdicts(&lower, sha, 9)
            .await
            .expect("read"),
        [7]
    );
    assert_eq!(
        store
            .unmet_commit_verdicts(&repo, sha, 7)
            .await
            .expect("read"),
        Vec::<u64>::new()
    );
    assert_eq!(
        store
            .unmet_commit_verdicts(&repo, "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2", 9)
            .await
            .expect("read"),
        Vec::<u64>::new()
    );
}

#[tokio::test]
async fn forgetting_a_pull_requests_commit_verdict_removes_only_its_own() {
    let store = scratch().await;
    let now = Utc::now();
    let repo = RepoName {
        owner: "octo".into(),
        name: "app".into(),
    };
    let sha = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1";
    let other = "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2";
    for (commit, number) in [(sha, 7), (sha, 10), (other, 10)] {
        store
            .record_commit_verdict(&repo, commit, number, super::UNEVALUATED, now)
            .await
            .expect("record");
    }
    store
        .forget_commit_verdict(&repo, &sha.to_uppercase(), 10)
        .await
        .expect("forget");
    assert_eq!(
        store
            .unmet_commit_verdicts(&repo, sha, 9)
            .await
            .expect("read"),
        [7]
    );
    assert_eq!(
        store
            .unmet_commit_verdicts(&repo, other, 9)
            .await
            .expect("read"),
        [10]
    );
}

/// A job's pull request exactly as the version before `crate::pull::Pull`
/// stored it (`serde_json::to_string` of the webhook type it kept): it
/// must still load whole, not be dropped as unreadable and fetched again,
/// and its author, lock, totals and fork facts must survive.
#[tokio::test]
async fn a_pull_request_stored_by_the_previous_version_still_loads() {
    const STORED: &str = r#"{"number":7,"title":"fix: crash","user":{"login":"dev"},"state":"closed","draft":false,"merged":true,"merged_at":"2024-05-01T10:00:00Z","merged_by":{"login":"lead"},"merge_commit_sha":"m1","head":{"ref":"hotfix/1.0.1","sha":"h1","repo":{"full_name":"fork/app"}},"base":{"ref":"main","sha":"b1","repo":{"full_name":"octo/app"}},"labels":[{"name":"P0"}],"created_at":"2024-04-30T09:00:00Z","updated_at":"2024-05-01T10:00:01Z","html_url":"https://github.com/octo/app/pull/7","changed_files":3,"additions":10,"deletions":2,"locked":true,"active_lock_reason":"too heated"}"#;
    let store = scratch().await;
    let now = Utc::now();
    store
        .accept(
            Some("d-1"),
            &[job(7, Trigger::Full, "d-1")],
            &[],
            now,
            Duration::ZERO,
            100,
        )
        .await
        .expect("accepted");
    sqlx::query("UPDATE jobs SET pull = $1")
        .bind(STORED)
        .execute(&store.pool)
        .await
        .expect("written as the old version did");
    let claimed = store
        .claim("w1", now, LEASE)
        .await
        .expect("claim")
        .expect("a job");
    let pull = claimed.job.pull.expect("the stored pull request loads");
    assert_eq!(pull.author(), "dev");
    assert_eq!(
        pull.merged_by.as_ref().map(|l| l.login.as_str()),
        Some("lead")
    );
    assert!(pull.is_merged() && pull.locked && pull.head_in_fork());
    assert_eq!(pull.active_lock_reason.as_deref(), Some("too heated"));
    assert_eq!(
        pull.totals()
            .map(|t| (t.changed_files, t.additions, t.deletions)),
        Some((3, 10, 2))
    );
    assert_eq!(
        (pull.head.ref_name.as_str(), pull.base.ref_name.as_str()),
        ("hotfix/1.0.1", "main")
    );
    assert_eq!(pull.label_names(), ["P0"]);
    assert!(pull.updated_at.is_some() && pull.created_at.is_some());
    // Written back, it is the same JSON: the shape did not move.
    let again: serde_json::Value = serde_json::to_value(&pull).expect("json");
    assert_eq!(
        again,
        serde_json::from_str::<serde_json::Value>(STORED).expect("json")
    );
}

#[tokio::test]
async fn pull_requests_judged_without_a_policy_are_kept_until_forgotten() {
    let store = Store::connect(&testing::scratch_url().await)
        .await
        .expect("opens");
    let repo = key(1).repo;
    let numbers =
        |read: &[crate::store::Unjudged]| read.iter().map(|u| u.number).collect::<Vec<_>>();
    store.remember_unjudged(&key(9)).await.expect("ok");
    store.remember_unjudged(&key(4)).await.expect("ok");
    store
        .remember_unjudged(&key(9))
        .await
        .expect("once per pull request");
    let read = store.unjudged(1, &repo).await.expect("ok");
    assert_eq!(numbers(&read), [4, 9]);
    assert!(store.unjudged(2, &repo).await.expect("ok").is_empty());
    // #4 is recorded again after the read (its re-evaluation, under a
    // policy still unreadable): forgetting what was read keeps it.
    store.remember_unjudged(&key(4)).await.expect("ok");
    store.forget_unjudged(1, &repo, &read).await.expect("ok");
    assert_eq!(numbers(&store.unjudged(1, &repo).await.expect("ok")), [4]);
}
