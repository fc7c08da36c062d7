//! The procedure's defaults: what an absent key means, and the whole policy
//! of a repository without a policy file.
//!
//! The team's hotfix procedure sets them: P0 and P1 need two approvals and P2 one,
//! P0 is deployed within 2 hours with a post-incident review within 24 hours,
//! P1 within 24 hours with a root cause analysis within 48, every hotfix bumps
//! the patch version, and under git-flow it is merged back into develop.

use std::collections::BTreeMap;
use std::time::Duration;

use super::model::{
    ApprovalSettings, Branches, Checks, Escalation, FollowUp, HotfixMatch, Increment, Policy,
    Release, Severity, SeverityApprovals, VersionBump, VersionFile, Workflow,
};

const HOUR: u64 = 3600;

pub fn hotfix_match() -> HotfixMatch {
    HotfixMatch {
        labels: vec!["hotfix".to_string()],
        branch_prefixes: vec!["hotfix/".to_string()],
    }
}

pub fn branches() -> Branches {
    Branches {
        production: "main".to_string(),
        develop: "develop".to_string(),
    }
}

pub fn approval_settings() -> ApprovalSettings {
    ApprovalSettings {
        dismiss_stale: true,
        allow_author: false,
        command: "/hotfix approve".to_string(),
    }
}

/// P0, P1, P2, most severe first; approvals by count, since a repository
/// without a file has no roles.
pub fn severities() -> Vec<Severity> {
    let severity = |name: &str,
                    count: u32,
                    deadline_hours: Option<u64>,
                    follow_up: Option<(&str, u64)>| Severity {
        name: name.to_string(),
        labels: vec![name.to_string()],
        approvals: SeverityApprovals {
            roles: Vec::new(),
            count: Some(count),
        },
        deadline: deadline_hours.map(|hours| Duration::from_secs(hours * HOUR)),
        follow_up: follow_up.map(|(title, hours)| FollowUp {
            title: title.to_string(),
            within: Duration::from_secs(hours * HOUR),
        }),
    };
    vec![
        severity("P0", 2, Some(2), Some(("Post-incident review", 24))),
        severity("P1", 2, Some(24), Some(("Root cause analysis", 48))),
        severity("P2", 1, None, None),
    ]
}

impl Policy {
    /// The policy of a repository without `.github/hotfix-policy.yml`.
    pub fn builtin() -> Policy {
        Policy {
            hotfix: hotfix_match(),
            workflow: Workflow::GitFlow,
            branches: branches(),
            roles: BTreeMap::new(),
            severities: severities(),
            approvals: approval_settings(),
            checks: Checks {
                version_bump: Some(VersionBump {
                    files: vec![VersionFile::Plain("VERSION".to_string())],
                    increment: Increment::Patch,
                }),
                merge_back: true,
                ..Checks::default()
            },
            escalation: Escalation::default(),
            release: Release::default(),
            evidence: Default::default(),
            audit: Default::default(),
            notify: Vec::new(),
        }
    }
}

/// The version files the built-in default looks for on the base branch, in
/// the order the report lists them. A repository keeps whichever of them
/// carry a version; one with none has no version rule under the default.
pub fn version_file_candidates() -> Vec<VersionFile> {
    vec![
        VersionFile::Plain("VERSION".to_string()),
        VersionFile::CargoToml("Cargo.toml".to_string()),
        VersionFile::PackageJson("package.json".to_string()),
        VersionFile::Pyproject("pyproject.toml".to_string()),
    ]
}

/// What the built-in default adapts to, all read from GitHub for one
/// repository and one pull request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositoryFacts {
    /// The repository's default branch (`default_branch` of
    /// `GET /repos/{owner}/{repo}`): production under the default.
    pub default_branch: String,
    /// The candidates of [`version_file_candidates`] that exist on the pull
    /// request's base commit and carry a readable version there
    /// (`GET /repos/{owner}/{repo}/contents/{path}?ref={base sha}`).
    pub version_files: Vec<VersionFile>,
    /// Whether the develop branch exists
    /// (`GET /repos/{owner}/{repo}/branches/develop`).
    pub develop_exists: bool,
}

/// The built-in default fitted to one repository, and the notes that say
/// what it left out and why (they are shown on the report).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adapted {
    pub policy: Policy,
    pub notes: Vec<String>,
}

