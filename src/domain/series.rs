//! Incidents → MTTR time series: fixed buckets aligned to UTC multiples of
//! their length, each summarising the incidents that began in it, or in the
//! trailing rolling window ending at the bucket's end.

use std::collections::BTreeMap;

use super::deploys::Deploys;
use super::pairing::{IncidentState, Incidents};
use super::settings::{GroupBy, GroupLabel, RecoverySettings, TimeRange};
use super::stats::recovery_stats;
use super::summary::label;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeriesSpec {
    /// Bucket length in seconds (> 0).
    pub bucket_secs: i64,
    /// Trailing window per point instead of the bucket itself.
    pub rolling_secs: Option<i64>,
    pub group_by: GroupBy,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    /// The bucket's start (Unix seconds).
    pub time: i64,
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub mean: Option<f64>,
    /// Incidents the point's statistics cover.
    pub incidents: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub group: GroupLabel,
    pub points: Vec<Point>,
}

/// What a series point needs of one incident chain.
#[derive(Clone, Copy)]
struct Anchor {
    failed_at: i64,
    /// Recovery seconds; `None` while open. Flaky anchors are left out.
    recovery: Option<i64>,
}

pub fn series(
    deploys: &Deploys,
    incidents: &Incidents,
    range: TimeRange,
    spec: &SeriesSpec,
    settings: &RecoverySettings,
) -> Vec<Series> {
    let by = spec.group_by;
    let mut groups: BTreeMap<GroupLabel, Vec<Anchor>> = BTreeMap::new();
    if by == GroupBy::default() {
        groups.insert(GroupLabel::default(), Vec::new());
    }
    for g in deploys.groups() {
        groups.entry(label(g, by)).or_default();
    }
    for i in incidents.iter() {
        let recovery = match i.state {
            IncidentState::Superseded { .. } => continue,
            IncidentState::Resolved { .. } if i.flaky => continue,
            IncidentState::Resolved { recovery_secs, .. } => Some(recovery_secs),
            IncidentState::Open => None,
        };
        let l = GroupLabel {
            repo: by.repo.then(|| i.repo.to_string()),
            environment: by.environment.then(|| i.environment.to_string()),
        };
        groups.entry(l).or_default().push(Anchor {
            failed_at: i.failed_at,
            recovery,
        });
    }
    let b = spec.bucket_secs.max(1);
    let first = range.from.div_euclid(b) * b;
    groups
        .into_iter()
        .map(|(group, mut anchors)| {
            anchors.sort_unstable_by_key(|a| a.failed_at);
            let points = (0..)
                .map(|k| first + k * b)
                .take_while(|start| *start <= range.to)
                .map(|start| {
                    let end = start + b;
                    let from = spec.rolling_secs.map_or(start, |r| end - r);
                    let lo = anchors.partition_point(|a| a.failed_at < from);
                    let hi = anchors.partition_point(|a| a.failed_at < end);
                    let window = &anchors[lo..hi.max(lo)];
                    let resolved = window
                        .iter()
                        .filter_map(|a| a.recovery.map(|r| r as f64))
                        .collect::<Vec<_>>();
                    let open = window.len() - resolved.len();
                    let s = recovery_stats(resolved, open, settings);
                    Point {
                        time: start,
                        p50: s.p50,
                        p90: s.p90,
                        mean: s.mean,
                        incidents: s.count,
                    }
                })
                .collect();
            Series { group, points }
        })
        .collect()
}
