//! Bad Woodpecker answers and outages, seen from Grafana: the real plugin
//! binary over gRPC against the fake Woodpecker with faults switched on.
//! Every query answers (an error or a notice) with a message a user can act
//! on, and the plugin keeps serving afterwards. The client-level view of the
//! same faults is in tests/woodpecker_client.rs. See docs/reliability.md.

mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use grafana_plugin_sdk::pluginv2::{DataQuery, DataResponse};
use serde_json::{json, Value};
use support::fixture::{fixture_server, RANGE_END, T0};
use support::frames::{decode, Decoded};
use support::plugin_process::{context_for, demo_context, query, PluginProcess};
use support::switch::Switch;
use support::woodpecker_server::{sha, FakeConfig, FakePipeline, FakeWoodpecker, Fault, Match};

fn deploys_of(repos: &[&str]) -> DataQuery {
    query(
        "A",
        json!({"queryType": "deploys", "repos": repos}),
        T0 - 7 * 86_400,
        RANGE_END,
    )
}

fn frames(resp: &DataResponse) -> Vec<Decoded> {
    assert_eq!(resp.status, 200, "error: {}", resp.error);
    resp.frames.iter().map(|f| decode(f)).collect()
}

fn notices(f: &Decoded) -> String {
    f.meta.as_ref().unwrap()["notices"].to_string()
}

/// The plugin still answers: a demo summary comes back whole.
async fn assert_still_serving(plugin: &PluginProcess) {
    let now = chrono::Utc::now().timestamp();
    let r = plugin
        .query_data(
            demo_context(),
            vec![query("Z", json!({}), now - 30 * 86_400, now)],
        )
        .await;
    assert_eq!(r["Z"].status, 200, "{}", r["Z"].error);
}

#[tokio::test]
async fn html_truncated_and_huge_answers_are_clear_errors() {
    let server = fixture_server(FakeConfig::default()).await;
    let plugin = PluginProcess::start().await;
    let cases: Vec<(Fault, u32, &[&str])> = vec![
        // A proxy's login page with 200.
        (
            Fault::Html(200),
            1,
            &["did not return Woodpecker JSON", "it returned an HTML page"],
        ),
        // A proxy's error page with 502, every attempt.
        (Fault::Html(502), 4, &["HTTP 502", "after 4 attempt(s)"]),
        (Fault::Truncated, 1, &["could not be read", "cut off"]),
        // 100 MB, with and without a Content-Length.
        (
            Fault::Huge {
                bytes: 100 << 20,
                chunked: false,
            },
            1,
            &["returned more than 33554432 bytes"],
        ),
        (
            Fault::Huge {
                bytes: 100 << 20,
                chunked: true,
            },
            1,
            &["returned more than 33554432 bytes"],
        ),
    ];
    for (i, (fault, times, expect)) in cases.into_iter().enumerate() {
        // No failure backoff: the retry right after the fault must go out.
        let ctx = context_for(
            &server.url(),
            &format!("bad-answer-{i}"),
            json!({"failureBackoffSeconds": 0}),
        );
        server.fail_next(Match::Pipelines, fault.clone(), times);
        let r = plugin
            .query_data(ctx.clone(), vec![deploys_of(&["acme/api"])])
            .await;
        let a = &r["A"];
        assert_eq!(a.status, 502, "{fault:?}: {}", a.error);
        for e in expect {
            assert!(a.error.contains(e), "{fault:?}: {}", a.error);
        }
        assert!(a.frames.is_empty());
        // The fault is gone: the same data source answers normally.
        server.clear_faults();
        let r = plugin
            .query_data(ctx, vec![deploys_of(&["acme/api"])])
            .await;
        assert!(frames(&r["A"])[0].rows() > 0, "{fault:?}");
    }
    // Reading 100 MB bodies did not cost 100 MB: the read stopped at the
    // 32 MiB limit.
    let (_, peak_kib) = plugin.memory_kib();
    assert!(peak_kib < 100 * 1024, "plugin peak RSS {peak_kib} KiB");
    assert_still_serving(&plugin).await;
}

/// Accepts TCP connections and never reads or writes a byte.
async fn silent_server() -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((conn, _)) = listener.accept().await {
            held.push(conn);
        }
    });
    (url, task)
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_within_timeout_seconds() {
    let (url, _task) = silent_server().await;
    let plugin = PluginProcess::start().await;
    let ctx = context_for(&url, "silent", json!({"timeoutSeconds": 1}));
    let started = Instant::now();
    let r = plugin
        .query_data(
            ctx.clone(),
            vec![
                deploys_of(&["acme/api"]),
                query("B", json!({}), T0, RANGE_END), // all repos: the repo list
            ],
        )
        .await;
    let took = started.elapsed();
    for id in ["A", "B"] {
        assert_eq!(r[id].status, 504, "{id}: {}", r[id].error);
        assert!(
            r[id].error.contains("did not answer") && r[id].error.contains("within 1s"),
            "{id}: {}",
            r[id].error
        );
    }
    // One timeout, not one per retry: timeouts are not retried.
    assert!(took < Duration::from_millis(2_500), "took {took:?}");
    assert!(took >= Duration::from_secs(1), "took {took:?}");
    assert_still_serving(&plugin).await;
}

