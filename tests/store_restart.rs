//! The on-disk pipeline store, with real processes: the plugin binary is
//! restarted and `kill -9`ed against the in-process fake Woodpecker, and
//! must answer exactly as a plugin that never stopped, at the cost of a
//! warm refresh.

mod support;

use std::time::Duration;

use grafana_plugin_sdk::pluginv2::DataQuery;
use serde_json::json;
use support::plugin_process::{context, context_for, query, PluginProcess, TempDir, STORE_PATH};
use support::woodpecker_server::*;

/// Fixed for the whole test binary, so every answer covers the same range.
fn t0() -> i64 {
    static T0: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    *T0.get_or_init(|| chrono::Utc::now().timestamp() - 40 * 86_400)
}

fn end() -> i64 {
    t0() + 41 * 86_400
}

async fn server(repos: i64, per: u64) -> (FakeWoodpecker, Vec<String>) {
    let s = FakeWoodpecker::start(FakeConfig::default()).await;
    let names: Vec<String> = (0..repos).map(|i| format!("org/r{i}")).collect();
    for (i, name) in names.iter().enumerate() {
        s.add_repo(i as i64 + 1, name);
        s.set_pipelines(i as i64 + 1, gen_pipelines(per, t0()));
    }
    (s, names)
}

fn queries(names: &[String]) -> Vec<DataQuery> {
    let (from, to) = (t0(), end());
    vec![
        query(
            "A",
            json!({"queryType": "summary", "repos": names}),
            from,
            to,
        ),
        query(
            "B",
            json!({"queryType": "deploys", "repos": names}),
            from,
            to,
        ),
    ]
}

async fn plugin_on(dir: &TempDir) -> PluginProcess {
    PluginProcess::start_with_env(&[(STORE_PATH, dir.path())]).await
}

/// Frames of both queries, checked to be answers.
async fn answer(
    plugin: &PluginProcess,
    ctx: grafana_plugin_sdk::pluginv2::PluginContext,
    names: &[String],
) -> Vec<Vec<u8>> {
    let r = plugin.query_data(ctx, queries(names)).await;
    ["A", "B"]
        .iter()
        .flat_map(|id| {
            assert_eq!(r[*id].status, 200, "{id}: {}", r[*id].error);
            r[*id].frames.clone()
        })
        .collect()
}

#[tokio::test]
async fn after_a_restart_the_first_query_costs_a_warm_refresh() {
    let (s, names) = server(20, 300).await;
    let dir = TempDir::new("restart");
    let ctx = || context_for(&s.url(), "restart", json!({}));
    let plugin = plugin_on(&dir).await;
    let before = answer(&plugin, ctx(), &names).await;
    let cold = s.count(Match::Pipelines);
    assert!(cold >= 20 * 5, "{cold} pages cold");
    plugin.kill9().await;

    s.reset_requests();
    let plugin = plugin_on(&dir).await;
    let after = answer(&plugin, ctx(), &names).await;
    assert!(after == before, "the same answer after a restart");
    assert_eq!(
        s.request_count(),
        1,
        "only the user feed: {:?}",
        s.requests()
    );
    let metrics = plugin.metrics_text(ctx()).await;
    assert!(
        metrics.contains("woodpecker_dora_restored_total{datasource=\"uid:restart\"} 20"),
        "{metrics}"
    );

    // Without the feed: one refresh per repo, no lookups, no cold pages.
    let no_feed = || context_for(&s.url(), "restart-no-feed", json!({"userFeed": false}));
    answer(&plugin, no_feed(), &names).await;
    plugin.kill9().await;
    s.reset_requests();
    let plugin = plugin_on(&dir).await;
    answer(&plugin, no_feed(), &names).await;
    let pages: Vec<String> = s
        .requests()
        .iter()
        .map(|r| format!("{}?{:?}", r.path, r.query))
        .collect();
    // Each (repo, filter) costs one first page; a key two queries of one
    // request share may be refreshed by each.
    assert!(s.count(Match::Pipelines) <= 40, "{pages:#?}");
    assert!(
        s.requests()
            .iter()
            .all(|r| r.param("page").is_none_or(|p| p == "1")),
        "{pages:#?}"
    );
    assert_eq!(s.count(Match::Prefix("/api/repos/lookup/")), 0);

    // New pipelines after the restart are picked up.
    s.push_pipeline(
        3,
        FakePipeline::finished(
            301,
            "failure",
            "deployment",
            "production",
            t0() + 20 * 86_400,
        ),
    );
    plugin.kill9().await;
    let plugin = plugin_on(&dir).await;
    let got = answer(&plugin, ctx(), &names).await;
    let fresh = PluginProcess::start().await;
    assert!(
        got == answer(&fresh, ctx(), &names).await,
        "as a fresh plugin answers"
    );
    assert!(got != before, "the new deploy is in");
}

