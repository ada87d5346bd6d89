//! Application answers as Grafana frames. Field names are the documented
//! contract of each query type; times are timestamps, durations seconds.

use std::collections::BTreeMap;

use super::dataframe::{DataLink, Field, FieldConfig, Frame, Values};
use crate::analysis::{DeployLine, IncidentRow};
use crate::domain::{GroupLabel, Series, Summary};

/// Failed deploys and how each ended, newest first.
pub(crate) fn incidents_frame(rows: &[IncidentRow], include_superseded: bool) -> Frame {
    let col = |f: fn(&IncidentRow) -> Option<i64>| rows.iter().map(f).collect::<Vec<_>>();
    let mut fields = vec![
        Field::new(
            "repo",
            Values::Str(rows.iter().map(|r| r.repo.clone()).collect()),
        ),
        Field::new(
            "environment",
            Values::Str(rows.iter().map(|r| r.environment.clone()).collect()),
        ),
        Field::new(
            "status",
            Values::Str(rows.iter().map(|r| r.status.as_str().to_string()).collect()),
        ),
        Field::new(
            "failed_at",
            Values::Time(rows.iter().map(|r| r.failed_at).collect()),
        ),
        Field::new("recovered_at", Values::OptTime(col(|r| r.recovered_at))),
        Field::seconds(
            "recovery_seconds",
            rows.iter()
                .map(|r| r.recovery_secs.map(|s| s as f64))
                .collect(),
        ),
        Field::new(
            "flaky",
            Values::Bool(rows.iter().map(|r| r.flaky).collect()),
        ),
        Field::new(
            "chain_failures",
            Values::OptI64(col(|r| r.chain_failures.map(i64::from))),
        ),
        Field::new(
            "pipeline",
            Values::I64(rows.iter().map(|r| r.pipeline as i64).collect()),
        ),
        Field::new(
            "recovered_by",
            Values::OptI64(col(|r| r.recovered_by.map(|n| n as i64))),
        ),
        Field::new(
            "url",
            Values::Str(rows.iter().map(|r| r.url.clone()).collect()),
        )
        .with_config(link_config("Open the failed pipeline in Woodpecker")),
    ];
    if include_superseded {
        fields.insert(
            10,
            Field::new(
                "superseded_by",
                Values::OptI64(col(|r| r.superseded_by.map(|n| n as i64))),
            ),
        );
    }
    Frame::new("incidents", fields)
}

/// The deploys in range, newest first.
pub(crate) fn deploys_frame(rows: &[DeployLine]) -> Frame {
    let text =
        |f: fn(&DeployLine) -> &str| Values::Str(rows.iter().map(|d| f(d).to_string()).collect());
    Frame::new(
        "deploys",
        vec![
            Field::new("repo", text(|d| &d.repo)),
            Field::new("environment", text(|d| &d.environment)),
            Field::new(
                "finished_at",
                Values::Time(rows.iter().map(|d| d.finished_at).collect()),
            ),
            Field::new("status", text(|d| d.status)),
            Field::new(
                "pipeline",
                Values::I64(rows.iter().map(|d| d.pipeline as i64).collect()),
            ),
            Field::new("event", text(|d| d.event)),
            Field::new("branch", text(|d| &d.branch)),
            Field::new("url", text(|d| &d.url))
                .with_config(link_config("Open the pipeline in Woodpecker")),
        ],
    )
}

/// One row per group (one row in all without grouping).
pub(crate) fn summary_frame(groups: &[(GroupLabel, Summary)]) -> Frame {
    let mut fields = Vec::new();
    if groups.iter().any(|(g, _)| g.repo.is_some()) {
        fields.push(Field::new(
            "repo",
            Values::Str(
                groups
                    .iter()
                    .map(|(g, _)| g.repo.clone().unwrap_or_default())
                    .collect(),
            ),
        ));
    }
    if groups.iter().any(|(g, _)| g.environment.is_some()) {
        fields.push(Field::new(
            "environment",
            Values::Str(
                groups
                    .iter()
                    .map(|(g, _)| g.environment.clone().unwrap_or_default())
                    .collect(),
            ),
        ));
    }
    let col = |f: fn(&Summary) -> Option<f64>| groups.iter().map(|(_, s)| f(s)).collect::<Vec<_>>();
    let count =
        |f: fn(&Summary) -> usize| Values::I64(groups.iter().map(|(_, s)| f(s) as i64).collect());
    fields.extend([
        Field::new("incidents", count(|s| s.incidents)),
        Field::seconds("p50_seconds", col(|s| s.p50)),
        Field::seconds("p90_seconds", col(|s| s.p90)),
        Field::seconds("mean_seconds", col(|s| s.mean)),
        Field::new("open", count(|s| s.open)),
        Field::new("superseded", count(|s| s.superseded)),
        Field::new("flaky", count(|s| s.flaky)),
        Field::new("deploys", count(|s| s.deploys)),
        Field::new("failed_deploys", count(|s| s.failed_deploys)),
        Field::new(
            "change_failure_rate",
            Values::OptF64(col(|s| s.change_failure_rate)),
        )
        .with_config(FieldConfig {
            unit: Some("percentunit".into()),
            ..FieldConfig::default()
        }),
        Field::new(
            "deploys_per_day",
            Values::F64(groups.iter().map(|(_, s)| s.deploys_per_day).collect()),
        ),
        Field::new(
            "band",
            Values::Str(
                groups
                    .iter()
                    .map(|(_, s)| s.band.map(|b| b.as_str().to_string()).unwrap_or_default())
                    .collect(),
            ),
        ),
    ]);
    Frame::new("summary", fields)
}

/// One frame per series; a group's labels sit on every value field, next
/// to the unit (which is why frames are written with our own encoder).
pub(crate) fn mttr_frames(series: &[Series]) -> Vec<Frame> {
    series
        .iter()
        .map(|s| {
            let labels: BTreeMap<String, String> = [
                s.group
                    .repo
                    .as_ref()
                    .map(|r| ("repo".to_string(), r.clone())),
                s.group
                    .environment
                    .as_ref()
                    .map(|e| ("environment".to_string(), e.clone())),
            ]
            .into_iter()
            .flatten()
            .collect();
            let stat = |f: fn(&crate::domain::Point) -> Option<f64>| {
                s.points.iter().map(f).collect::<Vec<_>>()
            };
            Frame::new(
                "mttr",
                vec![
                    Field::new(
                        "time",
                        Values::Time(s.points.iter().map(|p| p.time).collect()),
                    ),
                    Field::seconds("p50_seconds", stat(|p| p.p50)).with_labels(labels.clone()),
                    Field::seconds("p90_seconds", stat(|p| p.p90)).with_labels(labels.clone()),
                    Field::seconds("mean_seconds", stat(|p| p.mean)).with_labels(labels.clone()),
                    Field::new(
                        "incidents",
                        Values::I64(s.points.iter().map(|p| p.incidents as i64).collect()),
                    )
                    .with_labels(labels),
                ],
            )
        })
        .collect()
}

fn link_config(title: &str) -> FieldConfig {
    FieldConfig {
        links: vec![DataLink {
            title: title.into(),
            url: "${__value.raw}".into(),
            target_blank: true,
        }],
        ..FieldConfig::default()
    }
}
