//! `engine::policy_cache` against a GitHub on loopback: the repository's
//! own file wins; without one, the organisation's `.github` file, else the
//! built-in default when that repository is missing or refused, and an
//! error for an outage.

use super::BASE_SHA;
use super::stub::{Answers, Reply, Stub, file, refused};
use crate::engine::policy_cache::PolicyCache;
use crate::policy::{POLICY_PATH, PolicySource};

const OWN: &str = "/repos/octo/app/contents/.github/hotfix-policy.yml";
const ORG: &str = "/repos/octo/.github/contents/.github/hotfix-policy.yml";
const POLICY: &str = "version: 1\nworkflow: github-flow\nbranches: { production: prod }\nseverities:\n  P0:\n    labels: [P0]\n    approvals: { count: 1 }\n";

fn answers(pairs: &[(&str, Reply)]) -> Answers {
    pairs
        .iter()
        .fold(Answers::default(), |answers, (key, reply)| {
            answers.with(key, reply.clone())
        })
}

fn production(loaded: &crate::engine::policy_cache::LoadedPolicy) -> Option<String> {
    loaded
        .policy
        .as_ref()
        .ok()
        .map(|p| p.branches.production.clone())
}

#[tokio::test]
async fn the_repositorys_own_file_is_the_policy_in_force() {
    let stub = Stub::start(answers(&[(OWN, file(POLICY))])).await;
    let loaded = PolicyCache::default().get(&stub.client(), None).await;
    let loaded = loaded.expect("loaded");
    assert_eq!(loaded.source, PolicySource::Repository);
    assert_eq!(loaded.shown_path, POLICY_PATH);
    assert_eq!(production(&loaded).as_deref(), Some("prod"));
    assert!(
        !stub.seen().iter().any(|s| s.starts_with(ORG)),
        "{:?}",
        stub.seen()
    );
}

#[tokio::test]
async fn the_file_at_a_commit_is_the_one_read_there() {
    let at = format!("{OWN}?ref={BASE_SHA}");
    let stub = Stub::start(answers(&[(at.as_str(), file(POLICY))])).await;
    let loaded = PolicyCache::default()
        .get_at(&stub.client(), BASE_SHA)
        .await;
    let loaded = loaded.expect("loaded");
    assert_eq!(loaded.source, PolicySource::Repository);
    assert_eq!(production(&loaded).as_deref(), Some("prod"));
}

#[tokio::test]
async fn without_its_own_file_the_organisations_is_in_force() {
    let stub = Stub::start(answers(&[(ORG, file(POLICY))])).await;
    let loaded = PolicyCache::default().get(&stub.client(), None).await;
    let loaded = loaded.expect("loaded");
    assert_eq!(loaded.source, PolicySource::Organization);
    assert_eq!(loaded.shown_path, format!("octo/.github:{POLICY_PATH}"));
    assert_eq!(production(&loaded).as_deref(), Some("prod"));
}

#[tokio::test]
async fn an_organisation_repository_missing_or_refused_falls_back_to_the_built_in_default() {
    for org in [None, Some(refused(403)), Some(refused(404))] {
        let stub = Stub::start(answers(
            &org.iter().map(|a| (ORG, a.clone())).collect::<Vec<_>>(),
        ))
        .await;
        let loaded = PolicyCache::default().get(&stub.client(), None).await;
        let loaded = loaded.map(|l| l.source.clone());
        assert_eq!(loaded.ok(), Some(PolicySource::BuiltIn), "{org:?}");
    }
}

#[tokio::test]
async fn an_outage_reading_the_organisations_file_is_an_error_not_the_default() {
    let stub = Stub::start(answers(&[(ORG, refused(500))])).await;
    let loaded = PolicyCache::default().get(&stub.client(), None).await;
    assert!(loaded.is_err(), "{:?}", loaded.map(|l| l.source.clone()));
}
