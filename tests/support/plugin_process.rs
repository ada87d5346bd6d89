//! Runs the plugin binary the way Grafana does and talks to it over gRPC
//! with the SDK's generated `pluginv2` clients.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use grafana_plugin_sdk::pluginv2::{
    data_client::DataClient, diagnostics_client::DiagnosticsClient,
    resource_client::ResourceClient, CallResourceRequest, CheckHealthRequest, CheckHealthResponse,
    DataQuery, DataResponse, DataSourceInstanceSettings, PluginContext, QueryDataRequest,
    TimeRange, User,
};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tonic::transport::Channel;

pub struct PluginProcess {
    _child: Child,
    channel: Channel,
    stderr: Arc<Mutex<Vec<String>>>,
    /// The pipeline store this process was given, removed on drop unless a
    /// test named its own.
    own_store: Option<TempDir>,
}

/// A directory under the system's temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("wdora-{label}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The plugin setting naming the store's directory.
pub const STORE_PATH: &str = "GF_PLUGIN_STORE_PATH";

impl PluginProcess {
    /// Spawns the binary with go-plugin's environment and waits for the
    /// `1|2|tcp|ADDR|grpc` handshake line.
    pub async fn start() -> PluginProcess {
        Self::start_with_env(&[]).await
    }

    pub async fn start_with_env(extra: &[(&str, &str)]) -> PluginProcess {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_gpx_woodpecker_dora"));
        cmd.env("grafana_plugin_type", "datasource")
            .env("PLUGIN_PROTOCOL_VERSIONS", "2")
            .env("PLUGIN_MIN_PORT", "10000")
            .env("PLUGIN_MAX_PORT", "25000")
            .env("GF_VERSION", "12.2.0")
            .env("RUST_LOG", "debug,h2=info,tower=info,hyper=info,tonic=info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        // Each process gets a store of its own unless the test shares one.
        let own_store =
            (!extra.iter().any(|(k, _)| *k == STORE_PATH)).then(|| TempDir::new("store"));
        if let Some(dir) = &own_store {
            cmd.env(STORE_PATH, dir.path());
        }
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn plugin binary");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let handshake = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("handshake within 20 s")
            .expect("read stdout")
            .expect("a handshake line");
        let parts: Vec<&str> = handshake.split('|').collect();
        assert_eq!(parts.len(), 5, "handshake {handshake:?}");
        assert_eq!(&parts[..3], ["1", "2", "tcp"], "handshake {handshake:?}");
        assert_eq!(parts[4], "grpc", "handshake {handshake:?}");
        // Later stdout lines are only logged by Grafana; keep draining them.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let sink = stderr.clone();
        let mut err_lines = BufReader::new(child.stderr.take().unwrap()).lines();
        tokio::spawn(async move {
            while let Ok(Some(line)) = err_lines.next_line().await {
                sink.lock().unwrap().push(line);
            }
        });
        let channel = Channel::from_shared(format!("http://{}", parts[3]))
            .unwrap()
            .connect()
            .await
            .expect("connect to the plugin");
        PluginProcess {
            _child: child,
            channel,
            stderr,
            own_store,
        }
    }

    /// One QueryData call; the responses by refId.
    pub async fn query_data(
        &self,
        ctx: PluginContext,
        queries: Vec<DataQuery>,
    ) -> HashMap<String, DataResponse> {
        self.query_data_with_headers(ctx, queries, HashMap::new())
            .await
    }

    /// One QueryData call with request headers (Grafana's alerting sends
    /// `FromAlert: true`).
    pub async fn query_data_with_headers(
        &self,
        ctx: PluginContext,
        queries: Vec<DataQuery>,
        headers: HashMap<String, String>,
    ) -> HashMap<String, DataResponse> {
        self.data()
            .query_data(QueryDataRequest {
                plugin_context: Some(ctx),
                headers,
                queries,
            })
            .await
            .expect("QueryData answers")
            .into_inner()
            .responses
    }

    /// One CheckHealth call.
    pub async fn check_health(&self, ctx: PluginContext) -> CheckHealthResponse {
        self.diagnostics()
            .check_health(CheckHealthRequest {
                plugin_context: Some(ctx),
                headers: Default::default(),
            })
            .await
            .expect("CheckHealth answers")
            .into_inner()
    }

    /// One CallResource call (`url` is the path plus query string, as
    /// Grafana sends it); the status code and body of the response.
    pub async fn call_resource(
        &self,
        ctx: PluginContext,
        method: &str,
        url: &str,
    ) -> (i32, Vec<u8>) {
        let mut stream = self
            .resource()
            .call_resource(CallResourceRequest {
                plugin_context: Some(ctx),
                path: url.split('?').next().unwrap_or_default().into(),
                method: method.into(),
                url: url.into(),
                ..Default::default()
            })
            .await
            .expect("CallResource answers")
            .into_inner();
        let first = stream
            .message()
            .await
            .expect("a response message")
            .expect("one response");
        (first.code, first.body.to_vec())
    }

    pub fn data(&self) -> DataClient<Channel> {
        DataClient::new(self.channel.clone())
    }

    pub fn diagnostics(&self) -> DiagnosticsClient<Channel> {
        DiagnosticsClient::new(self.channel.clone())
    }

    pub fn resource(&self) -> ResourceClient<Channel> {
        ResourceClient::new(self.channel.clone())
    }

    pub fn channel(&self) -> Channel {
        self.channel.clone()
    }

    /// The Prometheus text CollectMetrics returns.
    pub async fn metrics_text(&self, ctx: PluginContext) -> String {
        let m = self
            .diagnostics()
            .collect_metrics(grafana_plugin_sdk::pluginv2::CollectMetricsRequest {
                plugin_context: Some(ctx),
            })
            .await
            .expect("CollectMetrics answers")
            .into_inner()
            .metrics
            .expect("a payload");
        String::from_utf8(m.prometheus).unwrap()
    }

    /// File descriptors the plugin has open (Linux only).
    pub fn open_files(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .expect("read /proc/<pid>/fd")
            .count()
    }

    /// Everything the plugin wrote to stderr so far (hclog JSON lines).
    pub fn logs(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    /// `kill -9`, and waits until the process is gone.
    pub async fn kill9(mut self) {
        self._child.kill().await.expect("SIGKILL the plugin");
    }

    pub fn pid(&self) -> u32 {
        self._child.id().expect("the plugin is running")
    }

    /// The plugin's resident memory now and its high-water mark, in KiB
    /// (`VmRSS` and `VmHWM` from /proc; Linux only).
    pub fn memory_kib(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("read /proc/<pid>/status");
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap_or_else(|| panic!("{name} in /proc status"))
        };
        (field("VmRSS:"), field("VmHWM:"))
    }
}

/// Settings as Grafana sends them for one data source.
pub fn context(url: &str, json_data: serde_json::Value, token: Option<&str>) -> PluginContext {
    let mut secure = HashMap::new();
    if let Some(t) = token {
        secure.insert("token".to_string(), t.to_string());
    }
    PluginContext {
        org_id: 1,
        plugin_id: "dorakit-woodpecker-datasource".into(),
        user: Some(User {
            login: "viewer".into(),
            name: "Viewer".into(),
            email: "viewer@example.com".into(),
            // Grafana's "No basic role": the SDK's typed services reject it.
            role: "None".into(),
        }),
        app_instance_settings: None,
        data_source_instance_settings: Some(DataSourceInstanceSettings {
            id: 7,
            uid: "woodpecker-test".into(),
            name: "Woodpecker".into(),
            url: url.into(),
            json_data: json_data.to_string().into_bytes(),
            decrypted_secure_json_data: secure,
            last_updated_ms: 1,
            ..Default::default()
        }),
    }
}

/// A data source of its own (so its cache starts cold), with the fake
/// server's token.
pub fn context_for(url: &str, uid: &str, json_data: serde_json::Value) -> PluginContext {
    let mut c = context(url, json_data, Some(super::woodpecker_server::FAKE_TOKEN));
    c.data_source_instance_settings.as_mut().unwrap().uid = uid.into();
    c
}

pub fn demo_context() -> PluginContext {
    context("", serde_json::json!({"demo": true}), None)
}

pub fn query(ref_id: &str, json: serde_json::Value, from_s: i64, to_s: i64) -> DataQuery {
    DataQuery {
        ref_id: ref_id.into(),
        max_data_points: 1000,
        interval_ms: 3_600_000,
        time_range: Some(TimeRange {
            from_epoch_ms: from_s * 1000,
            to_epoch_ms: to_s * 1000,
        }),
        json: json.to_string().into_bytes(),
        query_type: String::new(),
    }
}
