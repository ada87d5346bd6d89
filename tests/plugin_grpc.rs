//! The plugin binary, launched as Grafana launches it, answering over
//! Grafana's gRPC protocol; frames decoded by independent Arrow readers.

mod support;

use std::collections::HashMap;

use grafana_plugin_sdk::pluginv2::{
    check_health_response::HealthStatus, CollectMetricsRequest, DataResponse, PluginContext,
};
use serde_json::{json, Value};
use support::fixture::{fixture_server, RANGE_END, T0};
use support::frames::{decode, Decoded};
use support::plugin_process::{context, demo_context, query, PluginProcess};
use support::woodpecker_server::{FakeConfig, FakeWoodpecker, Fault, Match, FAKE_TOKEN};

fn frames(resp: &DataResponse) -> Vec<Decoded> {
    assert_eq!(resp.status, 200, "error: {}", resp.error);
    resp.frames.iter().map(|f| decode(f)).collect()
}

async fn health(plugin: &PluginProcess, ctx: PluginContext) -> (i32, String) {
    let r = plugin.check_health(ctx).await;
    (r.status, r.message)
}

async fn resource(plugin: &PluginProcess, ctx: PluginContext, url: &str) -> (i32, Value) {
    let (code, body) = plugin.call_resource(ctx, "GET", url).await;
    (code, serde_json::from_slice(&body).expect("JSON body"))
}

fn fixture_ctx(server: &FakeWoodpecker, json_data: Value) -> PluginContext {
    context(&server.url(), json_data, Some(FAKE_TOKEN))
}

#[tokio::test]
async fn demo_health_over_grpc() {
    let plugin = PluginProcess::start().await;
    let (status, message) = health(&plugin, demo_context()).await;
    assert_eq!(status, HealthStatus::Ok as i32, "{message}");
    assert!(message.contains("demo"), "{message}");
}

#[tokio::test]
async fn every_query_type_answers_on_the_demo_history() {
    let plugin = PluginProcess::start().await;
    let now = chrono::Utc::now().timestamp();
    let from = now - 90 * 86_400;
    let r = plugin.query_data(
        demo_context(),
        vec![
            query("S", json!({}), from, now),
            query("I", json!({"queryType": "incidents"}), from, now),
            query(
                "M",
                json!({"queryType": "mttr", "bucket": "1w", "rolling": "30d", "groupBy": ["repo"]}),
                from,
                now,
            ),
            query("D", json!({"queryType": "deploys"}), from, now),
        ],
    )
    .await;
    let s = &frames(&r["S"])[0];
    assert_eq!(s.name, "summary");
    assert_eq!(s.ref_id, "S");
    assert_eq!(
        s.field_names(),
        [
            "incidents",
            "p50_seconds",
            "p90_seconds",
            "mean_seconds",
            "min_seconds",
            "max_seconds",
            "open",
            "superseded",
            "flaky",
            "deploys",
            "failed_deploys",
            "change_failure_rate",
            "deploys_per_day",
            "band",
            "deploy_frequency_band",
            "change_failure_band",
            "rework_deploys",
            "rework_rate",
            "oldest_open_seconds",
            "lead_time_p50_seconds",
            "lead_time_p90_seconds",
            "lead_time_band",
            "changes",
            "waiting_changes",
            "oldest_waiting_seconds"
        ]
    );
    assert_eq!(s.rows(), 1);
    assert!(s.f64s("p50_seconds")[0].is_some());
    assert!(s.meta.as_ref().unwrap()["executedQueryString"]
        .as_str()
        .unwrap()
        .contains("summary of all repositories"));

    let i = &frames(&r["I"])[0];
    assert_eq!(
        i.field_names(),
        [
            "repo",
            "environment",
            "status",
            "failed_at",
            "recovered_at",
            "recovery_seconds",
            "flaky",
            "chain_failures",
            "pipeline",
            "recovered_by",
            "url"
        ]
    );
    assert!(i.rows() > 10);
    assert_eq!(
        i.meta.as_ref().unwrap()["preferredVisualisationType"],
        "table"
    );
    assert_eq!(
        i.field_meta("recovery_seconds", "config").unwrap()["unit"],
        "s"
    );
    assert_eq!(
        format!("{:?}", i.data_type("failed_at")),
        "Timestamp(Nanosecond, None)"
    );
    assert!(i
        .strings("status")
        .iter()
        .any(|s| s.as_deref() == Some("open")));

    let m = frames(&r["M"]);
    assert!(m.len() >= 3, "one frame per repo");
    for f in &m {
        assert_eq!(
            f.field_names(),
            [
                "time",
                "p50_seconds",
                "p90_seconds",
                "mean_seconds",
                "incidents"
            ]
        );
        // Labels and config on the same field: the SDK 0.5.0 bug is avoided.
        let labels = f
            .field_meta("p50_seconds", "labels")
            .expect("labels survive");
        assert!(labels["repo"].as_str().unwrap().starts_with("acme/"));
        assert_eq!(f.field_meta("p50_seconds", "config").unwrap()["unit"], "s");
        assert_eq!(
            f.meta.as_ref().unwrap()["preferredVisualisationType"],
            "graph"
        );
    }

    let d = &frames(&r["D"])[0];
    assert_eq!(
        d.field_names(),
        [
            "repo",
            "environment",
            "finished_at",
            "status",
            "pipeline",
            "event",
            "branch",
            "url"
        ]
    );
    assert!(d.rows() > 100);
}

