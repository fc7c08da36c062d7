//! Each ecosystem's version grammar, and what "the next patch / minor"
//! means in it.
//!
//! - SemVer (`Cargo.toml`, `package.json`, `VERSION`, pattern files):
//!   `MAJOR.MINOR.PATCH`, a leading `v` allowed; a patch increment is
//!   `1.2.3` → `1.2.4`, a minor one `1.2.3` → `1.3.0`. Build metadata
//!   (`+build`) carries no precedence and is ignored.
//! - PEP 440 (`pyproject.toml`), read by `pep440_rs`: the release segment
//!   is compared padded with zeros (`1.4` is `1.4.0`), so a patch increment
//!   is `1.4` → `1.4.1` and a minor one `1.4.2` → `1.5`. The epoch must not
//!   change; local labels (`+ubuntu1`) are ignored like SemVer build
//!   metadata; pre-releases and dev releases (`1.4.1rc1`, `1.4.1.dev0`)
//!   are pre-releases, and a post-release (`1.4.post1`) is not the next
//!   patch.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use crate::policy::{Increment, VersionFile};

/// Which grammar a version file's text follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grammar {
    SemVer,
    Pep440,
}

impl Grammar {
    pub fn of(file: &VersionFile) -> Grammar {
        match file {
            VersionFile::Pyproject(_) => Grammar::Pep440,
            VersionFile::Plain(_)
            | VersionFile::CargoToml(_)
            | VersionFile::PackageJson(_)
            | VersionFile::Pattern { .. } => Grammar::SemVer,
        }
    }
}

/// A version read from a version file, in its file's grammar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReleaseVersion {
    SemVer(semver::Version),
    Pep440(pep440_rs::Version),
}

impl fmt::Display for ReleaseVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReleaseVersion::SemVer(v) => v.fmt(f),
            ReleaseVersion::Pep440(v) => v.fmt(f),
        }
    }
}

/// At least three release numbers (`1.4` → `[1, 4, 0]`).
fn padded(release: &[u64]) -> Vec<u64> {
    let mut r = release.to_vec();
    while r.len() < 3 {
        r.push(0);
    }
    r
}

impl ReleaseVersion {
    /// Parses `text` (trimmed) in `grammar`. Errors name the grammar.
    pub fn parse(grammar: Grammar, text: &str) -> Result<ReleaseVersion, String> {
        let t = text.trim();
        match grammar {
            Grammar::SemVer => {
                let t = t.strip_prefix(['v', 'V']).unwrap_or(t);
                semver::Version::parse(t)
                    .map(ReleaseVersion::SemVer)
                    .map_err(|e| format!("`{text}` is not a semantic version ({e})"))
            }
            Grammar::Pep440 => pep440_rs::Version::from_str(t)
                .map(ReleaseVersion::Pep440)
                .map_err(|e| format!("`{text}` is not a PEP 440 version ({e})")),
        }
    }

    /// A pre-release (SemVer `-rc.1`; PEP 440 `rc1`, `a1`, `.dev0`).
    pub fn is_prerelease(&self) -> bool {
        match self {
            ReleaseVersion::SemVer(v) => !v.pre.is_empty(),
            ReleaseVersion::Pep440(v) => v.any_prerelease(),
        }
    }

    /// The version an `increment` from `self` must reach; `None` for
    /// "any greater".
    pub fn expected_after(&self, increment: Increment) -> Option<ReleaseVersion> {
        match (self, increment) {
            (_, Increment::AnyGreater) => None,
            (ReleaseVersion::SemVer(b), Increment::Patch) => Some(ReleaseVersion::SemVer(
                semver::Version::new(b.major, b.minor, b.patch.saturating_add(1)),
            )),
            (ReleaseVersion::SemVer(b), Increment::Minor) => Some(ReleaseVersion::SemVer(
                semver::Version::new(b.major, b.minor.saturating_add(1), 0),
            )),
            (ReleaseVersion::Pep440(b), Increment::Patch) => {
                let r = padded(b.release());
                let next = [r[0], r[1], r[2].saturating_add(1)];
                Some(ReleaseVersion::Pep440(
                    pep440_rs::Version::new(next).with_epoch(b.epoch()),
                ))
            }
            (ReleaseVersion::Pep440(b), Increment::Minor) => {
                let r = padded(b.release());
                let next = [r[0], r[1].saturating_add(1)];
                Some(ReleaseVersion::Pep440(
                    pep440_rs::Version::new(next).with_epoch(b.epoch()),
                ))
            }
        }
    }

