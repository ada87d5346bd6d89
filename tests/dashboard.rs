//! The provisioned "DORA recovery" dashboard: every panel's and the
//! annotation's query is valid for the plugin and returns data on the
//! demo history, the fields the panels show exist, and the top row shows
//! the four DORA keys and rework.

mod support;

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
fn with_all_selected(mut target: Value) -> Value {
    for key in ["repos", "environments"] {
        if let Some(list) = target.get_mut(key).and_then(Value::as_array_mut) {
            list.retain(|v| !v.as_str().is_some_and(|s| s.starts_with('$')));
        }
    }
    target
}

#[tokio::test]
async fn every_panel_query_returns_data_on_the_demo_history() {
    let dash: Value =
        serde_json::from_str(&load("provisioning/dashboards/dora-recovery.json")).unwrap();
    let datasources = load("provisioning/datasources/woodpecker.yaml");
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
    for (i, (title, _, shown)) in targets.iter().enumerate() {
        let r = &responses[&i.to_string()];
        assert_eq!(r.status, 200, "{title}: {}", r.error);
        let frames: Vec<_> = r.frames.iter().map(|f| decode(f)).collect();
        assert!(frames.iter().any(|f| f.rows() > 0), "{title} has data");
        for field in shown {
            assert!(
                frames.iter().all(|f| f.field_names().contains(field)),
                "{title} shows {field}"
            );
        }
    }
}
