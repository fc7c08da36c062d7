//! Evidence rows: only web addresses become links, and facts that were never
//! read say so for every source.

use crate::policy::{AllowedConclusions, Evidence, RequiredCheck, RequiredDeployment};
use crate::rules::evidence::{CheckRunFact, EvidenceFacts, StatusFact, check, is_pending};
use crate::rules::result::RuleStatus;

const HEAD: &str = "abc1234def5678abc1234def5678abc1234def56";

fn required(deployment: bool) -> Evidence {
    Evidence {
        checks: vec![RequiredCheck {
            name: "test".into(),
            app: None,
            allow: AllowedConclusions::default(),
        }],
        deployment: deployment.then(|| RequiredDeployment {
            environment: "staging".into(),
        }),
    }
}

fn passed_run(url: &str) -> EvidenceFacts {
    EvidenceFacts {
        check_runs: vec![CheckRunFact {
            name: "test".into(),
            app: Some("ci".into()),
            status: "completed".into(),
            conclusion: Some("success".into()),
            url: Some(url.into()),
        }],
        ..EvidenceFacts::default()
    }
}

#[test]
fn only_http_and_https_addresses_become_links() {
    // A check run's URL comes from whoever created it: anything but a web
    // address must stay text in the markdown.
    let row = check(
        &required(false),
        Some(&passed_run("javascript:alert(1)")),
        HEAD,
        "hotfix/x",
    )
    .remove(0);
    assert_eq!(row.status, RuleStatus::Pass);
    assert_eq!(
        row.detail,
        "`test` passed on abc1234: check run by ci: success"
    );
    for url in ["https://ci.example/1", "http://ci.example/1"] {
        let row = check(&required(false), Some(&passed_run(url)), HEAD, "hotfix/x").remove(0);
        assert_eq!(
            row.detail,
            format!("`test` passed on abc1234: [check run by ci: success]({url})")
        );
    }
}

#[test]
fn nothing_read_names_every_source_as_unread() {
    let rows = check(&required(true), None, HEAD, "hotfix/x");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].status, RuleStatus::Fail);
    assert_eq!(
        rows[0].detail,
        "`test` cannot be confirmed on abc1234: hotfix-guard could not read \
         check runs (no evidence in the facts) or commit statuses (no evidence in the facts)"
    );
    assert_eq!(rows[1].status, RuleStatus::Fail);
    assert_eq!(
        rows[1].detail,
        "the staging deployment of abc1234 cannot be confirmed: hotfix-guard could not read \
         deployments (no evidence in the facts)"
    );
}

fn one_row(facts: &EvidenceFacts, allow: AllowedConclusions) -> crate::rules::result::RuleResult {
    let mut wanted = required(false);
    wanted.checks[0].allow = allow;
    check(&wanted, Some(facts), HEAD, "hotfix/x").remove(0)
}

#[test]
fn skipped_passes_only_where_allowed() {
    let mut facts = passed_run("https://ci.example/1");
    facts.check_runs[0].conclusion = Some("skipped".into());
    let row = one_row(&facts, AllowedConclusions::default());
    assert_eq!(row.status, RuleStatus::Fail);
    assert_eq!(row.title_fragment.as_deref(), Some("`test` failed"));
    let allowing = AllowedConclusions {
        skipped: true,
        ..AllowedConclusions::default()
    };
    assert_eq!(one_row(&facts, allowing).status, RuleStatus::Pass);
    // Allowing `skipped` does not allow `neutral`.
    facts.check_runs[0].conclusion = Some("neutral".into());
    assert_eq!(one_row(&facts, allowing).status, RuleStatus::Fail);
}

#[test]
fn a_pending_commit_status_waits_and_is_pending() {
    let facts = EvidenceFacts {
        statuses: vec![StatusFact {
            context: "test".into(),
            state: "pending".into(),
            creator: Some("ci-bot[bot]".into()),
            url: None,
        }],
        ..EvidenceFacts::default()
    };
    let row = one_row(&facts, AllowedConclusions::default());
    assert_eq!(row.status, RuleStatus::Pending);
    assert_eq!(row.title_fragment.as_deref(), Some("waits for `test`"));
    assert_eq!(
        row.detail,
        "`test` is still running on abc1234: commit status: pending"
    );
    assert!(is_pending(&row));
    // Anything but pending is not.
    let failed = one_row(&passed_run("javascript:x"), AllowedConclusions::default());
    assert!(!is_pending(&failed));
}