#[tokio::test]
async fn a_bad_query_fails_alone_and_names_the_field() {
    let plugin = PluginProcess::start().await;
    let now = chrono::Utc::now().timestamp();
    let mut malformed = query("C", json!({}), now - 86_400, now);
    malformed.json = b"{\"queryType\": ".to_vec();
    let r = plugin
        .query_data(
            demo_context(),
            vec![
                query("A", json!({"queryType": "summary"}), now - 86_400 * 30, now),
                query("B", json!({"queryType": "latency"}), now - 86_400, now),
                malformed,
                query("D", json!({"windowDays": -1}), now - 86_400, now),
                query(
                    "E",
                    json!({"queryType": "mttr", "bucket": "2s"}),
                    now - 86_400,
                    now,
                ),
            ],
        )
        .await;
    assert_eq!(r["A"].status, 200);
    for (id, field) in [
        ("B", "queryType"),
        ("C", "query"),
        ("D", "windowDays"),
        ("E", "bucket"),
    ] {
        assert_eq!(r[id].status, 400, "{id}: {}", r[id].error);
        assert!(
            r[id].error.contains(&format!("`{field}`")),
            "{id}: {}",
            r[id].error
        );
        assert!(r[id].frames.is_empty());
    }
}

#[tokio::test]
async fn health_tells_a_user_what_to_do() {
    let server = fixture_server(FakeConfig::default()).await;
    let plugin = PluginProcess::start().await;
    let (status, message) = health(&plugin, fixture_ctx(&server, json!({}))).await;
    assert_eq!(status, HealthStatus::Ok as i32, "{message}");
    assert_eq!(
        message,
        "Connected to Woodpecker 3.17.0: 2 repositories visible"
    );

    let bad_token = context(&server.url(), json!({}), Some("not-the-token"));
    let (status, message) = health(&plugin, bad_token).await;
    assert_eq!(status, HealthStatus::Error as i32);
    assert!(
        message.contains("token") && message.contains("401"),
        "{message}"
    );
    assert!(!message.contains("not-the-token"));

    let unreachable = context("http://127.0.0.1:9", json!({}), Some(FAKE_TOKEN));
    let (status, message) = health(&plugin, unreachable).await;
    assert_eq!(status, HealthStatus::Error as i32);
    assert!(message.contains("could not connect"), "{message}");

    let bad_url = context("ftp://ci.example.com", json!({}), Some(FAKE_TOKEN));
    let (status, message) = health(&plugin, bad_url).await;
    assert_eq!(status, HealthStatus::Error as i32);
    assert!(message.contains("not valid"), "{message}");

    let html = fixture_server(FakeConfig::default()).await;
    html.fail_next(Match::Path("/version"), Fault::Html(200), 10);
    let (status, message) = health(&plugin, fixture_ctx(&html, json!({}))).await;
    assert_eq!(status, HealthStatus::Error as i32);
    assert!(
        message.contains("did not return Woodpecker JSON"),
        "{message}"
    );

    let no_url = context("", json!({}), Some(FAKE_TOKEN));
    let (_, message) = health(&plugin, no_url).await;
    assert!(message.contains("no Woodpecker URL"), "{message}");
}

