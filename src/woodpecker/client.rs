//! The typed Woodpecker REST client: one shared reqwest pool, bounded
//! retries, bounded bodies, and errors a user can act on.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use bytes::{Bytes, BytesMut};
use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION, RETRY_AFTER};
use reqwest::{StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use tokio::time::Instant as TokioInstant;

use super::config::{ClientConfig, Token};
use super::counters::{bump, AtomicCounters, Counters};
use super::deadline::{Deadline, RecentFailure};
use super::error::{json_problem, scrub, BodyKind, Error};
use super::model::{
    tree, FeedMark, Repo, WireFeedItem, WirePipeline, WireRepo, WireUser, WireVersion,
};
use super::retry::{parse_retry_after, Backoff};
use super::version::ServerVersion;
use crate::domain::Tree;
use crate::domain::{check_repo_name, Event, Pipeline};

/// Woodpecker's hard maximum (and default) page size.
pub const PER_PAGE: usize = 50;

/// One request for a page of `GET /api/repos/{id}/pipelines`. Filters the
/// server's version does not support are not sent (the caller must filter
/// the rows on its side too).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PageQuery {
    /// 1-based.
    pub page: u32,
    /// Sent as `event=a,b` on 3.0+ when every event is known to the server.
    pub events: Vec<Event>,
    /// Sent as `after=<RFC3339>` (exclusive, on `created`) on 2.5+.
    pub after: Option<i64>,
    /// Sent as `before=<RFC3339>` (exclusive, on `created`) on 2.5+.
    pub before: Option<i64>,
}

/// One page of pipelines, newest first, unfinished ones included.
#[derive(Clone, Debug, Default)]
pub struct PipelinePage {
    pub pipelines: Vec<Pipeline>,
    /// Rows in the response (a page with fewer than [`PER_PAGE`] is the last).
    pub rows: usize,
}

impl PipelinePage {
    pub fn is_last(&self) -> bool {
        self.rows < PER_PAGE
    }
}

/// A cheap-to-clone handle; all clones share one connection pool, one
/// remembered server version and one set of counters. A clone made with
/// [`WoodpeckerClient::with_deadline`] cuts its requests to that deadline.
#[derive(Clone)]
pub struct WoodpeckerClient {
    inner: Arc<Inner>,
    deadline: Deadline,
}

struct Inner {
    http: reqwest::Client,
    /// Scheme, host, port and sub-path, no trailing slash, no credentials.
    base: String,
    host: String,
    token: Option<Token>,
    auth: Option<HeaderValue>,
    timeout: Duration,
    max_retries: u32,
    backoff: Backoff,
    max_body: usize,
    version: OnceLock<ServerVersion>,
    /// Held while `/version` is being read; remembers its last failure.
    version_read: tokio::sync::Mutex<RecentFailure>,
    failure_backoff: Duration,
    counters: Arc<AtomicCounters>,
}

impl std::fmt::Debug for WoodpeckerClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WoodpeckerClient")
            .field("base", &self.inner.base)
            .field("token", &self.inner.token)
            .finish()
    }
}

/// How to report a 404.
#[derive(Clone, Copy)]
enum On404<'a> {
    Endpoint,
    Repo(&'a str),
}

fn validate_base(raw: &str) -> Result<(String, String), Error> {
    let invalid = |reason: &str| Error::InvalidUrl {
        url: redact_userinfo(raw),
        reason: reason.to_string(),
    };
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(invalid("it is empty"));
    }
    let mut url = Url::parse(trimmed).map_err(|e| invalid(&e.to_string()))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(invalid("the scheme must be http or https"));
    }
    let host = match url.host_str() {
        Some(h) if !h.is_empty() => h.to_string(),
        _ => return Err(invalid("it has no host")),
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "it must not contain a user name or password; put the token in the token field",
        ));
    }
    url.set_query(None);
    url.set_fragment(None);
    let host_port = match url.port_or_known_default() {
        Some(p) => format!("{host}:{p}"),
        None => host,
    };
    let base = url.as_str().trim_end_matches('/').to_string();
    Ok((base, host_port))
}

