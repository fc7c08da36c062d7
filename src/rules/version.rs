//! The version bump: every configured version file must move from the base's
//! version to exactly the next one (patch, minor, or any greater), agree with
//! the others, and not name a version that is already tagged. Each file is
//! read in its ecosystem's grammar (see [`grammar`]): PEP 440 for
//! `pyproject.toml`, SemVer for the others.
//!
//! Reads: `files[path].base/head` for each configured file, `existing_tags`.

use serde::Serialize;

use crate::policy::{Increment, Policy, VersionFile};
use crate::rules::facts::{FileAtRefs, MAX_FILE_BYTES, PullRequestFacts};
use crate::rules::result::{RuleId, RuleResult};

mod grammar;
pub use grammar::{Grammar, ReleaseVersion};

/// One version file as read at base and head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionFileReport {
    pub path: String,
    /// The version text extracted at the base, when readable.
    pub base: Option<String>,
    pub head: Option<String>,
    /// What is wrong with this file, when anything is.
    pub problem: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionOutcome {
    pub result: RuleResult,
    pub files: Vec<VersionFileReport>,
    /// The version the head carries, when every file agrees on one.
    pub new_version: Option<ReleaseVersion>,
}

/// The version text a file carries, per its kind.
pub fn extract(file: &VersionFile, text: &str) -> Result<String, String> {
    match file {
        VersionFile::Plain(_) => {
            let v = text.trim();
            if v.is_empty() {
                Err("is empty".to_string())
            } else {
                Ok(v.to_string())
            }
        }
        VersionFile::CargoToml(_) => {
            let doc: toml::Table = text
                .parse()
                .map_err(|e| format!("is not valid TOML: {}", one_line(&e)))?;
            let package = doc.get("package").and_then(|p| p.get("version"));
            let workspace = doc
                .get("workspace")
                .and_then(|w| w.get("package"))
                .and_then(|p| p.get("version"));
            match (package, workspace) {
                (Some(toml::Value::String(v)), _) => Ok(v.clone()),
                (Some(toml::Value::Table(t)), Some(toml::Value::String(v)))
                    if t.get("workspace").and_then(toml::Value::as_bool) == Some(true) =>
                {
                    Ok(v.clone())
                }
                (Some(toml::Value::Table(_)), _) => Err(
                    "inherits its version from the workspace; list the workspace's Cargo.toml instead"
                        .to_string(),
                ),
                (None, Some(toml::Value::String(v))) => Ok(v.clone()),
                _ => Err("has no package.version or workspace.package.version".to_string()),
            }
        }
        VersionFile::PackageJson(_) => {
            let doc: serde_json::Value =
                serde_json::from_str(text).map_err(|e| format!("is not valid JSON: {e}"))?;
            doc.get("version")
                .and_then(serde_json::Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| "has no \"version\" field".to_string())
        }
        VersionFile::Pyproject(_) => {
            let doc: toml::Table = text
                .parse()
                .map_err(|e| format!("is not valid TOML: {}", one_line(&e)))?;
            let project = doc.get("project").and_then(|p| p.get("version"));
            let poetry = doc
                .get("tool")
                .and_then(|t| t.get("poetry"))
                .and_then(|p| p.get("version"));
            match project.or(poetry) {
                Some(toml::Value::String(v)) => Ok(v.clone()),
                _ => Err("has no project.version or tool.poetry.version".to_string()),
            }
        }
        VersionFile::Pattern { pattern, .. } => {
            let re = crate::policy::limits::regex(pattern)
                .map_err(|e| format!("pattern `{pattern}` is invalid: {}", one_line(&e)))?;
            let caps = re
                .captures(text)
                .ok_or_else(|| format!("does not match `{pattern}`"))?;
            // The first capture group, or the whole match when there is none.
            let m = caps.get(1).or_else(|| caps.get(0));
            m.map(|m| m.as_str().trim().to_string())
                .filter(|v| !v.is_empty())
                .ok_or_else(|| format!("`{pattern}` captured nothing"))
        }
    }
}

