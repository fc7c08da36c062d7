//! The first pass: YAML text → `raw` types, with serde-saphyr's errors turned
//! into one-line messages at a line and column.

use std::borrow::Cow;

use serde_saphyr::{DefaultMessageFormatter, Error, MessageFormatter};

use super::PolicyError;
use super::raw::RawPolicy;

/// Reads the file into the raw types; the first error the parser meets ends it.
pub(super) fn read_raw(text: &str) -> Result<RawPolicy, PolicyError> {
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
        Ok(None) => Err(PolicyError::new(
            1,
            1,
            "the file is empty: it needs at least `version: 1`",
        )),
        Err(error) => Err(convert(&error, text)),
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

    #[test]
    fn indenting_tab_ignores_tabs_after_the_indentation() {
        assert_eq!(indenting_tab("a: 1\nb:\t2\n"), None);
        assert_eq!(indenting_tab("a: 1\n  \tb: 2\n"), Some((2, 3)));
    }
}
