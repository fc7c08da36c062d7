//! The first pass: YAML text → `raw` types, with serde-saphyr's errors turned
//! into one-line messages at a line and column.

use std::borrow::Cow;

use serde_saphyr::{DefaultMessageFormatter, Error, MessageFormatter};

use super::PolicyError;
use super::raw::RawPolicy;

/// At most this many type and key errors are collected in one run.
const MAX_ERRORS: usize = 20;

/// Reads the file into the raw types, collecting as many errors as can be
/// told apart honestly in one run:
///
/// - a syntax error ends the reading (YAML cannot be read past it); an
///   unclosed `[` or `{` is named where it was opened, not where the
///   parser noticed (often lines later, as "illegal placement of ':'");
/// - a type, value or unknown-key error blanks out the entry it sits in
///   (its line and the lines indented under it, keeping line numbers) and
///   the file is read again, so that the next such error is found too.
///   Errors that only the blanking could cause (a missing key, a syntax
///   error) are not reported from those later rounds.
pub(super) fn read_raw_all(text: &str) -> Result<RawPolicy, Vec<PolicyError>> {
    let mut errors: Vec<PolicyError> = Vec::new();
    let mut current = text.to_string();
    loop {
        match read_raw_inner(&current) {
            Ok(raw) if errors.is_empty() => return Ok(raw),
            Ok(_) => break,
            Err((error, kind)) => {
                let first = errors.is_empty();
                // A bracket left open makes every later error a consequence
                // of it: name it alone.
                if first && let Some(bracket) = unclosed_bracket(text, &error) {
                    return Err(vec![bracket]);
                }
                match kind {
                    ErrorKind::Syntax | ErrorKind::Missing if first => {
                        errors.push(error);
                        break;
                    }
                    ErrorKind::Syntax | ErrorKind::Missing => break,
                    ErrorKind::Entry => {
                        let seen = errors
                            .iter()
                            .any(|e| e.line == error.line && e.column == error.column);
                        if seen || errors.len() >= MAX_ERRORS {
                            break;
                        }
                        let Some(blanked) = blank_entry(&current, error.line) else {
                            errors.push(error);
                            break;
                        };
                        errors.push(error);
                        current = blanked;
                    }
                }
            }
        }
    }
    errors.sort_by_key(|e| (e.line, e.column));
    Err(errors)
}

/// How an error lets reading go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ErrorKind {
    /// Broken YAML: nothing after it can be trusted.
    Syntax,
    /// A required key is absent.
    Missing,
    /// One entry has the wrong type or value, or an unknown key: the rest
    /// of the file can still be read without it.
    Entry,
}

fn kind_of(error: &Error) -> ErrorKind {
    match error {
        Error::SerdeUnknownField { .. }
        | Error::SerdeUnknownVariant { .. }
        | Error::SerdeInvalidType { .. }
        | Error::SerdeInvalidValue { .. }
        | Error::InvalidScalar { .. }
        | Error::InvalidBooleanStrict { .. }
        | Error::DuplicateMappingKey { .. }
        | Error::NullIntoString { .. } => ErrorKind::Entry,
        Error::SerdeMissingField { .. } => ErrorKind::Missing,
        _ => ErrorKind::Syntax,
    }
}

