//! Logging: `RUST_LOG` filters (default `info`, octocrab's own lines off), `LOG_FORMAT=json` writes one
//! JSON object a line with the current spans (so every line of a delivery
//! carries its delivery id).

use tracing_subscriber::EnvFilter;

pub fn init() {
    // octocrab logs every failed request at ERROR with no URL; the app logs
    // its own failures with what was tried, so octocrab's are off unless
    // RUST_LOG asks for them.
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,octocrab=off"));
    let json = std::env::var("LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, not in log files.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    // A second init (tests) keeps the first subscriber.
    let _ = if json {
        builder
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .try_init()
    } else {
        builder.try_init()
    };
}
