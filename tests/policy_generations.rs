//! Two replicas on one store, and a policy changed by a `push` that GitHub
//! delivers to only one of them: the other must not judge by the policy it
//! holds in memory. The push's intake bumps the repository's policy
//! generation in the store; every evaluation uses a cached policy only when
//! it was loaded at the generation the store holds now. (The repository's
//! own file: `adversarial_review9.rs`; here the organisation's fallback.)

use crate::common;

use axum::http::StatusCode;

use common::attacks::{delivered, text_of};
use common::fake_github::PullSeed;
use common::harness::{HEAD_SHA, Harness, POLICY, POLICY_PATH, REPO};
use common::webhook::{self, PrSpec};

/// The organisation's `.github` repository, whose policy applies to every
/// repository of `octo` without a file of its own.
const ORG_REPO: &str = "octo/.github";

/// The harness's policy: P2 needs one approval from a writer.
fn count_policy() -> String {
    POLICY.to_string()
}

/// The same policy after a writer tightened P2: an engineering lead must
/// approve it.
fn lead_policy() -> String {
    POLICY.replace(
        "approvals: { count: 1 }",
        "approvals: { roles: [engineering-lead] }",
    )
}

/// A `pull_request.edited` delivery for `number` as the fake holds it now
/// (the author retitled it first), on `instance`; waits for `all` to be
/// idle.
async fn edited_on(instance: &Harness, all: &[&Harness], number: u64, title: &str) {
    instance
        .gh
        .update_pull(REPO, number, |p| p.title = title.into());
    let seed = instance.gh.pull(REPO, number).expect("seeded pull request");
    let spec = PrSpec::from_seed(REPO, &seed, 1);
    let mut payload = webhook::pull_request_edited(
        &spec,
        serde_json::json!({"title": {"from": "fix: stop the login loop"}}),
    );
    if let Some((files, additions, deletions)) = instance.gh.pull_totals(REPO, number) {
        payload["pull_request"]["changed_files"] = files.into();
        payload["pull_request"]["additions"] = additions.into();
        payload["pull_request"]["deletions"] = deletions.into();
    }
    payload["pull_request"]["html_url"] =
        format!("{}/{REPO}/pull/{number}", instance.gh.url()).into();
    assert_eq!(
        instance.deliver("pull_request", &payload).await,
        StatusCode::ACCEPTED
    );
    for h in all {
        h.settle().await;
    }
}

/// The conclusion and text of `HEAD_SHA`'s run.
fn verdict(h: &Harness) -> (Option<String>, String) {
    let run = h.check(HEAD_SHA);
    (run.conclusion.clone(), text_of(&run))
}

/// A writer tightens the organisation's policy (P2 now needs an
/// engineering lead) on the `.github` repository's default branch. GitHub
/// delivers that `push` to replica one only. The author's P2 #7 in
/// `octo/app` (no policy file of its own), approved only by bob, was
/// judged by both replicas under the old organisation policy; the author's
/// next edit lands on replica two, which loaded that policy before the
/// push: the check must fail there, naming the missing role.
#[tokio::test]
async fn a_replica_that_missed_the_organisation_policy_push_judges_by_the_new_one() {
    let h = Harness::start().await;
    let pull = PullSeed {
        labels: vec!["hotfix".into(), "P2".into()],
        ..h.p0()
    };
    h.seed(POLICY, &pull);
    h.gh.remove_file(REPO, "main", POLICY_PATH);
    h.gh.add_repo(ORG_REPO);
    h.gh.set_branch(ORG_REPO, "main", "0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a");
    h.gh.set_file(ORG_REPO, "main", POLICY_PATH, &count_policy());
    h.label_events_by(&pull, "dana");
    h.clock.set(pull.created_at);
    h.gh.add_review(REPO, pull.number, "bob", "APPROVED", HEAD_SHA);
    let second = Harness::on_shared_store(&h).await;
    second.clock.set(pull.created_at);

    // Both replicas judge #7 by the organisation's policy: it passes.
    h.pull_request("opened", pull.number).await;
    edited_on(&second, &[&h, &second], pull.number, "fix: login loop (P2)").await;
    let (conclusion, text) = verdict(&h);
    assert_eq!(
        conclusion.as_deref(),
        Some("success"),
        "precondition: {text}"
    );
    assert!(
        text.contains("organisation's policy"),
        "precondition: {text}"
    );

    // The tightened organisation policy, pushed; delivered to replica one.
    h.gh.set_file(ORG_REPO, "main", POLICY_PATH, &lead_policy());
    let push = webhook::push_event(ORG_REPO, "refs/heads/main", &[POLICY_PATH], 1);
    delivered(&h, "push", &push).await;

    // The author's next edit lands on replica two.
    edited_on(
        &second,
        &[&h, &second],
        pull.number,
        "fix: login loop (P2, again)",
    )
    .await;
    let (conclusion, text) = verdict(&h);
    assert_eq!(
        conclusion.as_deref(),
        Some("failure"),
        "replica two, which did not receive the push: {text}"
    );
    assert!(
        text.contains("needs engineering-lead approval"),
        "replica two, which did not receive the push: {text}"
    );
}

