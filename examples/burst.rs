//! The load benchmark's burst client (`scripts/loadbench.sh`), for what a
//! fixed-rate load generator cannot check: every delivery's own answer.
//!
//! - `burst sign FILE --secret S`: prints `sha256=<hex>` for FILE (the
//!   signature the wrk script sends).
//! - `burst many`: COUNT deliveries for PRS different pull requests, as fast
//!   as CONCURRENCY connections allow. Counts the answers (202 accepted, 503
//!   refused by a full queue, anything else), the slowest answer, then waits
//!   for the evaluations to finish and reports evaluations per second and
//!   GitHub calls per evaluation (from the fake GitHub's counters).
//! - `burst one-pr`: 100 deliveries for one new pull request within 100 ms,
//!   each a newer head commit; counts the evaluations they cost (from
//!   `/metrics`) and checks that the last check run written is on the last
//!   head commit.
//!
//! Each delivery is the real payload with the pull request's number, head
//! sha and `updated_at` rewritten in place (so the size stays the same), a
//! fresh `X-GitHub-Delivery`, and its own signature.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use bytes::Bytes;
use clap::{Parser, Subcommand};
use regex::bytes::Regex;

use hotfix_guard::server::signature::sign;

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct Target {
    /// hotfix-guard's base URL.
    #[arg(long, default_value = "http://127.0.0.1:19992")]
    app: String,
    /// The fake GitHub's base URL (for its call counters).
    #[arg(long, default_value = "http://127.0.0.1:19990")]
    fake: String,
    #[arg(long, env = "GITHUB_WEBHOOK_SECRET")]
    secret: String,
    /// A real `pull_request` delivery to rewrite.
    #[arg(
        long,
        default_value = "tests/fixtures/webhooks/pull_request.opened.4.json"
    )]
    payload: PathBuf,
    /// Longest wait for the evaluations to finish.
    #[arg(long, default_value = "120")]
    settle_secs: u64,
}

#[derive(Subcommand)]
enum Command {
    Sign {
        file: PathBuf,
        #[arg(long, env = "GITHUB_WEBHOOK_SECRET")]
        secret: String,
    },
    Rate {
        /// The server's base URL (hotfix-guard or the floor).
        #[arg(long)]
        url: String,
        #[arg(long, env = "GITHUB_WEBHOOK_SECRET")]
        secret: String,
        #[arg(
            long,
            default_value = "tests/fixtures/webhooks/pull_request.opened.4.json"
        )]
        payload: PathBuf,
        /// Deliveries per second offered, whatever the answers' pace.
        #[arg(long, default_value_t = 5_000)]
        rps: u64,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Most deliveries in flight at once (connections).
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
    },
    Many {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 10_000)]
        count: usize,
        #[arg(long, default_value_t = 10_000)]
        prs: usize,
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// Pull request numbers start here (distinct from other phases).
        #[arg(long, default_value_t = 100_000)]
        first_pr: u64,
        /// How long the fake GitHub takes to answer each call while the
        /// deliveries are sent (back to 0 once they all have an answer).
        #[arg(long, default_value_t = 0)]
        github_latency_ms: u64,
    },
    OnePr {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 100)]
        count: usize,
        /// Spread the deliveries over this long.
        #[arg(long, default_value_t = 100)]
        within_ms: u64,
        #[arg(long, default_value_t = 900_000)]
        pr: u64,
        /// How long the fake GitHub takes to answer each call meanwhile.
        #[arg(long, default_value_t = 0)]
        github_latency_ms: u64,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Command::Sign { file, secret } = &cli.command {
        let body = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
        println!("{}", sign(secret, &body));
        return Ok(());
    }
    // Two threads, like `wrk -t2`: the client shares the machine with the
    // servers it measures.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match cli.command {
            Command::Sign { .. } => Ok(()),
            Command::Rate {
                url,
                secret,
                payload,
                rps,
                seconds,
                concurrency,
            } => rate(&url, &secret, &payload, rps, seconds, concurrency).await,
            Command::Many {
                target,
                count,
                prs,
                concurrency,
                first_pr,
                github_latency_ms,
            } => {
                many(
                    &target,
                    count,
                    prs,
                    concurrency,
                    first_pr,
                    github_latency_ms,
                )
                .await
            }
            Command::OnePr {
                target,
                count,
                within_ms,
                pr,
                github_latency_ms,
            } => one_pr(&target, count, within_ms, pr, github_latency_ms).await,
        }
    })
}

