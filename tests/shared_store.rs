//! The shared store (Redis) with real parts: two plugin processes, each
//! with a local store of its own, share one `redis-server` and one fake
//! Woodpecker, as Grafana replicas behind a load balancer do.

mod support;

use std::time::{Duration, Instant};

use grafana_plugin_sdk::pluginv2::{DataQuery, PluginContext};
use serde_json::json;
use support::plugin_process::{context_for, query, PluginProcess};
use support::redis_server::RedisServer;
use support::woodpecker_server::*;

const NOTICE: &str = "the shared store (Redis) is unreachable";

fn t0() -> i64 {
    static T0: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    *T0.get_or_init(|| chrono::Utc::now().timestamp() - 40 * 86_400)
}

/// 20 repos of 300 pipelines, 20 ms a request.
async fn server() -> (FakeWoodpecker, Vec<String>) {
    let s = FakeWoodpecker::start(FakeConfig::default().token(None)).await;
    let names: Vec<String> = (0..20).map(|i| format!("org/r{i}")).collect();
    for (i, name) in names.iter().enumerate() {
        s.add_repo(i as i64 + 1, name);
        s.set_pipelines(i as i64 + 1, gen_pipelines(300, t0()));
    }
    s.set_latency(Duration::from_millis(20));
    (s, names)
}

fn queries(names: &[String]) -> Vec<DataQuery> {
    let (from, to) = (t0(), t0() + 41 * 86_400);
    ["summary", "deploys"]
        .iter()
        .zip(["A", "B"])
        .map(|(kind, id)| query(id, json!({"queryType": kind, "repos": names}), from, to))
        .collect()
}

/// A data source on the fake server using `redis` (with its password).
fn ctx(
    s: &FakeWoodpecker,
    uid: &str,
    redis: &RedisServer,
    password: Option<&str>,
) -> PluginContext {
    let mut c = context_for(&s.url(), uid, json!({"redisUrl": redis.url()}));
    if let Some(p) = password {
        let settings = c.data_source_instance_settings.as_mut().unwrap();
        settings
            .decrypted_secure_json_data
            .insert("redisPassword".into(), p.into());
    }
    c
}

/// Both queries' frames, checked to be answers, and their notices.
async fn answer(
    plugin: &PluginProcess,
    ctx: PluginContext,
    names: &[String],
) -> (Vec<Vec<u8>>, String) {
    let r = plugin.query_data(ctx, queries(names)).await;
    let mut notices = String::new();
    let frames = ["A", "B"]
        .iter()
        .flat_map(|id| {
            assert_eq!(r[*id].status, 200, "{id}: {}", r[*id].error);
            r[*id].frames.clone()
        })
        .inspect(|f| {
            let meta = support::frames::decode(f).meta.unwrap_or_default();
            if !meta["notices"].is_null() {
                notices.push_str(&meta["notices"].to_string());
            }
        })
        .collect();
    (frames, notices)
}

fn rows(frames: &[Vec<u8>]) -> Vec<serde_json::Value> {
    frames
        .iter()
        .map(|f| support::frames::decode(f).to_json()["fields"].clone())
        .collect()
}

#[tokio::test]
async fn a_second_replica_costs_a_warm_refresh_and_answers_as_the_first() {
    let (s, names) = server().await;
    let redis = RedisServer::start();
    let (a, b) = (PluginProcess::start().await, PluginProcess::start().await);
    let (first, notices) = answer(&a, ctx(&s, "ha", &redis, None), &names).await;
    assert!(
        !notices.contains(NOTICE),
        "no notice while Redis answers: {notices}"
    );
    let cold = s.count(Match::Pipelines);
    assert!(cold >= 20 * 5, "{cold} pages cold");
    assert!(
        redis.count_keys("wdora:v1:*") >= 20,
        "a window per repo in Redis"
    );

    s.reset_requests();
    let (second, _) = answer(&b, ctx(&s, "ha", &redis, None), &names).await;
    assert!(second == first, "replica B answers exactly as A");
    assert!(
        s.request_count() <= 2,
        "a warm refresh (the user feed): {:?}",
        s.requests()
    );
}

#[tokio::test]
async fn replicas_cold_at_the_same_time_read_each_page_about_once() {
    let (s, names) = server().await;
    let reference = {
        let alone = PluginProcess::start().await;
        let redis = RedisServer::start();
        answer(&alone, ctx(&s, "alone", &redis, None), &names)
            .await
            .0
    };
    let one_cold_read = s.count(Match::Pipelines);
    s.reset_requests();
    let redis = RedisServer::start();
    let (a, b) = (PluginProcess::start().await, PluginProcess::start().await);
    let (x, y) = tokio::join!(
        answer(&a, ctx(&s, "together", &redis, None), &names),
        answer(&b, ctx(&s, "together", &redis, None), &names),
    );
    let pages = s.count(Match::Pipelines);
    eprintln!("two replicas cold together: {pages} pages; one alone: {one_cold_read}");
    assert!(
        pages * 10 <= one_cold_read * 13,
        "{pages} pages between them, {one_cold_read} for one cold read"
    );
    assert!(
        x.0 == reference && y.0 == reference,
        "both answer as one alone"
    );
}

