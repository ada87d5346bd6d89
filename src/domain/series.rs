//! Deploys and incidents → time series (rule 9): recovery statistics and
//! the deploy-side keys (frequency, change failure, rework) per point.

use super::deploys::Deploys;
use super::grouping::{labels, GroupBy, GroupLabel};
use super::lead_time::{percentiles, Changes};
use super::pairing::{IncidentState, Incidents};
use super::settings::{Outcome, RecoverySettings, TimeRange, DAY_SECS};
use super::stats::{censors, describe, Sample};

/// Shape of a series query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeriesSpec {
    /// Bucket length; buckets start at UTC multiples of it since the epoch.
    pub bucket_secs: i64,
    /// When set, each point covers this trailing window ending at the
    /// bucket's end instead of the bucket alone.
    pub rolling_secs: Option<i64>,
    pub group_by: GroupBy,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    /// Bucket start (Unix seconds).
    pub time: i64,
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub mean: Option<f64>,
    /// Incidents in this point's sample (shown even when statistics are null).
    pub incidents: usize,
    /// Deploys with an outcome that finished in the point's window.
    pub deploys: usize,
    pub failed_deploys: usize,
    pub change_failure_rate: Option<f64>,
    /// Successful deploys per day of the window.
    pub deploys_per_day: f64,
    pub rework_deploys: usize,
    pub rework_rate: Option<f64>,
    /// Changes delivered in the window, and their lead times.
    pub changes: usize,
    pub lead_time_p50: Option<f64>,
    pub lead_time_p90: Option<f64>,
}

/// Running totals of a label's deploys in finish order, so a window's
/// counts are two lookups.
#[derive(Default)]
struct DeployTotals {
    finished: Vec<i64>,
    /// `[deploys, failed, succeeded, rework]` before each index.
    totals: Vec<[usize; 4]>,
}