/// The payload, with the spots that make one delivery differ from another.
struct Template {
    raw: Vec<u8>,
    number: Regex,
    sha: Regex,
    updated_at: Regex,
}

/// One delivery, signed and ready to send.
struct Delivery {
    body: Bytes,
    signature: String,
    sha: String,
}

impl Template {
    fn load(path: &Path) -> anyhow::Result<Template> {
        let raw = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let v: serde_json::Value = serde_json::from_slice(&raw)?;
        let pull = &v["pull_request"];
        let (Some(number), Some(sha), Some(updated)) = (
            pull["number"].as_u64(),
            pull["head"]["sha"].as_str(),
            pull["updated_at"].as_str(),
        ) else {
            bail!("{} is not a pull_request delivery", path.display());
        };
        Ok(Template {
            number: Regex::new(&format!(r#"("number":\s*){number}\b"#))?,
            sha: Regex::new(&regex::escape(sha))?,
            updated_at: Regex::new(&format!(
                r#"("updated_at":\s*")({})""#,
                regex::escape(updated)
            ))?,
            raw,
        })
    }

    /// Pull request `number` at its `version`-th head commit.
    fn delivery(&self, secret: &str, number: u64, version: u64) -> Delivery {
        let sha = format!("{:020x}{:020x}", number, version);
        let at = chrono::DateTime::from_timestamp(1_750_000_000 + version as i64, 0)
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let body = self
            .number
            .replace_all(&self.raw, format!("${{1}}{number}").as_bytes());
        let body = self.sha.replace_all(&body, sha.as_bytes());
        let body = self
            .updated_at
            .replace_all(&body, format!("${{1}}{at}\"").as_bytes())
            .into_owned();
        Delivery {
            signature: sign(secret, &body),
            body: Bytes::from(body),
            sha,
        }
    }
}

/// Answers by kind, and how long each took.
#[derive(Default)]
struct Tally {
    accepted: usize,
    refused: usize,
    other: Vec<u16>,
    failed: Vec<String>,
    latencies: Vec<Duration>,
}

fn client(concurrency: usize) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(30))
        .build()?)
}

