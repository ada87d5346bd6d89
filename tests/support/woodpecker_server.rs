//! An in-process fake Woodpecker server (axum on 127.0.0.1:0) for tests and
//! benches.
//!
//! ```ignore
//! mod support;
//! use support::woodpecker_server::*;
//! let server = FakeWoodpecker::start(FakeConfig::default()).await; // 3.17.0
//! server.add_repo(1, "acme/api");
//! server.set_pipelines(1, gen_pipelines(1_234, 1_700_000_000));
//! server.fail_next(Match::Path("/api/user"), Fault::Status(500), 1);
//! let url = server.url();            // includes the sub-path, if any
//! let token = server.token();        // FAKE_TOKEN unless configured
//! assert_eq!(server.count(Match::Pipelines), 25);
//! ```
//!
//! Behaviour follows the Woodpecker API: `/version`, `/healthz` (204),
//! `/api/user`, `/api/user/repos`, `/api/repos/lookup/{full/name}`
//! (case-insensitive), `/api/repos/{id}`, `/api/repos/{id}/pipelines`
//! (newest first, `perPage` clamped to 50, `before`/`after` on 2.5+,
//! `event`/`branch`/`status` on 3.0+, unknown filters ignored) and
//! `/api/repos/{id}/pipelines/{number}` (the pipeline with its `workflows`,
//! steps as `children`). JSON uses 3.x time names (`created`; `started`/
//! `finished` for workflows and steps) or, for a 2.x version, `created_at`
//! (`start_time`/`end_time`).
//! A request without the right `Authorization: Bearer` runs anonymously:
//! 401 on user and repo routes. A repo can grow while it is read
//! (`grow_while_listed`).

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};

pub const FAKE_TOKEN: &str = "wp-fake-token-3f9a1c77e2d84b6c";

/// One pipeline as the fake stores it (names are the 3.x ones).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakePipeline {
    pub number: u64,
    pub status: String,
    pub event: String,
    pub branch: String,
    pub deploy_to: String,
    pub created: i64,
    pub started: i64,
    pub finished: i64,
    /// The pipeline this one restarts or deploys; 0 for none.
    pub parent: u64,
    pub commit: String,
    /// Served by the detail endpoint only, as Woodpecker does.
    pub workflows: Vec<FakeWorkflow>,
}

/// A workflow of a pipeline; its steps are its `children` on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeWorkflow {
    pub name: String,
    pub state: String,
    pub started: i64,
    pub finished: i64,
    pub steps: Vec<FakeStep>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeStep {
    pub name: String,
    pub state: String,
    pub started: i64,
    pub finished: i64,
}

impl FakeWorkflow {
    /// A workflow without steps; `started` and `finished` 0 when it did
    /// not run.
    pub fn new(name: &str, state: &str, started: i64, finished: i64) -> Self {
        FakeWorkflow {
            name: name.into(),
            state: state.into(),
            started,
            finished,
            steps: Vec::new(),
        }
    }

    pub fn step(mut self, name: &str, state: &str, started: i64, finished: i64) -> Self {
        self.steps.push(FakeStep {
            name: name.into(),
            state: state.into(),
            started,
            finished,
        });
        self
    }
}

/// A commit sha of its own for every pipeline number, as a forge gives
/// each push.
pub fn sha(number: u64) -> String {
    format!("{:040x}", 0x9f1c_0000_u64 + number)
}

impl FakePipeline {
    /// A finished pipeline: started 5 s and finished 65 s after `created`.
    pub fn finished(number: u64, status: &str, event: &str, deploy_to: &str, created: i64) -> Self {
        FakePipeline {
            number,
            status: status.into(),
            event: event.into(),
            branch: "main".into(),
            deploy_to: deploy_to.into(),
            created,
            started: created + 5,
            finished: created + 65,
            parent: 0,
            commit: sha(number),
            workflows: Vec::new(),
        }
    }

    pub fn with_workflows(mut self, workflows: Vec<FakeWorkflow>) -> Self {
        self.workflows = workflows;
        self
    }

    /// A pipeline still running.
    pub fn running(number: u64, event: &str, deploy_to: &str, created: i64) -> Self {
        FakePipeline {
            number,
            status: "running".into(),
            event: event.into(),
            branch: "main".into(),
            deploy_to: deploy_to.into(),
            created,
            started: created + 5,
            finished: 0,
            parent: 0,
            commit: sha(number),
            workflows: Vec::new(),
        }
    }
}

