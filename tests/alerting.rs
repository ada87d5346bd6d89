//! The provisioned alert rules (provisioning/alerting/), sent as Grafana's
//! alerting sends them: each rule's data-source query over gRPC with the
//! `FromAlert` header and the rule's relative time range. Alerting needs
//! one number per series, the rest as labels: every frame must be exactly
//! that, and the threshold must read the query.

mod support;

use std::collections::HashMap;

use arrow_schema::DataType;
use serde_json::{json, Value};
use support::frames::decode;
use support::plugin_process::{demo_context, query, PluginProcess};

fn rules() -> Vec<Value> {
    let path = format!(
        "{}/provisioning/alerting/dora-alerts.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    // JSON is YAML: Grafana reads the file as YAML, this test as JSON.
    let file: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(file["apiVersion"], 1);
    file["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["rules"].as_array().unwrap().clone())
        .collect()
}

#[tokio::test]
async fn alert_rule_queries_get_one_number_per_labelled_series() {
    let plugin = PluginProcess::start().await;
    let now = chrono::Utc::now().timestamp();
    let rules = rules();
    assert_eq!(rules.len(), 2);
    let mut series_total = 0;
    for rule in &rules {
        let title = rule["title"].as_str().unwrap();
        let data = rule["data"].as_array().unwrap();
        let condition = rule["condition"].as_str().unwrap();
        let threshold = data.iter().find(|d| d["refId"] == condition).unwrap();
        assert_eq!(threshold["datasourceUid"], "__expr__", "{title}");
        assert_eq!(threshold["model"]["type"], "threshold", "{title}");
        let source = threshold["model"]["expression"].as_str().unwrap();
        let q = data.iter().find(|d| d["refId"] == source).unwrap();
        assert_eq!(q["datasourceUid"], "woodpecker-demo", "{title}");
        let range = &q["relativeTimeRange"];
        let (from, to) = (
            now - range["from"].as_i64().unwrap(),
            now - range["to"].as_i64().unwrap(),
        );
        let metric = q["model"]["metric"].as_str().unwrap();
        let r = plugin
            .query_data_with_headers(
                demo_context(),
                vec![query(source, q["model"].clone(), from, to)],
                HashMap::from([("FromAlert".to_string(), "true".to_string())]),
            )
            .await;
        let answer = &r[source];
        assert_eq!(answer.status, 200, "{title}: {}", answer.error);
        assert!(!answer.frames.is_empty(), "{title}: no series");
        for frame in &answer.frames {
            let f = decode(frame);
            assert_eq!(f.field_names(), [metric], "{title}");
            assert_eq!(f.rows(), 1, "{title}");
            assert!(
                matches!(f.data_type(metric), DataType::Float64 | DataType::Int64),
                "{title}: {:?}",
                f.data_type(metric)
            );
            let labels = f.field_meta(metric, "labels").unwrap();
            assert!(
                labels["repo"].is_string() && labels["environment"].is_string(),
                "{title}: {labels}"
            );
            series_total += 1;
        }
    }
    // The demo's mobile-backend ends on an open incident a day old: the
    // open-incident rule has a series with a value above its threshold.
    assert!(series_total >= 2);
    let open = plugin
        .query_data(
            demo_context(),
            vec![query(
                "A",
                json!({"queryType": "summary", "metric": "oldest_open_seconds",
                       "groupBy": ["repo", "environment"], "repos": ["acme/mobile-backend"]}),
                now - 30 * 86_400,
                now,
            )],
        )
        .await;
    let f = decode(&open["A"].frames[0]);
    assert!(f.f64s("oldest_open_seconds")[0].unwrap() > 14_400.0);
}

#[tokio::test]
async fn metric_is_checked_per_query() {
    let plugin = PluginProcess::start().await;
    let now = chrono::Utc::now().timestamp();
    let r = plugin
        .query_data(
            demo_context(),
            vec![
                query("B", json!({"metric": "band"}), now - 86_400, now),
                query(
                    "T",
                    json!({"queryType": "deploys", "metric": "deploys"}),
                    now - 86_400,
                    now,
                ),
                query("G", json!({"metric": "deploys"}), now - 86_400, now),
            ],
        )
        .await;
    assert_eq!(r["B"].status, 400);
    assert!(
        r["B"].error.contains("metric") && r["B"].error.contains("p50_seconds"),
        "{}",
        r["B"].error
    );
    assert_eq!(r["T"].status, 400);
    assert!(
        r["T"].error.contains("summary queries only"),
        "{}",
        r["T"].error
    );
    assert_eq!(r["G"].status, 200, "{}", r["G"].error);
    let f = decode(&r["G"].frames[0]);
    assert_eq!(f.field_names(), ["deploys"]);
}
