//! Woodpecker as a flaky network and an attacker would present it, seen from
//! Grafana: the real plugin binary over gRPC against the in-process fake.
//! Stalling servers while many queries run, a deadline per query, repo
//! names that try to leave their path, bodies that name people, pages that
//! never end or come in the wrong order, a working set above the cache
//! bound, and hundreds of data sources. See docs/reliability.md.

mod support;

use std::time::{Duration, Instant};

use futures::future::join_all;
use grafana_plugin_sdk::pluginv2::DataResponse;
use serde_json::json;
use support::fixture::{fixture_server, RANGE_END, T0};
use support::frames::decode;
use support::plugin_process::{context_for, query, PluginProcess};
use support::woodpecker_server::{
    gen_pipelines, FakeConfig, FakePipeline, FakeWoodpecker, Fault, Match, Paging,
};

fn deploys(repos: &[&str]) -> grafana_plugin_sdk::pluginv2::DataQuery {
    query(
        "A",
        json!({"queryType": "deploys", "repos": repos, "events": ["deployment", "push"]}),
        T0 - 7 * 86_400,
        RANGE_END,
    )
}

fn notices(r: &DataResponse) -> String {
    assert_eq!(r.status, 200, "error: {}", r.error);
    decode(&r.frames[0]).meta.as_ref().unwrap()["notices"].to_string()
}

/// A `deploys` query of the default (deployment) events over `days` before T0.
fn deploys_before_t0(repos: &[&str], days: i64) -> Vec<grafana_plugin_sdk::pluginv2::DataQuery> {
    vec![query(
        "A",
        json!({"queryType": "deploys", "repos": repos}),
        T0 - days * 86_400,
        T0,
    )]
}

/// `n` repos `org/r0…` of `per` pipelines each.
async fn many_repos(n: i64, per: u64) -> (FakeWoodpecker, Vec<String>) {
    let s = FakeWoodpecker::start(FakeConfig::default()).await;
    let names: Vec<String> = (0..n).map(|i| format!("org/r{i}")).collect();
    for (i, name) in names.iter().enumerate() {
        s.add_repo(i as i64 + 1, name);
        s.set_pipelines(i as i64 + 1, gen_pipelines(per, T0 - 30 * 86_400));
    }
    (s, names)
}

