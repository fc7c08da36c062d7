//! The sticky comment: one per pull request, found again by its marker and
//! edited only when its text changes. It therefore depends on the verdict
//! alone (absolute times, never "time remaining").

use crate::policy::{Policy, PolicySource};
use crate::report::markdown::{
    approval_line, icon, quoted, quoted_lines, shown_title, source_note,
};
use crate::report::notices::{NoticeFacts, NoticeKind, fenced, render as render_notice};
use crate::report::procedure::next_steps;
use crate::report::timing::{Moment, deadline_lines};
use crate::rules::{Conclusion, Verdict, format_duration, format_utc_minute};

pub const COMMENT_MARKER: &str = "<!-- hotfix-guard -->";

/// `None` for a pull request that is not a hotfix (no comment). Without a
/// [`Moment`]: no clock and no filled-in notice (see [`sticky_comment_at`]).
pub fn sticky_comment(verdict: &Verdict, policy: &Policy, source: PolicySource) -> Option<String> {
    render(verdict, policy, source, None).map(|text| super::markdown::quiet_mentions(&text))
}

/// The sticky comment as the app posts it: with the time left or overdue,
/// the escalations posted, and the procedure's notice for this pull request
/// filled in under the next steps.
pub fn sticky_comment_at(
    verdict: &Verdict,
    policy: &Policy,
    source: PolicySource,
    moment: &Moment<'_>,
) -> Option<String> {
    render(verdict, policy, source, Some(moment)).map(|text| super::markdown::quiet_mentions(&text))
}

fn render(
    verdict: &Verdict,
    policy: &Policy,
    source: PolicySource,
    moment: Option<&Moment<'_>>,
) -> Option<String> {
    if !verdict.is_hotfix {
        return None;
    }
    let severity = verdict
        .severity
        .as_deref()
        .and_then(|name| policy.severities.iter().find(|s| s.name == name));
    let mut out = String::new();
    out.push_str(COMMENT_MARKER);
    out.push('\n');

    let status = match verdict.conclusion {
        Conclusion::Success => "✅ ready: all requirements met".to_string(),
        Conclusion::Pending => format!("⏳ {}", quoted(&shown_title(verdict, &source))),
        Conclusion::Failure | Conclusion::Neutral => {
            format!("❌ {}", quoted(&shown_title(verdict, &source)))
        }
    };
    let heading = match &verdict.severity {
        Some(name) => format!("🚑 {name} hotfix"),
        None => "🚑 Hotfix".to_string(),
    };
    out.push_str(&format!("### {heading} — {status}\n\n"));

    // Severity and deadline.
    match (&verdict.severity, &verdict.severity_set_by) {
        (Some(name), Some((who, at))) => out.push_str(&format!(
            "- **Severity:** {name}, set by @{who} at {}\n",
            format_utc_minute(*at)
        )),
        (Some(name), None) => out.push_str(&format!("- **Severity:** {name}\n")),
        (None, _) => out.push_str("- **Severity:** none valid yet\n"),
    }
    // The deadline may be a less severe label's than the severity in force
    // (one only a non-writer applied does not count, nor stop the clock).
    let running = verdict
        .deadline_severity
        .as_deref()
        .and_then(|name| policy.severities.iter().find(|s| s.name == name));
    if let (Some(deadline), Some(s)) = (verdict.deadline, running) {
        let mut within = s.deadline.map(format_duration).unwrap_or_default();
        if verdict.severity.as_deref() != Some(s.name.as_str()) {
            within = format!("{}'s {within}", s.name);
        }
        match moment.and_then(|m| deadline_lines(verdict, &within, m)) {
            Some(lines) => out.push_str(&lines),
            None => out.push_str(&format!(
                "- **Deploy by:** {} ({within} deadline)\n",
                format_utc_minute(deadline)
            )),
        }
    }
    out.push('\n');

    if let Some(report) = &verdict.approvals {
        out.push_str("**Approvals**\n\n");
        for slot in &report.roles {
            match &slot.filled_by {
                Some(a) => out.push_str(&format!("- [x] {}: {}\n", slot.role, approval_line(a))),
                None if slot.members.is_empty() => out.push_str(&format!(
                    "- [ ] {}: waiting — the role has no members\n",
                    slot.role
                )),
                None => out.push_str(&format!(
                    "- [ ] {}: waiting — members: {}\n",
                    slot.role,
                    slot.members
                        .iter()
                        .map(|m| m.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            }
        }
        if let Some(count) = &report.count {
            let tick = if count.met() { "x" } else { " " };
            let who: Vec<String> = count.writers.iter().map(|w| format!("@{w}")).collect();
            let who = if who.is_empty() {
                String::new()
            } else {
                format!(": {}", who.join(", "))
            };
            let noun = if count.required == 1 {
                "approval"
            } else {
                "approvals"
            };
            out.push_str(&format!(
                "- [{tick}] {} of {} {noun} from people with write access{who}\n",
                count.writers.len(),
                count.required
            ));
        }
        if !report.blocked_by.is_empty() {
            let who: Vec<String> = report.blocked_by.iter().map(|w| format!("@{w}")).collect();
            out.push_str(&format!("- ⛔ changes requested by {}\n", who.join(", ")));
        }
        let waiting = report.roles.iter().any(|s| s.filled_by.is_none())
            || report.count.as_ref().is_some_and(|c| !c.met());
        let command = policy.approvals.command.trim();
        if waiting && !command.is_empty() {
            out.push_str(&format!(
                "\n_Approve with a review of the head commit, or comment `{command}`._\n"
            ));
        }
        out.push('\n');
    }

    out.push_str("**Rules**\n\n");
    for r in &verdict.results {
        out.push_str(&format!(
            "- {} {} — {}\n",
            icon(r.status),
            r.id.label(),
            // Rules quote the author's file names, versions, labels.
            quoted(&r.detail)
        ));
    }
    out.push('\n');

    if !verdict.notes.is_empty() {
        out.push_str("**Notes**\n\n");
        for note in &verdict.notes {
            out.push_str(&format!("- ⚠️ {}\n", quoted_lines(note)));
        }
        out.push('\n');
    }

    let merged = moment.is_some_and(|m| m.facts.merged_at.is_some());
    let notice = match (moment, severity) {
        (Some(m), Some(s)) => NoticeKind::for_hotfix(&s.name, merged).and_then(|kind| {
            let follow_up = s.follow_up.as_ref().map(|f| (f.title.clone(), f.within));
            NoticeFacts::gather(verdict, m.facts, follow_up).map(|facts| (kind, facts))
        }),
        _ => None,
    };
    out.push_str("**Next steps**\n\n");
    // What the evidence rules ask for first: it is what blocks the merge.
    for step in verdict.results.iter().filter_map(|r| r.next_step.as_ref()) {
        out.push_str(&format!("- {}\n", quoted_lines(step)));
    }
    for step in next_steps(severity, merged, notice.is_some()) {
        out.push_str(&format!("- {step}\n"));
    }
    if let Some((kind, facts)) = &notice {
        out.push_str(&format!(
            "\n<details><summary>{}, filled in: ready to copy</summary>\n\n{}\n\n</details>\n",
            kind.title(),
            fenced(&render_notice(*kind, facts))
        ));
    }

    if let Some(note) = source_note(&source) {
        out.push_str(&format!("\n<sub>{note}.</sub>\n"));
    }
    Some(out)
}
