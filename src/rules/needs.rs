//! What the engine must gather for a severity, so it asks GitHub only for
//! what the applicable rules read.

use crate::policy::{Member, Policy, Severity};
use crate::rules::approvals::is_command;
use crate::rules::classify::same_label;
use crate::rules::facts::{PullRequestFacts, ReviewState};
use crate::rules::members::{Membership, in_role, push_unique_login, role_members, same_login};
use crate::rules::provenance::applications;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FactNeeds {
    /// `facts.reviews`, every page.
    pub reviews: bool,
    /// `facts.comments` (approval commands).
    pub comments: bool,
    /// `facts.label_events`: who set the severity and when (deadline,
    /// provenance, severity drops). Always wanted once there is a severity.
    pub label_events: bool,
    /// `facts.changed_files` (hygiene checks).
    pub changed_files: bool,
    /// Paths to read at base and head into `facts.files`; afterwards ask
    /// `rules::version::expected_tag` which tag to look up for `existing_tags`.
    pub version_files: Vec<String>,
    /// `(org, slug)` of the teams in the severity's required roles: look up
    /// each of `candidate_logins` in each into `facts.team_members["org/slug"]`
    /// (insert the key, even with no members, once looked up: a missing key
    /// means "unknown").
    pub teams: Vec<(String, String)>,
    /// Reviewers' and commenters' permissions decide (count, count-only
    /// commands and objections). The label appliers among
    /// `candidate_logins` need their permission regardless.
    pub permissions_for_count: bool,
}

fn requires_approvals(severity: &Severity) -> bool {
    !severity.approvals.roles.is_empty() || severity.approvals.count.unwrap_or(0) > 0
}

pub fn needs(policy: &Policy, severity: &Severity) -> FactNeeds {
    let approvals = requires_approvals(severity);
    let checks = &policy.checks;
    let mut teams: Vec<(String, String)> = Vec::new();
    for role in &severity.approvals.roles {
        for member in role_members(policy, role) {
            if let Member::Team { org, slug } = member {
                let team = (org.clone(), slug.clone());
                if !teams.contains(&team) {
                    teams.push(team);
                }
            }
        }
    }
    FactNeeds {
        reviews: approvals,
        comments: approvals && !policy.approvals.command.trim().is_empty(),
        label_events: true,
        changed_files: !checks.require_tests.is_empty()
            || checks.max_changed_files.is_some()
            || checks.max_changed_lines.is_some(),
        version_files: checks
            .version_bump
            .iter()
            .flat_map(|b| b.files.iter().map(|f| f.path().to_string()))
            .collect(),
        teams,
        permissions_for_count: severity.approvals.count.unwrap_or(0) > 0,
    }
}

/// Logins whose team membership or permission can change the verdict:
/// reviewers whose latest decisive review approves or requests changes,
/// authors of approval commands, and who applied the severity label. Call it
/// once reviews, comments and label events are gathered, then look up
/// `permissions` for all of them and `team_members` for `needs().teams`.
pub fn candidate_logins(
    policy: &Policy,
    severity: &Severity,
    facts: &PullRequestFacts,
) -> Vec<String> {
    let mut logins = deciders(policy, facts);
    for login in label_appliers(policy, severity, facts) {
        push_unique_login(&mut logins, &login);
    }
    logins
}

/// Reviewers whose latest decisive review approves or requests changes, and
/// authors of approval commands: the people whose role membership (and, for
/// counts, permission) decides approvals. The author is left out unless the
/// policy lets authors approve: their approval never counts, so looking them
/// up would only cost API calls.
pub fn deciders(policy: &Policy, facts: &PullRequestFacts) -> Vec<String> {
    let mut logins = Vec::new();
    for review in &facts.reviews {
        let decisive = matches!(
            review.state,
            ReviewState::Approved | ReviewState::ChangesRequested | ReviewState::Dismissed
        );
        if !decisive {
            continue;
        }
        let latest = facts
            .reviews
            .iter()
            .filter(|r| {
                same_login(&r.user, &review.user)
                    && !matches!(r.state, ReviewState::Commented | ReviewState::Pending)
            })
            .max_by_key(|r| r.submitted_at);
        if latest.is_some_and(|r| r.state != ReviewState::Dismissed) {
            push_unique_login(&mut logins, &review.user);
        }
    }
    for comment in &facts.comments {
        if is_command(&policy.approvals.command, &comment.body) {
            push_unique_login(&mut logins, &comment.user);
        }
    }
    if !policy.approvals.allow_author {
        logins.retain(|l| !same_login(l, &facts.author));
    }
    logins
}