#[tokio::test]
async fn a_429_storm_is_retried_a_bounded_number_of_times_honouring_retry_after() {
    let server = fixture_server(FakeConfig::default()).await;
    let plugin = PluginProcess::start().await;
    let ctx = context_for(&server.url(), "storm", json!({"failureBackoffSeconds": 0}));
    // Five 429s, each asking for a second's pause.
    server.fail_next(Match::Any, Fault::RateLimited(Some("1".into())), 5);
    let started = Instant::now();
    let r = plugin
        .query_data(ctx.clone(), vec![deploys_of(&["acme/api"])])
        .await;
    let took = started.elapsed();
    assert_eq!(r["A"].status, 502, "{}", r["A"].error);
    assert!(
        r["A"].error.contains("429") && r["A"].error.contains("after 4 attempts"),
        "{}",
        r["A"].error
    );
    // Four attempts (the first and three retries), a second apart.
    assert_eq!(server.request_count(), 4);
    assert!(
        took >= Duration::from_secs(3),
        "Retry-After ignored: {took:?}"
    );
    assert!(took < Duration::from_secs(6), "took {took:?}");
    // The storm's last 429, then it passes: the next query waits once and
    // finishes.
    let started = Instant::now();
    let r = plugin
        .query_data(ctx, vec![deploys_of(&["acme/api"])])
        .await;
    assert!(frames(&r["A"])[0].rows() > 0);
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_still_serving(&plugin).await;
}

#[tokio::test]
async fn a_repo_that_disappears_between_refreshes_is_reported() {
    let server = fixture_server(FakeConfig::default()).await;
    let plugin = PluginProcess::start().await;
    let ctx = context_for(
        &server.url(),
        "vanishing",
        json!({"events": ["deployment", "push"]}),
    );
    let both = || deploys_of(&["acme/api", "acme/web"]);
    let r = plugin.query_data(ctx.clone(), vec![both()]).await;
    let repos: BTreeSet<_> = frames(&r["A"])[0].strings("repo").into_iter().collect();
    assert_eq!(repos.len(), 2);

    server.remove_repo(1);
    // With another repo: that repo's rows and a warning about the gone one.
    let r = plugin.query_data(ctx.clone(), vec![both()]).await;
    let f = &frames(&r["A"])[0];
    assert!(f
        .strings("repo")
        .iter()
        .all(|r| r.as_deref() == Some("acme/web")));
    let n = notices(f);
    assert!(
        n.contains("acme/api could not be read") && n.contains("was not found"),
        "{n}"
    );
    // Alone: a 404 naming it. Its old data is not served: a deleted repo
    // or revoked access must not keep showing.
    let r = plugin
        .query_data(ctx.clone(), vec![deploys_of(&["acme/api"])])
        .await;
    assert_eq!(r["A"].status, 404, "{}", r["A"].error);
    assert!(
        r["A"].error.contains("\"acme/api\" was not found"),
        "{}",
        r["A"].error
    );
    assert_still_serving(&plugin).await;
}

