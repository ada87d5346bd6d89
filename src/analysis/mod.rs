//! The application layer the plugin and the CLI share. They parse what
//! was asked into a [`Scope`] and [`Ask`]s, call [`answer`], and render the
//! [`Answer`]; everything between (how far back to read, fetching, pairing,
//! statistics, table rows with their links, what to tell the user) is here.
//! Data flows one way: fetch → deploys → incidents → stats → rows.

mod columns;
mod fetch;
mod rows;

pub use columns::{
    incident_columns, summary_metrics, Column, Unit, Values, CHANGE_COLUMNS, DEPLOY_COLUMNS,
    INCIDENT_COLUMNS, SUMMARY_COLUMNS,
};
pub use rows::{ChangeLine, DeployLine, IncidentRow, IncidentStatus};

use crate::domain::{
    self, DeployFilter, GroupBy, GroupLabel, RecoverySettings, Series, SeriesSpec, Summary,
    TimeRange,
};
use crate::source::{Deadline, PipelineSource, SourceError};

/// What to analyse.
#[derive(Clone, Debug)]
pub struct Scope {
    /// Repo full names; empty means every repo the source lists.
    pub repos: Vec<String>,
    pub filter: DeployFilter,
    pub settings: RecoverySettings,
    pub range: TimeRange,
    pub now: i64,
    /// When the answer is due; repos not refreshed by then are answered
    /// from what is held.
    pub deadline: Deadline,
}

/// Something to tell the user beside the numbers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    Info(String),
    Warning(String),
}

impl Notice {
    pub fn text(&self) -> &str {
        match self {
            Notice::Info(t) | Notice::Warning(t) => t,
        }
    }
}

/// One result to compute over the scope.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Ask {
    /// Failed deploys in the range and how each ended.
    Incidents { include_superseded: bool },
    /// Deploys that finished in the range.
    Deploys,
    /// Changes delivered in the range, and those still waiting.
    Changes,
    /// Statistics, one row per group (one row in all without grouping).
    Summary { group_by: GroupBy },
    /// Statistics per bucket.
    Series(SeriesSpec),
}

/// What an [`Ask`] gets.
#[derive(Clone, Debug)]
pub enum Answered {
    Incidents(Vec<IncidentRow>),
    Deploys(Vec<DeployLine>),
    Changes(Vec<ChangeLine>),
    Summary(Vec<(GroupLabel, Summary)>),
    Series(Vec<Series>),
}

pub struct Answer {
    /// One per ask, in the order asked.
    pub answers: Vec<Answered>,
    /// Repos that were read.
    pub repos_read: usize,
    pub notices: Vec<Notice>,
    /// Set when no deploy finished in the range.
    pub seen: Option<Seen>,
}

/// What the history read holds in the range, for a user whose filters
/// match no deploy: the values they could filter on instead.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Seen {
    /// Finished pipelines in the range, of every event.
    pub pipelines: usize,
    /// Each list sorted and without duplicates.
    pub events: Vec<String>,
    /// As deploys are grouped: `deploy_to`, else the branch.
    pub environments: Vec<String>,
    pub branches: Vec<String>,
}

/// How far back an ask reads: a series' first bucket starts before the
/// range, and its rolling window earlier still.
fn reach_from(ask: &Ask, range: TimeRange) -> i64 {
    match ask {
        Ask::Series(s) => {
            range.from.div_euclid(s.bucket_secs) * s.bucket_secs - s.rolling_secs.unwrap_or(0)
        }
        _ => range.from,
    }
}

/// Answers every ask over one read of the scope's histories.
pub async fn answer(
    source: &dyn PipelineSource,
    scope: &Scope,
    asks: &[Ask],
) -> Result<Answer, SourceError> {
    let reach = asks
        .iter()
        .map(|a| reach_from(a, scope.range))
        .min()
        .unwrap_or(scope.range.from);
    let a = fetch::analyse(source, scope, reach).await?;
    let (range, settings) = (scope.range, &scope.settings);
    let mut notes = Vec::new();
    let answers = asks
        .iter()
        .map(|ask| match *ask {
            Ask::Incidents { include_superseded } => {
                Answered::Incidents(rows::incident_rows(&a, source, range, include_superseded))
            }
            Ask::Deploys => Answered::Deploys(rows::deploy_lines(&a, source, range)),
            Ask::Changes => Answered::Changes(rows::change_lines(&a, source, range)),
            Ask::Summary { group_by } => {
                let groups = if group_by.repo || group_by.environment {
                    domain::summarise_by(
                        &a.deploys,
                        &a.incidents,
                        &a.changes,
                        range,
                        settings,
                        group_by,
                    )
                } else {
                    vec![(
                        GroupLabel::default(),
                        domain::summarise(&a.deploys, &a.incidents, &a.changes, range, settings),
                    )]
                };
                notes.extend(
                    groups.iter().flat_map(|(g, s)| {
                        s.notes.iter().map(move |n| Notice::Info(prefixed(g, n)))
                    }),
                );
                Answered::Summary(groups)
            }
            Ask::Series(spec) => Answered::Series(domain::series(
                &a.deploys,
                &a.incidents,
                &a.changes,
                range,
                &spec,
                settings,
            )),
        })
        .collect();
    let mut notices = a.notices;
    notices.extend(notes);
    Ok(Answer {
        answers,
        repos_read: a.repos.len(),
        notices,
        seen: a.seen,
    })
}

/// A group's note, prefixed with the group it is about.
fn prefixed(g: &GroupLabel, note: &str) -> String {
    match (&g.repo, &g.environment) {
        (None, None) => note.to_string(),
        (r, e) => format!(
            "{}: {note}",
            [r.as_deref(), e.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" / ")
        ),
    }
}
