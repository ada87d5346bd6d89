//! Application answers as Grafana frames. Field names are the documented
//! contract of each query type; times are timestamps, durations seconds.

use std::collections::BTreeMap;

use super::dataframe::{DataLink, Field, FieldConfig, Frame, Values};
use crate::analysis::{
    incident_columns, ChangeLine, Column, DeployLine, IncidentRow, Unit, CHANGE_COLUMNS,
    DEPLOY_COLUMNS, SUMMARY_COLUMNS,
};
use crate::domain::{GroupLabel, Point, Series, Summary};

/// A table's fields from its columns in the output contract.
fn fields<'c, R: 'static>(
    rows: &[R],
    columns: impl IntoIterator<Item = &'c Column<R>>,
) -> Vec<Field> {
    columns
        .into_iter()
        .map(|c| {
            let field = Field::new(c.name, (c.values)(rows));
            let unit = c.unit.map(|u| match u {
                Unit::Seconds => "s",
                Unit::Ratio => "percentunit",
            });
            match (unit, c.link) {
                (None, None) => field,
                (unit, link) => field.with_config(FieldConfig {
                    unit: unit.map(str::to_string),
                    links: link.map(link_to).into_iter().collect(),
                    ..FieldConfig::default()
                }),
            }
        })
        .collect()
}

/// Failed deploys and how each ended, newest first.
pub fn incidents_frame(rows: &[IncidentRow], include_superseded: bool) -> Frame {
    Frame::new(
        "incidents",
        fields(rows, incident_columns(include_superseded)),
    )
}

/// The deploys in range, newest first.
pub fn deploys_frame(rows: &[DeployLine]) -> Frame {
    Frame::new("deploys", fields(rows, DEPLOY_COLUMNS))
}

/// Changes delivered in range and those waiting, newest first.
pub fn changes_frame(rows: &[ChangeLine]) -> Frame {
    Frame::new("changes", fields(rows, CHANGE_COLUMNS))
}

/// One row per group (one row in all without grouping), the group's
/// `repo`/`environment` first.
pub fn summary_frame(groups: &[(GroupLabel, Summary)]) -> Frame {
    let label = |name: &str, f: fn(&GroupLabel) -> &Option<String>| {
        groups.iter().any(|(g, _)| f(g).is_some()).then(|| {
            Field::new(
                name,
                Values::Str(
                    groups
                        .iter()
                        .map(|(g, _)| f(g).clone().unwrap_or_default())
                        .collect(),
                ),
            )
        })
    };
    let summaries: Vec<Summary> = groups.iter().map(|(_, s)| s.clone()).collect();
    let fields = [
        label("repo", |g| &g.repo),
        label("environment", |g| &g.environment),
    ]
    .into_iter()
    .flatten()
    .chain(fields(&summaries, SUMMARY_COLUMNS))
    .collect();
    Frame::new("summary", fields)
}

/// A summary reduced to one number per group, the group as labels: the
/// shape Grafana's alerting evaluates (one series per label set). The
/// metric is a name from `SUMMARY_COLUMNS`, checked when the query was
/// read.
pub fn summary_metric_frames(groups: &[(GroupLabel, Summary)], metric: &str) -> Vec<Frame> {
    let column = SUMMARY_COLUMNS
        .iter()
        .find(|c| c.name == metric)
        .expect("metric checked when the query was read");
    groups
        .iter()
        .map(|(g, s)| {
            let values = fields(std::slice::from_ref(s), [column])
                .into_iter()
                .map(|f| f.with_labels(labels_of(g)))
                .collect();
            Frame::new(metric, values)
        })
        .collect()
}

/// A group's repo and environment, as field labels.
fn labels_of(g: &GroupLabel) -> BTreeMap<String, String> {
    [
        g.repo.as_ref().map(|r| ("repo".to_string(), r.clone())),
        g.environment
            .as_ref()
            .map(|e| ("environment".to_string(), e.clone())),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// One frame per series; a group's labels sit on every value field, next
/// to the unit (which is why frames are written with our own encoder).
fn series_frames(series: &[Series], name: &str, values: fn(&[Point]) -> Vec<Field>) -> Vec<Frame> {
    series
        .iter()
        .map(|s| {
            let labels = labels_of(&s.group);
            let time = Field::new(
                "time",
                Values::Time(s.points.iter().map(|p| p.time).collect()),
            );
            let fields = std::iter::once(time)
                .chain(
                    values(&s.points)
                        .into_iter()
                        .map(|f| f.with_labels(labels.clone())),
                )
                .collect();
            Frame::new(name, fields)
        })
        .collect()
}

fn stat(points: &[Point], f: fn(&Point) -> Option<f64>) -> Vec<Option<f64>> {
    points.iter().map(f).collect()
}

fn counts(points: &[Point], f: fn(&Point) -> usize) -> Values {
    Values::I64(points.iter().map(|p| f(p) as i64).collect())
}

fn ratio(name: &str, values: Vec<Option<f64>>) -> Field {
    Field::new(name, Values::OptF64(values)).with_config(FieldConfig {
        unit: Some("percentunit".into()),
        ..FieldConfig::default()
    })
}

/// Recovery time per bucket (`mttr`).
pub fn mttr_frames(series: &[Series]) -> Vec<Frame> {
    series_frames(series, "mttr", |p| {
        vec![
            Field::seconds("p50_seconds", stat(p, |p| p.p50)),
            Field::seconds("p90_seconds", stat(p, |p| p.p90)),
            Field::seconds("mean_seconds", stat(p, |p| p.mean)),
            Field::new("incidents", counts(p, |p| p.incidents)),
        ]
    })
}

/// Every key per bucket (`trends`): deploy frequency, change failure,
/// rework, the median recovery time and the median lead time.
pub fn trends_frames(series: &[Series]) -> Vec<Frame> {
    series_frames(series, "trends", |p| {
        vec![
            Field::new("deploys", counts(p, |p| p.deploys)),
            Field::new(
                "deploys_per_day",
                Values::F64(p.iter().map(|p| p.deploys_per_day).collect()),
            ),
            Field::new("failed_deploys", counts(p, |p| p.failed_deploys)),
            ratio("change_failure_rate", stat(p, |p| p.change_failure_rate)),
            Field::new("rework_deploys", counts(p, |p| p.rework_deploys)),
            ratio("rework_rate", stat(p, |p| p.rework_rate)),
            Field::seconds("p50_seconds", stat(p, |p| p.p50)),
            Field::new("incidents", counts(p, |p| p.incidents)),
            Field::seconds("lead_time_p50_seconds", stat(p, |p| p.lead_time_p50)),
            Field::new("changes", counts(p, |p| p.changes)),
        ]
    })
}

/// A link that opens the cell's URL.
fn link_to(title: &str) -> DataLink {
    DataLink {
        title: title.into(),
        url: "${__value.raw}".into(),
        target_blank: true,
    }
}
