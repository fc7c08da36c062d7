//! The sender task: claims due notices from the outbox (any instance's,
//! one holder at a time), sends them and marks them sent; a failure backs
//! off (doubling from `NotifyConfig::retry_base`, at least what a `429`'s
//! `Retry-After` asks, at most an hour) and is tried again. It runs beside
//! the workers: nothing here can delay or fail an evaluation.
//!
//! Exactly once: a notice is marked sent right after its target accepted
//! it, only by the holder of its lease. A process that dies in between
//! (one round trip's window) leaves the lease to expire and the notice is
//! sent again: the one case of a duplicate, chosen over losing a notice.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use super::config::NotifyConfig;
use super::error::SendError;
use super::slack::Slack;
use super::{Notice, webhook};
use crate::events::{Job, Trigger};
use crate::metrics::Metrics;
use crate::policy::Target;
use crate::store::{ClaimedNotice, Store};

/// How long a claim lasts: longer than a send (requests time out sooner).
const LEASE: Duration = Duration::from_secs(60);
/// How often an idle sender looks for due notices.
const POLL: Duration = Duration::from_millis(100);
/// Sends under way at once per instance.
const PARALLEL: usize = 4;

/// The wait after failed try number `attempt` (1-based).
pub fn backoff(base: Duration, attempt: u32, retry_after: Option<Duration>) -> Duration {
    let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(20));
    base.saturating_mul(factor)
        .min(Duration::from_secs(3600))
        .max(retry_after.unwrap_or_default())
}

struct Sender {
    store: Store,
    config: Arc<NotifyConfig>,
    metrics: Arc<Metrics>,
    http: reqwest::Client,
}

