//! The second pass: `raw` types → `Policy`, with every semantic error
//! collected (a person fixing the file wants the whole list, not one error
//! per run) and absent keys filled with their defaults.

use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;
use std::time::Duration;

use regex::Regex;

use super::duration::parse_duration;
use super::model::{
    AllowedConclusions, ApprovalSettings, Audit, Branches, Checks, Escalation, EvidencePolicy,
    FollowUp, HotfixMatch, Increment, Member, Policy, Release, RequiredCheck, RequiredDeployment,
    Severity, SeverityApprovals, SeverityEvidence, VersionBump, VersionFile, Workflow,
};
use super::raw::{
    DurationText, Located, MemberText, OrderedMap, RawAllowedConclusion, RawApprovals, RawAudit,
    RawBranches, RawChecks, RawEscalation, RawHotfix, RawIncrement, RawPolicy, RawRelease,
    RawRequiredCheck, RawRequiredDeployment, RawSeverity, RawVersionBump, RawVersionFile,
};
use super::{MEMBER_PATTERN, PolicyError, defaults};

pub(super) fn validate(raw: RawPolicy) -> Result<Policy, Vec<PolicyError>> {
    let mut errors = Errors::default();
    check_version(&raw.version, &mut errors);
    let workflow = workflow(raw.workflow.as_ref(), &mut errors);
    let hotfix = hotfix(raw.hotfix.as_ref(), &mut errors);
    let branches = branches(raw.branches.as_ref(), workflow, &mut errors);
    let roles = roles(raw.roles.as_ref(), &mut errors);
    let severities = severities(raw.severities.as_ref(), &roles, &mut errors);
    let approvals = approvals(raw.approvals.as_ref(), &mut errors);
    let checks = checks(raw.checks.as_ref(), workflow, &mut errors);
    let escalation = escalation(raw.escalation.as_ref(), &mut errors);
    let release = release(raw.release.as_ref());
    let evidence = evidence(raw.checks.as_ref(), raw.severities.as_ref(), &mut errors);
    let audit = audit(raw.audit.as_ref(), workflow);
    let severity_names: Vec<String> = severities.iter().map(|s| s.name.clone()).collect();
    let notify = super::notify::rules(raw.notify.as_deref(), &severity_names, &mut |l, c, m| {
        errors.0.push(PolicyError::new(l, c, m))
    });

    if !errors.0.is_empty() {
        let mut list = errors.0;
        list.sort_by_key(|error| (error.line, error.column));
        return Err(list);
    }
    Ok(Policy {
        hotfix,
        workflow,
        branches,
        roles: roles.members,
        severities,
        approvals,
        checks,
        escalation,
        release,
        evidence,
        audit,
        notify,
    })
}

#[derive(Default)]
struct Errors(Vec<PolicyError>);

impl Errors {
    fn at<T>(&mut self, located: &Located<T>, message: impl Into<String>) {
        let (line, column) = located.position();
        self.0.push(PolicyError::new(line, column, message));
    }
}

fn check_version(version: &Option<Located<u64>>, errors: &mut Errors) {
    match version {
        None => errors.0.push(PolicyError::new(
            1,
            1,
            "missing `version: 1` (the version of this file's format)",
        )),
        Some(v) if v.value != 1 => errors.at(
            v,
            format!(
                "unsupported version {}: this hotfix-guard reads version 1",
                v.value
            ),
        ),
        Some(_) => {}
    }
}

fn workflow(raw: Option<&Located<String>>, errors: &mut Errors) -> Workflow {
    let Some(name) = raw else {
        return Workflow::GitFlow;
    };
    match name.value.as_str() {
        "git-flow" => Workflow::GitFlow,
        "github-flow" => Workflow::GithubFlow,
        "trunk" => Workflow::Trunk,
        other => {
            errors.at(
                name,
                format!("unknown workflow `{other}`; expected one of git-flow, github-flow, trunk"),
            );
            // Carry on as the default so the remaining checks still run.
            Workflow::GitFlow
        }
    }
}

