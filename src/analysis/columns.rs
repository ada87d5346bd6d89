//! The output contract: the columns of each table, with their names, units
//! and values, written once here and rendered by the plugin's frames and
//! the CLI's JSON and CSV alike.

use super::rows::{ChangeLine, DeployLine, IncidentRow};
use crate::domain::{Band, Summary};

/// The values of one column; times are Unix seconds.
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    Time(Vec<i64>),
    OptTime(Vec<Option<i64>>),
    Str(Vec<String>),
    OptStr(Vec<Option<String>>),
    F64(Vec<f64>),
    OptF64(Vec<Option<f64>>),
    I64(Vec<i64>),
    OptI64(Vec<Option<i64>>),
    Bool(Vec<bool>),
}

impl Values {
    pub fn len(&self) -> usize {
        match self {
            Values::Time(v) | Values::I64(v) => v.len(),
            Values::OptTime(v) | Values::OptI64(v) => v.len(),
            Values::Str(v) => v.len(),
            Values::OptStr(v) => v.len(),
            Values::F64(v) => v.len(),
            Values::OptF64(v) => v.len(),
            Values::Bool(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What a number means, for display.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Seconds,
    /// A fraction, 0…1.
    Ratio,
}

/// One column of a table of `R` rows.
pub struct Column<R> {
    pub name: &'static str,
    pub unit: Option<Unit>,
    /// The column holds a link to Woodpecker, with this title.
    pub link: Option<&'static str>,
    pub values: fn(&[R]) -> Values,
}

const fn col<R>(name: &'static str, values: fn(&[R]) -> Values) -> Column<R> {
    Column {
        name,
        unit: None,
        link: None,
        values,
    }
}

const fn seconds<R>(name: &'static str, values: fn(&[R]) -> Values) -> Column<R> {
    Column {
        unit: Some(Unit::Seconds),
        ..col(name, values)
    }
}

fn text<R>(rows: &[R], f: impl Fn(&R) -> &str) -> Values {
    Values::Str(rows.iter().map(|r| f(r).to_string()).collect())
}

fn ids<R>(rows: &[R], f: impl Fn(&R) -> Option<u64>) -> Values {
    Values::OptI64(rows.iter().map(|r| f(r).map(|n| n as i64)).collect())
}

fn count<R>(rows: &[R], f: impl Fn(&R) -> usize) -> Values {
    Values::I64(rows.iter().map(|r| f(r) as i64).collect())
}

fn floats<R>(rows: &[R], f: impl Fn(&R) -> Option<f64>) -> Values {
    Values::OptF64(rows.iter().map(f).collect())
}

/// `incidents`; `superseded_by` only when superseded rows are asked for.
pub const INCIDENT_COLUMNS: &[Column<IncidentRow>] = &[
    col("repo", |r| text(r, |r| &r.repo)),
    col("environment", |r| text(r, |r| &r.environment)),
    col("status", |r| text(r, |r| r.status.as_str())),
    col("failed_at", |r| {
        Values::Time(r.iter().map(|r| r.failed_at).collect())
    }),
    col("recovered_at", |r| {
        Values::OptTime(r.iter().map(|r| r.recovered_at).collect())
    }),
    seconds("recovery_seconds", |r| {
        floats(r, |r| r.recovery_secs.map(|s| s as f64))
    }),
    col("flaky", |r| {
        Values::Bool(r.iter().map(|r| r.flaky).collect())
    }),
    col("chain_failures", |r| {
        Values::OptI64(r.iter().map(|r| r.chain_failures.map(i64::from)).collect())
    }),
    col("pipeline", |r| {
        Values::I64(r.iter().map(|r| r.pipeline as i64).collect())
    }),
    col("recovered_by", |r| ids(r, |r| r.recovered_by)),
    col("superseded_by", |r| ids(r, |r| r.superseded_by)),
    Column {
        link: Some("Open the failed pipeline in Woodpecker"),
        ..col("url", |r| text(r, |r| &r.url))
    },
];

/// The `incidents` columns for a table with or without superseded rows.
pub fn incident_columns(
    include_superseded: bool,
) -> impl Iterator<Item = &'static Column<IncidentRow>> {
    INCIDENT_COLUMNS
        .iter()
        .filter(move |c| include_superseded || c.name != "superseded_by")
}

/// `deploys`.
pub const DEPLOY_COLUMNS: &[Column<DeployLine>] = &[
    col("repo", |r| text(r, |r| &r.repo)),
    col("environment", |r| text(r, |r| &r.environment)),
    col("finished_at", |r| {
        Values::Time(r.iter().map(|r| r.finished_at).collect())
    }),
    col("status", |r| text(r, |r| r.status)),
    col("pipeline", |r| {
        Values::I64(r.iter().map(|r| r.pipeline as i64).collect())
    }),
    col("event", |r| text(r, |r| r.event)),
    col("branch", |r| text(r, |r| &r.branch)),
    Column {
        link: Some("Open the pipeline in Woodpecker"),
        ..col("url", |r| text(r, |r| &r.url))
    },
];

/// `changes`: delivered in range, and waiting (delivery columns null).
pub const CHANGE_COLUMNS: &[Column<ChangeLine>] = &[
    col("repo", |r| text(r, |r| &r.repo)),
    col("environment", |r| text(r, |r| &r.environment)),
    col("branch", |r| text(r, |r| &r.branch)),
    col("pipeline", |r| {
        Values::I64(r.iter().map(|r| r.pipeline as i64).collect())
    }),
    Column {
        link: Some("Open the change's pipeline in Woodpecker"),
        ..col("url", |r| text(r, |r| &r.url))
    },
    col("created", |r| {
        Values::Time(r.iter().map(|r| r.created).collect())
    }),
    col("delivered_at", |r| {
        Values::OptTime(r.iter().map(|r| r.delivered_at).collect())
    }),
    col("delivered_by", |r| ids(r, |r| r.delivered_by)),
    seconds("lead_time_seconds", |r| {
        floats(r, |r| r.lead_time_secs.map(|s| s as f64))
    }),
];

/// `summary`, after the group's `repo`/`environment` columns.
pub const SUMMARY_COLUMNS: &[Column<Summary>] = &[
    col("incidents", |r| count(r, |s| s.incidents)),
    seconds("p50_seconds", |r| floats(r, |s| s.p50)),
    seconds("p90_seconds", |r| floats(r, |s| s.p90)),
    seconds("mean_seconds", |r| floats(r, |s| s.mean)),
    seconds("min_seconds", |r| floats(r, |s| s.min)),
    seconds("max_seconds", |r| floats(r, |s| s.max)),
    col("open", |r| count(r, |s| s.open)),
    col("superseded", |r| count(r, |s| s.superseded)),
    col("flaky", |r| count(r, |s| s.flaky)),
    col("deploys", |r| count(r, |s| s.deploys)),
    col("failed_deploys", |r| count(r, |s| s.failed_deploys)),
    Column {
        unit: Some(Unit::Ratio),
        ..col("change_failure_rate", |r| {
            floats(r, |s| s.change_failure_rate)
        })
    },
    col("deploys_per_day", |r| {
        Values::F64(r.iter().map(|s| s.deploys_per_day).collect())
    }),
    col("band", |r| bands(r, |s| s.band)),
    col("deploy_frequency_band", |r| {
        bands(r, |s| s.deploy_frequency_band)
    }),
    col("change_failure_band", |r| {
        bands(r, |s| s.change_failure_band)
    }),
    col("rework_deploys", |r| count(r, |s| s.rework_deploys)),
    Column {
        unit: Some(Unit::Ratio),
        ..col("rework_rate", |r| floats(r, |s| s.rework_rate))
    },
    seconds("oldest_open_seconds", |r| {
        floats(r, |s| s.oldest_open_secs.map(|t| t as f64))
    }),
    seconds("lead_time_p50_seconds", |r| floats(r, |s| s.lead_time_p50)),
    seconds("lead_time_p90_seconds", |r| floats(r, |s| s.lead_time_p90)),
    col("lead_time_band", |r| bands(r, |s| s.lead_time_band)),
    col("changes", |r| count(r, |s| s.changes)),
    col("waiting_changes", |r| count(r, |s| s.waiting_changes)),
    seconds("oldest_waiting_seconds", |r| {
        floats(r, |s| s.oldest_waiting_secs.map(|t| t as f64))
    }),
];

/// The summary columns that hold a number (bands are words): what a
/// summary's `metric` may name.
pub fn summary_metrics() -> impl Iterator<Item = &'static str> {
    SUMMARY_COLUMNS
        .iter()
        .filter(|c| !matches!((c.values)(&[]), Values::Str(_) | Values::OptStr(_)))
        .map(|c| c.name)
}

fn bands<R>(rows: &[R], f: impl Fn(&R) -> Option<Band>) -> Values {
    Values::OptStr(
        rows.iter()
            .map(|r| f(r).map(|b| b.as_str().to_string()))
            .collect(),
    )
}
