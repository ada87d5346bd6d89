//! The recovery options a data source sets as defaults (`jsonData`) and a
//! query may override. Both are read by the same code so they can't drift.

use crate::domain::{DeployFilter, Event, OpenIncidents, RecoverySettings, Status};

use super::json_fields::{Bounds, FieldError, JsonObject};

/// A recovery window from one minute to a year, in days.
pub const WINDOW_DAYS: Bounds = Bounds {
    key: "windowDays",
    min: 1.0 / 1440.0,
    max: 365.0,
    whole: false,
    unit: Some("day"),
};
/// Flaky below zero (none flaky) to a week, in minutes.
pub const FLAKY_MINUTES: Bounds = Bounds {
    key: "flakyMinutes",
    min: 0.0,
    max: 7.0 * 1440.0,
    whole: false,
    unit: Some("minute"),
};
pub const MIN_SAMPLE: Bounds = Bounds {
    key: "minSample",
    min: 1.0,
    max: 1_000_000.0,
    whole: true,
    unit: None,
};
/// Every numeric recovery option, for the editors.
pub const OPTION_BOUNDS: [Bounds; 3] = [WINDOW_DAYS, FLAKY_MINUTES, MIN_SAMPLE];

/// Every field optional: `None` means "inherit".
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RecoveryOptions {
    pub events: Option<Vec<Event>>,
    pub deploy_steps: Option<Vec<String>>,
    pub change_events: Option<Vec<Event>>,
    pub branches: Option<Vec<String>>,
    pub environments: Option<Vec<String>>,
    pub failure_statuses: Option<Vec<Status>>,
    pub window_days: Option<f64>,
    pub flaky_minutes: Option<f64>,
    pub min_sample: Option<u64>,
    pub open_incidents: Option<OpenIncidents>,
}

impl RecoveryOptions {
    pub fn read(o: &JsonObject<'_>) -> Result<RecoveryOptions, FieldError> {
        Ok(RecoveryOptions {
            events: non_empty(parse_each(o, "events", parse_event)?),
            deploy_steps: non_empty(o.strings("deploySteps")?),
            change_events: non_empty(parse_each(o, "changeEvents", parse_event)?),
            branches: non_empty(o.strings("branches")?),
            environments: non_empty(o.strings("environments")?),
            failure_statuses: non_empty(parse_each(o, "failureStatuses", parse_failure_status)?),
            window_days: o.bounded(&WINDOW_DAYS)?,
            flaky_minutes: o.bounded(&FLAKY_MINUTES)?,
            min_sample: o.bounded(&MIN_SAMPLE)?.map(|n| n as u64),
            open_incidents: match o.opt_str("openIncidents")? {
                None => None,
                Some("exclude") => Some(OpenIncidents::Exclude),
                Some("censor") => Some(OpenIncidents::Censor),
                Some(other) => {
                    return Err(FieldError::new(
                        "openIncidents",
                        format!("must be \"exclude\" or \"censor\", got {other:?}"),
                    ))
                }
            },
        })
    }

    /// Fills every unset field from `fallback` (query over data source).
    pub fn or(self, fallback: &RecoveryOptions) -> RecoveryOptions {
        RecoveryOptions {
            events: self.events.or_else(|| fallback.events.clone()),
            deploy_steps: self.deploy_steps.or_else(|| fallback.deploy_steps.clone()),
            change_events: self
                .change_events
                .or_else(|| fallback.change_events.clone()),
            branches: self.branches.or_else(|| fallback.branches.clone()),
            environments: self.environments.or_else(|| fallback.environments.clone()),
            failure_statuses: self
                .failure_statuses
                .or_else(|| fallback.failure_statuses.clone()),
            window_days: self.window_days.or(fallback.window_days),
            flaky_minutes: self.flaky_minutes.or(fallback.flaky_minutes),
            min_sample: self.min_sample.or(fallback.min_sample),
            open_incidents: self.open_incidents.or(fallback.open_incidents),
        }
    }
}

