//! The procedure's communication templates, filled with one pull request's
//! facts: the P0 initial alert, the P1 status update and the P0 resolution
//! notice, written in this project's words. Plain text, ready to paste into
//! chat or e-mail; what only people know (impact, root cause, incident
//! commander) is left as a `[bracketed]` blank.
//!
//! Pure (facts in, text out) so that a later notifier can send the same
//! text to Slack or a webhook; the sticky comment shows it under its next
//! steps.

use chrono::{DateTime, Utc};

use crate::report::markdown::quoted;
use crate::rules::{PullRequestFacts, Verdict, format_utc_minute};

/// Which notice; the procedure's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    P0InitialAlert,
    P1StatusUpdate,
    P0ResolutionNotice,
}

impl NoticeKind {
    pub fn title(self) -> &'static str {
        match self {
            NoticeKind::P0InitialAlert => "P0 initial alert",
            NoticeKind::P1StatusUpdate => "P1 status update",
            NoticeKind::P0ResolutionNotice => "P0 resolution notice",
        }
    }

    /// The notice the procedure calls for at this point: P0 while open (the
    /// alert) and once merged (the resolution), P1 throughout (updates).
    /// Other severities send none.
    pub fn for_hotfix(severity: &str, merged: bool) -> Option<NoticeKind> {
        match (severity.to_ascii_uppercase().as_str(), merged) {
            ("P0", false) => Some(NoticeKind::P0InitialAlert),
            ("P0", true) => Some(NoticeKind::P0ResolutionNotice),
            ("P1", _) => Some(NoticeKind::P1StatusUpdate),
            _ => None,
        }
    }
}

/// The facts a notice states, all from GitHub: the pull request
/// (`GET /repos/{o}/{r}/pulls/{n}`), who set the severity label and when
/// (its `labeled` timeline event), approvals (reviews and approval
/// commands), the merge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeFacts {
    pub severity: String,
    /// Login and time of the `labeled` event that set the severity.
    pub set_by: Option<(String, DateTime<Utc>)>,
    /// When the incident clock started: the severity's label time, else
    /// when the pull request was opened.
    pub started: DateTime<Utc>,
    pub repository: String,
    pub number: u64,
    pub title: String,
    pub url: Option<String>,
    pub author: String,
    pub opened: DateTime<Utc>,
    pub deadline: Option<DateTime<Utc>>,
    /// Approvals that count, oldest first: login and time.
    pub approvals: Vec<(String, DateTime<Utc>)>,
    pub approvals_needed: bool,
    pub approved: bool,
    pub merged: Option<(DateTime<Utc>, Option<String>)>,
    /// The follow-up the severity requires after the merge, and its due time.
    pub follow_up: Option<(String, DateTime<Utc>)>,
}

impl NoticeFacts {
    /// `None` when the verdict has no valid severity.
    pub fn gather(
        verdict: &Verdict,
        facts: &PullRequestFacts,
        follow_up: Option<(String, std::time::Duration)>,
    ) -> Option<NoticeFacts> {
        let severity = verdict.severity.clone()?;
        let started = verdict
            .severity_set_by
            .as_ref()
            .map_or(facts.created_at, |(_, at)| *at);
        let mut approvals: Vec<(String, DateTime<Utc>)> = verdict
            .approvals
            .iter()
            .flat_map(|r| r.approvals.iter())
            .filter_map(|a| Some((a.login.clone(), a.at?)))
            .collect();
        approvals.sort_by_key(|(_, at)| *at);
        let merged = facts.merged_at.map(|at| (at, facts.merged_by.clone()));
        let follow_up = match (follow_up, facts.merged_at) {
            (Some((title, within)), Some(at)) => chrono::Duration::from_std(within)
                .ok()
                .and_then(|d| at.checked_add_signed(d))
                .map(|due| (title, due)),
            _ => None,
        };
        Some(NoticeFacts {
            severity,
            set_by: verdict.severity_set_by.clone(),
            started,
            repository: facts.repository.clone(),
            number: facts.number,
            // The author's title and login, quoted in the app's own sticky
            // comment and in notices: neutralised once, here.
            title: quoted(&facts.title),
            url: facts.html_url.clone(),
            author: quoted(&facts.author),
            opened: facts.created_at,
            deadline: verdict.deadline,
            approvals_needed: verdict.approvals.is_some(),
            approved: verdict
                .results
                .iter()
                .all(|r| r.id != crate::rules::RuleId::Approvals || !r.is_failure()),
            approvals,
            merged,
            follow_up,
        })
    }

    fn fix_line(&self) -> String {
        let mut line = format!("{}#{} \"{}\"", self.repository, self.number, self.title);
        if let Some(url) = &self.url {
            line.push_str(&format!(" ({url})"));
        }
        line
    }

