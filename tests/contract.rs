//! The frontend reads the backend's defaults and column names from one
//! checked-in file, `frontend/src/contract.json`, so they cannot drift:
//! this test fails when the file and the backend disagree.
//! `UPDATE_CONTRACT=1 cargo test --test contract` rewrites it.

use serde_json::{json, Value};
use woodpecker_dora::analysis::{
    incident_columns, summary_metrics, Column, CHANGE_COLUMNS, DEPLOY_COLUMNS, SUMMARY_COLUMNS,
};
use woodpecker_dora::domain::OpenIncidents;
use woodpecker_dora::input::options::RecoveryOptions;
use woodpecker_dora::plugin::datasource::DataSourceConfig;

fn names<'c, R: 'static>(columns: impl IntoIterator<Item = &'c Column<R>>) -> Vec<&'static str> {
    columns.into_iter().map(|c| c.name).collect()
}

fn contract() -> Value {
    let (filter, settings) = RecoveryOptions::default().resolve();
    let ds = DataSourceConfig::default();
    json!({
        "defaults": {
            "events": filter.events.iter().map(|e| e.as_str()).collect::<Vec<_>>(),
            "deploySteps": filter.deploy_steps,
            "changeEvents": filter.change_events.iter().map(|e| e.as_str()).collect::<Vec<_>>(),
            "failureStatuses": settings.failure_statuses.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            "windowDays": settings.window_secs / 86_400,
            "flakyMinutes": settings.flaky_secs / 60,
            "minSample": settings.min_sample,
            "openIncidents": match settings.open_incidents {
                OpenIncidents::Exclude => "exclude",
                OpenIncidents::Censor => "censor",
            },
            "maxConcurrency": ds.max_concurrency,
            "timeoutSeconds": ds.timeout_secs,
            "queryTimeoutSeconds": ds.query_timeout_secs,
            "failureBackoffSeconds": ds.failure_backoff_secs,
            "maxCachedPipelines": ds.max_cached_pipelines,
            "maxPipelinesPerRepo": ds.max_pipelines_per_repo,
        },
        "columns": {
            "incidents": names(incident_columns(true)),
            "deploys": names(DEPLOY_COLUMNS),
            "changes": names(CHANGE_COLUMNS),
            "summary": names(SUMMARY_COLUMNS),
            "summaryMetrics": summary_metrics().collect::<Vec<_>>(),
        },
    })
}

#[test]
fn the_frontend_contract_matches_the_backend() {
    let path = format!("{}/frontend/src/contract.json", env!("CARGO_MANIFEST_DIR"));
    let actual = format!("{}\n", serde_json::to_string_pretty(&contract()).unwrap());
    if std::env::var_os("UPDATE_CONTRACT").is_some() {
        std::fs::write(&path, &actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{path} missing: run with UPDATE_CONTRACT=1"));
    assert_eq!(
        actual, expected,
        "{path} is out of date: run UPDATE_CONTRACT=1 cargo test --test contract"
    );
}
