//! The policy file exactly as written: one serde type per YAML mapping.
//!
//! These types do two jobs from one definition, so they cannot drift apart:
//! serde-saphyr reads the file into them (unknown keys are errors everywhere),
//! and schemars turns them into the published JSON Schema (doc comments become
//! its descriptions). Values that a later semantic check may reject carry
//! their source position in a [`Located`]; nothing here is validated beyond
//! its YAML type.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

/// A value and where it was written (1-based line and column; 0 only when the
/// parser could not tell, which `Located::position` turns into 1:1).
///
/// A thin wrapper over `serde_saphyr::Spanned` that keeps only the position
/// of the node as it is used (for an alias, the `*alias`, not the anchor),
/// and whose JSON Schema is the inner value's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located<T> {
    pub value: T,
    pub line: usize,
    pub column: usize,
}

impl<T> Located<T> {
    /// `(line, column)`, never 0: positions the parser could not supply point
    /// at the start of the file rather than nowhere.
    pub fn position(&self) -> (usize, usize) {
        (self.line.max(1), self.column.max(1))
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Located<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = serde_saphyr::Spanned::<T>::deserialize(deserializer)?;
        let at = spanned.referenced;
        Ok(Located {
            value: spanned.value,
            line: usize::try_from(at.line()).unwrap_or(usize::MAX),
            column: usize::try_from(at.column()).unwrap_or(usize::MAX),
        })
    }
}

impl<T: JsonSchema> JsonSchema for Located<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}

/// A YAML mapping whose key order matters (severities: most severe first).
///
/// serde-saphyr hands map entries to the visitor in document order, so
/// collecting them into a `Vec` keeps that order; duplicate keys never reach
/// here because the parser rejects them (its default `DuplicateKeyPolicy`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderedMap<V>(pub Vec<(Located<String>, V)>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for OrderedMap<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesInOrder<V>(PhantomData<V>);

        impl<'de, V: Deserialize<'de>> Visitor<'de> for EntriesInOrder<V> {
            type Value = OrderedMap<V>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping of names to entries")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<Located<String>, V>()? {
                    entries.push(entry);
                }
                Ok(OrderedMap(entries))
            }
        }

        deserializer.deserialize_map(EntriesInOrder(PhantomData))
    }
}

impl<V: JsonSchema> JsonSchema for OrderedMap<V> {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        <BTreeMap<String, V>>::schema_name()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        <BTreeMap<String, V>>::json_schema(generator)
    }
}