/// The strings of a list, each reported if empty (an empty label or prefix
/// would match nothing or, for a prefix, everything) or if it holds control
/// characters (no GitHub label or branch does; they would only garble the
/// report).
fn non_empty_texts(list: &[Located<String>], what: &str, errors: &mut Errors) -> Vec<String> {
    for item in list {
        if item.value.trim().is_empty() {
            errors.at(item, format!("empty {what}"));
        } else {
            rendered_text(item, what, errors);
        }
    }
    list.iter().map(|item| item.value.clone()).collect()
}

/// Why a policy string the app writes into its markdown (sticky comment,
/// check run, follow-up issue) is refused, if it is: a control character
/// (a line break would start a line of the app's own comment, where the
/// app reads its markers back) or an HTML comment delimiter (`<!--`,
/// `-->`: the app's markers are HTML comments).
fn unrenderable(text: &str) -> Option<&'static str> {
    if text.chars().any(char::is_control) {
        Some("contains a control character (a line break included)")
    } else if text.contains("<!--") || text.contains("-->") {
        Some("contains an HTML comment delimiter (`<!--` or `-->`)")
    } else {
        None
    }
}

/// Reports `text` (named `what` in the message) at its line and column when
/// [`unrenderable`] refuses it.
fn rendered_text(text: &Located<String>, what: &str, errors: &mut Errors) {
    if let Some(reason) = unrenderable(&text.value) {
        errors.at(
            text,
            format!("{what} `{}` {reason}", text.value.escape_debug()),
        );
    }
}

fn hotfix(raw: Option<&Located<RawHotfix>>, errors: &mut Errors) -> HotfixMatch {
    let builtin = defaults::hotfix_match();
    let Some(section) = raw else {
        return builtin;
    };
    let labels = match &section.value.labels {
        Some(list) => non_empty_texts(list, "hotfix label", errors),
        None => builtin.labels,
    };
    let branch_prefixes = match &section.value.branch_prefixes {
        Some(list) => non_empty_texts(list, "branch prefix", errors),
        None => builtin.branch_prefixes,
    };
    if labels.is_empty() && branch_prefixes.is_empty() {
        errors.at(
            section,
            "`hotfix` has neither labels nor branch_prefixes: no pull request would be a hotfix",
        );
    }
    HotfixMatch {
        labels,
        branch_prefixes,
    }
}

fn branch_name(raw: Option<&Located<String>>, default: &str, errors: &mut Errors) -> String {
    match raw {
        Some(name) if name.value.trim().is_empty() => {
            errors.at(name, "empty branch name");
            name.value.clone()
        }
        Some(name) => {
            rendered_text(name, "branch name", errors);
            name.value.clone()
        }
        None => default.to_string(),
    }
}

fn branches(raw: Option<&RawBranches>, workflow: Workflow, errors: &mut Errors) -> Branches {
    let builtin = defaults::branches();
    let Some(section) = raw else {
        return builtin;
    };
    let production = branch_name(section.production.as_ref(), &builtin.production, errors);
    let develop = branch_name(section.develop.as_ref(), &builtin.develop, errors);
    if workflow == Workflow::GitFlow
        && production == develop
        && let Some(at) = section.develop.as_ref().or(section.production.as_ref())
    {
        errors.at(
            at,
            format!("production and develop are both `{production}`: git-flow needs two branches"),
        );
    }
    Branches {
        production,
        develop,
    }
}

/// The roles as the rules read them, plus what validating severities needs.
struct Roles {
    members: BTreeMap<String, Vec<Member>>,
    /// In file order, for messages that list them.
    names: Vec<String>,
}

fn member(raw: &Located<MemberText>, errors: &mut Errors) -> Option<Member> {
    let text = raw.value.0.as_str();
    if member_pattern().is_some_and(|pattern| pattern.is_match(text)) {
        Some(Member::parse(text.strip_prefix('@').unwrap_or(text)))
    } else {
        errors.at(
            raw,
            format!("`{text}` is not a GitHub login or an org/team-slug"),
        );
        None
    }
}

fn member_pattern() -> Option<&'static Regex> {
    static PATTERN: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(MEMBER_PATTERN).ok());
    PATTERN.as_ref()
}

fn members(list: &[Located<MemberText>], errors: &mut Errors) -> Vec<Member> {
    list.iter().filter_map(|raw| member(raw, errors)).collect()
}

