//! A real Woodpecker server as a pipeline source: the client's cache plus
//! the health check.

use std::time::Duration;

use tonic::async_trait;

use super::{
    Deadline, HealthReport, Histories, History, HistoryRequest, PipelineSource, Repo, SourceError,
    SourceErrorKind, SourceStats,
};
use crate::woodpecker::{
    CacheConfig, ClientConfig, Error, HistoryNeed, PipelineCache, SharedSlot, StoreSlot, Token,
    WoodpeckerClient,
};

pub struct WoodpeckerSource {
    cache: PipelineCache,
    memory_only: Option<String>,
    shared: Option<SharedSlot>,
}

/// How to reach one Woodpecker server, and how much of it to hold.
pub struct Connection {
    pub url: String,
    pub token: Option<Token>,
    /// Per request.
    pub timeout: Duration,
    pub concurrency: usize,
    /// How long a failed refresh is shared before Woodpecker is asked again.
    pub failure_backoff: Duration,
    /// Pipelines held across repos (soft while queries need more).
    pub max_pipelines: usize,
    /// Server rows read for one repo before paging stops.
    pub max_rows_per_repo: usize,
    /// Skip refreshes of repos the user feed shows unchanged.
    pub use_feed: bool,
    /// Where finished pipelines outlive the process.
    pub store: Option<StoreSlot>,
    /// Why there is no store, when the plugin wanted one (a health warning).
    pub memory_only: Option<String>,
    /// Where replicas share what they read (Redis).
    pub shared: Option<SharedSlot>,
}

impl Connection {
    /// The client's and cache's defaults for this server.
    pub fn new(url: impl Into<String>, token: Option<Token>) -> Connection {
        let (client, cache) = (ClientConfig::default(), CacheConfig::default());
        Connection {
            url: url.into(),
            token,
            timeout: client.timeout,
            concurrency: cache.concurrency,
            failure_backoff: client.failure_backoff,
            max_pipelines: cache.max_pipelines,
            max_rows_per_repo: cache.max_rows_per_repo,
            use_feed: cache.use_feed,
            store: None,
            memory_only: None,
            shared: None,
        }
    }
}

impl WoodpeckerSource {
    pub fn connect(c: Connection) -> Result<WoodpeckerSource, SourceError> {
        if c.url.trim().is_empty() {
            return Err(SourceError {
                kind: SourceErrorKind::BadConfig,
                message: "no Woodpecker URL is set: enter the server's address (e.g. https://ci.example.com) or switch on the built-in demo data".into(),
            });
        }
        let client = WoodpeckerClient::new(ClientConfig {
            timeout: c.timeout,
            failure_backoff: c.failure_backoff,
            ..ClientConfig::new(c.url, c.token)
        })
        .map_err(to_source_error)?;
        let cache = PipelineCache::new(
            client,
            CacheConfig {
                concurrency: c.concurrency,
                max_pipelines: c.max_pipelines,
                max_rows_per_repo: c.max_rows_per_repo,
                use_feed: c.use_feed,
                store: c.store,
                shared: c.shared.clone(),
                ..CacheConfig::default()
            },
        );
        Ok(WoodpeckerSource {
            cache,
            memory_only: c.memory_only,
            shared: c.shared,
        })
    }

    pub fn cache(&self) -> &PipelineCache {
        &self.cache
    }
}

/// What a user is told when the shared store does not answer: queries, and
/// the health check.
pub(crate) fn shared_trouble_notice(why: &str) -> String {
    format!(
        "the shared store (Redis) is unreachable ({why}); this replica reads Woodpecker on its own"
    )
}

/// The one classification of a Woodpecker error, for every output.
fn to_source_error(e: Error) -> SourceError {
    let kind = match &e {
        Error::InvalidUrl { .. } | Error::InvalidToken | Error::BadRepoName(_) => {
            SourceErrorKind::BadConfig
        }
        Error::Unauthorized { .. } | Error::Forbidden { .. } => SourceErrorKind::Unauthorized,
        Error::RepoNotFound { .. } | Error::NotFound { .. } => SourceErrorKind::NotFound,
        Error::Timeout { .. } => SourceErrorKind::Timeout,
        Error::Deadline { .. } => SourceErrorKind::Deadline,
        Error::Unreachable { .. } | Error::Tls { .. } | Error::Interrupted { .. } => {
            SourceErrorKind::Unavailable
        }
        Error::Paging { .. } => SourceErrorKind::Incomplete,
        _ => SourceErrorKind::Upstream,
    };
    SourceError {
        kind,
        message: e.to_string(),
    }
}

#[async_trait]
impl PipelineSource for WoodpeckerSource {
    async fn check_health(&self) -> HealthReport {
        let client = self.cache.client();
        let failed = |e: Error| HealthReport {
            ok: false,
            message: e.to_string(),
            warnings: Vec::new(),
        };
        let version = match client.version().await {
            Ok(v) => v,
            Err(e) => return failed(e),
        };
        if let Err(e) = client.current_user().await {
            return failed(e);
        }
        let repos = match client.user_repos().await {
            Ok(r) => r,
            Err(e) => return failed(e),
        };
        let mut warnings = Vec::new();
        if !version.has_event_filter() {
            warnings.push(format!(
                "Woodpecker {} cannot filter pipelines on the server, so the first load reads every pipeline; upgrading to 3.x makes it faster.",
                version.raw
            ));
        }
        if let Some(shared) = &self.shared {
            if let Err(why) = shared.store.ping().await {
                warnings.push(shared_trouble_notice(&why));
            }
        }
        if let Some(why) = &self.memory_only {
            warnings.push(format!(
                "pipelines are kept in memory only and read again after a restart: {why}."
            ));
        }
        if repos.is_empty() {
            warnings.push("the token's user has push access to no active repository; name repositories in the query to read ones it can only pull.".into());
        }
        HealthReport {
            ok: true,
            message: format!(
                "Connected to Woodpecker {}: {} {} visible",
                version.raw,
                repos.len(),
                if repos.len() == 1 {
                    "repository"
                } else {
                    "repositories"
                }
            ),
            warnings,
        }
    }

    async fn repos(&self, deadline: Deadline) -> Result<Vec<Repo>, SourceError> {
        self.cache.repos(deadline).await.map_err(to_source_error)
    }

    async fn histories(&self, repos: &[String], request: &HistoryRequest<'_>) -> Histories {
        let need = HistoryNeed {
            since: request.since,
            events: request.events,
            covered: request.covered,
            needs_tree: request.needs_tree,
            deadline: request.deadline,
        };
        let answer = self.cache.histories(repos, &need).await;
        let repos = answer
            .repos
            .into_iter()
            .map(|(name, result)| {
                let result = result
                    .map(|h| History {
                        repo: h.repo,
                        pipelines: h.pipelines,
                        trees: h.trees,
                        capped: h.capped,
                        truncated: h.truncated,
                        complete: h.complete,
                        fetched_at: h.fetched_at,
                        stale: h.stale.map(to_source_error),
                        tree_error: h.tree_error.map(to_source_error),
                    })
                    .map_err(to_source_error);
                (name, result)
            })
            .collect();
        Histories {
            repos,
            over_bound: answer.over_bound,
            shared_trouble: answer.shared_trouble,
        }
    }

    fn pipeline_url(&self, repo: &Repo, number: u64) -> Option<String> {
        Some(self.cache.client().pipeline_url(repo, number))
    }

    fn stats(&self) -> Option<SourceStats> {
        Some(SourceStats {
            counters: self.cache.counters(),
            held_pipelines: self.cache.held_pipelines(),
        })
    }
}