    /// The same release, ignoring SemVer build metadata and PEP 440 local
    /// labels (neither carries precedence). Across grammars, the SemVer
    /// version is read as PEP 440 (`1.2.4` is the same in both).
    pub fn same_release(&self, other: &ReleaseVersion) -> bool {
        match (self, other) {
            (ReleaseVersion::SemVer(a), ReleaseVersion::SemVer(b)) => {
                a.major == b.major && a.minor == b.minor && a.patch == b.patch && a.pre == b.pre
            }
            (ReleaseVersion::Pep440(a), ReleaseVersion::Pep440(b)) => {
                a.clone().without_local() == b.clone().without_local()
            }
            (ReleaseVersion::SemVer(s), ReleaseVersion::Pep440(p))
            | (ReleaseVersion::Pep440(p), ReleaseVersion::SemVer(s)) => {
                let mut plain = s.clone();
                plain.build = semver::BuildMetadata::EMPTY;
                pep440_rs::Version::from_str(&plain.to_string())
                    .is_ok_and(|s| s == p.clone().without_local())
            }
        }
    }

    /// Precedence within one grammar; `None` across grammars.
    pub fn compare(&self, other: &ReleaseVersion) -> Option<Ordering> {
        match (self, other) {
            (ReleaseVersion::SemVer(a), ReleaseVersion::SemVer(b)) => Some(a.cmp_precedence(b)),
            (ReleaseVersion::Pep440(a), ReleaseVersion::Pep440(b)) => {
                Some(a.clone().without_local().cmp(&b.clone().without_local()))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pep(text: &str) -> ReleaseVersion {
        ReleaseVersion::parse(Grammar::Pep440, text).expect("valid PEP 440")
    }

    fn sem(text: &str) -> ReleaseVersion {
        ReleaseVersion::parse(Grammar::SemVer, text).expect("valid SemVer")
    }

    #[test]
    fn pep440_patch_bump_pads_the_release_segment() {
        let next = pep("1.4").expected_after(Increment::Patch).expect("patch");
        assert!(next.same_release(&pep("1.4.1")));
        assert!(next.same_release(&pep("1.4.1.0")));
        assert!(!next.same_release(&pep("1.4.1.post1")));
        assert!(!next.same_release(&pep("1.4.2")));
        let next = pep("2").expected_after(Increment::Patch).expect("patch");
        assert!(next.same_release(&pep("2.0.1")));
    }

    #[test]
    fn pep440_minor_bump_and_epoch() {
        let next = pep("1.4.2")
            .expected_after(Increment::Minor)
            .expect("minor");
        assert!(next.same_release(&pep("1.5")));
        assert!(next.same_release(&pep("1.5.0")));
        let next = pep("1!1.4")
            .expected_after(Increment::Patch)
            .expect("patch");
        assert!(next.same_release(&pep("1!1.4.1")));
        assert!(!next.same_release(&pep("1.4.1")));
    }

    #[test]
    fn pep440_pre_and_dev_releases_are_pre_releases() {
        assert!(pep("1.4.1rc1").is_prerelease());
        assert!(pep("1.4.1.dev0").is_prerelease());
        assert!(!pep("1.4.1.post1").is_prerelease());
        assert!(!pep("1.4.1+local").is_prerelease());
    }

    #[test]
    fn grammars_reject_each_others_forms_with_their_name() {
        assert_eq!(
            ReleaseVersion::parse(Grammar::SemVer, "1.4")
                .expect_err("not SemVer")
                .split(' ')
                .take(5)
                .collect::<Vec<_>>(),
            ["`1.4`", "is", "not", "a", "semantic"]
        );
        assert!(
            ReleaseVersion::parse(Grammar::Pep440, "one.two")
                .expect_err("not PEP 440")
                .starts_with("`one.two` is not a PEP 440 version")
        );
    }

    #[test]
    fn same_release_across_grammars() {
        assert!(sem("1.4.1").same_release(&pep("1.4.1")));
        assert!(sem("v1.4.1+build").same_release(&pep("1.4.1")));
        assert!(!sem("1.4.1").same_release(&pep("1.4.2")));
        assert_eq!(sem("1.4.1").compare(&pep("1.4.1")), None);
        assert_eq!(
            pep("1.4.1").compare(&pep("1.4")),
            Some(std::cmp::Ordering::Greater)
        );
    }

    /// Killed mutant: `<` → `<=` padded to four numbers. No caller reads
    /// past the third, so only the documented shape can tell.
    #[test]
    fn padded_gives_at_least_three_numbers_and_never_more_than_needed() {
        assert_eq!(padded(&[2]), [2, 0, 0]);
        assert_eq!(padded(&[1, 4]), [1, 4, 0]);
        assert_eq!(padded(&[1, 4, 2]), [1, 4, 2]);
        assert_eq!(padded(&[1, 4, 2, 7]), [1, 4, 2, 7]);
    }
}