/// A duration: a positive whole number of minutes, hours or days.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(transparent)]
#[schemars(
    description = "A positive whole number of minutes, hours or days: 30m, 2h, 24h, 2d.",
    example = "2h"
)]
pub struct DurationText(#[schemars(regex(pattern = super::duration::DURATION_PATTERN))] pub String);

/// A GitHub user login or a team written `org/team-slug`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(transparent)]
#[schemars(
    description = "A GitHub login (alice) or a team as org/team-slug (acme/eng-leads); a leading @ is allowed.",
    example = "acme/eng-leads"
)]
pub struct MemberText(#[schemars(regex(pattern = super::MEMBER_PATTERN))] pub String);

/// `.github/hotfix-policy.yml`: how this repository runs hotfixes.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Policy")]
pub struct RawPolicy {
    /// Schema version of this file; always 1.
    #[schemars(required, extend("const" = 1))]
    pub version: Option<Located<u64>>,
    /// How a pull request is recognised as a hotfix.
    pub hotfix: Option<Located<RawHotfix>>,
    /// The branching model: git-flow (hotfixes also flow back to develop), github-flow or trunk.
    #[schemars(with = "Option<WorkflowName>")]
    pub workflow: Option<Located<String>>,
    /// Branch names the workflow refers to.
    pub branches: Option<RawBranches>,
    /// Role name to members (logins or org/team-slug). Severities require approvals by role.
    pub roles: Option<OrderedMap<Vec<Located<MemberText>>>>,
    /// Severity name to its requirements, MOST SEVERE FIRST: a pull request's severity is
    /// the first one whose label it carries.
    pub severities: Option<Located<OrderedMap<RawSeverity>>>,
    /// How approvals are counted.
    pub approvals: Option<RawApprovals>,
    /// Rules every hotfix pull request must pass.
    pub checks: Option<RawChecks>,
    /// Who is told when a severity's deadline passes.
    pub escalation: Option<RawEscalation>,
    /// What happens on the production branch after the merge.
    pub release: Option<RawRelease>,
    /// What the app watches on the production branch itself.
    pub audit: Option<RawAudit>,
    /// Who hears of the incident outside GitHub: the procedure's notices, sent to Slack
    /// channels or webhooks.
    pub notify: Option<Vec<Located<RawNotify>>>,
}

/// One notice target and what it hears of.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Notify")]
pub struct RawNotify {
    /// `slack:#channel` (a Slack channel, posted with the deployment's bot token) or
    /// `webhook:NAME` (a JSON POST to the URL in the deployment's env NOTIFY_WEBHOOK_NAME).
    #[schemars(regex(pattern = r"^(slack:#?[^\s#]+|webhook:[A-Za-z0-9_]+)$"))]
    pub to: Located<String>,
    /// Severities whose hotfixes it hears of. Default: every severity.
    pub severities: Option<Vec<Located<String>>>,
    /// The events it hears of. Default: every event.
    #[schemars(with = "Option<Vec<NoticeEventName>>")]
    pub on: Option<Vec<Located<String>>>,
}

/// The notice events (schema only: the parser reads strings so that an unknown event is
/// reported with its line and column).
#[derive(JsonSchema)]
#[schemars(rename = "NoticeEvent", rename_all = "snake_case")]
#[allow(dead_code)] // only its schema is used
pub enum NoticeEventName {
    /// A pull request became a hotfix of a severity.
    Declared,
    /// Its severity changed.
    SeverityChanged,
    /// All approvals are in: the fix is ready to deploy.
    Approved,
    /// An escalation level was posted (the deadline passed).
    Escalated,
    /// Merged: the resolution notice.
    Merged,
    /// Closed without merging.
    ClosedUnmerged,
}

/// The workflow names the file accepts (schema only: the parser reads a string so that an
/// unknown name is reported with the other semantic errors).
#[derive(JsonSchema)]
#[schemars(rename = "Workflow", rename_all = "kebab-case")]
#[allow(dead_code)] // only its schema is used
pub enum WorkflowName {
    GitFlow,
    GithubFlow,
    Trunk,
}

/// A pull request is a hotfix when it has any of `labels` or its head branch starts with any
/// of `branch_prefixes`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Hotfix")]
pub struct RawHotfix {
    /// Labels that mark a hotfix. Default: [hotfix].
    pub labels: Option<Vec<Located<String>>>,
    /// Head branch prefixes that mark a hotfix. Default: [hotfix/].
    pub branch_prefixes: Option<Vec<Located<String>>>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Branches")]
pub struct RawBranches {
    /// Hotfixes must target this branch. Default: main.
    pub production: Option<Located<String>>,
    /// git-flow: merged hotfixes must flow back here. Default: develop.
    pub develop: Option<Located<String>>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Severity")]
pub struct RawSeverity {
    /// Labels that select this severity. Default: the severity's name.
    pub labels: Option<Vec<Located<String>>>,
    /// Approvals a hotfix of this severity needs before it may merge.
    pub approvals: Option<Located<RawSeverityApprovals>>,
    /// The fix must be deployed within this long of the pull request being opened.
    pub deadline: Option<Located<DurationText>>,
    /// A follow-up issue to open after the merge.
    pub follow_up: Option<RawFollowUp>,
    /// Check runs or commit statuses that must have passed on the head commit; replaces
    /// `checks.require_checks` for this severity (`[]`: none).
    pub require_checks: Option<Vec<Located<RawRequiredCheck>>>,
    /// A successful deployment of the head commit to this environment; replaces
    /// `checks.require_deployment` for this severity.
    pub require_deployment: Option<Located<RawRequiredDeployment>>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "SeverityApprovals")]
pub struct RawSeverityApprovals {
    /// One distinct approver from each of these roles.
    pub roles: Option<Vec<Located<String>>>,
    /// At least this many approvals from people with write access (with `roles`: in total).
    #[schemars(range(min = 1))]
    pub count: Option<Located<u32>>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "FollowUp")]
pub struct RawFollowUp {
    /// Title of the follow-up issue, e.g. "Post-incident review".
    pub title: Located<String>,
    /// The follow-up is due this long after the merge.
    pub within: Located<DurationText>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Approvals")]
pub struct RawApprovals {
    /// An approval given before the latest push does not count. Default: true.
    pub dismiss_stale: Option<bool>,
    /// Whether the author may approve their own hotfix. Default: false.
    pub allow_author: Option<bool>,
    /// A role member may approve by commenting this. Default: "/hotfix approve".
    pub command: Option<Located<String>>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Checks")]
pub struct RawChecks {
    /// The version must be bumped. Absent: not checked.
    pub version_bump: Option<RawVersionBump>,
    /// git-flow: after the merge, the develop branch must contain the fix. Default: true for
    /// git-flow, false otherwise.
    pub merge_back: Option<Located<bool>>,
    /// Globs; at least one changed file must match one of them.
    pub require_tests: Option<Vec<Located<String>>>,
    /// At most this many changed files ("keep fixes minimal and focused").
    #[schemars(range(min = 1))]
    pub max_changed_files: Option<Located<u32>>,
    /// At most this many changed lines (additions plus deletions).
    #[schemars(range(min = 1))]
    pub max_changed_lines: Option<Located<u32>>,
    /// A regular expression the pull request title must match.
    pub title_pattern: Option<Located<String>>,
    /// Check runs or commit statuses that must have passed on the head commit of every
    /// hotfix (a severity's own `require_checks` replaces this list).
    pub require_checks: Option<Vec<Located<RawRequiredCheck>>>,
    /// Every hotfix's head commit must have been deployed successfully to this environment
    /// (a severity's own `require_deployment` replaces it).
    pub require_deployment: Option<Located<RawRequiredDeployment>>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "VersionBump")]
pub struct RawVersionBump {
    /// Files that carry the version. Default: [VERSION].
    pub files: Option<Located<Vec<Located<RawVersionFile>>>>,
    /// How the version must grow. Default: patch.
    pub increment: Option<RawIncrement>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[schemars(rename = "Increment")]
pub enum RawIncrement {
    /// Exactly the next patch version (1.4.2 → 1.4.3).
    Patch,
    /// The next patch or the next minor version.
    Minor,
    /// Any greater version.
    AnyGreater,
}

/// A version file: VERSION, Cargo.toml, package.json or pyproject.toml (optionally in a
/// directory, e.g. crates/app/Cargo.toml), or {path, pattern} whose regex's first capture
/// group is the version.
#[derive(Debug, Clone, PartialEq, Eq, JsonSchema)]
#[schemars(untagged)]
#[schemars(rename = "VersionFile")]
pub enum RawVersionFile {
    Known(
        #[schemars(regex(
            pattern = r"^(.*/)?(VERSION|Cargo\.toml|package\.json|pyproject\.toml)$"
        ))]
        String,
    ),
    Pattern(RawPatternFile),
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "PatternFile")]
pub struct RawPatternFile {
    /// Path of the file in the repository.
    pub path: Located<String>,
    /// Regex with at least one capture group; the first group is the version.
    pub pattern: Located<String>,
}