impl Policy {
    /// The policy of a repository without `.github/hotfix-policy.yml`, fitted
    /// to what the repository has: production is its default branch, the
    /// version rule reads the version files that exist on the base (none:
    /// no version rule), and merge-back is required only where `develop`
    /// exists. Severities and approvals are the procedure's, unchanged.
    pub fn builtin_for(repository: &RepositoryFacts) -> Adapted {
        let mut policy = Policy::builtin();
        let mut notes = Vec::new();
        policy.branches.production = repository.default_branch.clone();
        if repository.version_files.is_empty() {
            let names: Vec<String> = version_file_candidates()
                .iter()
                .map(|f| format!("`{}`", f.path()))
                .collect();
            notes.push(format!(
                "Version bump not checked: the built-in default found no version file ({}) on the base branch",
                names.join(", ")
            ));
            policy.checks.version_bump = None;
        } else if let Some(bump) = &mut policy.checks.version_bump {
            bump.files = repository.version_files.clone();
        }
        if !repository.develop_exists {
            notes.push(format!(
                "Merge-back not required: the built-in default requires it only where a `{}` branch exists",
                policy.branches.develop
            ));
            policy.checks.merge_back = false;
        }
        Adapted { policy, notes }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The built-in policy written out as a file; parsing it must give
    /// exactly `Policy::builtin()`, so the two cannot drift apart.
    const BUILTIN_AS_YAML: &str = r#"
version: 1
hotfix:
  labels: [hotfix]
  branch_prefixes: [hotfix/]
workflow: git-flow
branches:
  production: main
  develop: develop
severities:
  P0:
    labels: [P0]
    approvals: { count: 2 }
    deadline: 2h
    follow_up: { title: Post-incident review, within: 24h }
  P1:
    labels: [P1]
    approvals: { count: 2 }
    deadline: 24h
    follow_up: { title: Root cause analysis, within: 48h }
  P2:
    labels: [P2]
    approvals: { count: 1 }
approvals:
  dismiss_stale: true
  allow_author: false
  command: "/hotfix approve"
checks:
  version_bump: { files: [VERSION], increment: patch }
  merge_back: true
release:
  tag: false
  prefix: v
"#;

    #[test]
    fn builtin_equals_its_yaml_form() {
        assert_eq!(super::super::parse(BUILTIN_AS_YAML), Ok(Policy::builtin()));
    }

    #[test]
    fn absent_keys_take_the_builtin_defaults() {
        // Only `version` and a version bump: everything else is the default,
        // so the result is the built-in policy.
        let minimal = "version: 1\nchecks:\n  version_bump: {}\n";
        assert_eq!(super::super::parse(minimal), Ok(Policy::builtin()));
    }

    #[test]
    fn version_bump_is_absent_unless_given() {
        let policy = super::super::parse("version: 1\n").expect("valid");
        assert_eq!(policy.checks.version_bump, None);
        assert!(policy.checks.merge_back);
    }

    #[test]
    fn merge_back_defaults_off_outside_git_flow() {
        for workflow in ["github-flow", "trunk"] {
            let policy =
                super::super::parse(&format!("version: 1\nworkflow: {workflow}\n")).expect("valid");
            assert!(!policy.checks.merge_back, "{workflow}");
        }
    }

    fn repo(branch: &str, files: Vec<VersionFile>, develop: bool) -> RepositoryFacts {
        RepositoryFacts {
            default_branch: branch.to_string(),
            version_files: files,
            develop_exists: develop,
        }
    }

    #[test]
    fn the_default_branch_is_production() {
        let adapted = Policy::builtin_for(&repo("master", version_file_candidates(), true));
        assert_eq!(adapted.policy.branches.production, "master");
        assert!(adapted.notes.is_empty());
        // Severities and approvals stay the procedure's.
        assert_eq!(adapted.policy.severities, severities());
        assert_eq!(adapted.policy.approvals, approval_settings());
    }

    #[test]
    fn only_the_version_files_found_are_checked() {
        let found = vec![VersionFile::PackageJson("package.json".into())];
        let adapted = Policy::builtin_for(&repo("main", found.clone(), true));
        let bump = adapted.policy.checks.version_bump.expect("version rule");
        assert_eq!(bump.files, found);
        assert_eq!(bump.increment, Increment::Patch);
    }

    #[test]
    fn no_version_file_skips_the_rule_with_a_note() {
        let adapted = Policy::builtin_for(&repo("main", Vec::new(), true));
        assert_eq!(adapted.policy.checks.version_bump, None);
        assert_eq!(
            adapted.notes,
            vec![
                "Version bump not checked: the built-in default found no version file (`VERSION`, `Cargo.toml`, `package.json`, `pyproject.toml`) on the base branch"
                    .to_string()
            ]
        );
    }

    #[test]
    fn merge_back_only_where_develop_exists() {
        let with = Policy::builtin_for(&repo("main", version_file_candidates(), true));
        assert!(with.policy.checks.merge_back);
        let without = Policy::builtin_for(&repo("main", version_file_candidates(), false));
        assert!(!without.policy.checks.merge_back);
        assert!(without.notes[0].starts_with("Merge-back not required"));
    }
}
