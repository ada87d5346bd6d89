//! What counts as a deploy and how recoveries are judged. Every default is
//! here, in `Default`, and documented in docs/metrics.md.

use super::pipeline::{Event, Status};

/// Which finished pipelines are deploys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeployFilter {
    /// Events that deploy (default `deployment`).
    pub events: Vec<Event>,
    /// Only deploys from these branches; empty means any.
    pub branches: Vec<String>,
    /// Only deploys to these environments; empty means any.
    pub environments: Vec<String>,
}

impl Default for DeployFilter {
    fn default() -> Self {
        DeployFilter {
            events: vec![Event::Deployment],
            branches: Vec::new(),
            environments: Vec::new(),
        }
    }
}

/// How open incidents enter the statistics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum OpenIncidents {
    /// Statistics over resolved incidents only (the classic rule).
    #[default]
    Exclude,
    /// Open incidents count as recovering at or after the window.
    Censor,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecoverySettings {
    /// Statuses that make a deploy a failure (default `failure`, `error`).
    pub failure_statuses: Vec<Status>,
    /// A success resolves an incident when it lands within this many
    /// seconds of the failure, inclusive (default 7 days).
    pub window_secs: i64,
    /// Recoveries strictly faster than this are flaky (default 5 minutes).
    pub flaky_secs: i64,
    /// Fewest qualifying incidents for a statistic (default 5).
    pub min_sample: usize,
    pub open_incidents: OpenIncidents,
}

impl Default for RecoverySettings {
    fn default() -> Self {
        RecoverySettings {
            failure_statuses: vec![Status::Failure, Status::Error],
            window_secs: 7 * 86_400,
            flaky_secs: 5 * 60,
            min_sample: 5,
            open_incidents: OpenIncidents::Exclude,
        }
    }
}

/// A closed interval of Unix seconds: both ends belong to the range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeRange {
    pub from: i64,
    pub to: i64,
}

impl TimeRange {
    pub fn contains(&self, t: i64) -> bool {
        self.from <= t && t <= self.to
    }
}

/// Which dimensions split statistics into groups.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GroupBy {
    pub repo: bool,
    pub environment: bool,
}

/// A group's name; `None` where that dimension is not grouped.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupLabel {
    pub repo: Option<String>,
    pub environment: Option<String>,
}