/// `count` finished pipelines numbered 1..=count, one every 10 minutes
/// starting at `start`: every 4th is a deployment to production (every 3rd
/// deployment fails), the rest are push/pull_request, a few failures.
pub fn gen_pipelines(count: u64, start: i64) -> Vec<FakePipeline> {
    (1..=count)
        .map(|n| {
            let created = start + n as i64 * 600;
            if n % 4 == 0 {
                let status = if (n / 4) % 3 == 0 {
                    "failure"
                } else {
                    "success"
                };
                FakePipeline::finished(n, status, "deployment", "production", created)
            } else {
                let event = if n % 2 == 0 { "pull_request" } else { "push" };
                let status = if n % 7 == 0 { "failure" } else { "success" };
                FakePipeline::finished(n, status, event, "", created)
            }
        })
        .collect()
}

/// Which requests a fault applies to, or which ones to count.
#[derive(Clone, Debug)]
pub enum Match {
    Any,
    /// Exact path (after the sub-path), e.g. `/api/user`.
    Path(&'static str),
    /// Path starting with this.
    Prefix(&'static str),
    /// Any `/api/repos/{id}/pipelines` list request.
    Pipelines,
    /// Any `/api/repos/{id}/pipelines/{number}` detail request.
    PipelineDetail,
}

impl Match {
    fn hits(&self, path: &str) -> bool {
        match self {
            Match::Any => true,
            Match::Path(p) => path == *p,
            Match::Prefix(p) => path.starts_with(p),
            Match::Pipelines => path.starts_with("/api/repos/") && path.ends_with("/pipelines"),
            Match::PipelineDetail => {
                let tail: Vec<&str> = path.split('/').skip(3).collect();
                matches!(tail[..], [id, "pipelines", n]
                    if id.parse::<i64>().is_ok() && n.parse::<u64>().is_ok())
            }
        }
    }
}

/// Something to do instead of (or on top of) the normal answer.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Plain error status with a short text body.
    Status(u16),
    /// 429 with an optional `Retry-After` value.
    RateLimited(Option<String>),
    /// An HTML page (e.g. a proxy's login or error page) with this status.
    Html(u16),
    /// The normal JSON cut in half, with a matching Content-Length.
    Truncated,
    /// Send part of the body, then drop the connection.
    Disconnect,
    /// A `[`-prefixed body of this many bytes; `chunked` hides the length.
    Huge { bytes: usize, chunked: bool },
    /// Extra delay before the normal answer.
    Delay(Duration),
    /// This status with this body (e.g. an error page naming a user).
    Body(u16, &'static str),
}

/// How the pipeline list misbehaves, as proxies and broken servers do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Paging {
    /// Woodpecker's own: newest first, offset pages.
    #[default]
    Normal,
    /// A proxy that drops `?page=`: page 1, whatever was asked.
    IgnoresPage,
    /// Oldest first.
    OldestFirst,
    /// A history that never ends: every page is full, numbers keep falling
    /// from a billion, every `created` is the same (in 2027, so no query's
    /// start is ever reached).
    Endless,
}

/// One request the fake received.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub path: String,
    pub query: Vec<(String, String)>,
    pub authorization: Option<String>,
}

impl Recorded {
    pub fn param(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Clone, Debug)]
pub struct FakeConfig {
    pub version: String,
    /// `None`: every request is authorised.
    pub token: Option<String>,
    /// e.g. `/woodpecker` to serve under a sub-path.
    pub sub_path: String,
    pub latency: Duration,
}

impl Default for FakeConfig {
    fn default() -> Self {
        FakeConfig {
            version: "3.17.0".into(),
            token: Some(FAKE_TOKEN.into()),
            sub_path: String::new(),
            latency: Duration::ZERO,
        }
    }
}

impl FakeConfig {
    pub fn version(mut self, v: &str) -> Self {
        self.version = v.into();
        self
    }
    pub fn sub_path(mut self, p: &str) -> Self {
        self.sub_path = p.trim_end_matches('/').into();
        self
    }
    pub fn latency(mut self, d: Duration) -> Self {
        self.latency = d;
        self
    }
    pub fn token(mut self, t: Option<&str>) -> Self {
        self.token = t.map(Into::into);
        self
    }
}

