//! The one place requests to GitHub are sent.
//!
//! Octocrab is the transport (hyper, rustls, connect/read timeouts, tracing,
//! and joining our paths onto the API base, prefix included). Everything
//! that decides *whether* and *when* to send is here: the credential on each
//! request, a total timeout per attempt, bounded retries with backoff that
//! honour GitHub's rate-limit headers, conditional GETs from an ETag cache,
//! and the per-route counters behind `/metrics`.
//!
//! We set the `Authorization` header ourselves on an unauthenticated Octocrab
//! rather than use octocrab's installation auth, because octocrab renews an
//! installation token only 30 s before it expires, keeps it per `Octocrab`
//! value, and lets concurrent requests each mint their own (see
//! `app::InstallationTokens`).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use http::header::{ACCEPT, AUTHORIZATION, ETAG, IF_NONE_MATCH, LINK};
use http::{HeaderMap, HeaderValue, Method, Uri};
use octocrab::Octocrab;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::error::{ErrorKind, GitHubError};
use super::etag::{Cached, EtagCache};
use super::in_flight::InFlight;
use super::key::AppKey;
use super::page_items;
use super::stats::{ApiStats, NO_RESPONSE};

/// The media type of GitHub's JSON answers.
pub(crate) const JSON: &str = "application/vnd.github+json";

/// How requests are sent and retried. The defaults suit production; tests
/// shrink the durations to milliseconds.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Limit on one attempt as a whole: connect, send, read the full answer.
    pub request_timeout: Duration,
    /// Limit on establishing the connection (inside `request_timeout`).
    pub connect_timeout: Duration,
    /// Requests sent at most for one call, the first included.
    pub max_attempts: u32,
    /// First backoff after a failure; doubled each retry, with jitter.
    pub backoff_base: Duration,
    /// Longest backoff between two attempts.
    pub backoff_max: Duration,
    /// Longest single wait a rate-limit answer may impose. A longer one
    /// ends the call with `RateLimited` instead of holding a worker.
    pub max_wait: Duration,
    /// How long one second that GitHub asks us to wait (`Retry-After`,
    /// `x-ratelimit-reset`) lasts here: 1 s, except in tests.
    pub server_second: Duration,
    /// Most GET answers kept for conditional requests.
    pub etag_entries: usize,
    /// Most bytes of answer bodies kept for conditional requests.
    pub etag_bytes: usize,
    /// Most pages one list call follows before it gives up (100 a page).
    pub max_pages: usize,
}

impl Default for HttpOptions {
    fn default() -> HttpOptions {
        HttpOptions {
            request_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            max_attempts: 4,
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(8),
            max_wait: Duration::from_secs(60),
            server_second: Duration::from_secs(1),
            etag_entries: 4096,
            etag_bytes: 64 << 20,
            max_pages: 100,
        }
    }
}

/// Whose rate limit and whose cache entries a request belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Scope {
    App,
    Installation(u64),
    /// A personal token (`simulate --repo`).
    Token,
}

/// Mints and caches installation tokens; implemented in `app`.
#[async_trait]
pub(crate) trait TokenSource: Send + Sync {
    async fn token(&self) -> Result<SecretString, GitHubError>;
    /// Drops the cached token after GitHub refused it.
    fn invalidate(&self);
}

/// What a request authenticates with.
#[derive(Clone)]
pub(crate) enum Credential {
    /// A JWT signed with the app's key, for `/app/*`.
    App(Arc<AppKey>),
    Installation {
        id: u64,
        tokens: Arc<dyn TokenSource>,
    },
    Token(SecretString),
}

impl Credential {
    pub(crate) fn scope(&self) -> Scope {
        match self {
            Credential::App(_) => Scope::App,
            Credential::Installation { id, .. } => Scope::Installation(*id),
            Credential::Token(_) => Scope::Token,
        }
    }

    async fn header(&self) -> Result<HeaderValue, GitHubError> {
        let bearer = match self {
            Credential::App(key) => format!("Bearer {}", key.jwt()?),
            Credential::Installation { tokens, .. } => {
                format!("Bearer {}", tokens.token().await?.expose_secret())
            }
            Credential::Token(token) => format!("Bearer {}", token.expose_secret()),
        };
        let mut value = HeaderValue::from_str(&bearer).map_err(|_| {
            GitHubError::config("the credential contains characters not allowed in a header")
        })?;
        value.set_sensitive(true);
        Ok(value)
    }
}

/// One call: a route template for counting and errors, and the request.
pub(crate) struct Call<'a> {
    pub method: Method,
    /// Method and template, e.g. `GET /repos/{owner}/{repo}/pulls/{n}`.
    pub route: &'static str,
    /// Path and query, relative to the API base (octocrab adds the base,
    /// prefix included), or a `next` link already carrying the prefix.
    pub path: String,
    pub body: Option<&'a serde_json::Value>,
    pub accept: &'static str,
    /// A page of a list read to its end (`pages`, `pages_up_to_cap`): its
    /// next link matters. A single read (`per_page=1`, the newest only)
    /// follows no link.
    pub paged: bool,
}

