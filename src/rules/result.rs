//! The outcome of one rule, as the report renders it.

use serde::Serialize;

/// Which rule produced a result; the report names rows after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleId {
    /// A hotfix or severity label removed by someone without write access
    /// still applies (`rules::designation`).
    Designation,
    /// The pull request carries a (valid) severity label.
    Severity,
    /// The severity label was applied by someone with write access.
    SeverityProvenance,
    Approvals,
    TargetBranch,
    VersionBump,
    RequireTests,
    MaxChangedFiles,
    MaxChangedLines,
    TitlePattern,
    /// A check run or commit status the policy requires (`require_checks`);
    /// one row per required check.
    RequiredCheck,
    /// A successful deployment of the head commit (`require_deployment`).
    Deployment,
}

impl RuleId {
    /// Human name for table rows and lists.
    pub fn label(self) -> &'static str {
        match self {
            RuleId::Designation => "Hotfix designation",
            RuleId::Severity => "Severity",
            RuleId::SeverityProvenance => "Severity label",
            RuleId::Approvals => "Approvals",
            RuleId::TargetBranch => "Target branch",
            RuleId::VersionBump => "Version bump",
            RuleId::RequireTests => "Tests changed",
            RuleId::MaxChangedFiles => "Changed files",
            RuleId::MaxChangedLines => "Changed lines",
            RuleId::TitlePattern => "Title",
            RuleId::RequiredCheck => "Required check",
            RuleId::Deployment => "Deployment",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleStatus {
    Pass,
    Fail,
    /// Not applicable or not decidable; counts as a pass.
    Skip,
    /// Waiting for something still running (a required check, a
    /// deployment): not a failure, but not a pass either.
    Pending,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleResult {
    pub id: RuleId,
    pub status: RuleStatus,
    /// Plain words for the check-run title when the rule fails
    /// ("needs on-call-manager approval", "VERSION not bumped").
    pub title_fragment: Option<String>,
    /// One line for the summary table.
    pub detail: String,
    /// Longer markdown the report shows under the rule in the check-run text.
    pub extra_markdown: Option<String>,
    /// What to do about it, for the sticky comment's next steps ("deploy
    /// `hotfix/x` to staging: …").
    pub next_step: Option<String>,
}

impl RuleResult {
    pub fn pass(id: RuleId, detail: impl Into<String>) -> RuleResult {
        RuleResult {
            id,
            status: RuleStatus::Pass,
            title_fragment: None,
            detail: detail.into(),
            extra_markdown: None,
            next_step: None,
        }
    }

    pub fn skip(id: RuleId, detail: impl Into<String>) -> RuleResult {
        RuleResult {
            id,
            status: RuleStatus::Skip,
            title_fragment: None,
            detail: detail.into(),
            extra_markdown: None,
            next_step: None,
        }
    }

    pub fn fail(id: RuleId, fragment: impl Into<String>, detail: impl Into<String>) -> RuleResult {
        RuleResult {
            id,
            status: RuleStatus::Fail,
            title_fragment: Some(fragment.into()),
            detail: detail.into(),
            extra_markdown: None,
            next_step: None,
        }
    }

    pub fn pending(
        id: RuleId,
        fragment: impl Into<String>,
        detail: impl Into<String>,
    ) -> RuleResult {
        RuleResult {
            id,
            status: RuleStatus::Pending,
            title_fragment: Some(fragment.into()),
            detail: detail.into(),
            extra_markdown: None,
            next_step: None,
        }
    }

    pub fn with_next_step(mut self, step: impl Into<String>) -> RuleResult {
        self.next_step = Some(step.into());
        self
    }

    pub fn with_markdown(mut self, markdown: Option<String>) -> RuleResult {
        self.extra_markdown = markdown;
        self
    }

    /// Skip counts as a pass: only an explicit failure blocks.
    pub fn is_failure(&self) -> bool {
        self.status == RuleStatus::Fail
    }
}
