//! Evidence rows: only web addresses become links, and facts that were never
//! read say so for every source.

use crate::policy::{AllowedConclusions, Evidence, RequiredCheck, RequiredDeployment};
use crate::rules::evidence::{CheckRunFact, EvidenceFacts, check};
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
