//! The approvals a severity requires: one distinct person per role, and/or a
//! number of approvals from people with write access.
//!
//! Reads: `reviews`, `comments` (approval command), `head_sha`,
//! `head_pushed_at` (server time of the push that made the head),
//! `base_changed` (server time of the latest retarget), `author`,
//! `team_members`, `permissions`.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::policy::{Policy, Severity};
use crate::rules::facts::{BaseChange, Comment, PullRequestFacts, Review, ReviewState};
use crate::rules::matching::assign_roles;
use crate::rules::members::{Membership, in_role, permission_of, role_members, same_login};
use crate::rules::result::{RuleId, RuleResult};
use crate::rules::time::format_utc_minute;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ApprovalVia {
    Review,
    Comment,
}

/// One approval that counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Approval {
    pub login: String,
    pub via: ApprovalVia,
    /// The approved commit (full sha) when known. A command approves the head
    /// commit it was written on, which is the current head when written after
    /// the latest push.
    pub commit: Option<String>,
    pub at: Option<DateTime<Utc>>,
    pub html_url: Option<String>,
}

/// A required role and who filled it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleSlot {
    pub role: String,
    /// The role's members as written in the policy (`@alice`, `@acme/on-call`).
    pub members: Vec<String>,
    pub filled_by: Option<Approval>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CountProgress {
    pub required: u32,
    /// Counted approvers with write access or more.
    pub writers: Vec<String>,
}

impl CountProgress {
    pub fn met(&self) -> bool {
        self.writers.len() >= self.required as usize
    }
}

/// What the report shows about approvals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct ApprovalReport {
    pub roles: Vec<RoleSlot>,
    pub count: Option<CountProgress>,
    /// Every approval that counts, oldest first.
    pub approvals: Vec<Approval>,
    /// Logins whose latest decisive review requests changes and who may block.
    pub blocked_by: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalsOutcome {
    pub result: RuleResult,
    pub report: ApprovalReport,
    /// Why some approvals, commands or objections did not count.
    pub notes: Vec<String>,
}

/// `/hotfix approve`, surrounded by whitespace at most. Case-sensitive.
pub fn is_command(command: &str, body: &str) -> bool {
    !command.trim().is_empty() && body.trim() == command.trim()
}

pub fn short_sha(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Approve,
    RequestChanges,
    Withdraw,
}

#[derive(Debug, Clone, Copy)]
enum Source<'f> {
    Review(&'f Review),
    Command(&'f Comment),
}

#[derive(Debug, Clone, Copy)]
struct Event<'f> {
    login: &'f str,
    decision: Decision,
    at: Option<DateTime<Utc>>,
    source: Source<'f>,
}

struct Ctx<'a> {
    policy: &'a Policy,
    severity: &'a Severity,
    facts: &'a PullRequestFacts,
    notes: Vec<String>,
}

impl<'a> Ctx<'a> {
    fn note(&mut self, note: String) {
        if !self.notes.contains(&note) {
            self.notes.push(note);
        }
    }

    fn count_only(&self) -> bool {
        self.severity.approvals.roles.is_empty()
    }

    /// In at least one of the severity's required roles.
    fn in_required_role(&self, login: &str) -> Membership {
        Membership::any(
            self.severity
                .approvals
                .roles
                .iter()
                .map(|role| in_role(self.policy, self.facts, role, login)),
        )
    }

    fn is_writer(&self, login: &str) -> Option<bool> {
        permission_of(self.facts, login).map(|p| p.can_write())
    }