fn roles(raw: Option<&OrderedMap<Vec<Located<MemberText>>>>, errors: &mut Errors) -> Roles {
    let mut roles = Roles {
        members: BTreeMap::new(),
        names: Vec::new(),
    };
    for (name, list) in raw.map(|map| map.0.as_slice()).unwrap_or_default() {
        if list.is_empty() {
            errors.at(
                name,
                format!(
                    "role `{}` has no members: no one could give its approval",
                    name.value
                ),
            );
        }
        rendered_text(name, "role name", errors);
        roles.names.push(name.value.clone());
        roles
            .members
            .insert(name.value.clone(), members(list, errors));
    }
    roles
}

fn duration(raw: &Located<DurationText>, errors: &mut Errors) -> Option<Duration> {
    parse_duration(&raw.value.0)
        .map_err(|message| errors.at(raw, message))
        .ok()
}

fn severities(
    raw: Option<&Located<OrderedMap<RawSeverity>>>,
    roles: &Roles,
    errors: &mut Errors,
) -> Vec<Severity> {
    let Some(map) = raw else {
        return defaults::severities();
    };
    if map.value.0.is_empty() {
        errors.at(
            map,
            "no severities: define at least one, most severe first (e.g. P0, P1, P2)",
        );
    }
    // Lower-cased label → (severity, line) of its first claim; GitHub label
    // names are case-insensitive.
    let mut claimed: HashMap<String, (String, usize)> = HashMap::new();
    map.value
        .0
        .iter()
        .map(|(name, severity)| one_severity(name, severity, roles, &mut claimed, errors))
        .collect()
}

fn one_severity(
    name: &Located<String>,
    raw: &RawSeverity,
    roles: &Roles,
    claimed: &mut HashMap<String, (String, usize)>,
    errors: &mut Errors,
) -> Severity {
    rendered_text(name, "severity name", errors);
    let labels = match &raw.labels {
        Some(list) => {
            if list.is_empty() {
                errors.at(
                    name,
                    format!(
                        "severity `{}` has an empty label list: no pull request could have it",
                        name.value
                    ),
                );
            }
            for label in list {
                claim_label(label, &name.value, claimed, errors);
            }
            non_empty_texts(list, "severity label", errors)
        }
        None => {
            claim_label(name, &name.value, claimed, errors);
            vec![name.value.clone()]
        }
    };
    Severity {
        name: name.value.clone(),
        labels,
        approvals: severity_approvals(name, raw.approvals.as_ref(), roles, errors),
        deadline: raw.deadline.as_ref().and_then(|d| duration(d, errors)),
        follow_up: raw.follow_up.as_ref().and_then(|follow_up| {
            if follow_up.title.value.trim().is_empty() {
                errors.at(&follow_up.title, "empty follow-up title");
            }
            rendered_text(&follow_up.title, "follow-up title", errors);
            let within = duration(&follow_up.within, errors)?;
            Some(FollowUp {
                title: follow_up.title.value.clone(),
                within,
            })
        }),
    }
}

fn claim_label(
    label: &Located<String>,
    severity: &str,
    claimed: &mut HashMap<String, (String, usize)>,
    errors: &mut Errors,
) {
    let key = label.value.to_lowercase();
    match claimed.get(&key) {
        Some((first, _)) if first == severity => errors.at(
            label,
            format!(
                "label `{}` is listed twice for severity `{severity}`",
                label.value
            ),
        ),
        Some((first, line)) => errors.at(
            label,
            format!(
                "label `{}` already selects severity `{first}` (line {line}): \
                 a label may select only one severity",
                label.value
            ),
        ),
        None => {
            claimed.insert(key, (severity.to_string(), label.position().0));
        }
    }
}

