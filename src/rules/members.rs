//! Who is who: role membership and repository permission, read from the
//! facts the engine looked up. GitHub logins and team slugs are
//! case-insensitive (and ASCII).

use crate::policy::{Member, Policy};
use crate::rules::facts::{Permission, PullRequestFacts};

pub(crate) fn same_login(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Whether a login belongs somewhere, when the facts can say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Membership {
    Yes,
    No,
    /// A team's members were not looked up.
    Unknown,
}

impl Membership {
    /// Yes when any is Yes; otherwise Unknown when any is Unknown; else No.
    pub(crate) fn any(all: impl IntoIterator<Item = Membership>) -> Membership {
        let mut unknown = false;
        for membership in all {
            match membership {
                Membership::Yes => return Membership::Yes,
                Membership::Unknown => unknown = true,
                Membership::No => {}
            }
        }
        if unknown {
            Membership::Unknown
        } else {
            Membership::No
        }
    }
}

/// `org/slug` → the looked-up members, matching the key case-insensitively.
fn team_members<'f>(facts: &'f PullRequestFacts, org: &str, slug: &str) -> Option<&'f [String]> {
    let key = format!("{org}/{slug}");
    facts
        .team_members
        .get(&key)
        .or_else(|| {
            facts
                .team_members
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(&key))
                .map(|(_, v)| v)
        })
        .map(Vec::as_slice)
}

pub(crate) fn is_member(facts: &PullRequestFacts, member: &Member, login: &str) -> Membership {
    match member {
        Member::User(user) if same_login(user, login) => Membership::Yes,
        Member::User(_) => Membership::No,
        Member::Team { org, slug } => match team_members(facts, org, slug) {
            Some(members) if members.iter().any(|m| same_login(m, login)) => Membership::Yes,
            Some(_) => Membership::No,
            None => Membership::Unknown,
        },
    }
}

/// The members a policy lists for `role` (empty when the role is undefined).
pub(crate) fn role_members<'p>(policy: &'p Policy, role: &str) -> &'p [Member] {
    policy.roles.get(role).map(Vec::as_slice).unwrap_or(&[])
}

pub(crate) fn in_role(
    policy: &Policy,
    facts: &PullRequestFacts,
    role: &str,
    login: &str,
) -> Membership {
    Membership::any(
        role_members(policy, role)
            .iter()
            .map(|member| is_member(facts, member, login)),
    )
}

pub(crate) fn permission_of(facts: &PullRequestFacts, login: &str) -> Option<Permission> {
    permission_in(&facts.permissions, login)
}

/// `login`'s permission in a looked-up map, matching the login
/// case-insensitively; `None` when it was not looked up.
pub fn permission_in(
    permissions: &std::collections::BTreeMap<String, Permission>,
    login: &str,
) -> Option<Permission> {
    permissions.get(login).copied().or_else(|| {
        permissions
            .iter()
            .find(|(k, _)| same_login(k, login))
            .map(|(_, p)| *p)
    })
}

/// Adds `login` unless an equal login (ignoring case) is already there.
pub fn push_unique_login(logins: &mut Vec<String>, login: &str) {
    if !logins.iter().any(|l| same_login(l, login)) {
        logins.push(login.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testutil::{p0_facts, p0_policy};

    #[test]
    fn users_match_case_insensitively() {
        let facts = p0_facts();
        assert_eq!(
            is_member(&facts, &Member::parse("Alice"), "aLICE"),
            Membership::Yes
        );
        assert_eq!(
            is_member(&facts, &Member::parse("alice"), "alicia"),
            Membership::No
        );
    }

    #[test]
    fn team_membership_comes_from_the_looked_up_members() {
        let policy = p0_policy();
        let mut facts = p0_facts();
        assert_eq!(
            in_role(&policy, &facts, "on-call-manager", "BOB"),
            Membership::Yes
        );
        assert_eq!(
            in_role(&policy, &facts, "on-call-manager", "carol"),
            Membership::No
        );
        facts.team_members.clear();
        assert_eq!(
            in_role(&policy, &facts, "on-call-manager", "bob"),
            Membership::Unknown
        );
        // A listed user still matches without any team lookup.
        assert_eq!(
            in_role(&policy, &facts, "engineering-lead", "alice"),
            Membership::Yes
        );
    }

    #[test]
    fn undefined_role_has_no_members() {
        let policy = p0_policy();
        let facts = p0_facts();
        assert_eq!(
            in_role(&policy, &facts, "release-manager", "alice"),
            Membership::No
        );
    }

    #[test]
    fn permission_lookup_ignores_case() {
        let facts = p0_facts();
        assert_eq!(permission_of(&facts, "BOB"), Some(Permission::Write));
        assert_eq!(permission_of(&facts, "zed"), None);
    }
}
