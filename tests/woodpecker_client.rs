//! The Woodpecker client and pipeline cache against a real in-process HTTP
//! server (see tests/support/woodpecker_server.rs).

mod support;

use std::time::{Duration, Instant};

use support::woodpecker_server::*;
use woodpecker_dora::domain::{Event, Pipeline, Status, Trees};
use woodpecker_dora::woodpecker::*;

const T0: i64 = 1_700_000_000;

fn client_cfg(server: &FakeWoodpecker) -> ClientConfig {
    ClientConfig {
        timeout: Duration::from_secs(5),
        retry_base: Duration::from_millis(10),
        retry_max_wait: Duration::from_secs(2),
        // Each test's next call retries at once; the backoff has tests of its own.
        failure_backoff: Duration::ZERO,
        ..ClientConfig::new(server.url(), server.token().map(Token::new))
    }
}

fn client(server: &FakeWoodpecker) -> WoodpeckerClient {
    WoodpeckerClient::new(client_cfg(server)).unwrap()
}

/// These tests count the per-repo requests of paging and refreshing; the
/// user feed, which skips refreshes, has tests of its own (tests/user_feed.rs).
fn cache_cfg() -> CacheConfig {
    CacheConfig {
        use_feed: false,
        ..CacheConfig::default()
    }
}

fn cache(server: &FakeWoodpecker) -> PipelineCache {
    PipelineCache::new(client(server), cache_cfg())
}

fn all_history() -> HistoryNeed<'static> {
    HistoryNeed::since(0, &[])
}

async fn server_with(repos: &[(i64, &str, u64)]) -> FakeWoodpecker {
    let s = FakeWoodpecker::start(FakeConfig::default()).await;
    for (id, name, n) in repos {
        s.add_repo(*id, name);
        s.set_pipelines(*id, gen_pipelines(*n, T0));
    }
    s
}

#[tokio::test]
async fn cold_fetch_of_1234_pipelines_takes_exactly_25_pages() {
    let s = server_with(&[(1, "acme/api", 1234)]).await;
    let c = cache(&s);
    let h = c.history("acme/api", &all_history()).await.unwrap();
    assert_eq!(h.pipelines.len(), 1234);
    assert!(h.complete && !h.capped);
    assert_eq!(
        h.repo,
        Repo {
            id: 1,
            full_name: "acme/api".into()
        }
    );
    assert_eq!(s.count(Match::Pipelines), 25); // ceil(1234 / 50)
    let k = c.counters();
    assert_eq!((k.pages, k.pipelines_parsed, k.cache_misses), (25, 1234, 1));
    // 25 pages + /version + lookup
    assert_eq!(k.requests, 27);
    assert_eq!(s.request_count(), 27);
    // newest first, no duplicates, all finished
    let numbers: Vec<u64> = h.pipelines.iter().map(|p| p.number()).collect();
    assert_eq!(numbers, (1..=1234).rev().collect::<Vec<_>>());
    for r in s
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/pipelines"))
    {
        assert_eq!(r.param("perPage"), Some("50"));
    }
}

#[tokio::test]
async fn warm_refresh_with_nothing_new_is_one_request_per_repo() {
    let s = server_with(&[
        (1, "acme/api", 120),
        (2, "acme/web", 75),
        (3, "acme/ops", 10),
    ])
    .await;
    let c = cache(&s);
    let names: Vec<String> = ["acme/api", "acme/web", "acme/ops"]
        .map(String::from)
        .to_vec();
    for (_, r) in c.histories(&names, &all_history()).await.repos {
        r.unwrap();
    }
    s.reset_requests();
    let before = c.counters();
    let out = c.histories(&names, &all_history()).await.repos;
    assert_eq!(s.request_count(), 3, "{:?}", s.requests());
    assert_eq!(c.counters().cache_hits - before.cache_hits, 3);
    let sizes: Vec<usize> = out
        .iter()
        .map(|(_, r)| r.as_ref().unwrap().pipelines.len())
        .collect();
    assert_eq!(sizes, vec![120, 75, 10]);
    // The refresh asked only for what is newer (`after`, on 3.x).
    for r in s.requests() {
        assert_eq!(r.param("page"), Some("1"));
        assert!(r.param("after").is_some());
    }
    // With `fresh_for`, a recent refresh is served with no request at all.
    let c = PipelineCache::new(
        client(&s),
        CacheConfig {
            fresh_for: Duration::from_secs(60),
            ..cache_cfg()
        },
    );
    c.histories(&names, &all_history()).await;
    s.reset_requests();
    c.histories(&names, &all_history()).await;
    assert_eq!(s.request_count(), 0);
}

