//! Titles of what the app opens on GitHub (the follow-up issue, the
//! merge-back pull request), which carry the author's pull request title.

/// GitHub's longest issue or pull request title, in characters: a longer
/// one is refused with 422 "Validation Failed" (`title is too long
/// (maximum is 256 characters)`), on every try.
pub const GITHUB_TITLE_LIMIT: usize = 256;

/// `title` cut to GitHub's [`GITHUB_TITLE_LIMIT`] characters (Unicode
/// scalar values, never bytes, so no character is split), its last
/// character then "…" to show the cut; a title that fits is unchanged.
/// Pure: the author's title must not keep an after-merge step from being
/// opened.
pub fn fit_title(title: &str) -> String {
    if title.chars().count() <= GITHUB_TITLE_LIMIT {
        return title.to_string();
    }
    let mut cut: String = title.chars().take(GITHUB_TITLE_LIMIT - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_title_that_fits_is_unchanged() {
        let at_limit = "x".repeat(GITHUB_TITLE_LIMIT);
        assert_eq!(fit_title(&at_limit), at_limit);
        assert_eq!(
            fit_title("Post-incident review: fix"),
            "Post-incident review: fix"
        );
    }

    #[test]
    fn a_longer_title_is_cut_in_characters_and_ends_with_an_ellipsis() {
        // Multi-byte characters: a byte cut would split one (and panic).
        let long = format!("Merge back hotfix #7: {}", "é🔥".repeat(200));
        let fitted = fit_title(&long);
        assert_eq!(fitted.chars().count(), GITHUB_TITLE_LIMIT);
        assert!(fitted.ends_with('…'), "{fitted}");
        assert!(fitted.starts_with("Merge back hotfix #7: é🔥"), "{fitted}");
        let one_over = "y".repeat(GITHUB_TITLE_LIMIT + 1);
        assert_eq!(
            fit_title(&one_over),
            format!("{}…", "y".repeat(GITHUB_TITLE_LIMIT - 1))
        );
    }
}
