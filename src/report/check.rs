//! The `hotfix-policy` check run's output.

use crate::policy::{Policy, PolicySource, Severity};
use crate::report::markdown::{
    approval_line, cell, icon, limit, quoted, quoted_lines, requirements, shown_title, source_note,
};
use crate::rules::{RuleResult, Verdict, format_duration, format_utc_minute};

/// GitHub's limit for a check run's `summary` and `text` is 65535 characters;
/// bytes are at least as many, so staying under it in bytes is safe.
pub const MAX_OUTPUT_BYTES: usize = 65_535;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckOutput {
    /// `"success"`, `"failure"` or `"neutral"`.
    pub conclusion: &'static str,
    pub title: String,
    pub summary: String,
    pub text: Option<String>,
}

fn find_severity<'p>(policy: &'p Policy, name: Option<&str>) -> Option<&'p Severity> {
    let name = name?;
    policy.severities.iter().find(|s| s.name == name)
}

pub fn check_output(verdict: &Verdict, policy: &Policy, source: PolicySource) -> CheckOutput {
    let mut summary = String::new();
    if let Some(note) = source_note(&source) {
        summary.push_str(&format!("> {note}.\n\n"));
    }
    if !verdict.is_hotfix {
        summary.push_str(&not_a_hotfix_summary(policy));
        return CheckOutput {
            conclusion: verdict.conclusion.as_str(),
            title: verdict.title.clone(),
            summary: limit(summary, MAX_OUTPUT_BYTES),
            text: None,
        };
    }

    let severity = find_severity(policy, verdict.severity.as_deref());
    summary.push_str(&headline(verdict));
    summary.push_str("\n\n");
    summary.push_str(&rules_table(&verdict.results));
    match severity {
        Some(severity) => {
            summary.push_str(&format!("\n**What {} requires**\n\n", severity.name));
            for line in requirements(policy, severity) {
                summary.push_str(&format!("- {line}\n"));
            }
            if let Some(deadline) = verdict.deadline {
                summary.push_str(&format!(
                    "\nDeploy by **{}**.\n",
                    format_utc_minute(deadline)
                ));
            }
        }
        None => {
            // No severity counts, but a clock may still run (a writer's
            // less severe label, or one nobody is known to have applied).
            if let Some((running, deadline)) = verdict.running_deadline(policy) {
                summary.push_str(&format!(
                    "\n{}'s deadline runs: escalation is posted if this is not deployed in time.\n\nDeploy by **{}**.\n",
                    running.name,
                    format_utc_minute(deadline)
                ));
            }
            summary.push_str(&severity_choices(policy));
        }
    }

    let text = details(verdict);
    CheckOutput {
        conclusion: verdict.conclusion.as_str(),
        title: quoted(&shown_title(verdict, &source)),
        summary: limit(summary, MAX_OUTPUT_BYTES),
        text: text.map(|t| limit(t, MAX_OUTPUT_BYTES)),
    }
}

/// The check run as the app writes it: the title leads with "Overdue by
/// 3d 2h" past the deadline (or ends with the time left before it), and the
/// summary's deadline line says the same.
pub fn check_output_at(
    verdict: &Verdict,
    policy: &Policy,
    source: PolicySource,
    moment: &crate::report::timing::Moment<'_>,
) -> CheckOutput {
    use crate::report::timing::{DeadlineState, deadline_state, title_with_clock};
    use crate::rules::format_span;
    let mut output = check_output(verdict, policy, source);
    let state = deadline_state(verdict, moment);
    output.title = title_with_clock(&output.title, state);
    if let Some(deadline) = verdict.deadline {
        let plain = format!("\nDeploy by **{}**.\n", format_utc_minute(deadline));
        let now = match state {
            Some(DeadlineState::Ahead(left)) => format!(" {} left.", format_span(left)),
            Some(DeadlineState::Overdue(by)) => format!(" ⏰ **Overdue by {}.**", format_span(by)),
            _ => String::new(),
        };
        if !now.is_empty() {
            let with_clock = format!("{}{now}\n", plain.trim_end());
            output.summary = output.summary.replacen(&plain, &with_clock, 1);
        }
    }
    output
}

fn not_a_hotfix_summary(policy: &Policy) -> String {
    let mut why = Vec::new();
    if !policy.hotfix.labels.is_empty() {
        let labels: Vec<String> = policy
            .hotfix
            .labels
            .iter()
            .map(|l| format!("`{l}`"))
            .collect();
        why.push(match labels.as_slice() {
            [one] => format!("does not carry the label {one}"),
            _ => format!("carries none of the labels {}", labels.join(", ")),
        });
    }
    if !policy.hotfix.branch_prefixes.is_empty() {
        let prefixes: Vec<String> = policy
            .hotfix
            .branch_prefixes
            .iter()
            .map(|p| format!("`{p}`"))
            .collect();
        why.push(format!(
            "its branch does not start with {}",
            prefixes.join(" or ")
        ));
    }
    format!(
        "This pull request is not a hotfix: it {}. No hotfix rule applies.\n",
        why.join(" and ")
    )
}

/// `**P0 hotfix** · recognised by label `hotfix` · severity set by @alice at …`
fn headline(verdict: &Verdict) -> String {
    let mut parts = vec![match &verdict.severity {
        Some(name) => format!("**{name} hotfix**"),
        None => "**Hotfix without a valid severity**".to_string(),
    }];
    if let Some(reason) = &verdict.reason {
        // The reason may name the author's branch.
        parts.push(format!("recognised by {}", quoted(&reason.to_string())));
    }
    if let Some((who, at)) = &verdict.severity_set_by {
        parts.push(format!(
            "severity set by @{who} at {}",
            format_utc_minute(*at)
        ));
    }
    parts.join(" · ")
}

