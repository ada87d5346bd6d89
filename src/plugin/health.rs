//! CheckHealth: one line a user can act on, from the source's own check
//! plus what the settings alone tell (a token sent in clear text).

use std::net::IpAddr;
use std::sync::Arc;

use grafana_plugin_sdk::pluginv2::{check_health_response::HealthStatus, CheckHealthResponse};
use reqwest::Url;

use super::datasource::DataSourceConfig;
use super::instances::Instance;

pub async fn check_health(instance: Result<Arc<Instance>, String>) -> CheckHealthResponse {
    let instance = match instance {
        Ok(i) => i,
        Err(message) => return response(false, message, Vec::new()),
    };
    let mut report = instance.source.check_health().await;
    report.warnings.extend(plain_http_warning(&instance.config));
    response(report.ok, report.message, report.warnings)
}

fn response(ok: bool, message: String, warnings: Vec<String>) -> CheckHealthResponse {
    let message = if warnings.is_empty() {
        message
    } else {
        format!("{message}. Warning: {}", warnings.join(" "))
    };
    let details = serde_json::json!({ "warnings": warnings });
    CheckHealthResponse {
        status: if ok {
            HealthStatus::Ok
        } else {
            HealthStatus::Error
        } as i32,
        message,
        json_details: details.to_string().into_bytes(),
    }
}

/// A token sent over plain http to another machine can be read on the way.
pub(crate) fn plain_http_warning(config: &DataSourceConfig) -> Option<String> {
    if config.demo || config.token.is_none() {
        return None;
    }
    let url = Url::parse(&config.url).ok()?;
    let host = url.host_str()?;
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .trim_matches(|c| c == '[' || c == ']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    (url.scheme() == "http" && !loopback).then(|| {
        format!("the token is sent over plain http to {host}, where anyone on the network path can read it; use https.")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(url: &str, token: bool) -> DataSourceConfig {
        DataSourceConfig {
            url: url.into(),
            token: token.then(|| "t".into()),
            ..DataSourceConfig::default()
        }
    }

    #[test]
    fn warns_only_for_a_token_over_http_to_another_host() {
        assert!(plain_http_warning(&config("http://ci.example.com", true))
            .unwrap()
            .contains("ci.example.com"));
        assert!(plain_http_warning(&config("https://ci.example.com", true)).is_none());
        assert!(plain_http_warning(&config("http://localhost:8000", true)).is_none());
        assert!(plain_http_warning(&config("http://127.0.0.1:8000", true)).is_none());
        assert!(plain_http_warning(&config("http://[::1]:8000", true)).is_none());
        assert!(plain_http_warning(&config("http://ci.example.com", false)).is_none());
    }
}
