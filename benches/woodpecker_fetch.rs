//! Cold and warm fetch of 100 repos × 500 pipelines from the in-process fake
//! Woodpecker with 20 ms injected latency per request, next to a sequential
//! one-page-at-a-time baseline; and a cold read of one repo of 10,000
//! pipelines with read-ahead against one page at a time (`read_ahead: 1`).
//! The repos group also times a second replica's first query after a first
//! filled the shared store (a real `redis-server`, which must be installed).
//! Run: `cargo bench --bench woodpecker_fetch [-- repos|read-ahead]`.
//! `WP_BENCH_REPOS` / `WP_BENCH_PIPELINES` / `WP_BENCH_LATENCY_MS` /
//! `WP_BENCH_BIG_REPO` override the shape. `cargo test --benches` runs the
//! read-ahead group once at a small size, as a smoke test.

#[allow(dead_code)]
#[path = "../tests/support/woodpecker_server.rs"]
mod woodpecker_server;

#[path = "support/counting_alloc.rs"]
mod counting_alloc;

#[allow(dead_code)]
#[path = "../tests/support/redis_server.rs"]
mod redis_server;

use std::time::{Duration, Instant};

use woodpecker_dora::domain::Event;
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
    name: String,
    requests: usize,
    pages: u64,
    in_flight: usize,
    wall: Duration,
    pipelines: usize,
}

/// A markdown table of `rows`, timed against the first.
fn print_table(rows: &[Row]) {
    println!("| run | requests | pages | most in flight | pipelines | wall time | vs first row |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let base = rows[0].wall.as_secs_f64();
    for r in rows {
        println!(
            "| {} | {} | {} | {} | {} | {:.2} s | {:.1}× |",
            r.name,
            r.requests,
            r.pages,
            r.in_flight,
            r.pipelines,
            r.wall.as_secs_f64(),
            base / r.wall.as_secs_f64()
        );
    }
}

async fn many_repos() {
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
        name: "sequential baseline (1 request at a time)".into(),
        requests: server.request_count(),
        pages: c.counters().pages,
        in_flight: server.max_in_flight(),
        wall: t.elapsed(),
        pipelines: total,
    });

    // The cache, default config (concurrency 8, user feed on), with the
    // on-disk store in a scratch directory.
    let dir = std::env::temp_dir().join(format!("wdora-bench-store-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let with_store = |store: &std::sync::Arc<store::DiskStore>| CacheConfig {
        store: Some(StoreSlot {
            store: store.clone(),
            namespace: store::Namespace::of("bench", &server.url(), server.token().as_deref()),
        }),
        ..CacheConfig::default()
    };
    let disk = std::sync::Arc::new(store::DiskStore::open(&dir, 1 << 30).unwrap());
    let cache = PipelineCache::new(client(&server), with_store(&disk));
    let need = HistoryNeed::since(0, &[]);
    for name in [
        "PipelineCache cold (concurrency 8)",
        "PipelineCache warm refresh, nothing new",
    ] {
        rows.push(timed(&server, &cache, &names, &need, name).await);
    }
    // What the in-memory cache holds, measured on one without a store
    // (the store's own page cache would count too).
    let live = || counting_alloc::LIVE.load(std::sync::atomic::Ordering::Relaxed);
    let before = live();
    let memory_only = PipelineCache::new(client(&server), CacheConfig::default());
    memory_only.histories(&names, &need).await;
    let (held, held_bytes) = (memory_only.held_pipelines(), live() - before);
    // Of that, what the cache itself frees when dropped (rows, bookkeeping,
    // its client's connections); the rest stays with the process (runtime,
    // interner table).
    let with_cache = live();
    drop(memory_only);
    tokio::time::sleep(Duration::from_millis(200)).await; // connections close
    let own_bytes = with_cache.saturating_sub(live());
    let off = PipelineCache::new(
        client(&server),
        CacheConfig {
            use_feed: false,
            ..CacheConfig::default()
        },
    );
    off.histories(&names, &need).await;
    let name = "warm refresh, nothing new, userFeed off";
    rows.push(timed(&server, &off, &names, &need, name).await);
    drop((cache, off, disk));
    // A restarted plugin: a new cache on the same store.
    let disk = std::sync::Arc::new(store::DiskStore::open(&dir, 1 << 30).unwrap());
    let restarted = PipelineCache::new(client(&server), with_store(&disk));
    let name = "after a restart (first query, from the store)";
    rows.push(timed(&server, &restarted, &names, &need, name).await);
    drop((restarted, disk));
    let _ = std::fs::remove_dir_all(&dir);
    // Two replicas sharing a Redis, each with a cache of its own.
    let redis = redis_server::RedisServer::start();
    let replica = || {
        let info = redis::IntoConnectionInfo::into_connection_info(redis.url()).unwrap();
        let store =
            store::SharedStore::new(info, Duration::from_millis(300), Duration::from_secs(10));
        let cfg = CacheConfig {
            shared: Some(SharedSlot {
                store: std::sync::Arc::new(store),
                namespace: store::Namespace::of("bench", &server.url(), server.token().as_deref()),
            }),
            ..CacheConfig::default()
        };
        PipelineCache::new(client(&server), cfg)
    };
    let (a, b) = (replica(), replica());
    let name = "replica A cold, filling the shared store (Redis)";
    rows.push(timed(&server, &a, &names, &need, name).await);
    let name = "replica B's first query (Redis filled by A)";
    rows.push(timed(&server, &b, &names, &need, name).await);

    println!(
        "\nwoodpecker_fetch: {repos} repos × {per_repo} pipelines, {} ms latency per request\n",
        latency.as_millis()
    );
    print_table(&rows);
    let base = rows[0].wall.as_secs_f64();
    let cold = &rows[1];
    let warm = &rows[2];
    println!(
        "\ncold speed-up {:.1}× (target ≥ 6×); warm {} requests for {repos} repos (target ≤ 2); after a restart {} requests; second replica {} requests (target ≤ 2)",
        base / cold.wall.as_secs_f64(),
        warm.requests,
        rows[4].requests,
        rows[6].requests,
    );
    let per = |bytes: usize| bytes as f64 / held.max(1) as f64;
    println!(
        "held: {held} pipelines in {held_bytes} heap bytes = {:.1} B per cached pipeline (one copy, shared with the histories served); the cache frees {own_bytes} = {:.1} B per pipeline when dropped",
        per(held_bytes),
        per(own_bytes)
    );
}