    fn severity_line(&self) -> String {
        match &self.set_by {
            Some((who, at)) => format!(
                "{} (set by {who} at {})",
                self.severity,
                format_utc_minute(*at)
            ),
            None => self.severity.clone(),
        }
    }

    /// What happened, oldest first: opened, severity set, approvals, merge.
    fn timeline(&self) -> Vec<(DateTime<Utc>, String)> {
        let mut events = vec![(
            self.opened,
            format!("hotfix pull request opened by {}", self.author),
        )];
        if let Some((who, at)) = &self.set_by {
            events.push((*at, format!("severity {} set by {who}", self.severity)));
        }
        for (who, at) in &self.approvals {
            events.push((*at, format!("approved by {who}")));
        }
        if let Some((at, by)) = &self.merged {
            events.push((
                *at,
                match by {
                    Some(by) => format!("fix merged by {by}"),
                    None => "fix merged".to_string(),
                },
            ));
        }
        events.sort_by_key(|(at, _)| *at);
        events
    }
}

fn human(d: chrono::Duration) -> String {
    crate::rules::format_span(d)
}

/// The notice's text, lines joined by `\n`, no trailing newline.
pub fn render(kind: NoticeKind, facts: &NoticeFacts) -> String {
    let mut lines: Vec<String> = Vec::new();
    let deadline = facts
        .deadline
        .map(|d| format!("Deploy deadline: {}", format_utc_minute(d)));
    match kind {
        NoticeKind::P0InitialAlert => {
            lines.push("🚨 CRITICAL INCIDENT (P0): production fix in progress".to_string());
            lines.push(
                if facts.approved || !facts.approvals_needed {
                    "Status: fix approved, deploying"
                } else {
                    "Status: fix under review"
                }
                .to_string(),
            );
            lines.push("Impact: [what is down, for whom]".to_string());
            lines.push(format!("Severity: {}", facts.severity_line()));
            lines.push(format!("Started: {}", format_utc_minute(facts.started)));
            lines.extend(deadline);
            lines.push(format!("Fix: {}", facts.fix_line()));
            lines.push("Incident commander: [name]".to_string());
            lines.push(
                "Next update: in 15 minutes, and every 15 minutes until resolved".to_string(),
            );
        }
        NoticeKind::P1StatusUpdate => {
            let status = match (&facts.merged, facts.approved || !facts.approvals_needed) {
                (Some((at, _)), _) => {
                    format!("fix merged at {}, monitoring", format_utc_minute(*at))
                }
                (None, true) => "fix approved, deploying".to_string(),
                (None, false) => "fix under review, waiting for approvals".to_string(),
            };
            lines.push(format!("⚠️ Issue update (P1): {}", facts.title));
            lines.push(format!("Status: {status}"));
            lines.push("Impact: [what is broken now, for whom]".to_string());
            lines.push(format!("Severity: {}", facts.severity_line()));
            lines.push(format!("Started: {}", format_utc_minute(facts.started)));
            lines.extend(deadline);
            lines.push(format!("Fix: {}", facts.fix_line()));
            lines.push("Next update: [when], or when resolved".to_string());
        }
        NoticeKind::P0ResolutionNotice => {
            // Any severity's merge announces its resolution in these words.
            lines.push(format!(
                "✅ RESOLVED ({}): production fix merged",
                facts.severity
            ));
            lines.push("Status: resolved".to_string());
            match &facts.merged {
                Some((at, _)) => lines.push(format!(
                    "Resolution time: {} (from {} to the merge at {})",
                    human(*at - facts.started),
                    format_utc_minute(facts.started),
                    format_utc_minute(*at)
                )),
                None => lines.push("Resolution time: [not merged yet]".to_string()),
            }
            lines.push("Root cause: [one line]".to_string());
            lines.push(format!("Fix: {}", facts.fix_line()));
            lines.push("Timeline:".to_string());
            for (at, what) in facts.timeline() {
                lines.push(format!("{} - {what}", format_utc_minute(at)));
            }
            match &facts.follow_up {
                Some((title, due)) => {
                    lines.push(format!("{title} due by {}.", format_utc_minute(*due)));
                }
                None => lines.push("Post-incident review: [when]".to_string()),
            }
        }
    }
    lines.join("\n")
}

/// One of the procedure's moments a `notify` target hears of, with what
/// only that moment knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventNotice {
    /// The pull request became a hotfix of its severity.
    Declared,
    /// Its severity changed from `from`.
    SeverityChanged { from: String },
    /// All approvals are in.
    Approved,
    /// Escalation `level` (1 or 2) was posted, mentioning `mentioned`.
    Escalated { level: u8, mentioned: Vec<String> },
    /// Merged: the resolution notice.
    Merged,
    /// Closed without merging.
    ClosedUnmerged,
}

