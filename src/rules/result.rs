//! The outcome of one rule, as the report renders it.

use serde::Serialize;

/// Which rule produced a result; the report names rows after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleId {
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
}

impl RuleId {
    /// Human name for table rows and lists.
    pub fn label(self) -> &'static str {
        match self {
            RuleId::Severity => "Severity",
            RuleId::SeverityProvenance => "Severity label",
            RuleId::Approvals => "Approvals",
            RuleId::TargetBranch => "Target branch",
            RuleId::VersionBump => "Version bump",
            RuleId::RequireTests => "Tests changed",
            RuleId::MaxChangedFiles => "Changed files",
            RuleId::MaxChangedLines => "Changed lines",
            RuleId::TitlePattern => "Title",
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
}

impl RuleResult {
    pub fn pass(id: RuleId, detail: impl Into<String>) -> RuleResult {
        RuleResult {
            id,
            status: RuleStatus::Pass,
            title_fragment: None,
            detail: detail.into(),
            extra_markdown: None,
        }
    }

    pub fn skip(id: RuleId, detail: impl Into<String>) -> RuleResult {
        RuleResult {
            id,
            status: RuleStatus::Skip,
            title_fragment: None,
            detail: detail.into(),
            extra_markdown: None,
        }
    }

    pub fn fail(id: RuleId, fragment: impl Into<String>, detail: impl Into<String>) -> RuleResult {
        RuleResult {
            id,
            status: RuleStatus::Fail,
            title_fragment: Some(fragment.into()),
            detail: detail.into(),
            extra_markdown: None,
        }
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