/// One `histories` call over `names`, with what the server saw.
async fn timed(
    server: &FakeWoodpecker,
    cache: &PipelineCache,
    names: &[String],
    need: &HistoryNeed<'_>,
    name: &str,
) -> Row {
    server.reset_requests();
    let before = cache.counters();
    let t = Instant::now();
    let out = cache.histories(names, need).await;
    let wall = t.elapsed();
    let pipelines: usize = out
        .repos
        .iter()
        .map(|(_, r)| r.as_ref().unwrap().pipelines.len())
        .sum();
    Row {
        name: name.into(),
        requests: server.request_count(),
        pages: cache.counters().pages - before.pages,
        in_flight: server.max_in_flight(),
        wall,
        pipelines,
    }
}

/// One repo of `pipelines` read cold, for `events`, by a fresh cache reading
/// one page at a time and by one reading ahead (default config). Checks that
/// both read the same pipelines.
async fn big_repo(pipelines: u64, latency: Duration, events: &[Event]) -> Vec<Row> {
    let server = FakeWoodpecker::start(FakeConfig::default().latency(latency)).await;
    server.add_repo(1, "acme/big");
    server.set_pipelines(1, gen_pipelines(pipelines, 1_700_000_000));
    let need = HistoryNeed::since(0, events);
    let mut rows = Vec::new();
    let mut read = Vec::new();
    for (name, read_ahead) in [
        ("one page at a time (read_ahead 1)", 1),
        (
            "read-ahead (default, 6 pages)",
            CacheConfig::default().read_ahead,
        ),
    ] {
        let cfg = CacheConfig {
            read_ahead,
            ..CacheConfig::default()
        };
        let cache = PipelineCache::new(client(&server), cfg);
        server.reset_requests();
        let t = Instant::now();
        let h = cache.history("acme/big", &need).await.unwrap();
        rows.push(Row {
            name: format!("{name}, events {events:?}"),
            requests: server.request_count(),
            pages: cache.counters().pages,
            in_flight: server.max_in_flight(),
            wall: t.elapsed(),
            pipelines: h.pipelines.len(),
        });
        read.push(h.pipelines);
    }
    assert_eq!(
        read[0], read[1],
        "read-ahead reads what one page at a time reads"
    );
    assert!(rows[1].in_flight > 1, "read ahead");
    rows
}

async fn read_ahead(pipelines: u64, latency: Duration) {
    println!(
        "\nwoodpecker_fetch read-ahead: one repo × {pipelines} pipelines, {} ms latency per request\n",
        latency.as_millis()
    );
    for events in [&[][..], &[Event::Deployment, Event::Push][..]] {
        let rows = big_repo(pipelines, latency, events).await;
        print_table(&rows);
        println!(
            "\nread-ahead {:.1}× faster (target ≥ 4×), {} requests instead of {}\n",
            rows[0].wall.as_secs_f64() / rows[1].wall.as_secs_f64(),
            rows[1].requests,
            rows[0].requests
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // `cargo test --benches` runs this binary without `--bench`: a smoke run.
    if !args.iter().any(|a| a == "--bench") {
        runtime.block_on(read_ahead(600, Duration::from_millis(1)));
        return;
    }
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let chosen =
        |group: &str| filters.is_empty() || filters.iter().any(|f| group.contains(f.as_str()));
    if chosen("repos") {
        runtime.block_on(many_repos());
    }
    if chosen("read-ahead") {
        let latency = Duration::from_millis(env("WP_BENCH_LATENCY_MS", 20));
        runtime.block_on(read_ahead(env("WP_BENCH_BIG_REPO", 10_000), latency));
    }
}
