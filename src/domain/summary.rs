//! Incidents and deploys in a time range → the summary a dashboard shows,
//! for everything or per group.

use std::collections::BTreeMap;

use super::deploys::{Deploys, Group};
use super::pairing::{Incident, IncidentState, Incidents};
use super::settings::{GroupBy, GroupLabel, RecoverySettings, TimeRange};
use super::stats::{recovery_stats, Band};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    /// Incidents the statistics are computed over (see [`recovery_stats`]).
    pub incidents: usize,
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub mean: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub open: usize,
    pub superseded: usize,
    pub flaky: usize,
    /// Successful and failed deploys that finished in the range.
    pub deploys: usize,
    pub failed_deploys: usize,
    /// failed_deploys / deploys; `None` without deploys.
    pub change_failure_rate: Option<f64>,
    /// Successful deploys per day of the range.
    pub deploys_per_day: f64,
    pub band: Option<Band>,
    pub notes: Vec<String>,
}

/// What one group contributes, gathered in a single pass.
#[derive(Default)]
struct Tally {
    recoveries: Vec<f64>,
    open: usize,
    superseded: usize,
    flaky: usize,
    deploys: usize,
    failed: usize,
}

impl Tally {
    fn is_empty(&self) -> bool {
        self.deploys == 0
            && self.recoveries.is_empty()
            && self.open + self.superseded + self.flaky == 0
    }

    fn add_incident(&mut self, i: &Incident) {
        match i.state {
            IncidentState::Superseded { .. } => self.superseded += 1,
            IncidentState::Open => self.open += 1,
            IncidentState::Resolved { .. } if i.flaky => self.flaky += 1,
            IncidentState::Resolved { recovery_secs, .. } => {
                self.recoveries.push(recovery_secs as f64)
            }
        }
    }

    fn finish(self, range: TimeRange, settings: &RecoverySettings) -> Summary {
        let stats = recovery_stats(self.recoveries, self.open, settings);
        let days = (range.to - range.from) as f64 / 86_400.0;
        let successes = self.deploys - self.failed;
        Summary {
            incidents: stats.count,
            p50: stats.p50,
            p90: stats.p90,
            mean: stats.mean,
            min: stats.min,
            max: stats.max,
            open: self.open,
            superseded: self.superseded,
            flaky: self.flaky,
            deploys: self.deploys,
            failed_deploys: self.failed,
            change_failure_rate: (self.deploys > 0)
                .then(|| self.failed as f64 / self.deploys as f64),
            deploys_per_day: if days > 0.0 {
                successes as f64 / days
            } else {
                0.0
            },
            band: stats.p50.map(Band::of),
            notes: stats.notes,
        }
    }
}

pub(crate) fn label(g: &Group, by: GroupBy) -> GroupLabel {
    GroupLabel {
        repo: by.repo.then(|| g.repo.to_string()),
        environment: by.environment.then(|| g.environment.to_string()),
    }
}

/// The summary of everything in the range.
pub fn summarise(
    deploys: &Deploys,
    incidents: &Incidents,
    range: TimeRange,
    settings: &RecoverySettings,
) -> Summary {
    summarise_by(deploys, incidents, range, settings, GroupBy::default())
        .pop()
        .map(|(_, s)| s)
        .unwrap_or_else(|| Tally::default().finish(range, settings))
}

/// One summary per group (repo and/or environment) with deploys or
/// incidents in the range, sorted by label. With no grouping, exactly one
/// entry with an empty label.
pub fn summarise_by(
    deploys: &Deploys,
    incidents: &Incidents,
    range: TimeRange,
    settings: &RecoverySettings,
    by: GroupBy,
) -> Vec<(GroupLabel, Summary)> {
    let mut tallies: BTreeMap<GroupLabel, Tally> = BTreeMap::new();
    if by == GroupBy::default() {
        tallies.insert(GroupLabel::default(), Tally::default());
    }
    for g in deploys.groups() {
        let t = tallies.entry(label(g, by)).or_default();
        for i in g.range.clone() {
            if range.contains(deploys.finished[i]) {
                t.deploys += 1;
                t.failed += usize::from(deploys.failed[i]);
            }
        }
    }
    for i in incidents.iter().filter(|i| range.contains(i.failed_at)) {
        let l = GroupLabel {
            repo: by.repo.then(|| i.repo.to_string()),
            environment: by.environment.then(|| i.environment.to_string()),
        };
        tallies.entry(l).or_default().add_incident(i);
    }
    let grouped = by != GroupBy::default();
    tallies
        .into_iter()
        .filter(|(_, t)| !grouped || !t.is_empty())
        .map(|(l, t)| (l, t.finish(range, settings)))
        .collect()
}
