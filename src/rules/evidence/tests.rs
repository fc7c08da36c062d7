use super::*;
use crate::policy::{AllowedConclusions, Evidence, RequiredCheck, RequiredDeployment};

const HEAD: &str = "abc1234def5678abc1234def5678abc1234def56";

fn test_check() -> RequiredCheck {
    RequiredCheck {
        name: "test".into(),
        app: None,
        allow: AllowedConclusions::default(),
    }
}

fn run(status: &str, conclusion: Option<&str>, app: &str) -> CheckRunFact {
    CheckRunFact {
        name: "test".into(),
        app: Some(app.into()),
        status: status.into(),
        conclusion: conclusion.map(str::to_string),
        url: Some("https://github.com/o/r/runs/1".into()),
    }
}

fn only_checks(facts: &EvidenceFacts, check: RequiredCheck) -> RuleResult {
    let required = Evidence {
        checks: vec![check],
        deployment: None,
    };
    check_rows(&required, facts).remove(0)
}

fn check_rows(required: &Evidence, facts: &EvidenceFacts) -> Vec<RuleResult> {
    check(required, Some(facts), HEAD, "hotfix/x")
}

#[test]
fn neutral_passes_only_where_allowed() {
    let facts = EvidenceFacts {
        check_runs: vec![run("completed", Some("neutral"), "ci")],
        ..EvidenceFacts::default()
    };
    assert_eq!(only_checks(&facts, test_check()).status, RuleStatus::Fail);
    let mut allowing = test_check();
    allowing.allow.neutral = true;
    assert_eq!(only_checks(&facts, allowing).status, RuleStatus::Pass);
}

#[test]
fn a_failing_source_beats_a_passing_one_and_unreadable_fails_closed() {
    let facts = EvidenceFacts {
        check_runs: vec![run("completed", Some("success"), "ci")],
        statuses: vec![StatusFact {
            context: "test".into(),
            state: "failure".into(),
            creator: Some("other".into()),
            url: None,
        }],
        ..EvidenceFacts::default()
    };
    assert_eq!(only_checks(&facts, test_check()).status, RuleStatus::Fail);
    let unreadable = EvidenceFacts {
        check_runs: vec![run("completed", Some("success"), "ci")],
        statuses_unreadable: Some("GitHub answered 403".into()),
        ..EvidenceFacts::default()
    };
    let row = only_checks(&unreadable, test_check());
    assert_eq!(row.status, RuleStatus::Fail);
    assert!(row.detail.contains("commit statuses (GitHub answered 403)"));
    // Nothing read at all (a simulate file without evidence) fails too.
    let required = Evidence {
        checks: vec![test_check()],
        deployment: Some(RequiredDeployment {
            environment: "staging".into(),
        }),
    };
    let rows = check(&required, None, HEAD, "hotfix/x");
    assert!(rows.iter().all(|r| r.status == RuleStatus::Fail));
}

#[test]
fn a_pinned_app_ignores_other_apps_and_statuses_by_others() {
    let mut pinned = test_check();
    pinned.app = Some("github-actions".into());
    let facts = EvidenceFacts {
        check_runs: vec![run("completed", Some("success"), "impostor")],
        statuses: vec![StatusFact {
            context: "test".into(),
            state: "success".into(),
            creator: Some("mallory".into()),
            url: None,
        }],
        ..EvidenceFacts::default()
    };
    let row = only_checks(&facts, pinned.clone());
    assert_eq!(row.status, RuleStatus::Fail);
    assert!(
        row.detail.contains("no check run from github-actions"),
        "{}",
        row.detail
    );
    let by_bot = EvidenceFacts {
        statuses: vec![StatusFact {
            context: "test".into(),
            state: "success".into(),
            creator: Some("github-actions[bot]".into()),
            url: None,
        }],
        ..EvidenceFacts::default()
    };
    assert_eq!(only_checks(&by_bot, pinned).status, RuleStatus::Pass);
}

/// The rows as the rules table shows them, one per state.
#[test]
fn rows_for_each_state() {
    let mut cases = String::new();
    let required = Evidence {
        checks: vec![
            test_check(),
            RequiredCheck {
                name: "security-scan".into(),
                ..test_check()
            },
            RequiredCheck {
                name: "lint".into(),
                ..test_check()
            },
            RequiredCheck {
                name: "e2e".into(),
                ..test_check()
            },
        ],
        deployment: Some(RequiredDeployment {
            environment: "staging".into(),
        }),
    };
    let facts = EvidenceFacts {
        check_runs: vec![
            run("completed", Some("failure"), "github-actions"),
            CheckRunFact {
                name: "security-scan".into(),
                ..run("in_progress", None, "github-actions")
            },
            CheckRunFact {
                name: "lint".into(),
                ..run("completed", Some("success"), "github-actions")
            },
        ],
        deployments: vec![DeploymentFact {
            id: 1,
            sha: "0000000000000000000000000000000000000000".into(),
            environment: "staging".into(),
            state: Some("success".into()),
            url: None,
        }],
        ..EvidenceFacts::default()
    };
    for row in check_rows(&required, &facts) {
        cases.push_str(&format!(
            "{:?} | {} | {} | title: {:?} | next: {:?}\n",
            row.status,
            row.id.label(),
            row.detail,
            row.title_fragment,
            row.next_step
        ));
    }
    let deployed = EvidenceFacts {
        deployments: vec![DeploymentFact {
            id: 2,
            sha: HEAD.into(),
            environment: "staging".into(),
            state: Some("success".into()),
            url: Some("https://deploy.example.com/logs/2".into()),
        }],
        ..EvidenceFacts::default()
    };
    let only_deploy = Evidence {
        checks: Vec::new(),
        deployment: required.deployment.clone(),
    };
    for row in check_rows(&only_deploy, &deployed) {
        cases.push_str(&format!(
            "{:?} | {} | {}\n",
            row.status,
            row.id.label(),
            row.detail
        ));
    }
    insta::assert_snapshot!(cases);
}
