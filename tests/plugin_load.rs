//! Load, small enough for the default suite: 200 concurrent QueryData calls
//! from 20 dashboards over gRPC, against a fake Woodpecker that answers
//! after 20 ms. Every call answers, concurrent identical fetches are shared,
//! memory stays bounded. The large version is `cargo bench --bench
//! plugin_load` (numbers in docs/performance.md). See docs/reliability.md.

mod support;

use std::time::Duration;

use support::load::{Load, LoadConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_calls_from_twenty_dashboards() {
    let load = Load::start(LoadConfig {
        repos: 8,
        pipelines_per_repo: 400,
        latency: Duration::from_millis(20),
        dashboards: 20,
        calls_per_dashboard: 10,
        rounds: 2,
    })
    .await;
    let rounds = load.run().await;
    for (i, r) in rounds.iter().enumerate() {
        eprintln!(
            "round {i}: {} calls / {} queries in {:?}; p50 {:?} p99 {:?}; {} requests ({} pages, {} lookups) for {} repo fetches over {} keys; RSS {} KiB (peak {} KiB, baseline {} KiB)",
            r.calls, r.queries, r.wall, r.percentile(0.5), r.percentile(0.99), r.requests,
            r.page_requests, r.lookups, r.unshared_refreshes, r.distinct_keys, r.rss_kib,
            r.peak_rss_kib, load.baseline_rss_kib
        );
        assert_eq!(r.calls, 200);
        assert!(r.failed.is_empty(), "round {i}: {:?}", r.failed);
        // Each repo is looked up once, not once per query.
        assert!(r.lookups <= 8, "round {i}: {} lookups", r.lookups);
        // Fetches are shared: far fewer requests than one per repo per query.
        assert!(
            r.page_requests * 4 < r.unshared_refreshes,
            "round {i}: {} page requests for {} repo fetches",
            r.page_requests,
            r.unshared_refreshes
        );
    }
    // Cold: each (repo, event filter) read once: at most 6 pages each
    // (300 matching rows of 400 at 50 a page, plus the empty last page).
    assert!(rounds[0].page_requests <= rounds[0].distinct_keys * 7);
    // 3,200 pipelines held cost little; the bound is generous for a debug
    // build and 200 queries' transient working sets at once.
    let peak = rounds.iter().map(|r| r.peak_rss_kib).max().unwrap();
    assert!(
        peak < load.baseline_rss_kib + 200 * 1024,
        "peak RSS {peak} KiB"
    );
}