/// For error messages about an invalid URL: never echo credentials. The
/// whole user-info part goes (a password may itself hold `@`), and so does
/// every query value (`?access_token=…`).
fn redact_userinfo(raw: &str) -> String {
    let (scheme, rest) = match raw.find("://") {
        Some(s) => (&raw[..s + 3], &raw[s + 3..]),
        None => ("", raw),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rfind('@') {
        Some(at) => format!("[redacted]@{}", &authority[at + 1..]),
        None => authority.to_string(),
    };
    let tail = match tail.split_once('?') {
        None => tail.to_string(),
        Some((path, query)) => {
            let (query, fragment) = query.split_once('#').unwrap_or((query, ""));
            let pairs: Vec<String> = query
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, _)) => format!("{k}=[redacted]"),
                    None => kv.to_string(),
                })
                .collect();
            let fragment = if fragment.is_empty() {
                ""
            } else {
                "#[redacted]"
            };
            format!("{path}?{}{fragment}", pairs.join("&"))
        }
    };
    format!("{scheme}{authority}{tail}")
}

/// Percent-encodes one path segment.
fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn rfc3339(unix: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp(unix, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        let msg = err.to_string();
        if !msg.is_empty() && !parts.iter().any(|p| p.contains(&msg)) {
            parts.push(msg);
        }
        cur = err.source();
    }
    parts.join(": ")
}

/// Idle connections kept per Woodpecker host, across all data sources.
const MAX_IDLE_PER_HOST: usize = 16;

/// One connection pool per set of transport options, shared by every client
/// in the process. A token travels in each request's header, never with a
/// connection, so sharing is safe, and hundreds of data sources cost the
/// sockets of one bounded pool instead of a pool each (which exhausted the
/// open-file limit). Timeouts are set per request.
fn shared_http(cfg: &ClientConfig) -> Result<reqwest::Client, reqwest::Error> {
    type Options = (Duration, bool, String);
    static POOLS: OnceLock<Mutex<HashMap<Options, reqwest::Client>>> = OnceLock::new();
    let connect_timeout = cfg.connect_timeout.min(cfg.timeout);
    let key = (connect_timeout, cfg.tls_skip_verify, cfg.user_agent.clone());
    let mut pools = POOLS
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if let Some(http) = pools.get(&key) {
        return Ok(http.clone());
    }
    let http = reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .user_agent(cfg.user_agent.clone())
        .pool_idle_timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(MAX_IDLE_PER_HOST)
        .danger_accept_invalid_certs(cfg.tls_skip_verify)
        // Redirects could leak the Authorization header to another host
        // and usually mean a login page: treat them as not-Woodpecker.
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    pools.insert(key, http.clone());
    Ok(http)
}

enum Attempt {
    Done(Bytes),
    Retry { err: Error, floor: Option<Duration> },
    Fail(Error),
}

impl WoodpeckerClient {
    pub fn new(cfg: ClientConfig) -> Result<Self, Error> {
        let (base, host) = validate_base(&cfg.base_url)?;
        let token = cfg.token.clone().filter(|t| !t.is_empty());
        let auth = match &token {
            Some(t) => {
                let mut v = HeaderValue::from_str(&format!("Bearer {}", t.expose()))
                    .map_err(|_| Error::InvalidToken)?;
                v.set_sensitive(true);
                Some(v)
            }
            None => None,
        };
        let http = shared_http(&cfg).map_err(|e| Error::InvalidUrl {
            url: base.clone(),
            reason: format!("could not set up the HTTP client: {e}"),
        })?;
        Ok(WoodpeckerClient {
            inner: Arc::new(Inner {
                http,
                base,
                host,
                token,
                auth,
                timeout: cfg.timeout,
                max_retries: cfg.max_retries,
                backoff: Backoff {
                    base: cfg.retry_base,
                    max_wait: cfg.retry_max_wait,
                },
                max_body: cfg.max_body_bytes,
                version: OnceLock::new(),
                version_read: tokio::sync::Mutex::new(RecentFailure::default()),
                failure_backoff: cfg.failure_backoff,
                counters: Arc::new(AtomicCounters::default()),
            }),
            deadline: Deadline::NONE,
        })
    }

    /// The same client, with every request cut to `deadline`.
    pub(crate) fn with_deadline(&self, deadline: Deadline) -> WoodpeckerClient {
        WoodpeckerClient {
            inner: self.inner.clone(),
            deadline,
        }
    }