#[derive(Default)]
struct Data {
    version: String,
    token: Option<String>,
    sub_path: String,
    latency: Duration,
    repos: Vec<(i64, String)>,
    /// Repos the token may only pull: absent from the user's repo list and
    /// feed, found by lookup.
    pull_only: HashSet<i64>,
    /// Per repo, newest first.
    pipelines: HashMap<i64, Vec<FakePipeline>>,
    faults: VecDeque<(Match, Fault, u32)>,
    paging: Paging,
    /// A repo that gains a pipeline with every list request (`grow_while_listed`).
    growing: Option<i64>,
    log: Vec<Recorded>,
    in_flight: usize,
    max_in_flight: usize,
}

#[derive(Clone)]
pub struct FakeWoodpecker {
    pub addr: SocketAddr,
    data: Arc<Mutex<Data>>,
    task: Arc<tokio::task::JoinHandle<()>>,
}

impl Drop for FakeWoodpecker {
    fn drop(&mut self) {
        if Arc::strong_count(&self.task) == 1 {
            self.task.abort();
        }
    }
}

impl FakeWoodpecker {
    pub async fn start(cfg: FakeConfig) -> FakeWoodpecker {
        let data = Arc::new(Mutex::new(Data {
            version: cfg.version,
            token: cfg.token,
            sub_path: cfg.sub_path,
            latency: cfg.latency,
            ..Data::default()
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new().fallback(handle).with_state(data.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        FakeWoodpecker {
            addr,
            data,
            task: Arc::new(task),
        }
    }

    /// Base URL including the sub-path (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}{}", self.addr, self.data.lock().unwrap().sub_path)
    }

    pub fn token(&self) -> Option<String> {
        self.data.lock().unwrap().token.clone()
    }

    pub fn set_version(&self, v: &str) {
        self.data.lock().unwrap().version = v.into();
    }

    pub fn set_latency(&self, d: Duration) {
        self.data.lock().unwrap().latency = d;
    }

    pub fn add_repo(&self, id: i64, full_name: &str) {
        let mut d = self.data.lock().unwrap();
        d.repos.retain(|(i, _)| *i != id);
        d.repos.push((id, full_name.into()));
        d.repos.sort_by(|a, b| a.1.cmp(&b.1));
        d.pipelines.entry(id).or_default();
    }

    /// Makes a repo pull-only for the token (see `Data::pull_only`).
    pub fn set_pull_only(&self, id: i64) {
        self.data.lock().unwrap().pull_only.insert(id);
    }

    /// Deletes a repo: from now on its routes answer 404.
    pub fn remove_repo(&self, id: i64) {
        let mut d = self.data.lock().unwrap();
        d.repos.retain(|(i, _)| *i != id);
        d.pipelines.remove(&id);
    }

    /// Replaces a repo's pipelines (any order given; stored newest first).
    pub fn set_pipelines(&self, repo_id: i64, mut pipelines: Vec<FakePipeline>) {
        pipelines.sort_by_key(|p| std::cmp::Reverse(p.number));
        self.data
            .lock()
            .unwrap()
            .pipelines
            .insert(repo_id, pipelines);
    }

    /// Adds a new pipeline (a new arrival, or replaces the same number).
    pub fn push_pipeline(&self, repo_id: i64, p: FakePipeline) {
        let mut d = self.data.lock().unwrap();
        let list = d.pipelines.entry(repo_id).or_default();
        list.retain(|x| x.number != p.number);
        list.push(p);
        list.sort_by_key(|p| std::cmp::Reverse(p.number));
    }

    /// Changes one pipeline in place (e.g. a running one finishes).
    pub fn update_pipeline(&self, repo_id: i64, number: u64, f: impl FnOnce(&mut FakePipeline)) {
        let mut d = self.data.lock().unwrap();
        if let Some(p) = d
            .pipelines
            .get_mut(&repo_id)
            .and_then(|l| l.iter_mut().find(|p| p.number == number))
        {
            f(p);
        }
    }

    /// From now on every pipeline-list request of `repo_id` first adds a
    /// new finished push to it, 10 minutes after the newest: a busy repo,
    /// growing while it is read.
    pub fn grow_while_listed(&self, repo_id: i64) {
        self.data.lock().unwrap().growing = Some(repo_id);
    }

    pub fn set_paging(&self, p: Paging) {
        self.data.lock().unwrap().paging = p;
    }

    /// Applies `fault` to the next `times` requests matching `m`.
    pub fn fail_next(&self, m: Match, fault: Fault, times: u32) {
        self.data
            .lock()
            .unwrap()
            .faults
            .push_back((m, fault, times));
    }

    pub fn clear_faults(&self) {
        self.data.lock().unwrap().faults.clear();
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.data.lock().unwrap().log.clone()
    }

    pub fn request_count(&self) -> usize {
        self.data.lock().unwrap().log.len()
    }

    pub fn count(&self, m: Match) -> usize {
        self.data
            .lock()
            .unwrap()
            .log
            .iter()
            .filter(|r| m.hits(&r.path))
            .count()
    }

    /// Clears the request log and the in-flight high-water mark.
    pub fn reset_requests(&self) {
        let mut d = self.data.lock().unwrap();
        d.log.clear();
        d.max_in_flight = d.in_flight;
    }

    /// Most requests being served at the same time since the last reset.
    pub fn max_in_flight(&self) -> usize {
        self.data.lock().unwrap().max_in_flight
    }
}

fn version_tuple(v: &str) -> (u32, u32) {
    let mut it = v
        .trim_start_matches('v')
        .split(['.', '-'])
        .map(|p| p.parse::<u32>());
    match (it.next(), it.next()) {
        (Some(Ok(a)), Some(Ok(b))) => (a, b),
        _ => (u32::MAX, 0),
    }
}

fn text(status: u16, body: &str) -> Response {
    (StatusCode::from_u16(status).unwrap(), body.to_string()).into_response()
}

fn json_response(v: &Value) -> Response {
    let mut r = Response::new(Body::from(serde_json::to_vec(v).unwrap()));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn pipeline_json(p: &FakePipeline, repo_id: i64, v3: bool) -> Value {
    let mut o = json!({
        "id": repo_id * 1_000_000 + p.number as i64,
        "number": p.number,
        "author": "alice",
        "author_email": "alice@example.com",
        "author_avatar": "https://avatars.example.com/alice",
        "sender": "alice",
        "parent": p.parent,
        "event": p.event,
        "status": p.status,
        "errors": null,
        "deploy_to": p.deploy_to,
        "deploy_task": "",
        "commit": p.commit,
        "branch": p.branch,
        "ref": format!("refs/heads/{}", p.branch),
        "refspec": "",
        "forge_url": "https://forge.example.com/acme/api/commit/9f1c2e7",
        "reviewed_by": "",
        "message": "fix: handle nil config",
        "timestamp": p.created - 100,
    });
    let m = o.as_object_mut().unwrap();
    let (c, s, f, u, r) = if v3 {
        ("created", "started", "finished", "updated", "reviewed")
    } else {
        (
            "created_at",
            "started_at",
            "finished_at",
            "updated_at",
            "reviewed_at",
        )
    };
    m.insert(c.into(), json!(p.created));
    m.insert(s.into(), json!(p.started));
    m.insert(f.into(), json!(p.finished));
    m.insert(u.into(), json!(p.finished.max(p.started)));
    m.insert(r.into(), json!(0));
    if v3 {
        m.insert("event_reason".into(), Value::Null);
        m.insert("rerun_count".into(), json!(0));
        m.insert("version".into(), json!("3.17.0"));
    }
    o
}

/// A pipeline as the detail endpoint answers: the list's object plus
/// `workflows`, each with its steps as `children`.
fn pipeline_detail_json(p: &FakePipeline, repo_id: i64, v3: bool) -> Value {
    let (s, f) = if v3 {
        ("started", "finished")
    } else {
        ("start_time", "end_time")
    };
    let pipeline_id = repo_id * 1_000_000 + p.number as i64;
    let mut pid = 0;
    let workflows: Vec<Value> = p
        .workflows
        .iter()
        .map(|w| {
            pid += 1;
            let ppid = pid;
            let children: Vec<Value> = w
                .steps
                .iter()
                .map(|st| {
                    pid += 1;
                    json!({
                        "id": pipeline_id * 100 + pid, "uuid": format!("uuid-{pid}"),
                        "pipeline_id": pipeline_id, "pid": pid, "ppid": ppid,
                        "name": st.name, "state": st.state, "error": "",
                        "exit_code": if st.state == "failure" { 1 } else { 0 }, "type": "commands",
                        s: st.started, f: st.finished,
                    })
                })
                .collect();
            json!({
                "id": pipeline_id * 100 + ppid, "pipeline_id": pipeline_id, "pid": ppid,
                "name": w.name, "state": w.state, "error": "", "agent_id": 1,
                "platform": "linux/amd64", "environ": {}, s: w.started, f: w.finished,
                "children": children,
            })
        })
        .collect();
    let mut o = pipeline_json(p, repo_id, v3);
    o.as_object_mut()
        .unwrap()
        .insert("workflows".into(), Value::Array(workflows));
    o
}

/// `/api/user/feed`: with `latest=true`, one row per repo the user can push
/// to (sorted by name) holding its newest pipeline, or only `repo_id` when
/// it has none; without, the 50 newest pipelines of all those repos.
fn feed_json(d: &Data, query: &[(String, String)], v3: bool) -> Value {
    let latest = query.iter().any(|(k, v)| k == "latest" && v == "true");
    let mut rows: Vec<(i64, Value)> = Vec::new();
    for (id, name) in d.repos.iter().filter(|(id, _)| !d.pull_only.contains(id)) {
        let list = d.pipelines.get(id).map(Vec::as_slice).unwrap_or_default();
        let take = if latest { 1 } else { list.len() };
        if latest && list.is_empty() {
            rows.push((0, json!({ "repo_id": id })));
        }
        for p in list.iter().take(take) {
            let mut row = pipeline_json(p, *id, v3);
            let m = row.as_object_mut().unwrap();
            m.insert("repo_id".into(), json!(id));
            if version_tuple(&d.version) >= (3, 17) {
                m.insert("full_name".into(), json!(name));
            }
            rows.push((p.created, row));
        }
    }
    if !latest {
        rows.sort_by_key(|(created, _)| std::cmp::Reverse(*created));
        rows.truncate(50);
    }
    Value::Array(rows.into_iter().map(|(_, r)| r).collect())
}

fn repo_json(id: i64, full_name: &str, v3: bool) -> Value {
    let (owner, name) = full_name.rsplit_once('/').unwrap_or(("", full_name));
    let mut o = json!({
        "id": id, "forge_id": 1, "forge_remote_id": id.to_string(), "org_id": 7,
        "owner": owner, "name": name, "full_name": full_name,
        "avatar_url": "https://avatars.example.com/org", "forge_url": "https://forge.example.com/x",
        "clone_url": "https://forge.example.com/x.git", "default_branch": "main",
        "visibility": "private", "private": true, "active": true, "allow_pr": true,
        "config_file": "", "approval_allowed_users": null, "cancel_previous_pipeline_events": null,
    });
    o.as_object_mut().unwrap().insert(
        "trusted".into(),
        if v3 {
            json!({"network": false, "volumes": false, "security": false})
        } else {
            json!(false)
        },
    );
    o
}

fn parse_time(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.timestamp())
}

const EVENTS: [&str; 9] = [
    "push",
    "pull_request",
    "pull_request_closed",
    "pull_request_metadata",
    "tag",
    "release",
    "deployment",
    "cron",
    "manual",
];

async fn handle(State(data): State<Arc<Mutex<Data>>>, req: Request) -> Response {
    {
        let mut d = data.lock().unwrap();
        d.in_flight += 1;
        d.max_in_flight = d.max_in_flight.max(d.in_flight);
    }
    struct Leave(Arc<Mutex<Data>>);
    impl Drop for Leave {
        fn drop(&mut self) {
            self.0.lock().unwrap().in_flight -= 1;
        }
    }
    let _leave = Leave(data.clone());
    serve(data, req).await
}

async fn serve(data: Arc<Mutex<Data>>, req: Request) -> Response {
    let full_path = req.uri().path().to_string();
    let query: Vec<(String, String)> = req.uri().query().map(url_pairs).unwrap_or_default();
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);

    let (latency, fault, path) = {
        let mut d = data.lock().unwrap();
        let path = if d.sub_path.is_empty() {
            Some(full_path.clone())
        } else {
            full_path.strip_prefix(d.sub_path.as_str()).map(|p| {
                if p.is_empty() {
                    "/".to_string()
                } else {
                    p.to_string()
                }
            })
        };
        let in_prefix = path.is_some();
        let path = path.unwrap_or_else(|| full_path.clone());
        d.log.push(Recorded {
            path: path.clone(),
            query: query.clone(),
            authorization: authorization.clone(),
        });
        if let Some(id) = d
            .growing
            .filter(|id| path == format!("/api/repos/{id}/pipelines"))
        {
            let list = d.pipelines.entry(id).or_default();
            let (number, created) = list
                .first()
                .map_or((1, 0), |p| (p.number + 1, p.created + 600));
            list.insert(
                0,
                FakePipeline::finished(number, "success", "push", "", created),
            );
        }
        let mut fault = None;
        if let Some(i) = d.faults.iter().position(|(m, _, _)| m.hits(&path)) {
            let (_, f, times) = &mut d.faults[i];
            fault = Some(f.clone());
            *times -= 1;
            if *times == 0 {
                d.faults.remove(i);
            }
        }
        (d.latency, fault, in_prefix.then_some(path))
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let Some(path) = path else {
        return text(404, "404 page not found");
    };
    match fault {
        Some(Fault::Status(s)) => return text(s, "internal error"),
        Some(Fault::Body(s, body)) => return text(s, body),
        Some(Fault::RateLimited(after)) => {
            let mut r = text(429, "too many requests");
            if let Some(a) = after {
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_str(&a).unwrap());
            }
            return r;
        }
        Some(Fault::Html(s)) => {
            let mut r = text(
                s,
                "<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body>Please sign in</body></html>",
            );
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
            return r;
        }
        Some(Fault::Huge { bytes, chunked }) => {
            if chunked {
                let chunk = bytes::Bytes::from(vec![b' '; 64 * 1024]);
                let n = bytes.div_ceil(chunk.len());
                let stream = futures::stream::iter(
                    std::iter::once(bytes::Bytes::from_static(b"["))
                        .chain(std::iter::repeat_n(chunk, n))
                        .map(Ok::<_, std::io::Error>),
                );
                return Response::new(Body::from_stream(stream));
            }
            let mut body = vec![b' '; bytes];
            body[0] = b'[';
            return Response::new(Body::from(body));
        }
        Some(Fault::Delay(d)) => tokio::time::sleep(d).await,
        _ => {}
    }
    let resp = route(&data, &path, &query, authorization.as_deref());
    match fault {
        Some(Fault::Truncated) => {
            let (parts, body) = resp.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
            let cut = bytes.slice(..bytes.len() / 2);
            let mut r = Response::from_parts(parts, Body::from(cut.clone()));
            r.headers_mut().insert(
                header::CONTENT_LENGTH,
                HeaderValue::from_str(&cut.len().to_string()).unwrap(),
            );
            r
        }
        Some(Fault::Disconnect) => {
            let (parts, body) = resp.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
            let cut = bytes.slice(..bytes.len() / 2);
            let stream = futures::stream::iter(vec![
                Ok(cut),
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "dropped",
                )),
            ]);
            Response::from_parts(parts, Body::from_stream(stream))
        }
        _ => resp,
    }
}