#[tokio::test]
async fn resources_list_repos_environments_and_branches() {
    let server = fixture_server(FakeConfig::default()).await;
    let plugin = PluginProcess::start().await;
    let json_data = json!({"events": ["deployment", "push"]});
    let (code, repos) = resource(&plugin, fixture_ctx(&server, json_data.clone()), "repos").await;
    assert_eq!((code, repos), (200, json!(["acme/api", "acme/web"])));
    let (code, envs) = resource(
        &plugin,
        fixture_ctx(&server, json_data.clone()),
        "environments?repos=acme/api",
    )
    .await;
    assert_eq!(
        (code, envs),
        (200, json!(["main", "production", "staging"]))
    );
    let (code, branches) = resource(
        &plugin,
        fixture_ctx(&server, json_data.clone()),
        "branches?repos=acme/web",
    )
    .await;
    assert_eq!((code, branches), (200, json!(["main"])));
    let (code, body) = resource(&plugin, fixture_ctx(&server, json_data), "secrets").await;
    assert_eq!(code, 404);
    assert!(body["error"].as_str().unwrap().contains("secrets"));
}

#[tokio::test]
async fn one_unreadable_repo_is_a_notice_not_a_failure() {
    let server = fixture_server(FakeConfig::default()).await;
    let plugin = PluginProcess::start().await;
    let r = plugin
        .query_data(
            fixture_ctx(&server, json!({})),
            vec![query(
                "A",
                json!({"queryType": "incidents", "repos": ["acme/api", "acme/gone"]}),
                T0,
                RANGE_END,
            )],
        )
        .await;
    let f = &frames(&r["A"])[0];
    assert!(f.rows() > 0);
    let notices = f.meta.as_ref().unwrap()["notices"].to_string();
    assert!(
        notices.contains("acme/gone") && notices.contains("warning"),
        "{notices}"
    );
}

#[tokio::test]
async fn editing_the_data_source_takes_effect_without_a_restart() {
    let server = fixture_server(FakeConfig::default()).await;
    let plugin = PluginProcess::start().await;
    let q = || {
        vec![query(
            "A",
            json!({"queryType": "incidents", "repos": ["acme/api"]}),
            T0,
            RANGE_END,
        )]
    };
    let before = plugin
        .query_data(fixture_ctx(&server, json!({})), q())
        .await;
    let mut ctx = fixture_ctx(
        &server,
        json!({"failureStatuses": ["failure", "error", "killed"]}),
    );
    ctx.data_source_instance_settings
        .as_mut()
        .unwrap()
        .last_updated_ms = 2;
    let after = plugin.query_data(ctx, q()).await;
    let chain = |r: &HashMap<String, DataResponse>| frames(&r["A"])[0].i64s("chain_failures");
    assert_ne!(
        chain(&before),
        chain(&after),
        "killed now counts as a failure"
    );
}