/// Deciders in at least one of the severity's required roles (as far as
/// `facts.team_members` says): their write access decides whether their
/// approval fills the role. Call it once team members are looked up.
pub fn role_holders(policy: &Policy, severity: &Severity, facts: &PullRequestFacts) -> Vec<String> {
    deciders(policy, facts)
        .into_iter()
        .filter(|login| {
            severity
                .approvals
                .roles
                .iter()
                .any(|role| in_role(policy, facts, role, login) == Membership::Yes)
        })
        .collect()
}

/// True when the users the policy names directly already give every one of
/// `deciders` a distinct required role: team membership can then fill no
/// more roles (one person fills one role), so looking teams up could not
/// change the verdict and is skipped.
pub fn direct_roles_cover(policy: &Policy, severity: &Severity, deciders: &[String]) -> bool {
    let eligible: Vec<Vec<usize>> = severity
        .approvals
        .roles
        .iter()
        .map(|role| {
            deciders
                .iter()
                .enumerate()
                .filter(|(_, login)| {
                    role_members(policy, role)
                        .iter()
                        .any(|m| matches!(m, Member::User(u) if same_login(u, login)))
                })
                .map(|(i, _)| i)
                .collect()
        })
        .collect();
    let filled = crate::rules::matching::assign_roles(&eligible, deciders.len())
        .iter()
        .filter(|who| who.is_some())
        .count();
    filled == deciders.len()
}

/// Who applied the severity's labels: their permission decides whether the
/// severity counts. Earlier appliers too: a writer's earlier application
/// keeps the deadline running when someone without write access re-applies
/// the label (see `provenance::clock_start`), and whoever removed one of
/// its labels (only a writer's removal ends an application). And the appliers of every
/// less severe severity whose label is on the pull request: when the
/// severity in force does not count, the most severe one a writer applied
/// runs the deadline (`deadline::running`). One severity label, the usual
/// case, costs nothing more.
pub fn label_appliers(
    policy: &Policy,
    severity: &Severity,
    facts: &PullRequestFacts,
) -> Vec<String> {
    let mut logins = appliers_of(severity, facts);
    let from = policy
        .severities
        .iter()
        .position(|s| s.name == severity.name)
        .unwrap_or(0);
    for less in policy.severities.iter().skip(from + 1) {
        let labelled = facts
            .labels
            .iter()
            .any(|l| less.labels.iter().any(|s| same_label(s, &l.name)));
        if labelled && less.name != severity.name {
            for login in appliers_of(less, facts) {
                push_unique_login(&mut logins, &login);
            }
        }
    }
    logins
}