    /// Whose `/hotfix approve` counts: a member of a required role, or for
    /// count-only severities a writer.
    fn command_counts_from(&mut self, comment: &Comment) -> bool {
        let login = comment.user.as_str();
        let command = self.policy.approvals.command.trim();
        // The author's own command never counts: say that, not whatever
        // their permission or role happens to be (the author's permission
        // is never looked up, so it would read "unknown").
        if !self.policy.approvals.allow_author && same_login(login, &self.facts.author) {
            self.note(format!(
                "@{login} is the author; their own approval does not count"
            ));
            return false;
        }
        if self.count_only() {
            match self.is_writer(login) {
                Some(true) => true,
                Some(false) => {
                    self.note(format!(
                        "@{login} does not have write access; their {command} was not counted"
                    ));
                    false
                }
                None => {
                    self.note(format!(
                        "@{login}'s repository permission is unknown; their {command} was not counted"
                    ));
                    false
                }
            }
        } else {
            match self.in_required_role(login) {
                Membership::Yes => true,
                Membership::No => {
                    self.note(format!(
                        "@{login} is not in a required role; their {command} was not counted"
                    ));
                    false
                }
                Membership::Unknown => {
                    self.note(format!(
                        "could not confirm that @{login} is in a required role; their {command} was not counted"
                    ));
                    false
                }
            }
        }
    }

    fn events(&mut self) -> Vec<Event<'a>> {
        // Borrow the facts for 'a, not through `self`, which notes mutate.
        let facts = self.facts;
        let mut events = Vec::new();
        for review in &facts.reviews {
            let decision = match review.state {
                ReviewState::Approved => Decision::Approve,
                ReviewState::ChangesRequested => Decision::RequestChanges,
                ReviewState::Dismissed => Decision::Withdraw,
                // A comment-only or unsubmitted review never overrides a decision.
                ReviewState::Commented | ReviewState::Pending => continue,
            };
            if review.not_a_person && decision == Decision::Approve {
                self.note(not_a_person_note(&review.user));
                continue;
            }
            events.push(Event {
                login: &review.user,
                decision,
                at: review.submitted_at,
                source: Source::Review(review),
            });
        }
        let command = self.policy.approvals.command.clone();
        for comment in &facts.comments {
            if !is_command(&command, &comment.body) {
                continue;
            }
            if comment.not_a_person {
                self.note(not_a_person_note(&comment.user));
                continue;
            }
            if !self.command_counts_from(comment) {
                continue;
            }
            if comment.updated_at.is_some_and(|u| u != comment.created_at) {
                self.note(format!(
                    "@{} edited their {} comment, so it was not counted; post a new one",
                    comment.user,
                    command.trim()
                ));
                continue;
            }
            events.push(Event {
                login: &comment.user,
                decision: Decision::Approve,
                at: Some(comment.created_at),
                source: Source::Command(comment),
            });
        }
        // Stable: same-instant events keep reviews before commands, API order within.
        events.sort_by_key(|e| e.at);
        events
    }

    /// An approval that counts, or `None` with a note saying why not.
    fn current_approval(&mut self, event: &Event<'_>) -> Option<Approval> {
        let facts = self.facts;
        let login = event.login;
        if !self.policy.approvals.allow_author && same_login(login, &facts.author) {
            self.note(format!(
                "@{login} is the author; their own approval does not count"
            ));
            return None;
        }
        let dismiss_stale = self.policy.approvals.dismiss_stale;
        match event.source {
            Source::Review(review) => {
                let on_head = review.commit_id.as_deref() == Some(facts.head_sha.as_str());
                if dismiss_stale && !on_head {
                    let commit = review
                        .commit_id
                        .as_deref()
                        .map_or("an unknown commit", short_sha);
                    self.note(format!(
                        "@{login} approved {commit}, not the head commit {}: stale, approve again",
                        short_sha(&facts.head_sha)
                    ));
                    return None;
                }
                if dismiss_stale && self.before_base_change(login, "review", review.submitted_at) {
                    return None;
                }
                Some(Approval {
                    login: login.to_string(),
                    via: ApprovalVia::Review,
                    commit: review.commit_id.clone(),
                    at: review.submitted_at,
                    html_url: review.html_url.clone(),
                })
            }
            Source::Command(comment) => {
                // Server times only: the push GitHub received vs the
                // comment GitHub received. Unknown is stale, never fresh,
                // and a comment in the same second as the push is not
                // known to come after it.
                let after_push = facts
                    .head_pushed_at
                    .map(|pushed| comment.created_at > pushed);
                let command = self.policy.approvals.command.trim().to_string();
                if dismiss_stale {
                    match (after_push, facts.head_pushed_at) {
                        (Some(true), _) => {}
                        (Some(false), Some(pushed)) => {
                            self.note(format!(
                                "@{login}'s {command} came before the latest push ({}): stale, approve again",
                                format_utc_minute(pushed)
                            ));
                            return None;
                        }
                        _ => {
                            self.note(format!(
                                "@{login}'s {command} is stale — approve again: could not confirm this comment came after the latest push"
                            ));
                            return None;
                        }
                    }
                    if self.before_base_change(login, &command, Some(comment.created_at)) {
                        return None;
                    }
                }
                Some(Approval {
                    login: login.to_string(),
                    via: ApprovalVia::Comment,
                    commit: (after_push == Some(true)).then(|| facts.head_sha.clone()),
                    at: Some(comment.created_at),
                    html_url: comment.html_url.clone(),
                })
            }
        }
    }

    /// True (with a note) when an approval given at `at` (server time) is
    /// not known to follow the latest change of the base branch
    /// (`facts.base_changed`): it was given against another base. An
    /// approval in the same second as the change is not known to follow
    /// it (GitHub's times are to the second): stale. `what` names the
    /// approval (`review`, the command).
    fn before_base_change(&mut self, login: &str, what: &str, at: Option<DateTime<Utc>>) -> bool {
        let base = &self.facts.base_ref;
        match (self.facts.base_changed, at) {
            (BaseChange::Never, _) => false,
            (BaseChange::At { at: changed }, Some(at)) if at > changed => false,
            (BaseChange::At { at: changed }, Some(_)) => {
                self.note(format!(
                    "@{login}'s {what} came before the base branch changed to `{base}` ({}): stale, approve again",
                    format_utc_minute(changed)
                ));
                true
            }
            (BaseChange::At { .. } | BaseChange::Unknown, _) => {
                self.note(format!(
                    "@{login}'s {what} is stale — approve again: could not confirm it came after the latest change of the base branch (now `{base}`)"
                ));
                true
            }
        }
    }

    /// May this person's request for changes block the hotfix?
    fn may_block(&mut self, login: &str) -> bool {
        if self.count_only() {
            self.is_writer(login) == Some(true)
        } else {
            self.in_required_role(login) == Membership::Yes
        }
    }
}

