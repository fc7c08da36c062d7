//! Recovery of webhook deliveries that never reached us.
//!
//! GitHub does not redeliver a failed delivery by itself. Its guide
//! ("Handling failed webhook deliveries") suggests a scheduled job that
//! lists the app's recent deliveries, groups them by GUID (a redelivery
//! keeps the GUID of the delivery it repeats) and redelivers those GUIDs that
//! have no successful attempt. That is what this does, at start-up and then
//! every `RECOVERY_INTERVAL` (10 min by default), with three limits:
//!
//! - only deliveries of the last three days (GitHub refuses older ones);
//! - one redelivery per GUID, ever: a GUID that already has a redelivery
//!   attempt (ours, or someone's in the app settings) is left alone, so a
//!   delivery that fails for good (a secret mismatch) costs one request, not
//!   one every ten minutes;
//! - at most `max_pages` pages listed and `max_redeliveries` redeliveries a
//!   run; what is left over is logged and comes up again next run.
//!
//! Deliveries for an installation whose API budget is nearly spent are
//! postponed: a redelivery makes an evaluation, and webhook-driven work must
//! come first.
//!
//! Redelivery covers what GitHub tried to send. Pull requests whose
//! `hotfix-policy` run is missing or stale for other reasons (an evaluation
//! cut short by a shutdown, a GitHub outage while publishing) are the
//! engine's to re-evaluate, at start-up and in its sweeps (`app::sweeps`).
//! The low-budget threshold is the engine's too (250 requests left).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::task::JoinHandle;

use crate::github::{ApiStats, AppClient, GitHubApp, GitHubError, HookDelivery};
use crate::store::Store;

/// The recovery's lease in the store's `leaders`.
const RECOVERY_TASK: &str = "delivery-recovery";

/// GitHub lets an app redeliver deliveries of the past three days.
pub const WINDOW: chrono::TimeDelta = chrono::TimeDelta::days(3);

/// `GET /app/hook/deliveries` gives at most this many a page.
const PER_PAGE: usize = 100;

/// Below this many remaining requests an installation's deliveries wait.
pub const LOW_BUDGET: u64 = 250;

/// How recovery runs; `Default` is the production setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryConfig {
    /// Between two runs; zero turns recovery off.
    pub interval: Duration,
    /// Pages of deliveries listed a run (100 each, newest first).
    pub max_pages: usize,
    /// Redeliveries requested a run.
    pub max_redeliveries: usize,
}

impl Default for RecoveryConfig {
    fn default() -> RecoveryConfig {
        RecoveryConfig {
            interval: Duration::from_secs(10 * 60),
            max_pages: 5,
            max_redeliveries: 25,
        }
    }
}

/// The deliveries to redeliver, newest first: for every GUID seen, the
/// latest failed attempt, when no attempt succeeded, none was a
/// redelivery, and it happened within `WINDOW` of `now`.
pub fn to_redeliver(deliveries: &[HookDelivery], now: DateTime<Utc>) -> Vec<u64> {
    let mut by_guid: HashMap<&str, Vec<&HookDelivery>> = HashMap::new();
    let mut without_guid: Vec<Vec<&HookDelivery>> = Vec::new();
    for delivery in deliveries {
        if delivery.guid.is_empty() {
            // Without a GUID a delivery can only stand for itself.
            without_guid.push(vec![delivery]);
        } else {
            by_guid.entry(&delivery.guid).or_default().push(delivery);
        }
    }
    let mut chosen: Vec<&HookDelivery> = by_guid
        .into_values()
        .chain(without_guid)
        .filter(|attempts| !attempts.iter().any(|d| succeeded(d) || d.redelivery))
        .filter_map(|attempts| attempts.into_iter().max_by_key(|d| (d.delivered_at, d.id)))
        .filter(|latest| within_window(latest, now))
        .collect();
    chosen.sort_by_key(|d| std::cmp::Reverse((d.delivered_at, d.id)));
    chosen.into_iter().map(|d| d.id).collect()
}

