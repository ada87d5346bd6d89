//! The one-way flow the plugin and the CLI share: fetch histories from a
//! source, then deploys → incidents, collecting what a user should be told
//! on the way (repos that could not be read, caps, stale data).

use crate::domain::{
    self, DeployFilter, Deploys, IncidentState, Incidents, Pipeline, RecoverySettings, TimeRange,
};
use crate::source::{
    all_repo_names, Deadline, HistoryRequest, PipelineSource, Repo, SourceError, SourceErrorKind,
};

/// What to analyse.
#[derive(Clone, Debug)]
pub struct Scope {
    /// Repo full names; empty means every repo the source lists.
    pub repos: Vec<String>,
    pub filter: DeployFilter,
    pub settings: RecoverySettings,
    pub range: TimeRange,
    /// How far back results reach (before `range.from` for rolling series).
    pub reach_from: i64,
    pub now: i64,
    /// When the answer is due; repos not refreshed by then are answered
    /// from what is held.
    pub deadline: Deadline,
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

/// One failed deploy as tables show it (the plugin's frame, the CLI).
#[derive(Clone, Debug, PartialEq)]
pub struct IncidentRow {
    pub repo: String,
    pub environment: String,
    /// `resolved`, `open` or `superseded`.
    pub status: &'static str,
    pub failed_at: i64,
    pub recovered_at: Option<i64>,
    pub recovery_secs: Option<i64>,
    pub flaky: bool,
    /// Failures in the chain; `None` for superseded rows.
    pub chain_failures: Option<u32>,
    pub pipeline: u64,
    pub recovered_by: Option<u64>,
    pub superseded_by: Option<u64>,
    /// The failed pipeline in Woodpecker's UI; empty without one.
    pub url: String,
}

impl Analysis {
    pub fn repo(&self, full_name: &str) -> Option<&Repo> {
        self.repos.iter().find(|r| r.full_name == full_name)
    }

    /// Failed deploys in the range, newest first; superseded ones only if
    /// asked for.
    pub fn incident_rows(
        &self,
        range: TimeRange,
        include_superseded: bool,
        source: &dyn PipelineSource,
    ) -> Vec<IncidentRow> {
        let mut rows: Vec<IncidentRow> = self
            .incidents
            .iter()
            .filter(|i| range.contains(i.failed_at))
            .filter(|i| include_superseded || i.is_anchor())
            .map(|i| {
                let repo = self.deploys.repo(i.group);
                let (status, recovered_at, recovery_secs, recovered_by, superseded_by) = match i
                    .state
                {
                    IncidentState::Resolved {
                        recovered_at,
                        recovered_by,
                        recovery_secs,
                        ..
                    } => (
                        "resolved",
                        Some(recovered_at),
                        Some(recovery_secs),
                        Some(recovered_by),
                        None,
                    ),
                    IncidentState::Open { .. } => ("open", None, None, None, None),
                    IncidentState::Superseded { by } => ("superseded", None, None, None, Some(by)),
                };
                IncidentRow {
                    repo: repo.to_string(),
                    environment: self.deploys.environment(i.group).to_string(),
                    status,
                    failed_at: i.failed_at,
                    recovered_at,
                    recovery_secs,
                    flaky: i.flaky(),
                    chain_failures: i.chain_failures(),
                    pipeline: i.number,
                    recovered_by,
                    superseded_by,
                    url: self
                        .repo(repo)
                        .and_then(|r| source.pipeline_url(r, i.number))
                        .unwrap_or_default(),
                }
            })
            .collect();
        rows.sort_by(|x, y| {
            (y.failed_at, &y.repo, y.pipeline).cmp(&(x.failed_at, &x.repo, x.pipeline))
        });
        rows
    }
}

pub async fn analyse(source: &dyn PipelineSource, scope: &Scope) -> Result<Analysis, SourceError> {
    let names: Vec<String> = if scope.repos.is_empty() {
        all_repo_names(source, scope.deadline).await?
    } else {
        scope.repos.clone()
    };
    let covered = |p: &[Pipeline]| {
        domain::lookback_satisfied(p, scope.reach_from, &scope.filter, &scope.settings)
    };
    let request = HistoryRequest {
        since: scope.reach_from,
        covered: &covered,
        events: &scope.filter.events,
        deadline: scope.deadline,
    };
    let mut notices = Vec::new();
    let mut histories = Vec::new();
    let mut first_error = None;
    // Repos the deadline cut short: named in one notice each, not one per repo.
    let (mut late_held, mut late_missing) = (Vec::new(), Vec::new());
    let answer = source.histories(&names, &request).await;
    for (name, result) in answer.repos {
        match result {
            Ok(h) => {
                if h.capped {
                    notices.push(Notice::Info(format!(
                        "{name}: history reached the look-back limit before the start of a failure chain; an incident that began earlier may be missing"
                    )));
                }
                if h.truncated {
                    notices.push(Notice::Warning(format!(
                        "{name}: reading stopped at the most pipelines one repository may hold (maxPipelinesPerRepo); older history is left out"
                    )));
                }
                match &h.stale {
                    None => {}
                    Some(e) if e.kind == SourceErrorKind::Deadline => late_held.push(name),
                    Some(e) if e.kind == SourceErrorKind::Incomplete => {
                        notices.push(Notice::Warning(format!("{name}: {e}")))
                    }
                    Some(e) => {
                        let age = domain::words::duration((scope.now - h.fetched_at).max(0) as f64);
                        notices.push(Notice::Warning(format!(
                            "{name}: showing data fetched {age} ago because the refresh failed: {e}"
                        )));
                    }
                }
                histories.push(h);
            }
            Err(e) => {
                if e.kind == SourceErrorKind::Deadline {
                    late_missing.push(name);
                } else {
                    notices.push(Notice::Warning(format!("{name} could not be read: {e}")));
                }
                first_error.get_or_insert(e);
            }
        }
    }
    let limit = domain::words::duration(scope.deadline.limit().as_secs_f64());
    if !late_held.is_empty() {
        notices.push(Notice::Warning(format!(
            "not refreshed within the query's time limit of {limit}, so showing the data held from before: {}",
            name_list(&late_held)
        )));
    }
    if !late_missing.is_empty() {
        notices.push(Notice::Warning(format!(
            "not read within the query's time limit of {limit}, and nothing is held for them yet, so they are left out: {}",
            name_list(&late_missing)
        )));
    }
    if let Some((held, bound)) = answer.over_bound {
        notices.push(Notice::Info(format!(
            "the cache holds {held} pipelines, above its bound of {bound} (maxCachedPipelines), because the repositories in use need them; raise the bound so that other queries do not evict them"
        )));
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

/// Up to ten names, then how many more.
fn name_list(names: &[String]) -> String {
    const SHOWN: usize = 10;
    let mut text = names[..names.len().min(SHOWN)].join(", ");
    if names.len() > SHOWN {
        text.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    text
}
