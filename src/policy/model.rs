//! The validated policy: what the rules read. Built by `policy::parse` from
//! `.github/hotfix-policy.yml`, or by `Policy::builtin()`.
//!
//! These types carry no source positions: positions only matter while
//! validating, and the raw (spanned) layer in `policy::raw` keeps them.

use std::collections::BTreeMap;
use std::time::Duration;

/// Where the policy in force came from; the report says it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PolicySource {
    /// `.github/hotfix-policy.yml` on the repository's default branch.
    Repository,
    /// The organisation's `.github` repository's `.github/hotfix-policy.yml`.
    Organization,
    /// No file anywhere: the procedure's defaults.
    BuiltIn,
}

#[derive(Debug, Clone, PartialEq, Eq, Copy, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Workflow {
    GitFlow,
    GithubFlow,
    Trunk,
}

/// A role member: a user login, or a team written `org/team-slug`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Member {
    User(String),
    Team { org: String, slug: String },
}

impl Member {
    /// `"alice"` → `User`, `"acme/eng-leads"` → `Team`.
    pub fn parse(s: &str) -> Member {
        match s.split_once('/') {
            Some((org, slug)) => Member::Team {
                org: org.to_string(),
                slug: slug.to_string(),
            },
            None => Member::User(s.to_string()),
        }
    }
}

impl std::fmt::Display for Member {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Member::User(login) => write!(f, "@{login}"),
            Member::Team { org, slug } => write!(f, "@{org}/{slug}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HotfixMatch {
    pub labels: Vec<String>,
    pub branch_prefixes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Branches {
    pub production: String,
    pub develop: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeverityApprovals {
    /// One distinct approver per role, in this order.
    pub roles: Vec<String>,
    /// Minimum number of approvals from people with write access or more.
    /// With `roles`, the minimum total.
    pub count: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUp {
    pub title: String,
    pub within: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Severity {
    pub name: String,
    pub labels: Vec<String>,
    pub approvals: SeverityApprovals,
    pub deadline: Option<Duration>,
    pub follow_up: Option<FollowUp>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalSettings {
    pub dismiss_stale: bool,
    pub allow_author: bool,
    pub command: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Copy)]
pub enum Increment {
    Patch,
    Minor,
    AnyGreater,
}

/// A file that carries the version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionFile {
    /// `VERSION`: the whole file, trimmed.
    Plain(String),
    /// `Cargo.toml`: `package.version` or `workspace.package.version`.
    CargoToml(String),
    /// `package.json`: `version`.
    PackageJson(String),
    /// `pyproject.toml`: `project.version` or `tool.poetry.version`.
    Pyproject(String),
    /// `{ path, pattern }`: the regex's first capture group.
    Pattern { path: String, pattern: String },
}

impl VersionFile {
    pub fn path(&self) -> &str {
        match self {
            VersionFile::Plain(p)
            | VersionFile::CargoToml(p)
            | VersionFile::PackageJson(p)
            | VersionFile::Pyproject(p) => p,
            VersionFile::Pattern { path, .. } => path,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionBump {
    pub files: Vec<VersionFile>,
    pub increment: Increment,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Checks {
    pub version_bump: Option<VersionBump>,
    pub merge_back: bool,
    /// Globs; at least one changed file must match one. Empty: not checked.
    pub require_tests: Vec<String>,
    pub max_changed_files: Option<u32>,
    pub max_changed_lines: Option<u32>,
    /// Already validated as a regex.
    pub title_pattern: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Escalation {
    /// Mentioned when a severity's deadline passes.
    pub mention: Vec<String>,
    /// Second level: once the hotfix has been open this long since it got its
    /// severity (the procedure's "notify CEO/CTO if resolution exceeds 4
    /// hours", written `after: 4h`) ...
    pub after: Option<Duration>,
    /// ... mention these too.
    pub mention_after: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    pub tag: bool,
    pub prefix: String,
}

impl Default for Release {
    fn default() -> Self {
        Release {
            tag: false,
            prefix: "v".to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub hotfix: HotfixMatch,
    pub workflow: Workflow,
    pub branches: Branches,
    /// Role name → members (sorted by name: a role's place in the file
    /// means nothing, unlike a severity's).
    pub roles: BTreeMap<String, Vec<Member>>,
    /// Most severe first.
    pub severities: Vec<Severity>,
    pub approvals: ApprovalSettings,
    pub checks: Checks,
    pub escalation: Escalation,
    pub release: Release,
    /// Where the incident notices go (`notify`); empty: nowhere.
    pub notify: Vec<super::notify::NotifyRule>,
    /// Required checks and deployments (`require_checks`, `require_deployment`).
    pub evidence: EvidencePolicy,
    pub audit: Audit,
}

/// How a required check's `neutral` or `skipped` conclusion counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AllowedConclusions {
    /// `neutral` counts as passed.
    pub neutral: bool,
    /// `skipped` counts as passed.
    pub skipped: bool,
}

/// A check run or commit status that must have passed on the head commit
/// (`require_checks`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequiredCheck {
    /// The check run's `name` or the commit status's `context`, exactly.
    pub name: String,
    /// When set, only check runs of the GitHub App with this slug count
    /// (and commit statuses created by its bot user `<slug>[bot]`).
    pub app: Option<String>,
    /// Conclusions beyond `success` that count as passed.
    pub allow: AllowedConclusions,
}

/// `require_deployment`: a deployment of the head commit to this
/// environment whose latest status is `success`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequiredDeployment {
    /// The deployment environment's name, exactly as GitHub stores it.
    pub environment: String,
}

/// Evidence a hotfix must show before it may merge.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Evidence {
    pub checks: Vec<RequiredCheck>,
    pub deployment: Option<RequiredDeployment>,
}

impl Evidence {
    /// True when nothing is required (no reads are made for it).
    pub fn is_empty(&self) -> bool {
        self.checks.is_empty() && self.deployment.is_none()
    }
}

/// `checks.require_checks` / `checks.require_deployment` (the default for
/// every severity) and each severity's own, which replace the default for
/// that severity key by key.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EvidencePolicy {
    pub default: Evidence,
    /// Severity name → its own keys; `None` in a field means "the default".
    pub by_severity: BTreeMap<String, SeverityEvidence>,
}

/// A severity's own `require_checks` / `require_deployment`, where written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SeverityEvidence {
    /// Replaces the default list (`[]` requires no check for this severity).
    pub checks: Option<Vec<RequiredCheck>>,
    /// Replaces the default deployment. (A severity cannot drop a default
    /// deployment: write `require_deployment` per severity instead.)
    pub deployment: Option<RequiredDeployment>,
}

impl EvidencePolicy {
    /// What a hotfix of `severity` must show.
    pub fn for_severity(&self, severity: &str) -> Evidence {
        let own = self.by_severity.get(severity);
        Evidence {
            checks: own
                .and_then(|o| o.checks.clone())
                .unwrap_or_else(|| self.default.checks.clone()),
            deployment: own
                .and_then(|o| o.deployment.clone())
                .or_else(|| self.default.deployment.clone()),
        }
    }

    /// True when some severity requires evidence: only then do check and
    /// deployment events cost any API call.
    pub fn any(&self) -> bool {
        !self.default.is_empty()
            || self
                .by_severity
                .values()
                .any(|s| s.checks.as_ref().is_some_and(|c| !c.is_empty()) || s.deployment.is_some())
    }
}

/// `audit`: what the app watches on the production branch itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Audit {
    /// A push to the production branch that came through no pull request
    /// (or a force push) gets an `action_required` check run and an
    /// incident issue. Default: on for `workflow: trunk`.
    pub direct_pushes: bool,
}
