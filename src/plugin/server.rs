//! The gRPC server Grafana talks to: the handshake on stdout, then the
//! `pluginv2` Data, Diagnostics and Resource services and gRPC health.
//!
//! We implement the raw `pluginv2` traits rather than the SDK's typed
//! services: the SDK fails a whole request on one query's bad JSON or on a
//! user whose role is `None`, and drops labels from fields with a config.
//! Data is our own service (`wire`), to send each error's source.

use std::sync::Arc;

use grafana_plugin_sdk::backend;
use grafana_plugin_sdk::pluginv2::{
    self, diagnostics_server::DiagnosticsServer, resource_server::ResourceServer,
};
use tokio_stream::wrappers::TcpListenerStream;
use tokio_stream::StreamExt;
use tonic::{Request, Response, Status};
use tracing_subscriber::{prelude::*, EnvFilter};

use super::instances::Instances;
use super::wire::{DataService, QueryData, QueryDataResponse};
use super::{data, health, metrics, resources};

#[derive(Clone, Default)]
pub struct Backend {
    instances: Arc<Instances>,
}

impl Backend {
    /// Settings from the environment Grafana starts the plugin with.
    pub fn from_env() -> Backend {
        Backend {
            instances: Arc::new(Instances::from_env()),
        }
    }
}

/// Runs the plugin until Grafana kills it.
pub async fn serve(backend: Backend) -> Result<(), Box<dyn std::error::Error>> {
    // Logs go to stderr as hclog JSON, which Grafana folds into its own log.
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::registry()
        .with(backend::layer())
        .with(filter)
        .try_init()?;
    let listener = backend::initialize().await?;
    let (mut reporter, health_service) = tonic_health::server::health_reporter();
    reporter.set_serving::<DataService<Backend>>().await;
    reporter.set_serving::<DiagnosticsServer<Backend>>().await;
    reporter.set_serving::<ResourceServer<Backend>>().await;
    // Without TCP_NODELAY small gRPC responses wait ~40 ms for delayed ACKs.
    let incoming = TcpListenerStream::new(listener).map(|conn| {
        conn.and_then(|c| {
            c.set_nodelay(true)?;
            Ok(c)
        })
    });
    tracing::info!("serving Woodpecker DORA plugin");
    tonic::transport::Server::builder()
        .add_service(health_service)
        .add_service(DataService::new(backend.clone()))
        .add_service(DiagnosticsServer::new(backend.clone()))
        .add_service(ResourceServer::new(backend))
        .serve_with_incoming(incoming)
        .await?;
    Ok(())
}

#[tonic::async_trait]
impl QueryData for Backend {
    async fn query_data(&self, request: pluginv2::QueryDataRequest) -> QueryDataResponse {
        let instance = self.instances.get(request.plugin_context.as_ref());
        data::query_data(instance, request.queries).await
    }
}

#[tonic::async_trait]
impl pluginv2::diagnostics_server::Diagnostics for Backend {
    async fn check_health(
        &self,
        request: Request<pluginv2::CheckHealthRequest>,
    ) -> Result<Response<pluginv2::CheckHealthResponse>, Status> {
        let request = request.into_inner();
        let instance = self.instances.get(request.plugin_context.as_ref());
        Ok(Response::new(health::check_health(instance).await))
    }

    async fn collect_metrics(
        &self,
        _request: Request<pluginv2::CollectMetricsRequest>,
    ) -> Result<Response<pluginv2::CollectMetricsResponse>, Status> {
        let stats: Vec<_> = self
            .instances
            .all()
            .into_iter()
            .filter_map(|(key, inst)| Some((key, inst.source.stats()?)))
            .collect();
        Ok(Response::new(pluginv2::CollectMetricsResponse {
            metrics: Some(pluginv2::collect_metrics_response::Payload {
                prometheus: metrics::prometheus(&stats).into_bytes(),
            }),
        }))
    }
}

#[tonic::async_trait]
impl pluginv2::resource_server::Resource for Backend {
    type CallResourceStream = tokio_stream::Once<Result<pluginv2::CallResourceResponse, Status>>;

    async fn call_resource(
        &self,
        request: Request<pluginv2::CallResourceRequest>,
    ) -> Result<Response<Self::CallResourceStream>, Status> {
        let request = request.into_inner();
        let instance = self.instances.get(request.plugin_context.as_ref());
        let response = resources::call_resource(instance, &request).await;
        Ok(Response::new(tokio_stream::once(Ok(response))))
    }
}
