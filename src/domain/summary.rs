//! Incidents → one summary per label over a time range (rules 7, 8, 8a).
//! Only the range selects; classification was fixed by `pair`.

use super::band::Band;
use super::deploys::Deploys;
use super::grouping::{labels, GroupBy, GroupLabel};
use super::lead_time::{percentiles, Changes, LeadTimes};
use super::pairing::{Incident, IncidentState, Incidents};
use super::settings::{OpenIncidents, Outcome, RecoverySettings, TimeRange};
use super::stats::{censors, describe, Sample, Stats};
use super::words;

/// Recovery and deploy statistics of one label over one range.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    /// Incidents in the sample (resolved, not flaky; plus censored open ones).
    pub incidents: usize,
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub mean: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// Open anchors in range (whatever the open-incident mode).
    pub open: usize,
    pub superseded: usize,
    pub flaky: usize,
    /// Successful plus failed deploys in range (ignored statuses not counted).
    pub deploys: usize,
    pub failed_deploys: usize,
    pub change_failure_rate: Option<f64>,
    /// Successful deploys per day of the range.
    pub deploys_per_day: f64,
    /// Band of the median recovery time.
    pub band: Option<Band>,
    /// Band of `deploys_per_day`; none without a deploy or a range.
    pub deploy_frequency_band: Option<Band>,
    pub change_failure_band: Option<Band>,
    /// Deploys (with an outcome) that followed a failed deploy of their
    /// group: the later attempts of a failure chain and the success ending
    /// it (DORA 2024's deployment rework).
    pub rework_deploys: usize,
    pub rework_rate: Option<f64>,
    /// Age at the end of the range of the oldest open incident that began
    /// in it.
    pub oldest_open_secs: Option<i64>,
    /// Changes delivered in range, and the percentiles of their lead times
    /// (null below the minimum sample).
    pub changes: usize,
    pub lead_time_p50: Option<f64>,
    pub lead_time_p90: Option<f64>,
    pub lead_time_band: Option<Band>,
    /// Changes created in range and not delivered by its end, on branches
    /// that deliver to the group; the age of the oldest at the range's end.
    pub waiting_changes: usize,
    pub oldest_waiting_secs: Option<i64>,
    pub notes: Vec<String>,
}

/// Counters for one label, filled in one pass over deploys and incidents.
#[derive(Default)]
struct Tally {
    any_deploy: bool,
    deploys: usize,
    failed: usize,
    succeeded: usize,
    open: usize,
    pending: usize,
    superseded: usize,
    flaky: usize,
    rework: usize,
    oldest_open: Option<i64>,
    sample: Sample,
    lead: LeadTimes,
}

impl Tally {
    /// Adds one incident already known to be in range.
    fn add_incident(&mut self, i: &Incident, settings: &RecoverySettings) {
        match i.state {
            IncidentState::Superseded { .. } => self.superseded += 1,
            IncidentState::Open { expired, .. } => {
                self.open += 1;
                self.oldest_open =
                    Some(self.oldest_open.map_or(i.failed_at, |t| t.min(i.failed_at)));
                if censors(settings, expired) {
                    self.sample.censored += 1;
                } else if !expired {
                    self.pending += 1;
                }
            }
            IncidentState::Resolved { flaky: true, .. } => self.flaky += 1,
            IncidentState::Resolved { recovery_secs, .. } => self.sample.secs.push(recovery_secs),
        }
    }

