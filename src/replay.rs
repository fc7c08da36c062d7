//! `hotfix-guard replay FILE.json`: signs a saved webhook payload with the
//! webhook secret and posts it to a running `serve`, as GitHub would (the
//! local-development loop of probot's `receive`). The payload is sent byte
//! for byte; the event name comes from `--event` or the file's name
//! (`pull_request.opened.json` → `pull_request`).
//!
//! Plain HTTP only: it talks to a server on this machine or network, never
//! to GitHub.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use crate::server::signature::sign;

const TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// The saved payload: the JSON body of a delivery (GitHub's "Recent
    /// Deliveries" page shows it; tests/fixtures/webhooks/ holds examples).
    pub file: PathBuf,
    /// Where `serve` receives webhooks.
    #[arg(long, default_value = "http://127.0.0.1:8080/webhook")]
    pub url: String,
    /// The secret `serve` verifies with (the first, when it holds several).
    #[arg(long, env = "GITHUB_WEBHOOK_SECRET", hide_env_values = true)]
    pub secret: String,
    /// The X-GitHub-Event header; default: the file name up to its first dot.
    #[arg(long)]
    pub event: Option<String>,
    /// The X-GitHub-Delivery header; default: a fresh one per run.
    #[arg(long)]
    pub delivery: Option<String>,
}

/// Exit 0 when the server accepted the delivery (2xx), 1 when it answered
/// otherwise, 2 on bad input or when it could not be reached.
pub fn run(args: &ReplayArgs) -> ExitCode {
    match replay(args) {
        Ok((status, line)) => {
            println!("{line}");
            if (200..300).contains(&status) {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("hotfix-guard replay: {e}");
            ExitCode::from(2)
        }
    }
}

/// Sends the delivery; answers the status code and a line describing it.
pub fn replay(args: &ReplayArgs) -> Result<(u16, String), String> {
    let body = std::fs::read(&args.file)
        .map_err(|e| format!("cannot read {}: {e}", args.file.display()))?;
    serde_json::from_slice::<serde::de::IgnoredAny>(&body)
        .map_err(|e| format!("{} is not JSON: {e}", args.file.display()))?;
    let event = match &args.event {
        Some(event) => event.clone(),
        None => event_from_name(&args.file)?,
    };
    if !valid_header_value(&event) {
        return Err(format!("`{event}` is not an event name"));
    }
    let secret = args.secret.split(',').next().unwrap_or("").trim();
    if secret.is_empty() {
        return Err("no webhook secret: pass --secret or set GITHUB_WEBHOOK_SECRET".into());
    }
    let delivery = args.delivery.clone().unwrap_or_else(fresh_delivery_id);
    if !valid_header_value(&delivery) {
        return Err(format!("`{delivery}` is not a delivery id"));
    }
    let target = Target::parse(&args.url)?;
    let signature = sign(secret, &body);
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: hotfix-guard-replay\r\nContent-Type: application/json\r\nContent-Length: {length}\r\nX-GitHub-Event: {event}\r\nX-GitHub-Delivery: {delivery}\r\nX-Hub-Signature-256: {signature}\r\nConnection: close\r\n\r\n",
        path = target.path,
        host = target.host_header,
        length = body.len(),
    );
    let address = (target.host.as_str(), target.port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {}: {e}", target.host))?
        .next()
        .ok_or_else(|| format!("{} has no address", target.host))?;
    let mut stream = TcpStream::connect_timeout(&address, TIMEOUT)
        .map_err(|e| format!("cannot connect to {} ({address}): {e}", args.url))?;
    stream
        .set_read_timeout(Some(TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(TIMEOUT)))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(&body))
        .map_err(|e| format!("cannot send to {}: {e}", args.url))?;
    let mut answer = Vec::new();
    // The status line and a short body are enough to report.
    let _ = stream.take(16 * 1024).read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    let status_line = text.lines().next().unwrap_or("").trim().to_string();
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("{} answered no HTTP status: `{status_line}`", args.url))?;
    let reply = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.trim())
        .unwrap_or("")
        .lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(200)
        .collect::<String>();
    Ok((
        status,
        format!(
            "{event} delivery {delivery} → {}: {status} {reply}",
            args.url
        )
        .trim_end()
        .to_string(),
    ))
}

fn event_from_name(file: &Path) -> Result<String, String> {
    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let event = name.split('.').next().unwrap_or("");
    if event.is_empty() || !event.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
        return Err(format!(
            "cannot tell the event from the file name `{name}`: pass --event (e.g. --event pull_request)"
        ));
    }
    Ok(event.to_string())
}

fn valid_header_value(value: &str) -> bool {
    !value.is_empty() && value.bytes().all(|b| b.is_ascii_graphic())
}

/// A new delivery id shaped like GitHub's GUIDs (the app refuses others),
/// from the time and this process's id: unique per replay.
fn fresh_delivery_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let hex = format!("{nanos:024x}{:08x}", std::process::id());
    let hex = &hex[hex.len() - 32..];
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

struct Target {
    host: String,
    port: u16,
    host_header: String,
    path: String,
}

impl Target {
    fn parse(url: &str) -> Result<Target, String> {
        let uri: http::Uri = url
            .parse()
            .map_err(|e| format!("`{url}` is not a URL: {e}"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some(other) => {
                return Err(format!(
                    "replay speaks plain http to a local server, not {other}: `{url}`"
                ));
            }
            None => return Err(format!("`{url}` needs http://")),
        }
        let host = uri
            .host()
            .ok_or_else(|| format!("`{url}` has no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let port = uri.port_u16().unwrap_or(80);
        let path = uri
            .path_and_query()
            .map_or("/webhook".to_string(), |p| p.as_str().to_string());
        let host_header = uri
            .authority()
            .map_or(host.clone(), |a| a.as_str().to_string());
        Ok(Target {
            host,
            port,
            host_header,
            path: if path == "/" { "/webhook".into() } else { path },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_event_comes_from_the_file_name() {
        assert_eq!(
            event_from_name(Path::new("x/pull_request.opened.2.json")).as_deref(),
            Ok("pull_request")
        );
        assert!(event_from_name(Path::new("Delivery 1.json")).is_err());
    }

    #[test]
    fn only_plain_http_urls() {
        let t = Target::parse("http://localhost:3000/webhook").expect("url");
        assert_eq!(
            (t.host.as_str(), t.port, t.path.as_str()),
            ("localhost", 3000, "/webhook")
        );
        assert_eq!(
            Target::parse("http://127.0.0.1").expect("url").path,
            "/webhook"
        );
        assert!(Target::parse("https://example.com/webhook").is_err());
        assert!(Target::parse("not a url").is_err());
    }
}