fn severity_approvals(
    name: &Located<String>,
    raw: Option<&Located<super::raw::RawSeverityApprovals>>,
    roles: &Roles,
    errors: &mut Errors,
) -> SeverityApprovals {
    let Some(approvals) = raw else {
        errors.at(
            name,
            format!(
                "severity `{}` requires no approvals: add `approvals: {{ roles: [...] }}` or `approvals: {{ count: N }}`",
                name.value
            ),
        );
        return SeverityApprovals {
            roles: Vec::new(),
            count: None,
        };
    };
    let role_list = approvals.value.roles.as_deref().unwrap_or_default();
    for role in role_list {
        if !roles.members.contains_key(&role.value) {
            let defined = if roles.names.is_empty() {
                "no roles are defined (add them under `roles:`)".to_string()
            } else {
                format!("defined roles: {}", roles.names.join(", "))
            };
            errors.at(
                role,
                format!(
                    "severity `{}` requires undefined role `{}`; {defined}",
                    name.value, role.value
                ),
            );
        }
    }
    let count = approvals.value.count.as_ref();
    if let Some(zero) = count.filter(|count| count.value == 0) {
        errors.at(
            zero,
            "`count: 0` would let a hotfix merge unreviewed: the count must be at least 1",
        );
    }
    if role_list.is_empty() && count.is_none() {
        errors.at(
            approvals,
            format!(
                "severity `{}` requires no approvals: give `roles`, `count` or both",
                name.value
            ),
        );
    }
    SeverityApprovals {
        roles: role_list.iter().map(|role| role.value.clone()).collect(),
        count: count.map(|count| count.value),
    }
}

fn approvals(raw: Option<&RawApprovals>, errors: &mut Errors) -> ApprovalSettings {
    let builtin = defaults::approval_settings();
    let Some(section) = raw else {
        return builtin;
    };
    let command = match &section.command {
        Some(command) if command.value.trim().is_empty() => {
            errors.at(
                command,
                "empty approval command: write the comment that approves, e.g. \"/hotfix approve\"",
            );
            command.value.clone()
        }
        Some(command) => command.value.trim().to_string(),
        None => builtin.command,
    };
    ApprovalSettings {
        dismiss_stale: section.dismiss_stale.unwrap_or(builtin.dismiss_stale),
        allow_author: section.allow_author.unwrap_or(builtin.allow_author),
        command,
    }
}

fn checks(raw: Option<&RawChecks>, workflow: Workflow, errors: &mut Errors) -> Checks {
    let merge_back_default = workflow == Workflow::GitFlow;
    let Some(section) = raw else {
        return Checks {
            merge_back: merge_back_default,
            ..Checks::default()
        };
    };
    let merge_back = match &section.merge_back {
        Some(flag) if flag.value && workflow != Workflow::GitFlow => {
            errors.at(
                flag,
                "`merge_back: true` needs `workflow: git-flow`: only git-flow has a develop branch to merge back into",
            );
            true
        }
        Some(flag) => flag.value,
        None => merge_back_default,
    };
    let require_tests = section
        .require_tests
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(|glob| {
            if let Some(reason) = super::limits::glob_too_long(&glob.value) {
                errors.at(glob, reason);
            } else if let Err(error) = globset::Glob::new(&glob.value) {
                errors.at(
                    glob,
                    format!("invalid glob `{}`: {}", glob.value, error.kind()),
                );
            }
            glob.value.clone()
        })
        .collect();
    Checks {
        version_bump: section
            .version_bump
            .as_ref()
            .map(|bump| version_bump(bump, errors)),
        merge_back,
        require_tests,
        max_changed_files: positive_limit(section.max_changed_files.as_ref(), "files", errors),
        max_changed_lines: positive_limit(section.max_changed_lines.as_ref(), "lines", errors),
        title_pattern: section.title_pattern.as_ref().map(|pattern| {
            if let Err(error) = super::limits::regex(&pattern.value) {
                errors.at(
                    pattern,
                    format!("invalid title_pattern: {}", regex_reason(&error)),
                );
            }
            pattern.value.clone()
        }),
    }
}

fn positive_limit(raw: Option<&Located<u32>>, what: &str, errors: &mut Errors) -> Option<u32> {
    let limit = raw?;
    if limit.value == 0 {
        errors.at(
            limit,
            format!("max_changed_{what} is 0: no hotfix could pass; remove the key for no limit"),
        );
    }
    Some(limit.value)
}

/// regex's syntax errors span several lines (the pattern, a caret, then
/// `error: reason`); the reason is the part that fits on one line.
fn regex_reason(error: &regex::Error) -> String {
    super::limits::regex_error(error)
}

