//! Answers one query: validate it, analyse, render the frames its type asks
//! for, and say in the frame meta what was computed and what to know.

use grafana_plugin_sdk::pluginv2::DataQuery;

use super::data::QueryFailure;
use super::frame::{Frame, Meta, Notice, Severity, Visualisation};
use super::frames;
use super::instances::Instance;
use super::query::{QuerySpec, QueryType};
use crate::analysis::{self, Analysis, Scope};
use crate::domain::{self, words, SeriesSpec, TimeRange};

pub async fn run_query(
    inst: &Instance,
    q: &DataQuery,
    now: i64,
) -> Result<Vec<Frame>, QueryFailure> {
    let bad = |e: crate::input::json_fields::FieldError| QueryFailure::bad_request(e.to_string());
    let spec = QuerySpec::parse(&q.json, &q.query_type).map_err(bad)?;
    let tr = q
        .time_range
        .ok_or_else(|| QueryFailure::bad_request("the query has no time range"))?;
    let range = TimeRange {
        from: tr.from_epoch_ms.div_euclid(1000),
        to: tr.to_epoch_ms.div_euclid(1000),
    };
    if range.from > range.to {
        return Err(QueryFailure::bad_request(
            "the time range ends before it starts",
        ));
    }
    let (filter, settings) = spec.options.clone().or(&inst.config.defaults).resolve();
    let group_by = spec.group_by;
    let series_spec = match spec.query_type {
        QueryType::Mttr => Some(SeriesSpec {
            bucket_secs: spec
                .bucket_for(range.from, range.to, q.interval_ms)
                .map_err(bad)?,
            rolling_secs: spec.rolling_secs,
            group_by,
        }),
        _ => None,
    };
    // A series' first bucket starts before `from`, and its rolling window
    // earlier still.
    let reach_from = series_spec.map_or(range.from, |s| {
        range.from.div_euclid(s.bucket_secs) * s.bucket_secs - s.rolling_secs.unwrap_or(0)
    });
    let scope = Scope {
        repos: spec.repos.clone(),
        filter,
        settings,
        range,
        reach_from,
        now,
        deadline: inst.config.deadline(),
    };
    let a = analysis::analyse(inst.source.as_ref(), &scope).await?;
    let source = inst.source.as_ref();
    if let Some(st) = source.stats() {
        tracing::debug!(
            ref_id = %q.ref_id,
            requests = st.counters.requests,
            pages = st.counters.pages,
            cache_hits = st.counters.cache_hits,
            cached_pipelines = st.held_pipelines,
            "woodpecker fetch counters"
        );
    }
    let (frames, vis, notes) = match spec.query_type {
        QueryType::Incidents => (
            vec![frames::incidents_frame(
                &a,
                source,
                range,
                spec.include_superseded,
            )],
            Some(Visualisation::Table),
            Vec::new(),
        ),
        QueryType::Deploys => (
            vec![frames::deploys_frame(&a, source, range)],
            Some(Visualisation::Table),
            Vec::new(),
        ),
        QueryType::Summary => {
            let groups = if group_by.repo || group_by.environment {
                domain::summarise_by(&a.deploys, &a.incidents, range, &scope.settings, group_by)
            } else {
                vec![(
                    domain::GroupLabel::default(),
                    domain::summarise(&a.deploys, &a.incidents, range, &scope.settings),
                )]
            };
            let notes = groups
                .iter()
                .flat_map(|(g, s)| s.notes.iter().map(move |n| prefixed(g, n)))
                .collect();
            (vec![frames::summary_frame(&groups)], None, notes)
        }
        QueryType::Mttr => {
            let spec = series_spec.expect("built for mttr above");
            let series = domain::series(&a.deploys, &a.incidents, range, &spec, &scope.settings);
            (
                frames::mttr_frames(&series),
                Some(Visualisation::Graph),
                Vec::new(),
            )
        }
    };
    let meta = meta(&spec, &scope, &a, vis, notes);
    Ok(frames
        .into_iter()
        .map(|f| f.with_meta(meta.clone()))
        .collect())
}

fn prefixed(g: &domain::GroupLabel, note: &str) -> String {
    match (&g.repo, &g.environment) {
        (None, None) => note.to_string(),
        (r, e) => format!(
            "{}: {note}",
            [r.as_deref(), e.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" / ")
        ),
    }
}

fn meta(
    spec: &QuerySpec,
    scope: &Scope,
    a: &Analysis,
    vis: Option<Visualisation>,
    notes: Vec<String>,
) -> Meta {
    let mut notices: Vec<Notice> = a
        .notices
        .iter()
        .map(|n| match n {
            analysis::Notice::Info(t) => Notice {
                severity: Severity::Info,
                text: t.clone(),
            },
            analysis::Notice::Warning(t) => Notice {
                severity: Severity::Warning,
                text: t.clone(),
            },
        })
        .collect();
    notices.extend(notes.into_iter().map(|text| Notice {
        severity: Severity::Info,
        text,
    }));
    Meta {
        executed_query_string: Some(describe(spec, scope)),
        preferred_visualisation_type: vis,
        notices,
        ..Meta::default()
    }
}

/// The query in words, for Grafana's query inspector.
fn describe(spec: &QuerySpec, scope: &Scope) -> String {
    let list = |v: &[String], all: &str| {
        if v.is_empty() {
            all.to_string()
        } else {
            v.join(", ")
        }
    };
    let s = &scope.settings;
    format!(
        "{} of {}; deploys: events {}, branches {}, environments {}; failures: {}; recovery window {}; flaky below {}; at least {} incidents per statistic; open incidents {}",
        spec.query_type.as_str(),
        list(&scope.repos, "all repositories"),
        scope.filter.events.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(", "),
        list(&scope.filter.branches, "any"),
        list(&scope.filter.environments, "any"),
        s.failure_statuses.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(", "),
        words::duration(s.window_secs as f64),
        words::duration(s.flaky_secs as f64),
        s.min_sample,
        match s.open_incidents {
            domain::OpenIncidents::Exclude => "excluded",
            domain::OpenIncidents::Censor => "censored at the window",
        }
    )
}