async fn post(
    client: &reqwest::Client,
    app: &str,
    delivery_id: String,
    d: &Delivery,
) -> (Duration, Result<u16, String>) {
    let started = Instant::now();
    let answer = client
        .post(format!("{app}/webhook"))
        .header("content-type", "application/json")
        .header("user-agent", "GitHub-Hookshot/burst")
        .header("x-github-event", "pull_request")
        .header("x-github-delivery", delivery_id)
        .header("x-hub-signature-256", &d.signature)
        .body(d.body.clone())
        .send()
        .await;
    let result = match answer {
        Ok(response) => {
            let status = response.status().as_u16();
            // The answer counts once its body is in.
            match response.bytes().await {
                Ok(_) => Ok(status),
                Err(e) => Err(e.to_string()),
            }
        }
        Err(e) => Err(e.to_string()),
    };
    (started.elapsed(), result)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

/// `hotfix_guard_evaluations_total`, all conclusions, and the queue depth.
async fn app_metrics(client: &reqwest::Client, app: &str) -> anyhow::Result<(u64, u64)> {
    let text = client
        .get(format!("{app}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    let value = |line: &str| {
        line.rsplit(' ')
            .next()
            .and_then(|n| n.parse::<f64>().ok())
            .unwrap_or(0.0) as u64
    };
    let evaluations = text
        .lines()
        .filter(|l| l.starts_with("hotfix_guard_evaluations_total{"))
        .map(value)
        .sum();
    let depth = text
        .lines()
        .find(|l| l.starts_with("hotfix_guard_queue_depth "))
        .map(value)
        .unwrap_or(0);
    Ok((evaluations, depth))
}

async fn fake_stats(client: &reqwest::Client, fake: &str) -> anyhow::Result<serde_json::Value> {
    Ok(client
        .get(format!("{fake}/_stats"))
        .send()
        .await?
        .json()
        .await?)
}

/// Waits until the queue is empty and no evaluation has finished for a
/// while; returns the evaluations count then and when it last changed.
async fn settle(
    client: &reqwest::Client,
    target: &Target,
    started: Instant,
) -> anyhow::Result<(u64, Duration)> {
    let quiet = Duration::from_millis(1_000);
    let (mut last, _) = app_metrics(client, &target.app).await?;
    let mut last_change = started.elapsed();
    let mut unchanged_since = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let (evaluations, depth) = app_metrics(client, &target.app).await?;
        if evaluations != last {
            last = evaluations;
            last_change = started.elapsed();
            unchanged_since = Instant::now();
        } else if depth == 0 && unchanged_since.elapsed() >= quiet {
            return Ok((last, last_change));
        }
        if started.elapsed() > Duration::from_secs(target.settle_secs) {
            bail!("evaluations did not settle within {}s", target.settle_secs);
        }
    }
}

fn calls_total(stats: &serde_json::Value) -> u64 {
    stats["total_calls"].as_u64().unwrap_or(0)
}

async fn many(
    target: &Target,
    count: usize,
    prs: usize,
    concurrency: usize,
    first_pr: u64,
    github_latency_ms: u64,
) -> anyhow::Result<()> {
    let template = Template::load(&target.payload)?;
    let prs = prs.clamp(1, count.max(1));
    let prepared = Instant::now();
    let deliveries: Arc<Vec<Delivery>> = Arc::new(
        (0..prs as u64)
            .map(|i| template.delivery(&target.secret, first_pr + i, 1))
            .collect(),
    );
    eprintln!(
        "burst: {prs} signed deliveries of {} bytes prepared in {:.1}s",
        template.raw.len(),
        prepared.elapsed().as_secs_f64()
    );
    let client = client(concurrency)?;
    set_github_latency(&client, &target.fake, github_latency_ms).await?;
    let (evaluations_before, _) = app_metrics(&client, &target.app).await?;
    let calls_before = calls_total(&fake_stats(&client, &target.fake).await?);
    let run = format!("{:x}", std::process::id());

    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let senders: Vec<_> = (0..concurrency.max(1))
        .map(|_| {
            let (client, next, deliveries) = (client.clone(), next.clone(), deliveries.clone());
            let app = target.app.clone();
            let run = run.clone();
            tokio::spawn(async move {
                let mut tally = Tally::default();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        break tally;
                    }
                    let d = &deliveries[i % deliveries.len()];
                    let (took, result) = post(&client, &app, format!("b0-{run}-{i:x}"), d).await;
                    tally.latencies.push(took);
                    match result {
                        Ok(202) => tally.accepted += 1,
                        Ok(503) => tally.refused += 1,
                        Ok(other) => tally.other.push(other),
                        Err(e) => tally.failed.push(e),
                    }
                }
            })
        })
        .collect();
    let mut all = Tally::default();
    for sender in senders {
        let t = sender.await?;
        all.accepted += t.accepted;
        all.refused += t.refused;
        all.other.extend(t.other);
        all.failed.extend(t.failed);
        all.latencies.extend(t.latencies);
    }
    let sent_in = started.elapsed();
    set_github_latency(&client, &target.fake, 0).await?;
    all.latencies.sort();
    let slowest = all.latencies.last().copied().unwrap_or_default();
    let answered = all.accepted + all.refused;
    println!(
        "burst: GitHub answering in {github_latency_ms} ms: sent={count} prs={prs} concurrency={concurrency} in {:.2}s ({:.0}/s) answered_202={} answered_503={} other={} failed={} lost={}",
        sent_in.as_secs_f64(),
        count as f64 / sent_in.as_secs_f64(),
        all.accepted,
        all.refused,
        all.other.len(),
        all.failed.len(),
        count - answered - all.other.len(),
    );
    println!(
        "burst: answer p50={}ms p99={}ms max={}ms",
        ms(percentile(&all.latencies, 50.0)),
        ms(percentile(&all.latencies, 99.0)),
        ms(slowest),
    );
    if let Some(e) = all.failed.first() {
        println!("burst: first transport error: {e}");
    }
    if !all.other.is_empty() {
        println!(
            "burst: unexpected statuses: {:?}",
            &all.other[..all.other.len().min(10)]
        );
    }

    let (evaluations, last_change) = settle(&client, target, started).await?;
    let evaluated = evaluations.saturating_sub(evaluations_before);
    let calls = calls_total(&fake_stats(&client, &target.fake).await?).saturating_sub(calls_before);
    println!(
        "burst: evaluations={evaluated} all done {:.2}s after the first delivery ({:.0} evaluations/s) github_calls={calls} ({:.2} per evaluation)",
        last_change.as_secs_f64(),
        evaluated as f64 / last_change.as_secs_f64().max(1e-9),
        calls as f64 / (evaluated.max(1)) as f64,
    );
    let verdict = |ok: bool| if ok { "PASS" } else { "FAIL" };
    println!(
        "burst: none lost (202+503 = sent): {}; every answer within 1 s (max {}ms): {}",
        verdict(answered == count),
        ms(slowest),
        verdict(slowest <= Duration::from_secs(1)),
    );
    Ok(())
}

