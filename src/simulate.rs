//! `hotfix-guard simulate`: what the app would post, without installing it.
//! Offline from a recorded pull request (a JSON file of `PullRequestFacts`),
//! or read-only against real GitHub with `GITHUB_TOKEN`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::{DateTime, Utc};

use crate::policy::{self, Policy, PolicySource};
use crate::report;
use crate::rules::{self, PullRequestFacts};

#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// A recorded pull request (see examples/simulate/*.json).
    #[arg(required_unless_present = "repo", conflicts_with_all = ["repo", "pr"])]
    pub file: Option<PathBuf>,
    /// The policy to judge by; default: the built-in default policy
    /// (with --repo: the repository's own policy).
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// Evaluate a live pull request of OWNER/NAME, read-only, with GITHUB_TOKEN.
    #[arg(long, requires = "pr")]
    pub repo: Option<String>,
    /// The pull request number, with --repo.
    #[arg(long, requires = "repo")]
    pub pr: Option<u64>,
    /// With --repo: also write the pull request's facts to this file, as
    /// `simulate FILE` reads them (its JSON Schema: `simulate-schema`).
    #[arg(long, requires = "repo", value_name = "FILE.json")]
    pub save: Option<PathBuf>,
    /// The time to judge at, RFC 3339 (`2026-11-29T13:10:00Z`); default: now.
    /// Sets what the report says about the deadline ("Overdue by 3d 2h").
    #[arg(long, value_parser = parse_now)]
    pub now: Option<DateTime<Utc>>,
    /// Print the incident notices the pull request would send now (the
    /// policy's `notify` targets, as if none had been sent), instead of the
    /// check run and comment.
    #[arg(long)]
    pub notices: bool,
    /// REST API base (GitHub Enterprise Server: https://HOST/api/v3).
    #[arg(long, env = "GITHUB_API_URL", default_value = "https://api.github.com")]
    pub api_url: String,
}

fn parse_now(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("`{text}` is not an RFC 3339 time like 2026-11-29T13:10:00Z ({e})"))
}

/// Bad input: exit 2, with one line naming the problem.
fn bad_input(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("hotfix-guard simulate: {message}");
    ExitCode::from(2)
}

pub fn run(args: SimulateArgs) -> ExitCode {
    let now = args.now.unwrap_or_else(Utc::now);
    let policy = match &args.policy {
        Some(path) => match load_policy(path) {
            Ok(policy) => Some(policy),
            Err(lines) => {
                for line in lines {
                    eprintln!("{line}");
                }
                return ExitCode::from(2);
            }
        },
        None => None,
    };
    if let Some(file) = &args.file {
        let text = match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(e) => return bad_input(format!("cannot read {}: {e}", file.display())),
        };
        let facts: PullRequestFacts = match serde_json::from_str(&text) {
            Ok(facts) => facts,
            Err(e) => return bad_input(format!("{}: {e}", file.display())),
        };
        let (policy, source) = match policy {
            Some(policy) => (policy, PolicySource::Repository),
            None => (Policy::builtin(), PolicySource::BuiltIn),
        };
        if args.notices {
            return print_notices(&policy, &facts);
        }
        return print_evaluation(&policy, source, &facts, now);
    }
    match (&args.repo, args.pr) {
        (Some(repo), Some(number)) => live(
            &args.api_url,
            repo,
            number,
            policy,
            now,
            args.save.as_deref(),
            args.notices,
        ),
        _ => bad_input("give a recorded pull request FILE, or --repo OWNER/NAME --pr N"),
    }
}

fn load_policy(path: &Path) -> Result<Policy, Vec<String>> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| vec![format!("{shown}:1:1: cannot read the file: {e}")])?;
    policy::check_config_text(&shown, &text)
}

