//! Others' text made inert for chat: a pull request's title is its
//! author's to choose, and a notice must not let it ping a channel, hide a
//! link or flood a thread.
//!
//! Slack reads `<…>` as links and mentions (`<!channel>`, `<@U123>`,
//! `<https://x|label>`) and asks senders to escape `&`, `<` and `>` as
//! `&amp;`, `&lt;`, `&gt;` (Slack's "Formatting text for app surfaces").
//! Mattermost translates the same `<!channel>` into a mention for incoming
//! webhooks, and acts on a plain `@channel`, `@here`, `@all` (Microsoft
//! Teams and others on `@everyone`): those get a zero-width space after the
//! `@`, which keeps them readable and stops the mention.

/// Longest title a notice carries, in characters (GitHub allows 256;
/// the notice adds "…" when it cuts).
pub const TITLE_CHARS: usize = 120;

/// `text` escaped for Slack's `text` field (`&`, `<`, `>`).
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `text` with the chat-wide mentions (`@channel`, `@here`, `@all`,
/// `@everyone`, any case) broken by a zero-width space after the `@`.
pub fn defuse(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('@') {
        out.push_str(&rest[..=at]);
        rest = &rest[at + 1..];
        let lower = rest.to_ascii_lowercase();
        if ["channel", "here", "all", "everyone"]
            .iter()
            .any(|word| lower.starts_with(word))
        {
            out.push('\u{200B}');
        }
    }
    out.push_str(rest);
    out
}

/// A notice's text as sent to Slack or a webhook's `text`: escaped and
/// defused.
pub fn for_chat(text: &str) -> String {
    defuse(&escape(text))
}

/// A pull request title fit for one line of a notice: control characters
/// (line breaks included) become spaces, runs of spaces one, and at most
/// [`TITLE_CHARS`] characters are kept.
pub fn title(text: &str) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let words: Vec<&str> = one_line.split_whitespace().collect();
    let joined = words.join(" ");
    if joined.chars().count() <= TITLE_CHARS {
        return joined;
    }
    let mut cut: String = joined.chars().take(TITLE_CHARS - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_title_cannot_mention_the_channel_or_hide_a_link() {
        assert_eq!(
            for_chat("fix <!channel> & <@U1> <https://evil.example|docs> @here @All"),
            "fix &lt;!channel&gt; &amp; &lt;@U1&gt; &lt;https://evil.example|docs&gt; @\u{200B}here @\u{200B}All"
        );
        assert_eq!(defuse("@here@all"), "@\u{200B}here@\u{200B}all");
        assert_eq!(defuse("hi @alice"), "hi @alice");
        // An address is not a mention.
        assert_eq!(for_chat("ops@example.com"), "ops@example.com");
    }

    #[test]
    fn a_title_is_one_line_and_capped() {
        assert_eq!(title("fix\n\n<!channel>\tnow\u{7}"), "fix <!channel> now");
        let long = "é".repeat(300);
        let capped = title(&long);
        assert_eq!(capped.chars().count(), TITLE_CHARS);
        assert!(capped.ends_with('…'));
        assert_eq!(title("short"), "short");
    }
}