impl<'a> Call<'a> {
    pub(crate) fn get(route: &'static str, path: String) -> Call<'a> {
        Call {
            method: Method::GET,
            route,
            path,
            body: None,
            accept: JSON,
            paged: false,
        }
    }

    /// A page of a list read to its end: see [`Call::paged`].
    pub(crate) fn page(route: &'static str, path: String) -> Call<'a> {
        Call {
            paged: true,
            ..Call::get(route, path)
        }
    }

    pub(crate) fn post(route: &'static str, path: String, body: &'a serde_json::Value) -> Call<'a> {
        Call {
            method: Method::POST,
            route,
            path,
            body: Some(body),
            accept: JSON,
            paged: false,
        }
    }

    pub(crate) fn patch(
        route: &'static str,
        path: String,
        body: &'a serde_json::Value,
    ) -> Call<'a> {
        Call {
            method: Method::PATCH,
            route,
            path,
            body: Some(body),
            accept: JSON,
            paged: false,
        }
    }

    pub(crate) fn accept(mut self, media_type: &'static str) -> Call<'a> {
        self.accept = media_type;
        self
    }
}

/// A successful answer (a 304 served from the cache reads as its 200).
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub body: Arc<str>,
    /// The `rel="next"` link, for paged lists.
    pub next: Option<String>,
}

/// The API base, split so that `next` links can be checked against it.
#[derive(Debug, Clone)]
struct Base {
    scheme: String,
    authority: String,
}