/// The text of an event's notice, lines joined by `\n`. The declaration
/// and the merge are the procedure's templates (`render`): the initial
/// alert (P0), the status update (P1) or, for other severities, the same
/// lines under a plain heading; the resolution notice for every severity.
pub fn render_event(event: &EventNotice, facts: &NoticeFacts) -> String {
    let deadline = facts
        .deadline
        .map(|d| format!("Deploy deadline: {}", format_utc_minute(d)));
    let mut lines: Vec<String> = Vec::new();
    match event {
        EventNotice::Declared => {
            if let Some(kind) = NoticeKind::for_hotfix(&facts.severity, false) {
                return render(kind, facts);
            }
            lines.push(format!("🔧 Hotfix ({}): {}", facts.severity, facts.title));
            lines.push(format!("Severity: {}", facts.severity_line()));
            lines.push(format!("Started: {}", format_utc_minute(facts.started)));
            lines.extend(deadline);
            lines.push(format!("Fix: {}", facts.fix_line()));
        }
        EventNotice::SeverityChanged { from } => {
            lines.push(format!(
                "↕️ Severity changed ({from} → {}): {}",
                facts.severity, facts.title
            ));
            lines.push(format!("Severity: {}", facts.severity_line()));
            lines.extend(deadline);
            lines.push(format!("Fix: {}", facts.fix_line()));
        }
        EventNotice::Approved => {
            lines.push(format!(
                "🟢 Fix approved ({}): ready to deploy",
                facts.severity
            ));
            let approvals: Vec<String> = facts
                .approvals
                .iter()
                .map(|(who, at)| format!("{who} at {}", format_utc_minute(*at)))
                .collect();
            if !approvals.is_empty() {
                lines.push(format!("Approvals: {}", approvals.join(", ")));
            }
            lines.push(format!("Severity: {}", facts.severity_line()));
            lines.extend(deadline);
            lines.push(format!("Fix: {}", facts.fix_line()));
        }
        EventNotice::Escalated { level, mentioned } => {
            let passed = match facts.deadline {
                Some(d) => format!("deploy deadline {} passed", format_utc_minute(d)),
                None => "deadline passed".to_string(),
            };
            lines.push(format!(
                "⏰ ESCALATION level {level} ({}): {passed}, fix not merged",
                facts.severity
            ));
            if !mentioned.is_empty() {
                lines.push(format!("Escalated to: {}", mentioned.join(", ")));
            }
            lines.push(format!("Severity: {}", facts.severity_line()));
            lines.push(format!("Started: {}", format_utc_minute(facts.started)));
            lines.push(format!("Fix: {}", facts.fix_line()));
        }
        EventNotice::Merged => return render(NoticeKind::P0ResolutionNotice, facts),
        EventNotice::ClosedUnmerged => {
            lines.push(format!(
                "⏹ Hotfix closed without merging ({}): {}",
                facts.severity, facts.title
            ));
            lines.push(
                "Status: this fix will not ship; the incident may still be open: [what replaces it]"
                    .to_string(),
            );
            lines.push(format!("Severity: {}", facts.severity_line()));
            lines.push(format!("Fix: {}", facts.fix_line()));
        }
    }
    lines.join("\n")
}

/// The incident's current status, for a thread's parent message (Slack's
/// `chat.update`): the declaration's text under a status tag, its
/// `Status:` line saying where the incident stands now.
pub fn render_status(event: &EventNotice, facts: &NoticeFacts) -> String {
    let (tag, status) = match event {
        EventNotice::Declared | EventNotice::SeverityChanged { .. } => ("OPEN", None),
        EventNotice::Approved => ("APPROVED", Some("fix approved, deploying".to_string())),
        EventNotice::Escalated { level, .. } => (
            "ESCALATED",
            Some(format!("deadline passed, escalation level {level} posted")),
        ),
        EventNotice::Merged => (
            "RESOLVED",
            Some(match &facts.merged {
                Some((at, _)) => format!(
                    "resolved: fix merged at {} after {}",
                    format_utc_minute(*at),
                    human(*at - facts.started)
                ),
                None => "resolved".to_string(),
            }),
        ),
        EventNotice::ClosedUnmerged => (
            "CLOSED UNMERGED",
            Some("the fix was closed without merging".to_string()),
        ),
    };
    let declared = render_event(&EventNotice::Declared, facts);
    let mut lines: Vec<String> = declared.lines().map(str::to_string).collect();
    if let Some(first) = lines.first_mut() {
        *first = format!("[{tag}] {first}");
    }
    if let Some(status) = status {
        match lines.iter_mut().find(|l| l.starts_with("Status: ")) {
            Some(line) => *line = format!("Status: {status}"),
            None => lines.insert(1.min(lines.len()), format!("Status: {status}")),
        }
    }
    lines.join("\n")
}