    /// How long a failure of shared work is reused before it is tried again.
    pub(crate) fn failure_backoff(&self) -> Duration {
        self.inner.failure_backoff
    }

    pub fn counters(&self) -> Counters {
        self.inner.counters.snapshot()
    }

    pub(crate) fn atomic_counters(&self) -> &Arc<AtomicCounters> {
        &self.inner.counters
    }

    /// Web link to a pipeline: `{base}/repos/{id}/pipeline/{number}`.
    pub fn pipeline_url(&self, repo: &Repo, number: u64) -> String {
        format!("{}/repos/{}/pipeline/{}", self.inner.base, repo.id, number)
    }

    /// `GET /version`, read once per client and remembered. Callers that
    /// wait on a read that fails share its failure, and for the backoff
    /// after it.
    pub async fn version(&self) -> Result<ServerVersion, Error> {
        if let Some(v) = self.inner.version.get() {
            return Ok(v.clone());
        }
        let arrived = TokioInstant::now();
        let mut last = match self.deadline.run(self.inner.version_read.lock()).await {
            Some(guard) => guard,
            None => return Err(self.deadline.exceeded("GET /version")),
        };
        if let Some(v) = self.inner.version.get() {
            return Ok(v.clone());
        }
        if let Some(e) = last.shared(arrived, self.inner.failure_backoff) {
            return Err(e);
        }
        let result = self
            .get_json::<WireVersion>("/version", &[], On404::Endpoint)
            .await
            .map(|v| ServerVersion::parse(&v.version));
        last.record(&result);
        let v = result?;
        tracing::debug!(version = %v, "woodpecker server version");
        Ok(self.inner.version.get_or_init(|| v).clone())
    }

    /// `GET /healthz`: Ok when the server says its database is reachable.
    pub async fn health(&self) -> Result<(), Error> {
        self.get_bytes("/healthz", &[], On404::Endpoint)
            .await
            .map(|_| ())
    }

    /// `GET /api/user`: proves the token. Nothing about the user is kept.
    pub async fn current_user(&self) -> Result<(), Error> {
        let _: WireUser = self.get_json("/api/user", &[], On404::Endpoint).await?;
        Ok(())
    }

    /// `GET /api/user/repos`: active repos where the user has push or admin
    /// (pull-only repos are not listed; use [`Self::lookup_repo`] for those).
    pub async fn user_repos(&self) -> Result<Vec<Repo>, Error> {
        let repos: Vec<WireRepo> = self
            .get_json("/api/user/repos", &[], On404::Endpoint)
            .await?;
        Ok(repos.into_iter().map(Repo::from).collect())
    }

    /// `GET /api/user/feed?latest=true`: each active repo the user can push
    /// to, with its newest pipeline, by repo id. One request for every repo,
    /// on every 2.x and 3.x server.
    pub async fn latest_feed(&self) -> Result<HashMap<i64, FeedMark>, Error> {
        let rows: Vec<WireFeedItem> = self
            .get_json(
                "/api/user/feed",
                &[("latest", "true".to_string())],
                On404::Endpoint,
            )
            .await?;
        Ok(rows.iter().map(|r| (r.repo_id, r.mark())).collect())
    }

    /// `GET /api/repos/lookup/{owner}/{name}` (case-insensitive on the server,
    /// multi-segment names allowed).
    pub async fn lookup_repo(&self, full_name: &str) -> Result<Repo, Error> {
        let name = full_name.trim();
        check_repo_name(name)?;
        let path: Vec<String> = name.split('/').map(encode_segment).collect();
        let rel = format!("/api/repos/lookup/{}", path.join("/"));
        let repo: WireRepo = self.get_json(&rel, &[], On404::Repo(name)).await?;
        Ok(repo.into())
    }