#[tokio::test]
async fn the_token_never_reaches_logs_errors_or_frames() {
    let server = fixture_server(FakeConfig::default()).await;
    server.fail_next(
        Match::Pipelines,
        support::woodpecker_server::Fault::Status(500),
        100,
    );
    let plugin = PluginProcess::start().await;
    let r = plugin
        .query_data(
            fixture_ctx(&server, json!({})),
            vec![query("A", json!({"repos": ["acme/api"]}), T0, RANGE_END)],
        )
        .await;
    let (_, health_message) = health(&plugin, fixture_ctx(&server, json!({}))).await;
    let everything = format!("{:?}{}{}", r, health_message, plugin.logs().join("\n"));
    assert!(!plugin.logs().is_empty());
    assert!(!everything.contains(FAKE_TOKEN));
}

#[tokio::test]
async fn plugin_metrics_count_woodpecker_traffic_per_data_source() {
    let server = fixture_server(FakeConfig::default()).await;
    let plugin = PluginProcess::start().await;
    let q = || vec![query("A", json!({"repos": ["acme/api"]}), T0, RANGE_END)];
    plugin
        .query_data(fixture_ctx(&server, json!({})), q())
        .await;
    plugin
        .query_data(fixture_ctx(&server, json!({})), q())
        .await;
    let metrics = plugin
        .diagnostics()
        .collect_metrics(CollectMetricsRequest {
            plugin_context: Some(fixture_ctx(&server, json!({}))),
        })
        .await
        .unwrap()
        .into_inner()
        .metrics
        .expect("a payload");
    let text = String::from_utf8(metrics.prometheus).unwrap();
    let value = |name: &str| -> u64 {
        let prefix = format!("woodpecker_dora_{name}{{datasource=\"uid:woodpecker-test\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("{name} missing in\n{text}"))
            .parse()
            .unwrap()
    };
    assert_eq!(value("requests_total"), server.request_count() as u64);
    assert_eq!(
        value("cache_hits_total"),
        1,
        "the second query found the repo cached"
    );
    assert!(value("cached_pipelines") > 0);
}

/// Only the fields this test reads of `pluginv2.QueryDataResponse`, decoded
/// here rather than with the plugin's or the SDK's messages (the SDK's
/// 0.5.0 message has no `errorSource`).
#[derive(Clone, PartialEq, prost::Message)]
struct RawResponses {
    #[prost(map = "string, message", tag = "1")]
    responses: HashMap<String, RawResponse>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct RawResponse {
    #[prost(string, tag = "2")]
    error: String,
    #[prost(int32, tag = "4")]
    status: i32,
    #[prost(string, tag = "5")]
    error_source: String,
}

#[tokio::test]
async fn each_error_says_whose_fault_it_is() {
    let server = fixture_server(FakeConfig::default()).await;
    let plugin = PluginProcess::start().await;
    let request = grafana_plugin_sdk::pluginv2::QueryDataRequest {
        plugin_context: Some(fixture_ctx(&server, json!({}))),
        headers: Default::default(),
        queries: vec![
            query("ok", json!({"repos": ["acme/api"]}), T0, RANGE_END),
            query("bad", json!({"windowDays": -1}), T0, RANGE_END),
            query("gone", json!({"repos": ["acme/nope"]}), T0, RANGE_END),
        ],
    };
    let mut grpc = tonic::client::Grpc::new(plugin.channel());
    grpc.ready().await.unwrap();
    let answer: RawResponses = grpc
        .unary(
            tonic::Request::new(request),
            http::uri::PathAndQuery::from_static("/pluginv2.Data/QueryData"),
            tonic::codec::ProstCodec::default(),
        )
        .await
        .expect("QueryData answers")
        .into_inner();
    let r = &answer.responses;
    assert_eq!((r["ok"].status, r["ok"].error_source.as_str()), (200, ""));
    // The user's query and Woodpecker's answers are not the plugin's fault.
    assert_eq!(
        (r["bad"].status, r["bad"].error_source.as_str()),
        (400, "downstream")
    );
    assert_eq!(
        (r["gone"].status, r["gone"].error_source.as_str()),
        (404, "downstream"),
        "{}",
        r["gone"].error
    );
}
