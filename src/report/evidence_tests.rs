//! The rules table and the sticky comment with evidence rows (snapshots).

use super::*;
use crate::policy::{AllowedConclusions, PolicySource, RequiredCheck, RequiredDeployment};
use crate::rules::evaluate;
use crate::rules::evidence::{CheckRunFact, EvidenceFacts};
use crate::rules::facts::ReviewState::Approved;
use crate::rules::testutil::*;

#[test]
fn check_and_comment_with_evidence_rows() {
    let mut policy = p0_policy();
    policy.evidence.default.checks = vec![
        RequiredCheck {
            name: "test".into(),
            app: Some("github-actions".into()),
            allow: AllowedConclusions::default(),
        },
        RequiredCheck {
            name: "security-scan".into(),
            app: None,
            allow: AllowedConclusions {
                neutral: true,
                skipped: true,
            },
        },
    ];
    policy.evidence.default.deployment = Some(RequiredDeployment {
        environment: "staging".into(),
    });
    let mut facts = p0_facts();
    facts.reviews = vec![
        review(101, "alice", Approved, HEAD_SHA, "2026-11-26T13:20:00Z"),
        review(102, "bob", Approved, HEAD_SHA, "2026-11-26T13:21:00Z"),
    ];
    facts.evidence = Some(EvidenceFacts {
        check_runs: vec![
            CheckRunFact {
                name: "test".into(),
                app: Some("github-actions".into()),
                status: "in_progress".into(),
                conclusion: None,
                url: Some("https://github.com/acme/app/actions/runs/9/job/1".into()),
            },
            CheckRunFact {
                name: "security-scan".into(),
                app: Some("github-actions".into()),
                status: "completed".into(),
                conclusion: Some("skipped".into()),
                url: Some("https://github.com/acme/app/actions/runs/9/job/2".into()),
            },
        ],
        ..EvidenceFacts::default()
    });
    let verdict = evaluate(&policy, &facts);
    let out = check_output(&verdict, &policy, PolicySource::Repository);
    let comment = sticky_comment(&verdict, &policy, PolicySource::Repository).unwrap_or_default();
    insta::assert_snapshot!(format!(
        "conclusion: {}\ntitle: {}\n----- summary -----\n{}\n----- comment -----\n{}",
        out.conclusion, out.title, out.summary, comment
    ));
}