#[tokio::test]
async fn refresh_picks_up_new_and_finished_pipelines_only() {
    // Recent times: unfinished pipelines older than a week are not re-checked.
    let t0 = chrono::Utc::now().timestamp() - 200 * 600;
    let s = FakeWoodpecker::start(FakeConfig::default()).await;
    s.add_repo(1, "acme/api");
    s.set_pipelines(1, gen_pipelines(100, t0));
    s.push_pipeline(
        1,
        FakePipeline::running(101, "deployment", "production", t0 + 101 * 600),
    );
    let c = cache(&s);
    let h = c.history("acme/api", &all_history()).await.unwrap();
    assert_eq!(h.pipelines.len(), 100, "the running one is not returned");
    // Rows are held without the room their vector grew into.
    assert_eq!(h.pipelines.capacity(), 100);
    // 60 new pipelines arrive (more than one page), and #101 finishes.
    for n in 102..=161 {
        s.push_pipeline(
            1,
            FakePipeline::finished(n, "success", "push", "", t0 + n as i64 * 600),
        );
    }
    s.update_pipeline(1, 101, |p| {
        p.status = "failure".into();
        p.finished = p.started + 30;
    });
    s.reset_requests();
    let h = c.history("acme/api", &all_history()).await.unwrap();
    assert_eq!(h.pipelines.len(), 161);
    assert_eq!(
        h.pipelines.capacity(),
        161,
        "copied from the held rows, then grown"
    );
    let p101 = h.pipelines.iter().find(|p| p.number() == 101).unwrap();
    assert_eq!(
        (p101.status(), p101.event()),
        (Status::Failure, Event::Deployment)
    );
    assert_eq!(
        s.count(Match::Pipelines),
        2,
        "61 rows newer than the held ones: 2 pages"
    );
    let mut numbers: Vec<u64> = h.pipelines.iter().map(|p| p.number()).collect();
    numbers.dedup();
    assert_eq!(numbers.len(), 161);
}