/// Starts the sender of this instance (`worker`: its lease holder name).
pub fn spawn(
    store: Store,
    config: Arc<NotifyConfig>,
    metrics: Arc<Metrics>,
    worker: String,
) -> anyhow::Result<JoinHandle<()>> {
    let http = reqwest::Client::builder()
        .timeout(config.timeout)
        .connect_timeout(config.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let sender = Arc::new(Sender {
        store,
        config,
        metrics,
        http,
    });
    let slots = Arc::new(tokio::sync::Semaphore::new(PARALLEL));
    Ok(tokio::spawn(async move {
        loop {
            let Ok(permit) = slots.clone().acquire_owned().await else {
                return;
            };
            match sender
                .store
                .claim_notice(&worker, chrono::Utc::now(), LEASE)
                .await
            {
                Ok(Some(claimed)) => {
                    let sender = sender.clone();
                    tokio::spawn(async move {
                        sender.send(claimed).await;
                        drop(permit);
                    });
                }
                Ok(None) => {
                    drop(permit);
                    tokio::time::sleep(POLL).await;
                }
                Err(e) => {
                    drop(permit);
                    tracing::warn!(error = %e, "cannot claim a notice; trying again");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }))
}

fn kind(target: &Target) -> &'static str {
    match target {
        Target::Slack { .. } => "slack",
        Target::Webhook { .. } => "webhook",
    }
}

impl Sender {
    async fn send(&self, claimed: ClaimedNotice) {
        let target = Target::parse(&claimed.target);
        let result = match (&target, serde_json::from_str::<Notice>(&claimed.payload)) {
            (Err(e), _) => Err(SendError::new(e.clone())),
            (_, Err(e)) => Err(SendError::new(format!("unreadable notice: {e}"))),
            (Ok(target), Ok(notice)) => self.deliver(&claimed, target, &notice).await,
        };
        let kind = target.as_ref().map(kind).unwrap_or("other");
        let now = chrono::Utc::now();
        match result {
            Ok(()) => {
                self.metrics.notice(kind, "sent");
                match self.store.notice_sent(&claimed, now).await {
                    Ok(true) => {
                        tracing::info!(target = %claimed.target, event = %claimed.event, pr = claimed.key.number, "notice sent")
                    }
                    Ok(false) => {
                        tracing::warn!(target = %claimed.target, "notice sent after its lease was lost")
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "notice sent but not marked; it may be sent again")
                    }
                }
                if claimed.attempts > 0 {
                    self.rerender(&claimed).await;
                }
            }
            Err(error) => {
                self.metrics.notice(kind, "failed");
                let wait = backoff(
                    self.config.retry_base,
                    claimed.attempts + 1,
                    error.retry_after,
                );
                tracing::warn!(target = %claimed.target, error = %error.message, retry_in = ?wait, "notice not delivered; will retry");
                if let Err(e) = self
                    .store
                    .notice_failed(&claimed, now, wait, &error.message)
                    .await
                {
                    tracing::warn!(error = %e, "notice failure not recorded; its lease expires instead");
                }
                if claimed.attempts == 0 {
                    self.rerender(&claimed).await;
                }
            }
        }
    }

    async fn deliver(
        &self,
        claimed: &ClaimedNotice,
        target: &Target,
        notice: &Notice,
    ) -> Result<(), SendError> {
        if let Some(problem) = self.config.problem(target) {
            return Err(SendError::new(problem));
        }
        match target {
            Target::Webhook { name } => {
                let url = self
                    .config
                    .webhook_url(name)
                    .ok_or_else(|| SendError::new(format!("{target}: no URL")))?;
                webhook::send(&self.http, url, self.config.webhook_secret.as_ref(), notice).await
            }
            Target::Slack { channel } => {
                let Some(token) = self.config.slack_token.as_ref() else {
                    return Err(SendError::new(format!("{target}: no SLACK_BOT_TOKEN")));
                };
                let slack = Slack {
                    http: &self.http,
                    api_url: &self.config.slack_api_url,
                    token,
                };
                let thread = self
                    .store
                    .notice_thread(&claimed.key, &claimed.target)
                    .await
                    .map_err(|e| SendError::new(format!("store: {e}")))?;
                match thread {
                    Some((channel_id, parent)) => {
                        slack.post(&channel_id, &notice.text, Some(&parent)).await?;
                        // The reply is delivered; a parent left stale is
                        // logged, not worth sending the reply twice.
                        if let Err(e) = slack.update(&channel_id, &parent, &notice.status).await {
                            tracing::warn!(error = %e.message, "thread parent not updated");
                        }
                        Ok(())
                    }
                    None => {
                        let posted = slack.post(channel, &notice.text, None).await?;
                        if let Err(e) = self
                            .store
                            .set_notice_thread(
                                &claimed.key,
                                &claimed.target,
                                &posted.channel,
                                &posted.ts,
                            )
                            .await
                        {
                            tracing::warn!(error = %e, "Slack thread not recorded; later notices start a new one");
                        }
                        Ok(())
                    }
                }
            }
        }
    }

    /// Queues a report of the pull request, so that its sticky comment says
    /// whether a target is failing (and stops saying it once delivered).
    async fn rerender(&self, claimed: &ClaimedNotice) {
        let job = Job {
            key: claimed.key.clone(),
            pull: None,
            trigger: Trigger::Full,
            deliveries: Vec::new(),
        };
        if let Err(e) = self
            .store
            .accept(
                None,
                &[job],
                &[],
                chrono::Utc::now(),
                Duration::ZERO,
                u64::MAX,
            )
            .await
        {
            tracing::warn!(error = %e, "cannot queue the report after a notice");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_honours_retry_after_and_stops_at_an_hour() {
        let base = Duration::from_secs(5);
        assert_eq!(backoff(base, 1, None), Duration::from_secs(5));
        assert_eq!(backoff(base, 3, None), Duration::from_secs(20));
        assert_eq!(
            backoff(base, 1, Some(Duration::from_secs(30))),
            Duration::from_secs(30)
        );
        assert_eq!(backoff(base, 40, None), Duration::from_secs(3600));
    }
}
