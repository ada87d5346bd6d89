//! End to end over gRPC: a `summary` query against the real plugin binary
//! whose cache holds 100k pipelines (20 repos × 5,000) from the in-process
//! fake Woodpecker. Run: `cargo bench --bench plugin_query`.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use grafana_plugin_sdk::pluginv2::QueryDataRequest;
use serde_json::json;
use support::plugin_process::{context, query, PluginProcess};
use support::woodpecker_server::{gen_pipelines, FakeConfig, FakeWoodpecker, FAKE_TOKEN};

const START: i64 = 1_700_000_000;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main]
async fn main() {
    // `cargo test --all-targets` runs benches without `--bench`: a quick
    // smoke run then, the full measurement under `cargo bench`.
    let full = std::env::args().any(|a| a == "--bench");
    let (repos, per_repo, runs): (i64, u64, usize) =
        if full { (20, 5_000, 100) } else { (2, 500, 5) };
    let server = FakeWoodpecker::start(FakeConfig::default()).await;
    for id in 1..=repos {
        server.add_repo(id, &format!("acme/service-{id:02}"));
        server.set_pipelines(id, gen_pipelines(per_repo, START));
    }
    let plugin = PluginProcess::start().await;
    let end = START + per_repo as i64 * 600;
    let request = || QueryDataRequest {
        plugin_context: Some(context(
            &server.url(),
            // Every warm call refreshes each repo, as with a changing history.
            json!({"userFeed": false}),
            Some(FAKE_TOKEN),
        )),
        headers: Default::default(),
        queries: vec![query("A", json!({"queryType": "summary"}), START, end)],
    };
    let mut client = plugin.data();
    let cold = Instant::now();
    let r = client.query_data(request()).await.unwrap().into_inner();
    let cold = cold.elapsed();
    assert_eq!(r.responses["A"].status, 200, "{}", r.responses["A"].error);

    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let r = client.query_data(request()).await.unwrap().into_inner();
        times.push(t.elapsed());
        assert_eq!(r.responses["A"].status, 200);
    }
    times.sort();
    println!(
        "summary over {} cached pipelines ({repos} repos), {runs} warm runs over gRPC:",
        repos as u64 * per_repo
    );
    println!("  cold (first fetch from the fake server): {cold:.1?}");
    println!(
        "  warm p50 {:.2?}  p90 {:.2?}  p99 {:.2?}  max {:.2?}",
        percentile(&times, 0.5),
        percentile(&times, 0.9),
        percentile(&times, 0.99),
        times[runs - 1]
    );
    println!(
        "  fake server requests in total: {}",
        server.request_count()
    );
}
