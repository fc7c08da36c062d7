//! Prometheus metrics on `GET /metrics`, encoded by `prometheus-client` in
//! the Prometheus text format 0.0.4 (the same names, types and label sets as
//! before the crate; see `docs/metrics.md`).
//!
//! Every label value is drawn from a bounded set: event names (unknown ones
//! become `other`), outcomes, conclusions and limits are `&'static str`s from
//! the code, API routes are route templates, and the per-installation rate
//! limit gauge keeps only the [`RATE_LIMIT_SERIES`] installations closest to
//! their limit plus one `other` series.

use std::time::Duration;

use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// The `Content-Type` of what [`Metrics::render`] returns.
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// How many installations get a `hotfix_guard_github_rate_limit_remaining`
/// series of their own: those with the least budget left (the ones an alert
/// is about). The rest share one `installation="other"` series carrying the
/// least remaining among them, so a scrape has at most this many plus one.
pub const RATE_LIMIT_SERIES: usize = 20;

/// Events the app knows; any other event name is counted as `other` so that
/// a sender cannot grow the label set.
const KNOWN_EVENTS: &[&str] = &[
    "ping",
    "pull_request",
    "pull_request_review",
    "issue_comment",
    "check_run",
    "check_suite",
    "push",
    "installation",
    "installation_repositories",
];

/// Evaluation duration buckets, in seconds.
const BUCKETS: &[f64] = &[0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// A label set: (label name, value) pairs, names fixed by the code.
type Labels<const N: usize, V = &'static str> = [(&'static str, V); N];
type Counters<const N: usize, V = &'static str> = Family<Labels<N, V>, Counter>;

/// The counters and the histogram this process updates as it works.
pub struct Metrics {
    registry: Registry,
    /// `event`, `outcome`.
    deliveries: Counters<2>,
    /// `conclusion`.
    evaluations: Counters<1>,
    duration: Histogram,
    /// `limit`: requests and connections refused by a limit (`server::limits`).
    limits: Counters<1>,
    /// `target` kind (slack, webhook), `outcome` (sent, failed).
    notices: Counters<2>,
}

/// Values read at render time from their owners.
pub struct Gauges {
    /// Pull requests with a job in the store (waiting or being evaluated).
    pub queue_depth: usize,
    /// Seconds since the first delivery of the oldest job in the store.
    pub oldest_pending_seconds: f64,
    /// Jobs this instance took over from a worker whose lease expired.
    pub lease_expiries: u64,
    /// (route template, status, count)
    pub api_calls: Vec<(String, u16, u64)>,
    /// (installation id, remaining); rendered capped, see [`RATE_LIMIT_SERIES`].
    pub rate_limit_remaining: Vec<(u64, u64)>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        let mut registry = Registry::default();
        let (deliveries, evaluations) = (Counters::default(), Counters::default());
        let (limits, notices) = (Counters::default(), Counters::default());
        let duration = Histogram::new(BUCKETS.iter().copied());
        // Counter names get `_total` from the encoder.
        registry.register(
            "hotfix_guard_deliveries",
            "Webhook deliveries by event and outcome",
            deliveries.clone(),
        );
        registry.register(
            "hotfix_guard_evaluations",
            "Pull request evaluations by conclusion",
            evaluations.clone(),
        );
        registry.register(
            "hotfix_guard_evaluation_duration_seconds",
            "Time to gather, evaluate and publish",
            duration.clone(),
        );
        registry.register(
            "hotfix_guard_limit_refusals",
            "Requests and connections refused by a limit",
            limits.clone(),
        );
        registry.register(
            "hotfix_guard_notices",
            "Incident notice sends by target kind and outcome",
            notices.clone(),
        );
        Metrics {
            registry,
            deliveries,
            evaluations,
            duration,
            limits,
            notices,
        }
    }
}

