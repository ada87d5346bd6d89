//! The frontend reads the backend's defaults, input bounds, duration grammar
//! and column names from one checked-in file, `frontend/src/contract.json`,
//! so they cannot drift: this test fails when the file and the backend
//! disagree. `UPDATE_CONTRACT=1 cargo test --test contract` rewrites it.
//! `frontend/src/testing/inputCases.json` holds input cases that this test
//! and the frontend's Jest tests both run.

use grafana_plugin_sdk::pluginv2::DataSourceInstanceSettings;
use serde_json::{json, Map, Value};
use woodpecker_dora::analysis::{
    incident_columns, summary_metrics, Column, CHANGE_COLUMNS, DEPLOY_COLUMNS, SUMMARY_COLUMNS,
};
use woodpecker_dora::domain::OpenIncidents;
use woodpecker_dora::input::duration::{MAX_SECONDS, UNITS};
use woodpecker_dora::input::json_fields::Bounds;
use woodpecker_dora::input::options::{RecoveryOptions, OPTION_BOUNDS};
use woodpecker_dora::plugin::datasource::{DataSourceConfig, SETTING_BOUNDS};
use woodpecker_dora::plugin::query::{QuerySpec, MIN_BUCKET_SECS};

fn names<'c, R: 'static>(columns: impl IntoIterator<Item = &'c Column<R>>) -> Vec<&'static str> {
    columns.into_iter().map(|c| c.name).collect()
}

fn bounds() -> Map<String, Value> {
    OPTION_BOUNDS
        .iter()
        .chain(&SETTING_BOUNDS)
        .map(|b: &Bounds| {
            let range = json!({ "min": b.min, "max": b.max, "whole": b.whole, "unit": b.unit });
            (b.key.to_string(), range)
        })
        .collect()
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
            "userFeed": ds.user_feed,
        },
        "bounds": bounds(),
        "durations": {
            "units": UNITS.iter().map(|(u, secs)| (u.to_string(), json!(secs))).collect::<Map<_, _>>(),
            "maxSeconds": MAX_SECONDS,
            "minSeconds": MIN_BUCKET_SECS,
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

fn input_cases() -> Value {
    let path = format!(
        "{}/frontend/src/testing/inputCases.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn the_backend_reads_durations_as_the_shared_cases_say() {
    let cases = input_cases();
    for case in cases["durations"].as_array().unwrap() {
        let field = case["field"].as_str().unwrap();
        let query = json!({ "queryType": "mttr", field: case["input"] }).to_string();
        let read = QuerySpec::parse(query.as_bytes(), "").map(|q| match field {
            "bucket" => q.bucket_secs,
            _ => q.rolling_secs,
        });
        match case["seconds"].as_i64() {
            Some(secs) => assert_eq!(read, Ok(Some(secs)), "{case}"),
            None => assert_eq!(read.unwrap_err().field, field, "{case}"),
        }
    }
}

#[test]
fn the_backend_bounds_numbers_as_the_shared_cases_say() {
    let cases = input_cases();
    for case in cases["numbers"].as_array().unwrap() {
        let field = case["field"].as_str().unwrap();
        let settings = DataSourceInstanceSettings {
            json_data: json!({ field: case["value"] }).to_string().into_bytes(),
            ..Default::default()
        };
        let read = DataSourceConfig::parse(&settings);
        if case["valid"].as_bool().unwrap() {
            assert!(read.is_ok(), "{case}: {:?}", read.err());
        } else {
            assert_eq!(read.unwrap_err().field, field, "{case}");
        }
    }
}

#[test]
fn the_backend_says_ranges_in_the_shared_cases_words() {
    let cases = input_cases();
    for case in cases["ranges"].as_array().unwrap() {
        let field = case["field"].as_str().unwrap();
        let bounds = OPTION_BOUNDS
            .iter()
            .chain(&SETTING_BOUNDS)
            .find(|b| b.key == field)
            .unwrap_or_else(|| panic!("no bounds for {field}"));
        let (min, max) = bounds.range_in_words();
        assert_eq!(
            (min.as_str(), max.as_str()),
            (case["min"].as_str().unwrap(), case["max"].as_str().unwrap()),
            "{case}"
        );
    }
}