/// Prints what the app would post; exit 0 for success (or neutral), 1 for failure.
/// The escalations are unknown offline (the report says so when overdue).
pub fn print_evaluation(
    policy: &Policy,
    source: PolicySource,
    facts: &PullRequestFacts,
    now: DateTime<Utc>,
) -> ExitCode {
    let verdict = rules::evaluate(policy, facts);
    let moment = report::Moment {
        now,
        facts,
        escalations: None,
    };
    let output = report::check_output_at(&verdict, policy, source.clone(), &moment);
    let mut out = format!(
        "## Check run `hotfix-policy`: {}\n\n### {}\n\n{}\n\n",
        output.conclusion, output.title, output.summary
    );
    if let Some(text) = &output.text {
        out.push_str(text);
        out.push_str("\n\n");
    }
    match report::sticky_comment_at(&verdict, policy, source, &moment) {
        Some(comment) => out.push_str(&format!("## Sticky comment\n\n{comment}\n")),
        None => out.push_str("## Sticky comment\n\n(none: not a hotfix)\n"),
    }
    // A closed pipe (`simulate ... | head`) is not an error worth a panic.
    let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), out.as_bytes());
    if output.conclusion == "failure" {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Prints the notices the pull request would send now, one per target and
/// event, each in a fenced block; exit 0.
pub fn print_notices(policy: &Policy, facts: &PullRequestFacts) -> ExitCode {
    let verdict = rules::evaluate(policy, facts);
    let notices = crate::notify::preview(&crate::notify::record::Evaluated {
        key: &crate::events::PrKey {
            installation: 0,
            repo: crate::events::RepoName {
                owner: String::new(),
                name: String::new(),
            },
            number: facts.number,
        },
        policy,
        verdict: &verdict,
        facts,
        closed: facts.state != rules::PrState::Open,
        escalation_levels: &[],
    });
    let mut out = String::from("## Incident notices\n\n");
    if policy.notify.is_empty() {
        out.push_str("(none: the policy has no `notify` targets)\n");
    } else if notices.is_empty() {
        out.push_str("(none: no target hears of this pull request now)\n");
    }
    for (target, event, text) in notices {
        out.push_str(&format!(
            "### {target}: {event}\n\n{}\n\n",
            report::notices::fenced(&text)
        ));
    }
    let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), out.as_bytes());
    ExitCode::SUCCESS
}

fn live(
    api_url: &str,
    repo: &str,
    number: u64,
    policy: Option<Policy>,
    now: DateTime<Utc>,
    save: Option<&Path>,
    notices: bool,
) -> ExitCode {
    let Some((owner, name)) = repo.split_once('/') else {
        return bad_input(format!("--repo takes OWNER/NAME, not `{repo}`"));
    };
    let token = match std::env::var("GITHUB_TOKEN") {
        Ok(token) if !token.trim().is_empty() => token,
        _ => {
            return bad_input(
                "--repo needs GITHUB_TOKEN (read access is enough; nothing is written)",
            );
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => return bad_input(format!("cannot start the async runtime: {e}")),
    };
    runtime.block_on(async move {
        match crate::engine::read_only_facts(api_url, &token, owner, name, number, policy).await {
            Ok((policy, source, facts)) => {
                if let Some(path) = save
                    && let Err(e) = save_facts(path, &facts)
                {
                    return bad_input(e);
                }
                if notices {
                    return print_notices(&policy, &facts);
                }
                print_evaluation(&policy, source, &facts, now)
            }
            Err(e) => bad_input(format!("{e:#}")),
        }
    })
}

/// Writes the facts as pretty JSON, through a temporary file and a rename,
/// so that an interrupted save never leaves half a file under `path`.
fn save_facts(path: &Path, facts: &PullRequestFacts) -> Result<(), String> {
    let mut json = serde_json::to_string_pretty(facts)
        .map_err(|e| format!("cannot encode the pull request: {e}"))?;
    json.push('\n');
    let name = path
        .file_name()
        .ok_or_else(|| format!("--save needs a file name, not `{}`", path.display()))?;
    let mut partial = name.to_os_string();
    partial.push(".partial");
    let partial = path.with_file_name(partial);
    std::fs::write(&partial, json)
        .and_then(|()| std::fs::rename(&partial, path))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}