impl RecoveryOptions {
    /// The engine's filter and settings: every unset option takes the
    /// engine's documented default.
    pub fn resolve(self) -> (DeployFilter, RecoverySettings) {
        let f = DeployFilter::default();
        let s = RecoverySettings::default();
        let filter = DeployFilter {
            events: self.events.unwrap_or(f.events),
            deploy_steps: self.deploy_steps.unwrap_or(f.deploy_steps),
            change_events: self.change_events.unwrap_or(f.change_events),
            branches: self.branches.unwrap_or(f.branches),
            environments: self.environments.unwrap_or(f.environments),
        };
        let settings = RecoverySettings {
            failure_statuses: self.failure_statuses.unwrap_or(s.failure_statuses),
            window_secs: self
                .window_days
                .map_or(s.window_secs, |d| (d * 86_400.0).round() as i64),
            flaky_secs: self
                .flaky_minutes
                .map_or(s.flaky_secs, |m| (m * 60.0).round() as i64),
            min_sample: self.min_sample.map_or(s.min_sample, |n| n as usize),
            open_incidents: self.open_incidents.unwrap_or(s.open_incidents),
        };
        (filter, settings)
    }
}

fn non_empty<T>(v: Vec<T>) -> Option<Vec<T>> {
    (!v.is_empty()).then_some(v)
}

fn parse_each<T>(
    o: &JsonObject<'_>,
    key: &str,
    parse: fn(&str) -> Result<T, String>,
) -> Result<Vec<T>, FieldError> {
    o.strings(key)?
        .iter()
        .map(|s| parse(s).map_err(|m| FieldError::new(key, m)))
        .collect()
}

fn parse_event(s: &str) -> Result<Event, String> {
    match Event::parse(s) {
        Event::Other => Err(format!(
            "has an unknown event {s:?}; expected any of {}",
            names(Event::ALL.iter().map(|e| e.as_str()))
        )),
        e => Ok(e),
    }
}

fn parse_failure_status(s: &str) -> Result<Status, String> {
    match Status::parse(s) {
        Status::Other | Status::Success => Err(format!(
            "has {s:?}, which cannot mean a failed deploy; expected any of {}",
            names(FAILURE_CANDIDATES.iter().map(|s| s.as_str()))
        )),
        st => Ok(st),
    }
}

/// Statuses a user may count as a failed deploy.
pub(crate) const FAILURE_CANDIDATES: [Status; 6] = [
    Status::Failure,
    Status::Error,
    Status::Killed,
    Status::Canceled,
    Status::Declined,
    Status::Blocked,
];

fn names<'a>(it: impl Iterator<Item = &'a str>) -> String {
    it.collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(v: serde_json::Value) -> Result<RecoveryOptions, FieldError> {
        RecoveryOptions::read(&JsonObject::new(&v, "query").unwrap())
    }

    #[test]
    fn reads_every_option() {
        let o = read(json!({
            "events": ["deployment", "push"], "branches": ["main"], "environments": ["prod"],
            "failureStatuses": ["failure", "killed"], "windowDays": 3, "flakyMinutes": 0,
            "minSample": 10, "openIncidents": "censor"
        }))
        .unwrap();
        assert_eq!(o.events, Some(vec![Event::Deployment, Event::Push]));
        assert_eq!(
            o.failure_statuses,
            Some(vec![Status::Failure, Status::Killed])
        );
        assert_eq!(o.window_days, Some(3.0));
        assert_eq!(o.flaky_minutes, Some(0.0));
        assert_eq!(o.min_sample, Some(10));
        assert_eq!(o.open_incidents, Some(OpenIncidents::Censor));
    }

    #[test]
    fn query_overrides_data_source_field_by_field() {
        let ds = read(json!({"windowDays": 3, "events": ["push"]})).unwrap();
        let q = read(json!({"windowDays": 1, "events": []})).unwrap();
        let merged = q.or(&ds);
        assert_eq!(merged.window_days, Some(1.0));
        assert_eq!(merged.events, Some(vec![Event::Push]));
    }

    #[test]
    fn bad_values_name_their_field() {
        for (v, field) in [
            (json!({"events": ["deploy"]}), "events"),
            (json!({"failureStatuses": ["success"]}), "failureStatuses"),
            (json!({"windowDays": 0}), "windowDays"),
            (json!({"windowDays": -3}), "windowDays"),
            (json!({"windowDays": 1e300}), "windowDays"),
            (json!({"flakyMinutes": -1}), "flakyMinutes"),
            (json!({"minSample": 0}), "minSample"),
            (json!({"openIncidents": "ignore"}), "openIncidents"),
        ] {
            assert_eq!(read(v.clone()).unwrap_err().field, field, "{v}");
        }
    }
}
