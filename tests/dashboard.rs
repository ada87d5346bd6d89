//! The provisioned "DORA recovery" dashboard: every panel's and the
//! annotation's query is valid for the plugin and returns data on the
//! demo history, the fields the panels show exist, and the top row shows
//! the four DORA keys and rework.

mod support;

use std::collections::HashMap;

use grafana_plugin_sdk::pluginv2::DataResponse;
use serde_json::Value;
use support::frames::decode;
use support::plugin_process::{demo_context, query, PluginProcess};

fn load(path: &str) -> String {
    std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// The field names a panel's field pattern picks: `/^p50_seconds$/`,
/// `/^(a|b)$/` or `^(time|a|b)$`.
fn names(pattern: &str) -> Vec<String> {
    pattern
        .trim_matches('/')
        .trim_start_matches('^')
        .trim_end_matches('$')
        .trim_start_matches('(')
        .trim_end_matches(')')
        .split('|')
        .map(str::to_string)
        .collect()
}

/// The fields a panel shows: its stat fields and those its
/// `filterFieldsByName` keeps.
fn shown_fields(panel: &Value) -> Vec<String> {
    let stat = panel["options"]["reduceOptions"]["fields"].as_str();
    let filters = panel["transformations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["id"] == "filterFieldsByName")
        .filter_map(|t| t["options"]["include"]["pattern"].as_str());
    stat.into_iter().chain(filters).flat_map(names).collect()
}

/// The top row, left to right: each key and the band shown beside it.
const TOP_ROW: [&[&str]; 5] = [
    &["deploys_per_day", "deploy_frequency_band"],
    &["lead_time_p50_seconds", "lead_time_band"],
    &["change_failure_rate", "change_failure_band"],
    &["p50_seconds", "band"],
    &["rework_rate"],
];

/// What the frontend sends with "All" selected: the variables expand to
/// every value, which the backend treats like no filter at all.
fn with_all_selected(target: Value) -> Value {
    with_environment(target, None)
}

/// What the frontend sends with every repo and the given environment (or
/// "All" for `None`) selected.
fn with_environment(mut target: Value, environment: Option<&str>) -> Value {
    for key in ["repos", "environments"] {
        if let Some(list) = target.get_mut(key).and_then(Value::as_array_mut) {
            let mut expanded = Vec::new();
            for v in list.drain(..) {
                match (v.as_str(), environment) {
                    (Some("$environment"), Some(env)) => expanded.push(Value::from(env)),
                    (Some(s), _) if s.starts_with('$') => {}
                    _ => expanded.push(v),
                }
            }
            *list = expanded;
        }
    }
    target
}

fn variable<'a>(dash: &'a Value, name: &str) -> &'a Value {
    dash["templating"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("a ${name} variable"))
}

/// The environment variable opens on `production`; Grafana keeps a current
/// value that is among the options and otherwise falls back to "All"
/// (`includeAll`), so repos without a production environment still show.
#[tokio::test]
async fn the_environment_variable_defaults_to_production_with_all_kept() {
    let dash: Value =
        serde_json::from_str(&load("provisioning/dashboards/dora-recovery.json")).unwrap();
    let env = variable(&dash, "environment");
    assert_eq!(env["type"], "query");
    assert_eq!(env["query"]["kind"], "environments");
    assert_eq!(env["includeAll"], true, "All stays an option");
    assert_eq!(env["multi"], true);
    assert_eq!(env["current"]["value"], serde_json::json!(["production"]));
    assert_eq!(env["current"]["text"], serde_json::json!(["production"]));
    assert_eq!(
        variable(&dash, "repo")["current"]["value"],
        serde_json::json!(["$__all"]),
        "every repo"
    );

    // On the demo, production is one of the variable's options.
    let plugin = PluginProcess::start().await;
    let (code, body) = plugin
        .call_resource(demo_context(), "GET", "environments")
        .await;
    assert_eq!(code, 200, "{}", String::from_utf8_lossy(&body));
    let options: Vec<String> = serde_json::from_slice(&body).unwrap();
    assert!(options.iter().any(|o| o == "production"), "{options:?}");
}