#[tokio::test]
async fn odd_timestamps_do_not_break_any_query() {
    let server = FakeWoodpecker::start(FakeConfig::default()).await;
    server.add_repo(1, "acme/odd");
    let at = |number: u64, status: &str, created: i64, started: i64, finished: i64| FakePipeline {
        number,
        status: status.into(),
        event: "deployment".into(),
        branch: "main".into(),
        deploy_to: "production".into(),
        created,
        started,
        finished,
        parent: 0,
        commit: sha(number),
        workflows: Vec::new(),
    };
    let h = 3_600;
    server.set_pipelines(
        1,
        vec![
            at(1, "success", T0, T0 + 10, T0 + 60),
            // Finished before it started.
            at(2, "failure", T0 + h, T0 + h + 600, T0 + h + 60),
            // All zero: never finished, as far as the API says.
            at(3, "success", 0, 0, 0),
            // Created and started zero, but finished.
            at(4, "failure", 0, 0, T0 + 2 * h),
            // Finished before the failure it recovers from.
            at(5, "success", T0 + 3 * h, T0 + 3 * h, T0 + h - 60),
            at(6, "success", T0 + 4 * h, 0, T0 + 4 * h + 30),
            at(7, "failure", T0 + 5 * h, T0 + 5 * h, T0 + 5 * h + 60),
            at(8, "success", T0 + 6 * h, T0 + 6 * h + 5, T0 + 6 * h + 65),
        ],
    );
    let plugin = PluginProcess::start().await;
    let ctx = context_for(&server.url(), "odd", json!({}));
    let q = |id: &str, v: Value| {
        let mut v = v;
        v["repos"] = json!(["acme/odd"]);
        query(id, v, T0 - 86_400, T0 + 86_400)
    };
    let r = plugin
        .query_data(
            ctx,
            vec![
                q("S", json!({})),
                q(
                    "I",
                    json!({"queryType": "incidents", "includeSuperseded": true}),
                ),
                q(
                    "M",
                    json!({"queryType": "mttr", "bucket": "1h", "rolling": "1d"}),
                ),
                q("D", json!({"queryType": "deploys"})),
            ],
        )
        .await;
    for id in ["S", "I", "M", "D"] {
        assert_eq!(r[id].status, 200, "{id}: {}", r[id].error);
    }
    let d = &frames(&r["D"])[0];
    let numbers: Vec<i64> = d.i64s("pipeline").into_iter().flatten().collect();
    assert!(
        !numbers.contains(&3),
        "an unfinished pipeline is not a deploy: {numbers:?}"
    );
    for t in d.times("finished_at").into_iter().flatten() {
        assert!(t > 0, "no deploy at the epoch");
    }
    let i = &frames(&r["I"])[0];
    for s in i.f64s("recovery_seconds").into_iter().flatten() {
        assert!(s >= 0.0, "negative recovery time {s}");
    }
    // Deploys are ordered by when they finished: #5 finished before #2
    // failed, so the recovery from #2 (and #4 after it) is #6.
    let pairs: Vec<(Option<i64>, Option<i64>)> = i
        .i64s("pipeline")
        .into_iter()
        .zip(i.i64s("recovered_by"))
        .collect();
    assert!(pairs.contains(&(Some(2), Some(6))), "{pairs:?}");
    let s = &frames(&r["S"])[0];
    for col in ["p50_seconds", "p90_seconds", "mean_seconds"] {
        for v in s.f64s(col).into_iter().flatten() {
            assert!(v.is_finite() && v >= 0.0, "{col} = {v}");
        }
    }
    assert_still_serving(&plugin).await;
}

#[tokio::test]
async fn woodpecker_down_serves_the_warm_cache_then_catches_up_without_gap_or_duplicate() {
    let server = fixture_server(FakeConfig::default()).await;
    let switch = Switch::start(server.addr).await;
    let plugin = PluginProcess::start().await;
    let ctx = context_for(
        &switch.url(),
        "outage",
        json!({"timeoutSeconds": 2, "failureBackoffSeconds": 0}),
    );
    let q = || vec![deploys_of(&["acme/api"])];

    let r = plugin.query_data(ctx.clone(), q()).await;
    let before: Vec<i64> = frames(&r["A"])[0]
        .i64s("pipeline")
        .into_iter()
        .flatten()
        .collect();
    assert!(!before.is_empty());

    switch.down().await;
    // New deploys land while the plugin cannot see the server.
    let day = 86_400;
    let new = [
        FakePipeline::finished(23, "failure", "deployment", "production", T0 + 25 * day),
        FakePipeline::finished(
            24,
            "success",
            "deployment",
            "production",
            T0 + 25 * day + 3_600,
        ),
    ];
    for p in &new {
        server.push_pipeline(1, p.clone());
    }
    let r = plugin.query_data(ctx.clone(), q()).await;
    let f = &frames(&r["A"])[0];
    let during: Vec<i64> = f.i64s("pipeline").into_iter().flatten().collect();
    assert_eq!(during, before, "the cached history, unchanged");
    let n = notices(f);
    assert!(n.contains("\"warning\""), "{n}");
    // The age in words: seconds here (it read "0 minutes ago" before).
    let age = n
        .split("acme/api: showing data fetched ")
        .nth(1)
        .and_then(|rest| rest.split(" ago because the refresh failed").next())
        .unwrap_or_else(|| panic!("no stale-data notice: {n}"));
    assert!(
        age.ends_with('s') && age[..age.len() - 1].parse::<u32>().is_ok(),
        "{age:?} in {n}"
    );
    assert!(n.contains("could not connect"), "{n}");

    switch.up().await;
    let r = plugin.query_data(ctx.clone(), q()).await;
    let f = &frames(&r["A"])[0];
    assert_eq!(
        notices(f),
        "null",
        "no stale-data notice once the server is back"
    );
    let after: Vec<i64> = f.i64s("pipeline").into_iter().flatten().collect();
    let mut expected = before.clone();
    expected.extend([23, 24]);
    expected.sort_unstable();
    let mut sorted = after.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, expected, "no gap and no duplicate");
    assert_still_serving(&plugin).await;
}
