//! Answers one query: parse it, ask the application layer, render the
//! frames its type asks for, and say in the frame meta what was computed
//! and what to know.

use grafana_plugin_sdk::pluginv2::DataQuery;

use super::dataframe::{Frame, Meta, Notice, Severity, Visualisation};
use super::failure::QueryFailure;
use super::instances::Instance;
use super::query::{QuerySpec, QueryType};
use super::render;
use crate::analysis::{self, Answered, Ask, Scope};
use crate::domain::{self, words, SeriesSpec, TimeRange};

pub(crate) async fn run_query(
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
    let ask = match spec.query_type {
        QueryType::Incidents => Ask::Incidents {
            include_superseded: spec.include_superseded,
        },
        QueryType::Deploys => Ask::Deploys,
        QueryType::Changes => Ask::Changes,
        QueryType::Summary => Ask::Summary {
            group_by: spec.group_by,
        },
        QueryType::Mttr | QueryType::Trends => Ask::Series(SeriesSpec {
            bucket_secs: spec
                .bucket_for(range.from, range.to, q.interval_ms)
                .map_err(bad)?,
            rolling_secs: spec.rolling_secs,
            group_by: spec.group_by,
        }),
    };
    let scope = Scope {
        repos: spec.repos.clone(),
        filter,
        settings,
        range,
        now,
        deadline: inst.config.deadline(),
    };
    let source = inst.source.as_ref();
    let mut answer = analysis::answer(source, &scope, &[ask]).await?;
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
    let (frames, vis) = match answer.answers.pop().expect("one answer per ask") {
        Answered::Incidents(rows) => (
            vec![render::incidents_frame(&rows, spec.include_superseded)],
            Some(Visualisation::Table),
        ),
        Answered::Deploys(rows) => (
            vec![render::deploys_frame(&rows)],
            Some(Visualisation::Table),
        ),
        Answered::Changes(rows) => (
            vec![render::changes_frame(&rows)],
            Some(Visualisation::Table),
        ),
        Answered::Summary(groups) => match spec.metric {
            Some(metric) => (render::summary_metric_frames(&groups, metric), None),
            None => (vec![render::summary_frame(&groups)], None),
        },
        Answered::Series(series) => (
            if spec.query_type == QueryType::Trends {
                render::trends_frames(&series)
            } else {
                render::mttr_frames(&series)
            },
            Some(Visualisation::Graph),
        ),
    };
    let meta = meta(&spec, &scope, &answer.notices, vis);
    Ok(frames
        .into_iter()
        .map(|f| f.with_meta(meta.clone()))
        .collect())
}

fn meta(
    spec: &QuerySpec,
    scope: &Scope,
    notices: &[analysis::Notice],
    vis: Option<Visualisation>,
) -> Meta {
    let notices = notices
        .iter()
        .map(|n| Notice {
            severity: match n {
                analysis::Notice::Info(_) => Severity::Info,
                analysis::Notice::Warning(_) => Severity::Warning,
            },
            text: n.text().to_string(),
        })
        .collect();
    Meta {
        executed_query_string: Some(describe(spec, scope)),
        preferred_visualisation_type: vis,
        notices,
    }
}

fn events(events: &[domain::Event]) -> String {
    events
        .iter()
        .map(|e| e.as_str())
        .collect::<Vec<_>>()
        .join(", ")
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
    // Said only when set, so the words of every other query stay as they were.
    let units = if scope.filter.deploy_steps.is_empty() {
        String::new()
    } else {
        format!(", deploy steps {}", scope.filter.deploy_steps.join(", "))
    };
    format!(
        "{} of {}; deploys: events {}, branches {}, environments {}{units}; changes: events {}; failures: {}; recovery window {}; flaky below {}; at least {} incidents per statistic; open incidents {}",
        spec.query_type.as_str(),
        list(&scope.repos, "all repositories"),
        events(&scope.filter.events),
        list(&scope.filter.branches, "any"),
        list(&scope.filter.environments, "any"),
        events(&scope.filter.change_events),
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
