//! Small markdown helpers shared by the check run and the comment.

use crate::policy::{Increment, Policy, PolicySource, Severity, Workflow};
use crate::rules::approvals::{Approval, ApprovalVia, short_sha};
use crate::rules::{Conclusion, RuleStatus, Verdict, format_duration};

/// One table cell: no pipes or line breaks may escape it, and no marker
/// (the cell may hold an author's text, see [`quoted`]).
pub(crate) fn cell(text: &str) -> String {
    quoted(text).replace('|', "\\|")
}

/// THE neutraliser for text the app quotes but does not control (a pull
/// request's title, branch and label names, file names, version strings,
/// commit messages, logins, an error message GitHub echoes): on one line
/// (CR, LF and the other Unicode line breaks become a space: a git file
/// name may hold a newline) and with no HTML comment opener or closer
/// (`<!--` becomes `&lt;!--`, `-->` becomes `--&gt;`), so that nothing an
/// author types can start a line of the app's output or pass for one of
/// its markers (read back only from their own line, see
/// [`super::markers`]). Everything else is kept as typed.
pub fn quoted(text: &str) -> String {
    text.replace(
        [
            '\r', '\n', '\u{0b}', '\u{0c}', '\u{85}', '\u{2028}', '\u{2029}',
        ],
        " ",
    )
    .replace("<!--", "&lt;!--")
    .replace("-->", "--&gt;")
}

/// [`quoted`] for a block of several lines the app composed around quoted
/// text: each line keeps its place, none carries a comment opener or closer.
pub(crate) fn quoted_lines(block: &str) -> String {
    block.split('\n').map(quoted).collect::<Vec<_>>().join("\n")
}

pub(crate) fn icon(status: RuleStatus) -> &'static str {
    match status {
        RuleStatus::Pass => "✅",
        RuleStatus::Fail => "❌",
        RuleStatus::Skip => "➖",
        RuleStatus::Pending => "⏳",
    }
}

/// `[abc1234](url)`, or the bare short sha when no link is known.
fn commit_ref(approval: &Approval) -> String {
    let commit = approval
        .commit
        .as_deref()
        .map_or("an earlier commit".to_string(), |c| {
            short_sha(c).to_string()
        });
    match &approval.html_url {
        Some(url) => format!("[{commit}]({url})"),
        None => commit,
    }
}

/// `@alice (abc1234)` / `@bob by comment (abc1234)`, linked to the review or comment.
pub(crate) fn approval_line(approval: &Approval) -> String {
    let via = match approval.via {
        ApprovalVia::Review => "",
        ApprovalVia::Comment => " by comment",
    };
    format!("@{}{via} ({})", approval.login, commit_ref(approval))
}

pub(crate) fn source_note(source: &PolicySource) -> Option<&'static str> {
    match source {
        PolicySource::Repository => None,
        PolicySource::Organization => Some(
            "No `.github/hotfix-policy.yml` in this repository: using the organisation's policy from its `.github` repository",
        ),
        PolicySource::BuiltIn => Some(
            "No `.github/hotfix-policy.yml` in this repository or its organisation's `.github` repository: these requirements come from hotfix-guard's **built-in default policy**. To change them, add `.github/hotfix-policy.yml` on the default branch (`hotfix-guard schema` prints its format, `hotfix-guard check-config` validates it)",
        ),
    }
}

/// The verdict's title, saying where a failure's rules come from when no
/// policy file set them: a reader of the check list sees it without opening
/// the run.
pub(crate) fn shown_title(verdict: &Verdict, source: &PolicySource) -> String {
    match (source, verdict.conclusion) {
        (PolicySource::BuiltIn, Conclusion::Failure) => {
            format!("{} (built-in default policy)", verdict.title)
        }
        _ => verdict.title.clone(),
    }
}