// By hand rather than `#[serde(untagged)]`: untagged enums buffer their input,
// which loses `Spanned` positions inside, and their only error is "did not
// match any variant". This reads a string or a mapping and says which it wanted.
impl<'de> Deserialize<'de> for RawVersionFile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FileVisitor;

        impl<'de> Visitor<'de> for FileVisitor {
            type Value = RawVersionFile;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a file name (VERSION, Cargo.toml, package.json, pyproject.toml) \
                     or a mapping {path, pattern}",
                )
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(RawVersionFile::Known(v.to_string()))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                RawPatternFile::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawVersionFile::Pattern)
            }
        }

        deserializer.deserialize_any(FileVisitor)
    }
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Escalation")]
pub struct RawEscalation {
    /// Mentioned when a severity's deadline passes.
    pub mention: Option<Vec<Located<MemberText>>>,
    /// Second level: once a hotfix has been unmerged this long since it got its severity ...
    pub after: Option<Located<DurationText>>,
    /// ... mention these too.
    pub mention_after: Option<Located<Vec<Located<MemberText>>>>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Release")]
pub struct RawRelease {
    /// Tag the merge commit on the production branch with the new version. Default: false.
    pub tag: Option<bool>,
    /// Prefix of that tag. Default: "v".
    pub prefix: Option<String>,
}

/// A required check: its name (a check run's `name` or a commit status's `context`), or
/// {name, app, allow}.
#[derive(Debug, Clone, PartialEq, Eq, JsonSchema)]
#[schemars(untagged)]
#[schemars(rename = "RequiredCheck")]
pub enum RawRequiredCheck {
    Name(String),
    Detailed(RawRequiredCheckDetail),
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "RequiredCheckDetail")]
pub struct RawRequiredCheckDetail {
    /// The check run's name or the commit status's context, exactly as CI reports it.
    pub name: Located<String>,
    /// Only check runs of the GitHub App with this slug count (e.g. github-actions), and
    /// commit statuses created by its bot user. Default: any app or status.
    pub app: Option<Located<String>>,
    /// Conclusions besides success that count as passed.
    pub allow: Option<Vec<Located<RawAllowedConclusion>>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(rename = "AllowedConclusion")]
pub enum RawAllowedConclusion {
    /// The check concluded neutral.
    Neutral,
    /// The check was skipped.
    Skipped,
}

// By hand, like `RawVersionFile`: an untagged enum would lose positions.
impl<'de> Deserialize<'de> for RawRequiredCheck {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CheckVisitor;

        impl<'de> Visitor<'de> for CheckVisitor {
            type Value = RawRequiredCheck;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a check name (e.g. test) or a mapping {name, app, allow}")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(RawRequiredCheck::Name(v.to_string()))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                RawRequiredCheckDetail::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawRequiredCheck::Detailed)
            }
        }

        deserializer.deserialize_any(CheckVisitor)
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "RequiredDeployment")]
pub struct RawRequiredDeployment {
    /// The deployment environment, e.g. staging.
    pub environment: Located<String>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Audit")]
pub struct RawAudit {
    /// A push to the production branch that came through no pull request, or a force push,
    /// gets an action_required check run and an incident issue. Default: true for
    /// workflow: trunk, false otherwise.
    pub direct_pushes: Option<Located<bool>>,
}