fn succeeded(delivery: &HookDelivery) -> bool {
    (200..300).contains(&delivery.status_code)
}

/// A delivery without a time cannot be shown to be recent enough for
/// GitHub to accept it again.
fn within_window(delivery: &HookDelivery, now: DateTime<Utc>) -> bool {
    delivery
        .delivered_at
        .is_some_and(|at| now.signed_duration_since(at) < WINDOW)
}

/// Which of `to_redeliver`'s choices to request now, and which to leave.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Plan {
    /// To redeliver now, newest first.
    pub redeliver: Vec<u64>,
    /// Left for the next run: over the per-run cap.
    pub over_cap: Vec<u64>,
    /// Left for the next run: their installation's API budget is low.
    pub postponed: Vec<u64>,
    /// This process already asked for them (GitHub's list may lag).
    pub already_requested: Vec<u64>,
}

/// Applies a run's limits to `to_redeliver(deliveries, now)`: GUIDs in
/// `requested` are skipped, deliveries of installations in `low_budget`
/// wait, and at most `cap` are taken.
pub fn plan(
    deliveries: &[HookDelivery],
    now: DateTime<Utc>,
    requested: &HashSet<String>,
    low_budget: &HashSet<u64>,
    cap: usize,
) -> Plan {
    let by_id: HashMap<u64, &HookDelivery> = deliveries.iter().map(|d| (d.id, d)).collect();
    let mut plan = Plan::default();
    for id in to_redeliver(deliveries, now) {
        let Some(delivery) = by_id.get(&id) else {
            continue;
        };
        if !delivery.guid.is_empty() && requested.contains(&delivery.guid) {
            plan.already_requested.push(id);
        } else if delivery
            .installation_id
            .is_some_and(|i| low_budget.contains(&i))
        {
            plan.postponed.push(id);
        } else if plan.redeliver.len() >= cap {
            plan.over_cap.push(id);
        } else {
            plan.redeliver.push(id);
        }
    }
    plan
}

/// What one run did, for logs and tests.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RunReport {
    /// Deliveries listed.
    pub listed: usize,
    /// What was decided; `plan.redeliver` is what was asked for.
    pub plan: Plan,
    /// Delivery ids GitHub accepted to redeliver, in order.
    pub redelivered: Vec<u64>,
    /// Redeliveries GitHub refused, with why.
    pub failed: Vec<(u64, String)>,
}

/// The recovery job: lists, decides, redelivers.
pub struct Recovery {
    client: AppClient,
    stats: Arc<ApiStats>,
    config: RecoveryConfig,
    /// GUIDs this process asked GitHub to redeliver, and when: the next
    /// listing may not show the attempt yet.
    requested: Mutex<HashMap<String, DateTime<Utc>>>,
}

impl Recovery {
    pub fn new(github: &GitHubApp, config: RecoveryConfig) -> Recovery {
        Recovery {
            client: github.app_client(),
            stats: github.stats(),
            config,
            requested: Mutex::new(HashMap::new()),
        }
    }

