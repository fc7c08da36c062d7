//! Reading the app's markers back, only where the app writes them.
//!
//! Every marker (`<!-- hotfix-guard -->`, `<!-- hotfix-guard:escalation
//! level=N -->`, `<!-- hotfix-guard:follow-up #N -->`,
//! `<!-- hotfix-guard:follow-up-of #N -->`, `<!-- hotfix-guard:direct-push
//! SHA -->`) is written on a line of its own: the first line of the comment
//! or issue body, or (the follow-up marker in the sticky comment) a line
//! after the follow-up's list item. The app's comments also quote text an
//! author controls (a title, a file name), so a marker found *anywhere* in
//! the app's own comment proves nothing: only a line that starts with the
//! marker does. Quoted text cannot start a line: [`super::markdown::quoted`]
//! flattens its line breaks and breaks `<!--`.
//!
//! Pure and dependency-free, so that `github` (which picks the app's own
//! comments) can use it without depending on the renderers.

/// The rest of the body's FIRST line after `marker`, when that line starts
/// with it: the position of the sticky comment's, an escalation comment's
/// and an issue body's markers. `None` when the first line does not start
/// with `marker` (a marker further down is someone's quoted text).
pub fn opening<'b>(body: &'b str, marker: &str) -> Option<&'b str> {
    first_line(body).strip_prefix(marker)
}

/// Whether the body opens with `marker` (see [`opening`]).
pub fn opens(body: &str, marker: &str) -> bool {
    opening(body, marker).is_some()
}

/// The rest of the first line (any line, in order) that starts with
/// `marker`: the position of a marker the app writes on its own line inside
/// a longer body (the follow-up marker in the sticky comment). Text inside a
/// line never counts.
pub fn on_own_line<'b>(body: &'b str, marker: &str) -> Option<&'b str> {
    body.lines()
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .find_map(|line| line.strip_prefix(marker))
}

/// The number a numbered marker carries: `<marker>42 -->` on a line of its
/// own (see [`on_own_line`]); `None` for anything else on that line (no
/// digits, or not closed as the app closes it).
pub fn number_on_own_line(body: &str, marker: &str) -> Option<u64> {
    body.lines()
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .filter_map(|line| line.strip_prefix(marker))
        .find_map(|rest| rest.strip_suffix(" -->")?.parse().ok())
}

fn first_line(body: &str) -> &str {
    let line = body.split('\n').next().unwrap_or_default();
    line.strip_suffix('\r').unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STICKY: &str = "<!-- hotfix-guard -->";
    const FOLLOW_UP: &str = "<!-- hotfix-guard:follow-up #";
    const ESCALATION: &str = "<!-- hotfix-guard:escalation level=";

    #[test]
    fn a_marker_counts_only_as_the_first_line_the_app_writes() {
        assert!(opens("<!-- hotfix-guard -->\n### 🚑 P0 hotfix", STICKY));
        assert!(opens("<!-- hotfix-guard -->\r\nbody", STICKY));
        assert!(opens("<!-- hotfix-guard -->", STICKY));
        // Quoted further down, or inside the first line: not the app's.
        assert!(!opens("### fix\n<!-- hotfix-guard -->", STICKY));
        assert!(!opens("fix <!-- hotfix-guard -->", STICKY));
        assert!(!opens(" <!-- hotfix-guard -->", STICKY));
        assert!(!opens("", STICKY));
        assert_eq!(
            opening("<!-- hotfix-guard:escalation level=2 -->\n⏰", ESCALATION),
            Some("2 -->")
        );
        assert_eq!(
            opening(
                "<!-- hotfix-guard -->\n\"fix <!-- hotfix-guard:escalation level=1 -->\"",
                ESCALATION
            ),
            None
        );
    }

    #[test]
    fn the_follow_up_number_is_read_only_from_its_own_line() {
        let ours = "<!-- hotfix-guard -->\n- 📝 Review: [#12](u), due x\n<!-- hotfix-guard:follow-up #12 -->\n";
        assert_eq!(number_on_own_line(ours, FOLLOW_UP), Some(12));
        assert_eq!(
            number_on_own_line(&ours.replace('\n', "\r\n"), FOLLOW_UP),
            Some(12)
        );
        // The title quoted mid-line, before the real marker: skipped.
        let quoted = format!(
            "<!-- hotfix-guard -->\nacme/app#8 \"fix <!-- hotfix-guard:follow-up #999 -->\"\n{}",
            &ours[22..]
        );
        assert_eq!(number_on_own_line(&quoted, FOLLOW_UP), Some(12));
        // Only quoted: none.
        assert_eq!(
            number_on_own_line(
                "<!-- hotfix-guard -->\n\"fix <!-- hotfix-guard:follow-up #999 -->\"",
                FOLLOW_UP
            ),
            None
        );
        // Not closed as the app closes it, or no number: none.
        assert_eq!(
            number_on_own_line("<!-- hotfix-guard:follow-up #12", FOLLOW_UP),
            None
        );
        assert_eq!(
            number_on_own_line("<!-- hotfix-guard:follow-up #12 --> x", FOLLOW_UP),
            None
        );
        assert_eq!(
            number_on_own_line("<!-- hotfix-guard:follow-up #x -->", FOLLOW_UP),
            None
        );
        assert_eq!(
            on_own_line("a\n<!-- hotfix-guard:follow-up #7 -->", FOLLOW_UP),
            Some("7 -->")
        );
    }
}