/// `text` with line `line` (1-based) and the lines indented deeper under it
/// replaced by empty lines; `None` when there is no such line.
fn blank_entry(text: &str, line: usize) -> Option<String> {
    let lines: Vec<&str> = text.split('\n').collect();
    let index = line.checked_sub(1)?;
    let target = lines.get(index)?;
    let indent = |l: &str| l.len() - l.trim_start_matches([' ', '-']).len();
    let own = indent(target);
    let mut end = index + 1;
    while let Some(next) = lines.get(end) {
        let trimmed = next.trim();
        if !trimmed.is_empty() && !trimmed.starts_with('#') && indent(next) <= own {
            break;
        }
        end += 1;
    }
    Some(
        lines
            .iter()
            .enumerate()
            .map(|(i, l)| if (index..end).contains(&i) { "" } else { l })
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

/// An unclosed flow collection (`[` or `{`) opened before the parser's
/// error: the error at its opening, which is where the fix goes.
fn unclosed_bracket(text: &str, error: &PolicyError) -> Option<PolicyError> {
    let (line, column, bracket) = first_unclosed(text)?;
    if (line, column) > (error.line, error.column) {
        return None;
    }
    let closer = if bracket == '[' { ']' } else { '}' };
    Some(PolicyError::new(
        line,
        column,
        format!("`{bracket}` opened here is never closed: add `{closer}` where the list ends"),
    ))
}

/// The outermost flow collection left open, as (line, column, bracket).
/// Brackets count only where YAML opens a collection: first in a value or
/// list item, or anywhere inside another flow collection; quoted text and
/// comments are skipped.
fn first_unclosed(text: &str) -> Option<(usize, usize, char)> {
    let mut stack: Vec<(usize, usize, char)> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let mut quote: Option<char> = None;
        // True where a value may start: line start, after `key: ` or `- `.
        let mut value_start = true;
        let mut previous = ' ';
        for (col, c) in line.chars().enumerate() {
            if let Some(q) = quote {
                if c == q {
                    quote = None;
                }
                previous = c;
                continue;
            }
            match c {
                '#' if previous.is_whitespace() => break,
                '"' | '\'' if value_start || !stack.is_empty() => quote = Some(c),
                '[' | '{' if value_start || !stack.is_empty() => {
                    stack.push((index + 1, col + 1, c));
                }
                ']' | '}' if !stack.is_empty() => {
                    stack.pop();
                }
                _ => {}
            }
            value_start = match c {
                ' ' | '\t' => value_start || previous == ':' || previous == '-' || previous == ',',
                '[' | '{' | ',' => !stack.is_empty(),
                _ => false,
            };
            if c == ' ' && (previous == ':' || previous == '-') {
                value_start = true;
            }
            previous = c;
        }
    }
    stack.first().copied()
}

/// One reading; the first error the parser meets ends it.
fn read_raw_inner(text: &str) -> Result<RawPolicy, (PolicyError, ErrorKind)> {
    let options = serde_saphyr::options! {
        // We print our own one-line messages; a rendered snippet would only
        // have to be stripped off again.
        with_snippet: false,
        // `yes`/`no`/`on`/`off` are booleans only in YAML 1.1, and a policy
        // that reads `allow_author: no` as a string is worse than an error.
        strict_booleans: true,
    };
    match serde_saphyr::from_str_with_options::<Option<RawPolicy>>(text, options) {
        Ok(Some(raw)) => Ok(raw),
        // An empty file (or one that holds only comments) reads as null.
        Ok(None) => Err((
            PolicyError::new(1, 1, "the file is empty: it needs at least `version: 1`"),
            ErrorKind::Missing,
        )),
        Err(error) => {
            let kind = kind_of(error.without_snippet());
            Err((convert(&error, text), kind))
        }
    }
}

fn convert(error: &Error, text: &str) -> PolicyError {
    let (line, column) = error
        .location()
        .map(|at| (to_usize(at.line()), to_usize(at.column())))
        .unwrap_or((1, 1));
    let error = error.without_snippet();
    let mut message = one_line(&message(error));
    // The scanner reports a tab where the scalar before it started, which can
    // be the line above; point at the tab itself and say what to do.
    if message.contains("tab")
        && let Some((tab_line, tab_column)) = indenting_tab(text)
    {
        return PolicyError::new(
            tab_line,
            tab_column,
            "a tab in the indentation: YAML indents with spaces only",
        );
    }
    // Scalar errors do not repeat the value; quote it from the source.
    if matches!(
        error,
        Error::InvalidScalar { .. } | Error::InvalidBooleanStrict { .. }
    ) && let Some(found) = token_at(text, line, column)
    {
        message = format!("{message}, found `{found}`");
    }
    PolicyError::new(line, column, message)
}

/// The first tab among a line's leading whitespace, as (line, column).
fn indenting_tab(text: &str) -> Option<(usize, usize)> {
    text.lines().enumerate().find_map(|(index, line)| {
        line.chars()
            .take_while(|c| c.is_whitespace())
            .position(|c| c == '\t')
            .map(|position| (index + 1, position + 1))
    })
}

/// The plain scalar starting at a 1-based line and column, if any.
fn token_at(text: &str, line: usize, column: usize) -> Option<String> {
    let source_line = text.lines().nth(line.checked_sub(1)?)?;
    let token: String = source_line
        .chars()
        .skip(column.checked_sub(1)?)
        .take_while(|c| !matches!(c, ',' | ']' | '}' | '#') && !c.is_control())
        .take(80)
        .collect();
    let token = token.trim();
    (!token.is_empty()).then(|| token.to_string())
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// serde-saphyr's wording, rephrased where it speaks to Rust developers
/// rather than to whoever edits the policy.
fn message(error: &Error) -> String {
    match error {
        Error::SerdeUnknownField {
            field, expected, ..
        } => {
            let place = section_of(expected)
                .map(|section| format!(" in {section}"))
                .unwrap_or_default();
            format!(
                "unknown key `{field}`{place}; expected one of {}",
                expected.join(", ")
            )
        }
        Error::SerdeMissingField { field, .. } => format!("missing key `{field}`"),
        Error::SerdeUnknownVariant {
            variant, expected, ..
        } => format!(
            "unknown value `{variant}`; expected one of {}",
            expected.join(", ")
        ),
        Error::SerdeInvalidType {
            unexpected,
            expected,
            ..
        } => format!(
            "expected {}, found {}",
            plain_type(expected),
            plain_found(unexpected)
        ),
        Error::SerdeInvalidValue {
            unexpected,
            expected,
            ..
        } => format!("expected {}, found {unexpected}", plain_type(expected)),
        Error::InvalidScalar { ty, .. } => format!("expected {}", plain_type(ty)),
        Error::InvalidBooleanStrict { .. } => "expected true or false".to_string(),
        Error::DuplicateMappingKey { key: Some(key), .. } => {
            format!("duplicate key `{key}`: each key may appear once in a mapping")
        }
        Error::DuplicateMappingKey { key: None, .. } => {
            "duplicate key: each key may appear once in a mapping".to_string()
        }
        Error::MultipleDocuments { .. } => {
            "more than one YAML document (`---`): the policy is a single document".to_string()
        }
        Error::Eof { .. } => "unexpected end of file".to_string(),
        Error::Unexpected { expected, .. } => format!("expected {}", plain_type(expected)),
        Error::NullIntoString { .. } => "expected text, found nothing (null)".to_string(),
        other => match DefaultMessageFormatter.format_message(other) {
            Cow::Borrowed(text) => text.to_string(),
            Cow::Owned(text) => text,
        },
    }
}

/// Names the mapping an unknown key was found in, from the keys serde
/// expected there: each mapping of the file has its own set. The tests feed
/// an unknown key into every mapping, so a key added to a raw type without
/// updating this table fails them.
fn section_of(expected: &[&str]) -> Option<&'static str> {
    const SECTIONS: &[(&str, &[&str])] = &[
        (
            "the top level",
            &[
                "version",
                "hotfix",
                "workflow",
                "branches",
                "roles",
                "severities",
                "approvals",
                "checks",
                "escalation",
                "release",
                "audit",
                "notify",
            ],
        ),
        ("`hotfix`", &["labels", "branch_prefixes"]),
        ("`branches`", &["production", "develop"]),
        (
            "a severity",
            &[
                "labels",
                "approvals",
                "deadline",
                "follow_up",
                "require_checks",
                "require_deployment",
            ],
        ),
        ("a severity's `approvals`", &["roles", "count"]),
        ("a severity's `follow_up`", &["title", "within"]),
        ("`approvals`", &["dismiss_stale", "allow_author", "command"]),
        (
            "`checks`",
            &[
                "version_bump",
                "merge_back",
                "require_tests",
                "max_changed_files",
                "max_changed_lines",
                "title_pattern",
                "require_checks",
                "require_deployment",
            ],
        ),
        ("`checks.version_bump`", &["files", "increment"]),
        ("a `version_bump` file", &["path", "pattern"]),
        ("`escalation`", &["mention", "after", "mention_after"]),
        ("`release`", &["tag", "prefix"]),
        ("a required check", &["name", "app", "allow"]),
        ("`require_deployment`", &["environment"]),
        ("`audit`", &["direct_pushes"]),
        ("a `notify` entry", &["to", "severities", "on"]),
    ];
    SECTIONS
        .iter()
        .find(|(_, keys)| *keys == expected)
        .map(|(section, _)| *section)
}

/// serde's `expected` texts, in the file's terms.
fn plain_type(expected: &str) -> Cow<'_, str> {
    let plain = match expected {
        "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number",
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number",
        "f32" | "f64" => "a number",
        "a boolean" | "bool" => "true or false",
        "a string" | "string" | "String" | "string scalar" | "scalar" => "text",
        "a sequence" => "a list",
        "a map" | "mapping start" => "a mapping (`key: value` lines or `{ key: value }`)",
        "sequence start" => "a list (`- item` lines or `[a, b]`)",
        "a mapping of names to entries" => "a mapping of names to entries",
        other if other.starts_with("struct ") => "a mapping",
        other => return Cow::Borrowed(other),
    };
    Cow::Borrowed(plain)
}

