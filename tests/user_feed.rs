//! One request when nothing changed: the cache reads the user feed
//! (`/api/user/feed?latest=true`, each pushable repo's newest pipeline) and
//! refreshes only the repos it shows changed, against the real in-process
//! HTTP server in 3.x and 2.x naming, and through the real plugin binary.

mod support;

use std::time::{Duration, Instant};

use futures::future::join_all;
use grafana_plugin_sdk::pluginv2::DataQuery;
use serde_json::json;
use support::plugin_process::{context_for, query, PluginProcess};
use support::woodpecker_server::*;
use woodpecker_dora::woodpecker::*;

/// Recent, so unfinished pipelines are still worth re-checking.
fn t0() -> i64 {
    chrono::Utc::now().timestamp() - 86_400
}

const FEED: Match = Match::Path("/api/user/feed");

async fn server(version: &str, repos: i64, per: u64) -> (FakeWoodpecker, Vec<String>) {
    let s = FakeWoodpecker::start(FakeConfig::default().version(version)).await;
    let names: Vec<String> = (0..repos).map(|i| format!("org/r{i}")).collect();
    for (i, name) in names.iter().enumerate() {
        s.add_repo(i as i64 + 1, name);
        s.set_pipelines(i as i64 + 1, gen_pipelines(per, t0()));
    }
    (s, names)
}

fn cache(s: &FakeWoodpecker) -> PipelineCache {
    let client = WoodpeckerClient::new(ClientConfig {
        retry_base: Duration::from_millis(10),
        failure_backoff: Duration::ZERO,
        ..ClientConfig::new(s.url(), s.token().map(Token::new))
    })
    .unwrap();
    PipelineCache::new(client, CacheConfig::default())
}

fn all() -> HistoryNeed<'static> {
    HistoryNeed::since(0, &[])
}

/// Pipelines held per repo, in the order asked.
async fn held(c: &PipelineCache, names: &[String]) -> Vec<Vec<u64>> {
    c.histories(names, &all())
        .await
        .repos
        .into_iter()
        .map(|(name, h)| {
            let h = h.unwrap_or_else(|e| panic!("{name}: {e}"));
            h.pipelines.iter().map(|p| p.number()).collect()
        })
        .collect()
}

#[tokio::test]
async fn nothing_new_costs_one_request_for_a_hundred_repos() {
    for version in ["3.17.0", "3.0.1", "2.8.3"] {
        let (s, names) = server(version, 100, 60).await;
        let c = cache(&s);
        held(&c, &names).await;
        s.reset_requests();
        let warm = held(&c, &names).await;
        assert_eq!(s.request_count(), 1, "{version}: {:?}", s.requests());
        assert_eq!(s.count(FEED), 1, "{version}");
        assert!(warm.iter().all(|numbers| numbers.len() == 60), "{version}");
        assert_eq!(c.counters().refreshes_skipped, 100, "{version}");
    }
}

#[tokio::test]
async fn only_repos_the_feed_shows_changed_are_refreshed() {
    let (s, names) = server("3.17.0", 20, 60).await;
    let c = cache(&s);
    held(&c, &names).await;
    // r3 gets a new finished pipeline; r7's newest (60) is replaced by a
    // running one that then finishes: a status change of the same number.
    s.push_pipeline(
        4,
        FakePipeline::finished(61, "success", "push", "", t0() + 61 * 600),
    );
    s.push_pipeline(
        8,
        FakePipeline::running(61, "deployment", "production", t0() + 61 * 600),
    );
    s.reset_requests();
    let warm = held(&c, &names).await;
    assert_eq!(s.count(FEED), 1);
    let refreshed: Vec<String> = s
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/pipelines"))
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(
        refreshed,
        ["/api/repos/4/pipelines", "/api/repos/8/pipelines"],
        "one page each for the two changed repos"
    );
    assert_eq!(warm[3][0], 61);
    assert_eq!(warm[7][0], 60, "the running deploy is not held yet");
    // r7's deploy finishes; the feed shows the status change.
    s.update_pipeline(8, 61, |p| {
        p.status = "failure".into();
        p.finished = p.started + 60;
    });
    s.reset_requests();
    let warm = held(&c, &names).await;
    assert_eq!(warm[7][0], 61, "the finished deploy is picked up");
    assert_eq!(s.count(Match::Pipelines), 1);
}

/// The feed shows only each repo's newest pipeline: a repo holding an
/// older unfinished pipeline, and a pull-only repo the feed does not list,
/// keep the per-repo refresh.
#[tokio::test]
async fn what_the_feed_cannot_see_is_still_refreshed() {
    let (s, names) = server("2.8.3", 3, 60).await;
    s.set_pull_only(3);
    // r0: a deploy still running under a newer finished push.
    s.push_pipeline(
        1,
        FakePipeline::running(61, "deployment", "production", t0() + 61 * 600),
    );
    s.push_pipeline(
        1,
        FakePipeline::finished(62, "success", "push", "", t0() + 62 * 600),
    );
    let c = cache(&s);
    held(&c, &names).await;
    s.reset_requests();
    held(&c, &names).await;
    let paths: Vec<String> = s
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/pipelines"))
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(paths, ["/api/repos/1/pipelines", "/api/repos/3/pipelines"]);
    // The deploy finishes without changing the feed: the re-check finds it.
    s.update_pipeline(1, 61, |p| {
        p.status = "success".into();
        p.finished = p.started + 60;
    });
    let warm = held(&c, &names).await;
    assert!(warm[0].contains(&61));
    // Held, nothing unfinished: from now on r0 costs nothing.
    s.reset_requests();
    held(&c, &names).await;
    assert_eq!(s.count(Match::Pipelines), 1, "only the pull-only repo");
}

