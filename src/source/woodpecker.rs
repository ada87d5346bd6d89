//! A real Woodpecker server as a pipeline source: the client's cache plus
//! the health check.

use std::time::Duration;

use tonic::async_trait;

use super::{
    HealthReport, History, HistoryRequest, PipelineSource, Repo, SourceError, SourceErrorKind,
    SourceStats,
};
use crate::woodpecker::{
    CacheConfig, ClientConfig, Error, ErrorKind, HistoryNeed, PipelineCache, Token,
    WoodpeckerClient,
};

pub struct WoodpeckerSource {
    cache: PipelineCache,
}

/// How to reach one Woodpecker server.
pub struct Connection {
    pub url: String,
    pub token: Option<Token>,
    pub timeout: Duration,
    pub concurrency: usize,
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
            ..ClientConfig::new(c.url, c.token)
        })
        .map_err(to_source_error)?;
        let cache = PipelineCache::new(
            client,
            CacheConfig {
                concurrency: c.concurrency,
                ..CacheConfig::default()
            },
        );
        Ok(WoodpeckerSource { cache })
    }

    pub fn cache(&self) -> &PipelineCache {
        &self.cache
    }
}

fn to_source_error(e: Error) -> SourceError {
    let kind = match e.kind() {
        ErrorKind::Config => SourceErrorKind::BadConfig,
        ErrorKind::Auth => SourceErrorKind::Unauthorized,
        ErrorKind::NotFound => SourceErrorKind::NotFound,
        ErrorKind::Network if matches!(e, Error::Timeout { .. }) => SourceErrorKind::Timeout,
        ErrorKind::Network => SourceErrorKind::Unavailable,
        ErrorKind::Server | ErrorKind::BadResponse => SourceErrorKind::Upstream,
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

    async fn repos(&self) -> Result<Vec<Repo>, SourceError> {
        self.cache.repos().await.map_err(to_source_error)
    }

    async fn histories(
        &self,
        repos: &[String],
        request: &HistoryRequest<'_>,
    ) -> Vec<(String, Result<History, SourceError>)> {
        let need = HistoryNeed {
            since: request.since,
            events: request.events,
            covered: request.covered,
        };
        self.cache
            .histories(repos, &need)
            .await
            .into_iter()
            .map(|(name, result)| {
                let result = result
                    .map(|h| History {
                        repo: h.repo,
                        pipelines: h.pipelines,
                        capped: h.capped,
                        fetched_at: h.fetched_at,
                        stale_reason: h.stale.map(|e| e.to_string()),
                    })
                    .map_err(to_source_error);
                (name, result)
            })
            .collect()
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