    fn finish(mut self, range: TimeRange, settings: &RecoverySettings) -> Summary {
        let Stats {
            count,
            p50,
            p90,
            mean,
            min,
            max,
            p50_at_least,
            mut notes,
        } = describe(&mut self.sample, settings);
        let band = p50.map(Band::of_recovery_secs).or_else(|| {
            // A censored median is only a lower bound; that still proves "low".
            p50_at_least
                .map(Band::of_recovery_secs)
                .filter(|&b| b == Band::Low)
        });
        if self.flaky > 0 {
            notes.push(format!(
                "{} faster than {} left out as flaky",
                words::count(self.flaky, "recovery", "recoveries"),
                words::duration(settings.flaky_secs as f64)
            ));
        }
        match settings.open_incidents {
            OpenIncidents::Exclude if self.open > 0 => notes.push(format!(
                "{} not counted in the statistics (open incidents: exclude)",
                words::count(self.open, "open incident", "open incidents")
            )),
            OpenIncidents::Censor if self.pending > 0 => notes.push(format!(
                "{} still inside the {} window left out until {}",
                words::count(self.pending, "open incident", "open incidents"),
                words::duration(settings.window_secs as f64),
                if self.pending == 1 {
                    "it expires"
                } else {
                    "they expire"
                }
            )),
            _ => {}
        }
        let days = range.days();
        let deploys_per_day = if days > 0.0 {
            self.succeeded as f64 / days
        } else {
            0.0
        };
        let change_failure_rate =
            (self.deploys > 0).then(|| self.failed as f64 / self.deploys as f64);
        let changes = self.lead.secs.len();
        let (lead_time_p50, lead_time_p90) = percentiles(&mut self.lead.secs, settings.min_sample);
        if changes > 0 && lead_time_p50.is_none() {
            notes.push(format!(
                "only {} delivered, fewer than the minimum sample of {}: lead time withheld",
                words::count(changes, "change", "changes"),
                settings.min_sample
            ));
        }
        Summary {
            incidents: count,
            p50,
            p90,
            mean,
            min,
            max,
            open: self.open,
            superseded: self.superseded,
            flaky: self.flaky,
            deploys: self.deploys,
            failed_deploys: self.failed,
            change_failure_rate,
            deploys_per_day,
            band,
            deploy_frequency_band: (self.deploys > 0 && days > 0.0)
                .then(|| Band::of_deploys_per_day(deploys_per_day)),
            change_failure_band: change_failure_rate.map(Band::of_change_failure_rate),
            rework_deploys: self.rework,
            rework_rate: (self.deploys > 0).then(|| self.rework as f64 / self.deploys as f64),
            oldest_open_secs: self.oldest_open.map(|t| (range.to - t).max(0)),
            changes,
            lead_time_p50,
            lead_time_p90,
            lead_time_band: lead_time_p50.map(Band::of_lead_time_secs),
            waiting_changes: self.lead.waiting,
            oldest_waiting_secs: self
                .lead
                .oldest_waiting_created
                .map(|t| (range.to - t).max(0)),
            notes,
        }
    }
}

/// One tally per label; `of_group` maps group ids to label indices.
fn tally(
    deploys: &Deploys,
    incidents: &Incidents,
    changes: &Changes,
    range: TimeRange,
    settings: &RecoverySettings,
    of_group: &[u32],
    n_labels: usize,
) -> Vec<Tally> {
    let mut tallies: Vec<Tally> = (0..n_labels).map(|_| Tally::default()).collect();
    for (d, rework) in deploys.with_rework() {
        if !range.contains(d.finished) {
            continue;
        }
        let t = &mut tallies[of_group[d.group as usize] as usize];
        t.any_deploy = true;
        match d.outcome {
            Outcome::Success => t.succeeded += 1,
            Outcome::Failure => t.failed += 1,
            Outcome::Ignored => continue,
        }
        t.deploys += 1;
        t.rework += usize::from(rework);
    }
    for i in incidents {
        if range.contains(i.failed_at) {
            tallies[of_group[i.group.0 as usize] as usize].add_incident(i, settings);
        }
    }
    for c in changes.items() {
        tallies[of_group[c.group as usize] as usize]
            .lead
            .add(c, range);
    }
    tallies
}

/// Everything in range as one summary.
pub fn summarise(
    deploys: &Deploys,
    incidents: &Incidents,
    changes: &Changes,
    range: TimeRange,
    settings: &RecoverySettings,
) -> Summary {
    let of_group = vec![0; deploys.group_count()];
    let mut tallies = tally(deploys, incidents, changes, range, settings, &of_group, 1);
    tallies.pop().expect("one label").finish(range, settings)
}

