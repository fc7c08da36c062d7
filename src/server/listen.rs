//! Serving connections: axum's "serve with hyper" pattern, so that hyper's
//! HTTP/1 limits can be set (`axum::serve` sets no timer, so no header read
//! timeout ever fires there).
//!
//! Per connection: the request head must arrive within
//! [`Limits::header_read_timeout`] (hyper's `header_read_timeout`, which
//! also closes a keep-alive connection idle that long) and fit in
//! [`Limits::max_request_head_bytes`] (hyper's `max_buf_size`; 431 beyond).
//! At most [`Limits::max_connections`] connections are served at once; one
//! more is answered 503 and closed without reading it. On shutdown the
//! listener closes, idle connections close, and requests being answered
//! finish.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use super::limits::Limits;
use crate::metrics::Metrics;

/// What a connection over [`Limits::max_connections`] is told before it is
/// closed.
const TOO_MANY_CONNECTIONS: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
content-type: text/plain; charset=utf-8\r\n\
retry-after: 5\r\n\
connection: close\r\n\
content-length: 21\r\n\r\n\
too many connections\n";

/// How long in-flight requests may take to finish once shutdown begins.
const CONNECTION_GRACE: Duration = Duration::from_secs(10);

/// Serves `router` on `listener` under `limits` until `shutdown` resolves,
/// then lets open requests finish (for at most 10 s). Limit refusals are
/// counted in `metrics` (`hotfix_guard_limit_refusals_total`).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: &Limits,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_request_head_bytes.max(MIN_REQUEST_HEAD_BYTES))
        .keep_alive(true);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like: pause instead of
                    // spinning; the connections already open go on.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            metrics.limit("connections");
            refuse(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let connection = builder.serve_connection(
            TokioIo::new(stream),
            TowerToHyperService::new(router.clone()),
        );
        let connection = graceful.watch(connection);
        let metrics = metrics.clone();
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                if let Some(limit) = limit_of(&e) {
                    metrics.limit(limit);
                }
                tracing::debug!(error = %e, "connection closed");
            }
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(CONNECTION_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("open connections did not finish within {CONNECTION_GRACE:?}; closed");
    }
}

/// hyper's minimum for `max_buf_size`; smaller values would panic there.
pub const MIN_REQUEST_HEAD_BYTES: usize = 8192;

/// The `limit` label for a connection hyper ended because of one of ours.
fn limit_of(e: &hyper::Error) -> Option<&'static str> {
    if e.is_timeout() {
        Some("header_read_timeout")
    } else if e.is_parse_too_large() {
        Some("request_head_size")
    } else {
        None
    }
}

/// Answers 503 without reading the request, and closes. The write cannot
/// block: a fresh socket's send buffer is empty.
fn refuse(stream: TcpStream) {
    let _ = stream.try_write(TOO_MANY_CONNECTIONS);
    tracing::debug!("connection over the limit refused");
}
