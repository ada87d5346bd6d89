//! User-facing knobs of the engine. Every rule's default lives here, so the
//! documentation (docs/metrics.md) and the code have one place to agree on.

use super::deploys::environment_of;
use super::pipeline::{Event, Pipeline, Status};

/// Which finished pipelines count as deploys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeployFilter {
    /// Trigger events that deploy (default: `deployment` only).
    pub events: Vec<Event>,
    /// Workflow or step names (globs) that are the deploy inside a
    /// pipeline; empty means the whole pipeline is the deploy.
    pub deploy_steps: Vec<String>,
    /// Trigger events whose pipelines are changes, for lead time (default
    /// `push`).
    pub change_events: Vec<Event>,
    /// Allowed branches; empty means any.
    pub branches: Vec<String>,
    /// Allowed environments (`deploy_to`, else branch); empty means any.
    pub environments: Vec<String>,
}

impl Default for DeployFilter {
    fn default() -> Self {
        DeployFilter {
            events: vec![Event::Deployment],
            deploy_steps: Vec::new(),
            change_events: vec![Event::Push],
            branches: Vec::new(),
            environments: Vec::new(),
        }
    }
}

impl DeployFilter {
    /// A deploy candidate: finished, with a deploy event, from an allowed
    /// branch to an allowed environment (rule 1). With deploy steps, its
    /// workflow tree then decides whether it deployed.
    pub(crate) fn admits(&self, p: &Pipeline) -> bool {
        p.is_finished()
            && self.admits_event(p.event())
            && self.admits_branch(p.branch())
            && self.admits_environment(environment_of(p))
    }

    /// Whether the deploy of `p` is judged by its workflow tree, which
    /// must then be fetched: deploy steps are set and `p` is a candidate.
    pub fn needs_tree(&self, p: &Pipeline) -> bool {
        !self.deploy_steps.is_empty() && self.admits(p)
    }

    pub(crate) fn admits_event(&self, event: Event) -> bool {
        self.events.contains(&event)
    }

    pub(crate) fn admits_branch(&self, branch: &str) -> bool {
        self.branches.is_empty() || self.branches.iter().any(|b| b == branch)
    }

    pub(crate) fn admits_environment(&self, environment: &str) -> bool {
        self.environments.is_empty() || self.environments.iter().any(|e| e == environment)
    }
}

/// How open (unrecovered) incidents enter the recovery statistics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OpenIncidents {
    /// Classic MTTR: statistics over resolved incidents only.
    #[default]
    Exclude,
    /// Open incidents whose window has passed count as right-censored values
    /// (recovered later than the window), so long outages pull the median up.
    Censor,
}

/// The recovery rules' parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecoverySettings {
    /// Statuses that make a deploy a failure (default `failure`, `error`).
    pub failure_statuses: Vec<Status>,
    /// Longest recovery that still resolves an incident, inclusive (seconds).
    pub window_secs: i64,
    /// Recoveries strictly faster than this are flaky (seconds).
    pub flaky_secs: i64,
    /// Fewer qualifying incidents than this withhold every statistic but the count.
    pub min_sample: usize,
    pub open_incidents: OpenIncidents,
}

pub(crate) const DAY_SECS: i64 = 86_400;
pub(crate) const WEEK_SECS: i64 = 7 * DAY_SECS;

impl Default for RecoverySettings {
    fn default() -> Self {
        RecoverySettings {
            failure_statuses: vec![Status::Failure, Status::Error],
            window_secs: WEEK_SECS,
            flaky_secs: 300,
            min_sample: 5,
            open_incidents: OpenIncidents::Exclude,
        }
    }
}

/// What a finished deploy means for recovery.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    Success,
    Failure,
    /// Neither (canceled, killed by default, skipped, …): invisible to pairing.
    Ignored,
}

impl RecoverySettings {
    pub fn outcome(&self, status: Status) -> Outcome {
        if status == Status::Success {
            Outcome::Success
        } else if self.failure_statuses.contains(&status) {
            Outcome::Failure
        } else {
            Outcome::Ignored
        }
    }
}

/// A query's time range: Unix seconds, inclusive at both ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeRange {
    pub from: i64,
    pub to: i64,
}

impl TimeRange {
    pub fn contains(&self, t: i64) -> bool {
        self.from <= t && t <= self.to
    }

    /// Length in days (fractional); zero for an empty range.
    pub fn days(&self) -> f64 {
        if self.to < self.from {
            0.0
        } else {
            (self.to - self.from + 1) as f64 / DAY_SECS as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_failure_and_ignored_outcomes() {
        let s = RecoverySettings::default();
        assert_eq!(s.outcome(Status::Success), Outcome::Success);
        assert_eq!(s.outcome(Status::Failure), Outcome::Failure);
        assert_eq!(s.outcome(Status::Error), Outcome::Failure);
        for st in [
            Status::Killed,
            Status::Canceled,
            Status::Skipped,
            Status::Declined,
            Status::Blocked,
            Status::Pending,
            Status::Running,
            Status::Created,
            Status::Other,
        ] {
            assert_eq!(s.outcome(st), Outcome::Ignored, "{st}");
        }
    }

    #[test]
    fn killed_counts_as_failure_when_configured() {
        let s = RecoverySettings {
            failure_statuses: vec![Status::Failure, Status::Error, Status::Killed],
            ..RecoverySettings::default()
        };
        assert_eq!(s.outcome(Status::Killed), Outcome::Failure);
    }

    #[test]
    fn range_is_inclusive_and_days_count_both_ends() {
        let r = TimeRange {
            from: 0,
            to: DAY_SECS - 1,
        };
        assert!(r.contains(0) && r.contains(DAY_SECS - 1) && !r.contains(DAY_SECS));
        assert_eq!(r.days(), 1.0);
        assert_eq!(TimeRange { from: 5, to: 4 }.days(), 0.0);
    }
}