/// Another uid or token shares the Redis, never the rows.
#[tokio::test]
async fn a_data_source_with_another_uid_or_token_never_reads_anothers_rows() {
    let (s, names) = server().await;
    let redis = RedisServer::start();
    let a = PluginProcess::start().await;
    answer(&a, ctx(&s, "owner", &redis, None), &names).await;
    let cold = s.count(Match::Pipelines);
    let mut other_token = ctx(&s, "owner", &redis, None);
    let settings = other_token.data_source_instance_settings.as_mut().unwrap();
    settings
        .decrypted_secure_json_data
        .insert("token".into(), "a-token-with-fewer-rights".into());
    for other in [ctx(&s, "stranger", &redis, None), other_token] {
        s.reset_requests();
        let b = PluginProcess::start().await;
        answer(&b, other, &names).await;
        // Read-ahead may or may not send a round past a repo's end, so a
        // cold read's pages vary a little; reused rows would cost none.
        assert!(
            s.count(Match::Pipelines) * 10 >= cold * 9,
            "read cold: {} of {cold} pages",
            s.count(Match::Pipelines)
        );
    }
}

#[tokio::test]
async fn a_killed_redis_degrades_to_the_local_store_with_a_notice() {
    let (s, names) = server().await;
    let mut redis = RedisServer::start();
    let (a, b) = (PluginProcess::start().await, PluginProcess::start().await);
    let (before, _) = answer(&a, ctx(&s, "down", &redis, None), &names).await;
    redis.kill9();

    s.reset_requests();
    let started = Instant::now();
    let (again, notices) = answer(&a, ctx(&s, "down", &redis, None), &names).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(notices.contains(NOTICE), "{notices}");
    assert!(notices.contains("reads Woodpecker on its own"), "{notices}");
    assert_eq!(rows(&again), rows(&before));
    assert!(
        s.request_count() <= 2,
        "A reads its own store: {:?}",
        s.requests()
    );

    // B, cold, reads Woodpecker itself; one timeout per backoff, not per repo.
    let started = Instant::now();
    let (cold, notices) = answer(&b, ctx(&s, "down", &redis, None), &names).await;
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    assert!(notices.contains(NOTICE), "{notices}");
    assert_eq!(rows(&cold), rows(&before));

    let health = b.check_health(ctx(&s, "down", &redis, None)).await;
    assert!(health.message.contains(NOTICE), "{}", health.message);
}

#[tokio::test]
async fn a_password_protected_redis_takes_the_right_password_only() {
    const PASSWORD: &str = "correct-horse-battery";
    let (s, names) = server().await;
    let redis = RedisServer::start_with(Some(PASSWORD));
    let (a, b) = (PluginProcess::start().await, PluginProcess::start().await);
    let (first, notices) = answer(&a, ctx(&s, "auth", &redis, Some(PASSWORD)), &names).await;
    assert!(!notices.contains(NOTICE), "{notices}");
    s.reset_requests();
    let (second, _) = answer(&b, ctx(&s, "auth", &redis, Some(PASSWORD)), &names).await;
    assert!(second == first);
    assert!(s.request_count() <= 2, "{:?}", s.requests());

    let wrong = "wrong-horse-staple";
    let c = PluginProcess::start().await;
    let (third, notices) = answer(&c, ctx(&s, "auth", &redis, Some(wrong)), &names).await;
    assert!(notices.contains(NOTICE), "{notices}");
    assert!(notices.contains("authentication"), "{notices}");
    assert_eq!(rows(&third), rows(&first));
    let health = c.check_health(ctx(&s, "auth", &redis, Some(wrong))).await;
    assert!(
        health.message.contains("authentication"),
        "{}",
        health.message
    );
    for text in [notices, health.message, c.logs().join("\n")] {
        assert!(!text.contains(wrong) && !text.contains(PASSWORD), "{text}");
    }
}

/// A Redis restarted empty (or flushed) never serves a window in part: the
/// next refresh writes it whole, and another replica reads it whole.
#[tokio::test]
async fn a_flushed_redis_is_filled_again_whole() {
    let (s, names) = server().await;
    let redis = RedisServer::start();
    let (a, b) = (PluginProcess::start().await, PluginProcess::start().await);
    answer(&a, ctx(&s, "flushed", &redis, None), &names).await;
    assert_eq!(redis.command(&["FLUSHALL"]).as_deref(), Some("+OK"));
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
    let (refreshed, _) = answer(&a, ctx(&s, "flushed", &redis, None), &names).await;
    s.reset_requests();
    let (second, _) = answer(&b, ctx(&s, "flushed", &redis, None), &names).await;
    assert!(second == refreshed, "B answers as A, the new deploy in");
    assert!(s.request_count() <= 2, "{:?}", s.requests());
}
