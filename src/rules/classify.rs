//! Is this pull request a hotfix, and of which severity?

use serde::Serialize;

use crate::policy::{Policy, Severity};

/// What made a pull request a hotfix. Both are kept when both match: labels
/// are cheap to change, and the branch prefix keeps a hotfix from hiding by
/// dropping its label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum HotfixReason {
    /// The pull request carries this hotfix label (spelled as the policy spells it).
    Label { label: String },
    /// The head branch starts with this prefix.
    BranchPrefix { prefix: String },
    /// Both a hotfix label and a hotfix branch prefix.
    LabelAndBranch { label: String, prefix: String },
}

impl std::fmt::Display for HotfixReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HotfixReason::Label { label } => write!(f, "label `{label}`"),
            HotfixReason::BranchPrefix { prefix } => write!(f, "branch prefix `{prefix}`"),
            HotfixReason::LabelAndBranch { label, prefix } => {
                write!(f, "label `{label}` and branch prefix `{prefix}`")
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Classification<'p> {
    NotHotfix,
    Hotfix {
        reason: HotfixReason,
        /// The first severity, in policy order (most severe first), whose
        /// label the pull request carries.
        severity: Option<&'p Severity>,
    },
}

impl<'p> Classification<'p> {
    pub fn is_hotfix(&self) -> bool {
        matches!(self, Classification::Hotfix { .. })
    }

    /// The severity a hotfix carries; `None` for a hotfix without a
    /// severity label and for a pull request that is not a hotfix.
    pub fn severity(&self) -> Option<&'p Severity> {
        match self {
            Classification::Hotfix { severity, .. } => *severity,
            Classification::NotHotfix => None,
        }
    }
}

/// GitHub label names are case-insensitive.
pub(crate) fn same_label(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

pub(crate) fn has_label(labels: &[String], wanted: &str) -> bool {
    labels.iter().any(|l| same_label(l, wanted))
}

/// The first severity in policy order whose label is among `labels`.
pub fn severity_of<'p>(policy: &'p Policy, labels: &[String]) -> Option<&'p Severity> {
    policy
        .severities
        .iter()
        .find(|s| s.labels.iter().any(|wanted| has_label(labels, wanted)))
}

pub fn classify<'p>(policy: &'p Policy, labels: &[String], head_ref: &str) -> Classification<'p> {
    let label = policy
        .hotfix
        .labels
        .iter()
        .find(|wanted| has_label(labels, wanted))
        .cloned();
    // Branch names are case-sensitive in git, so the prefix is too.
    let prefix = policy
        .hotfix
        .branch_prefixes
        .iter()
        .find(|p| !p.is_empty() && head_ref.starts_with(p.as_str()))
        .cloned();
    let reason = match (label, prefix) {
        (None, None) => return Classification::NotHotfix,
        (Some(label), None) => HotfixReason::Label { label },
        (None, Some(prefix)) => HotfixReason::BranchPrefix { prefix },
        (Some(label), Some(prefix)) => HotfixReason::LabelAndBranch { label, prefix },
    };
    Classification::Hotfix {
        reason,
        severity: severity_of(policy, labels),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testutil::p0_policy;

    fn labels(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn severity_name(c: &Classification<'_>) -> Option<String> {
        match c {
            Classification::Hotfix { severity, .. } => severity.map(|s| s.name.clone()),
            Classification::NotHotfix => None,
        }
    }

    #[test]
    fn plain_feature_branch_is_not_a_hotfix() {
        let policy = p0_policy();
        assert_eq!(
            classify(&policy, &labels(&["P0", "bug"]), "feature/x"),
            Classification::NotHotfix
        );
    }

    #[test]
    fn hotfix_label_matches_case_insensitively() {
        let policy = p0_policy();
        let c = classify(&policy, &labels(&["HotFix"]), "feature/x");
        assert_eq!(
            c,
            Classification::Hotfix {
                reason: HotfixReason::Label {
                    label: "hotfix".into()
                },
                severity: None
            }
        );
    }

    #[test]
    fn branch_prefix_alone_makes_a_hotfix() {
        let policy = p0_policy();
        let c = classify(&policy, &[], "hotfix/login");
        assert!(matches!(
            c,
            Classification::Hotfix {
                reason: HotfixReason::BranchPrefix { ref prefix },
                severity: None
            } if prefix == "hotfix/"
        ));
    }

    #[test]
    fn branch_prefix_is_case_sensitive_like_git() {
        let policy = p0_policy();
        assert_eq!(
            classify(&policy, &[], "Hotfix/login"),
            Classification::NotHotfix
        );
    }

    #[test]
    fn both_label_and_prefix_are_reported() {
        let policy = p0_policy();
        let c = classify(&policy, &labels(&["hotfix", "P1"]), "hotfix/login");
        match c {
            Classification::Hotfix { reason, severity } => {
                assert_eq!(
                    reason,
                    HotfixReason::LabelAndBranch {
                        label: "hotfix".into(),
                        prefix: "hotfix/".into()
                    }
                );
                assert_eq!(severity.map(|s| s.name.as_str()), Some("P1"));
            }
            Classification::NotHotfix => panic!("expected a hotfix"),
        }
    }

    #[test]
    fn most_severe_label_wins_in_policy_order() {
        let policy = p0_policy();
        // Label order on the pull request must not matter.
        let c = classify(&policy, &labels(&["P2", "hotfix", "p0"]), "x");
        assert_eq!(severity_name(&c).as_deref(), Some("P0"));
        let c = classify(&policy, &labels(&["P2", "hotfix", "P1"]), "x");
        assert_eq!(severity_name(&c).as_deref(), Some("P1"));
    }
}