#[tokio::test]
async fn every_panel_query_returns_data_on_the_demo_history() {
    let dash: Value =
        serde_json::from_str(&load("provisioning/dashboards/dora-recovery.json")).unwrap();
    let datasources = load("provisioning/datasources/demo.yaml");
    let default_uid = dash["templating"]["list"][0]["current"]["value"]
        .as_str()
        .unwrap();
    assert!(
        datasources.contains(&format!("uid: {default_uid}")),
        "dashboard defaults to a provisioned data source"
    );

    let panels = dash["panels"].as_array().unwrap();
    let mut top: Vec<&Value> = panels.iter().filter(|p| p["gridPos"]["y"] == 0).collect();
    top.sort_by_key(|p| p["gridPos"]["x"].as_i64());
    let top: Vec<Vec<String>> = top.into_iter().map(shown_fields).collect();
    assert_eq!(top, TOP_ROW, "the top row shows the DORA keys and rework");

    let mut targets: Vec<(String, Value, Vec<String>)> = Vec::new();
    for p in panels {
        assert_eq!(p["datasource"]["type"], "dorakit-woodpecker-datasource");
        let shown = shown_fields(p);
        for t in p["targets"].as_array().unwrap() {
            targets.push((
                p["title"].as_str().unwrap().to_string(),
                t.clone(),
                shown.clone(),
            ));
        }
    }
    for a in dash["annotations"]["list"].as_array().unwrap() {
        if a["datasource"]["type"] == "dorakit-woodpecker-datasource" {
            targets.push((
                "annotation".into(),
                a["target"].clone(),
                vec!["failed_at".into()],
            ));
        }
    }
    assert!(targets.len() >= 9);
    let has = |query_type: &str, group_by: Option<&str>, field: Option<&str>| {
        targets.iter().any(|(_, t, shown)| {
            t["queryType"] == query_type
                && group_by.is_none_or(|g| t["groupBy"] == serde_json::json!([g]))
                && field.is_none_or(|f| shown.iter().any(|s| s == f))
        })
    };
    assert!(
        has("trends", None, Some("lead_time_p50_seconds")),
        "a lead-time trend"
    );
    assert!(has("changes", None, None), "a changes table");
    assert!(
        has("summary", Some("repo"), Some("repo")),
        "a per-repo table"
    );

    let plugin = PluginProcess::start().await;
    let now = chrono::Utc::now().timestamp();
    let queries = targets
        .iter()
        .enumerate()
        .map(|(i, (_, t, _))| {
            query(
                &i.to_string(),
                with_all_selected(t.clone()),
                now - 90 * 86_400,
                now,
            )
        })
        .collect();
    let responses = plugin.query_data(demo_context(), queries).await;
    check_responses(&targets, &responses, "All");

    // As the dashboard opens: every repo, the production environment.
    let queries = targets
        .iter()
        .enumerate()
        .map(|(i, (_, t, _))| {
            query(
                &i.to_string(),
                with_environment(t.clone(), Some("production")),
                now - 90 * 86_400,
                now,
            )
        })
        .collect();
    let responses = plugin.query_data(demo_context(), queries).await;
    check_responses(&targets, &responses, "production");
}

fn check_responses(
    targets: &[(String, Value, Vec<String>)],
    responses: &HashMap<String, DataResponse>,
    selected: &str,
) {
    for (i, (title, _, shown)) in targets.iter().enumerate() {
        let r = &responses[&i.to_string()];
        assert_eq!(r.status, 200, "{title} ({selected}): {}", r.error);
        let frames: Vec<_> = r.frames.iter().map(|f| decode(f)).collect();
        assert!(
            frames.iter().any(|f| f.rows() > 0),
            "{title} has data ({selected})"
        );
        for field in shown {
            assert!(
                frames.iter().all(|f| f.field_names().contains(field)),
                "{title} shows {field} ({selected})"
            );
        }
    }
}
