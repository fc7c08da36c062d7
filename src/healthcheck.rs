//! `hotfix-guard healthcheck`: the container's liveness probe. The image
//! carries no curl, so the binary asks its own server `GET /healthz` over
//! loopback and exits 0 on a 200, 1 otherwise, with one line saying why.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

/// What the probe waits at most, per step (connect, write, read).
const TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, clap::Args)]
pub struct HealthcheckArgs {
    /// The port `serve` listens on.
    #[arg(long, env = "PORT", default_value_t = 8080)]
    pub port: u16,
    /// The path to ask: /healthz (alive) or /readyz (authenticated to GitHub).
    #[arg(long, default_value = "/healthz")]
    pub path: String,
}

pub fn run(args: &HealthcheckArgs) -> ExitCode {
    match probe(args.port, &args.path) {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("hotfix-guard healthcheck: {why}");
            ExitCode::FAILURE
        }
    }
}

/// `Ok` when `GET path` on 127.0.0.1:`port` answers 200.
pub fn probe(port: u16, path: &str) -> Result<(), String> {
    if !path.starts_with('/') || path.bytes().any(|b| b.is_ascii_whitespace()) {
        return Err(format!("`{path}` is not a request path"));
    }
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, TIMEOUT)
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    stream
        .set_read_timeout(Some(TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(TIMEOUT)))
        .map_err(|e| format!("{addr}: {e}"))?;
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("{addr}: cannot send the request: {e}"))?;
    // The status line is all that matters; read little.
    let mut head = [0u8; 64];
    let mut read = 0;
    while read < 12 {
        match stream.read(&mut head[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(e) => return Err(format!("{addr}: no answer to GET {path}: {e}")),
        }
    }
    let status_line = String::from_utf8_lossy(&head[..read]);
    let status = status_line.split_whitespace().nth(1).unwrap_or("");
    if status == "200" {
        Ok(())
    } else {
        Err(format!(
            "GET {path} on {addr} answered `{}`, not 200",
            status_line.lines().next().unwrap_or("").trim()
        ))
    }
}