fn not_a_person_note(login: &str) -> String {
    format!(
        "@{login} is not a person's account (GitHub says an app or a deleted user); its approval does not count"
    )
}

/// Each person's latest decisive event, in order of those events.
fn latest_per_person<'f>(events: &[Event<'f>]) -> Vec<Event<'f>> {
    let mut latest: Vec<Event<'f>> = Vec::new();
    for event in events {
        latest.retain(|e| !same_login(e.login, event.login));
        latest.push(*event);
    }
    latest
}

fn join_names(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

pub fn check(policy: &Policy, severity: &Severity, facts: &PullRequestFacts) -> ApprovalsOutcome {
    let required = &severity.approvals;
    if required.roles.is_empty() && required.count.unwrap_or(0) == 0 {
        return ApprovalsOutcome {
            result: RuleResult::skip(
                RuleId::Approvals,
                format!("{} requires no approvals", severity.name),
            ),
            report: ApprovalReport::default(),
            notes: Vec::new(),
        };
    }

    let mut ctx = Ctx {
        policy,
        severity,
        facts,
        notes: Vec::new(),
    };
    let events = ctx.events();
    let latest = latest_per_person(&events);

    let mut approvals: Vec<Approval> = Vec::new();
    let mut blocked_by: Vec<String> = Vec::new();
    for event in &latest {
        match event.decision {
            Decision::Withdraw => {}
            Decision::Approve => {
                if let Some(approval) = ctx.current_approval(event) {
                    approvals.push(approval);
                }
            }
            Decision::RequestChanges => {
                if ctx.may_block(event.login) {
                    blocked_by.push(event.login.to_string());
                }
            }
        }
    }

    // Roles: one distinct approver each.
    let mut eligible: Vec<Vec<usize>> = Vec::new();
    for role in &required.roles {
        let mut who = Vec::new();
        for (i, approval) in approvals.iter().enumerate() {
            match in_role(policy, facts, role, &approval.login) {
                // A role names people by login; the login is the one GitHub
                // shows for the review's or comment's author when it is
                // read, and write access (read now) is what makes the
                // holder still one of the team that may ship: a member
                // who lost it, or an account that took over a renamed
                // login, fills no role.
                Membership::Yes => match ctx.is_writer(&approval.login) {
                    Some(true) => who.push(i),
                    Some(false) => ctx.note(format!(
                        "@{} is in {role} but does not have write access; their approval does not count",
                        approval.login
                    )),
                    None => ctx.note(format!(
                        "could not confirm that @{}, in {role}, has write access; their approval does not count",
                        approval.login
                    )),
                },
                Membership::No => {}
                Membership::Unknown => ctx.note(format!(
                    "could not confirm whether @{} is in {role} (team membership was not looked up)",
                    approval.login
                )),
            }
        }
        eligible.push(who);
    }
    let assignment = assign_roles(&eligible, approvals.len());
    let slots: Vec<RoleSlot> = required
        .roles
        .iter()
        .zip(&assignment)
        .map(|(role, who)| RoleSlot {
            role: role.clone(),
            members: role_members(policy, role)
                .iter()
                .map(ToString::to_string)
                .collect(),
            filled_by: who.and_then(|i| approvals.get(i).cloned()),
        })
        .collect();

    // Count: approvals from writers, role approvers included.
    let count = required.count.filter(|n| *n > 0).map(|n| {
        let mut writers = Vec::new();
        for approval in &approvals {
            match ctx.is_writer(&approval.login) {
                Some(true) => writers.push(approval.login.clone()),
                Some(false) => ctx.note(format!(
                    "@{} does not have write access; their approval does not count toward the {n} required",
                    approval.login
                )),
                None => ctx.note(format!(
                    "@{}'s repository permission is unknown; their approval does not count toward the {n} required",
                    approval.login
                )),
            }
        }
        CountProgress {
            required: n,
            writers,
        }
    });

    let missing: Vec<String> = slots
        .iter()
        .filter(|s| s.filled_by.is_none())
        .map(|s| s.role.clone())
        .collect();
    let blockers: Vec<String> = blocked_by.iter().map(|l| format!("@{l}")).collect();

    let mut fragments = Vec::new();
    if !missing.is_empty() {
        fragments.push(format!("needs {} approval", join_names(&missing)));
    }
    if let Some(count) = count.as_ref().filter(|c| !c.met()) {
        let more = count.required as usize - count.writers.len();
        let noun = if more == 1 { "approval" } else { "approvals" };
        fragments.push(format!("needs {more} more {noun}"));
    }
    if !blockers.is_empty() {
        fragments.push(format!("changes requested by {}", join_names(&blockers)));
    }

    let mut detail_parts: Vec<String> = slots
        .iter()
        .map(|slot| match &slot.filled_by {
            Some(a) => format!("{}: @{}", slot.role, a.login),
            None => format!("{}: missing", slot.role),
        })
        .collect();
    if let Some(count) = &count {
        let noun = if count.required == 1 {
            "approval"
        } else {
            "approvals"
        };
        detail_parts.push(format!(
            "{} of {} {noun} from people with write access",
            count.writers.len(),
            count.required
        ));
    }
    if !blockers.is_empty() {
        detail_parts.push(format!("changes requested by {}", join_names(&blockers)));
    }
    let detail = detail_parts.join("; ");

    let result = if fragments.is_empty() {
        RuleResult::pass(RuleId::Approvals, detail)
    } else {
        RuleResult::fail(RuleId::Approvals, fragments.join("; "), detail)
    };
    ApprovalsOutcome {
        result,
        report: ApprovalReport {
            roles: slots,
            count,
            approvals,
            blocked_by,
        },
        notes: ctx.notes,
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod base_change_tests;