impl Metrics {
    /// Counts one delivery of GitHub event `event` (the `X-GitHub-Event`
    /// header; unknown names count as `other`) that ended with `outcome`.
    pub fn delivery(&self, event: &str, outcome: &'static str) {
        let event = KNOWN_EVENTS
            .iter()
            .find(|e| **e == event)
            .copied()
            .unwrap_or("other");
        self.deliveries
            .get_or_create(&[("event", event), ("outcome", outcome)])
            .inc();
    }

    /// Counts one refusal by the limit named `limit` (a fixed label such as
    /// `body_budget` or `header_read_timeout`; see `docs/limits.md`).
    pub fn limit(&self, limit: &'static str) {
        self.limits.get_or_create(&[("limit", limit)]).inc();
    }

    /// One evaluation ended with check-run `conclusion` (or `error`) after
    /// `took` of gathering, evaluating and publishing.
    pub fn evaluation(&self, conclusion: &'static str, took: Duration) {
        self.evaluations
            .get_or_create(&[("conclusion", conclusion)])
            .inc();
        self.duration.observe(took.as_secs_f64());
    }

    /// A notice send to a `target` kind ended with `outcome`.
    pub fn notice(&self, target: &'static str, outcome: &'static str) {
        self.notices
            .get_or_create(&[("target", target), ("outcome", outcome)])
            .inc();
    }

    /// The text exposition ([`CONTENT_TYPE`]): this process's counters, then
    /// `gauges` as read from their owners for this scrape.
    pub fn render(&self, gauges: &Gauges) -> String {
        let mut out = String::new();
        // Encoding into a String cannot fail: `fmt::Write` for String is
        // infallible and every label value is a plain string or number.
        let _ = prometheus_text::encode(&mut out, &self.registry);
        let _ = prometheus_text::encode(&mut out, &scrape_registry(gauges));
        out
    }
}

/// A registry for one scrape, holding the values read at render time.
fn scrape_registry(gauges: &Gauges) -> Registry {
    let mut registry = Registry::default();
    let api = Counters::<2, String>::default();
    for (route, status, n) in &gauges.api_calls {
        api.get_or_create(&[("route", route.clone()), ("status", status.to_string())])
            .inc_by(*n);
    }
    registry.register(
        "hotfix_guard_github_api_calls",
        "GitHub REST calls by route and status",
        api,
    );
    let remaining = Family::<Labels<1, String>, Gauge>::default();
    for (installation, left) in capped_remaining(&gauges.rate_limit_remaining) {
        remaining
            .get_or_create(&[("installation", installation)])
            .set(i64::try_from(left).unwrap_or(i64::MAX));
    }
    registry.register(
        "hotfix_guard_github_rate_limit_remaining",
        "Latest x-ratelimit-remaining per installation (the least-left few, then other)",
        remaining,
    );
    let depth = i64::try_from(gauges.queue_depth).unwrap_or(i64::MAX);
    registry.register(
        "hotfix_guard_queue_depth",
        "Pull requests waiting for evaluation",
        ConstGauge::new(depth),
    );
    registry.register(
        "hotfix_guard_jobs_pending",
        "Pull requests with a job in the store, waiting or being evaluated",
        ConstGauge::new(depth),
    );
    registry.register(
        "hotfix_guard_oldest_pending_seconds",
        "Age of the oldest job in the store",
        ConstGauge::new(gauges.oldest_pending_seconds),
    );
    registry.register(
        "hotfix_guard_lease_expiries",
        "Jobs taken over after their worker's lease expired",
        ConstCounter::new(gauges.lease_expiries),
    );
    registry
}

