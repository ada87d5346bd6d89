//! The one-way flow the plugin and the CLI share: fetch histories from a
//! source, then deploys → incidents, collecting what a user should be told
//! on the way (repos that could not be read, caps, stale data).

use crate::domain::{
    self, DeployFilter, Deploys, Incidents, Pipeline, RecoverySettings, TimeRange,
};
use crate::source::{HistoryRequest, PipelineSource, Repo, SourceError};

/// What to analyse.
#[derive(Clone, Debug)]
pub struct Scope {
    /// Repo full names; empty means every repo the source lists.
    pub repos: Vec<String>,
    pub filter: DeployFilter,
    pub settings: RecoverySettings,
    pub range: TimeRange,
    pub now: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    Info(String),
    Warning(String),
}

pub struct Analysis {
    /// The repos that were read, for links back to Woodpecker.
    pub repos: Vec<Repo>,
    pub deploys: Deploys,
    pub incidents: Incidents,
    pub notices: Vec<Notice>,
}

impl Analysis {
    pub fn repo(&self, full_name: &str) -> Option<&Repo> {
        self.repos.iter().find(|r| r.full_name == full_name)
    }
}

pub async fn analyse(source: &dyn PipelineSource, scope: &Scope) -> Result<Analysis, SourceError> {
    let names: Vec<String> = if scope.repos.is_empty() {
        source
            .repos()
            .await?
            .into_iter()
            .map(|r| r.full_name)
            .collect()
    } else {
        scope.repos.clone()
    };
    let covered = |p: &[Pipeline]| {
        domain::lookback_satisfied(p, scope.range.from, &scope.filter, &scope.settings)
    };
    let request = HistoryRequest {
        since: scope.range.from,
        covered: &covered,
        events: &scope.filter.events,
    };
    let mut notices = Vec::new();
    let mut histories = Vec::new();
    let mut first_error = None;
    for (name, result) in source.histories(&names, &request).await {
        match result {
            Ok(h) => {
                if h.capped {
                    notices.push(Notice::Info(format!(
                        "{name}: history reached the look-back limit before the start of a failure chain; an incident that began earlier may be missing"
                    )));
                }
                if let Some(reason) = &h.stale_reason {
                    let age_min = (scope.now - h.fetched_at).max(0) / 60;
                    notices.push(Notice::Warning(format!(
                        "{name}: showing data from {age_min} minutes ago because the refresh failed: {reason}"
                    )));
                }
                histories.push(h);
            }
            Err(e) => {
                notices.push(Notice::Warning(format!("{name} could not be read: {e}")));
                first_error.get_or_insert(e);
            }
        }
    }
    if histories.is_empty() {
        if let Some(e) = first_error {
            return Err(e);
        }
    }
    let deploys = domain::collect_deploys(
        histories
            .iter()
            .map(|h| (h.repo.full_name.as_str(), &h.pipelines[..])),
        &scope.filter,
        &scope.settings,
    );
    let incidents = domain::pair(&deploys, &scope.settings, scope.now);
    Ok(Analysis {
        repos: histories.into_iter().map(|h| h.repo).collect(),
        deploys,
        incidents,
        notices,
    })
}