    /// One page of `GET /api/repos/{id}/pipelines`, newest first.
    pub async fn pipelines_page(&self, repo: &Repo, q: &PageQuery) -> Result<PipelinePage, Error> {
        let version = self.version().await?;
        let mut query: Vec<(&str, String)> = vec![
            ("page", q.page.max(1).to_string()),
            ("perPage", PER_PAGE.to_string()),
        ];
        if version.has_time_filters() {
            if let Some(a) = q.after {
                query.push(("after", rfc3339(a)));
            }
            if let Some(b) = q.before {
                query.push(("before", rfc3339(b)));
            }
        }
        if version.has_event_filter()
            && !q.events.is_empty()
            && q.events.iter().all(|e| version.knows_event(*e))
        {
            let list: Vec<&str> = q.events.iter().map(|e| e.as_str()).collect();
            query.push(("event", list.join(",")));
        }
        let rel = format!("/api/repos/{}/pipelines", repo.id);
        let body = self
            .get_json_body(&rel, &query, On404::Repo(&repo.full_name))
            .await?;
        let rows: Vec<WirePipeline> = decode(&body, &rel, &query)?;
        let c = &self.inner.counters;
        bump(&c.pages, 1);
        bump(&c.pipelines_parsed, rows.len() as u64);
        let n = rows.len();
        let pipelines: Vec<Pipeline> = rows
            .into_iter()
            .filter_map(WirePipeline::into_domain)
            .collect();
        // Woodpecker always lists `number DESC`; any other order would make
        // the window logic read the wrong end of the history.
        if let Some(w) = pipelines
            .windows(2)
            .find(|w| w[0].number() <= w[1].number())
        {
            return Err(Error::OutOfOrder {
                repo: repo.full_name.clone(),
                endpoint: endpoint_name(&rel, &query),
                detail: format!("pipeline {} came before {}", w[0].number(), w[1].number()),
            });
        }
        Ok(PipelinePage { pipelines, rows: n })
    }

    /// The workflow tree of one pipeline, from `GET
    /// /api/repos/{id}/pipelines/{number}` (the list does not carry it). A
    /// pipeline object without `workflows` has an empty tree.
    pub async fn workflow_tree(&self, repo: &Repo, number: u64) -> Result<Tree, Error> {
        let rel = format!("/api/repos/{}/pipelines/{number}", repo.id);
        let body = self.get_json_body(&rel, &[], On404::Endpoint).await?;
        let detail: WirePipeline = decode(&body, &rel, &[])?;
        bump(&self.inner.counters.trees, 1);
        Ok(detail.workflows.map(tree).unwrap_or_default())
    }

    async fn get_json<T: DeserializeOwned>(
        &self,
        rel: &str,
        query: &[(&str, String)],
        on404: On404<'_>,
    ) -> Result<T, Error> {
        let body = self.get_json_body(rel, query, on404).await?;
        decode(&body, rel, query)
    }

    /// A body that looks like JSON, for [`decode`] to read into types that
    /// borrow from it.
    async fn get_json_body(
        &self,
        rel: &str,
        query: &[(&str, String)],
        on404: On404<'_>,
    ) -> Result<Bytes, Error> {
        let body = self.get_bytes(rel, query, on404).await?;
        let kind = BodyKind::of(&body);
        if kind != BodyKind::Json {
            return Err(Error::NotWoodpecker {
                endpoint: endpoint_name(rel, query),
                found: kind.describe().to_string(),
            });
        }
        Ok(body)
    }