/// `text` in a fenced code block no backtick run inside it can close (the
/// pull request's title is the author's to choose).
pub fn fenced(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}text\n{text}\n{fence}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testutil::{p0_facts, p0_policy};

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("time")
    }

    fn sample(merged: bool) -> NoticeFacts {
        NoticeFacts {
            severity: "P0".into(),
            set_by: Some(("dana".into(), at("2026-11-26T09:06:00Z"))),
            started: at("2026-11-26T09:06:00Z"),
            repository: "acme/payments".into(),
            number: 512,
            title: "fix(auth): reject expired session tokens".into(),
            url: Some("https://github.com/acme/payments/pull/512".into()),
            author: "dana".into(),
            opened: at("2026-11-26T09:05:00Z"),
            deadline: Some(at("2026-11-26T11:06:00Z")),
            approvals: vec![
                ("alice".into(), at("2026-11-26T09:40:00Z")),
                ("erin".into(), at("2026-11-26T09:52:00Z")),
            ],
            approvals_needed: true,
            approved: true,
            merged: merged.then(|| (at("2026-11-26T10:29:00Z"), Some("alice".into()))),
            follow_up: merged.then(|| ("Post-incident review".into(), at("2026-11-27T10:29:00Z"))),
        }
    }

    #[test]
    fn each_severity_gets_the_procedures_notice() {
        assert_eq!(
            NoticeKind::for_hotfix("P0", false),
            Some(NoticeKind::P0InitialAlert)
        );
        assert_eq!(
            NoticeKind::for_hotfix("p0", true),
            Some(NoticeKind::P0ResolutionNotice)
        );
        assert_eq!(
            NoticeKind::for_hotfix("P1", true),
            Some(NoticeKind::P1StatusUpdate)
        );
        assert_eq!(NoticeKind::for_hotfix("P2", false), None);
    }

    #[test]
    fn notices_are_filled_in() {
        insta::assert_snapshot!(
            "p0_initial_alert",
            render(NoticeKind::P0InitialAlert, &sample(false))
        );
        insta::assert_snapshot!(
            "p0_resolution_notice",
            render(NoticeKind::P0ResolutionNotice, &sample(true))
        );
        let mut p1 = sample(false);
        p1.severity = "P1".into();
        p1.approved = false;
        insta::assert_snapshot!("p1_status_update", render(NoticeKind::P1StatusUpdate, &p1));
    }

    #[test]
    fn each_event_has_its_notice() {
        let open = sample(false);
        let merged = sample(true);
        insta::assert_snapshot!(
            "event_declared_p0",
            render_event(&EventNotice::Declared, &open)
        );
        insta::assert_snapshot!(
            "event_severity_changed",
            render_event(&EventNotice::SeverityChanged { from: "P1".into() }, &open)
        );
        insta::assert_snapshot!(
            "event_approved",
            render_event(&EventNotice::Approved, &open)
        );
        insta::assert_snapshot!(
            "event_escalated",
            render_event(
                &EventNotice::Escalated {
                    level: 1,
                    mentioned: vec!["@acme/incident-commanders".into()]
                },
                &open
            )
        );
        insta::assert_snapshot!("event_merged", render_event(&EventNotice::Merged, &merged));
        insta::assert_snapshot!(
            "event_closed_unmerged",
            render_event(&EventNotice::ClosedUnmerged, &open)
        );
        insta::assert_snapshot!(
            "status_resolved",
            render_status(&EventNotice::Merged, &merged)
        );
    }

    #[test]
    fn the_resolution_time_runs_from_the_severity_to_the_merge() {
        let text = render(NoticeKind::P0ResolutionNotice, &sample(true));
        assert!(text.contains("Resolution time: 1h 23m"), "{text}");
    }

    #[test]
    fn a_title_with_backticks_cannot_close_the_fence() {
        let fenced = fenced("title ```` end");
        assert!(fenced.starts_with("`````text\n"), "{fenced}");
        assert!(fenced.ends_with("\n`````"), "{fenced}");
        assert!(super::fenced("plain").starts_with("```text\n"));
    }

    #[test]
    fn gathered_from_a_verdict() {
        let policy = p0_policy();
        let facts = p0_facts();
        let verdict = crate::rules::evaluate(&policy, &facts);
        let gathered = NoticeFacts::gather(&verdict, &facts, None).expect("a severity");
        assert_eq!(gathered.severity, "P0");
        assert_eq!(gathered.repository, facts.repository);
    }
}
