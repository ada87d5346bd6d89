//! The provisioned "DORA recovery" dashboard: every panel's and the
//! annotation's query is valid for the plugin and returns data on the
//! demo history, and the fields the panels show exist.

mod support;

use serde_json::Value;
use support::frames::decode;
use support::plugin_process::{demo_context, query, PluginProcess};

fn load(path: &str) -> String {
    std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

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

    let mut targets: Vec<(String, Value, Option<String>)> = Vec::new();
    for p in dash["panels"].as_array().unwrap() {
        assert_eq!(p["datasource"]["type"], "dorakit-woodpecker-datasource");
        let shown = p["options"]["reduceOptions"]["fields"].as_str().map(|f| {
            f.trim_start_matches("/^")
                .trim_end_matches("$/")
                .to_string()
        });
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
                Some("failed_at".into()),
            ));
        }
    }
    assert!(targets.len() >= 9);

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
    for (i, (title, _, field)) in targets.iter().enumerate() {
        let r = &responses[&i.to_string()];
        assert_eq!(r.status, 200, "{title}: {}", r.error);
        let frames: Vec<_> = r.frames.iter().map(|f| decode(f)).collect();
        assert!(frames.iter().any(|f| f.rows() > 0), "{title} has data");
        if let Some(field) = field {
            assert!(
                frames.iter().all(|f| f.field_names().contains(field)),
                "{title} shows {field}"
            );
        }
    }
}