/// 100 concurrent queries for one repo while the server alternates 500s and
/// stalls: they share one failing refresh instead of queueing behind it.
#[tokio::test]
async fn queries_share_a_failing_refresh_instead_of_queueing_behind_it() {
    let server = fixture_server(FakeConfig::default()).await;
    let plugin = PluginProcess::start().await;
    let timeout = 1;
    let ctx = context_for(
        &server.url(),
        "stalling",
        json!({"timeoutSeconds": timeout}),
    );
    // Warm, then the server turns bad: a 500, then a stall, over and over.
    let warm = plugin
        .query_data(ctx.clone(), vec![deploys(&["acme/api"])])
        .await;
    notices(&warm["A"]);
    // Something new, so the user feed sends every query to the refresh.
    server.push_pipeline(1, FakePipeline::running(10_000, "push", "", RANGE_END - 60));
    for _ in 0..200 {
        server.fail_next(Match::Pipelines, Fault::Status(500), 1);
        server.fail_next(Match::Pipelines, Fault::Delay(Duration::from_secs(30)), 1);
    }
    server.reset_requests();
    let started = Instant::now();
    let answers = join_all((0..100).map(|_| {
        let ctx = ctx.clone();
        let plugin = &plugin;
        async move {
            let r = plugin.query_data(ctx, vec![deploys(&["acme/api"])]).await;
            (started.elapsed(), r)
        }
    }))
    .await;
    let slowest = answers.iter().map(|(t, _)| *t).max().unwrap();
    let requests = server.count(Match::Pipelines);
    eprintln!("100 queries against a stalling server: slowest answer {slowest:?}, {requests} pipeline requests");
    assert!(
        slowest <= Duration::from_secs(2 * timeout + 2),
        "slowest answer after {slowest:?}"
    );
    // The first refresh: a 500, one retry, a stall (timeouts are not
    // retried); every other query shares its outcome.
    assert!(requests <= 4, "{requests} requests");
    for (_, r) in &answers {
        let n = notices(&r["A"]);
        assert!(n.contains("showing data fetched"), "{n}");
    }
    // Within the backoff the next query answers at once, without a request.
    server.reset_requests();
    let t = Instant::now();
    let r = plugin
        .query_data(ctx.clone(), vec![deploys(&["acme/api"])])
        .await;
    assert!(notices(&r["A"]).contains("showing data fetched"));
    assert!(
        t.elapsed() < Duration::from_millis(500),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(server.request_count(), 0);

    // Cold: nothing held, so every waiting query gets the error, at once.
    let cold = context_for(
        &server.url(),
        "stalling-cold",
        json!({"timeoutSeconds": timeout}),
    );
    let started = Instant::now();
    let answers =
        join_all((0..20).map(|_| plugin.query_data(cold.clone(), vec![deploys(&["acme/api"])])))
            .await;
    assert!(
        started.elapsed() <= Duration::from_secs(2 * timeout + 2),
        "{:?}",
        started.elapsed()
    );
    for r in &answers {
        assert!(
            matches!(r["A"].status, 502 | 504),
            "{}: {}",
            r["A"].status,
            r["A"].error
        );
    }
}

/// A slow server costs a query its deadline, not repos × timeout: what is
/// held is served, and one notice names the repos not refreshed.
#[tokio::test]
async fn a_query_answers_by_its_deadline_with_what_is_held() {
    let (server, names) = many_repos(6, 40).await;
    let plugin = PluginProcess::start().await;
    let ctx = context_for(
        &server.url(),
        "deadline",
        json!({"maxConcurrency": 1, "timeoutSeconds": 10, "queryTimeoutSeconds": 2, "failureBackoffSeconds": 0}),
    );
    let all: Vec<&str> = names.iter().map(String::as_str).collect();
    let q = || deploys_before_t0(&all, 31);
    let r = plugin.query_data(ctx.clone(), q()).await;
    assert_eq!(notices(&r["A"]), "null");
    // Every repo has something new, and each request now takes 1.5 s: 6
    // repos one at a time would take 9 s.
    for id in 1..=6 {
        server.push_pipeline(id, FakePipeline::running(100, "push", "", T0));
    }
    server.set_latency(Duration::from_millis(1_500));
    let started = Instant::now();
    let r = plugin.query_data(ctx.clone(), q()).await;
    let took = started.elapsed();
    eprintln!("6 slow repos with a 2 s query limit answered in {took:?}");
    assert!(took < Duration::from_millis(3_000), "took {took:?}");
    let n = notices(&r["A"]);
    assert!(
        n.contains("not refreshed within the query's time limit of 2s"),
        "{n}"
    );
    assert!(n.contains("org/r5"), "{n}");
    let f = decode(&r["A"].frames[0]);
    let held: std::collections::BTreeSet<String> =
        f.strings("repo").into_iter().flatten().collect();
    assert_eq!(held.len(), 6, "every repo's held rows are served");

    // Nothing held: an error naming the limit, by the deadline.
    let cold = context_for(
        &server.url(),
        "deadline-cold",
        json!({"queryTimeoutSeconds": 1}),
    );
    let started = Instant::now();
    let r = plugin.query_data(cold, q()).await;
    assert!(started.elapsed() < Duration::from_millis(2_000));
    assert_eq!(r["A"].status, 504, "{}", r["A"].error);
    assert!(
        r["A"].error.contains("time limit of 1s"),
        "{}",
        r["A"].error
    );
}

/// Dot segments never reach the server; nothing the plugin sends leaves
/// `/api/repos/…`, and errors do not quote what a server answered.
#[tokio::test]
async fn repo_names_cannot_leave_their_path_and_bodies_are_not_quoted() {
    let server = fixture_server(FakeConfig::default()).await;
    let plugin = PluginProcess::start().await;
    let ctx = context_for(&server.url(), "escape", json!({}));
    for bad in [
        "../../users",
        "../1/logs/5/2",
        "acme/%2e%2e/%2e%2e/users",
        "acme/api?x=",
        "acme\\..\\..\\users",
    ] {
        let r = plugin.query_data(ctx.clone(), vec![deploys(&[bad])]).await;
        assert_eq!(r["A"].status, 400, "{bad}: {}", r["A"].error);
        assert!(
            r["A"].error.starts_with("`repos`"),
            "{bad}: {}",
            r["A"].error
        );
        for resource in ["environments", "branches"] {
            let url = format!(
                "{resource}?repos={}",
                bad.replace('%', "%25").replace('?', "%3F")
            );
            let (code, body) = plugin.call_resource(ctx.clone(), "GET", &url).await;
            assert_eq!(code, 400, "{url}: {}", String::from_utf8_lossy(&body));
            assert!(String::from_utf8_lossy(&body).contains("`repos`"));
        }
    }
    let outside: Vec<String> = server
        .requests()
        .into_iter()
        .map(|r| r.path)
        .filter(|p| !(p == "/version" || p == "/api/user/repos" || p.starts_with("/api/repos/")))
        .collect();
    assert!(
        outside.is_empty(),
        "requests outside the repo paths: {outside:?}"
    );
    assert!(server.requests().iter().all(|r| !r.path.contains("..")));

    // A server whose error pages name a user: the error says what kind of
    // answer came back, never its contents.
    for fault in [
        Fault::Body(
            400,
            "{\"error\":\"user alice (alice@example.com) lacks access\"}",
        ),
        Fault::Body(200, "<!DOCTYPE html><p>Signed in as alice@example.com</p>"),
        Fault::Body(200, "[{\"number\":\"alice@example.com\"}]"),
    ] {
        let fresh = context_for(&server.url(), "quoted", json!({"failureBackoffSeconds": 0}));
        server.fail_next(Match::Pipelines, fault.clone(), 1);
        let r = plugin.query_data(fresh, vec![deploys(&["acme/api"])]).await;
        assert_eq!(r["A"].status, 502, "{fault:?}: {}", r["A"].error);
        assert!(
            !r["A"].error.contains("alice"),
            "{fault:?}: {}",
            r["A"].error
        );
        server.clear_faults();
    }
}

/// A proxy that ignores `?page=` and a history that never ends cost a few
/// requests and a notice, not 100,000 requests per query.
#[tokio::test]
async fn pages_that_never_end_stop_with_a_notice() {
    let (server, _) = many_repos(1, 500).await;
    let plugin = PluginProcess::start().await;
    server.set_paging(Paging::IgnoresPage);
    let ctx = context_for(
        &server.url(),
        "same-page",
        json!({"failureBackoffSeconds": 0}),
    );
    let q = || deploys_before_t0(&["org/r0"], 30);
    for round in 0..3 {
        server.reset_requests();
        let r = plugin.query_data(ctx.clone(), q()).await;
        let n = notices(&r["A"]);
        assert!(n.contains("does not page properly"), "{n}");
        assert!(n.contains("as if the page parameter were ignored"), "{n}");
        let requests = server.count(Match::Pipelines);
        eprintln!("ignored ?page=, query {round}: {requests} pipeline requests");
        assert!(requests <= 3, "round {round}: {requests} requests");
    }

    server.set_paging(Paging::Endless);
    let ctx = context_for(
        &server.url(),
        "endless",
        json!({"maxPipelinesPerRepo": 2_000}),
    );
    server.reset_requests();
    let r = plugin.query_data(ctx.clone(), q()).await;
    let n = notices(&r["A"]);
    assert!(
        n.contains("reading stopped at the most pipelines one repository may hold"),
        "{n}"
    );
    let first = server.count(Match::Pipelines);
    server.reset_requests();
    plugin.query_data(ctx.clone(), q()).await;
    let second = server.count(Match::Pipelines);
    eprintln!("endless history, bound 2000: {first} requests, then {second}");
    assert!(first <= 2_000 / 50 + 1, "{first}");
    assert!(second <= 2, "{second}");
    let (rss, _) = plugin.memory_kib();
    assert!(rss < 200 * 1024, "RSS {rss} KiB");
}

/// A list in the wrong order fails that repo with a clear error, never a
/// silently wrong answer.
#[tokio::test]
async fn a_list_in_the_wrong_order_is_an_error() {
    let (server, _) = many_repos(1, 120).await;
    server.set_paging(Paging::OldestFirst);
    let plugin = PluginProcess::start().await;
    let ctx = context_for(&server.url(), "oldest-first", json!({}));
    let r = plugin.query_data(ctx, vec![deploys(&["org/r0"])]).await;
    assert_eq!(r["A"].status, 502, "{}", r["A"].error);
    assert!(r["A"].error.contains("out of order"), "{}", r["A"].error);
    assert!(r["A"].error.contains("newest first"), "{}", r["A"].error);
}

/// Above the cache bound the repos a query needs stay held: warm costs the
/// user feed's one request, not a cold fetch, and a notice and a metric say
/// so.
#[tokio::test]
async fn a_working_set_above_the_bound_stays_held() {
    // 50 deployments per repo: 2,000 held against a bound of 1,000.
    let (server, names) = many_repos(40, 200).await;
    let plugin = PluginProcess::start().await;
    let ctx = context_for(
        &server.url(),
        "bounded",
        json!({"maxCachedPipelines": 1_000}),
    );
    let all: Vec<&str> = names.iter().map(String::as_str).collect();
    let q = || deploys_before_t0(&all, 40);
    let cold = plugin.query_data(ctx.clone(), q()).await;
    assert!(notices(&cold["A"]).contains("above its bound of 1000"));
    for _ in 0..2 {
        server.reset_requests();
        let warm = plugin.query_data(ctx.clone(), q()).await;
        assert!(notices(&warm["A"]).contains("above its bound of 1000"));
        assert_eq!(server.count(Match::Pipelines), 0, "nothing new: no refresh");
        assert_eq!(server.count(Match::Path("/api/user/feed")), 1);
    }
    let text = plugin.metrics_text(ctx).await;
    let line = text
        .lines()
        .find(|l| l.starts_with("woodpecker_dora_over_bound_total{datasource=\"uid:bounded\"}"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(!line.ends_with(" 0"), "{line}");
}

/// 500 data sources under a 1,024 open-file limit all answer; unused ones
/// are released after the idle time.
#[tokio::test]
async fn hundreds_of_data_sources_neither_exhaust_files_nor_stay_forever() {
    let (server, _) = many_repos(1, 20).await;
    let plugin = PluginProcess::start_with_env(&[("GF_PLUGIN_INSTANCE_IDLE_SECONDS", "3")]).await;
    let status = std::process::Command::new("prlimit")
        .args(["--pid", &plugin.pid().to_string(), "--nofile=1024:1024"])
        .status()
        .expect("prlimit");
    assert!(status.success());
    let q = || {
        vec![query(
            "A",
            json!({"queryType": "summary", "repos": ["org/r0"]}),
            T0 - 30 * 86_400,
            T0,
        )]
    };
    for batch in 0..10 {
        let answers = join_all((0..50).map(|i| {
            let ctx = context_for(&server.url(), &format!("ds-{batch}-{i}"), json!({}));
            plugin.query_data(ctx, q())
        }))
        .await;
        for r in &answers {
            assert_eq!(r["A"].status, 200, "{}", r["A"].error);
        }
    }
    let (rss, _) = plugin.memory_kib();
    let files = plugin.open_files();
    eprintln!(
        "500 data sources: RSS {} MiB, {files} open files",
        rss / 1024
    );
    assert!(files < 200, "{files} open files");
    tokio::time::sleep(Duration::from_secs(4)).await;
    let last = context_for(&server.url(), "ds-last", json!({}));
    assert_eq!(plugin.query_data(last.clone(), q()).await["A"].status, 200);
    let text = plugin.metrics_text(last).await;
    let live = text
        .lines()
        .filter(|l| l.starts_with("woodpecker_dora_requests_total{"))
        .count();
    assert_eq!(live, 1, "idle instances released:\n{text}");
}
