//! Where pipelines come from: a Woodpecker server (through the client's
//! cache) or the built-in demo history. The plugin and the CLI only see
//! this interface.

pub(crate) mod demo;
pub mod fixed;
mod json_lines;
pub use json_lines::KeepTree;
pub mod woodpecker;

use crate::woodpecker::Counters;
pub use crate::woodpecker::{Deadline, Repo};

use std::fmt;
use std::sync::Arc;

use tonic::async_trait;

use crate::domain::{Event, Pipeline, Trees};

/// One repo's finished pipelines, far enough back for the request.
#[derive(Clone, Debug)]
pub struct History {
    pub repo: Repo,
    pub pipelines: Arc<Vec<Pipeline>>,
    /// The workflow trees held for these pipelines, by number.
    pub trees: Arc<Trees>,
    /// The look-back cap stopped the fetch before the chain's start.
    pub capped: bool,
    /// Reading stopped at the most pipelines one repo may hold.
    pub truncated: bool,
    /// The repo's first pipeline is included: nothing older exists.
    pub complete: bool,
    /// Unix seconds of the last successful refresh.
    pub fetched_at: i64,
    /// Set when a refresh failed, ran out of time or stopped early, and
    /// the data held is served instead.
    pub stale: Option<SourceError>,
    /// Why some pipelines that need their workflow tree lack it (the
    /// request failed or ran out of time); a later query asks again.
    pub tree_error: Option<SourceError>,
}

/// The histories of a query's repos, in the order asked.
#[derive(Clone, Debug, Default)]
pub struct Histories {
    pub repos: Vec<(String, Result<History, SourceError>)>,
    /// The source holds more pipelines than its bound because the repos in
    /// use need them: `(held, bound)`.
    pub over_bound: Option<(usize, usize)>,
    /// Why the shared store (Redis) did not answer: this replica read
    /// without it.
    pub shared_trouble: Option<String>,
}

/// What history a query needs from each repo.
pub struct HistoryRequest<'a> {
    /// Query start (Unix seconds): history must reach back before it...
    pub since: i64,
    /// ...until this says the chains crossing `since` are complete.
    pub covered: &'a (dyn Fn(&[Pipeline], &Trees) -> bool + Send + Sync),
    /// Deploy events, which a server may filter on for us.
    pub events: &'a [Event],
    /// Which pipelines need their workflow tree (deploy steps judge them);
    /// `None`: none does, and no tree is read.
    pub needs_tree: Option<&'a (dyn Fn(&Pipeline) -> bool + Send + Sync)>,
    /// When the answer is due.
    pub deadline: Deadline,
}

/// A failure to read from the source, already phrased for a user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceError {
    pub kind: SourceErrorKind,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceErrorKind {
    BadConfig,
    Unauthorized,
    NotFound,
    Unavailable,
    Timeout,
    /// The query's overall time limit ran out.
    Deadline,
    Upstream,
    /// The server stopped giving more history (it does not page).
    Incomplete,
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SourceError {}

/// The health check's verdict, one line a user can act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HealthReport {
    pub ok: bool,
    pub message: String,
    pub warnings: Vec<String>,
}

#[async_trait]
pub trait PipelineSource: Send + Sync {
    async fn check_health(&self) -> HealthReport;
    async fn repos(&self, deadline: Deadline) -> Result<Vec<Repo>, SourceError>;
    /// Histories of the named repos, fetched concurrently; one failing repo
    /// does not fail the others.
    async fn histories(&self, repos: &[String], request: &HistoryRequest<'_>) -> Histories;
    /// Link to a pipeline in the Woodpecker UI, when there is one.
    fn pipeline_url(&self, repo: &Repo, number: u64) -> Option<String>;

    /// What fetching has cost so far, for sources that fetch.
    fn stats(&self) -> Option<SourceStats> {
        None
    }
}

/// A fetching source's counters, for logs and Grafana's plugin metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SourceStats {
    pub counters: Counters,
    pub held_pipelines: usize,
}

/// Where a plugin instance or a CLI run reads pipelines from.
pub enum Origin {
    /// The built-in demo history, as of `now`.
    Demo,
    /// A live Woodpecker server.
    Server(woodpecker::Connection),
}

/// Opens the source `origin` names; `now` pins the demo history.
pub fn open(origin: Origin, now: i64) -> Result<Arc<dyn PipelineSource>, SourceError> {
    Ok(match origin {
        Origin::Demo => Arc::new(fixed::FixedSource::demo(now)),
        Origin::Server(c) => Arc::new(woodpecker::WoodpeckerSource::connect(c)?),
    })
}

/// The repos a query means by "all": every repo the source lists, by name,
/// sorted case-insensitively.
pub(crate) async fn all_repo_names(
    source: &dyn PipelineSource,
    deadline: Deadline,
) -> Result<Vec<String>, SourceError> {
    let mut names: Vec<String> = source
        .repos(deadline)
        .await?
        .into_iter()
        .map(|r| r.full_name)
        .collect();
    names.sort_unstable_by_key(|n| n.to_lowercase());
    Ok(names)
}
