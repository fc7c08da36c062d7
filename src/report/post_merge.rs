//! Pure text for what happens after a hotfix merges: the merge-back into
//! `develop`, the release tag and the follow-up issue (the sticky comment's
//! last section), the follow-up issue's body, and escalation comments.

use chrono::{DateTime, Utc};

use crate::report::markdown::quoted;
use crate::rules::format_duration;

/// Marks the follow-up issue's number inside the sticky comment, so that
/// the issue is opened once even across restarts and instances.
pub const FOLLOW_UP_MARKER: &str = "<!-- hotfix-guard:follow-up #";

/// Marks the follow-up issue of hotfix `number` in the issue's own body, so
/// that it is found again even if the sticky comment never recorded it.
pub fn follow_up_of_marker(number: u64) -> String {
    format!("<!-- hotfix-guard:follow-up-of #{number} -->")
}

/// Marks escalation comments: `<!-- hotfix-guard:escalation level=N -->`.
pub fn escalation_marker(level: u8) -> String {
    format!("<!-- hotfix-guard:escalation level={level} -->")
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MergeBack {
    /// `develop` already contains the merge commit.
    Contained { develop: String },
    /// A merge-back pull request is open.
    Open {
        number: u64,
        url: String,
        develop: String,
    },
    /// GitHub refused; the maintainers must do it by hand.
    Refused {
        develop: String,
        branch: String,
        reason: String,
    },
    /// No `develop` branch exists: nothing to merge back into.
    NoDevelop { develop: String },
    /// The merge-back pull request (the newest from the app's branch) was
    /// closed without merging and `develop` still lacks the fix. Not
    /// reopened or replaced by the app: a person closed it, so a person
    /// decides (reopen it, or merge by hand). `closed_by` is the latest
    /// `closed` timeline event's `actor.login` (`None`: not listed).
    Closed {
        number: u64,
        url: String,
        develop: String,
        /// The hotfix's head branch, for the manual commands.
        branch: String,
        closed_by: Option<String>,
    },
}

/// Who closed a merge-back pull request, as prose (`by @x` or a note that
/// it is unknown); `code` writes the login as code (the sticky comment,
/// which must not notify anyone).
fn closed_by_words(closed_by: Option<&str>, code: bool) -> String {
    match (closed_by, code) {
        (Some(login), true) => format!("was closed by `@{}` without merging", quoted(login)),
        (Some(login), false) => format!("was closed by @{} without merging", quoted(login)),
        (None, _) => "was closed without merging (who closed it could not be read)".to_string(),
    }
}

/// The merge-back check run's summary for [`MergeBack::Closed`]:
/// markdown, naming who closed it and the two ways forward.
pub fn closed_merge_back_summary(
    hotfix: u64,
    number: u64,
    url: &str,
    develop: &str,
    branch: &str,
    closed_by: Option<&str>,
) -> String {
    format!(
        "The hotfix #{hotfix} is merged but `{develop}` does not contain it, and its merge-back pull request [#{number}]({url}) {}. Reopen #{number} and merge it, or merge the hotfix into `{develop}` by hand:\n\n{}",
        closed_by_words(closed_by, false),
        manual_merge_back(develop, branch)
    )
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tag {
    Created(String),
    /// Already there, at the merge commit.
    Present(String),
    /// There, but at another commit: reported, never moved.
    Elsewhere {
        tag: String,
        sha: String,
    },
    /// The version could not be read, so no tag was made.
    NoVersion,
    Refused {
        tag: String,
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FollowUp {
    Opened {
        number: u64,
        url: String,
        title: String,
        due: DateTime<Utc>,
    },
    Refused {
        title: String,
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PostMerge {
    pub merge_back: Option<MergeBack>,
    pub tag: Option<Tag>,
    pub follow_up: Option<FollowUp>,
}

fn utc(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The exact commands from the procedure's Git Flow step 5. `branch` is
/// the author's head branch name (quoted: see `markdown::quoted`).
pub fn manual_merge_back(develop: &str, branch: &str) -> String {
    let branch = quoted(branch);
    format!(
        "```bash\ngit checkout {develop}\ngit pull origin {develop}\ngit merge --no-ff {branch}\ngit push origin {develop}\n```"
    )
}

/// The sticky comment's "After the merge" section.
pub fn section(post: &PostMerge) -> String {
    let mut out = String::from("\n**After the merge**\n\n");
    match &post.merge_back {
        Some(MergeBack::Contained { develop }) => {
            out.push_str(&format!("- ✅ Merge-back: `{develop}` contains the fix\n"));
        }
        Some(MergeBack::Open { number, url, develop }) => out.push_str(&format!(
            "- ⏳ Merge-back: [#{number}]({url}) brings the fix into `{develop}`; merge it so the next release keeps the fix\n"
        )),
        Some(MergeBack::Refused { develop, branch, reason }) => out.push_str(&format!(
            "- ❌ Merge-back: GitHub refused to open it ({}). Merge it back by hand:\n\n{}\n\n",
            quoted(reason),
            indent(&manual_merge_back(develop, branch))
        )),
        Some(MergeBack::NoDevelop { develop }) => out.push_str(&format!(
            "- ➖ Merge-back: there is no `{develop}` branch\n"
        )),
        Some(MergeBack::Closed { number, url, develop, branch, closed_by }) => out.push_str(&format!(
            "- ❌ Merge-back: [#{number}]({url}) {}; `{develop}` does not contain the fix. Reopen it and merge it, or merge the fix back by hand:\n\n{}\n\n",
            closed_by_words(closed_by.as_deref(), true),
            indent(&manual_merge_back(develop, branch))
        )),
        None => {}
    }
    // The tag is made from the version the author's file declares.
    let tag = post.tag.as_ref().map(|t| match t {
        Tag::Created(tag) => Tag::Created(quoted(tag)),
        Tag::Present(tag) => Tag::Present(quoted(tag)),
        Tag::Elsewhere { tag, sha } => Tag::Elsewhere {
            tag: quoted(tag),
            sha: sha.clone(),
        },
        Tag::NoVersion => Tag::NoVersion,
        Tag::Refused { tag, reason } => Tag::Refused {
            tag: quoted(tag),
            reason: quoted(reason),
        },
    });
    match &tag {
        Some(Tag::Created(tag)) | Some(Tag::Present(tag)) => {
            out.push_str(&format!(
                "- ✅ Release tag `{tag}` marks the merge commit\n"
            ));
        }
        Some(Tag::Elsewhere { tag, sha }) => out.push_str(&format!(
            "- ❌ Release tag `{tag}` already exists at {}; it was not moved\n",
            sha.get(..7).unwrap_or(sha)
        )),
        Some(Tag::NoVersion) => out
            .push_str("- ❌ Release tag: the new version could not be read, so no tag was made\n"),
        Some(Tag::Refused { tag, reason }) => out.push_str(&format!(
            "- ❌ Release tag `{tag}`: GitHub refused ({reason})\n"
        )),
        None => {}
    }
    match &post.follow_up {
        Some(FollowUp::Opened {
            number,
            url,
            title,
            due,
        }) => out.push_str(&format!(
            "- 📝 {title}: [#{number}]({url}), due {}\n{FOLLOW_UP_MARKER}{number} -->\n",
            utc(*due)
        )),
        Some(FollowUp::Refused { title, reason }) => out.push_str(&format!(
            "- ❌ {title}: the issue could not be opened ({})\n",
            quoted(reason)
        )),
        None => {}
    }
    out
}

fn indent(block: &str) -> String {
    block
        .lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// What the follow-up issue says: the procedure's incident report template,
/// filled with what is known.
pub struct IncidentFacts<'a> {
    pub pull_url: &'a str,
    pub pull_number: u64,
    pub pull_title: &'a str,
    pub severity: &'a str,
    pub severity_set_by: Option<(&'a str, DateTime<Utc>)>,
    pub opened_at: DateTime<Utc>,
    /// The approvals that counted (the verdict's
    /// `ApprovalReport::approvals`), as (who, when).
    pub approvals: Vec<(String, DateTime<Utc>)>,
    pub merged_at: DateTime<Utc>,
    pub merged_by: Option<&'a str>,
    pub due: DateTime<Utc>,
    pub follow_up_title: &'a str,
}

/// The follow-up issue's title: the policy's `follow_up.title`, then the
/// pull request's title quoted, cut to GitHub's 256 characters
/// (`title::fit_title`).
pub fn follow_up_title(follow_up_title: &str, pull_title: &str) -> String {
    super::title::fit_title(&format!("{follow_up_title}: {}", quoted(pull_title)))
}

/// The follow-up issue's body: the procedure's incident report template,
/// its timeline (opened, severity set, approvals that counted, merged)
/// oldest first, fitted to GitHub's 65,536 characters
/// (`title::fit_body`: the timeline is cut, saying so).
pub fn incident_report(f: &IncidentFacts<'_>) -> String {
    let start = f.severity_set_by.map_or(f.opened_at, |(_, at)| at);
    let duration = f
        .merged_at
        .signed_duration_since(start)
        .to_std()
        .unwrap_or_default();
    let mut timeline = vec![(f.opened_at, format!("Hotfix #{} opened", f.pull_number))];
    if let Some((who, at)) = f.severity_set_by {
        timeline.push((at, format!("Severity {} set by @{who}", f.severity)));
    }
    for (who, at) in &f.approvals {
        timeline.push((*at, format!("Approved by @{who}")));
    }
    timeline.push((
        f.merged_at,
        match f.merged_by {
            Some(who) => format!("Merged by @{who}"),
            None => "Merged".to_string(),
        },
    ));
    timeline.sort_by_key(|(at, _)| *at);
    let rows: Vec<String> = timeline
        .iter()
        .map(|(at, what)| format!("| {} | {what} |\n", utc(*at)))
        .collect();
    let head = format!(
        "{marker}\n\
**{title}** for hotfix [#{number}]({url}), due **{due}**.\n\n\
# Incident Report: {pull_title}\n\n\
## Summary\n\
- **Hotfix:** {url}\n\
- **Severity:** {severity}{set_by}\n\
- **Start Time:** {start}\n\
- **End Time:** {end} (merged)\n\
- **Duration:** {duration}\n\
- **Impact:** _[Description of user/business impact]_\n\n\
## Root Cause\n_[Detailed explanation of what went wrong and why]_\n\n\
## Timeline\n| Time | Event |\n|------|-------|\n",
        marker = follow_up_of_marker(f.pull_number),
        number = f.pull_number,
        title = f.follow_up_title,
        url = f.pull_url,
        due = utc(f.due),
        // The author's text, in an issue the app writes and reads back.
        pull_title = super::markdown::inert(f.pull_title),
        severity = f.severity,
        set_by = f
            .severity_set_by
            .map(|(who, at)| format!(" (set by @{who} at {})", utc(at)))
            .unwrap_or_default(),
        start = utc(start),
        end = utc(f.merged_at),
        duration = format_duration(duration),
    );
    let tail = "\n\
## Resolution\n_[What was done to fix the issue]_\n\n\
## Lessons Learned\n### What went well\n- \n\n### What could be improved\n- \n\n\
## Action Items\n- [ ] Improve monitoring for _[specific area]_\n- [ ] Add automated test for _[specific scenario]_\n- [ ] Update documentation for _[specific process]_\n\n\
## Prevention Measures\n_[How we'll prevent this from happening again]_\n";
    // The timeline lists only approvals that counted, but its length is
    // still not ours to bound: fit the body so GitHub never refuses it.
    super::title::fit_body(&head, &rows, tail, |n| {
        format!(
            "| | … and {n} more, not listed: the timeline was cut to fit GitHub's limit of {} characters |\n",
            super::title::GITHUB_BODY_LIMIT
        )
    })
}

/// The check run's section when a pull request merged into `branch` whose
/// own change edits the policy file (or may: its files list was cut) is
/// judged by the policy before its merge (the file at its `base.sha`,
/// `base_sha`, on `branch`) and that policy does not parse (a writer broke
/// it before the merge): the run fails closed, and this says what a
/// hotfix's after-merge steps are owed and that the app does not take
/// them. They never run later for this pull request: the policy at that
/// commit stays what it is, whatever later pushes fix on `branch`.
pub fn unreadable_policy_before_merge(branch: &str, base_sha: &str) -> String {
    let short: String = base_sha.chars().take(7).collect();
    // The branch is the repository's setting: quoted all the same, so
    // no marker can be written through it.
    let branch = quoted(branch);
    format!(
        "\n### After the merge\n\n\
         This pull request was merged into `{branch}`, and its own change edits the policy file (or may: not every changed file could be listed). Such a pull request is judged by the policy as it was before its own merge (the file at its base commit `{short}`), so that its own change cannot relax what it owes; that is the file above. \
         Because it cannot be read, hotfix-guard takes none of a hotfix's after-merge steps for this pull request (follow-up issue, merge-back, release tag), and fixing the file later does not change the policy at that commit. \
         If this is a hotfix, take them by hand as the hotfix procedure says.\n"
    )
}

/// The check run's title when a merged pull request judged by the policy
/// at its `base.sha` cannot be told what the policy in force owes.
pub const UNREADABLE_POLICY_IN_FORCE_BESIDE_BASE_TITLE: &str =
    "Policy in force cannot be read: after-merge steps unknown";

/// The check run's section when a pull request merged into `branch` is
/// judged by the policy at its base commit `base_sha` (its own change edits
/// the policy file, or may) and the policy in force (`shown_path` on
/// `branch`) does not parse. Its after-merge steps owe what either policy
/// asks (`engine::merge_union`); what the one in force asks is unknown, so
/// the run fails closed and this says so: the steps the policy at
/// `base_sha` asks for are taken, the rest once the file is fixed and the
/// check re-run (nothing re-evaluates a merged pull request by itself).
pub fn unreadable_policy_in_force_beside_base(
    branch: &str,
    base_sha: &str,
    shown_path: &str,
) -> String {
    let short: String = base_sha.chars().take(7).collect();
    let branch = quoted(branch);
    let shown_path = quoted(shown_path);
    format!(
        "\n### After the merge\n\n\
         This pull request was merged into `{branch}`, and its own change edits the policy file (or may: not every changed file could be listed), so it is judged by the policy as it was before its own merge (the file at its base commit `{short}`). \
         Its after-merge steps owe what that policy asks and what the policy in force asks, but the policy in force (`{shown_path}` on `{branch}`) cannot be read: \
         a follow-up issue, merge-back or release tag it asks for is unknown, so this check fails. \
         hotfix-guard takes the steps the policy at `{short}` asks for. \
         Once the file is fixed on the default branch, re-run this check to have the rest taken, or take them by hand as the hotfix procedure says.\n"
    )
}

/// The check run's section when a merged pull request is judged by the
/// policy in force (its own change leaves the policy file alone) and that
/// policy does not parse: the run fails closed, and this says that a
/// hotfix's after-merge steps are not taken now, and how to have them taken
/// once a writer fixes the file (nothing re-evaluates a merged pull request
/// by itself when the policy changes).
pub fn unreadable_policy_in_force_after_merge(branch: &str) -> String {
    let branch = quoted(branch);
    format!(
        "\n### After the merge\n\n\
         This pull request was merged into `{branch}` and is judged by the policy in force, the file above. \
         Because it cannot be read, hotfix-guard takes none of a hotfix's after-merge steps for this pull request now (follow-up issue, merge-back, release tag). \
         Once the file is fixed on the default branch, re-run this check to have them taken, or take them by hand as the hotfix procedure says.\n"
    )
}

/// The paragraph appended to an escalation comment whose level may have
/// been posted already: an earlier posting had no answer (a 5xx or none)
/// and the app's own comments could not be read back to see whether it was
/// written (more than 100 pages of comments since the level fell due, or
/// GitHub not answering the listing). Posting again is the choice: a
/// duplicate is noise, a silenced escalation is what the procedure forbids.
pub fn escalation_repeat_note() -> String {
    "\n_This escalation may appear twice: GitHub did not answer an earlier \
     posting of it, and the comments could not be read back to see whether \
     it was written (too many comments to list, or GitHub not answering). \
     Posting it again is the safer choice; silence is not._\n"
        .to_string()
}

/// The paragraph appended to an escalation comment posted while the policy
/// in force (`shown_path`) cannot be read: the severity and deadline were
/// fixed when the deadline was watched, and with them (`kept`) the
/// policy's escalation section then; without it, whom to mention and
/// whether a second level follows are unknown.
pub fn escalation_policy_unreadable_note(shown_path: &str, kept: bool) -> String {
    let what = if kept {
        "this escalation follows its escalation section as it was when the deadline was set"
    } else {
        "this escalation mentions nobody it names, and a further escalation it may ask for waits until the file is fixed"
    };
    format!(
        "\n_The policy in force (`{}`) cannot be read, so {what}. \
         A writer should fix it now: every pull request's check fails until then._\n",
        quoted(shown_path)
    )
}

/// An escalation comment: who is mentioned, and how late the hotfix is.
pub fn escalation_comment(
    level: u8,
    severity: &str,
    mention: &[String],
    deadline: DateTime<Utc>,
    now: DateTime<Utc>,
    limit: std::time::Duration,
) -> String {
    let late = now
        .signed_duration_since(deadline)
        .to_std()
        .unwrap_or_default();
    let who: Vec<String> = mention
        .iter()
        .map(|m| format!("@{}", m.trim_start_matches('@')))
        .collect();
    let what = if level == 1 {
        format!(
            "this {severity} hotfix was due by **{}** ({} deadline) and is not merged: {} past due.",
            utc(deadline),
            format_duration(limit),
            format_duration(late)
        )
    } else {
        format!(
            "this {severity} hotfix has been unresolved for more than {} (due {}, {} past due). The procedure asks to notify leadership now.",
            format_duration(limit),
            utc(deadline),
            format_duration(late)
        )
    };
    // Nobody to mention (an unreadable policy): no stray space either.
    let who: String = who.iter().map(|w| format!("{w} ")).collect();
    format!("{}\n⏰ {who}{what}\n", escalation_marker(level))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, h, m, 0)
            .single()
            .expect("valid")
    }

    #[test]
    fn section_shows_each_state() {
        let post = PostMerge {
            merge_back: Some(MergeBack::Open {
                number: 77,
                url: "https://github.com/acme/app/pull/77".into(),
                develop: "develop".into(),
            }),
            tag: Some(Tag::Created("v1.2.4".into())),
            follow_up: Some(FollowUp::Opened {
                number: 78,
                url: "https://github.com/acme/app/issues/78".into(),
                title: "Post-incident review".into(),
                due: t(15, 0),
            }),
        };
        insta::assert_snapshot!(section(&post));
    }

    #[test]
    fn an_unreadable_policy_before_the_merge_names_the_steps_not_taken() {
        let text = unreadable_policy_before_merge("main", "b0b0b0b0b0b0b0b0b0b0");
        assert!(text.contains("`b0b0b0b`"), "{text}");
        insta::assert_snapshot!(text);
    }

    #[test]
    fn an_unreadable_policy_in_force_after_the_merge_says_how_to_have_the_steps_taken() {
        let text = unreadable_policy_in_force_after_merge("main");
        assert!(text.contains("re-run this check"), "{text}");
        insta::assert_snapshot!(text);
    }

    #[test]
    fn an_unreadable_policy_in_force_beside_the_base_says_the_check_fails_and_how_to_finish() {
        let text = unreadable_policy_in_force_beside_base(
            "main",
            "b0b0b0b0b0b0b0b0b0b0",
            ".github/hotfix-policy.yml",
        );
        assert!(text.contains("`b0b0b0b`"), "{text}");
        assert!(text.contains("re-run this check"), "{text}");
        insta::assert_snapshot!(text);
    }

    #[test]
    fn an_escalation_under_an_unreadable_policy_says_why_nobody_is_mentioned() {
        let text = escalation_comment(
            1,
            "P0",
            &[],
            t(12, 0),
            t(12, 30),
            std::time::Duration::from_secs(7200),
        ) + &escalation_policy_unreadable_note(".github/hotfix-policy.yml", false);
        assert!(text.contains("cannot be read"), "{text}");
        insta::assert_snapshot!(text);
    }

    #[test]
    fn a_refused_merge_back_gives_the_commands() {
        let post = PostMerge {
            merge_back: Some(MergeBack::Refused {
                develop: "develop".into(),
                branch: "hotfix/login".into(),
                reason: "develop is protected".into(),
            }),
            ..PostMerge::default()
        };
        let text = section(&post);
        assert!(text.contains("git merge --no-ff hotfix/login"));
        assert!(text.contains("develop is protected"));
    }

    #[test]
    fn a_closed_merge_back_names_who_closed_it_and_what_to_do() {
        let post = PostMerge {
            merge_back: Some(MergeBack::Closed {
                number: 8,
                url: "https://github.com/acme/app/pull/8".into(),
                develop: "develop".into(),
                branch: "hotfix/login".into(),
                closed_by: Some("trina".into()),
            }),
            ..PostMerge::default()
        };
        insta::assert_snapshot!(section(&post));
        insta::assert_snapshot!(closed_merge_back_summary(
            7,
            8,
            "https://github.com/acme/app/pull/8",
            "develop",
            "hotfix/login",
            None
        ));
    }

    #[test]
    fn incident_report_fills_the_template() {
        let text = incident_report(&IncidentFacts {
            pull_url: "https://github.com/acme/app/pull/5",
            pull_number: 5,
            pull_title: "fix: login loop",
            severity: "P0",
            severity_set_by: Some(("dana", t(9, 6))),
            opened_at: t(9, 5),
            approvals: vec![("erin".into(), t(9, 52)), ("alice".into(), t(9, 40))],
            merged_at: t(10, 29),
            merged_by: Some("alice"),
            due: t(10, 29) + chrono::Duration::hours(24),
            follow_up_title: "Post-incident review",
        });
        insta::assert_snapshot!(text);
    }

    #[test]
    fn a_long_incident_timeline_is_cut_to_fit_github_saying_so() {
        let approvals: Vec<(String, DateTime<Utc>)> = (0..3_000)
            .map(|i| (format!("writer-{i}"), t(9, 40)))
            .collect();
        let text = incident_report(&IncidentFacts {
            pull_url: "https://github.com/acme/app/pull/5",
            pull_number: 5,
            pull_title: "fix: login loop",
            severity: "P0",
            severity_set_by: None,
            opened_at: t(9, 5),
            approvals,
            merged_at: t(10, 29),
            merged_by: Some("alice"),
            due: t(10, 29) + chrono::Duration::hours(24),
            follow_up_title: "Post-incident review",
        });
        let chars = text.chars().count();
        assert!(chars <= crate::report::title::GITHUB_BODY_LIMIT, "{chars}");
        assert!(text.starts_with(&follow_up_of_marker(5)));
        assert!(
            text.contains("| 2026-11-26 09:05 UTC | Hotfix #5 opened |"),
            "{}",
            &text[..600]
        );
        let kept = text.matches("| Approved by @writer-").count();
        // Opened and merged are rows too: 3,002 in all.
        let cut = format!(
            "| | … and {} more, not listed: the timeline was cut to fit GitHub's limit of 65536 characters |",
            3_002 - 1 - kept
        );
        assert!(text.contains(&cut), "{kept} kept");
        assert!(text.ends_with(
            "## Prevention Measures\n_[How we'll prevent this from happening again]_\n"
        ));
    }

    #[test]
    fn escalation_that_may_repeat_says_so() {
        let text = escalation_comment(
            1,
            "P0",
            &["acme/incident-commanders".into()],
            t(11, 0),
            t(11, 35),
            std::time::Duration::from_secs(7200),
        ) + &escalation_repeat_note();
        assert!(text.starts_with(&escalation_marker(1)));
        insta::assert_snapshot!(text);
    }

    #[test]
    fn escalation_says_how_late_and_mentions() {
        let text = escalation_comment(
            1,
            "P0",
            &["acme/incident-commanders".into()],
            t(11, 0),
            t(11, 35),
            std::time::Duration::from_secs(7200),
        );
        assert!(text.starts_with(&escalation_marker(1)));
        assert!(text.contains("@acme/incident-commanders"));
        assert!(text.contains("35m past due"));
        assert_eq!(
            format_duration(std::time::Duration::from_secs(5 * 3600 + 60)),
            "5h 1m"
        );
    }
}