    /// One pass: list, decide, redeliver within the limits.
    pub async fn run_once(&self, now: DateTime<Utc>) -> Result<RunReport, GitHubError> {
        let limit = self.config.max_pages.max(1).saturating_mul(PER_PAGE);
        let deliveries = self.client.list_hook_deliveries(limit).await?;
        let low_budget: HashSet<u64> = self
            .stats
            .rate_limit_remaining()
            .into_iter()
            .filter(|(_, remaining)| *remaining < LOW_BUDGET)
            .map(|(installation, _)| installation)
            .collect();
        let requested: HashSet<String> = {
            let mut requested = self.lock_requested();
            requested.retain(|_, at| now.signed_duration_since(*at) < WINDOW);
            requested.keys().cloned().collect()
        };
        let plan = plan(
            &deliveries,
            now,
            &requested,
            &low_budget,
            self.config.max_redeliveries,
        );
        let mut report = RunReport {
            listed: deliveries.len(),
            plan: plan.clone(),
            ..RunReport::default()
        };
        let by_id: HashMap<u64, &HookDelivery> = deliveries.iter().map(|d| (d.id, d)).collect();
        for id in plan.redeliver {
            let Some(delivery) = by_id.get(&id) else {
                continue;
            };
            match self.client.redeliver(id).await {
                Ok(()) => {
                    tracing::info!(
                        delivery = %delivery.guid,
                        delivery_id = id,
                        event = %delivery.event,
                        status = delivery.status_code,
                        "asked GitHub to redeliver a failed delivery"
                    );
                    if !delivery.guid.is_empty() {
                        self.lock_requested().insert(delivery.guid.clone(), now);
                    }
                    report.redelivered.push(id);
                }
                Err(e) if e.is_rate_limited() => {
                    // The rest would meet the same limit: try next run.
                    tracing::warn!(error = %e, "redelivery rate limited; the rest waits for the next run");
                    report.failed.push((id, e.to_string()));
                    break;
                }
                Err(e) => {
                    tracing::warn!(delivery = %delivery.guid, delivery_id = id, error = %e, "redelivery refused");
                    report.failed.push((id, e.to_string()));
                }
            }
        }
        // Pull requests whose `hotfix-policy` run is missing or stale for
        // other reasons (an evaluation cut short by a shutdown, an outage
        // while publishing) are not ours: the engine's start-up discovery
        // and its sweep retries (`app::sweeps`) re-evaluate them.
        Ok(report)
    }

    fn lock_requested(&self) -> std::sync::MutexGuard<'_, HashMap<String, DateTime<Utc>>> {
        self.requested
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs at once, then every `interval`, until the task is aborted. With
    /// `leader` (the store and this instance's id), a run happens only
    /// while this instance holds the recovery lease, so that several
    /// instances do not redeliver the same deliveries.
    pub async fn run_forever(self, leader: Option<(Store, String)>) {
        let mut ticker = tokio::time::interval(self.config.interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            if let Some((store, me)) = &leader {
                let lease = self.config.interval.saturating_mul(2);
                match store.try_lead(RECOVERY_TASK, me, Utc::now(), lease).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::debug!("recovery runs on another instance");
                        continue;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "recovery: the store is unavailable; skipped");
                        continue;
                    }
                }
            }
            match self.run_once(Utc::now()).await {
                Ok(report) => log(&report),
                Err(e) => {
                    tracing::warn!(error = %e, "recovery: cannot list deliveries; trying again next run")
                }
            }
        }
    }
}

fn log(report: &RunReport) {
    let plan = &report.plan;
    let left = plan.over_cap.len() + plan.postponed.len();
    if plan.redeliver.is_empty() && left == 0 {
        tracing::debug!(
            listed = report.listed,
            "recovery: no failed delivery to redeliver"
        );
        return;
    }
    tracing::info!(
        listed = report.listed,
        redelivered = report.redelivered.len(),
        refused = report.failed.len(),
        over_cap = plan.over_cap.len(),
        postponed_low_budget = plan.postponed.len(),
        "recovery run"
    );
    if left > 0 {
        tracing::warn!(
            over_cap = ?plan.over_cap,
            postponed = ?plan.postponed,
            "recovery: deliveries left for the next run"
        );
    }
}