/// One summary per label that has a deploy (of any status) in range, in
/// label order.
pub fn summarise_by(
    deploys: &Deploys,
    incidents: &Incidents,
    changes: &Changes,
    range: TimeRange,
    settings: &RecoverySettings,
    group_by: GroupBy,
) -> Vec<(GroupLabel, Summary)> {
    let (labels, of_group) = labels(deploys, group_by);
    let tallies = tally(
        deploys,
        incidents,
        changes,
        range,
        settings,
        &of_group,
        labels.len(),
    );
    labels
        .into_iter()
        .zip(tallies)
        .filter(|(_, t)| t.any_deploy)
        .map(|(l, t)| (l, t.finish(range, settings)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::deploys::collect_deploys;
    use crate::domain::deploys::tests::pipeline;
    use crate::domain::pairing::pair;
    use crate::domain::pipeline::{Pipeline, Status};
    use crate::domain::settings::{DeployFilter, DAY_SECS, WEEK_SECS};
    use crate::domain::Trees;

    use Status::{Failure as F, Success as S};

    const NOW: i64 = 1000 * DAY_SECS;
    const ALL: TimeRange = TimeRange {
        from: 0,
        to: NOW - 1,
    };

    /// `n` incidents in "prod", recovering in `secs[i]`, one per day.
    fn history(secs: &[i64]) -> Vec<Pipeline> {
        let mut ps = Vec::new();
        for (i, &s) in secs.iter().enumerate() {
            let t = (i as i64 + 1) * 10 * DAY_SECS;
            let n = 2 * i as u64 + 1;
            ps.push(pipeline(n, F, "prod", t));
            ps.push(pipeline(n + 1, S, "prod", t + s));
        }
        ps
    }

    fn summary(ps: &[Pipeline], range: TimeRange, settings: &RecoverySettings) -> Summary {
        let d = collect_deploys(
            [("o/r", ps, &Trees::new())],
            &DeployFilter::default(),
            settings,
        );
        let i = pair(&d, settings, NOW);
        summarise(&d, &i, &Changes::default(), range, settings)
    }

    #[test]
    fn empty_input_summary_is_empty_not_zero() {
        let s = summary(&[], ALL, &RecoverySettings::default());
        assert_eq!(s.incidents, 0);
        assert_eq!(
            (s.p50, s.mean, s.band, s.change_failure_rate),
            (None, None, None, None)
        );
        assert_eq!(s.deploys_per_day, 0.0);
        assert!(s.notes.is_empty());
    }

    #[test]
    fn five_incidents_give_statistics_and_a_band() {
        let ps = history(&[600, 1200, 1800, 2400, 7200]);
        let s = summary(&ps, ALL, &RecoverySettings::default());
        assert_eq!(s.incidents, 5);
        assert_eq!(s.p50, Some(1800.0));
        assert!((s.p90.unwrap() - 5280.0).abs() < 1e-9);
        assert_eq!(s.mean, Some(2640.0));
        assert_eq!((s.min, s.max), (Some(600.0), Some(7200.0)));
        assert_eq!(s.band, Some(Band::Elite));
        assert_eq!((s.deploys, s.failed_deploys), (10, 5));
        assert_eq!(s.change_failure_rate, Some(0.5));
        assert_eq!(s.deploys_per_day, 5.0 / 1000.0);
    }

    #[test]
    fn four_incidents_withhold_statistics_but_count() {
        let ps = history(&[600, 1200, 1800, 2400]);
        let s = summary(&ps, ALL, &RecoverySettings::default());
        assert_eq!(s.incidents, 4);
        assert_eq!(
            (s.p50, s.p90, s.mean, s.min, s.max, s.band),
            (None, None, None, None, None, None)
        );
        assert!(s.notes[0].contains("minimum sample"));
    }

    #[test]
    fn even_sample_median_interpolates() {
        let ps = history(&[1000, 2000, 3000, 4000, 5000, 6000]);
        let s = summary(&ps, ALL, &RecoverySettings::default());
        assert_eq!(s.p50, Some(3500.0));
    }

    #[test]
    fn flaky_and_open_are_counted_not_sampled() {
        let mut ps = history(&[600, 1200, 1800, 2400, 3000, 10]);
        ps.push(pipeline(100, F, "prod", 500 * DAY_SECS));
        ps.push(pipeline(101, F, "prod", 501 * DAY_SECS));
        let s = summary(&ps, ALL, &RecoverySettings::default());
        assert_eq!((s.incidents, s.flaky, s.open, s.superseded), (5, 1, 1, 1));
        assert_eq!((s.deploys, s.failed_deploys), (14, 8));
        assert_eq!(s.p50, Some(1800.0));
        assert_eq!(s.notes.len(), 2, "{:?}", s.notes);
    }

    #[test]
    fn only_anchors_inside_the_range_count() {
        let ps = history(&[600, 1200, 1800, 2400, 3000, 3600]);
        // Anchors at days 10..60; keep days 20..=50 (4 incidents).
        let range = TimeRange {
            from: 20 * DAY_SECS,
            to: 50 * DAY_SECS,
        };
        let s = summary(&ps, range, &RecoverySettings::default());
        assert_eq!(s.incidents, 4);
        // The last anchor's recovery finished after the range.
        assert_eq!(s.deploys, 7);
    }

    #[test]
    fn censor_mode_counts_expired_open_incidents_as_slow() {
        let mut ps = history(&[600, 1200, 1800]);
        for k in 0..3u64 {
            // Each open chain is ended by a late success, so chains stay apart.
            let t = (100 + 20 * k as i64) * DAY_SECS;
            ps.push(pipeline(200 + 2 * k, F, "prod", t));
            ps.push(pipeline(201 + 2 * k, S, "prod", t + 2 * WEEK_SECS));
        }
        ps.push(pipeline(300, F, "prod", NOW - 10)); // young: not censored
        let exclude = summary(&ps, ALL, &RecoverySettings::default());
        assert_eq!((exclude.incidents, exclude.open, exclude.p50), (3, 4, None));
        let censor = RecoverySettings {
            open_incidents: OpenIncidents::Censor,
            ..RecoverySettings::default()
        };
        let s = summary(&ps, ALL, &censor);
        assert_eq!((s.incidents, s.open), (6, 4));
        // Ranks 2 and 3 of [600,1200,1800,c,c,c]: rank 3 is censored.
        assert_eq!(s.p50, None);
        assert_eq!(s.band, None, "lower bound (1800+7d)/2 is not yet 'low'");
        assert_eq!((s.mean, s.max, s.min), (None, None, Some(600.0)));
        assert!(s.notes.iter().any(|n| n.contains("P50")));
        assert!(s.notes.iter().any(|n| n.contains("still inside")));
    }

    #[test]
    fn censored_median_beyond_a_week_is_low() {
        let mut ps = history(&[600, 1200]);
        for k in 0..4u64 {
            let t = (100 + 20 * k as i64) * DAY_SECS;
            ps.push(pipeline(200 + 2 * k, F, "prod", t));
        }
        let censor = RecoverySettings {
            open_incidents: OpenIncidents::Censor,
            ..RecoverySettings::default()
        };
        // The 4 failures form one chain (no success between): 1 censored.
        let s = summary(&ps, ALL, &censor);
        assert_eq!(s.incidents, 3);
        let mut ps = history(&[600, 1200]);
        for k in 0..4u64 {
            let t = (100 + 30 * k as i64) * DAY_SECS;
            ps.push(pipeline(200 + 2 * k, F, "prod", t));
            ps.push(pipeline(201 + 2 * k, S, "prod", t + 3 * WEEK_SECS));
        }
        let s = summary(&ps, ALL, &censor);
        assert_eq!(s.incidents, 6);
        assert_eq!(s.p50, None);
        assert_eq!(s.band, Some(Band::Low));
    }

    #[test]
    fn summarise_by_environment_splits_and_skips_idle_labels() {
        let mut ps = history(&[600, 1200, 1800, 2400, 3000]);
        ps.push(pipeline(50, S, "staging", 2 * DAY_SECS));
        ps.push(pipeline(51, S, "qa", 900 * DAY_SECS));
        let d = collect_deploys(
            [("o/r", &ps[..], &Trees::new())],
            &DeployFilter::default(),
            &RecoverySettings::default(),
        );
        let s = RecoverySettings::default();
        let i = pair(&d, &s, NOW);
        let range = TimeRange {
            from: 0,
            to: 100 * DAY_SECS,
        };
        let by = GroupBy {
            repo: true,
            environment: true,
        };
        let rows = summarise_by(&d, &i, &Changes::default(), range, &s, by);
        let labels: Vec<_> = rows
            .iter()
            .map(|(l, _)| {
                (
                    l.repo.as_deref().unwrap(),
                    l.environment.as_deref().unwrap(),
                )
            })
            .collect();
        assert_eq!(labels, vec![("o/r", "prod"), ("o/r", "staging")]);
        assert_eq!(rows[0].1.incidents, 5);
        assert_eq!(rows[1].1.deploys, 1);
    }
}