#[tokio::test]
async fn fifty_concurrent_identical_queries_share_one_fetch() {
    let s = server_with(&[(1, "acme/api", 480)]).await;
    s.set_latency(Duration::from_millis(5));
    let c = cache(&s);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { c.history("acme/api", &all_history()).await.unwrap() })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().pipelines.len(), 480);
    }
    assert_eq!(s.count(Match::Pipelines), 10); // one fetch: ceil(480/50) pages
    assert_eq!(s.count(Match::Prefix("/api/repos/lookup/")), 1);
    assert_eq!(s.count(Match::Path("/version")), 1);
    let k = c.counters();
    assert_eq!(k.shared_fetches, 49);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn histories_run_concurrently_within_the_limit_and_keep_order() {
    let s = FakeWoodpecker::start(FakeConfig::default().latency(Duration::from_millis(20))).await;
    let mut names = Vec::new();
    for i in 1..=10 {
        let name = format!("acme/r{i}");
        s.add_repo(i, &name);
        s.set_pipelines(i, gen_pipelines(120, T0));
        names.push(name);
    }
    names.push("acme/missing".into());
    let cfg = CacheConfig {
        concurrency: 3,
        ..cache_cfg()
    };
    let c = PipelineCache::new(client(&s), cfg);
    client(&s).version().await.unwrap();
    s.reset_requests();
    let out = c.histories(&names, &all_history()).await.repos;
    let got: Vec<&str> = out.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(got, names.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(out[..10]
        .iter()
        .all(|(_, r)| r.as_ref().unwrap().pipelines.len() == 120));
    assert!(matches!(out[10].1, Err(Error::RepoNotFound { .. })));
    assert!(
        s.max_in_flight() <= 3 && s.max_in_flight() >= 2,
        "{}",
        s.max_in_flight()
    );
}

#[tokio::test]
async fn v2_server_gets_no_3x_filters_and_its_at_names_parse() {
    let s = FakeWoodpecker::start(FakeConfig::default().version("2.8.3")).await;
    s.add_repo(1, "acme/api");
    s.set_pipelines(1, gen_pipelines(230, T0));
    let c = cache(&s);
    let deploys = [Event::Deployment];
    let need = HistoryNeed::since(0, &deploys);
    let h = c.history("acme/api", &need).await.unwrap();
    assert_eq!(h.pipelines.len(), 230 / 4);
    assert!(h.pipelines.iter().all(|p| p.event() == Event::Deployment
        && p.deploy_to() == "production"
        && p.created() > T0
        && p.finished() == p.created() + 65
        && p.started() == p.created() + 5));
    assert_eq!(s.count(Match::Pipelines), 5, "unfiltered on the server");
    c.history("acme/api", &need).await.unwrap(); // a refresh
    for r in s.requests() {
        for k in ["event", "branch", "status", "ref"] {
            assert!(r.param(k).is_none(), "{k} sent to a 2.x server: {r:?}");
        }
    }
    assert!(
        s.requests().iter().any(|r| r.param("after").is_some()),
        "2.5+ has after"
    );

    // 2.4 knows no before/after either.
    let s = FakeWoodpecker::start(FakeConfig::default().version("2.4.1")).await;
    s.add_repo(1, "acme/api");
    s.set_pipelines(1, gen_pipelines(60, T0));
    let c = cache(&s);
    c.history("acme/api", &need).await.unwrap();
    c.history("acme/api", &need).await.unwrap();
    for r in s.requests() {
        let keys: Vec<&str> = r.query.iter().map(|(k, _)| k.as_str()).collect();
        assert!(
            keys.iter().all(|k| *k == "page" || *k == "perPage"),
            "{r:?}"
        );
    }
}

#[tokio::test]
async fn v3_server_filters_events_server_side() {
    let s = server_with(&[(1, "acme/api", 1000)]).await;
    let c = cache(&s);
    let deploys = [Event::Deployment];
    let h = c
        .history("acme/api", &HistoryNeed::since(0, &deploys))
        .await
        .unwrap();
    assert_eq!(h.pipelines.len(), 250);
    // 250 deployments = 6 pages, not 20. Filtered pages never touch by
    // number, so reading ahead adds page-1 checks, and pages past the end.
    let requests = s.count(Match::Pipelines);
    assert!((6..=10).contains(&requests), "{requests} requests");
    assert!(s
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/pipelines"))
        .all(|r| r.param("event") == Some("deployment")));
    // An unfiltered query is a separate cache entry.
    let h = c.history("acme/api", &all_history()).await.unwrap();
    assert_eq!(h.pipelines.len(), 1000);
}

#[tokio::test]
async fn paging_stops_at_since_then_follows_covered_up_to_the_lookback_cap() {
    let s = server_with(&[(1, "acme/api", 2000)]).await; // one pipeline every 10 min
    let c = cache(&s);
    let since = T0 + 1900 * 600; // 100 pipelines back
    let h = c
        .history("acme/api", &HistoryNeed::since(since, &[]))
        .await
        .unwrap();
    assert!(!h.capped && !h.complete);
    assert!(h.pipelines.iter().any(|p| p.created() < since));
    // 3 pages reach `since`; rounds of 1, 1 and 2 pages read one more.
    assert_eq!(s.count(Match::Pipelines), 4);

    // `covered` wants a success deploy before `since`, but only failures
    // are good enough for this test: it never is covered → capped.
    let never = |_: &[Pipeline], _: &Trees| false;
    let cfg = CacheConfig {
        max_lookback_secs: 3 * 86_400, // 432 pipelines
        ..cache_cfg()
    };
    let c2 = PipelineCache::new(client(&s), cfg);
    s.reset_requests();
    let need = HistoryNeed {
        since,
        events: &[],
        covered: &never,
        needs_tree: None,
        deadline: Deadline::NONE,
    };
    let h = c2.history("acme/api", &need).await.unwrap();
    assert!(h.capped);
    let oldest = h.pipelines.last().unwrap().created();
    assert!(oldest < since - 3 * 86_400 && oldest > since - 3 * 86_400 - 50 * 600);
    // (100 + 432) / 50 → 11 pages, read in rounds of 1, 1, 2, 4 and 6.
    assert_eq!(s.count(Match::Pipelines), 14);

    // A `covered` that is satisfied once a failure deploy before since is seen.
    let c3 = cache(&s);
    let covered = move |ps: &[Pipeline], _: &Trees| {
        ps.iter().any(|p| {
            p.created() < since && p.event() == Event::Deployment && p.status() == Status::Failure
        })
    };
    let need = HistoryNeed {
        since,
        events: &[],
        covered: &covered,
        needs_tree: None,
        deadline: Deadline::NONE,
    };
    let h = c3.history("acme/api", &need).await.unwrap();
    assert!(!h.capped);
    // Extending an existing entry further back continues where it stopped.
    s.reset_requests();
    let h2 = c
        .history("acme/api", &HistoryNeed::since(since - 250 * 600, &[]))
        .await
        .unwrap();
    assert!(h2.pipelines.len() > h.pipelines.len());
    // One refresh, then pages 3..=8: page 3 holds the current floor row and is
    // re-read on purpose (the overlap proves no row was skipped). In rounds of
    // 1, 1, 1, 2 and 4 pages, the last reads up to page 11.
    assert_eq!(s.count(Match::Pipelines), 1 + 9);
    let mut n: Vec<u64> = h2.pipelines.iter().map(|p| p.number()).collect();
    n.dedup();
    assert_eq!(n.len(), h2.pipelines.len());
    assert_eq!(*n.first().unwrap(), 2000);
    assert!(n.windows(2).all(|w| w[0] == w[1] + 1), "contiguous");
}

#[tokio::test]
async fn cache_evicts_least_recently_used_repos() {
    let s = server_with(&[(1, "a/one", 100), (2, "a/two", 100), (3, "a/three", 100)]).await;
    let cfg = CacheConfig {
        max_pipelines: 250,
        ..cache_cfg()
    };
    let c = PipelineCache::new(client(&s), cfg);
    c.history("a/one", &all_history()).await.unwrap();
    c.history("a/two", &all_history()).await.unwrap();
    c.history("a/one", &all_history()).await.unwrap(); // a/one is now the most recent
    c.history("a/three", &all_history()).await.unwrap(); // evicts a/two
    assert_eq!(c.counters().evictions, 1);
    assert!(c.held_pipelines() <= 250);
    s.reset_requests();
    c.history("a/one", &all_history()).await.unwrap();
    assert_eq!(s.count(Match::Pipelines), 1, "a/one still cached");
    c.history("a/two", &all_history()).await.unwrap();
    assert_eq!(s.count(Match::Pipelines), 1 + 3, "a/two fetched cold again");
}

#[tokio::test]
async fn sub_path_trailing_slash_repos_and_links() {
    let s = FakeWoodpecker::start(FakeConfig::default().sub_path("/ci")).await;
    s.add_repo(42, "acme/api");
    s.add_repo(7, "Group/Sub/Name");
    let c = WoodpeckerClient::new(ClientConfig {
        base_url: format!("{}/", s.url()),
        ..client_cfg(&s)
    })
    .unwrap();
    assert_eq!(c.version().await.unwrap().raw, "3.17.0");
    c.version().await.unwrap();
    assert_eq!(s.count(Match::Path("/version")), 1, "version read once");
    c.current_user().await.unwrap();
    c.health().await.unwrap();
    let repos = c.user_repos().await.unwrap();
    assert_eq!(repos.len(), 2);
    let r = c.lookup_repo("group/sub/name").await.unwrap();
    assert_eq!(
        r,
        Repo {
            id: 7,
            full_name: "Group/Sub/Name".into()
        }
    );
    assert_eq!(
        c.pipeline_url(&r, 12),
        format!("{}/repos/7/pipeline/12", s.url())
    );
    assert!(s
        .requests()
        .iter()
        .all(|r| r.authorization.as_deref() == Some(&format!("Bearer {FAKE_TOKEN}")[..])));
    let cache = PipelineCache::new(c, cache_cfg());
    assert_eq!(cache.repos(Deadline::NONE).await.unwrap().len(), 2);
    assert_eq!(cache.repos(Deadline::NONE).await.unwrap().len(), 2);
    assert_eq!(
        s.count(Match::Path("/api/user/repos")),
        2,
        "second call cached"
    );
}

// ---- errors ---------------------------------------------------------------

#[tokio::test]
async fn bad_token_is_unauthorized() {
    let s = server_with(&[(1, "acme/api", 5)]).await;
    let c = WoodpeckerClient::new(ClientConfig {
        token: Some(Token::new("not-the-token")),
        ..client_cfg(&s)
    })
    .unwrap();
    let e = c.current_user().await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::Unauthorized {
                token_configured: true,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(matches!(e, Error::Unauthorized { .. }), "{e:?}");
    assert!(e.to_string().contains("personal access token"), "{e}");
    let e = c.lookup_repo("acme/api").await.unwrap_err();
    assert!(matches!(e, Error::Unauthorized { .. }));
    let anon = WoodpeckerClient::new(ClientConfig {
        token: None,
        ..client_cfg(&s)
    })
    .unwrap();
    let e = anon.current_user().await.unwrap_err();
    assert!(e.to_string().contains("add a personal access token"), "{e}");
    assert_eq!(s.request_count(), 3, "401 is not retried");
}

#[tokio::test]
async fn unknown_repo_is_repo_not_found() {
    let s = server_with(&[(1, "acme/api", 5)]).await;
    let c = cache(&s);
    let e = c.history("acme/nope", &all_history()).await.unwrap_err();
    assert!(
        matches!(&e, Error::RepoNotFound { repo } if repo == "acme/nope"),
        "{e:?}"
    );
    assert!(e.to_string().contains("not visible to this token"), "{e}");
    let before = s.request_count();
    let e = c.history("no-slash", &all_history()).await.unwrap_err();
    assert!(matches!(e, Error::BadRepoName(_)), "{e:?}");
    assert_eq!(s.request_count(), before, "refused before any request");
}

#[tokio::test]
async fn rate_limit_then_success_honours_retry_after() {
    let s = server_with(&[(1, "acme/api", 5)]).await;
    s.fail_next(
        Match::Path("/api/user"),
        Fault::RateLimited(Some("1".into())),
        1,
    );
    let c = client(&s);
    let t = Instant::now();
    c.current_user().await.unwrap();
    assert!(
        t.elapsed() >= Duration::from_millis(950),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(s.count(Match::Path("/api/user")), 2);
    assert_eq!(c.counters().retries, 1);

    // A huge Retry-After is capped by retry_max_wait; a persistent 429 ends.
    s.fail_next(
        Match::Path("/api/user"),
        Fault::RateLimited(Some("3600".into())),
        10,
    );
    let c = WoodpeckerClient::new(ClientConfig {
        retry_max_wait: Duration::from_millis(50),
        max_retries: 2,
        ..client_cfg(&s)
    })
    .unwrap();
    let t = Instant::now();
    let e = c.current_user().await.unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(2));
    assert!(matches!(e, Error::RateLimited { attempts: 3, .. }), "{e:?}");
    assert!(e.to_string().contains("429"), "{e}");
}

#[tokio::test]
async fn server_errors_are_retried_then_reported() {
    let s = server_with(&[(1, "acme/api", 60)]).await;
    s.fail_next(Match::Pipelines, Fault::Status(502), 2);
    let c = cache(&s);
    let h = c.history("acme/api", &all_history()).await.unwrap();
    assert_eq!(h.pipelines.len(), 60);
    assert_eq!(c.counters().retries, 2);

    s.fail_next(Match::Path("/api/user"), Fault::Status(500), 100);
    let cl = client(&s);
    let e = cl.current_user().await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::Server {
                status: 500,
                attempts: 4,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("GET /api/user"), "{e}");
    assert!(e.is_transient(), "a 5xx is worth another try");
}

#[tokio::test]
async fn failed_refresh_serves_held_data_marked_stale() {
    let s = server_with(&[(1, "acme/api", 60)]).await;
    let c = cache(&s);
    let h1 = c.history("acme/api", &all_history()).await.unwrap();
    s.fail_next(Match::Pipelines, Fault::Status(500), 100);
    let stale = c.history("acme/api", &all_history()).await.unwrap();
    assert!(
        matches!(stale.stale, Some(Error::Server { .. })),
        "{:?}",
        stale.stale
    );
    assert_eq!(stale.pipelines.len(), 60, "held data is served");
    assert_eq!(stale.fetched_at, h1.fetched_at);
    s.clear_faults();
    s.reset_requests();
    let h2 = c.history("acme/api", &all_history()).await.unwrap();
    assert_eq!(h2.pipelines.len(), 60);
    assert!(h2.fetched_at >= h1.fetched_at);
    assert_eq!(s.count(Match::Pipelines), 1);
}

#[tokio::test]
async fn html_page_is_not_woodpecker() {
    let s = server_with(&[(1, "acme/api", 5)]).await;
    s.fail_next(Match::Path("/version"), Fault::Html(200), 1);
    let e = client(&s).version().await.unwrap_err();
    match &e {
        Error::NotWoodpecker { endpoint, found } => {
            assert_eq!(endpoint, "GET /version");
            assert_eq!(found, "an HTML page");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        e.to_string().contains("did not return Woodpecker JSON"),
        "{e}"
    );
    // An HTML error page with a 404 (wrong sub-path) says so.
    let c = WoodpeckerClient::new(ClientConfig {
        base_url: format!("{}/wrong", s.url()),
        ..client_cfg(&s)
    })
    .unwrap();
    let e = c.version().await.unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e:?}");
    assert!(e.to_string().contains("sub-path"), "{e}");
}

#[tokio::test]
async fn truncated_and_interrupted_bodies() {
    let s = server_with(&[(1, "acme/api", 60)]).await;
    s.fail_next(Match::Pipelines, Fault::Truncated, 1);
    let c = cache(&s);
    let e = c.history("acme/api", &all_history()).await.unwrap_err();
    match &e {
        Error::Malformed { endpoint, detail } => {
            assert!(
                endpoint.starts_with("GET /api/repos/1/pipelines?page=1"),
                "{endpoint}"
            );
            assert!(detail.starts_with("it ends early"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("cut off"), "{e}");
    // Dropped mid-body: retried (transient), then succeeds.
    s.fail_next(Match::Pipelines, Fault::Disconnect, 1);
    let h = c.history("acme/api", &all_history()).await.unwrap();
    assert_eq!(h.pipelines.len(), 60);
    // Always dropped: reported after the retries.
    s.fail_next(Match::Path("/api/user"), Fault::Disconnect, 100);
    let e = client(&s).current_user().await.unwrap_err();
    assert!(matches!(e, Error::Interrupted { .. }), "{e:?}");
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let s = server_with(&[(1, "acme/api", 5)]).await;
    let small = || {
        WoodpeckerClient::new(ClientConfig {
            max_body_bytes: 1 << 20,
            ..client_cfg(&s)
        })
        .unwrap()
    };
    s.fail_next(
        Match::Path("/api/user/repos"),
        Fault::Huge {
            bytes: 100 << 20,
            chunked: false,
        },
        1,
    );
    let e = small().user_repos().await.unwrap_err();
    assert!(matches!(e, Error::TooLarge { limit: 1048576, .. }), "{e:?}");
    s.fail_next(
        Match::Path("/api/user/repos"),
        Fault::Huge {
            bytes: 100 << 20,
            chunked: true,
        },
        1,
    );
    let e = small().user_repos().await.unwrap_err();
    assert!(matches!(e, Error::TooLarge { .. }), "{e:?}");
    assert!(e.to_string().contains("more than 1048576 bytes"), "{e}");
}

#[tokio::test]
async fn unreachable_port_timeout_and_bad_url() {
    // Bind then drop to get a port that refuses connections.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let c = WoodpeckerClient::new(ClientConfig {
        base_url: format!("http://127.0.0.1:{port}"),
        token: Some(Token::new(FAKE_TOKEN)),
        max_retries: 1,
        retry_base: Duration::from_millis(5),
        ..ClientConfig::default()
    })
    .unwrap();
    let e = c.version().await.unwrap_err();
    assert!(matches!(e, Error::Unreachable { .. }), "{e:?}");
    assert!(e.to_string().contains(&format!("127.0.0.1:{port}")), "{e}");
    assert_eq!(c.counters().requests, 2, "connect errors are retried");

    let s = server_with(&[(1, "acme/api", 5)]).await;
    s.fail_next(
        Match::Path("/api/user"),
        Fault::Delay(Duration::from_secs(3)),
        1,
    );
    let c = WoodpeckerClient::new(ClientConfig {
        timeout: Duration::from_millis(200),
        ..client_cfg(&s)
    })
    .unwrap();
    let e = c.current_user().await.unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
    assert!(e.is_transient(), "a timeout is worth another try");

    for bad in [
        "",
        "ci.example.com",
        "ftp://ci.example.com",
        "https://user:pw@ci.example.com",
    ] {
        let e = WoodpeckerClient::new(ClientConfig::new(bad, None)).unwrap_err();
        assert!(matches!(e, Error::InvalidUrl { .. }), "{bad}: {e:?}");
        assert!(!e.to_string().contains("pw@"), "{e}");
    }
}

#[tokio::test]
async fn https_to_a_plain_http_server_is_a_tls_error() {
    let s = server_with(&[(1, "acme/api", 5)]).await;
    let c = WoodpeckerClient::new(ClientConfig {
        base_url: s.url().replace("http://", "https://"),
        ..client_cfg(&s)
    })
    .unwrap();
    let e = c.version().await.unwrap_err();
    assert!(matches!(e, Error::Tls { .. }), "{e:?}");
    assert!(e.to_string().contains("TLS handshake"), "{e}");
}

/// A cache that reads one page at a time, as before read-ahead.
fn one_page_at_a_time(s: &FakeWoodpecker) -> PipelineCache {
    let cfg = CacheConfig {
        read_ahead: 1,
        ..CacheConfig::default()
    };
    PipelineCache::new(client(s), cfg)
}

fn within(concurrency: usize, s: &FakeWoodpecker) -> PipelineCache {
    let cfg = CacheConfig {
        concurrency,
        ..CacheConfig::default()
    };
    PipelineCache::new(client(s), cfg)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cold_read_of_one_big_repo_reads_ahead_within_the_limit() {
    for version in ["3.17.0", "2.8.3"] {
        let cfg = FakeConfig::default().version(version);
        let s = FakeWoodpecker::start(cfg.latency(Duration::from_millis(20))).await;
        s.add_repo(1, "acme/big");
        s.set_pipelines(1, gen_pipelines(2_000, T0));
        // Unfiltered pages touch by number; on 3.x filtered ones do not.
        for events in [&[][..], &[Event::Deployment, Event::Push][..]] {
            let need = HistoryNeed::since(0, events);
            s.reset_requests();
            let sequential = one_page_at_a_time(&s).history("acme/big", &need).await;
            assert_eq!(s.max_in_flight(), 1);
            s.reset_requests();
            let ahead = within(4, &s).history("acme/big", &need).await.unwrap();
            let most = s.max_in_flight();
            assert!((2..=4).contains(&most), "{version} {events:?}: {most}");
            assert!(ahead.complete);
            assert_eq!(ahead.pipelines, sequential.unwrap().pipelines);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_ahead_and_other_repos_share_the_concurrency_limit() {
    let s = FakeWoodpecker::start(FakeConfig::default().latency(Duration::from_millis(20))).await;
    let mut names = Vec::new();
    for (id, n) in [(1, 3_000), (2, 200), (3, 120), (4, 60), (5, 400)] {
        let name = format!("acme/r{id}");
        s.add_repo(id, &name);
        s.set_pipelines(id, gen_pipelines(n, T0));
        names.push(name);
    }
    let c = within(3, &s);
    s.reset_requests();
    let out = c.histories(&names, &all_history()).await.repos;
    let sizes: Vec<usize> = out
        .iter()
        .map(|(_, h)| h.as_ref().unwrap().pipelines.len())
        .collect();
    assert_eq!(sizes, [3_000, 200, 120, 60, 400]);
    assert_eq!(s.max_in_flight(), 3, "the limit, used but never passed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repo_growing_during_a_read_ahead_skips_nothing() {
    let s = FakeWoodpecker::start(FakeConfig::default().latency(Duration::from_millis(5))).await;
    s.add_repo(1, "acme/busy");
    s.set_pipelines(1, gen_pipelines(2_000, T0));
    s.grow_while_listed(1); // every list request adds a push on top
    let push = |n: u64| n > 2_000 || n % 2 == 1;
    for events in [&[][..], &[Event::Push][..]] {
        let wanted = |n: &u64| events.is_empty() || push(*n);
        let c = cache(&s);
        let need = HistoryNeed::since(0, events);
        for read in ["cold", "refreshed"] {
            s.reset_requests();
            let h = c.history("acme/busy", &need).await.unwrap();
            let got: Vec<u64> = h.pipelines.iter().map(|p| p.number()).collect();
            let reference: Vec<u64> = (1..=got[0]).rev().filter(wanted).collect();
            let skipped: Vec<&u64> = reference.iter().filter(|n| !got.contains(n)).collect();
            assert!(skipped.is_empty(), "{read} {events:?}: skipped {skipped:?}");
            assert_eq!(got, reference, "{read} {events:?}: newest first, each once");
            if read == "cold" {
                assert!(s.max_in_flight() > 1, "read ahead");
            }
        }
    }
}
