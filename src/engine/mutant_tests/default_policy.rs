//! `engine::default_policy`: the link to a new policy file and the note
//! that carries it.

use crate::engine::default_policy::{how_to_change, new_policy_link};

#[test]
fn only_a_pull_request_url_with_a_number_gives_a_link() {
    assert_eq!(
        new_policy_link("https://github.com/acme/app/pull/", "main"),
        None
    );
    assert_eq!(
        new_policy_link("https://github.com/acme/app/pull/4x2", "main"),
        None
    );
    assert_eq!(
        new_policy_link("https://github.com/acme/app/pull/files", "main"),
        None
    );
    assert_eq!(
        new_policy_link("https://github.com/acme/app/pull/0", "main").as_deref(),
        Some("https://github.com/acme/app/new/main?filename=.github%2Fhotfix-policy.yml")
    );
}

#[test]
fn the_note_links_the_new_file_when_the_url_is_a_pull_requests() {
    assert_eq!(
        how_to_change(Some("https://github.com/acme/app/pull/42"), "main"),
        "These rules are the built-in default: [add `.github/hotfix-policy.yml` on `main`](https://github.com/acme/app/new/main?filename=.github%2Fhotfix-policy.yml) to set your own (the README's \"The policy file\" describes it)"
    );
    let without = "These rules are the built-in default: add `.github/hotfix-policy.yml` on `develop` to set your own (the README's \"The policy file\" describes it)";
    assert_eq!(how_to_change(None, "develop"), without);
    assert_eq!(
        how_to_change(Some("https://github.com/acme/app/issues/42"), "develop"),
        without
    );
}
