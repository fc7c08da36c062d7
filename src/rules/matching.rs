//! Maximum bipartite matching (Kuhn's augmenting paths) of roles to distinct
//! approvers. Greedy assignment is wrong: with alice in both roles and bob only
//! in the first, giving alice the first role strands the second.

/// `eligible[role]` lists the approvers (indices below `approvers`) who may
/// fill that role, in preference order. Returns, per role, the approver
/// filling it. Deterministic for a given input order.
pub(crate) fn assign_roles(eligible: &[Vec<usize>], approvers: usize) -> Vec<Option<usize>> {
    let mut role_of_approver: Vec<Option<usize>> = vec![None; approvers];
    for role in 0..eligible.len() {
        let mut visited = vec![false; approvers];
        augment(role, eligible, &mut visited, &mut role_of_approver);
    }
    let mut approver_of_role = vec![None; eligible.len()];
    for (approver, role) in role_of_approver.iter().enumerate() {
        if let Some(role) = role {
            approver_of_role[*role] = Some(approver);
        }
    }
    approver_of_role
}

/// Tries to give `role` an approver, moving earlier assignments along an
/// augmenting path when needed. Depth is bounded by the number of roles.
fn augment(
    role: usize,
    eligible: &[Vec<usize>],
    visited: &mut [bool],
    role_of_approver: &mut [Option<usize>],
) -> bool {
    for &approver in &eligible[role] {
        if approver >= visited.len() || visited[approver] {
            continue;
        }
        visited[approver] = true;
        let free = match role_of_approver[approver] {
            None => true,
            Some(other) => augment(other, eligible, visited, role_of_approver),
        };
        if free {
            role_of_approver[approver] = Some(role);
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_a_shared_approver_to_the_role_only_they_can_fill() {
        // alice (0) in both roles, bob (1) only in role 0.
        assert_eq!(assign_roles(&[vec![0, 1], vec![0]], 2), [Some(1), Some(0)]);
        // Same with the roles in the other order.
        assert_eq!(assign_roles(&[vec![0], vec![0, 1]], 2), [Some(0), Some(1)]);
    }

    #[test]
    fn one_person_fills_one_role_only() {
        assert_eq!(assign_roles(&[vec![0], vec![0]], 1), [Some(0), None]);
    }

    #[test]
    fn needs_a_chain_of_moves() {
        // role0: {0}, role1: {0,1}, role2: {1,2}; filling in order requires
        // reassigning through two steps when the preference lists are reversed.
        let got = assign_roles(&[vec![0, 1, 2], vec![0, 1], vec![0]], 3);
        assert_eq!(got, [Some(2), Some(1), Some(0)]);
    }

    #[test]
    fn no_approvers() {
        assert_eq!(assign_roles(&[vec![], vec![]], 0), [None, None]);
    }
}
