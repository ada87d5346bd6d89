//! The plugin's own `pluginv2.Data` service and response messages. The
//! SDK's 0.5.0 `DataResponse` lacks `errorSource` (field 5 in Grafana's
//! current backend.proto), which Grafana uses to tell users whose fault an
//! error is, so the answer is encoded with these hand-derived messages
//! (no `protoc` needed); the request is the SDK's.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use grafana_plugin_sdk::pluginv2::QueryDataRequest;
use tonic::body::BoxBody;
use tonic::codegen::{http, BoxFuture, Service, StdError};
use tonic::{Request, Response, Status};

/// `pluginv2.QueryDataResponse`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct QueryDataResponse {
    /// By refId.
    #[prost(map = "string, message", tag = "1")]
    pub responses: HashMap<String, DataResponse>,
}

/// `pluginv2.DataResponse`, with `errorSource`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct DataResponse {
    /// Arrow IPC files, one per frame.
    #[prost(bytes = "vec", repeated, tag = "1")]
    pub frames: Vec<Vec<u8>>,
    #[prost(string, tag = "2")]
    pub error: String,
    #[prost(bytes = "vec", tag = "3")]
    pub json_meta: Vec<u8>,
    /// HTTP-style status.
    #[prost(int32, tag = "4")]
    pub status: i32,
    /// `plugin` or `downstream`; empty without an error.
    #[prost(string, tag = "5")]
    pub error_source: String,
}

/// What answers QueryData.
#[tonic::async_trait]
pub trait QueryData: Send + Sync + 'static {
    async fn query_data(&self, request: QueryDataRequest) -> QueryDataResponse;
}

/// The `pluginv2.Data` gRPC service over a [`QueryData`].
pub struct DataService<T>(Arc<T>);

impl<T> DataService<T> {
    pub fn new(inner: T) -> Self {
        DataService(Arc::new(inner))
    }
}

impl<T> Clone for DataService<T> {
    fn clone(&self) -> Self {
        DataService(self.0.clone())
    }
}

impl<T> tonic::server::NamedService for DataService<T> {
    const NAME: &'static str = "pluginv2.Data";
}

struct Unary<T>(Arc<T>);

impl<T: QueryData> tonic::server::UnaryService<QueryDataRequest> for Unary<T> {
    type Response = QueryDataResponse;
    type Future = BoxFuture<Response<QueryDataResponse>, Status>;

    fn call(&mut self, request: Request<QueryDataRequest>) -> Self::Future {
        let inner = self.0.clone();
        Box::pin(async move { Ok(Response::new(inner.query_data(request.into_inner()).await)) })
    }
}

impl<T, B> Service<http::Request<B>> for DataService<T>
where
    T: QueryData,
    B: tonic::codegen::Body + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    type Response = http::Response<BoxBody>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Infallible>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let inner = self.0.clone();
        Box::pin(async move {
            if req.uri().path() != "/pluginv2.Data/QueryData" {
                return Ok(Status::unimplemented("pluginv2.Data has only QueryData").into_http());
            }
            let mut grpc = tonic::server::Grpc::new(tonic::codec::ProstCodec::default());
            Ok(grpc.unary(Unary(inner), req).await)
        })
    }
}