fn version_bump(raw: &RawVersionBump, errors: &mut Errors) -> VersionBump {
    let files = match &raw.files {
        Some(list) => {
            if list.value.is_empty() {
                errors.at(
                    list,
                    "`files` is empty: list the files that carry the version, e.g. [VERSION]",
                );
            }
            list.value
                .iter()
                .filter_map(|file| version_file(file, errors))
                .collect()
        }
        None => vec![VersionFile::Plain("VERSION".to_string())],
    };
    VersionBump {
        files,
        increment: match raw.increment {
            Some(RawIncrement::Patch) | None => Increment::Patch,
            Some(RawIncrement::Minor) => Increment::Minor,
            Some(RawIncrement::AnyGreater) => Increment::AnyGreater,
        },
    }
}

fn version_file(raw: &Located<RawVersionFile>, errors: &mut Errors) -> Option<VersionFile> {
    match &raw.value {
        RawVersionFile::Known(path) => {
            if let Some(problem) = path_problem(path) {
                errors.at(raw, problem);
                return None;
            }
            let file_name = path.rsplit('/').next().unwrap_or(path);
            let kind = match file_name {
                "VERSION" => VersionFile::Plain,
                "Cargo.toml" => VersionFile::CargoToml,
                "package.json" => VersionFile::PackageJson,
                "pyproject.toml" => VersionFile::Pyproject,
                _ => {
                    errors.at(
                        raw,
                        format!(
                            "`{path}` is not a version file this app can read: name VERSION, \
                             Cargo.toml, package.json or pyproject.toml (in any directory), \
                             or write {{ path: ..., pattern: ... }} with a regex whose first group is the version"
                        ),
                    );
                    return None;
                }
            };
            Some(kind(path.clone()))
        }
        RawVersionFile::Pattern(file) => {
            let mut ok = true;
            if let Some(problem) = path_problem(&file.path.value) {
                errors.at(&file.path, problem);
                ok = false;
            }
            match super::limits::regex(&file.pattern.value) {
                Err(error) => {
                    errors.at(
                        &file.pattern,
                        format!("invalid pattern: {}", regex_reason(&error)),
                    );
                    ok = false;
                }
                Ok(regex) if regex.captures_len() < 2 => {
                    errors.at(
                        &file.pattern,
                        format!(
                            "pattern `{}` has no capture group: put the version in parentheses, e.g. version = \"([^\"]+)\"",
                            file.pattern.value
                        ),
                    );
                    ok = false;
                }
                Ok(_) => {}
            }
            ok.then(|| VersionFile::Pattern {
                path: file.path.value.clone(),
                pattern: file.pattern.value.clone(),
            })
        }
    }
}

/// Paths are looked up in the repository, relative to its root.
fn path_problem(path: &str) -> Option<String> {
    if path.trim().is_empty() {
        Some("empty file path".to_string())
    } else if path.starts_with('/') {
        Some(format!(
            "`{path}` is absolute: write the path relative to the repository root"
        ))
    } else {
        None
    }
}

fn escalation(raw: Option<&RawEscalation>, errors: &mut Errors) -> Escalation {
    let Some(section) = raw else {
        return Escalation::default();
    };
    if let (Some(mention_after), None) = (&section.mention_after, &section.after) {
        errors.at(
            mention_after,
            "`mention_after` needs `after`: say how long a hotfix may stay unmerged before they are mentioned",
        );
    }
    Escalation {
        mention: members_as_text(section.mention.as_deref().unwrap_or_default(), errors),
        after: section
            .after
            .as_ref()
            .and_then(|after| duration(after, errors)),
        mention_after: members_as_text(
            section
                .mention_after
                .as_ref()
                .map(|list| list.value.as_slice())
                .unwrap_or_default(),
            errors,
        ),
    }
}

/// Escalation mentions are kept as written (`acme/incident-commanders`), but
/// must still look like logins or teams.
fn members_as_text(list: &[Located<MemberText>], errors: &mut Errors) -> Vec<String> {
    list.iter()
        .filter_map(|raw| member(raw, errors))
        .map(|member| match member {
            Member::User(login) => login,
            Member::Team { org, slug } => format!("{org}/{slug}"),
        })
        .collect()
}

