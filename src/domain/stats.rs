//! Recovery-time statistics over a sample, with the minimum-sample guard
//! and, in censor mode, open incidents as values beyond the window.

use super::settings::{OpenIncidents, RecoverySettings};

/// `percentile_cont`: linear interpolation between closest ranks, as
/// PostgreSQL's `percentile_cont` and NumPy's default. `sorted` must be
/// ascending and non-empty; `p` in [0, 1].
pub fn percentile_cont(sorted: &[f64], p: f64) -> f64 {
    let rank = p * (sorted.len() - 1) as f64;
    let lo = rank.floor() as usize;
    let hi = rank.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo as f64)
}

/// The DORA performance band of a median recovery time: the 2023 State of
/// DevOps clusters (elite < 1 hour, high < 1 day, medium < 1 week), with
/// Apache DevLake's "low" for anything longer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Band {
    Elite,
    High,
    Medium,
    Low,
}

impl Band {
    pub fn of(median_secs: f64) -> Band {
        match median_secs {
            s if s < 3_600.0 => Band::Elite,
            s if s < 86_400.0 => Band::High,
            s if s < 7.0 * 86_400.0 => Band::Medium,
            _ => Band::Low,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Band::Elite => "elite",
            Band::High => "high",
            Band::Medium => "medium",
            Band::Low => "low",
        }
    }
}

/// Statistics of one sample of recovery times (seconds).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RecoveryStats {
    /// Incidents in the sample: resolved ones, plus open ones in censor mode.
    pub count: usize,
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub mean: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// Why a statistic is missing, in words.
    pub notes: Vec<String>,
}

/// `resolved` holds recovery times (any order); `open` is how many open
/// incidents share the sample (used only in censor mode).
pub fn recovery_stats(
    mut resolved: Vec<f64>,
    open: usize,
    settings: &RecoverySettings,
) -> RecoveryStats {
    let censored = match settings.open_incidents {
        OpenIncidents::Exclude => 0,
        OpenIncidents::Censor => open,
    };
    let count = resolved.len() + censored;
    if count < settings.min_sample {
        return RecoveryStats {
            count,
            notes: vec![format!(
                "{count} incident{} qualif{}; statistics need at least {}",
                if count == 1 { "" } else { "s" },
                if count == 1 { "ies" } else { "y" },
                settings.min_sample
            )],
            ..RecoveryStats::default()
        };
    }
    resolved.sort_unstable_by(f64::total_cmp);
    let known = resolved.len();
    let mut notes = Vec::new();
    // Censored values sort after every resolved one (they are at least the
    // window); a percentile needing one of them is unknown.
    let mut pct = |p: f64, name: &str| {
        let rank = p * (count - 1) as f64;
        if rank.ceil() as usize >= known {
            notes.push(format!(
                "{name} is beyond the {}-day window: {censored} of {count} incidents are still open",
                settings.window_secs as f64 / 86_400.0
            ));
            None
        } else {
            Some(percentile_cont(&resolved, p))
        }
    };
    let p50 = pct(0.5, "P50");
    let p90 = pct(0.9, "P90");
    let (mean, max) = if censored == 0 {
        let mean = resolved.iter().sum::<f64>() / known as f64;
        (Some(mean), resolved.last().copied())
    } else {
        notes.push(format!(
            "mean and max are unknown while {censored} incident{} open",
            if censored == 1 { " is" } else { "s are" }
        ));
        (None, None)
    };
    RecoveryStats {
        count,
        p50,
        p90,
        mean,
        min: resolved.first().copied(),
        max,
        notes,
    }
}