impl DeployTotals {
    fn window(&self, start: i64, end: i64) -> [usize; 4] {
        let lo = self.finished.partition_point(|&t| t < start);
        let hi = self.finished.partition_point(|&t| t < end).max(lo);
        let (a, b) = (self.totals[lo], self.totals[hi]);
        [b[0] - a[0], b[1] - a[1], b[2] - a[2], b[3] - a[3]]
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub group: GroupLabel,
    pub points: Vec<Point>,
}

/// An anchor that enters samples: its time and recovery (None = censored).
type Entry = (i64, Option<i64>);

/// One series per label with a deploy in range, one point per bucket that
/// overlaps the range. Each point covers whole buckets (or its whole rolling
/// window), also before `range.from`, so a point never depends on where the
/// range starts. A non-positive bucket length yields no series.
pub fn series(
    deploys: &Deploys,
    incidents: &Incidents,
    changes: &Changes,
    range: TimeRange,
    spec: &SeriesSpec,
    settings: &RecoverySettings,
) -> Vec<Series> {
    let b = spec.bucket_secs;
    if b <= 0 || range.to < range.from {
        return Vec::new();
    }
    let (labels, of_group) = labels(deploys, spec.group_by);
    let mut active = vec![false; labels.len()];
    for d in deploys.items() {
        if range.contains(d.finished) {
            active[of_group[d.group as usize] as usize] = true;
        }
    }
    let mut counted: Vec<Vec<(i64, Outcome, bool)>> = vec![Vec::new(); labels.len()];
    for (d, rework) in deploys.with_rework() {
        if d.outcome != Outcome::Ignored {
            counted[of_group[d.group as usize] as usize].push((d.finished, d.outcome, rework));
        }
    }
    let totals: Vec<DeployTotals> = counted
        .into_iter()
        .map(|mut c| {
            c.sort_unstable_by_key(|e| e.0);
            let mut t = DeployTotals {
                finished: c.iter().map(|e| e.0).collect(),
                totals: vec![[0; 4]],
            };
            for &(_, outcome, rework) in &c {
                let mut next = *t.totals.last().expect("starts with zeros");
                next[0] += 1;
                next[1] += usize::from(outcome == Outcome::Failure);
                next[2] += usize::from(outcome == Outcome::Success);
                next[3] += usize::from(rework);
                t.totals.push(next);
            }
            t
        })
        .collect();
    let mut entries: Vec<Vec<Entry>> = vec![Vec::new(); labels.len()];
    for i in incidents {
        let value = match i.state {
            IncidentState::Resolved {
                recovery_secs,
                flaky: false,
                ..
            } => Some(recovery_secs),
            IncidentState::Open { expired, .. } if censors(settings, expired) => None,
            _ => continue,
        };
        entries[of_group[i.group.0 as usize] as usize].push((i.failed_at, value));
    }

    // Delivered changes: (delivered_at, lead time), per label.
    let mut delivered: Vec<Vec<(i64, i64)>> = vec![Vec::new(); labels.len()];
    for c in changes.items() {
        if let Some(lead) = c.lead_secs() {
            delivered[of_group[c.group as usize] as usize].push((c.delivered_at, lead));
        }
    }

    let first = range.from.div_euclid(b) * b;
    let last = range.to.div_euclid(b) * b;
    labels
        .into_iter()
        .zip(entries)
        .zip(totals)
        .zip(delivered)
        .zip(active)
        .filter(|(_, active)| *active)
        .map(|((((group, mut entries), totals), mut delivered), _)| {
            entries.sort_unstable();
            // Each group's changes come in delivery order: a stable sort
            // merges those runs instead of sorting from scratch.
            delivered.sort_by_key(|c| c.0);
            let mut leads: Vec<i64> = Vec::new();
            let points = (0..=(last - first) / b)
                .map(|k| {
                    let time = first + k * b;
                    let end = time + b;
                    let start = spec.rolling_secs.map_or(time, |r| end - r);
                    let deploys = totals.window(start, end);
                    let days = (end - start) as f64 / DAY_SECS as f64;
                    let lo = delivered.partition_point(|c| c.0 < start);
                    let hi = delivered.partition_point(|c| c.0 < end).max(lo);
                    leads.clear();
                    leads.extend(delivered[lo..hi].iter().map(|c| c.1));
                    let mut p = point(time, window(&entries, start, end), deploys, days, settings);
                    (p.lead_time_p50, p.lead_time_p90) =
                        percentiles(&mut leads, settings.min_sample);
                    p.changes = leads.len();
                    p
                })
                .collect();
            Series { group, points }
        })
        .collect()
}

/// The entries with `start <= time < end`.
fn window(entries: &[Entry], start: i64, end: i64) -> &[Entry] {
    let lo = entries.partition_point(|e| e.0 < start);
    let hi = entries.partition_point(|e| e.0 < end);
    &entries[lo..hi.max(lo)]
}

fn point(
    time: i64,
    entries: &[Entry],
    [deploys, failed, succeeded, rework]: [usize; 4],
    days: f64,
    settings: &RecoverySettings,
) -> Point {
    let mut sample = Sample {
        secs: entries.iter().filter_map(|e| e.1).collect(),
        censored: entries.iter().filter(|e| e.1.is_none()).count(),
    };
    let stats = describe(&mut sample, settings);
    Point {
        time,
        p50: stats.p50,
        p90: stats.p90,
        mean: stats.mean,
        incidents: stats.count,
        deploys,
        failed_deploys: failed,
        change_failure_rate: (deploys > 0).then(|| failed as f64 / deploys as f64),
        deploys_per_day: if days > 0.0 {
            succeeded as f64 / days
        } else {
            0.0
        },
        rework_deploys: rework,
        rework_rate: (deploys > 0).then(|| rework as f64 / deploys as f64),
        changes: 0,
        lead_time_p50: None,
        lead_time_p90: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::deploys::collect_deploys;
    use crate::domain::deploys::tests::pipeline;
    use crate::domain::pairing::pair;
    use crate::domain::pipeline::{Pipeline, Status};
    use crate::domain::settings::{DeployFilter, DAY_SECS};
    use crate::domain::PipelineFields;
    use crate::domain::Trees;

    use Status::{Failure as F, Success as S};

    /// Incidents at the given times (seconds), each recovering in 1000 s.
    fn history(env: &str, times: &[i64]) -> Vec<Pipeline> {
        times
            .iter()
            .enumerate()
            .flat_map(|(i, &t)| {
                let n = 2 * i as u64 + 1;
                [pipeline(n, F, env, t), pipeline(n + 1, S, env, t + 1000)]
            })
            .collect()
    }

    fn run(ps: &[Pipeline], range: TimeRange, spec: SeriesSpec) -> Vec<Series> {
        let s = RecoverySettings::default();
        let d = collect_deploys([("o/r", ps, &Trees::new())], &DeployFilter::default(), &s);
        let i = pair(&d, &s, 1_000 * DAY_SECS);
        series(&d, &i, &Changes::default(), range, &spec, &s)
    }

    fn daily(rolling: Option<i64>) -> SeriesSpec {
        SeriesSpec {
            bucket_secs: DAY_SECS,
            rolling_secs: rolling,
            group_by: GroupBy::default(),
        }
    }

    #[test]
    fn buckets_align_to_utc_multiples_and_cover_the_range() {
        let mut ps = history("prod", &[DAY_SECS + 5]);
        ps.push(pipeline(9, S, "prod", 2 * DAY_SECS));
        let range = TimeRange {
            from: DAY_SECS + 3600,
            to: 3 * DAY_SECS + 10,
        };
        let s = run(&ps, range, daily(None));
        let times: Vec<i64> = s[0].points.iter().map(|p| p.time).collect();
        assert_eq!(times, vec![DAY_SECS, 2 * DAY_SECS, 3 * DAY_SECS]);
        // The anchor before `from` still belongs to its whole bucket.
        assert_eq!(s[0].points[0].incidents, 1);
        assert_eq!(s[0].points[0].p50, None, "sample guard applies per point");
    }

    #[test]
    fn bucket_point_has_statistics_once_the_sample_is_large_enough() {
        let times: Vec<i64> = (0..5).map(|k| 2 * DAY_SECS + k * 3000).collect();
        let ps = history("prod", &times);
        let range = TimeRange {
            from: 0,
            to: 3 * DAY_SECS - 1,
        };
        let s = run(&ps, range, daily(None));
        let p: Vec<_> = s[0].points.iter().map(|p| (p.incidents, p.p50)).collect();
        assert_eq!(p, vec![(0, None), (0, None), (5, Some(1000.0))]);
    }

    #[test]
    fn rolling_window_ends_at_bucket_end() {
        // One incident per day on days 0..10.
        let times: Vec<i64> = (0..10).map(|k| k * DAY_SECS + 100).collect();
        let ps = history("prod", &times);
        let range = TimeRange {
            from: 0,
            to: 10 * DAY_SECS - 1,
        };
        let s = run(&ps, range, daily(Some(5 * DAY_SECS)));
        let counts: Vec<usize> = s[0].points.iter().map(|p| p.incidents).collect();
        assert_eq!(counts, vec![1, 2, 3, 4, 5, 5, 5, 5, 5, 5]);
        assert_eq!(s[0].points[3].mean, None);
        assert_eq!(s[0].points[4].mean, Some(1000.0));
    }

    #[test]
    fn one_series_per_group() {
        let mut ps = history("prod", &[100]);
        let mut staging = history("staging", &[200]);
        for p in &mut staging {
            *p = Pipeline::from(PipelineFields {
                number: p.number() + 10,
                ..p.fields()
            });
        }
        ps.extend(staging);
        let spec = SeriesSpec {
            group_by: GroupBy {
                repo: false,
                environment: true,
            },
            ..daily(None)
        };
        let s = run(&ps, TimeRange { from: 0, to: 2000 }, spec);
        let envs: Vec<_> = s
            .iter()
            .map(|s| s.group.environment.clone().unwrap())
            .collect();
        assert_eq!(envs, vec!["prod", "staging"]);
    }

    #[test]
    fn bad_bucket_or_empty_input_gives_nothing() {
        let ps = history("prod", &[100]);
        let zero = SeriesSpec {
            bucket_secs: 0,
            ..daily(None)
        };
        assert!(run(&ps, TimeRange { from: 0, to: 10 }, zero).is_empty());
        assert!(run(&[], TimeRange { from: 0, to: 10 }, daily(None)).is_empty());
    }
}