fn plain_found(unexpected: &str) -> Cow<'_, str> {
    match unexpected {
        "sequence" => Cow::Borrowed("a list"),
        "map" => Cow::Borrowed("a mapping"),
        "unit value" => Cow::Borrowed("nothing"),
        other => Cow::Borrowed(other),
    }
}

/// Error lines go to a terminal and into a check-run summary: one line each.
fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_at_quotes_the_scalar_and_tolerates_any_position() {
        let text = "a: 1\nb: [many, 2]\n";
        assert_eq!(token_at(text, 2, 5).as_deref(), Some("many"));
        assert_eq!(token_at(text, 0, 1), None);
        assert_eq!(token_at(text, 1, 0), None);
        assert_eq!(token_at(text, 9, 1), None);
        assert_eq!(token_at(text, 1, 99), None);
    }

    fn errors(text: &str) -> Vec<String> {
        match read_raw_all(text) {
            Ok(_) => Vec::new(),
            Err(errors) => errors.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn several_type_and_key_errors_in_one_run() {
        let text = "version: 1\nhotfix:\n  labels: [hotfix]\n  branch_prefix: [hotfix/]\nseverities:\n  P0:\n    labels: [P0]\n    approvals: { count: two }\napprovals:\n  allow_author: maybe\n";
        assert_eq!(
            errors(text),
            [
                "4:3: unknown key `branch_prefix` in `hotfix`; expected one of labels, branch_prefixes",
                "8:25: expected a whole number, found `two`",
                "10:17: expected true or false, found `maybe`",
            ]
        );
    }

    #[test]
    fn a_missing_key_caused_by_setting_an_entry_aside_is_not_reported() {
        // `version: one` is set aside; the then-missing `version` is ours,
        // and reading stops there rather than guess.
        assert_eq!(
            errors("version: one\nhotfix: { labels: 5 }\n"),
            ["1:10: expected a whole number, found `one`"]
        );
    }

    #[test]
    fn an_unclosed_bracket_is_named_where_it_opens() {
        let text = "version: 1\nhotfix:\n  labels: [hotfix, P0\n  branch_prefixes: [hotfix/]\n";
        assert_eq!(
            errors(text),
            ["3:11: `[` opened here is never closed: add `]` where the list ends"]
        );
        let text = "version: 1\napprovals: { count: 1\nchecks:\n  merge_back: true\n";
        let found = errors(text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("2:12: `{` opened here is never closed"),
            "{found:?}"
        );
    }

    #[test]
    fn brackets_in_text_comments_and_patterns_do_not_count() {
        assert_eq!(
            first_unclosed("a: \"[x\"\nb: '{'\n# [ no\nc: ^v[0-9\n"),
            None
        );
        assert_eq!(first_unclosed("a: [1, [2, 3]\n"), Some((1, 4, '[')));
        assert_eq!(first_unclosed("- [a\n"), Some((1, 3, '[')));
        assert_eq!(first_unclosed("a: [x, \"]\"\n"), Some((1, 4, '[')));
    }

    #[test]
    fn a_syntax_error_elsewhere_is_reported_as_the_parser_says() {
        // Balanced brackets: the parser's own error stands.
        let found = errors("version: 1\nhotfix: [a]: b\n");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(!found[0].contains("never closed"), "{found:?}");
    }

    #[test]
    fn indenting_tab_ignores_tabs_after_the_indentation() {
        assert_eq!(indenting_tab("a: 1\nb:\t2\n"), None);
        assert_eq!(indenting_tab("a: 1\n  \tb: 2\n"), Some((2, 3)));
    }

    // Added for mutants cargo mutants found missed (docs/mutants.md).

    #[test]
    fn brackets_open_only_where_a_value_starts() {
        type Opened = Option<(usize, usize, char)>;
        let cases: [(&str, Opened); 20] = [
            ("a: b[c\n", None),
            ("a:[b\n", None),
            ("a:\t[b\n", Some((1, 4, '['))),
            ("a: x#[\n", None),
            ("a: x # [\n", None),
            ("a: {b: [c]\n", Some((1, 4, '{'))),
            ("a: [b, {c: d]\n", Some((1, 4, '['))),
            ("a: [b,[c]\n", Some((1, 4, '['))),
            ("a: [b] [c\n", None),
            ("a: [b]\nc: ]\n", None),
            ("- - [a\n", Some((1, 5, '['))),
            ("a: 'x [' [\n", None),
            ("a: [x#]\n", None),
            ("a: [x # ]\n", Some((1, 4, '['))),
            ("a: [\"ab]\"\n", Some((1, 4, '['))),
            ("- x' - [y\n", Some((1, 8, '['))),
            ("a: \"x, [y\"\n", None),
            ("a: b,[c\n", None),
            ("a:x[b\n", None),
            ("a:  [b\n", Some((1, 5, '['))),
        ];
        for (text, want) in cases {
            assert_eq!(first_unclosed(text), want, "{text:?}");
        }
    }

    #[test]
    fn at_most_twenty_entry_errors_are_collected() {
        let mut text = String::from("version: 1\n");
        for i in 0..25 {
            text.push_str(&format!("unknown_{i}: 1\n"));
        }
        let found = errors(&text);
        assert_eq!(found.len(), MAX_ERRORS, "{found:?}");
        assert!(
            found[0].starts_with("2:1: unknown key `unknown_0`"),
            "{found:?}"
        );
        assert!(
            found[19].starts_with("21:1: unknown key `unknown_19`"),
            "{found:?}"
        );
    }

    #[test]
    fn entry_errors_in_the_same_column_on_other_lines_are_each_reported() {
        // Only an error at the very same line and column means reading
        // made no progress.
        let text = "version: 1\nhotfix:\n  label: [a]\n  prefix: [b]\n";
        let found = errors(text);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found[0].starts_with("3:3: unknown key `label`"),
            "{found:?}"
        );
        assert!(
            found[1].starts_with("4:3: unknown key `prefix`"),
            "{found:?}"
        );
    }

    #[test]
    fn an_unclosed_bracket_after_the_first_error_is_not_blamed_for_it() {
        let text = "version: one\nhotfix:\n  labels: [a\n";
        assert_eq!(errors(text), ["1:10: expected a whole number, found `one`"]);
    }

    #[test]
    fn wrong_shapes_say_what_was_expected() {
        let cases = [
            (
                "version: 1\nseverities: [P0]\n",
                "2:13: expected a mapping (`key: value` lines or `{ key: value }`)",
            ),
            (
                "version: 1\nchecks:\n  version_bump:\n    files: [[1]]\n",
                "4:13: expected a file name (VERSION, Cargo.toml, package.json, pyproject.toml) or a mapping {path, pattern}, found a list",
            ),
            (
                "version: 1\nchecks:\n  require_checks: [[1]]\n",
                "3:20: expected a check name (e.g. test) or a mapping {name, app, allow}, found a list",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(errors(text), [want], "{text:?}");
        }
    }

    #[test]
    fn serde_type_names_read_in_the_file_s_terms() {
        assert_eq!(plain_type("struct RawHotfix"), "a mapping");
        assert_eq!(plain_type("u32"), "a whole number");
        assert_eq!(plain_type("a duration"), "a duration");
        assert_eq!(plain_found("sequence"), "a list");
        assert_eq!(plain_found("map"), "a mapping");
        assert_eq!(plain_found("unit value"), "nothing");
        assert_eq!(plain_found("integer `5`"), "integer `5`");
    }

    #[test]
    fn blank_entry_blanks_the_line_and_what_is_nested_under_it() {
        let text = "a:\n  b: 1\n\n# note\n  c: 2\nd: 3\n  e: 4";
        assert_eq!(
            blank_entry(text, 1).as_deref(),
            Some("\n\n\n\n\nd: 3\n  e: 4")
        );
        assert_eq!(
            blank_entry(text, 2).as_deref(),
            // A comment after an entry goes with it.
            Some("a:\n\n\n\n  c: 2\nd: 3\n  e: 4")
        );
        let list = "items:\n  - name: x\n    size: one\n  - name: y\n";
        assert_eq!(
            blank_entry(list, 3).as_deref(),
            Some("items:\n  - name: x\n\n  - name: y\n")
        );
        assert_eq!(blank_entry(text, 0), None);
        assert_eq!(blank_entry(text, 99), None);
    }
}
