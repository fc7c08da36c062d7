//! The start-up report: which notice targets this deployment can reach,
//! and a warning for each target the store knows of that it cannot.
//!
//! Policies live in each repository and are read only as pull requests
//! arrive, so start-up cannot read them all. What it can know is in the
//! store: the targets policies named when the app last read them
//! (`notice_targets`, noted by `record::after_evaluation`) and the targets
//! of notices still waiting in the outbox. A target among those whose
//! setting is missing (`SLACK_BOT_TOKEN`, `NOTIFY_WEBHOOK_<NAME>`) gets one
//! `warn!` line; the same problem is then not logged again by this process
//! when a pull request needs the target (its check run still says so).

use chrono::{DateTime, Utc};

use super::config::NotifyConfig;
use crate::policy::Target;
use crate::store::{KnownTarget, Store};

/// Targets a policy named longer ago than this are not reported: a policy
/// that dropped a target should not warn forever. Waiting notices are
/// reported whatever their age.
pub const SEEN_WITHIN: chrono::Duration = chrono::Duration::days(30);

/// One warning line per known target that cannot be reached; pure.
pub fn warnings(config: &NotifyConfig, known: &[KnownTarget]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for k in known {
        let problem = match Target::parse(&k.target) {
            Ok(target) => match config.problem_text(&target) {
                Some(problem) => problem,
                None => continue,
            },
            Err(e) => format!("{}: not a notice target this version knows ({e})", k.target),
        };
        let mut whence = Vec::new();
        if let Some((repo, at)) = &k.seen {
            whence.push(format!(
                "named by the policy of {repo} (seen {})",
                at.format("%Y-%m-%d %H:%M UTC")
            ));
        }
        if k.waiting > 0 {
            whence.push(format!(
                "{} notice{} waiting",
                k.waiting,
                if k.waiting == 1 { "" } else { "s" }
            ));
        }
        let line = if whence.is_empty() {
            problem.clone()
        } else {
            format!("{problem} ({})", whence.join("; "))
        };
        out.push((problem, line));
    }
    out
}

/// Logs, once per start: the targets configured (names only) and a
/// warning per target the store knows of that this deployment cannot
/// reach. A store that cannot be read is logged and skipped: the report
/// must not stop the app from starting.
pub async fn report(config: &NotifyConfig, store: &Store, now: DateTime<Utc>) {
    let configured = config.configured();
    tracing::info!(
        signed = config.webhook_secret.is_some(),
        "incident notice targets configured: {}",
        if configured.is_empty() {
            "none".to_string()
        } else {
            configured.join(", ")
        }
    );
    let known = match store.known_notice_targets(now - SEEN_WITHIN).await {
        Ok(known) => known,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the notice targets the store knows of");
            return;
        }
    };
    for (problem, line) in warnings(config, &known) {
        config.first_report(&problem);
        tracing::warn!("incident notice target not configured: {line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(target: &str, seen: bool, waiting: u64) -> KnownTarget {
        KnownTarget {
            target: target.into(),
            seen: seen.then(|| {
                (
                    "acme/payments".to_string(),
                    "2026-11-20T09:00:00Z".parse().expect("time"),
                )
            }),
            waiting,
        }
    }

    #[test]
    fn only_unreachable_targets_are_warned_about_with_where_they_come_from() {
        let config = NotifyConfig::from_vars([(
            "NOTIFY_WEBHOOK_STATUS".to_string(),
            "https://h.test/x".to_string(),
        )]);
        let lines: Vec<String> = warnings(
            &config,
            &[
                known("webhook:STATUS", true, 0),
                known("webhook:OPS", true, 2),
                known("slack:#incidents", false, 1),
                known("pager:duty", false, 1),
            ],
        )
        .into_iter()
        .map(|(_, line)| line)
        .collect();
        assert_eq!(
            lines,
            [
                "webhook:OPS: NOTIFY_WEBHOOK_OPS is not set on this deployment; its notices wait until it is (named by the policy of acme/payments (seen 2026-11-20 09:00 UTC); 2 notices waiting)",
                "slack:#incidents: SLACK_BOT_TOKEN is not set on this deployment; its notices wait until it is (1 notice waiting)",
                "pager:duty: not a notice target this version knows (unknown notice target `pager:duty`: write slack:#channel or webhook:NAME) (1 notice waiting)",
            ]
        );
        assert_eq!(config.configured(), ["webhook:STATUS"]);
    }
}