    async fn get_bytes(
        &self,
        rel: &str,
        query: &[(&str, String)],
        on404: On404<'_>,
    ) -> Result<Bytes, Error> {
        let mut url =
            Url::parse(&format!("{}{}", self.inner.base, rel)).map_err(|e| Error::InvalidUrl {
                url: self.inner.base.clone(),
                reason: e.to_string(),
            })?;
        if !query.is_empty() {
            let mut qp = url.query_pairs_mut();
            for (k, v) in query {
                qp.append_pair(k, v);
            }
        }
        let endpoint = endpoint_name(rel, query);
        let mut retry = 0u32;
        loop {
            // The attempt gets the request timeout or the time left,
            // whichever is shorter; none starts once the deadline passed.
            let timeout = match self.deadline.remaining() {
                Some(left) if left.is_zero() => return Err(self.deadline.exceeded(&endpoint)),
                Some(left) => left.min(self.inner.timeout),
                None => self.inner.timeout,
            };
            let outcome = self
                .attempt(&url, &endpoint, on404, retry + 1, timeout)
                .await;
            match outcome {
                Attempt::Done(b) => return Ok(b),
                Attempt::Fail(Error::Timeout { .. }) if timeout < self.inner.timeout => {
                    return Err(self.deadline.exceeded(&endpoint))
                }
                Attempt::Fail(e) => return Err(e),
                Attempt::Retry { err, floor } => {
                    if retry >= self.inner.max_retries {
                        return Err(err);
                    }
                    retry += 1;
                    let wait = self.inner.backoff.delay(retry, floor);
                    if self.deadline.remaining().is_some_and(|left| left <= wait) {
                        // Waiting would only reach the deadline.
                        return Err(err);
                    }
                    tracing::warn!(
                        endpoint = %endpoint,
                        retry,
                        wait_ms = wait.as_millis() as u64,
                        error = %err,
                        "retrying woodpecker request"
                    );
                    bump(&self.inner.counters.retries, 1);
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    async fn attempt(
        &self,
        url: &Url,
        endpoint: &str,
        on404: On404<'_>,
        attempt: u32,
        timeout: Duration,
    ) -> Attempt {
        let inner = &*self.inner;
        bump(&inner.counters.requests, 1);
        let started = Instant::now();
        let mut req = inner
            .http
            .get(url.clone())
            .timeout(timeout)
            .header(ACCEPT, "application/json");
        if let Some(auth) = &inner.auth {
            req = req.header(AUTHORIZATION, auth.clone());
        }
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => return self.transport_error(e, endpoint),
        };
        let status = resp.status();
        tracing::debug!(
            endpoint,
            status = status.as_u16(),
            attempt,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "woodpecker response"
        );
        if status.is_success() {
            return match self.read_body(resp, endpoint, inner.max_body).await {
                Ok(b) => Attempt::Done(b),
                Err(e @ Error::Interrupted { .. }) => Attempt::Retry {
                    err: e,
                    floor: None,
                },
                Err(e) => Attempt::Fail(e),
            };
        }
        let endpoint = endpoint.to_string();
        match status {
            StatusCode::UNAUTHORIZED => Attempt::Fail(Error::Unauthorized {
                endpoint,
                token_configured: inner.token.is_some(),
            }),
            StatusCode::FORBIDDEN => Attempt::Fail(Error::Forbidden { endpoint }),
            StatusCode::NOT_FOUND => Attempt::Fail(match on404 {
                On404::Repo(r) => Error::RepoNotFound {
                    repo: r.to_string(),
                },
                On404::Endpoint => Error::NotFound { endpoint },
            }),
            StatusCode::TOO_MANY_REQUESTS => {
                let floor = resp
                    .headers()
                    .get(RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| parse_retry_after(v, SystemTime::now()));
                Attempt::Retry {
                    err: Error::RateLimited {
                        endpoint,
                        attempts: attempt,
                    },
                    floor,
                }
            }
            s if s.is_server_error() => Attempt::Retry {
                err: Error::Server {
                    status: s.as_u16(),
                    endpoint,
                    attempts: attempt,
                },
                floor: None,
            },
            s if s.is_redirection() => {
                // The host only: a redirect's path and query can carry
                // session ids or a user's name.
                let host = resp
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|to| url.join(to).ok())
                    .and_then(|to| to.host_str().map(str::to_string));
                Attempt::Fail(Error::NotWoodpecker {
                    found: match host {
                        Some(h) => format!("an HTTP {} redirect to {h}", s.as_u16()),
                        None => format!("an HTTP {} redirect", s.as_u16()),
                    },
                    endpoint,
                })
            }
            s => {
                let body = self
                    .read_body(resp, &endpoint, 4096)
                    .await
                    .unwrap_or_default();
                Attempt::Fail(Error::Rejected {
                    status: s.as_u16(),
                    endpoint,
                    found: BodyKind::of(&body).describe(),
                })
            }
        }
    }

    fn transport_error(&self, e: reqwest::Error, endpoint: &str) -> Attempt {
        let secret = self.inner.token.as_ref().map(|t| t.expose());
        let e = e.without_url();
        let detail = scrub(&error_chain(&e), secret);
        if e.is_timeout() {
            return Attempt::Fail(Error::Timeout {
                endpoint: endpoint.to_string(),
                after: self.inner.timeout,
            });
        }
        let lower = detail.to_ascii_lowercase();
        // rustls errors are not reachable as types here; recognise them by text.
        const TLS_HINTS: [&str; 6] = [
            "certificate",
            "tls",
            "ssl",
            "handshake",
            "corrupt message",
            "alert",
        ];
        if TLS_HINTS.iter().any(|h| lower.contains(h)) {
            return Attempt::Fail(Error::Tls {
                host: self.inner.host.clone(),
                detail,
            });
        }
        if e.is_connect() {
            return Attempt::Retry {
                err: Error::Unreachable {
                    host: self.inner.host.clone(),
                    detail,
                },
                floor: None,
            };
        }
        Attempt::Retry {
            err: Error::Interrupted {
                endpoint: endpoint.to_string(),
                detail,
            },
            floor: None,
        }
    }

    /// Reads at most `limit` bytes; a longer body is an error, not a
    /// memory spike.
    async fn read_body(
        &self,
        mut resp: reqwest::Response,
        endpoint: &str,
        limit: usize,
    ) -> Result<Bytes, Error> {
        if resp.content_length().is_some_and(|n| n as usize > limit) {
            return Err(Error::TooLarge {
                endpoint: endpoint.to_string(),
                limit,
            });
        }
        let mut buf = BytesMut::with_capacity(
            resp.content_length()
                .map(|n| n as usize)
                .unwrap_or(16 * 1024)
                .min(limit),
        );
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    if buf.len() + chunk.len() > limit {
                        return Err(Error::TooLarge {
                            endpoint: endpoint.to_string(),
                            limit,
                        });
                    }
                    buf.extend_from_slice(&chunk);
                }
                Ok(None) => return Ok(buf.freeze()),
                Err(e) => {
                    if e.is_timeout() {
                        return Err(Error::Timeout {
                            endpoint: endpoint.to_string(),
                            after: self.inner.timeout,
                        });
                    }
                    let secret = self.inner.token.as_ref().map(|t| t.expose());
                    return Err(Error::Interrupted {
                        endpoint: endpoint.to_string(),
                        detail: scrub(&error_chain(&e.without_url()), secret),
                    });
                }
            }
        }
    }
}