fn url_pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|s| !s.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let h = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(h, 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn route(
    data: &Arc<Mutex<Data>>,
    path: &str,
    query: &[(String, String)],
    authorization: Option<&str>,
) -> Response {
    let d = data.lock().unwrap();
    let (major, minor) = version_tuple(&d.version);
    let v3 = major >= 3;
    let authed = match &d.token {
        None => true,
        Some(t) => authorization == Some(format!("Bearer {t}").as_str()),
    };
    let unauthorized = || text(401, "User not authorized");
    match path {
        "/version" => {
            return json_response(&json!({
                "source": "https://github.com/woodpecker-ci/woodpecker",
                "version": d.version,
            }))
        }
        "/healthz" => return StatusCode::NO_CONTENT.into_response(),
        "/api/user" => {
            if !authed {
                return unauthorized();
            }
            return json_response(&json!({
                "id": 1, "forge_id": 1, "forge_remote_id": "1", "login": "alice",
                "email": "alice@example.com", "avatar_url": "https://avatars.example.com/a",
                "admin": false, "org_id": 1,
            }));
        }
        "/api/user/repos" => {
            if !authed {
                return unauthorized();
            }
            let list: Vec<Value> = d
                .repos
                .iter()
                .filter(|(id, _)| !d.pull_only.contains(id))
                .map(|(id, n)| repo_json(*id, n, v3))
                .collect();
            return json_response(&Value::Array(list));
        }
        "/api/user/feed" => {
            if !authed {
                return unauthorized();
            }
            return json_response(&feed_json(&d, query, v3));
        }
        _ => {}
    }
    if let Some(name) = path.strip_prefix("/api/repos/lookup/") {
        if !authed {
            return unauthorized();
        }
        let name = decode(name).to_lowercase();
        return match d.repos.iter().find(|(_, n)| n.to_lowercase() == name) {
            Some((id, n)) => json_response(&repo_json(*id, n, v3)),
            None => text(404, "Not Found"),
        };
    }
    if let Some(rest) = path.strip_prefix("/api/repos/") {
        let mut parts = rest.split('/');
        let id: Option<i64> = parts.next().and_then(|s| s.parse().ok());
        let tail: Vec<&str> = parts.collect();
        if !authed {
            return unauthorized();
        }
        let Some(id) = id.filter(|id| d.repos.iter().any(|(i, _)| i == id)) else {
            return text(404, "Not Found");
        };
        if tail.is_empty() {
            let name = &d.repos.iter().find(|(i, _)| *i == id).unwrap().1;
            return json_response(&repo_json(id, name, v3));
        }
        if let ["pipelines", number] = tail[..] {
            let found = number.parse::<u64>().ok().and_then(|n| {
                d.pipelines
                    .get(&id)
                    .and_then(|l| l.iter().find(|p| p.number == n))
            });
            return match found {
                Some(p) => json_response(&pipeline_detail_json(p, id, v3)),
                None => text(404, "Not Found"),
            };
        }
        if tail == ["pipelines"] {
            let get = |k: &str| query.iter().find(|(q, _)| q == k).map(|(_, v)| v.as_str());
            let page: usize = get("page")
                .and_then(|s| s.parse().ok())
                .filter(|p| *p >= 1)
                .unwrap_or(1);
            let per: usize = get("perPage")
                .and_then(|s| s.parse().ok())
                .filter(|p| (1..=50).contains(p))
                .unwrap_or(50);
            let time_filters = (major, minor) >= (2, 5);
            let mut before = None;
            let mut after = None;
            if time_filters {
                for (k, slot) in [("before", &mut before), ("after", &mut after)] {
                    if let Some(v) = get(k) {
                        match parse_time(v) {
                            Some(t) => *slot = Some(t),
                            None => return text(400, "invalid time"),
                        }
                    }
                }
            }
            let mut events: Option<Vec<String>> = None;
            let (mut branch, mut status) = (None, None);
            if v3 {
                if let Some(e) = get("event") {
                    let list: Vec<String> = e.split(',').map(|s| s.trim().to_string()).collect();
                    if list.iter().any(|e| !EVENTS.contains(&e.as_str())) {
                        return text(400, "invalid event");
                    }
                    events = Some(list);
                }
                branch = get("branch").map(str::to_string);
                status = get("status").map(str::to_string);
            }
            let page = if d.paging == Paging::IgnoresPage {
                1
            } else {
                page
            };
            if d.paging == Paging::Endless {
                let top = 1_000_000_000 - ((page - 1) * per) as u64;
                let rows: Vec<Value> = (0..per as u64)
                    .map(|i| {
                        let p =
                            FakePipeline::finished(top - i, "success", "push", "", 1_800_000_000);
                        pipeline_json(&p, id, v3)
                    })
                    .collect();
                return json_response(&Value::Array(rows));
            }
            // By reference: the lock is held, and concurrent requests of a
            // big repo would queue behind a copy of its whole list.
            let list = d.pipelines.get(&id).map_or(&[][..], Vec::as_slice);
            let ordered: Box<dyn Iterator<Item = &FakePipeline>> = match d.paging {
                Paging::OldestFirst => Box::new(list.iter().rev()),
                _ => Box::new(list.iter()),
            };
            let rows: Vec<Value> = ordered
                .filter(|p| before.is_none_or(|b| p.created < b))
                .filter(|p| after.is_none_or(|a| p.created > a))
                .filter(|p| events.as_ref().is_none_or(|e| e.contains(&p.event)))
                .filter(|p| branch.as_ref().is_none_or(|b| *b == p.branch))
                .filter(|p| status.as_ref().is_none_or(|s| *s == p.status))
                .skip((page - 1) * per)
                .take(per)
                .map(|p| pipeline_json(p, id, v3))
                .collect();
            return json_response(&Value::Array(rows));
        }
    }
    text(404, "404 page not found")
}