/// Open loop: delivery i is due at i / RPS seconds whatever the answers'
/// pace, and its answer time counts from then, so a server that falls
/// behind is charged for the wait for a free connection (no coordinated
/// omission). At most CONCURRENCY are in flight.
async fn rate(
    url: &str,
    secret: &str,
    payload: &Path,
    rps: u64,
    seconds: u64,
    concurrency: usize,
) -> anyhow::Result<()> {
    let body = Bytes::from(std::fs::read(payload)?);
    let delivery = Arc::new(Delivery {
        signature: sign(secret, &body),
        body,
        sha: String::new(),
    });
    let client = client(concurrency)?;
    let slots = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let total = rps.max(1) * seconds;
    let gap = Duration::from_nanos(1_000_000_000 / rps.max(1));
    let run = format!("{:x}-{:x}", std::process::id(), rps);
    let started = tokio::time::Instant::now();
    let mut sends = Vec::with_capacity(total as usize);
    for i in 0..total {
        let due = started + gap * i as u32;
        tokio::time::sleep_until(due).await;
        // Timers fire on millisecond ticks: count from when the delivery
        // actually left the schedule, not from its ideal instant.
        let issued = Instant::now();
        let (client, slots, delivery) = (client.clone(), slots.clone(), delivery.clone());
        let (url, id) = (url.to_string(), format!("ae-{run}-{i:x}"));
        sends.push(tokio::spawn(async move {
            let Ok(_slot) = slots.acquire_owned().await else {
                return (Duration::MAX, Err("closed".to_string()));
            };
            let (_, result) = post(&client, &url, id, &delivery).await;
            (issued.elapsed(), result)
        }));
    }
    let mut latencies = Vec::with_capacity(sends.len());
    let mut not_2xx = 0;
    for send in sends {
        let (took, result) = send.await?;
        latencies.push(took);
        if !matches!(result, Ok(200..=299)) {
            not_2xx += 1;
        }
    }
    let elapsed = started.elapsed();
    latencies.sort();
    println!(
        "RESULT offered_rps={rps} achieved_rps={:.0} p50_ms={} p99_ms={} max_ms={} non2xx={not_2xx}",
        total as f64 / elapsed.as_secs_f64(),
        ms(percentile(&latencies, 50.0)),
        ms(percentile(&latencies, 99.0)),
        ms(latencies.last().copied().unwrap_or_default()),
    );
    Ok(())
}

