//! `POST /webhook`: size limit → signature → parse → de-duplicate and
//! commit to the store → 202. The evaluation runs on the workers.

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use tracing::{Instrument, field};

use super::AppState;
use crate::events::{self, Intake, Job, PrKey, Trigger};
use crate::queue::Refused;
use crate::store::{Accepted, HeadReceipt};

type Answer = (StatusCode, &'static str);

pub(super) async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let event = header_str(&headers, "x-github-event");
    let delivery = header_str(&headers, "x-github-delivery");
    let span = tracing::info_span!(
        "delivery",
        delivery = delivery.unwrap_or("-"),
        event = event.unwrap_or("-"),
        action = field::Empty,
        repository = field::Empty,
        pr = field::Empty,
    );
    let answer = handle(&state, event, delivery, &headers, body)
        .instrument(span.clone())
        .await;
    span.in_scope(|| tracing::debug!(status = answer.0.as_u16(), "{}", answer.1));
    answer
}

async fn handle(
    state: &AppState,
    event: Option<&str>,
    delivery: Option<&str>,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let metric_event = event.unwrap_or("none");
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            let status = rejection.status();
            if status == StatusCode::PAYLOAD_TOO_LARGE {
                state.metrics.delivery(metric_event, "too_large");
                tracing::warn!("delivery over {} bytes refused", super::MAX_BODY_BYTES);
                return (status, "payload too large\n");
            }
            state.metrics.delivery(metric_event, "unreadable");
            return (status, "could not read the body\n");
        }
    };
    let signature = headers.get("x-hub-signature-256").map(|v| v.as_bytes());
    if !state.secrets.verify(signature, &body) {
        state.metrics.delivery(metric_event, "bad_signature");
        tracing::warn!(
            has_header = signature.is_some(),
            "signature missing or wrong; delivery refused"
        );
        return (
            StatusCode::UNAUTHORIZED,
            "missing or invalid X-Hub-Signature-256\n",
        );
    }
    let Some(event) = event else {
        state.metrics.delivery(metric_event, "bad_request");
        return (StatusCode::BAD_REQUEST, "missing X-GitHub-Event header\n");
    };
    let (intake, describe) = match events::classify(event, &body) {
        Ok(parsed) => parsed,
        Err(e) => {
            state.metrics.delivery(event, "bad_request");
            tracing::warn!(error = %e, "delivery refused");
            return (
                StatusCode::BAD_REQUEST,
                "body is not a JSON webhook payload\n",
            );
        }
    };
    let span = tracing::Span::current();
    if let Some(action) = &describe.action {
        span.record("action", action.as_str());
    }
    if let Some(repository) = &describe.repository {
        span.record("repository", repository.as_str());
    }
    if let Some(number) = describe.number {
        span.record("pr", number);
    }
    match intake {
        Intake::Ping => {
            state.metrics.delivery(event, "ping");
            tracing::info!("ping");
            (StatusCode::OK, "pong\n")
        }
        Intake::Ignored(reason) => {
            state.metrics.delivery(event, "ignored");
            tracing::debug!(reason, "ignored");
            (StatusCode::OK, "ignored\n")
        }
        Intake::FreshSuite { repo, sha } => {
            // Losing this fact costs one lookup on the first write of a run
            // on `sha`, never a duplicate; 503 still lets recovery
            // redeliver it.
            match state
                .queue
                .store()
                .record_fresh_suite(&repo, &sha, chrono::Utc::now())
                .await
            {
                Ok(()) => {
                    state.metrics.delivery(event, "noted");
                    tracing::debug!(%sha, "fresh check suite noted");
                    (StatusCode::OK, "check suite noted\n")
                }
                Err(e) => refused(state, event, &Refused::Store(e)),
            }
        }
        Intake::PolicyChanged {
            repo,
            audit,
            pushed,
        } => {
            (state.on_policy_change)(&repo);
            // Every instance sharing the store must stop using the old
            // policy, not only this one: durable before the answer, or 503
            // and GitHub's redelivery bumps it.
            if let Err(e) = state.queue.store().bump_policy_generation(&repo).await {
                return refused(state, event, &Refused::Store(e));
            }
            tracing::info!(%repo, "policy file changed on the default branch; cache dropped");
            let mut jobs = match pushed {
                Some((installation, branch)) => {
                    match waiting_merge_backs(state, installation, &repo, &branch).await {
                        Ok(jobs) => jobs,
                        Err(e) => return refused(state, event, &Refused::Store(e)),
                    }
                }
                None => Vec::new(),
            };
            jobs.extend(audit);
            if !jobs.is_empty() {
                return enqueue(state, event, delivery, describe.action.as_deref(), jobs).await;
            }
            state.metrics.delivery(event, "accepted");
            (StatusCode::ACCEPTED, "policy cache dropped\n")
        }
        Intake::BranchPushed {
            installation,
            repo,
            branch,
            audit,
        } => {
            let mut jobs = match waiting_merge_backs(state, installation, &repo, &branch).await {
                Ok(jobs) => jobs,
                Err(e) => return refused(state, event, &Refused::Store(e)),
            };
            jobs.extend(audit);
            if jobs.is_empty() {
                state.metrics.delivery(event, "ignored");
                return (StatusCode::OK, "ignored\n");
            }
            enqueue(state, event, delivery, describe.action.as_deref(), jobs).await
        }
        Intake::Evaluate(jobs) => {
            enqueue(state, event, delivery, describe.action.as_deref(), jobs).await
        }
    }
}

