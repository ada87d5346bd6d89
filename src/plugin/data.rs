//! QueryData: every query answered on its own, so one bad query, failing
//! repo or even a panic never takes the others down.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::future::join_all;
use futures::FutureExt;
use grafana_plugin_sdk::pluginv2::DataQuery;

use super::dataframe::Frame;
use super::failure::QueryFailure;
use super::instances::Instance;
use super::run;
use super::wire::{DataResponse, QueryDataResponse};

pub async fn query_data(
    instance: Result<Arc<Instance>, String>,
    queries: Vec<DataQuery>,
) -> QueryDataResponse {
    let now = chrono::Utc::now().timestamp();
    let answers = queries.iter().map(|q| {
        let instance = &instance;
        async move {
            let result = match instance {
                Err(message) => Err(QueryFailure::bad_request(message.clone())),
                Ok(inst) => AssertUnwindSafe(run::run_query(inst, q, now))
                    .catch_unwind()
                    .await
                    .unwrap_or_else(|_| {
                        tracing::error!(ref_id = %q.ref_id, "query handling panicked");
                        Err(QueryFailure::internal(
                            "internal error while answering this query; the plugin logged it and keeps serving",
                        ))
                    }),
            };
            (q.ref_id.clone(), response(&q.ref_id, result))
        }
    });
    QueryDataResponse {
        responses: join_all(answers).await.into_iter().collect(),
    }
}

fn response(ref_id: &str, result: Result<Vec<Frame>, QueryFailure>) -> DataResponse {
    let encoded = result.and_then(|frames| {
        frames
            .iter()
            .map(|f| f.to_arrow(ref_id))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| QueryFailure::internal(format!("could not encode the result: {e}")))
    });
    match encoded {
        Ok(frames) => DataResponse {
            frames,
            status: 200,
            ..Default::default()
        },
        Err(f) => DataResponse {
            error: f.message,
            status: f.status,
            error_source: f.source.as_str().to_string(),
            ..Default::default()
        },
    }
}