/// The [`RATE_LIMIT_SERIES`] installations with the least remaining (ties
/// to the lower id), and if there are more, `other` with the least remaining
/// among the rest.
fn capped_remaining(rows: &[(u64, u64)]) -> Vec<(String, u64)> {
    let mut by_left: Vec<(u64, u64)> = rows.to_vec();
    by_left.sort_by_key(|(id, left)| (*left, *id));
    let rest = by_left.split_off(by_left.len().min(RATE_LIMIT_SERIES));
    let mut out: Vec<(String, u64)> = by_left
        .into_iter()
        .map(|(id, left)| (id.to_string(), left))
        .collect();
    if let Some(least) = rest.iter().map(|(_, left)| *left).min() {
        out.push(("other".to_string(), least));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gauges(rate_limit_remaining: Vec<(u64, u64)>) -> Gauges {
        Gauges {
            queue_depth: 3,
            oldest_pending_seconds: 1.5,
            lease_expiries: 2,
            api_calls: vec![("GET /repos/{owner}/{repo}".into(), 200, 5)],
            rate_limit_remaining,
        }
    }

    #[test]
    fn renders_counters_histogram_and_gauges() {
        let m = Metrics::default();
        m.delivery("pull_request", "accepted");
        m.delivery("pull_request", "accepted");
        m.delivery("made_up_event", "ignored");
        m.evaluation("failure", Duration::from_millis(30));
        m.limit("body_budget");
        m.notice("slack", "sent");
        let text = m.render(&gauges(vec![(42, 4999)]));
        for line in [
            "# TYPE hotfix_guard_deliveries_total counter",
            "hotfix_guard_deliveries_total{event=\"pull_request\",outcome=\"accepted\"} 2",
            "hotfix_guard_deliveries_total{event=\"other\",outcome=\"ignored\"} 1",
            "hotfix_guard_evaluations_total{conclusion=\"failure\"} 1",
            "# TYPE hotfix_guard_evaluation_duration_seconds histogram",
            "hotfix_guard_evaluation_duration_seconds_bucket{le=\"0.025\"} 0",
            "hotfix_guard_evaluation_duration_seconds_bucket{le=\"0.05\"} 1",
            "hotfix_guard_evaluation_duration_seconds_bucket{le=\"+Inf\"} 1",
            "hotfix_guard_evaluation_duration_seconds_count 1",
            "hotfix_guard_limit_refusals_total{limit=\"body_budget\"} 1",
            "hotfix_guard_notices_total{target=\"slack\",outcome=\"sent\"} 1",
            "hotfix_guard_github_api_calls_total{route=\"GET /repos/{owner}/{repo}\",status=\"200\"} 5",
            "# TYPE hotfix_guard_github_rate_limit_remaining gauge",
            "hotfix_guard_github_rate_limit_remaining{installation=\"42\"} 4999",
            "hotfix_guard_queue_depth 3",
            "hotfix_guard_jobs_pending 3",
            "hotfix_guard_oldest_pending_seconds 1.5",
            "# TYPE hotfix_guard_lease_expiries_total counter",
            "hotfix_guard_lease_expiries_total 2",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line} missing from\n{text}"
            );
        }
    }

    #[test]
    fn rate_limit_series_are_capped_at_the_least_left_plus_other() {
        let m = Metrics::default();
        // 50 installations: id i has 1000 + i left, except 77 which is nearly out.
        let mut rows: Vec<(u64, u64)> = (0..50).map(|i| (i, 1000 + i)).collect();
        rows.push((77, 3));
        let text = m.render(&gauges(rows));
        let series: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("hotfix_guard_github_rate_limit_remaining{"))
            .collect();
        assert_eq!(series.len(), RATE_LIMIT_SERIES + 1, "{series:?}");
        assert!(
            series.contains(&"hotfix_guard_github_rate_limit_remaining{installation=\"77\"} 3")
        );
        assert!(
            series.contains(&"hotfix_guard_github_rate_limit_remaining{installation=\"0\"} 1000")
        );
        // 77 and ids 0..=18 fill the series; `other` carries id 19's budget,
        // the least among the rest.
        let shown = u64::try_from(RATE_LIMIT_SERIES).unwrap_or(0) - 1;
        assert!(
            series.contains(
                &format!(
                    "hotfix_guard_github_rate_limit_remaining{{installation=\"other\"}} {}",
                    1000 + shown
                )
                .as_str()
            ),
            "{series:?}"
        );
    }

    #[test]
    fn few_installations_get_no_other_series() {
        let text = Metrics::default().render(&gauges(vec![(1, 10), (2, 20)]));
        assert!(!text.contains("installation=\"other\""));
    }
}
