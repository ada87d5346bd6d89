//! Load: 20 dashboards × 10 panels = 200 concurrent QueryData calls over
//! gRPC to the real plugin binary, whose one data source reads 20 repos ×
//! 5,000 pipelines from the in-process fake Woodpecker answering after
//! 20 ms. Three rounds: cold, then two warm. Run:
//! `cargo bench --bench plugin_load` (shape: WP_LOAD_REPOS, WP_LOAD_PIPELINES,
//! WP_LOAD_LATENCY_MS, WP_LOAD_ROUNDS). Numbers in docs/performance.md.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Duration;

use support::load::{Load, LoadConfig};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not, and
    // then a small smoke run is enough.
    let full = std::env::args().any(|a| a == "--bench");
    let cfg = LoadConfig {
        repos: env("WP_LOAD_REPOS", if full { 20 } else { 4 }) as i64,
        pipelines_per_repo: env("WP_LOAD_PIPELINES", if full { 5_000 } else { 200 }),
        latency: Duration::from_millis(env("WP_LOAD_LATENCY_MS", 20)),
        dashboards: 20,
        calls_per_dashboard: 10,
        rounds: env("WP_LOAD_ROUNDS", if full { 3 } else { 1 }) as usize,
    };
    let (repos, per_repo) = (cfg.repos, cfg.pipelines_per_repo);
    let load = Load::start(cfg).await;
    println!(
        "{} dashboards × 10 calls at once; {repos} repos × {per_repo} pipelines; plugin baseline RSS {:.1} MiB",
        20,
        load.baseline_rss_kib as f64 / 1024.0
    );
    println!("| round | calls / queries | wall | p50 | p90 | p99 | max | requests (pages, lookups) | repo fetches asked | RSS after | peak RSS |");
    println!("|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|");
    let rounds = load.run().await;
    for (i, r) in rounds.iter().enumerate() {
        assert!(r.failed.is_empty(), "{:?}", r.failed);
        println!(
            "| {} | {} / {} | {:.2?} | {:.1?} | {:.1?} | {:.1?} | {:.1?} | {} ({}, {}) | {} over {} keys | {:.1} MiB | {:.1} MiB |",
            if i == 0 { "cold".to_string() } else { format!("warm {i}") },
            r.calls,
            r.queries,
            r.wall,
            r.percentile(0.5),
            r.percentile(0.9),
            r.percentile(0.99),
            r.latencies.last().unwrap(),
            r.requests,
            r.page_requests,
            r.lookups,
            r.unshared_refreshes,
            r.distinct_keys,
            r.rss_kib as f64 / 1024.0,
            r.peak_rss_kib as f64 / 1024.0,
        );
    }
    let largest = rounds.iter().map(|r| r.largest_response).max().unwrap();
    println!(
        "largest QueryData response: {:.1} MiB",
        largest as f64 / (1 << 20) as f64
    );
}