async fn set_github_latency(client: &reqwest::Client, fake: &str, ms: u64) -> anyhow::Result<()> {
    client
        .put(format!("{fake}/_latency/{ms}"))
        .send()
        .await?
        .error_for_status()?;
    Ok(())
}

/// Whether the fake holds a check run on `sha` (written by some evaluation).
async fn has_check_run(client: &reqwest::Client, fake: &str, sha: &str) -> anyhow::Result<bool> {
    let list: serde_json::Value = client
        .get(format!("{fake}/repos/o/r/commits/{sha}/check-runs"))
        .send()
        .await?
        .json()
        .await?;
    Ok(list["total_count"].as_u64().unwrap_or(0) > 0)
}

async fn one_pr(
    target: &Target,
    count: usize,
    within_ms: u64,
    pr: u64,
    github_latency_ms: u64,
) -> anyhow::Result<()> {
    let template = Template::load(&target.payload)?;
    let deliveries: Vec<Delivery> = (1..=count as u64)
        .map(|version| template.delivery(&target.secret, pr, version))
        .collect();
    let Some(final_sha) = deliveries.last().map(|d| d.sha.clone()) else {
        bail!("no deliveries to send");
    };
    let client = client(count)?;
    set_github_latency(&client, &target.fake, github_latency_ms).await?;
    let (evaluations_before, _) = app_metrics(&client, &target.app).await?;
    let run = format!("{:x}-{github_latency_ms:x}", std::process::id());
    let gap = Duration::from_micros(within_ms * 1_000 / count.max(1) as u64);

    let started = Instant::now();
    let deliveries = Arc::new(deliveries);
    let mut sends = Vec::with_capacity(count);
    for i in 0..count {
        // The i-th delivery leaves at i × gap: in order, within the window.
        tokio::time::sleep_until((started + gap * i as u32).into()).await;
        let (client, deliveries) = (client.clone(), deliveries.clone());
        let (app, id) = (target.app.clone(), format!("0e-{run}-{i:x}"));
        sends.push(tokio::spawn(async move {
            post(&client, &app, id, &deliveries[i]).await
        }));
    }
    let sent_in = started.elapsed();
    let mut accepted = 0;
    let mut latencies = Vec::with_capacity(count);
    for send in sends {
        let (took, result) = send.await?;
        latencies.push(took);
        if result == Ok(202) {
            accepted += 1;
        }
    }
    let answered_in = started.elapsed();
    latencies.sort();
    let settled = settle(&client, target, started).await;
    set_github_latency(&client, &target.fake, 0).await?;
    let (evaluations, _) = settled?;
    let evaluated = evaluations.saturating_sub(evaluations_before);
    let final_checked = has_check_run(&client, &target.fake, &final_sha).await?;
    println!(
        "one-pr (GitHub answering in {github_latency_ms} ms): {count} deliveries for pull request #{pr} sent in {}ms, all answered in {}ms (202: {accepted}, slowest answer {}ms)",
        ms(sent_in),
        ms(answered_in),
        ms(latencies.last().copied().unwrap_or_default()),
    );
    let verdict = |ok: bool| if ok { "PASS" } else { "FAIL" };
    println!(
        "one-pr (GitHub answering in {github_latency_ms} ms): evaluations={evaluated} (goal <= 3): {}; an evaluation saw the final head commit ...{}: {}",
        verdict(evaluated <= 3),
        &final_sha[final_sha.len().saturating_sub(8)..],
        verdict(final_checked),
    );
    Ok(())
}
