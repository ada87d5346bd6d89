//! QueryData: every query answered on its own, so one bad query, failing
//! repo or even a panic never takes the others down.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::future::join_all;
use futures::FutureExt;
use grafana_plugin_sdk::pluginv2::{DataQuery, DataResponse, QueryDataResponse};

use super::frame::Frame;
use super::instances::Instance;
use super::run;
use crate::source::{SourceError, SourceErrorKind};

/// Why one query has no frames: shown to the user as that query's error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryFailure {
    /// HTTP-style status Grafana shows (400 bad query, 502 upstream, ...).
    pub status: i32,
    pub message: String,
}

impl QueryFailure {
    pub fn bad_request(message: impl Into<String>) -> QueryFailure {
        QueryFailure {
            status: 400,
            message: message.into(),
        }
    }
}

/// Woodpecker's trouble as the HTTP status Grafana shows.
impl From<SourceError> for QueryFailure {
    fn from(e: SourceError) -> QueryFailure {
        QueryFailure {
            status: match e.kind {
                SourceErrorKind::BadConfig => 400,
                SourceErrorKind::Unauthorized => 401,
                SourceErrorKind::NotFound => 404,
                SourceErrorKind::Timeout | SourceErrorKind::Deadline => 504,
                SourceErrorKind::Unavailable
                | SourceErrorKind::Upstream
                | SourceErrorKind::Incomplete => 502,
            },
            message: e.message,
        }
    }
}

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
                        Err(QueryFailure {
                            status: 500,
                            message: "internal error while answering this query; the plugin logged it and keeps serving".into(),
                        })
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
            .map_err(|e| QueryFailure {
                status: 500,
                message: format!("could not encode the result: {e}"),
            })
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
            ..Default::default()
        },
    }
}
