//! The `hotfix-guard` binary: a thin CLI over the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use hotfix_guard::config::ServeArgs;

#[derive(Parser)]
#[command(
    name = "hotfix-guard",
    version,
    about = "Enforces a team's hotfix procedure on GitHub pull requests"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the GitHub App: receive webhooks, evaluate pull requests, report.
    // Boxed: its flags outweigh every other subcommand's (clippy's
    // large_enum_variant); parsed once, so the allocation costs nothing.
    Serve(Box<ServeArgs>),
    /// Validate a policy file; prints PATH:LINE:COL: message for each error.
    CheckConfig {
        /// The policy file, e.g. .github/hotfix-policy.yml
        path: PathBuf,
    },
    /// Print the policy file's JSON Schema (for editors' YAML language servers).
    Schema,
    /// Print the JSON Schema of simulate's input (a recorded pull request).
    SimulateSchema,
    /// Evaluate a recorded pull request offline, or a live one read-only.
    Simulate(hotfix_guard::simulate::SimulateArgs),
    /// Sign a saved webhook payload and post it to a running server.
    Replay(hotfix_guard::replay::ReplayArgs),
    /// Ask the running server's GET /healthz on 127.0.0.1:$PORT; exit 0 on
    /// 200 (the container image's HEALTHCHECK).
    Healthcheck(hotfix_guard::healthcheck::HealthcheckArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
            hotfix_guard::telemetry::init();
            let launch = match args.launch() {
                Ok(launch) => launch,
                Err(e) => {
                    eprintln!("hotfix-guard: {e}");
                    return ExitCode::from(2);
                }
            };
            let runtime = match tokio::runtime::Runtime::new() {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("hotfix-guard: cannot start the async runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            match runtime.block_on(hotfix_guard::app::run(launch)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("hotfix-guard: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::CheckConfig { path } => check_config(&path),
        Command::Schema => print_json(&hotfix_guard::policy::json_schema()),
        Command::SimulateSchema => print_json(&hotfix_guard::simulate_schema::json_schema()),
        Command::Simulate(args) => hotfix_guard::simulate::run(args),
        Command::Healthcheck(args) => hotfix_guard::healthcheck::run(&args),
        Command::Replay(args) => hotfix_guard::replay::run(&args),
    }
}

fn print_json(value: &serde_json::Value) -> ExitCode {
    match serde_json::to_string_pretty(value) {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("hotfix-guard: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The contract (docs/contracts.md): exit 0 when valid; otherwise exit 1 and
/// `PATH:LINE:COL: message` lines on stderr.
fn check_config(path: &std::path::Path) -> ExitCode {
    let shown = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("{shown}:1:1: cannot read the file: {e}");
            return ExitCode::from(1);
        }
    };
    match hotfix_guard::policy::check_config_text(&shown, &text) {
        Ok(_) => {
            println!("{shown}: ok");
            ExitCode::SUCCESS
        }
        Err(lines) => {
            for line in lines {
                eprintln!("{line}");
            }
            ExitCode::from(1)
        }
    }
}
