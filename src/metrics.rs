//! Prometheus metrics, rendered as text on `GET /metrics`. Hand-rolled: a few
//! counters and one histogram do not justify a metrics framework, and label
//! values are always drawn from small fixed sets (event names, outcomes,
//! route templates) so cardinality stays bounded.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

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

#[derive(Default)]
struct Histogram {
    counts: Vec<u64>,
    sum: f64,
    total: u64,
}

#[derive(Default)]
pub struct Metrics {
    deliveries: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    evaluations: Mutex<BTreeMap<&'static str, u64>>,
    duration: Mutex<Histogram>,
    /// Requests and connections refused by a limit (`server::limits`).
    limits: Mutex<BTreeMap<&'static str, u64>>,
    /// Incident notices by target kind (slack, webhook) and outcome (sent, failed).
    notices: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
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
    /// (installation id, remaining)
    pub rate_limit_remaining: Vec<(u64, u64)>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Metrics {
    pub fn delivery(&self, event: &str, outcome: &'static str) {
        let event = KNOWN_EVENTS
            .iter()
            .find(|e| **e == event)
            .copied()
            .unwrap_or("other");
        *lock(&self.deliveries).entry((event, outcome)).or_default() += 1;
    }

    /// Counts one refusal by the limit named `limit` (a fixed label such as
    /// `body_budget` or `header_read_timeout`; see `docs/limits.md`).
    pub fn limit(&self, limit: &'static str) {
        *lock(&self.limits).entry(limit).or_default() += 1;
    }

    pub fn evaluation(&self, conclusion: &'static str, took: Duration) {
        *lock(&self.evaluations).entry(conclusion).or_default() += 1;
        let mut h = lock(&self.duration);
        if h.counts.is_empty() {
            h.counts = vec![0; BUCKETS.len()];
        }
        let secs = took.as_secs_f64();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                h.counts[i] += 1;
            }
        }
        h.sum += secs;
        h.total += 1;
    }

    /// A notice send to a `target` kind ended with `outcome`.
    pub fn notice(&self, target: &'static str, outcome: &'static str) {
        *lock(&self.notices).entry((target, outcome)).or_default() += 1;
    }

    pub fn render(&self, gauges: &Gauges) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP hotfix_guard_notices_total Incident notice sends by target kind and outcome.\n# TYPE hotfix_guard_notices_total counter"
        );
        for ((target, outcome), n) in lock(&self.notices).iter() {
            let _ = writeln!(
                out,
                "hotfix_guard_notices_total{{target=\"{target}\",outcome=\"{outcome}\"}} {n}"
            );
        }
        // `write!` into a String cannot fail.
        let _ = writeln!(
            out,
            "# HELP hotfix_guard_deliveries_total Webhook deliveries by event and outcome.\n# TYPE hotfix_guard_deliveries_total counter"
        );
        for ((event, outcome), n) in lock(&self.deliveries).iter() {
            let _ = writeln!(
                out,
                "hotfix_guard_deliveries_total{{event=\"{event}\",outcome=\"{outcome}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP hotfix_guard_limit_refusals_total Requests and connections refused by a limit.\n# TYPE hotfix_guard_limit_refusals_total counter"
        );
        for (limit, n) in lock(&self.limits).iter() {
            let _ = writeln!(
                out,
                "hotfix_guard_limit_refusals_total{{limit=\"{limit}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP hotfix_guard_evaluations_total Pull request evaluations by conclusion.\n# TYPE hotfix_guard_evaluations_total counter"
        );
        for (conclusion, n) in lock(&self.evaluations).iter() {
            let _ = writeln!(
                out,
                "hotfix_guard_evaluations_total{{conclusion=\"{conclusion}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP hotfix_guard_evaluation_duration_seconds Time to gather, evaluate and publish.\n# TYPE hotfix_guard_evaluation_duration_seconds histogram"
        );
        {
            let h = lock(&self.duration);
            for (i, bound) in BUCKETS.iter().enumerate() {
                let n = h.counts.get(i).copied().unwrap_or(0);
                let _ = writeln!(
                    out,
                    "hotfix_guard_evaluation_duration_seconds_bucket{{le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "hotfix_guard_evaluation_duration_seconds_bucket{{le=\"+Inf\"}} {}\nhotfix_guard_evaluation_duration_seconds_sum {}\nhotfix_guard_evaluation_duration_seconds_count {}",
                h.total, h.sum, h.total
            );
        }
        let _ = writeln!(
            out,
            "# HELP hotfix_guard_github_api_calls_total GitHub REST calls by route and status.\n# TYPE hotfix_guard_github_api_calls_total counter"
        );
        for (route, status, n) in &gauges.api_calls {
            let route = route.replace('\\', "\\\\").replace('"', "\\\"");
            let _ = writeln!(
                out,
                "hotfix_guard_github_api_calls_total{{route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP hotfix_guard_github_rate_limit_remaining Latest x-ratelimit-remaining per installation.\n# TYPE hotfix_guard_github_rate_limit_remaining gauge"
        );
        for (installation, remaining) in &gauges.rate_limit_remaining {
            let _ = writeln!(
                out,
                "hotfix_guard_github_rate_limit_remaining{{installation=\"{installation}\"}} {remaining}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP hotfix_guard_queue_depth Pull requests waiting for evaluation.\n# TYPE hotfix_guard_queue_depth gauge\nhotfix_guard_queue_depth {}",
            gauges.queue_depth
        );
        let _ = writeln!(
            out,
            "# HELP hotfix_guard_jobs_pending Pull requests with a job in the store, waiting or being evaluated.\n# TYPE hotfix_guard_jobs_pending gauge\nhotfix_guard_jobs_pending {}",
            gauges.queue_depth
        );
        let _ = writeln!(
            out,
            "# HELP hotfix_guard_oldest_pending_seconds Age of the oldest job in the store.\n# TYPE hotfix_guard_oldest_pending_seconds gauge\nhotfix_guard_oldest_pending_seconds {}",
            gauges.oldest_pending_seconds
        );
        let _ = writeln!(
            out,
            "# HELP hotfix_guard_lease_expiries_total Jobs taken over after their worker's lease expired.\n# TYPE hotfix_guard_lease_expiries_total counter\nhotfix_guard_lease_expiries_total {}",
            gauges.lease_expiries
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_histogram_and_gauges() {
        let m = Metrics::default();
        m.delivery("pull_request", "accepted");
        m.delivery("pull_request", "accepted");
        m.delivery("made_up_event", "ignored");
        m.evaluation("failure", Duration::from_millis(30));
        let text = m.render(&Gauges {
            queue_depth: 3,
            oldest_pending_seconds: 1.5,
            lease_expiries: 2,
            api_calls: vec![("GET /repos/{owner}/{repo}".into(), 200, 5)],
            rate_limit_remaining: vec![(42, 4999)],
        });
        assert!(text.contains(
            "hotfix_guard_deliveries_total{event=\"pull_request\",outcome=\"accepted\"} 2"
        ));
        assert!(
            text.contains("hotfix_guard_deliveries_total{event=\"other\",outcome=\"ignored\"} 1")
        );
        assert!(text.contains("hotfix_guard_evaluations_total{conclusion=\"failure\"} 1"));
        assert!(text.contains("hotfix_guard_evaluation_duration_seconds_bucket{le=\"0.025\"} 0"));
        assert!(text.contains("hotfix_guard_evaluation_duration_seconds_bucket{le=\"0.05\"} 1"));
        assert!(text.contains("hotfix_guard_evaluation_duration_seconds_count 1"));
        assert!(text.contains(
            "hotfix_guard_github_api_calls_total{route=\"GET /repos/{owner}/{repo}\",status=\"200\"} 5"
        ));
        assert!(
            text.contains("hotfix_guard_github_rate_limit_remaining{installation=\"42\"} 4999")
        );
        assert!(text.contains("hotfix_guard_queue_depth 3"));
        assert!(text.contains("hotfix_guard_jobs_pending 3"));
        assert!(text.contains("hotfix_guard_oldest_pending_seconds 1.5"));
        assert!(text.contains("hotfix_guard_lease_expiries_total 2"));
    }
}