/// A full evaluation of each hotfix whose merge-back waits on `branch`
/// (`Store::merge_backs_waiting_on`): a push to it may have completed one.
async fn waiting_merge_backs(
    state: &AppState,
    installation: u64,
    repo: &crate::events::RepoName,
    branch: &str,
) -> Result<Vec<Job>, crate::store::StoreError> {
    let numbers = state
        .queue
        .store()
        .merge_backs_waiting_on(installation, repo, branch)
        .await?;
    if !numbers.is_empty() {
        tracing::info!(%branch, hotfixes = numbers.len(), "push may complete merge-backs");
    }
    Ok(numbers
        .into_iter()
        .map(|number| Job {
            key: PrKey {
                installation,
                repo: repo.clone(),
                number,
            },
            pull: None,
            trigger: Trigger::Full,
            deliveries: Vec::new(),
        })
        .collect())
}

/// Head commits a `pull_request` delivery reports as new to the pull
/// request, each with its pull request: recorded with the time the app
/// received them.
fn new_heads(event: &str, action: Option<&str>, jobs: &[Job]) -> Vec<HeadReceipt> {
    if event != "pull_request" || !matches!(action, Some("opened" | "reopened" | "synchronize")) {
        return Vec::new();
    }
    jobs.iter()
        .filter_map(|j| {
            j.pull
                .as_ref()
                .map(|p| (j.key.repo.clone(), j.key.number, p.head.sha.clone()))
        })
        .collect()
}

/// Commits the jobs (and the delivery id, and new head commits) to the
/// store before answering 202; 503 when it cannot, so that GitHub marks the
/// delivery failed and recovery redelivers it. A delivery id already acted
/// on is answered 200 and nothing is written.
async fn enqueue(
    state: &AppState,
    event: &str,
    delivery: Option<&str>,
    action: Option<&str>,
    mut jobs: Vec<Job>,
) -> Answer {
    for job in &mut jobs {
        job.deliveries = delivery.map(str::to_string).into_iter().collect();
    }
    let heads = new_heads(event, action, &jobs);
    match state.queue.accept(delivery, &jobs, &heads).await {
        Ok(Accepted::Queued) => {
            state.metrics.delivery(event, "accepted");
            // The evaluation logs at info, naming its deliveries; a line per
            // delivery here would double the log volume in a burst.
            tracing::debug!("queued for evaluation");
            (StatusCode::ACCEPTED, "queued\n")
        }
        Ok(Accepted::Full) | Err(Refused::Full) => refused(state, event, &Refused::Full),
        Ok(Accepted::Duplicate) => {
            state.metrics.delivery(event, "duplicate");
            tracing::info!("duplicate delivery ignored");
            (StatusCode::OK, "duplicate delivery\n")
        }
        Err(refused_by) => refused(state, event, &refused_by),
    }
}

fn refused(state: &AppState, event: &str, refused: &Refused) -> Answer {
    state.metrics.delivery(event, "refused");
    match refused {
        Refused::Full => {
            tracing::warn!("delivery refused: the work queue is full");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "work queue full; retry later\n",
            )
        }
        Refused::Closed => {
            tracing::info!("delivery refused: shutting down");
            (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n")
        }
        Refused::Store(e) => {
            tracing::error!(error = %e, "delivery refused: the store cannot take it");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "cannot store the delivery; retry later\n",
            )
        }
    }
}

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}