fn appliers_of(severity: &Severity, facts: &PullRequestFacts) -> Vec<String> {
    let mut logins = Vec::new();
    for application in applications(severity, facts) {
        push_unique_login(&mut logins, &application.actor);
    }
    // Removers too: a writer's removal ends an application
    // (`provenance::applications`), anyone else's does not.
    for event in &facts.label_events {
        if severity.labels.iter().any(|l| same_label(l, &event.label)) {
            push_unique_login(&mut logins, &event.actor);
        }
    }
    logins
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::VersionFile;
    use crate::rules::facts::ReviewState::*;
    use crate::rules::testutil::*;

    #[test]
    fn p0_needs_reviews_comments_events_teams_and_version_files() {
        let mut policy = p0_policy();
        policy
            .roles
            .get_mut("engineering-lead")
            .expect("present in the fixture")
            .push(Member::parse("acme/on-call")); // duplicate team listed once
        let n = needs(&policy, severity_named(&policy, "P0"));
        assert_eq!(
            n,
            FactNeeds {
                reviews: true,
                comments: true,
                label_events: true,
                changed_files: false,
                version_files: vec!["VERSION".into()],
                teams: vec![
                    ("acme".into(), "eng-leads".into()),
                    ("acme".into(), "on-call".into())
                ],
                permissions_for_count: false,
            }
        );
    }

    #[test]
    fn count_only_needs_permissions_and_no_teams() {
        let policy = p0_policy();
        let n = needs(&policy, severity_named(&policy, "P2"));
        assert!(n.permissions_for_count);
        assert!(n.teams.is_empty());
        assert!(n.reviews);
    }

    #[test]
    fn nothing_required_gathers_nothing_for_approvals() {
        let mut policy = p0_policy();
        policy.severities[2].approvals.count = None;
        policy.approvals.command = String::new();
        policy.checks.version_bump = None;
        let n = needs(&policy, severity_named(&policy, "P2"));
        assert!(!n.reviews && !n.comments && !n.permissions_for_count);
        assert!(n.version_files.is_empty());
    }

    #[test]
    fn hygiene_needs_changed_files_and_every_version_file_is_listed() {
        let mut policy = p0_policy();
        policy.checks.max_changed_lines = Some(100);
        if let Some(bump) = policy.checks.version_bump.as_mut() {
            bump.files.push(VersionFile::CargoToml("Cargo.toml".into()));
        }
        let n = needs(&policy, severity_named(&policy, "P0"));
        assert!(n.changed_files);
        assert_eq!(n.version_files, ["VERSION", "Cargo.toml"]);
    }

    #[test]
    fn teams_are_not_needed_when_named_users_already_cover_every_decider() {
        let policy = p0_policy();
        let p0 = severity_named(&policy, "P0");
        assert!(direct_roles_cover(&policy, p0, &["alice".to_string()]));
        assert!(direct_roles_cover(&policy, p0, &[]));
        // bob is named in no role: only a team could make him count.
        assert!(!direct_roles_cover(
            &policy,
            p0,
            &["alice".to_string(), "bob".to_string()]
        ));
    }

    #[test]
    fn candidates_are_deciding_reviewers_commanders_and_label_appliers() {
        let policy = p0_policy();
        let mut facts = p0_facts();
        facts.reviews = vec![
            review(1, "bob", Approved, HEAD_SHA, "2026-11-26T13:20:00Z"),
            review(2, "Bob", Commented, HEAD_SHA, "2026-11-26T13:21:00Z"),
            review(3, "carol", Commented, HEAD_SHA, "2026-11-26T13:22:00Z"),
            review(
                4,
                "erin",
                ChangesRequested,
                HEAD_SHA,
                "2026-11-26T13:23:00Z",
            ),
            review(5, "zed", Approved, HEAD_SHA, "2026-11-26T13:23:00Z"),
            review(6, "zed", Dismissed, HEAD_SHA, "2026-11-26T13:24:00Z"),
        ];
        facts.comments = vec![
            comment(7, "mallory", "/hotfix approve", "2026-11-26T13:25:00Z"),
            comment(8, "frank", "looks good", "2026-11-26T13:25:00Z"),
            comment(9, "BOB", "/hotfix approve", "2026-11-26T13:26:00Z"),
        ];
        let got = candidate_logins(&policy, severity_named(&policy, "P0"), &facts);
        assert_eq!(got, ["bob", "erin", "mallory", "alice"]);
    }

    /// The appliers of a less severe label on the pull request are looked
    /// up too: when the severity in force counts for nobody with write
    /// access, theirs decides whose deadline runs (`deadline::running`).
    /// A severity label no longer on the pull request adds nobody.
    #[test]
    fn label_appliers_include_those_of_less_severe_labels_on_the_pull_request() {
        let policy = p0_policy();
        let mut facts = p0_facts();
        facts.labels = vec![label("hotfix"), label("P1"), label("P0")];
        facts.label_events = vec![
            label_event("P2", true, "carol", "2026-11-26T12:50:00Z"),
            label_event("P2", false, "carol", "2026-11-26T12:55:00Z"),
            label_event("P1", true, "dana", "2026-11-26T13:00:00Z"),
            label_event("P0", true, "trina", "2026-11-26T14:00:00Z"),
        ];
        let p0 = severity_named(&policy, "P0");
        assert_eq!(label_appliers(&policy, p0, &facts), ["trina", "dana"]);
        // From P1 on, P0's applier is not asked for.
        let p1 = severity_named(&policy, "P1");
        assert_eq!(label_appliers(&policy, p1, &facts), ["dana"]);
    }

    /// Whoever removed the severity's label is looked up: only a writer's
    /// removal ends the application before it (`provenance::applications`),
    /// so an unknown remover would let a non-writer's re-application pass
    /// for the writer's.
    #[test]
    fn label_appliers_include_those_who_removed_the_severitys_label() {
        let policy = p0_policy();
        let mut facts = p0_facts();
        facts.label_events = vec![
            label_event("P0", true, "alice", "2026-11-26T13:00:00Z"),
            label_event("p0", false, "bob", "2026-11-26T13:05:00Z"),
            label_event("P0", true, "mallory", "2026-11-26T13:06:00Z"),
        ];
        let p0 = severity_named(&policy, "P0");
        assert_eq!(
            label_appliers(&policy, p0, &facts),
            ["mallory", "alice", "bob"]
        );
    }
}