fn release(raw: Option<&RawRelease>) -> Release {
    let builtin = Release::default();
    let Some(section) = raw else {
        return builtin;
    };
    Release {
        tag: section.tag.unwrap_or(builtin.tag),
        prefix: section.prefix.clone().unwrap_or(builtin.prefix),
    }
}

/// The app's own check runs: never evidence (a hotfix would vouch for itself).
const OWN_CHECK: &str = "hotfix-policy";

fn evidence(
    checks: Option<&RawChecks>,
    severities: Option<&Located<OrderedMap<RawSeverity>>>,
    errors: &mut Errors,
) -> EvidencePolicy {
    let mut policy = EvidencePolicy::default();
    if let Some(section) = checks {
        if let Some(list) = &section.require_checks {
            policy.default.checks = required_checks(list, errors);
        }
        policy.default.deployment = section
            .require_deployment
            .as_ref()
            .map(|d| required_deployment(d, errors));
    }
    for (name, severity) in severities.map(|m| m.value.0.as_slice()).unwrap_or_default() {
        let own = SeverityEvidence {
            checks: severity
                .require_checks
                .as_ref()
                .map(|list| required_checks(list, errors)),
            deployment: severity
                .require_deployment
                .as_ref()
                .map(|d| required_deployment(d, errors)),
        };
        if own != SeverityEvidence::default() {
            policy.by_severity.insert(name.value.clone(), own);
        }
    }
    policy
}

fn required_checks(list: &[Located<RawRequiredCheck>], errors: &mut Errors) -> Vec<RequiredCheck> {
    let mut seen: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for raw in list {
        let (name, at_line, at_column, app, allow) = match &raw.value {
            RawRequiredCheck::Name(name) => {
                let (line, column) = raw.position();
                (
                    name.clone(),
                    line,
                    column,
                    None,
                    AllowedConclusions::default(),
                )
            }
            RawRequiredCheck::Detailed(detail) => {
                let (line, column) = detail.name.position();
                let app = detail.app.as_ref().and_then(|app| {
                    let slug = app.value.trim();
                    if slug.is_empty()
                        || !slug
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                    {
                        errors.at(
                            app,
                            format!(
                                "`{}` is not a GitHub App slug (letters, digits and dashes, e.g. github-actions)",
                                app.value
                            ),
                        );
                        None
                    } else {
                        Some(slug.to_string())
                    }
                });
                let mut allow = AllowedConclusions::default();
                for conclusion in detail.allow.as_deref().unwrap_or_default() {
                    match conclusion.value {
                        RawAllowedConclusion::Neutral => allow.neutral = true,
                        RawAllowedConclusion::Skipped => allow.skipped = true,
                    }
                }
                (detail.name.value.clone(), line, column, app, allow)
            }
        };
        let problem = if name.trim().is_empty() {
            Some("empty check name".to_string())
        } else if name.chars().any(char::is_control) {
            Some(format!("check name `{name}` contains a control character"))
        } else if name == OWN_CHECK || name.starts_with("hotfix-policy/") {
            Some(format!(
                "`{name}` is hotfix-guard's own check run: it cannot be evidence for itself"
            ))
        } else if seen.contains(&name) {
            Some(format!("check `{name}` is listed twice"))
        } else {
            None
        };
        match problem {
            Some(message) => errors.0.push(PolicyError::new(at_line, at_column, message)),
            None => {
                seen.push(name.clone());
                out.push(RequiredCheck { name, app, allow });
            }
        }
    }
    out
}

fn required_deployment(
    raw: &Located<RawRequiredDeployment>,
    errors: &mut Errors,
) -> RequiredDeployment {
    let environment = &raw.value.environment;
    if environment.value.trim().is_empty() {
        errors.at(
            environment,
            "empty environment name: write the environment to deploy to, e.g. staging",
        );
    } else if environment.value.chars().any(char::is_control) {
        errors.at(environment, "environment name contains a control character");
    }
    RequiredDeployment {
        environment: environment.value.clone(),
    }
}

fn audit(raw: Option<&RawAudit>, workflow: Workflow) -> Audit {
    let default = workflow == Workflow::Trunk;
    Audit {
        direct_pushes: raw
            .and_then(|a| a.direct_pushes.as_ref())
            .map_or(default, |flag| flag.value),
    }
}