type EtagKey = (Scope, &'static str, String);

/// The shared sending machinery: one per `GitHubApp` (or token client).
pub(crate) struct Core {
    octo: Octocrab,
    base: Base,
    opts: HttpOptions,
    etags: EtagCache<EtagKey>,
    stats: Arc<ApiStats>,
    /// Requests in flight per installation, bounded.
    in_flight: InFlight<Scope>,
}

/// What one exchange with GitHub gave, before any judgement.
struct Raw {
    status: u16,
    headers: HeaderMap,
    body: String,
}

enum ExchangeError {
    Transport(String),
    Decode(String),
}

enum Verdict {
    Fail(ErrorKind),
    /// Worth another attempt after `wait`; `exhausted` is the error when
    /// the attempts have run out.
    Retry {
        wait: Duration,
        exhausted: ErrorKind,
    },
}

impl Core {
    /// `api_url` is `https://api.github.com` or a GitHub Enterprise Server
    /// base such as `https://ghe.example.com/api/v3`. Needs a Tokio runtime
    /// (octocrab spawns its request buffer on it).
    pub(crate) fn new(
        api_url: &str,
        opts: HttpOptions,
        stats: Arc<ApiStats>,
    ) -> Result<Core, GitHubError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(GitHubError::config(
                "the GitHub client must be created inside a Tokio runtime",
            ));
        }
        let trimmed = api_url.trim().trim_end_matches('/');
        let uri: Uri = trimmed
            .parse()
            .map_err(|e| GitHubError::config(format!("API URL {api_url:?} is not a URL: {e}")))?;
        let scheme = match uri.scheme_str() {
            Some(s @ ("http" | "https")) => s.to_string(),
            _ => {
                return Err(GitHubError::config(format!(
                    "API URL {api_url:?} must start with https:// (or http://)"
                )));
            }
        };
        let authority = uri
            .authority()
            .map(|a| a.as_str().to_string())
            .ok_or_else(|| GitHubError::config(format!("API URL {api_url:?} has no host")))?;
        if uri.query().is_some() {
            return Err(GitHubError::config(format!(
                "API URL {api_url:?} must not have a query"
            )));
        }
        let octo = Octocrab::builder()
            .base_uri(uri)
            .map_err(|e| GitHubError::config(format!("API URL {api_url:?}: {e}")))?
            .set_connect_timeout(Some(opts.connect_timeout))
            .set_read_timeout(Some(opts.request_timeout))
            .set_write_timeout(Some(opts.request_timeout))
            .build()
            .map_err(|e| GitHubError::config(format!("HTTP client: {}", error_chain(&e))))?;
        Ok(Core {
            octo,
            base: Base { scheme, authority },
            etags: EtagCache::new(opts.etag_entries, opts.etag_bytes),
            in_flight: InFlight::default(),
            opts,
            stats,
        })
    }

    pub(crate) fn stats(&self) -> &Arc<ApiStats> {
        &self.stats
    }

    /// The bound on requests in flight per installation (`in_flight`).
    pub(crate) fn in_flight(&self) -> &InFlight<Scope> {
        &self.in_flight
    }

    /// Sends `call`, retrying what may succeed on a later attempt.
    pub(crate) async fn send(
        &self,
        cred: &Credential,
        call: &Call<'_>,
    ) -> Result<Answer, GitHubError> {
        let scope = cred.scope();
        let cache_key: Option<EtagKey> =
            (call.method == Method::GET).then(|| (scope, call.accept, call.path.clone()));
        let mut refreshed_token = false;
        let mut attempt: u32 = 0;
        // A write whose earlier attempt had an unknown outcome (a 5xx, no
        // answer) may have been made even if a later attempt is refused.
        let mut earlier_unknown = false;
        let writes = call.method != Method::GET;
        loop {
            attempt += 1;
            let unknown_so_far = earlier_unknown;
            let fail = |kind: ErrorKind| {
                GitHubError::new(kind, call.route)
                    .with_attempts(attempt)
                    .with_earlier_attempt_unknown(unknown_so_far)
            };
            let cached = cache_key.as_ref().and_then(|key| self.etags.get(key));
            let auth = cred.header().await?;
            let exchange = self.exchange(call, auth, cached.as_ref().map(|c| c.etag.as_str()));
            // Held for this attempt only (see `in_flight`).
            let slot = self
                .in_flight
                .acquire((scope != Scope::App).then_some(scope))
                .await;
            let answered = tokio::time::timeout(self.opts.request_timeout, exchange).await;
            drop(slot);
            let raw = match answered {
                Ok(Ok(raw)) => raw,
                Ok(Err(ExchangeError::Decode(message))) => {
                    return Err(fail(ErrorKind::Decode(message)));
                }
                Ok(Err(ExchangeError::Transport(message))) => {
                    self.stats.record(call.route, NO_RESPONSE);
                    if attempt >= self.opts.max_attempts {
                        return Err(fail(ErrorKind::Transport(message)));
                    }
                    earlier_unknown |= writes;
                    tracing::warn!(route = call.route, attempt, error = %message, "GitHub unreachable; retrying");
                    tokio::time::sleep(backoff(attempt, &self.opts)).await;
                    continue;
                }
                Err(_elapsed) => {
                    self.stats.record(call.route, NO_RESPONSE);
                    let message = format!(
                        "no answer within {} ms",
                        self.opts.request_timeout.as_millis()
                    );
                    if attempt >= self.opts.max_attempts {
                        return Err(fail(ErrorKind::Transport(message)));
                    }
                    earlier_unknown |= writes;
                    tracing::warn!(route = call.route, attempt, "GitHub timed out; retrying");
                    tokio::time::sleep(backoff(attempt, &self.opts)).await;
                    continue;
                }
            };
            let status = raw.status;
            self.stats.record(call.route, status);
            if let (Scope::Installation(id), Some(remaining)) =
                (scope, header_u64(&raw.headers, "x-ratelimit-remaining"))
            {
                self.stats.record_remaining(id, remaining);
            }

            if status == 304 {
                if let Some(hit) = cached {
                    // An ETag covers a page's body, not its `Link`: a full
                    // last page stays the same when an item lands on a new
                    // page after it. So the next link comes from this
                    // answer when it carries one; a cached "no next page"
                    // is trusted only for a page with room left, and a
                    // full one is asked for again, unconditionally.
                    let next = next_link(&raw.headers).or(hit.next);
                    if next.is_none()
                        && call.paged
                        && page_is_full(&call.path, &hit.body)
                        && let Some(key) = &cache_key
                    {
                        self.etags.remove(key);
                        continue;
                    }
                    return Ok(Answer {
                        body: hit.body,
                        next,
                    });
                }
                // We hold the cached answer whenever we sent If-None-Match.
                return Err(fail(ErrorKind::Decode(
                    "304 Not Modified to a request that was not conditional".to_string(),
                ))
                .with_status(status));
            }
            if (200..300).contains(&status) {
                let next = next_link(&raw.headers);
                let body: Arc<str> = Arc::from(raw.body);
                if let Some(key) = cache_key {
                    match raw.headers.get(ETAG).and_then(|v| v.to_str().ok()) {
                        Some(etag) => self.etags.put(
                            key,
                            Cached {
                                etag: etag.to_string(),
                                body: body.clone(),
                                next: next.clone(),
                            },
                        ),
                        None => self.etags.remove(&key),
                    }
                }
                return Ok(Answer { body, next });
            }
            if status == 401 {
                // A revoked or clock-skewed installation token: mint anew once.
                if let (Credential::Installation { tokens, .. }, false) = (cred, refreshed_token) {
                    refreshed_token = true;
                    tokens.invalidate();
                    continue;
                }
                return Err(fail(ErrorKind::Unauthorized).with_status(status));
            }
            if !(400..600).contains(&status) {
                return Err(
                    fail(ErrorKind::Decode(format!("unexpected status {status}")))
                        .with_status(status),
                );
            }
            match judge(
                status,
                &raw.headers,
                &raw.body,
                attempt,
                &self.opts,
                epoch_now(),
            ) {
                Verdict::Fail(kind) => return Err(fail(kind).with_status(status)),
                Verdict::Retry { wait, exhausted } => {
                    if attempt >= self.opts.max_attempts {
                        return Err(fail(exhausted).with_status(status));
                    }
                    earlier_unknown |= writes && status >= 500;
                    tracing::warn!(
                        route = call.route,
                        status,
                        attempt,
                        wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                        "GitHub asked us to retry"
                    );
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// Sends `call` and decodes its JSON answer.
    pub(crate) async fn json<T: DeserializeOwned>(
        &self,
        cred: &Credential,
        call: &Call<'_>,
    ) -> Result<T, GitHubError> {
        let answer = self.send(cred, call).await?;
        decode(call.route, &answer.body)
    }

    /// GETs every page of a list, following `Link: rel="next"`. `path`
    /// should ask for `per_page=100`.
    pub(crate) async fn all_pages<T: DeserializeOwned>(
        &self,
        cred: &Credential,
        route: &'static str,
        path: String,
    ) -> Result<Vec<T>, GitHubError> {
        self.pages(cred, route, path, usize::MAX).await
    }

    /// Like `all_pages`, but a list longer than `max_pages` pages is not an
    /// error: the first `max_pages` pages come back with `true` (GitHub had
    /// more), for callers that can say what the cut hides. The lists read
    /// this way (timeline, issue events, reviews: oldest first, numbered
    /// pages, items their authors can delete) are checked once read (see
    /// `pages_unchanged`); a list that kept changing is an error.
    pub(crate) async fn pages_up_to_cap<T: DeserializeOwned>(
        &self,
        cred: &Credential,
        route: &'static str,
        path: String,
    ) -> Result<(Vec<T>, bool), GitHubError> {
        for _ in 0..SNAPSHOT_TRIES {
            let read = self.read_pages(cred, route, &path, usize::MAX).await?;
            if self
                .pages_unchanged(cred, route, &read.pages, read.cut)
                .await?
            {
                return Ok((read.items, read.cut));
            }
        }
        Err(list_kept_changing(route))
    }

    /// Every page of a list up to the page cap, read once and not checked
    /// (`true`: GitHub had more): a list that may be torn by items removed
    /// while it is read. Only for callers that read nothing from it whose
    /// absence could pass a check (the app's own markers: one missed is
    /// posted again, never silenced).
    pub(crate) async fn pages_unchecked_up_to_cap<T: DeserializeOwned>(
        &self,
        cred: &Credential,
        route: &'static str,
        path: String,
    ) -> Result<(Vec<T>, bool), GitHubError> {
        let read = self.read_pages(cred, route, &path, usize::MAX).await?;
        Ok((read.items, read.cut))
    }

    /// Whether every page of `read`, the last included, still holds what it
    /// held (asked for again in order, conditionally: free 304s when
    /// unchanged). GitHub's pages are numbered, not a snapshot: an item
    /// deleted on page 1 after page 1 was read moves page 2's first item
    /// onto page 1, and neither read holds it (anyone may delete their own
    /// comment, and so hide a change request that follows it).
    ///
    /// Pages are compared by the identity and order of their items
    /// (`page_items::page_still_holds`), not by bytes: an item edited in
    /// place hides nothing. The list's last page (when the read was not
    /// `cut`) may also have gained items after the ones first read, and a
    /// page named after it is not read: items appended since the read began
    /// cannot hide one that was there (each comes with its own delivery,
    /// whose evaluation reads it). The caller keeps the first pass's items.
    /// Otherwise anyone who can comment could keep every read failing by
    /// commenting, or editing a comment, while it runs.
    ///
    /// The last page is verified too: an item that vanishes after page `k`
    /// is read and returns before page `k` is asked for again leaves page
    /// `k` identical, but page `k+1` was read shifted and its second read
    /// (in the restored list) holds an item before the ones first read. So
    /// any ONE removal or insertion before the end of what was read, and
    /// any one vanish-and-return, between the first read of page 1 and the
    /// second read of the last page is seen. What it cannot close: pages
    /// are not a snapshot, and an item toggled out, back and out again at
    /// chosen moments (gone after page `k`'s read, back before page `k`'s
    /// second read, gone again before page `k+1`'s) makes both reads of
    /// every page agree with a torn list; so does any finite number of
    /// re-reads against enough toggles. Deleted comments never return;
    /// whether an author can toggle a timeline item at all, and that fast,
    /// is discussed in `docs/facts.md`. A list of one page is one answer
    /// (nothing read at another moment): not asked for again.
    async fn pages_unchanged(
        &self,
        cred: &Credential,
        route: &'static str,
        read: &[(String, Arc<str>)],
        cut: bool,
    ) -> Result<bool, GitHubError> {
        if read.len() < 2 {
            return Ok(true);
        }
        let last = read.len() - 1;
        for (index, (path, body)) in read.iter().enumerate() {
            let again = self.send(cred, &Call::page(route, path.clone())).await?;
            if !page_items::page_still_holds(body, &again.body, index == last && !cut) {
                tracing::info!(route, "a list changed while it was read; reading it again");
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Like `all_pages`, but stops once `limit` items are in hand.
    pub(crate) async fn pages<T: DeserializeOwned>(
        &self,
        cred: &Credential,
        route: &'static str,
        path: String,
        limit: usize,
    ) -> Result<Vec<T>, GitHubError> {
        let mut read = self.read_pages(cred, route, &path, limit).await?;
        if read.cut {
            return Err(GitHubError::new(
                ErrorKind::Decode(format!("more than {} pages", self.opts.max_pages)),
                route,
            ));
        }
        read.items.truncate(limit);
        Ok(read.items)
    }

    /// The one page loop: GETs the pages of a list from `path`, following
    /// `Link: rel="next"` (same origin only), until the list ends, `limit`
    /// items are in hand, or `max_pages` pages are read with a next one
    /// still named (`cut`). Each page's path and body are kept for
    /// `pages_unchanged`.
    async fn read_pages<T: DeserializeOwned>(
        &self,
        cred: &Credential,
        route: &'static str,
        path: &str,
        limit: usize,
    ) -> Result<PagesRead<T>, GitHubError> {
        let mut read = PagesRead {
            items: Vec::new(),
            pages: Vec::new(),
            cut: false,
        };
        let mut next = Some(path.to_string());
        while let Some(path) = next.take() {
            if read.items.len() >= limit {
                break;
            }
            if read.pages.len() >= self.opts.max_pages {
                read.cut = true;
                break;
            }
            let answer = self.send(cred, &Call::page(route, path.clone())).await?;
            let page: Vec<T> = decode(route, &answer.body)?;
            read.items.extend(page);
            read.pages.push((path, answer.body));
            next = match answer.next {
                Some(link) => Some(self.same_origin_path(route, &link)?),
                None => None,
            };
        }
        Ok(read)
    }

    /// The path and query of a `next` link, refusing links to another host
    /// (our credential goes on every request).
    fn same_origin_path(&self, route: &'static str, link: &str) -> Result<String, GitHubError> {
        let bad = |why: &str| {
            GitHubError::new(
                ErrorKind::Decode(format!("pagination link {link:?} {why}")),
                route,
            )
        };
        let uri: Uri = link.parse().map_err(|_| bad("is not a URL"))?;
        if let Some(authority) = uri.authority() {
            let same = authority
                .as_str()
                .eq_ignore_ascii_case(&self.base.authority)
                && uri.scheme_str() == Some(self.base.scheme.as_str());
            if !same {
                return Err(bad("points outside the API base"));
            }
        }
        uri.path_and_query()
            .map(|pq| pq.as_str().to_string())
            .ok_or_else(|| bad("has no path"))
    }

    async fn exchange(
        &self,
        call: &Call<'_>,
        auth: HeaderValue,
        if_none_match: Option<&str>,
    ) -> Result<Raw, ExchangeError> {
        let mut builder = http::Request::builder()
            .method(call.method.clone())
            .uri(call.path.as_str())
            .header(AUTHORIZATION, auth)
            .header(ACCEPT, call.accept);
        if let Some(etag) = if_none_match {
            builder = builder.header(IF_NONE_MATCH, etag);
        }
        let request = self.octo.build_request(builder, call.body).map_err(|e| {
            ExchangeError::Decode(format!("building the request: {}", error_chain(&e)))
        })?;
        let response = self
            .octo
            .execute(request)
            .await
            .map_err(|e| ExchangeError::Transport(error_chain(&e)))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = self
            .octo
            .body_to_string(response)
            .await
            .map_err(|e| match e {
                octocrab::Error::InvalidUtf8 { .. } => {
                    ExchangeError::Decode("the answer is not UTF-8".to_string())
                }
                other => ExchangeError::Transport(error_chain(&other)),
            })?;
        Ok(Raw {
            status,
            headers,
            body,
        })
    }
}

/// Decodes a JSON answer into `T`, naming the route on failure.
pub(crate) fn decode<T: DeserializeOwned>(
    route: &'static str,
    body: &str,
) -> Result<T, GitHubError> {
    serde_json::from_str(body)
        .map_err(|e| GitHubError::new(ErrorKind::Decode(e.to_string()), route))
}

/// Decides what a 4xx/5xx answer means and whether to try again.
/// Kept hand-written: octocrab's retry has no jitter, no cap, and does not
/// read GitHub's `retry-after` and `x-ratelimit-*` headers.
fn judge(
    status: u16,
    headers: &HeaderMap,
    body: &str,
    attempt: u32,
    opts: &HttpOptions,
    now_epoch: u64,
) -> Verdict {
    let remaining = header_u64(headers, "x-ratelimit-remaining");
    let retry_after = header_u64(headers, "retry-after");
    let reset = header_u64(headers, "x-ratelimit-reset");
    let rate_limited = status == 429
        || (status == 403
            && (retry_after.is_some()
                || remaining == Some(0)
                || body.to_ascii_lowercase().contains("rate limit")));
    if rate_limited {
        // Retry-After wins (secondary limits); then the primary limit's reset,
        // plus a second for clocks that tick at different moments.
        let asked = retry_after.or(match (remaining, reset) {
            (Some(0), Some(reset)) => Some(reset.saturating_sub(now_epoch) + 1),
            _ => None,
        });
        let kind = ErrorKind::RateLimited {
            retry_after: asked.map(Duration::from_secs),
        };
        let wait = match asked {
            Some(secs) => opts
                .server_second
                .saturating_mul(u32::try_from(secs).unwrap_or(u32::MAX)),
            None => backoff(attempt, opts),
        };
        if wait > opts.max_wait {
            return Verdict::Fail(kind);
        }
        return Verdict::Retry {
            wait,
            exhausted: kind,
        };
    }
    if status >= 500 {
        return Verdict::Retry {
            wait: backoff(attempt, opts),
            exhausted: ErrorKind::Server { status },
        };
    }
    Verdict::Fail(client_error(status, body))
}

/// The kind of a 4xx that will not change by asking again.
fn client_error(status: u16, body: &str) -> ErrorKind {
    match status {
        401 => ErrorKind::Unauthorized,
        // A locked conversation ("Unable to create comment because issue
        // is locked."): a moderator's act, not a missing permission.
        403 if github_message(body)
            .to_ascii_lowercase()
            .contains("is locked") =>
        {
            ErrorKind::Locked
        }
        403 => ErrorKind::Forbidden,
        404 | 410 => ErrorKind::NotFound,
        _ => {
            let message = github_message(body);
            if status == 422 && message.to_ascii_lowercase().contains("already exist") {
                ErrorKind::AlreadyExists
            } else {
                ErrorKind::Validation(message)
            }
        }
    }
}

/// GitHub's error message and its `errors[]` details, on one line.
fn github_message(body: &str) -> String {
    #[derive(Deserialize)]
    struct Wire {
        #[serde(default)]
        message: String,
        #[serde(default)]
        errors: Vec<serde_json::Value>,
    }
    let text = match serde_json::from_str::<Wire>(body) {
        Ok(wire) => {
            let mut parts = vec![wire.message];
            for error in wire.errors {
                let detail = match &error {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Object(map) => {
                        let field = |k: &str| map.get(k).and_then(|v| v.as_str()).unwrap_or("");
                        if !field("message").is_empty() {
                            field("message").to_string()
                        } else {
                            format!("{} {} {}", field("resource"), field("field"), field("code"))
                                .trim()
                                .to_string()
                        }
                    }
                    other => other.to_string(),
                };
                if !detail.is_empty() {
                    parts.push(detail);
                }
            }
            parts.retain(|p| !p.is_empty());
            parts.join("; ")
        }
        Err(_) => body.chars().take(200).collect(),
    };
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.is_empty() {
        "no message".to_string()
    } else {
        one_line
    }
}

/// Exponential backoff with jitter: between half and all of
/// `base · 2^(attempt-1)`, capped.
fn backoff(attempt: u32, opts: &HttpOptions) -> Duration {
    let exp = opts
        .backoff_base
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
    let full = exp.min(opts.backoff_max);
    let half = full / 2;
    // Full jitter over the upper half, so instances that failed together
    // do not retry together.
    half + half.mul_f64(fastrand::f64())
}

fn epoch_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// What one pass over a list's pages read (see `Core::read_pages`).
struct PagesRead<T> {
    items: Vec<T>,
    /// Each page's path and body, in order.
    pages: Vec<(String, Arc<str>)>,
    /// `max_pages` pages were read and GitHub named a next one.
    cut: bool,
}

/// How many times a list that changed while it was read is read again
/// before the read fails (closed: the evaluation is retried, and the check
/// run says why if it keeps failing).
const SNAPSHOT_TRIES: usize = 3;

fn list_kept_changing(route: &'static str) -> GitHubError {
    GitHubError::new(
        ErrorKind::ListKeptChanging {
            tries: SNAPSHOT_TRIES,
        },
        route,
    )
}

/// Whether `body`, a list page asked for at `path`, holds as many items as
/// a page can (`per_page`, GitHub's default 30): more may follow on a page
/// its `Link` did not name when it was cached. Not a list: `false`.
fn page_is_full(path: &str, body: &str) -> bool {
    let per_page = path
        .split_once('?')
        .map(|(_, query)| query)
        .unwrap_or_default()
        .split('&')
        .find_map(|pair| pair.strip_prefix("per_page="))
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(30);
    match serde_json::from_str::<Vec<serde::de::IgnoredAny>>(body) {
        Ok(items) => per_page > 0 && items.len() >= per_page,
        Err(_) => false,
    }
}

fn next_link(headers: &HeaderMap) -> Option<String> {
    let joined = headers
        .get_all(LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    parse_next_link(&joined)
}

/// The URL with `rel="next"` in a `Link` header (RFC 8288).
fn parse_next_link(header: &str) -> Option<String> {
    let mut rest = header;
    while let Some(start) = rest.find('<') {
        let after = &rest[start + 1..];
        let end = after.find('>')?;
        let url = &after[..end];
        let tail = &after[end + 1..];
        let params_end = tail.find('<').unwrap_or(tail.len());
        let is_next = tail[..params_end].split([';', ',']).any(|param| {
            let param = param.trim();
            let Some((key, value)) = param.split_once('=') else {
                return false;
            };
            key.trim().eq_ignore_ascii_case("rel")
                && value
                    .trim()
                    .trim_matches('"')
                    .split_whitespace()
                    .any(|rel| rel.eq_ignore_ascii_case("next"))
        });
        if is_next {
            return Some(url.to_string());
        }
        rest = &tail[params_end..];
    }
    None
}

/// An error and its sources on one line (octocrab's own messages may span
/// several and carry backtraces).
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = current {
        let line = e
            .to_string()
            .lines()
            .next()
            .unwrap_or("")
            .trim()
            .to_string();
        if !line.is_empty() && !parts.iter().any(|p| p.contains(&line)) {
            parts.push(line);
        }
        current = e.source();
    }
    parts.join(": ")
}

/// Percent-encodes one path segment (a login, a branch name with its
/// slashes kept where `keep_slash`).
pub(crate) fn encode_path(segment: &str, keep_slash: bool) -> String {
    let set = if keep_slash { &PATH } else { &SEGMENT };
    percent_encoding::utf8_percent_encode(segment, set).to_string()
}

/// Everything but RFC 3986's unreserved characters (`A-Z a-z 0-9 - . _ ~`).
const SEGMENT: percent_encoding::AsciiSet = percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// The same, keeping `/` (a file path or a ref with slashes).
const PATH: percent_encoding::AsciiSet = SEGMENT.remove(b'/');

/// A query string from pairs, values percent-encoded.
pub(crate) fn query(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", encode_path(v, false)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn only_a_full_page_may_hide_a_next_page_its_etag_does_not_cover() {
        let items = |n: usize| format!("[{}]", vec!["{}"; n].join(","));
        let path = "/repos/o/r/issues/7/timeline?per_page=100&page=2";
        assert!(page_is_full(path, &items(100)));
        assert!(!page_is_full(path, &items(99)));
        assert!(!page_is_full(path, "[]"));
        // GitHub's default page size is 30.
        assert!(page_is_full("/repos/o/r/issues/7/comments", &items(30)));
        assert!(!page_is_full("/repos/o/r/issues/7/comments", &items(29)));
        // Not a list (an object answer): nothing can follow it.
        assert!(!page_is_full(
            "/repos/o/r/pulls/7?per_page=1",
            r#"{"a": 1}"#
        ));
    }

    /// A page of comments `ids`, each with `body(id)`.
    fn comments(ids: &[u64], body: impl Fn(u64) -> String) -> String {
        let items: Vec<serde_json::Value> = ids
            .iter()
            .map(|&id| {
                serde_json::json!({
                    "event": "commented", "id": id, "node_id": format!("IC_{id}"),
                    "body": body(id), "updated_at": "2026-01-01T00:00:00Z",
                })
            })
            .collect();
        serde_json::Value::from(items).to_string()
    }

    #[test]
    fn an_edit_is_not_a_change() {
        let first = comments(&[1, 2, 3], |id| format!("note {id}"));
        let edited = comments(&[1, 2, 3], |id| {
            if id == 2 {
                "edited".to_string()
            } else {
                format!("note {id}")
            }
        });
        assert_ne!(first, edited);
        // On page 1 (not the last) as on the last page.
        assert!(page_items::page_still_holds(&first, &edited, false));
        assert!(page_items::page_still_holds(&first, &edited, true));
    }

    #[test]
    fn an_append_on_the_last_page_is_not_a_change() {
        let first = comments(&[101, 102], |_| "n".into());
        let appended = comments(&[101, 102, 103], |_| "n".into());
        assert!(page_items::page_still_holds(&first, &appended, true));
        // An earlier page cannot gain an item at its end without shifting
        // the page after it: there it is a change.
        assert!(!page_items::page_still_holds(&first, &appended, false));
    }

    #[test]
    fn a_removal_on_page_1_is_a_change() {
        let first = comments(&[1, 2, 3], |_| "n".into());
        // Comment 2 deleted: page 1 now ends with what page 2 began with.
        let shifted = comments(&[1, 3, 4], |_| "n".into());
        assert!(!page_items::page_still_holds(&first, &shifted, false));
        assert!(!page_items::page_still_holds(&first, &shifted, true));
    }

    #[test]
    fn an_insertion_before_an_item_or_a_new_order_is_a_change() {
        let first = comments(&[2, 3], |_| "n".into());
        // An item back before those first read (it vanished while an
        // earlier page was read, so no read holds it): a change even on
        // the last page, though the page is longer.
        let returned = comments(&[1, 2, 3], |_| "n".into());
        assert!(!page_items::page_still_holds(&first, &returned, true));
        let reordered = comments(&[3, 2], |_| "n".into());
        assert!(!page_items::page_still_holds(&first, &reordered, true));
        let gone_at_end = comments(&[2], |_| "n".into());
        assert!(!page_items::page_still_holds(&first, &gone_at_end, true));
    }

    fn opts() -> HttpOptions {
        HttpOptions {
            backoff_base: Duration::from_millis(100),
            backoff_max: Duration::from_millis(1000),
            max_wait: Duration::from_secs(60),
            server_second: Duration::from_secs(1),
            ..HttpOptions::default()
        }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[test]
    fn finds_the_next_link_among_others() {
        let h = r#"<https://api.github.com/repositories/1/pulls?page=1>; rel="prev", <https://api.github.com/repositories/1/pulls?page=3&a=b,c>; rel="next", <https://api.github.com/repositories/1/pulls?page=9>; rel="last""#;
        assert_eq!(
            parse_next_link(h).as_deref(),
            Some("https://api.github.com/repositories/1/pulls?page=3&a=b,c")
        );
        assert_eq!(parse_next_link(r#"<https://x/y?page=1>; rel="prev""#), None);
        assert_eq!(parse_next_link(""), None);
        assert_eq!(
            parse_next_link("<https://x/y?page=2>; REL=next").as_deref(),
            Some("https://x/y?page=2")
        );
    }

    #[test]
    fn secondary_rate_limit_with_retry_after_waits_that_long() {
        let v = judge(403, &headers(&[("retry-after", "7")]), "", 1, &opts(), 1000);
        match v {
            Verdict::Retry { wait, exhausted } => {
                assert_eq!(wait, Duration::from_secs(7));
                assert_eq!(
                    exhausted,
                    ErrorKind::RateLimited {
                        retry_after: Some(Duration::from_secs(7))
                    }
                );
            }
            Verdict::Fail(k) => panic!("expected a retry, got {k:?}"),
        }
    }

    #[test]
    fn primary_rate_limit_waits_until_reset() {
        let h = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1010"),
        ]);
        match judge(403, &h, "", 1, &opts(), 1000) {
            Verdict::Retry { wait, .. } => assert_eq!(wait, Duration::from_secs(11)),
            Verdict::Fail(k) => panic!("expected a retry, got {k:?}"),
        }
    }

    #[test]
    fn a_wait_longer_than_the_cap_gives_up_at_once() {
        let h = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "4600"),
        ]);
        match judge(403, &h, "", 1, &opts(), 1000) {
            Verdict::Fail(ErrorKind::RateLimited { retry_after }) => {
                assert_eq!(retry_after, Some(Duration::from_secs(3601)));
            }
            Verdict::Fail(k) => panic!("wrong kind {k:?}"),
            Verdict::Retry { .. } => panic!("must not wait an hour"),
        }
    }

    #[test]
    fn plain_403_and_other_4xx_are_final() {
        let h = headers(&[("x-ratelimit-remaining", "4000")]);
        assert!(matches!(
            judge(
                403,
                &h,
                r#"{"message":"Resource not accessible by integration"}"#,
                1,
                &opts(),
                0
            ),
            Verdict::Fail(ErrorKind::Forbidden)
        ));
        assert!(matches!(
            judge(
                403,
                &h,
                r#"{"message":"Unable to create comment because issue is locked.","documentation_url":"https://docs.github.com/articles/locking-conversations/"}"#,
                1,
                &opts(),
                0
            ),
            Verdict::Fail(ErrorKind::Locked)
        ));
        assert!(matches!(
            judge(404, &h, "", 1, &opts(), 0),
            Verdict::Fail(ErrorKind::NotFound)
        ));
        match judge(
            422,
            &h,
            r#"{"message":"Validation Failed","errors":[{"resource":"Issue","field":"title","code":"missing_field"}]}"#,
            1,
            &opts(),
            0,
        ) {
            Verdict::Fail(ErrorKind::Validation(m)) => {
                assert_eq!(m, "Validation Failed; Issue title missing_field");
            }
            _ => panic!("expected validation"),
        }
        assert!(matches!(
            judge(
                422,
                &h,
                r#"{"message":"Reference already exists"}"#,
                1,
                &opts(),
                0
            ),
            Verdict::Fail(ErrorKind::AlreadyExists)
        ));
    }

    #[test]
    fn a_403_that_says_secondary_rate_limit_is_retried() {
        let body = r#"{"message":"You have exceeded a secondary rate limit."}"#;
        assert!(matches!(
            judge(403, &HeaderMap::new(), body, 1, &opts(), 0),
            Verdict::Retry { .. }
        ));
    }

    #[test]
    fn server_errors_are_retried_with_growing_bounded_backoff() {
        let o = opts();
        for attempt in 1..=8 {
            let full = (o.backoff_base * (1 << (attempt - 1))).min(o.backoff_max);
            let b = backoff(attempt, &o);
            assert!(
                b >= full / 2 && b <= full,
                "attempt {attempt}: {b:?} vs {full:?}"
            );
        }
        assert!(matches!(
            judge(502, &HeaderMap::new(), "", 1, &o, 0),
            Verdict::Retry {
                exhausted: ErrorKind::Server { status: 502 },
                ..
            }
        ));
    }

    #[test]
    fn encodes_segments_and_queries() {
        assert_eq!(encode_path("hotfix/1.2 x", true), "hotfix/1.2%20x");
        assert_eq!(encode_path("a/b", false), "a%2Fb");
        assert_eq!(encode_path("café~-_.", false), "caf%C3%A9~-_.");
        assert_eq!(
            query(&[("head", "acme:hotfix/x"), ("state", "all")]),
            "head=acme%3Ahotfix%2Fx&state=all"
        );
    }
}
