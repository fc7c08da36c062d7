//! `POST /webhook`: size limit → signature → parse → de-duplicate → queue.
//! Answers within microseconds; the evaluation runs on the workers.

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use tracing::{Instrument, field};

use super::AppState;
use crate::events::{self, Intake, Job};
use crate::queue::Refused;

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
    if let Some(id) = delivery
        && !state.seen.first_sighting(id)
    {
        state.metrics.delivery(event, "duplicate");
        tracing::info!("duplicate delivery ignored");
        return (StatusCode::OK, "duplicate delivery\n");
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
        Intake::PolicyChanged { repo, audit } => {
            (state.on_policy_change)(&repo);
            if let Some(job) = audit {
                tracing::info!(%repo, "policy file changed on the default branch; cache dropped");
                return enqueue(state, event, delivery, vec![job]);
            }
            state.metrics.delivery(event, "accepted");
            tracing::info!(%repo, "policy file changed on the default branch; cache dropped");
            (StatusCode::ACCEPTED, "policy cache dropped\n")
        }
        Intake::BranchPushed {
            installation,
            repo,
            branch,
            audit,
        } => {
            let mut jobs = (state.on_branch_push)(installation, &repo, &branch);
            jobs.extend(audit);
            if jobs.is_empty() {
                state.metrics.delivery(event, "ignored");
                return (StatusCode::OK, "ignored\n");
            }
            tracing::info!(%branch, hotfixes = jobs.len(), "push may complete merge-backs");
            enqueue(state, event, delivery, jobs)
        }
        Intake::Evaluate(jobs) => enqueue(state, event, delivery, jobs),
    }
}

/// Queues every job; 503 (and the delivery forgotten, so that a redelivery
/// counts) when the queue cannot take them.
fn enqueue(state: &AppState, event: &str, delivery: Option<&str>, jobs: Vec<Job>) -> Answer {
    for mut job in jobs {
        job.deliveries = delivery.map(str::to_string).into_iter().collect();
        if let Err(refused) = state.queue.push(job) {
            // Let a redelivery (ours at recovery, or an operator's)
            // through, since this one was not taken.
            if let Some(id) = delivery {
                state.seen.forget(id);
            }
            state.metrics.delivery(event, "refused");
            tracing::warn!(%refused, "delivery not queued");
            return match refused {
                Refused::Full => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "work queue full; retry later\n",
                ),
                Refused::Closed => (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n"),
            };
        }
    }
    state.metrics.delivery(event, "accepted");
    // The evaluation logs at info, naming its deliveries; a line per
    // delivery here would double the log volume in a burst.
    tracing::debug!("queued for evaluation");
    (StatusCode::ACCEPTED, "queued\n")
}

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}
