//! DORA performance bands (rule 8). DORA publishes clusters of survey
//! answers, not cut-offs, and its 2023 clusters overlap (medium and low
//! deploy as often), so each metric gets explicit cut-offs here, taken from
//! the 2023 clusters with the gaps closed as Apache DevLake and CDviz close
//! them; docs/metrics.md gives them with their sources.

use super::settings::{DAY_SECS, WEEK_SECS};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Band {
    Elite,
    High,
    Medium,
    Low,
}

impl Band {
    pub fn as_str(self) -> &'static str {
        match self {
            Band::Elite => "elite",
            Band::High => "high",
            Band::Medium => "medium",
            Band::Low => "low",
        }
    }

    /// Elite < 1 hour ≤ high < 1 day ≤ medium < 1 week ≤ low.
    pub fn of_recovery_secs(secs: f64) -> Band {
        if secs < 3600.0 {
            Band::Elite
        } else if secs < DAY_SECS as f64 {
            Band::High
        } else if secs < WEEK_SECS as f64 {
            Band::Medium
        } else {
            Band::Low
        }
    }

    /// Lead time for changes: elite < 1 day ≤ high < 1 week ≤ medium < 30
    /// days ≤ low.
    pub fn of_lead_time_secs(secs: f64) -> Band {
        if secs < DAY_SECS as f64 {
            Band::Elite
        } else if secs < WEEK_SECS as f64 {
            Band::High
        } else if secs < 30.0 * DAY_SECS as f64 {
            Band::Medium
        } else {
            Band::Low
        }
    }

    /// Deploys per day: elite at least daily ("on demand"), high at least
    /// weekly, medium at least monthly (30 days), low less often.
    pub fn of_deploys_per_day(per_day: f64) -> Band {
        if per_day >= 1.0 {
            Band::Elite
        } else if per_day >= 1.0 / 7.0 {
            Band::High
        } else if per_day >= 1.0 / 30.0 {
            Band::Medium
        } else {
            Band::Low
        }
    }

    /// Change failure rate (0…1): elite ≤ 5 %, high ≤ 10 %, medium ≤ 15 %,
    /// low above.
    pub fn of_change_failure_rate(rate: f64) -> Band {
        if rate <= 0.05 {
            Band::Elite
        } else if rate <= 0.10 {
            Band::High
        } else if rate <= 0.15 {
            Band::Medium
        } else {
            Band::Low
        }
    }
}

impl std::fmt::Display for Band {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn band_edges_belong_to_the_slower_band() {
        assert_eq!(Band::of_recovery_secs(3599.0), Band::Elite);
        assert_eq!(Band::of_recovery_secs(3600.0), Band::High);
        assert_eq!(Band::of_recovery_secs(86_399.0), Band::High);
        assert_eq!(Band::of_recovery_secs(86_400.0), Band::Medium);
        assert_eq!(Band::of_recovery_secs(604_799.0), Band::Medium);
        assert_eq!(Band::of_recovery_secs(604_800.0), Band::Low);
        assert_eq!(Band::Low.as_str(), "low");
        assert_eq!(Band::Elite.to_string(), "elite");
        assert_eq!(Band::of_deploys_per_day(1.0), Band::Elite);
        assert_eq!(Band::of_deploys_per_day(0.99), Band::High);
        assert_eq!(Band::of_deploys_per_day(1.0 / 7.0), Band::High);
        assert_eq!(Band::of_deploys_per_day(0.1), Band::Medium);
        assert_eq!(Band::of_deploys_per_day(0.01), Band::Low);
        assert_eq!(Band::of_change_failure_rate(0.05), Band::Elite);
        assert_eq!(Band::of_change_failure_rate(0.1), Band::High);
        assert_eq!(Band::of_change_failure_rate(0.15), Band::Medium);
        assert_eq!(Band::of_change_failure_rate(0.64), Band::Low);
        assert_eq!(Band::of_lead_time_secs(86_399.0), Band::Elite);
        assert_eq!(Band::of_lead_time_secs(86_400.0), Band::High);
        assert_eq!(Band::of_lead_time_secs(604_800.0), Band::Medium);
        assert_eq!(Band::of_lead_time_secs(30.0 * 86_400.0), Band::Low);
    }
}