/// Reads a JSON body into `T`, which may borrow from it.
fn decode<'b, T: Deserialize<'b>>(
    body: &'b [u8],
    rel: &str,
    query: &[(&str, String)],
) -> Result<T, Error> {
    serde_json::from_slice(body).map_err(|e| Error::Malformed {
        endpoint: endpoint_name(rel, query),
        detail: json_problem(&e),
    })
}

fn endpoint_name(rel: &str, query: &[(&str, String)]) -> String {
    if query.is_empty() {
        format!("GET {rel}")
    } else {
        let q: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("GET {rel}?{}", q.join("&"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_validation() {
        let ok = |u: &str| validate_base(u).unwrap().0;
        assert_eq!(ok("https://ci.example.com/"), "https://ci.example.com");
        assert_eq!(ok("http://h:8000/woodpecker/"), "http://h:8000/woodpecker");
        assert_eq!(ok(" https://h/ci?x=1#y "), "https://h/ci");
        for bad in ["", "ftp://h", "not a url", "https://u:secret@h/"] {
            let e = validate_base(bad).unwrap_err();
            assert!(matches!(e, Error::InvalidUrl { .. }), "{bad}");
            assert!(!e.to_string().contains("secret"));
        }
    }

    #[test]
    fn redaction_removes_all_user_info_and_query_values() {
        assert_eq!(
            redact_userinfo("http://user:p@ss@host:8000/ci?token=s3cret&x#frag"),
            "http://[redacted]@host:8000/ci?token=[redacted]&x#[redacted]"
        );
        assert_eq!(redact_userinfo("https://h/a@b"), "https://h/a@b");
        let e = validate_base("http://user:p@ss@host/")
            .unwrap_err()
            .to_string();
        assert!(
            !e.contains("p@ss") && !e.contains("ss@") && !e.contains("user:"),
            "{e}"
        );
    }

    #[test]
    fn segments_are_encoded() {
        assert_eq!(encode_segment("a b%"), "a%20b%25");
        assert_eq!(encode_segment("my-repo_1.x"), "my-repo_1.x");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    }
}