fn one_line(e: &dyn std::fmt::Display) -> String {
    e.to_string()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The version in `text`, in the grammar of `file`'s ecosystem.
pub fn parse_version(file: &VersionFile, text: &str) -> Result<ReleaseVersion, String> {
    ReleaseVersion::parse(Grammar::of(file), text)
}

/// A file that failed, with words for the check title and a detail line.
struct Problem {
    fragment: String,
    detail: String,
}

struct FileCheck {
    report: VersionFileReport,
    head: Option<ReleaseVersion>,
    problem: Option<Problem>,
}

fn side(file: &FileAtRefs, head: bool) -> Option<&str> {
    if head {
        file.head.as_deref()
    } else {
        file.base.as_deref()
    }
}

fn check_file(file: &VersionFile, facts: &PullRequestFacts, increment: Increment) -> FileCheck {
    let path = file.path();
    let at_refs = facts.files.get(path).cloned().unwrap_or_default();
    let mut report = VersionFileReport {
        path: path.to_string(),
        base: None,
        head: None,
        problem: None,
    };
    let fail = |mut report: VersionFileReport, fragment: String, detail: String, head| {
        report.problem = Some(detail.clone());
        FileCheck {
            report,
            head,
            problem: Some(Problem { fragment, detail }),
        }
    };

    // Read both sides first so the report shows whatever could be read.
    let mut texts = [None, None];
    for (i, is_head) in [false, true].into_iter().enumerate() {
        let which = if is_head { "head" } else { "base" };
        // There, but not a file's text (a directory, a symbolic link, a
        // submodule, bytes that are not UTF-8): a fact of the commit,
        // which whoever pushed it chose; named, never an evaluation error.
        let (not_text, too_large) = if is_head {
            (&at_refs.head_not_text, at_refs.head_too_large)
        } else {
            (&at_refs.base_not_text, at_refs.base_too_large)
        };
        // Too large to read: never downloaded, named with its size.
        if let Some(bytes) = too_large {
            return fail(
                report,
                format!("{path} too large"),
                format!(
                    "`{path}` at the {which} is {bytes} bytes; hotfix-guard reads a version file of at most {MAX_FILE_BYTES} bytes (1 MB), so it was not read: the version file must be a small text file holding the version"
                ),
                None,
            );
        }
        if let Some(what) = not_text {
            return fail(
                report,
                format!("{path} unreadable"),
                format!(
                    "`{path}` at the {which} is not a text file: it is {what}; the version file must be a regular UTF-8 text file"
                ),
                None,
            );
        }
        let Some(text) = side(&at_refs, is_head) else {
            return fail(
                report,
                format!("{path} missing"),
                format!("{path}: missing on the {which} branch"),
                None,
            );
        };
        match extract(file, text) {
            Ok(v) => {
                if is_head {
                    report.head = Some(v.clone());
                } else {
                    report.base = Some(v.clone());
                }
                texts[i] = Some(v);
            }
            Err(why) => {
                return fail(
                    report,
                    format!("{path} unreadable"),
                    format!("{path} at {which} {why}"),
                    None,
                );
            }
        }
    }
    let [Some(base_text), Some(head_text)] = texts else {
        return fail(
            report,
            format!("{path} unreadable"),
            format!("{path}: unreadable"),
            None,
        );
    };
    let base = match parse_version(file, &base_text) {
        Ok(v) => v,
        Err(why) => {
            return fail(
                report,
                format!("{path} unreadable"),
                format!("{path} at base: {why}"),
                None,
            );
        }
    };
    let head = match parse_version(file, &head_text) {
        Ok(v) => v,
        Err(why) => {
            return fail(
                report,
                format!("{path} unreadable"),
                format!("{path} at head: {why}"),
                None,
            );
        }
    };

    let arrow = format!("{path} {base} → {head}");
    if head.is_prerelease() {
        return fail(
            report,
            format!("{path} is a pre-release"),
            format!("{arrow}: a hotfix must not be a pre-release"),
            Some(head),
        );
    }
    let problem = match base.expected_after(increment) {
        Some(expected) if !head.same_release(&expected) => Some((
            if head.same_release(&base) {
                format!("{path} not bumped")
            } else {
                format!("{path} should be {expected}")
            },
            format!("{arrow}: expected {expected}"),
        )),
        None if head.compare(&base) != Some(std::cmp::Ordering::Greater) => Some((
            if head.same_release(&base) {
                format!("{path} not bumped")
            } else {
                format!("{path} must increase")
            },
            format!("{arrow}: expected a version above {base}"),
        )),
        _ => None,
    };
    match problem {
        Some((fragment, detail)) => fail(report, fragment, detail, Some(head)),
        None => FileCheck {
            report,
            head: Some(head),
            problem: None,
        },
    }
}

/// The version every configured file carries at head, when all are readable
/// and agree.
pub fn new_version(policy: &Policy, facts: &PullRequestFacts) -> Option<ReleaseVersion> {
    let bump = policy.checks.version_bump.as_ref()?;
    let mut agreed: Option<ReleaseVersion> = None;
    for file in &bump.files {
        let text = facts.files.get(file.path())?.head.as_deref()?;
        let v = parse_version(file, &extract(file, text).ok()?).ok()?;
        match &agreed {
            Some(a) if !a.same_release(&v) => return None,
            Some(_) => {}
            None => agreed = Some(v),
        }
    }
    agreed
}

/// The release tag the new version would get: the engine looks it up and
/// lists it in `existing_tags` when it exists.
pub fn expected_tag(policy: &Policy, facts: &PullRequestFacts) -> Option<String> {
    new_version(policy, facts).map(|v| format!("{}{v}", policy.release.prefix))
}

/// `None` when the policy configures no version bump.
pub fn check(policy: &Policy, facts: &PullRequestFacts) -> Option<VersionOutcome> {
    let bump = policy.checks.version_bump.as_ref()?;
    if bump.files.is_empty() {
        return None;
    }
    let checks: Vec<FileCheck> = bump
        .files
        .iter()
        .map(|f| check_file(f, facts, bump.increment))
        .collect();

    let mut fragments: Vec<String> = Vec::new();
    let mut details: Vec<String> = Vec::new();
    for c in &checks {
        match &c.problem {
            Some(p) => {
                fragments.push(p.fragment.clone());
                details.push(p.detail.clone());
            }
            None => details.push(match (&c.report.base, &c.report.head) {
                (Some(b), Some(h)) => format!("{} {b} → {h}", c.report.path),
                _ => c.report.path.clone(),
            }),
        }
    }

    let heads: Vec<(&str, &ReleaseVersion)> = checks
        .iter()
        .filter_map(|c| c.head.as_ref().map(|h| (c.report.path.as_str(), h)))
        .collect();
    let disagree = heads.windows(2).any(|w| !w[0].1.same_release(w[1].1));
    if disagree {
        fragments.push("version files disagree".to_string());
        let list: Vec<String> = heads.iter().map(|(p, v)| format!("{p} {v}")).collect();
        details.push(format!("version files disagree: {}", list.join(", ")));
    }

    let mut new_version = None;
    if fragments.is_empty()
        && let Some((_, v)) = heads.first()
    {
        let tag = format!("{}{v}", policy.release.prefix);
        if facts.existing_tags.iter().any(|t| t == &tag) {
            fragments.push(format!("{v} already released"));
            details = vec![format!("{v} is already released (tag {tag} exists)")];
        }
        new_version = Some((*v).clone());
    }

    let detail = details.join("; ");
    let result = if fragments.is_empty() {
        RuleResult::pass(RuleId::VersionBump, detail)
    } else {
        RuleResult::fail(RuleId::VersionBump, fragments.join("; "), detail)
    };
    let files: Vec<VersionFileReport> = checks.into_iter().map(|c| c.report).collect();
    let result = result.with_markdown(Some(files_markdown(&files)));
    Some(VersionOutcome {
        result,
        files,
        new_version,
    })
}

fn files_markdown(files: &[VersionFileReport]) -> String {
    let mut out = String::from("| File | Base | Head | |\n| --- | --- | --- | --- |\n");
    for f in files {
        let show =
            |v: &Option<String>| v.as_deref().map_or("—".to_string(), |v| format!("`{v}`"));
        let status = match &f.problem {
            Some(p) => format!("❌ {}", p.replace('|', "\\|")),
            None => "✅".to_string(),
        };
        out.push_str(&format!(
            "| `{}` | {} | {} | {status} |\n",
            f.path,
            show(&f.base),
            show(&f.head)
        ));
    }
    out
}

#[cfg(test)]
mod tests;
