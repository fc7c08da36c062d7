//! The built-in default fitted to one repository: the facts it adapts to
//! (default branch, version files on the base, whether `develop` exists),
//! read from GitHub. Only for hotfixes of repositories without a policy file;
//! a pull request that is not a hotfix costs nothing here.

use crate::github::{GitHubError, RepoClient};
use crate::policy::Policy;
use crate::policy::defaults::{Adapted, RepositoryFacts, version_file_candidates};
use crate::rules::version::extract;

/// Reads what the default adapts to and fits it: `GET /repos/{o}/{r}` for
/// `default_branch`, `GET .../contents/{path}?ref={base_sha}` for each
/// candidate version file, `GET .../branches/{develop}`. A GitHub error is
/// returned, never guessed around: the evaluation then fails closed.
pub async fn fit(client: &RepoClient, base_sha: &str) -> Result<Adapted, GitHubError> {
    let builtin = Policy::builtin();
    let default_branch = client.get_repo().await?.default_branch;
    let mut version_files = Vec::new();
    for candidate in version_file_candidates() {
        // The base is the trusted side: a file the pull request adds does
        // not bring a version rule with it, nor does removing one drop it.
        // A path that is there but not a text file (a directory named
        // `VERSION`, a submodule) is simply not a version file.
        if let crate::github::FileRead::Text(text) =
            client.read_file(candidate.path(), Some(base_sha)).await?
            && extract(&candidate, &text).is_ok()
        {
            version_files.push(candidate);
        }
    }
    let develop_exists = client
        .get_branch(&builtin.branches.develop)
        .await?
        .is_some();
    Ok(Policy::builtin_for(&RepositoryFacts {
        default_branch,
        version_files,
        develop_exists,
    }))
}

/// A link that opens GitHub's editor on a new `.github/hotfix-policy.yml` in
/// `branch` of the pull request's repository (`pull_url` is the pull
/// request's `html_url`, which also gives the host on GitHub Enterprise).
/// `None` when the URL is not a pull request's.
pub fn new_policy_link(pull_url: &str, branch: &str) -> Option<String> {
    let (repository, number) = pull_url.rsplit_once("/pull/")?;
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let branch: String = branch
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'/' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    Some(format!(
        "{repository}/new/{branch}?filename=.github%2Fhotfix-policy.yml"
    ))
}

/// The note that turns the report's "built-in default" into a next step.
pub fn how_to_change(pull_url: Option<&str>, branch: &str) -> String {
    match pull_url.and_then(|url| new_policy_link(url, branch)) {
        Some(link) => format!(
            "These rules are the built-in default: [add `.github/hotfix-policy.yml` on `{branch}`]({link}) to set your own (the README's \"The policy file\" describes it)"
        ),
        None => format!(
            "These rules are the built-in default: add `.github/hotfix-policy.yml` on `{branch}` to set your own (the README's \"The policy file\" describes it)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_opens_a_new_policy_file_on_the_branch() {
        assert_eq!(
            new_policy_link("https://github.com/acme/app/pull/42", "master").as_deref(),
            Some("https://github.com/acme/app/new/master?filename=.github%2Fhotfix-policy.yml")
        );
        assert_eq!(
            new_policy_link("https://ghe.example/acme/app/pull/7", "release 1").as_deref(),
            Some(
                "https://ghe.example/acme/app/new/release%201?filename=.github%2Fhotfix-policy.yml"
            )
        );
        assert_eq!(
            new_policy_link("https://github.com/acme/app/issues/42", "main"),
            None
        );
    }
}