/// Control for the cost: with no policy push, a replica's later
/// evaluations read the policy from its cache (the store's generation is
/// unchanged), so no contents request is made again.
#[tokio::test]
async fn without_a_policy_push_a_replica_reads_the_policy_once() {
    let h = Harness::start().await;
    let pull = PullSeed {
        labels: vec!["hotfix".into(), "P2".into()],
        ..h.p0()
    };
    h.seed(POLICY, &pull);
    h.label_events_by(&pull, "dana");
    h.clock.set(pull.created_at);
    h.gh.add_review(REPO, pull.number, "bob", "APPROVED", HEAD_SHA);
    // 304s included: a conditional read is still a read.
    let policy_reads = || h.gh.count("GET", "hotfix-policy.yml");
    h.pull_request("opened", pull.number).await;
    let after_first = policy_reads();
    assert_eq!(after_first, 1, "the first evaluation reads the policy");
    edited_on(&h, &[&h], pull.number, "fix: login loop (P2)").await;
    edited_on(&h, &[&h], pull.number, "fix: login loop (P2, again)").await;
    assert_eq!(
        policy_reads(),
        after_first,
        "later evaluations use the cache"
    );
    assert_eq!(verdict(&h).0.as_deref(), Some("success"));
}

/// The store cannot give the policy's generation (here its table is gone,
/// as a broken or foreign schema would be). A policy push is then refused
/// with 503, so that GitHub's redelivery brings it back, instead of being
/// accepted with only the receiving instance told. And an evaluation on
/// the other replica does not take its cached policy for current: it reads
/// the file again and judges #7 by the tightened policy.
#[tokio::test]
async fn without_the_generation_the_push_is_refused_and_no_replica_trusts_its_cache() {
    use sqlx::{Connection as _, Executor as _};

    let h = Harness::start().await;
    let pull = PullSeed {
        labels: vec!["hotfix".into(), "P2".into()],
        ..h.p0()
    };
    h.seed(&count_policy(), &pull);
    h.label_events_by(&pull, "dana");
    h.clock.set(pull.created_at);
    h.gh.add_review(REPO, pull.number, "bob", "APPROVED", HEAD_SHA);
    let second = Harness::on_shared_store(&h).await;
    second.clock.set(pull.created_at);
    h.pull_request("opened", pull.number).await;
    edited_on(&second, &[&h, &second], pull.number, "fix: login loop (P2)").await;
    assert_eq!(verdict(&h).0.as_deref(), Some("success"), "precondition");

    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&h.database_url)
        .await
        .expect("the test store opens");
    conn.execute("DROP TABLE policy_generations")
        .await
        .expect("drop the table");
    conn.close().await.expect("closed");

    h.gh.set_file(REPO, "main", POLICY_PATH, &lead_policy());
    let push = webhook::push_event(REPO, "refs/heads/main", &[POLICY_PATH], 1);
    assert_eq!(
        h.deliver("push", &push).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "a policy push whose generation cannot be stored is not accepted"
    );

    let reads_before = h.gh.count("GET", "hotfix-policy.yml");
    edited_on(
        &second,
        &[&h, &second],
        pull.number,
        "fix: login loop (P2, again)",
    )
    .await;
    assert!(
        h.gh.count("GET", "hotfix-policy.yml") > reads_before,
        "replica two read the policy again"
    );
    let (conclusion, text) = verdict(&h);
    assert_eq!(
        conclusion.as_deref(),
        Some("failure"),
        "replica two: {text}"
    );
    assert!(
        text.contains("needs engineering-lead approval"),
        "replica two: {text}"
    );
}
