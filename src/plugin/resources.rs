//! CallResource: the lists the query editor and template variables need
//! (`repos`, `environments`, `branches`), answered from the cache.

use std::collections::BTreeSet;
use std::sync::Arc;

use bytes::Bytes;
use grafana_plugin_sdk::pluginv2::{CallResourceRequest, CallResourceResponse, StringList};
use reqwest::Url;
use serde_json::{json, Value};

use super::failure::QueryFailure;
use super::instances::Instance;
use crate::domain;
use crate::input::json_fields::FieldError;
use crate::source::{all_repo_names, HistoryRequest};

/// How far back the editor's lists look.
const LIST_LOOKBACK_SECS: i64 = 90 * 86_400;

pub async fn call_resource(
    instance: Result<Arc<Instance>, String>,
    request: &CallResourceRequest,
) -> CallResourceResponse {
    let instance = match instance {
        Ok(i) => i,
        Err(message) => return reply(400, &json!({ "error": message })),
    };
    if !request.method.is_empty() && !request.method.eq_ignore_ascii_case("GET") {
        return reply(
            405,
            &json!({ "error": format!("{} is not supported; resources are read with GET", request.method) }),
        );
    }
    let (path, repos) = parse_url(request);
    let result = match path.as_str() {
        "repos" => repo_names(&instance).await,
        "environments" => lists(&instance, repos, List::Environments).await,
        "branches" => lists(&instance, repos, List::Branches).await,
        other => {
            return reply(
                404,
                &json!({ "error": format!("no resource {other:?}; try repos, environments or branches") }),
            )
        }
    };
    match result {
        Ok(v) => reply(200, &v),
        Err(f) => reply(f.status, &json!({ "error": f.message })),
    }
}

/// The resource path and its `repos` parameter (comma-separated and/or
/// repeated).
fn parse_url(request: &CallResourceRequest) -> (String, Vec<String>) {
    let raw = if request.url.is_empty() {
        &request.path
    } else {
        &request.url
    };
    let Ok(url) =
        Url::parse("http://resource.invalid/").and_then(|b| b.join(raw.trim_start_matches('/')))
    else {
        return (request.path.trim_matches('/').to_string(), Vec::new());
    };
    let repos = url
        .query_pairs()
        .filter(|(k, _)| k == "repos" || k == "repo")
        .flat_map(|(_, v)| {
            v.split(',')
                .map(|s| s.trim().to_string())
                .collect::<Vec<_>>()
        })
        .filter(|s| !s.is_empty())
        .collect();
    (url.path().trim_matches('/').to_string(), repos)
}

type Failure = QueryFailure;

async fn repo_names(instance: &Instance) -> Result<Value, Failure> {
    Ok(json!(
        all_repo_names(instance.source.as_ref(), instance.config.deadline()).await?
    ))
}

enum List {
    Environments,
    Branches,
}

async fn lists(instance: &Instance, repos: Vec<String>, list: List) -> Result<Value, Failure> {
    for name in &repos {
        domain::check_repo_name(name).map_err(|e| {
            QueryFailure::bad_request(FieldError::new("repos", e.to_string()).to_string())
        })?;
    }
    let deadline = instance.config.deadline();
    let repos = if repos.is_empty() {
        all_repo_names(instance.source.as_ref(), deadline).await?
    } else {
        repos
    };
    let now = chrono::Utc::now().timestamp();
    let events = instance.config.defaults.clone().resolve().0.events;
    let request = HistoryRequest {
        since: now - LIST_LOOKBACK_SECS,
        covered: &|_, _| true,
        events: &events,
        needs_tree: None,
        deadline,
    };
    let mut out = BTreeSet::new();
    for (_, result) in instance.source.histories(&repos, &request).await.repos {
        let history = match result {
            Ok(h) => h,
            // One unreadable repo should not empty the editor's list.
            Err(e) if repos.len() > 1 => {
                tracing::debug!(error = %e, "resource list skips a repo");
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        for p in history
            .pipelines
            .iter()
            .filter(|p| events.contains(&p.event()))
        {
            let value = match list {
                List::Environments => domain::environment_of(p),
                List::Branches => p.branch(),
            };
            if !value.is_empty() {
                out.insert(value.to_string());
            }
        }
    }
    Ok(json!(out))
}

fn reply(code: i32, body: &Value) -> CallResourceResponse {
    CallResourceResponse {
        code,
        headers: [(
            "Content-Type".to_string(),
            StringList {
                values: vec!["application/json".into()],
            },
        )]
        .into(),
        body: Bytes::from(body.to_string()),
    }
}