/// `kill -9` at any moment of a cold read never corrupts the store: the
/// next process opens it and answers exactly as a fresh one.
#[tokio::test]
async fn kill_9_while_writing_never_corrupts_the_store() {
    let (s, names) = server(4, 1_500).await;
    s.set_latency(Duration::from_millis(3));
    let dir = TempDir::new("kill9");
    let ctx = || context_for(&s.url(), "kill9", json!({}));
    let reference = {
        let p = PluginProcess::start().await;
        answer(&p, ctx(), &names).await
    };
    for (round, after_ms) in [40u64, 150, 300, 500, 800].into_iter().enumerate() {
        // Something new each round, so every round writes.
        for id in 1..=4 {
            s.push_pipeline(
                id,
                FakePipeline::finished(
                    2_000 + round as u64,
                    "success",
                    "deployment",
                    "",
                    t0() + 20 * 86_400 + round as i64,
                ),
            );
        }
        let plugin = plugin_on(&dir).await;
        let q = plugin.query_data(ctx(), queries(&names));
        let _ = tokio::time::timeout(Duration::from_millis(after_ms), q).await;
        plugin.kill9().await;
    }
    let plugin = plugin_on(&dir).await;
    let health = plugin.check_health(ctx()).await;
    assert!(
        !health.message.contains("memory only"),
        "{}",
        health.message
    );
    let got = answer(&plugin, ctx(), &names).await;
    let fresh = PluginProcess::start().await;
    assert!(
        got == answer(&fresh, ctx(), &names).await,
        "as a fresh plugin answers"
    );
    let rows = |frames: &[Vec<u8>]| {
        frames
            .iter()
            .map(|f| support::frames::decode(f).rows())
            .collect::<Vec<_>>()
    };
    assert!(
        got != reference,
        "the pushes are in: {:?} vs {:?}",
        rows(&got),
        rows(&reference)
    );
}

/// Another data source, token or URL never reads what one stored.
#[tokio::test]
async fn rows_are_kept_per_data_source_url_and_token() {
    let s = FakeWoodpecker::start(FakeConfig::default().token(None)).await;
    s.add_repo(1, "org/r0");
    s.set_pipelines(1, gen_pipelines(400, t0()));
    let names = vec!["org/r0".to_string()];
    let dir = TempDir::new("keys");
    let with = |uid: &str, token: &str| {
        let mut c = context(&s.url(), json!({}), Some(token));
        c.data_source_instance_settings.as_mut().unwrap().uid = uid.into();
        c
    };
    let plugin = plugin_on(&dir).await;
    answer(&plugin, with("a", "token-one"), &names).await;
    plugin.kill9().await;
    let plugin = plugin_on(&dir).await;
    for (uid, token) in [("a", "token-two"), ("b", "token-one")] {
        s.reset_requests();
        answer(&plugin, with(uid, token), &names).await;
        assert!(
            s.count(Match::Pipelines) >= 7,
            "{uid}/{token} read cold: {:?}",
            s.requests()
        );
    }
    s.reset_requests();
    answer(&plugin, with("a", "token-one"), &names).await;
    assert_eq!(s.count(Match::Pipelines), 0, "the original is still warm");
}

#[tokio::test]
async fn without_a_writable_directory_the_plugin_runs_from_memory_and_says_so() {
    let (s, names) = server(2, 100).await;
    let plugin = PluginProcess::start_with_env(&[(STORE_PATH, "/proc/no-store-here")]).await;
    let ctx = context_for(&s.url(), "memory", json!({}));
    answer(&plugin, ctx.clone(), &names).await;
    let health = plugin.check_health(ctx).await;
    assert!(
        health.message.contains("kept in memory only"),
        "{}",
        health.message
    );
    assert!(
        health.message.contains("GF_PLUGIN_STORE_PATH"),
        "{}",
        health.message
    );
}

/// A cold read killed half-way keeps the pages it stored: the next
/// process reads on from there instead of from the first page.
#[tokio::test]
async fn a_read_killed_half_way_keeps_the_pages_before_it() {
    let (s, names) = server(1, 3_000).await;
    s.set_latency(Duration::from_millis(20));
    let ctx = || context_for(&s.url(), "half-way", json!({"userFeed": false}));
    let cold_pages = {
        let p = PluginProcess::start().await;
        answer(&p, ctx(), &names).await;
        s.count(Match::Pipelines)
    };
    s.reset_requests();
    let dir = TempDir::new("half-way");
    let plugin = plugin_on(&dir).await;
    let read = plugin.query_data(ctx(), queries(&names));
    let watch = async {
        while s.count(Match::Pipelines) < cold_pages / 2 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // Let the writer commit what has landed.
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    tokio::select! {
        _ = read => panic!("the read finished before half of it was served"),
        _ = watch => {}
    }
    plugin.kill9().await;
    s.reset_requests();
    let plugin = plugin_on(&dir).await;
    let got = answer(&plugin, ctx(), &names).await;
    let resumed = s.count(Match::Pipelines);
    assert!(
        resumed < cold_pages * 3 / 4,
        "{resumed} pages after the restart, {cold_pages} cold"
    );
    let fresh = PluginProcess::start().await;
    assert!(
        got == answer(&fresh, ctx(), &names).await,
        "as a fresh plugin answers"
    );
}

/// A repo deleted and re-created under the same name has a new id: the
/// held window (whose id outlived the restart) is dropped and the new repo
/// read afresh, in memory and in the store.
#[tokio::test]
async fn a_repo_re_created_under_a_new_id_is_read_afresh() {
    let (s, names) = server(1, 200).await;
    let dir = TempDir::new("recreated");
    let ctx = || context_for(&s.url(), "recreated", json!({}));
    let plugin = plugin_on(&dir).await;
    answer(&plugin, ctx(), &names).await;
    plugin.kill9().await;
    s.remove_repo(1);
    s.add_repo(9, "org/r0");
    s.set_pipelines(9, gen_pipelines(120, t0() + 5 * 86_400));
    let plugin = plugin_on(&dir).await;
    let got = answer(&plugin, ctx(), &names).await;
    let fresh = PluginProcess::start().await;
    assert!(
        got == answer(&fresh, ctx(), &names).await,
        "as a fresh plugin answers"
    );
    plugin.kill9().await;
    let plugin = plugin_on(&dir).await;
    assert!(
        answer(&plugin, ctx(), &names).await == got,
        "the stored window was replaced"
    );
}
