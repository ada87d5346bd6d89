//! Recovery-time statistics over one sample (rule 7, rule 8a): percentiles,
//! mean, min, max, with the minimum-sample guard and right-censoring.

use super::settings::{OpenIncidents, RecoverySettings};
use super::words;

/// `percentile_cont` over an ascending slice: linear interpolation between the
/// closest ranks, as PostgreSQL `percentile_cont` and NumPy's default do.
/// `None` for an empty slice.
pub fn percentile_cont(sorted: &[f64], p: f64) -> Option<f64> {
    let (lo, hi, frac) = ranks(sorted.len(), p)?;
    Some(lerp(sorted[lo], sorted[hi], frac))
}

fn lerp(a: f64, b: f64, frac: f64) -> f64 {
    a + (b - a) * frac
}

/// The two ranks a percentile interpolates between, and the weight of the upper.
fn ranks(n: usize, p: f64) -> Option<(usize, usize, f64)> {
    if n == 0 {
        return None;
    }
    let h = p.clamp(0.0, 1.0) * (n - 1) as f64;
    let lo = h.floor() as usize;
    let frac = h - lo as f64;
    let hi = if frac > 0.0 { lo + 1 } else { lo };
    Some((lo, hi, frac))
}

/// The recovery times that qualify for one statistic, plus (censor mode) how
/// many expired open incidents are known only to exceed the window.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Sample {
    pub secs: Vec<i64>,
    pub censored: usize,
}

impl Sample {
    pub fn count(&self) -> usize {
        self.secs.len() + self.censored
    }
}

/// Statistics of one sample; `None` means "not known", never 0.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Stats {
    pub count: usize,
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub mean: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// Lower bound of the median when it falls among censored values.
    pub p50_at_least: Option<f64>,
    pub notes: Vec<String>,
}

/// Describes a sample. Sorts `sample.secs` in place.
pub(crate) fn describe(sample: &mut Sample, settings: &RecoverySettings) -> Stats {
    let count = sample.count();
    let mut stats = Stats {
        count,
        ..Stats::default()
    };
    if count == 0 || count < settings.min_sample {
        if count > 0 {
            stats.notes.push(format!(
                "only {} qualif{}, fewer than the minimum sample of {}: statistics withheld",
                words::count(count, "incident", "incidents"),
                if count == 1 { "ies" } else { "y" },
                settings.min_sample
            ));
        }
        return stats;
    }
    sample.secs.sort_unstable();
    let known: Vec<f64> = sample.secs.iter().map(|&s| s as f64).collect();
    let censored = sample.censored;
    // Censored values all exceed the window, which every known value is
    // within, so they sort after the known ones.
    let at = |p: f64, name: &str, notes: &mut Vec<String>| -> Option<f64> {
        let (lo, hi, frac) = ranks(count, p)?;
        if hi < known.len() {
            return Some(lerp(known[lo], known[hi], frac));
        }
        notes.push(format!(
            "{name} falls among {} not recovered within {}: value unknown, reported as null",
            words::count(censored, "open incident", "open incidents"),
            words::duration(settings.window_secs as f64)
        ));
        None
    };
    stats.p50 = at(0.5, "P50", &mut stats.notes);
    stats.p90 = at(0.9, "P90", &mut stats.notes);
    if stats.p50.is_none() {
        // Replacing each censored value by the window bounds the median below.
        let (lo, hi, frac) = ranks(count, 0.5).expect("non-empty");
        let value = |i: usize| known.get(i).copied().unwrap_or(settings.window_secs as f64);
        stats.p50_at_least = Some(lerp(value(lo), value(hi), frac));
    }
    stats.min = known.first().copied();
    if censored == 0 {
        stats.max = known.last().copied();
        stats.mean = Some(known.iter().sum::<f64>() / count as f64);
    } else {
        stats.notes.push(format!(
            "mean and max are unknown while {} censored",
            words::count(censored, "open incident is", "open incidents are")
        ));
    }
    stats
}

/// Whether an open incident enters the sample, and how.
pub(crate) fn censors(settings: &RecoverySettings, expired: bool) -> bool {
    settings.open_incidents == OpenIncidents::Censor && expired
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(min_sample: usize, open: OpenIncidents) -> RecoverySettings {
        RecoverySettings {
            min_sample,
            open_incidents: open,
            ..RecoverySettings::default()
        }
    }

    #[test]
    fn percentile_cont_matches_postgres_and_numpy() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(percentile_cont(&v, 0.5), Some(2.5)); // even sample's median
        assert!((percentile_cont(&v, 0.9).unwrap() - 3.7).abs() < 1e-9);
        assert_eq!(percentile_cont(&v, 0.0), Some(1.0));
        assert_eq!(percentile_cont(&v, 1.0), Some(4.0));
        assert_eq!(percentile_cont(&[7.0], 0.9), Some(7.0));
        assert_eq!(percentile_cont(&[], 0.5), None);
        let odd = [10.0, 20.0, 30.0, 40.0, 50.0];
        assert_eq!(percentile_cont(&odd, 0.5), Some(30.0));
        assert!((percentile_cont(&odd, 0.9).unwrap() - 46.0).abs() < 1e-9);
    }

    #[test]
    fn full_statistics_over_an_even_sample() {
        let mut s = Sample {
            secs: vec![600, 100, 400, 300, 200, 500],
            censored: 0,
        };
        let st = describe(&mut s, &settings(5, OpenIncidents::Exclude));
        assert_eq!(st.count, 6);
        assert_eq!(st.p50, Some(350.0));
        assert_eq!(st.p90, Some(550.0));
        assert_eq!(st.mean, Some(350.0));
        assert_eq!((st.min, st.max), (Some(100.0), Some(600.0)));
        assert!(st.notes.is_empty());
    }

    #[test]
    fn fewer_than_min_sample_gives_count_and_nulls() {
        let mut s = Sample {
            secs: vec![100, 200, 300, 400],
            censored: 0,
        };
        let st = describe(&mut s, &settings(5, OpenIncidents::Exclude));
        assert_eq!(st.count, 4);
        assert_eq!(
            (st.p50, st.p90, st.mean, st.min, st.max),
            (None, None, None, None, None)
        );
        assert_eq!(st.notes.len(), 1);
    }

    #[test]
    fn empty_sample_is_all_null_without_notes() {
        let st = describe(&mut Sample::default(), &settings(5, OpenIncidents::Exclude));
        assert_eq!(st, Stats::default());
    }

    #[test]
    fn censored_values_sort_last_and_hide_high_percentiles() {
        // 4 known + 2 censored: P50 interpolates ranks 2 and 3 (known),
        // P90 needs rank 5 (censored).
        let mut s = Sample {
            secs: vec![100, 200, 300, 400],
            censored: 2,
        };
        let st = describe(&mut s, &settings(5, OpenIncidents::Censor));
        assert_eq!(st.count, 6);
        assert_eq!(st.p50, Some(350.0));
        assert_eq!(st.p90, None);
        assert_eq!(st.mean, None);
        assert_eq!(st.max, None);
        assert_eq!(st.min, Some(100.0));
        assert_eq!(st.notes.len(), 2);
    }

    #[test]
    fn censored_median_has_a_lower_bound() {
        let mut s = Sample {
            secs: vec![100, 200],
            censored: 3,
        };
        let st = describe(&mut s, &settings(5, OpenIncidents::Censor));
        assert_eq!(st.p50, None);
        assert_eq!(
            st.p50_at_least,
            Some(crate::domain::settings::WEEK_SECS as f64)
        );
    }
}
