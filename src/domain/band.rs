//! DORA performance band of a median recovery time (rule 8): the 2023 State
//! of DevOps recovery-time clusters, with Apache DevLake's "more than one
//! week" cut-off for low (the survey's clusters leave gaps).

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
    }
}
