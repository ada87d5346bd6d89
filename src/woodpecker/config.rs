//! Settings for the client and the cache, and the token wrapper.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::store::{DiskStore, Namespace, SharedStore};

/// A secret: the Woodpecker personal access token (or the shared store's
/// password). `Debug` and `Display` print `[redacted]`; the only way to
/// read it is [`Token::expose`], which the client calls once per request to
/// build a sensitive header.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    pub fn new(token: impl Into<String>) -> Self {
        Token(token.into().trim().to_string())
    }

    /// The raw token. Only for building the `Authorization` header.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Token {
    fn from(s: String) -> Self {
        Token::new(s)
    }
}

impl From<&str> for Token {
    fn from(s: &str) -> Self {
        Token::new(s)
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// How the client talks to one Woodpecker server.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// Server root, with or without a sub-path; a trailing slash is fine.
    pub base_url: String,
    pub token: Option<Token>,
    /// Whole-request timeout (connect + headers + body), per attempt.
    pub timeout: Duration,
    /// Connect timeout, per attempt (capped at `timeout`).
    pub connect_timeout: Duration,
    /// Extra attempts after the first for connect errors, 429 and 5xx.
    pub max_retries: u32,
    /// First backoff step; doubles each retry, with full jitter.
    pub retry_base: Duration,
    /// Upper bound for one backoff sleep, including a server's `Retry-After`.
    pub retry_max_wait: Duration,
    /// Largest response body read, in bytes.
    pub max_body_bytes: usize,
    /// Accept invalid TLS certificates (self-signed servers). Off by default.
    pub tls_skip_verify: bool,
    pub user_agent: String,
    /// How long a failed refresh, repo list or version read is shared with
    /// the callers that come next, before Woodpecker is asked again.
    pub failure_backoff: Duration,
}

impl ClientConfig {
    pub fn new(base_url: impl Into<String>, token: Option<Token>) -> Self {
        ClientConfig {
            base_url: base_url.into(),
            token,
            ..ClientConfig::default()
        }
    }
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            base_url: String::new(),
            token: None,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_retries: 3,
            retry_base: Duration::from_millis(200),
            retry_max_wait: Duration::from_secs(10),
            max_body_bytes: 32 * 1024 * 1024,
            tls_skip_verify: false,
            user_agent: concat!("woodpecker-dora/", env!("CARGO_PKG_VERSION")).to_string(),
            failure_backoff: Duration::from_secs(10),
        }
    }
}

/// How the per-data-source pipeline cache behaves.
#[derive(Clone, Debug)]
pub struct CacheConfig {
    /// Pipelines held across all repos before least recently used repos are
    /// evicted. Repos that queries being answered still need are kept, so
    /// the bound is soft while one query needs more than it.
    pub max_pipelines: usize,
    /// Server rows read for one repo (any event) before paging stops; a
    /// guard against servers whose pages never end.
    pub max_rows_per_repo: usize,
    /// Repos fetched at once by [`super::PipelineCache::histories`], and
    /// requests in flight across the whole cache.
    pub concurrency: usize,
    /// Pages of one repo read at once when it is read back cold (at most;
    /// only while `concurrency` leaves requests free, see
    /// `paging::ReadAhead`). 1 reads one page at a time.
    pub read_ahead: usize,
    /// How far before `since` the cache may page while looking for the
    /// previous success (90 days).
    pub max_lookback_secs: i64,
    /// A repo refreshed less than this long ago is served without a request.
    /// Zero (the default) refreshes on every query; concurrent queries still
    /// share one refresh.
    pub fresh_for: Duration,
    /// How long the `/api/user/repos` list is reused.
    pub repos_ttl: Duration,
    /// Unfinished pipelines older than this (by `created`) are no longer
    /// re-checked on refresh, so one pipeline left `blocked` for weeks does
    /// not make every refresh page down to it.
    pub pending_recheck_secs: i64,
    /// Margin subtracted from `created` when a refresh asks a 2.5+ server
    /// for `after=`, to tolerate clock skew between pipeline creations.
    pub after_margin_secs: i64,
    /// Read `/api/user/feed?latest=true` (one request for every repo the
    /// token can push to) and skip the refresh of repos whose newest
    /// pipeline did not change.
    pub use_feed: bool,
    /// Where finished pipelines are kept across restarts; `None`: memory
    /// only.
    pub store: Option<StoreSlot>,
    /// Where replicas of this data source share what they read; `None`:
    /// each reads on its own.
    pub shared: Option<SharedSlot>,
}

/// A data source's part of the on-disk store.
#[derive(Clone, Debug)]
pub struct StoreSlot {
    pub store: Arc<DiskStore>,
    pub namespace: Namespace,
}

/// A data source's part of the shared store (Redis).
#[derive(Clone, Debug)]
pub struct SharedSlot {
    pub store: Arc<SharedStore>,
    pub namespace: Namespace,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            max_pipelines: 2_000_000,
            max_rows_per_repo: 500_000,
            concurrency: 8,
            read_ahead: 6,
            max_lookback_secs: 90 * 86_400,
            fresh_for: Duration::ZERO,
            repos_ttl: Duration::from_secs(60),
            pending_recheck_secs: 7 * 86_400,
            after_margin_secs: 300,
            use_feed: true,
            store: None,
            shared: None,
        }
    }
}
