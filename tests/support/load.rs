//! Many dashboards refreshing at once: concurrent QueryData calls from
//! distinct query mixes against one data source, over gRPC, with the fake
//! Woodpecker answering after a delay. Shared by tests/plugin_load.rs (small)
//! and benches/plugin_load.rs (large).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use grafana_plugin_sdk::pluginv2::{DataQuery, QueryDataRequest};
use serde_json::{json, Value};

use super::plugin_process::{context, query, PluginProcess};
use super::woodpecker_server::{gen_pipelines, FakeConfig, FakeWoodpecker, Match, FAKE_TOKEN};

pub const START: i64 = 1_700_000_000;

pub struct LoadConfig {
    pub repos: i64,
    pub pipelines_per_repo: u64,
    pub latency: Duration,
    pub dashboards: usize,
    pub calls_per_dashboard: usize,
    /// Rounds of all calls at once; the first fills the cache.
    pub rounds: usize,
}

#[derive(Debug)]
pub struct RoundReport {
    pub calls: usize,
    pub queries: usize,
    pub failed: Vec<String>,
    pub wall: Duration,
    /// Per call, sorted.
    pub latencies: Vec<Duration>,
    pub requests: usize,
    pub page_requests: usize,
    pub lookups: usize,
    /// Requests if every query fetched its repos on its own (one refresh
    /// request per repo and event filter).
    pub unshared_refreshes: usize,
    /// (repo, events) pairs the round asked for.
    pub distinct_keys: usize,
    pub rss_kib: u64,
    pub peak_rss_kib: u64,
    /// Largest QueryData response, in bytes.
    pub largest_response: usize,
}

impl RoundReport {
    pub fn percentile(&self, p: f64) -> Duration {
        self.latencies[((self.latencies.len() - 1) as f64 * p).round() as usize]
    }
}

pub struct Load {
    pub server: FakeWoodpecker,
    pub plugin: PluginProcess,
    pub baseline_rss_kib: u64,
    cfg: LoadConfig,
}

fn repo_name(id: i64) -> String {
    format!("acme/service-{id:02}")
}

/// Dashboard `d`'s panels: each a QueryData call with one or two queries.
/// Dashboards differ in repos, event filter and query types; several ask
/// for the same repos, as teams sharing services do.
fn dashboard(d: usize, calls: usize, repos: i64, end: i64) -> Vec<Vec<DataQuery>> {
    let group: Vec<String> = (0..repos)
        .filter(|r| (*r as usize) % 4 == d % 4)
        .map(|r| repo_name(r + 1))
        .collect();
    let scope: Value = if d % 5 == 4 { json!([]) } else { json!(group) };
    let events = if d.is_multiple_of(2) {
        json!(["deployment"])
    } else {
        json!(["deployment", "push"])
    };
    let from = START - 86_400;
    let ranges = [from, end - 14 * 86_400, end - 3 * 86_400];
    let kinds = [
        json!({"queryType": "summary"}),
        json!({"queryType": "incidents"}),
        json!({"queryType": "mttr", "bucket": "1d", "rolling": "7d", "groupBy": ["repo"]}),
        json!({"queryType": "deploys"}),
        json!({"queryType": "summary", "groupBy": ["repo", "environment"]}),
    ];
    (0..calls)
        .map(|c| {
            let n = if c % 3 == 0 { 2 } else { 1 };
            (0..n)
                .map(|k| {
                    let mut q = kinds[(c + k + d) % kinds.len()].clone();
                    q["repos"] = scope.clone();
                    q["events"] = events.clone();
                    query(
                        &format!("D{d}C{c}Q{k}"),
                        q,
                        ranges[(c + d) % ranges.len()],
                        end,
                    )
                })
                .collect()
        })
        .collect()
}

impl Load {
    pub async fn start(cfg: LoadConfig) -> Load {
        let server = FakeWoodpecker::start(FakeConfig::default()).await;
        for id in 1..=cfg.repos {
            server.add_repo(id, &repo_name(id));
            server.set_pipelines(id, gen_pipelines(cfg.pipelines_per_repo, START));
        }
        let plugin = PluginProcess::start().await;
        // Let start-up settle before the baseline.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let baseline_rss_kib = plugin.memory_kib().0;
        server.set_latency(cfg.latency);
        Load {
            server,
            plugin,
            baseline_rss_kib,
            cfg,
        }
    }

    /// All dashboards' calls at once, `rounds` times.
    pub async fn run(&self) -> Vec<RoundReport> {
        let end = START + self.cfg.pipelines_per_repo as i64 * 600 + 3_600;
        let mut reports = Vec::new();
        for _ in 0..self.cfg.rounds {
            let calls: Vec<Vec<DataQuery>> = (0..self.cfg.dashboards)
                .flat_map(|d| dashboard(d, self.cfg.calls_per_dashboard, self.cfg.repos, end))
                .collect();
            let mut keys = BTreeSet::new();
            let mut unshared = 0;
            for q in calls.iter().flatten() {
                let v: Value = serde_json::from_slice(&q.json).unwrap();
                let repos: Vec<String> = match v["repos"].as_array() {
                    Some(a) if !a.is_empty() => {
                        a.iter().map(|r| r.as_str().unwrap().to_string()).collect()
                    }
                    _ => (1..=self.cfg.repos).map(repo_name).collect(),
                };
                unshared += repos.len();
                for r in repos {
                    keys.insert((r, v["events"].to_string()));
                }
            }
            let queries: usize = calls.iter().map(Vec::len).sum();
            self.server.reset_requests();
            let started = Instant::now();
            let tasks: Vec<_> = calls
                .into_iter()
                .map(|queries| {
                    // A deploys table over a large history is bigger than
                    // tonic's 4 MiB default (see docs/performance.md#load).
                    let mut client = self.plugin.data().max_decoding_message_size(64 << 20);
                    let ctx = context(&self.server.url(), json!({}), Some(FAKE_TOKEN));
                    tokio::spawn(async move {
                        let t = Instant::now();
                        let r = client
                            .query_data(QueryDataRequest {
                                plugin_context: Some(ctx),
                                headers: Default::default(),
                                queries,
                            })
                            .await;
                        (t.elapsed(), r)
                    })
                })
                .collect();
            let mut latencies = Vec::new();
            let mut failed = Vec::new();
            let mut answered = 0;
            let mut largest = 0;
            for t in tasks {
                let (took, r) = t.await.unwrap();
                latencies.push(took);
                match r {
                    Ok(r) => {
                        let r = r.into_inner();
                        largest = largest.max(prost::Message::encoded_len(&r));
                        for (id, resp) in r.responses {
                            answered += 1;
                            if resp.status != 200 {
                                failed.push(format!("{id}: {} {}", resp.status, resp.error));
                            }
                        }
                    }
                    Err(e) => failed.push(format!("call: {e}")),
                }
            }
            let wall = started.elapsed();
            assert_eq!(answered, queries, "every query has an answer: {failed:?}");
            latencies.sort();
            let (rss_kib, peak_rss_kib) = self.plugin.memory_kib();
            reports.push(RoundReport {
                calls: latencies.len(),
                queries,
                failed,
                wall,
                latencies,
                requests: self.server.request_count(),
                page_requests: self.server.count(Match::Pipelines),
                lookups: self.server.count(Match::Prefix("/api/repos/lookup/")),
                unshared_refreshes: unshared,
                distinct_keys: keys.len(),
                rss_kib,
                peak_rss_kib,
                largest_response: largest,
            });
        }
        reports
    }
}
