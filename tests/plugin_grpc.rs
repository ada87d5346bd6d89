mod support;

use grafana_plugin_sdk::pluginv2::{check_health_response::HealthStatus, CheckHealthRequest};
use support::plugin_process::{demo_context, PluginProcess};

#[tokio::test]
async fn demo_health_over_grpc() {
    let plugin = PluginProcess::start().await;
    let resp = plugin
        .diagnostics()
        .check_health(CheckHealthRequest {
            plugin_context: Some(demo_context()),
            headers: Default::default(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(resp.status, HealthStatus::Ok as i32, "{}", resp.message);
    assert!(resp.message.contains("demo"), "{}", resp.message);
}
