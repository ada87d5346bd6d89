//! Cold and warm fetch of 100 repos × 500 pipelines from the in-process fake
//! Woodpecker with 20 ms injected latency per request, next to a sequential
//! one-page-at-a-time baseline. Run: `cargo bench --bench woodpecker_fetch`.
//! `WP_BENCH_REPOS` / `WP_BENCH_PIPELINES` / `WP_BENCH_LATENCY_MS` override the
//! shape.

#[allow(dead_code)]
#[path = "../tests/support/woodpecker_server.rs"]
mod woodpecker_server;

use std::time::{Duration, Instant};

use woodpecker_dora::woodpecker::*;
use woodpecker_server::*;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn client(server: &FakeWoodpecker) -> WoodpeckerClient {
    WoodpeckerClient::new(ClientConfig::new(
        server.url(),
        server.token().map(Token::new),
    ))
    .unwrap()
}

struct Row {
    name: &'static str,
    requests: usize,
    pages: u64,
    wall: Duration,
    pipelines: usize,
}

async fn run() {
    let repos = env("WP_BENCH_REPOS", 100);
    let per_repo = env("WP_BENCH_PIPELINES", 500);
    let latency = Duration::from_millis(env("WP_BENCH_LATENCY_MS", 20));
    let server = FakeWoodpecker::start(FakeConfig::default().latency(latency)).await;
    let names: Vec<String> = (1..=repos).map(|i| format!("acme/repo-{i:03}")).collect();
    for (i, name) in names.iter().enumerate() {
        server.add_repo(i as i64 + 1, name);
        server.set_pipelines(i as i64 + 1, gen_pipelines(per_repo, 1_700_000_000));
    }
    let mut rows = Vec::new();

    // Baseline: one request at a time, every page of every repo.
    let c = client(&server);
    server.reset_requests();
    let t = Instant::now();
    let mut total = 0;
    for name in &names {
        let repo = c.lookup_repo(name).await.unwrap();
        let mut page = 1;
        loop {
            let p = c
                .pipelines_page(
                    &repo,
                    &PageQuery {
                        page,
                        ..PageQuery::default()
                    },
                )
                .await
                .unwrap();
            total += p.pipelines.iter().filter(|p| p.is_finished()).count();
            if p.is_last() {
                break;
            }
            page += 1;
        }
    }
    rows.push(Row {
        name: "sequential baseline (1 request at a time)",
        requests: server.request_count(),
        pages: c.counters().pages,
        wall: t.elapsed(),
        pipelines: total,
    });

    // The cache, default config (concurrency 8).
    let cache = PipelineCache::new(client(&server), CacheConfig::default());
    let need = HistoryNeed::since(0, &[]);
    for name in [
        "PipelineCache cold (concurrency 8)",
        "PipelineCache warm refresh, nothing new",
    ] {
        server.reset_requests();
        let before = cache.counters();
        let t = Instant::now();
        let out = cache.histories(&names, &need).await;
        let wall = t.elapsed();
        let pipelines: usize = out
            .repos
            .iter()
            .map(|(_, r)| r.as_ref().unwrap().pipelines.len())
            .sum();
        rows.push(Row {
            name,
            requests: server.request_count(),
            pages: cache.counters().pages - before.pages,
            wall,
            pipelines,
        });
    }

    println!(
        "\nwoodpecker_fetch: {repos} repos × {per_repo} pipelines, {} ms latency per request\n",
        latency.as_millis()
    );
    println!("| run | requests | pages | pipelines | wall time | vs baseline |");
    println!("|---|---:|---:|---:|---:|---:|");
    let base = rows[0].wall.as_secs_f64();
    for r in &rows {
        println!(
            "| {} | {} | {} | {} | {:.2} s | {:.1}× |",
            r.name,
            r.requests,
            r.pages,
            r.pipelines,
            r.wall.as_secs_f64(),
            base / r.wall.as_secs_f64()
        );
    }
    let cold = &rows[1];
    let warm = &rows[2];
    println!(
        "\ncold speed-up {:.1}× (target ≥ 6×); warm {:.2} requests per repo (target ≤ 1)",
        base / cold.wall.as_secs_f64(),
        warm.requests as f64 / repos as f64
    );
}

fn main() {
    // `cargo test --benches` runs this binary with `--bench` absent: skip.
    if !std::env::args().any(|a| a == "--bench") {
        println!("woodpecker_fetch: run with `cargo bench --bench woodpecker_fetch`");
        return;
    }
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(run());
}