fn rules_table(results: &[RuleResult]) -> String {
    let mut out = String::from("| | Rule | Detail |\n| --- | --- | --- |\n");
    for r in results {
        out.push_str(&format!(
            "| {} | {} | {} |\n",
            icon(r.status),
            r.id.label(),
            cell(&r.detail)
        ));
    }
    out
}

/// For a hotfix without a (valid) severity: what each label would demand.
fn severity_choices(policy: &Policy) -> String {
    if policy.severities.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "\n**Add exactly one severity label** (applied by someone with write access):\n\n| Label | Approvals | Deadline |\n| --- | --- | --- |\n",
    );
    for s in &policy.severities {
        let labels: Vec<String> = s.labels.iter().map(|l| format!("`{l}`")).collect();
        let mut approvals = Vec::new();
        if !s.approvals.roles.is_empty() {
            approvals.push(s.approvals.roles.join(" + "));
        }
        if let Some(n) = s.approvals.count.filter(|n| *n > 0) {
            approvals.push(format!("{n} from writers"));
        }
        if approvals.is_empty() {
            approvals.push("none".to_string());
        }
        out.push_str(&format!(
            "| {} | {} | {} |\n",
            cell(&labels.join(", ")),
            cell(&approvals.join("; ")),
            s.deadline.map_or("—".to_string(), format_duration)
        ));
    }
    out
}

/// The check run's text: approvals by role, rule details, notes.
fn details(verdict: &Verdict) -> Option<String> {
    let mut out = String::new();
    if let Some(report) = &verdict.approvals {
        out.push_str("### Approvals\n\n");
        if !report.roles.is_empty() {
            out.push_str("| Role | Approved by |\n| --- | --- |\n");
            for slot in &report.roles {
                let who = match &slot.filled_by {
                    Some(a) => approval_line(a),
                    None if slot.members.is_empty() => {
                        "waiting — the role has no members".to_string()
                    }
                    None => format!("waiting — members: {}", slot.members.join(", ")),
                };
                out.push_str(&format!("| {} | {} |\n", cell(&slot.role), cell(&who)));
            }
            out.push('\n');
        }
        if let Some(count) = &report.count {
            let who: Vec<String> = count.writers.iter().map(|w| format!("@{w}")).collect();
            out.push_str(&format!(
                "Approvals from people with write access: **{} of {}**{}\n\n",
                count.writers.len(),
                count.required,
                if who.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", who.join(", "))
                }
            ));
        }
        let others: Vec<String> = report
            .approvals
            .iter()
            .filter(|a| {
                !report
                    .roles
                    .iter()
                    .any(|s| s.filled_by.as_ref().is_some_and(|f| f.login == a.login))
            })
            .map(approval_line)
            .collect();
        if !report.roles.is_empty() && !others.is_empty() {
            out.push_str(&format!("Other approvals: {}\n\n", others.join(", ")));
        }
        if !report.blocked_by.is_empty() {
            let who: Vec<String> = report.blocked_by.iter().map(|w| format!("@{w}")).collect();
            out.push_str(&format!(
                "Changes requested by {}: their approval is needed before this can pass.\n\n",
                who.join(", ")
            ));
        }
    }
    for r in &verdict.results {
        if let Some(extra) = &r.extra_markdown {
            // Rules quote file names, versions and commits here.
            out.push_str(&format!(
                "### {}\n\n{}\n",
                r.id.label(),
                quoted_lines(extra.trim_end())
            ));
            out.push('\n');
        }
    }
    if !verdict.notes.is_empty() {
        out.push_str("### Notes\n\n");
        for note in &verdict.notes {
            out.push_str(&format!("- {}\n", quoted_lines(note)));
        }
    }
    let out = out.trim_end().to_string();
    (!out.is_empty()).then_some(out)
}

/// The check run for a policy file that cannot be used. `errors` are
/// `(line, column, message)`, 1-based as the policy layer reports them.
pub fn policy_error_output(path: &str, errors: &[(usize, usize, String)]) -> CheckOutput {
    let file = path.rsplit('/').next().unwrap_or(path);
    let mut summary = format!(
        "The hotfix policy `{path}` on the default branch is invalid, so no pull request can be checked against it. Fix the file on the default branch; every open pull request is checked again after that push.\n\n"
    );
    if errors.is_empty() {
        summary.push_str("The file could not be read.\n");
    } else {
        summary.push_str("| Line | Column | Problem |\n| --- | --- | --- |\n");
        for (line, column, message) in errors {
            summary.push_str(&format!("| {line} | {column} | {} |\n", cell(message)));
        }
        summary.push_str("\n```\n");
        for (line, column, message) in errors {
            summary.push_str(&format!(
                "{path}:{line}:{column}: {}\n",
                quoted(message).replace('`', "'")
            ));
        }
        summary.push_str("```\n");
    }
    summary.push_str(
        "\nCheck a fix locally with `hotfix-guard check-config .github/hotfix-policy.yml`.\n",
    );
    CheckOutput {
        conclusion: "failure",
        title: format!("{file} is invalid"),
        summary: limit(summary, MAX_OUTPUT_BYTES),
        text: None,
    }
}
