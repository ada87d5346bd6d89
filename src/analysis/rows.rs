//! The rows of the `incidents` and `deploys` tables, with their links to
//! Woodpecker resolved once, here, so every output only renders them.

use super::fetch::Analysis;
use crate::domain::{IncidentState, TimeRange};
use crate::source::PipelineSource;

/// How a failed deploy ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IncidentStatus {
    Resolved,
    Open,
    /// A later failure of a chain whose first failure is the incident.
    Superseded,
}

impl IncidentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentStatus::Resolved => "resolved",
            IncidentStatus::Open => "open",
            IncidentStatus::Superseded => "superseded",
        }
    }
}

/// One failed deploy as tables show it.
#[derive(Clone, Debug, PartialEq)]
pub struct IncidentRow {
    pub repo: String,
    pub environment: String,
    pub status: IncidentStatus,
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

/// One finished deploy pipeline as tables show it.
#[derive(Clone, Debug, PartialEq)]
pub struct DeployLine {
    pub repo: String,
    pub environment: String,
    pub finished_at: i64,
    /// Woodpecker's status, including those the metrics ignore.
    pub status: &'static str,
    pub pipeline: u64,
    pub event: &'static str,
    pub branch: String,
    /// The pipeline in Woodpecker's UI; empty without one.
    pub url: String,
}

/// One change (lead time) as tables show it.
#[derive(Clone, Debug, PartialEq)]
pub struct ChangeLine {
    pub repo: String,
    pub environment: String,
    pub branch: String,
    pub pipeline: u64,
    /// The change's pipeline in Woodpecker's UI; empty without one.
    pub url: String,
    pub created: i64,
    /// Unset while the change waits.
    pub delivered_at: Option<i64>,
    pub delivered_by: Option<u64>,
    pub lead_time_secs: Option<i64>,
}

/// Link to `number` of `repo`, or empty when the source has no UI.
fn link(a: &Analysis, source: &dyn PipelineSource, repo: &str, number: u64) -> String {
    a.repos
        .iter()
        .find(|r| r.full_name == repo)
        .and_then(|r| source.pipeline_url(r, number))
        .unwrap_or_default()
}

/// Failed deploys in the range, newest first; superseded ones only if
/// asked for.
pub(super) fn incident_rows(
    a: &Analysis,
    source: &dyn PipelineSource,
    range: TimeRange,
    include_superseded: bool,
) -> Vec<IncidentRow> {
    let mut rows: Vec<IncidentRow> = a
        .incidents
        .iter()
        .filter(|i| range.contains(i.failed_at))
        .filter(|i| include_superseded || i.is_anchor())
        .map(|i| {
            let repo = a.deploys.repo(i.group);
            let (status, recovered_at, recovery_secs, recovered_by, superseded_by) = match i.state {
                IncidentState::Resolved {
                    recovered_at,
                    recovered_by,
                    recovery_secs,
                    ..
                } => (
                    IncidentStatus::Resolved,
                    Some(recovered_at),
                    Some(recovery_secs),
                    Some(recovered_by),
                    None,
                ),
                IncidentState::Open { .. } => (IncidentStatus::Open, None, None, None, None),
                IncidentState::Superseded { by } => {
                    (IncidentStatus::Superseded, None, None, None, Some(by))
                }
            };
            IncidentRow {
                repo: repo.to_string(),
                environment: a.deploys.environment(i.group).to_string(),
                status,
                failed_at: i.failed_at,
                recovered_at,
                recovery_secs,
                flaky: i.flaky(),
                chain_failures: i.chain_failures(),
                pipeline: i.number,
                recovered_by,
                superseded_by,
                url: link(a, source, repo, i.number),
            }
        })
        .collect();
    rows.sort_by(|x, y| {
        (y.failed_at, &y.repo, y.pipeline).cmp(&(x.failed_at, &x.repo, x.pipeline))
    });
    rows
}

/// The deploys that finished in the range, newest first.
pub(super) fn deploy_lines(
    a: &Analysis,
    source: &dyn PipelineSource,
    range: TimeRange,
) -> Vec<DeployLine> {
    let mut rows: Vec<_> = a
        .deploys
        .iter()
        .filter(|d| range.contains(d.finished))
        .collect();
    rows.sort_by(|x, y| (y.finished, y.repo, y.number).cmp(&(x.finished, x.repo, x.number)));
    rows.into_iter()
        .map(|d| DeployLine {
            repo: d.repo.to_string(),
            environment: d.environment.to_string(),
            finished_at: d.finished,
            status: d.status.as_str(),
            pipeline: d.number,
            event: d.event.as_str(),
            branch: d.branch.to_string(),
            url: link(a, source, d.repo, d.number),
        })
        .collect()
}

/// Changes delivered in the range and those still waiting at its end,
/// newest first.
pub(super) fn change_lines(
    a: &Analysis,
    source: &dyn PipelineSource,
    range: TimeRange,
) -> Vec<ChangeLine> {
    let mut rows: Vec<_> = a.changes.rows_in(&a.deploys, range).collect();
    rows.sort_by(|x, y| {
        (y.created, y.repo, y.number, y.environment).cmp(&(
            x.created,
            x.repo,
            x.number,
            x.environment,
        ))
    });
    rows.into_iter()
        .map(|c| ChangeLine {
            repo: c.repo.to_string(),
            environment: c.environment.to_string(),
            branch: c.branch.to_string(),
            pipeline: c.number,
            url: link(a, source, c.repo, c.number),
            created: c.created,
            delivered_at: c.delivered_at,
            delivered_by: c.delivered_by,
            lead_time_secs: c.lead_secs,
        })
        .collect()
}