#[tokio::test]
async fn a_failing_feed_falls_back_to_refreshing_each_repo() {
    let (s, names) = server("3.17.0", 5, 60).await;
    let c = cache(&s);
    held(&c, &names).await;
    s.push_pipeline(
        2,
        FakePipeline::finished(61, "success", "push", "", t0() + 61 * 600),
    );
    for fault in [
        Fault::Status(404),
        Fault::Status(500),
        Fault::Body(200, "{\"not\": \"a list\"}"),
    ] {
        s.fail_next(FEED, fault, 10);
        s.reset_requests();
        let warm = held(&c, &names).await;
        assert_eq!(s.count(Match::Pipelines), 5, "{:?}", s.requests());
        assert_eq!(warm[1][0], 61);
        s.clear_faults();
    }
    // Switched off, the feed is never asked.
    let off = PipelineCache::new(
        c.client().clone(),
        CacheConfig {
            use_feed: false,
            ..CacheConfig::default()
        },
    );
    held(&off, &names).await;
    s.reset_requests();
    held(&off, &names).await;
    assert_eq!((s.count(FEED), s.count(Match::Pipelines)), (0, 5));
}

/// As Grafana drives it: 100 concurrent queries over 100 repos, warm and
/// with nothing new, cost one request between them (two at most when some
/// arrive after the first read finished).
/// One `deploys` query over `names`, from a day before the history to
/// `slots` pipeline slots after its start.
fn deploys_of(names: &[String], slots: i64) -> Vec<DataQuery> {
    let (from, to) = (t0() - 86_400, t0() + slots * 600);
    vec![query(
        "A",
        json!({"queryType": "deploys", "repos": names}),
        from,
        to,
    )]
}

#[tokio::test]
async fn a_hundred_concurrent_queries_share_one_feed_read() {
    let (s, names) = server("3.17.0", 100, 40).await;
    s.set_latency(Duration::from_millis(20));
    let plugin = PluginProcess::start().await;
    let ctx = context_for(&s.url(), "feed", json!({}));
    let q = || deploys_of(&names, 41);
    let cold = plugin.query_data(ctx.clone(), q()).await;
    assert_eq!(cold["A"].status, 200, "{}", cold["A"].error);
    // Slow enough that all 100 calls arrive while the first read runs.
    s.set_latency(Duration::from_millis(250));
    s.reset_requests();
    let answers = join_all((0..100).map(|_| plugin.query_data(ctx.clone(), q()))).await;
    for r in &answers {
        assert_eq!(r["A"].status, 200, "{}", r["A"].error);
        assert_eq!(r["A"].frames, cold["A"].frames);
    }
    assert!(s.request_count() <= 2, "{:?}", s.requests());
    assert_eq!(s.count(Match::Pipelines), 0);
    s.set_latency(Duration::ZERO);
    // Off: the same warm queries cost a refresh per repo.
    let off = context_for(&s.url(), "no-feed", json!({"userFeed": false}));
    plugin.query_data(off.clone(), q()).await;
    s.reset_requests();
    plugin.query_data(off, q()).await;
    assert_eq!((s.count(FEED), s.count(Match::Pipelines)), (0, 100));
}

/// The feed stalls far beyond the request timeout while 100 queries wait:
/// they share the one read that times out and fall back to refreshing each
/// repo, instead of queueing behind the stall one read after another.
#[tokio::test]
async fn a_stalling_feed_is_shared_and_each_repo_is_refreshed_instead() {
    let (s, names) = server("3.17.0", 20, 40).await;
    let plugin = PluginProcess::start().await;
    let ctx = context_for(&s.url(), "stalling-feed", json!({"timeoutSeconds": 1}));
    let q = || deploys_of(&names, 42);
    let warm = plugin.query_data(ctx.clone(), q()).await;
    assert_eq!(warm["A"].status, 200, "{}", warm["A"].error);
    // Something new that only a per-repo refresh can find while the feed
    // stalls.
    s.push_pipeline(
        4,
        FakePipeline::finished(41, "success", "deployment", "production", t0() + 41 * 600),
    );
    let stall = Duration::from_secs(60);
    s.fail_next(FEED, Fault::Delay(stall), 1_000);
    s.reset_requests();
    let started = Instant::now();
    let answers = join_all((0..100).map(|_| plugin.query_data(ctx.clone(), q()))).await;
    let took = started.elapsed();
    let (feeds, refreshes) = (s.count(FEED), s.count(Match::Pipelines));
    eprintln!("100 queries behind a stalling feed: {took:?}, {feeds} feed reads, {refreshes} pipeline requests");
    s.clear_faults();
    // What a data source without the feed reads afresh.
    let reference = context_for(&s.url(), "reference", json!({"userFeed": false}));
    let expected = plugin.query_data(reference, q()).await;
    assert_eq!(expected["A"].status, 200, "{}", expected["A"].error);
    assert_ne!(
        expected["A"].frames, warm["A"].frames,
        "the new deploy shows"
    );
    for r in &answers {
        assert_eq!(r["A"].status, 200, "{}", r["A"].error);
        assert_eq!(r["A"].frames, expected["A"].frames);
    }
    // One read that times out, shared by every query waiting on it; its
    // failure is then shared for the backoff.
    assert!(feeds <= 2, "{feeds} feed reads: {:?}", s.requests());
    // Generous for a slow machine (it takes about the 1 s timeout), yet far
    // from the stall, and from 100 queries timing out one after another.
    assert!(took < stall / 3, "answered after {took:?}");
}
