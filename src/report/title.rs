//! Titles and bodies of what the app opens on GitHub (the follow-up issue,
//! the merge-back pull request), which carry text others wrote: fitted to
//! GitHub's limits so that GitHub never refuses them.

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

/// GitHub's longest issue or pull request body, in characters: a longer
/// one is refused with 422 "Validation Failed" (`body is too long
/// (maximum is 65536 characters)`), on every try.
pub const GITHUB_BODY_LIMIT: usize = 65_536;

/// A body made of `head`, the lines `rows` (each ending in its own line
/// break) and `tail`, fitted to [`GITHUB_BODY_LIMIT`] characters (Unicode
/// scalar values, never bytes): when everything fits it is the plain
/// concatenation; otherwise the first rows that fit are kept, in order,
/// followed by `cut_row(n)` (`n`: how many rows were left out), which says
/// the list was cut. Should `head`, `tail` and the cut line alone exceed
/// the limit, the result is cut to the limit and ends with "…". Pure: what
/// others wrote (approvals, titles) must not make GitHub refuse an issue.
pub fn fit_body(
    head: &str,
    rows: &[String],
    tail: &str,
    cut_row: impl Fn(usize) -> String,
) -> String {
    let len = |s: &str| s.chars().count();
    let fixed = len(head) + len(tail);
    let all: usize = rows.iter().map(|r| len(r)).sum();
    if fixed + all <= GITHUB_BODY_LIMIT {
        return format!("{head}{}{tail}", rows.concat());
    }
    // The cut line is at most as long as the one for every row left out.
    let room = GITHUB_BODY_LIMIT.saturating_sub(fixed + len(&cut_row(rows.len())));
    let mut used = 0;
    let kept = rows
        .iter()
        .take_while(|r| {
            used += len(r);
            used <= room
        })
        .count();
    let body = format!(
        "{head}{}{}{tail}",
        rows[..kept].concat(),
        cut_row(rows.len() - kept)
    );
    if len(&body) <= GITHUB_BODY_LIMIT {
        return body;
    }
    let mut cut: String = body.chars().take(GITHUB_BODY_LIMIT - 1).collect();
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

    fn more(n: usize) -> String {
        format!("… {n} more not listed\n")
    }

    #[test]
    fn a_body_that_fits_is_the_plain_concatenation() {
        let rows = vec!["a\n".to_string(), "b\n".to_string()];
        assert_eq!(fit_body("H\n", &rows, "T\n", more), "H\na\nb\nT\n");
        let head = "h".repeat(GITHUB_BODY_LIMIT - 4);
        let at_limit = fit_body(&head, &rows, "", more);
        assert_eq!(at_limit.chars().count(), GITHUB_BODY_LIMIT);
        assert!(!at_limit.contains("more not listed"));
    }

    #[test]
    fn a_longer_body_keeps_the_first_rows_and_says_how_many_were_cut() {
        // Multi-byte rows: the limit is in characters, not bytes.
        let rows: Vec<String> = (0..10_000).map(|i| format!("| é🔥 {i:05} |\n")).collect();
        let body = fit_body("# Head\n", &rows, "## Tail\n", more);
        let chars = body.chars().count();
        assert!(chars <= GITHUB_BODY_LIMIT, "{chars}");
        assert!(
            chars > GITHUB_BODY_LIMIT - 20,
            "as many rows as fit: {chars}"
        );
        assert!(
            body.starts_with("# Head\n| é🔥 00000 |\n"),
            "{}",
            &body[..40]
        );
        assert!(body.ends_with("## Tail\n"));
        let kept = body.matches("| é🔥 ").count();
        assert!(body.contains(&more(10_000 - kept)), "{kept} kept");
        assert!(
            !body.contains(&format!("| é🔥 {kept:05} |")),
            "rows kept in order"
        );
    }

    #[test]
    fn fixed_text_over_the_limit_is_cut_with_an_ellipsis() {
        let head = "x".repeat(GITHUB_BODY_LIMIT + 10);
        let body = fit_body(&head, &["r\n".to_string()], "tail", more);
        assert_eq!(body.chars().count(), GITHUB_BODY_LIMIT);
        assert!(body.ends_with('…'));
    }
}