pub(crate) fn quoted_list(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a severity requires, one line each.
pub(crate) fn requirements(policy: &Policy, severity: &Severity) -> Vec<String> {
    let mut lines = Vec::new();
    let approvals = &severity.approvals;
    if !approvals.roles.is_empty() {
        let roles: Vec<String> = approvals
            .roles
            .iter()
            .map(|role| {
                let members: Vec<String> = policy
                    .roles
                    .get(role)
                    .map(|m| m.iter().map(ToString::to_string).collect())
                    .unwrap_or_default();
                if members.is_empty() {
                    format!("**{role}** (no members defined)")
                } else {
                    format!("**{role}** ({})", members.join(", "))
                }
            })
            .collect();
        lines.push(format!(
            "A different person approves for each role: {}",
            roles.join(", ")
        ));
    }
    if let Some(n) = approvals.count.filter(|n| *n > 0) {
        let total = if approvals.roles.is_empty() {
            ""
        } else {
            " in total"
        };
        let noun = if n == 1 { "approval" } else { "approvals" };
        lines.push(format!(
            "At least {n} {noun}{total} from people with write access"
        ));
    }
    if !approvals.roles.is_empty() || approvals.count.unwrap_or(0) > 0 {
        let mut how = Vec::new();
        if policy.approvals.dismiss_stale {
            how.push("approvals count on the head commit only".to_string());
        }
        if !policy.approvals.allow_author {
            how.push("the author's own approval never counts".to_string());
        }
        let command = policy.approvals.command.trim();
        if !command.is_empty() {
            let who = if approvals.roles.is_empty() {
                "people with write access"
            } else {
                "role members"
            };
            how.push(format!("{who} may approve by commenting `{command}`"));
        }
        if !how.is_empty() {
            let mut line = how.join("; ");
            if let Some(first) = line.get(..1) {
                line = first.to_uppercase() + line.get(1..).unwrap_or_default();
            }
            lines.push(line);
        }
    }
    if let Some(deadline) = severity.deadline {
        lines.push(format!(
            "Fix deployed within {} of the severity being set",
            format_duration(deadline)
        ));
    }
    if let Some(follow_up) = &severity.follow_up {
        lines.push(format!(
            "{} within {} of the merge",
            follow_up.title,
            format_duration(follow_up.within)
        ));
    }
    lines.push(format!("Targets `{}`", policy.branches.production));
    let checks = &policy.checks;
    if let Some(bump) = &checks.version_bump {
        let how = match bump.increment {
            Increment::Patch => "patch",
            Increment::Minor => "minor",
            Increment::AnyGreater => "any greater",
        };
        let files: Vec<String> = bump.files.iter().map(|f| f.path().to_string()).collect();
        lines.push(format!("Version bump ({how}) in {}", quoted_list(&files)));
    }
    if !checks.require_tests.is_empty() {
        lines.push(format!(
            "A changed file matches {}",
            quoted_list(&checks.require_tests)
        ));
    }
    if let Some(max) = checks.max_changed_files {
        lines.push(format!("At most {max} changed files"));
    }
    if let Some(max) = checks.max_changed_lines {
        lines.push(format!("At most {max} changed lines"));
    }
    if let Some(pattern) = &checks.title_pattern {
        lines.push(format!("Title matches `{pattern}`"));
    }
    if checks.merge_back && policy.workflow == Workflow::GitFlow {
        lines.push(format!(
            "After the merge, `{}` receives the fix",
            policy.branches.develop
        ));
    }
    lines
}

/// GitHub rejects check-run summaries and texts over 65535 characters; cut
/// on a line (or at least a char) boundary and say so.
pub(crate) fn limit(text: String, max: usize) -> String {
    if text.len() <= max {
        return text;
    }
    const NOTE: &str =
        "\n\n… _Truncated: the full report is longer than GitHub allows for a check run._";
    let mut cut = max.saturating_sub(NOTE.len());
    while cut > 0 && !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let head = text.get(..cut).unwrap_or_default();
    let head = match head.rfind('\n') {
        Some(nl) if nl > cut / 2 => head.get(..nl).unwrap_or(head),
        _ => head,
    };
    format!("{head}{NOTE}")
}

/// Writes `@login` and `@org/team` as code, so that they read as names but
/// notify nobody: the sticky comment is created on every hotfix and edited as
/// it progresses, and a mention there would page people each time.
/// Escalation comments are where the app means to notify.
pub(crate) fn quiet_mentions(text: &str) -> String {
    static MENTION: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"(^|[\s(,;:])@([A-Za-z0-9][A-Za-z0-9-]*(?:\[bot\])?(?:/[A-Za-z0-9_.-]+)?)",
        )
        .ok()
    });
    match MENTION.as_ref() {
        Some(re) => re.replace_all(text, "$1`@$2`").into_owned(),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod quiet_tests {
    use super::quiet_mentions;

    #[test]
    fn mentions_become_code_and_notify_nobody() {
        assert_eq!(
            quiet_mentions("set by @dana; members: @acme/on-call, (@bob) and @renovate[bot]"),
            "set by `@dana`; members: `@acme/on-call`, (`@bob`) and `@renovate[bot]`"
        );
        assert_eq!(quiet_mentions("@alice approved"), "`@alice` approved");
        // Already code, e-mail addresses and links stay as they are.
        assert_eq!(quiet_mentions("`@acme/on-call`"), "`@acme/on-call`");
        assert_eq!(
            quiet_mentions("mail ops@example.com"),
            "mail ops@example.com"
        );
        assert_eq!(quiet_mentions("[@x](https://h/x)"), "[@x](https://h/x)");
    }
}

/// `text` written by someone else (a pull request title, a commit message)
/// made inert for a place the app writes: no HTML (so no comment marker
/// the app reads back), no mention that notifies (`@` gets a zero-width
/// space), no code span or table cell to break out of.
pub fn inert(text: &str) -> String {
    quoted(text)
        .replace('|', "\\|")
        .replace('`', "'")
        .replace('<', "&lt;")
        .replace('@', "@\u{200b}")
}

#[cfg(test)]
mod quoted_tests {
    use super::quoted;

    #[test]
    fn markers_and_line_breaks_do_not_survive() {
        assert_eq!(
            quoted("fix: loop <!-- hotfix-guard:follow-up #999 -->"),
            "fix: loop &lt;!-- hotfix-guard:follow-up #999 --&gt;"
        );
        // A git file name may hold a newline: it must not start a line.
        assert_eq!(
            quoted("src/a.rs\n<!-- hotfix-guard:escalation level=1 -->"),
            "src/a.rs &lt;!-- hotfix-guard:escalation level=1 --&gt;"
        );
        assert_eq!(quoted("a\r\nb\u{2028}c\u{85}d"), "a  b c d");
        // Overlapping and nested forms leave no opener or closer behind.
        for nasty in ["<<!--!---->>", "<!--->", "<!<!----", "--->"] {
            let got = quoted(nasty);
            assert!(
                !got.contains("<!--") && !got.contains("-->"),
                "{nasty} → {got}"
            );
        }
        // Plain text is kept exactly.
        assert_eq!(
            quoted("fix: stop the login loop (v1.2.3) @dana"),
            "fix: stop the login loop (v1.2.3) @dana"
        );
    }
}

#[cfg(test)]
mod inert_tests {
    #[test]
    fn markers_and_mentions_do_not_survive() {
        let got = super::inert("fix <!-- hotfix-guard:follow-up-of #8 --> @acme/everyone `x` | y");
        assert!(!got.contains("<!--"), "{got}");
        assert!(!got.contains("@acme"), "{got}");
        assert_eq!(
            got,
            "fix &lt;!-- hotfix-guard:follow-up-of #8 --&gt; @\u{200b}acme/everyone 'x' \\| y"
        );
    }
}