/// Starts the recovery loop (inside a Tokio runtime), or nothing when the
/// interval is zero. Abort the handle to stop it.
pub fn spawn(
    github: &GitHubApp,
    config: RecoveryConfig,
    leader: Option<(Store, String)>,
) -> Option<JoinHandle<()>> {
    if config.interval.is_zero() {
        tracing::info!("recovery of failed deliveries is off (RECOVERY_INTERVAL=0s)");
        return None;
    }
    let recovery = Recovery::new(github, config);
    Some(tokio::spawn(recovery.run_forever(leader)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2024-06-10T12:00:00Z".parse().unwrap()
    }

    /// A delivery `hours_ago` before `now()`.
    fn d(id: u64, guid: &str, status: u16, redelivery: bool, hours_ago: i64) -> HookDelivery {
        HookDelivery {
            id,
            guid: guid.to_string(),
            delivered_at: Some(now() - chrono::TimeDelta::hours(hours_ago)),
            redelivery,
            status_code: status,
            event: "pull_request".into(),
            action: Some("opened".into()),
            installation_id: Some(1),
            repository_id: Some(2),
        }
    }

    #[test]
    fn decides_per_guid() {
        let cases: Vec<(&str, Vec<HookDelivery>, Vec<u64>)> = vec![
            ("nothing listed", vec![], vec![]),
            ("a success", vec![d(1, "a", 202, false, 1)], vec![]),
            ("a 200 to ping", vec![d(1, "a", 200, false, 1)], vec![]),
            ("a 500", vec![d(1, "a", 500, false, 1)], vec![1]),
            (
                "unreachable (status 0)",
                vec![d(1, "a", 0, false, 1)],
                vec![1],
            ),
            ("a 401", vec![d(1, "a", 401, false, 1)], vec![1]),
            (
                "a 304 is not a success",
                vec![d(1, "a", 304, false, 1)],
                vec![1],
            ),
            (
                "failed, then a later attempt succeeded",
                vec![d(1, "a", 502, false, 5), d(2, "a", 202, true, 4)],
                vec![],
            ),
            (
                "failed, redelivered, failed again: not a third time",
                vec![d(1, "a", 502, false, 5), d(2, "a", 503, true, 4)],
                vec![],
            ),
            (
                "two failed originals with the same guid: the latest",
                vec![d(1, "a", 502, false, 5), d(2, "a", 503, false, 4)],
                vec![2],
            ),
            (
                "just inside three days",
                vec![d(1, "a", 500, false, 71)],
                vec![1],
            ),
            (
                "older than three days",
                vec![d(1, "a", 500, false, 72)],
                vec![],
            ),
            (
                "two guids, newest first",
                vec![
                    d(1, "a", 500, false, 10),
                    d(2, "b", 500, false, 2),
                    d(3, "c", 202, false, 1),
                ],
                vec![2, 1],
            ),
            (
                "no guid: each delivery stands alone",
                vec![d(1, "", 500, false, 3), d(2, "", 202, false, 2)],
                vec![1],
            ),
        ];
        for (name, deliveries, want) in cases {
            assert_eq!(to_redeliver(&deliveries, now()), want, "{name}");
        }
    }

    #[test]
    fn a_delivery_without_a_time_is_left_alone() {
        let mut delivery = d(1, "a", 500, false, 1);
        delivery.delivered_at = None;
        assert_eq!(to_redeliver(&[delivery], now()), Vec::<u64>::new());
    }

    #[test]
    fn a_run_skips_what_it_asked_for_postpones_low_budgets_and_stops_at_the_cap() {
        let mut deliveries: Vec<HookDelivery> = (1..=6)
            .map(|i| d(i, &format!("g{i}"), 500, false, i as i64))
            .collect();
        deliveries[1].installation_id = Some(9); // id 2
        let requested: HashSet<String> = ["g1".to_string()].into();
        let low: HashSet<u64> = [9].into();
        let p = plan(&deliveries, now(), &requested, &low, 2);
        assert_eq!(p.already_requested, vec![1]);
        assert_eq!(p.postponed, vec![2]);
        assert_eq!(p.redeliver, vec![3, 4]);
        assert_eq!(p.over_cap, vec![5, 6]);
        let none = plan(&deliveries, now(), &HashSet::new(), &HashSet::new(), 0);
        assert!(none.redeliver.is_empty());
        assert_eq!(none.over_cap.len(), 6);
    }

    #[test]
    fn the_order_of_the_listing_does_not_matter() {
        let mut deliveries = vec![
            d(1, "a", 500, false, 9),
            d(2, "a", 202, true, 8),
            d(3, "b", 500, false, 7),
            d(4, "c", 0, false, 6),
        ];
        let forward = to_redeliver(&deliveries, now());
        deliveries.reverse();
        assert_eq!(to_redeliver(&deliveries, now()), forward);
        assert_eq!(forward, vec![4, 3]);
    }
}
