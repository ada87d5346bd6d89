//! A panic while answering one query is caught and becomes that query's
//! error; the other queries of the request answer, and the same instance
//! keeps answering afterwards. In-process, through `plugin::data::query_data`
//! with a `PipelineSource` that panics on demand. See docs/reliability.md.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use grafana_plugin_sdk::pluginv2::{DataQuery, TimeRange};
use serde_json::json;
use tonic::async_trait;
use woodpecker_dora::plugin::data::query_data;
use woodpecker_dora::plugin::datasource::DataSourceConfig;
use woodpecker_dora::plugin::instances::Instance;
use woodpecker_dora::source::fixed::FixedSource;
use woodpecker_dora::source::{
    Deadline, HealthReport, Histories, HistoryRequest, PipelineSource, Repo, SourceError,
};

const PANIC_TEXT: &str = "boom: secret-looking panic payload 7f3e";

/// The demo history, except that asking for `boom/panic` panics.
struct Panicky {
    inner: FixedSource,
    panics: AtomicUsize,
}

#[async_trait]
impl PipelineSource for Panicky {
    async fn check_health(&self) -> HealthReport {
        self.inner.check_health().await
    }
    async fn repos(&self, deadline: Deadline) -> Result<Vec<Repo>, SourceError> {
        self.inner.repos(deadline).await
    }
    async fn histories(&self, repos: &[String], request: &HistoryRequest<'_>) -> Histories {
        // Yield first, so the panic happens mid-flight among other queries.
        tokio::task::yield_now().await;
        if repos.iter().any(|r| r == "boom/panic") {
            self.panics.fetch_add(1, Ordering::SeqCst);
            panic!("{PANIC_TEXT}");
        }
        self.inner.histories(repos, request).await
    }
    fn pipeline_url(&self, repo: &Repo, number: u64) -> Option<String> {
        self.inner.pipeline_url(repo, number)
    }
}

fn q(ref_id: &str, json: serde_json::Value, now: i64) -> DataQuery {
    DataQuery {
        ref_id: ref_id.into(),
        max_data_points: 1000,
        interval_ms: 3_600_000,
        time_range: Some(TimeRange {
            from_epoch_ms: (now - 90 * 86_400) * 1000,
            to_epoch_ms: now * 1000,
        }),
        json: json.to_string().into_bytes(),
        query_type: String::new(),
    }
}

#[tokio::test]
async fn a_panic_in_one_query_is_that_querys_error_and_the_rest_answer() {
    let now = chrono::Utc::now().timestamp();
    let source = Arc::new(Panicky {
        inner: FixedSource::demo(now),
        panics: AtomicUsize::new(0),
    });
    let instance = Arc::new(Instance {
        config: DataSourceConfig {
            demo: true,
            ..DataSourceConfig::default()
        },
        source: source.clone(),
    });
    let queries = || {
        vec![
            q("A", json!({"queryType": "summary"}), now),
            q(
                "P",
                json!({"queryType": "incidents", "repos": ["boom/panic"]}),
                now,
            ),
            q("B", json!({"queryType": "mttr", "bucket": "1w"}), now),
            q(
                "P2",
                json!({"queryType": "deploys", "repos": ["acme/api", "boom/panic"]}),
                now,
            ),
            q("C", json!({"queryType": "deploys"}), now),
        ]
    };
    for round in 0..3 {
        let r = query_data(Ok(instance.clone()), queries()).await.responses;
        assert_eq!(r.len(), 5, "round {round}: every query has an answer");
        for id in ["P", "P2"] {
            assert_eq!(r[id].status, 500, "round {round} {id}");
            assert_eq!(
                r[id].error_source, "plugin",
                "a panic is the plugin's fault"
            );
            assert!(r[id].frames.is_empty());
            assert!(
                r[id].error.contains("internal error") && r[id].error.contains("keeps serving"),
                "{}",
                r[id].error
            );
            // The panic's own text stays in the log; it is not sent to
            // the browser.
            assert!(!r[id].error.contains(PANIC_TEXT), "{}", r[id].error);
        }
        for id in ["A", "B", "C"] {
            assert_eq!(r[id].status, 200, "round {round} {id}: {}", r[id].error);
            assert!(!r[id].frames.is_empty());
        }
    }
    assert_eq!(source.panics.load(Ordering::SeqCst), 6);
}
