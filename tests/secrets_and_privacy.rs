//! Secrets and team-only metrics, over everything the plugin says.
//!
//! * The token never appears in logs (the binary at `RUST_LOG=trace`),
//!   errors, notices, frames, resource responses, health messages or
//!   `Debug` output, including when the server echoes the request back.
//! * The health check warns, over gRPC, when the token would travel over
//!   plain http to a host that is not loopback.
//! * No frame, label, notice or resource response carries person data
//!   (author, committer, sender, reviewer, email), neither for the demo
//!   history nor for a server whose JSON is full of it.
//!
//! See docs/reliability.md.

mod support;

use std::collections::HashMap;

use grafana_plugin_sdk::pluginv2::{
    check_health_response::HealthStatus, CheckHealthResponse, DataQuery, DataResponse,
    DataSourceInstanceSettings, PluginContext,
};
use serde_json::{json, Value};
use support::fixture::{fixture_server, RANGE_END, T0};
use support::frames::decode;
use support::plugin_process::{context, demo_context, query, PluginProcess};
use support::woodpecker_server::{FakeConfig, Fault, Match, FAKE_TOKEN};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use woodpecker_dora::plugin::datasource::DataSourceConfig;
use woodpecker_dora::woodpecker::{ClientConfig, Token, WoodpeckerClient};

async fn resource(
    plugin: &PluginProcess,
    ctx: PluginContext,
    url: &str,
    method: &str,
) -> (i32, String) {
    let (code, body) = plugin.call_resource(ctx, method, url).await;
    (code, String::from_utf8_lossy(&body).into_owned())
}

/// Everything a response says: errors, and each frame in full (name, meta
/// with notices and the executed query, field names, labels, configs with
/// links, every value).
fn render(r: &HashMap<String, DataResponse>) -> String {
    let mut out = String::new();
    for (id, resp) in r {
        out.push_str(&format!("{id} {} {}\n", resp.status, resp.error));
        for f in &resp.frames {
            out.push_str(&decode(f).to_json().to_string());
            out.push('\n');
        }
    }
    out
}

/// Every query type and option that changes what is rendered.
fn all_queries(repos: &[&str], from: i64, to: i64) -> Vec<DataQuery> {
    let with = |mut v: Value| {
        v["repos"] = json!(repos);
        v
    };
    vec![
        query("S", with(json!({})), from, to),
        query(
            "SG",
            with(json!({"groupBy": ["repo", "environment"]})),
            from,
            to,
        ),
        query(
            "I",
            with(json!({"queryType": "incidents", "includeSuperseded": true})),
            from,
            to,
        ),
        query(
            "M",
            with(
                json!({"queryType": "mttr", "bucket": "1d", "rolling": "7d", "groupBy": ["repo", "environment"]}),
            ),
            from,
            to,
        ),
        query("MA", with(json!({"queryType": "mttr"})), from, to),
        query("D", with(json!({"queryType": "deploys"})), from, to),
    ]
}

// ---------------------------------------------------------------- secrets

/// A raw HTTP server that answers every request with `status` and a body
/// that echoes the request, headers and token included, behind `prefix`.
async fn echo_server(status: u16, prefix: &'static str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut req = Vec::new();
                let mut buf = [0u8; 4096];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                let body = format!("{prefix}{}", String::from_utf8_lossy(&req));
                let head = format!(
                    "HTTP/1.1 {status} Echo\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = conn.write_all(head.as_bytes()).await;
                let _ = conn.write_all(body.as_bytes()).await;
            });
        }
    });
    url
}

#[tokio::test]
async fn the_token_appears_nowhere_at_any_log_level() {
    let server = fixture_server(FakeConfig::default()).await;
    let plugin = PluginProcess::start_with_env(&[("RUST_LOG", "trace")]).await;
    let ctx = |url: &str, uid: &str, token: &str| {
        let mut c = context(url, json!({"timeoutSeconds": 2}), Some(token));
        c.data_source_instance_settings.as_mut().unwrap().uid = uid.into();
        c
    };
    let mut said = Vec::<String>::new();
    let good = ctx(&server.url(), "good", FAKE_TOKEN);

    // Everything working.
    said.push(render(
        &plugin
            .query_data(
                good.clone(),
                all_queries(&["acme/api", "acme/web"], T0, RANGE_END),
            )
            .await,
    ));
    said.push(render(
        &plugin
            .query_data(good.clone(), all_queries(&[], T0, RANGE_END))
            .await,
    ));
    for url in ["repos", "environments", "branches?repos=acme/api", "nope"] {
        said.push(format!(
            "{:?}",
            resource(&plugin, good.clone(), url, "GET").await
        ));
    }
    said.push(format!(
        "{:?}",
        resource(&plugin, good.clone(), "repos", "POST").await
    ));
    said.push(format!("{:?}", plugin.check_health(good.clone()).await));

    // Faults: retries (logged at warn), a stale-data notice, bad bodies.
    for (fault, times) in [
        (Fault::Status(500), 4),
        (Fault::RateLimited(Some("0".into())), 2),
        (Fault::Html(200), 1),
        (Fault::Truncated, 1),
        (Fault::Disconnect, 4),
    ] {
        server.fail_next(Match::Pipelines, fault, times);
        said.push(render(
            &plugin
                .query_data(good.clone(), all_queries(&["acme/api"], T0, RANGE_END))
                .await,
        ));
        server.clear_faults();
    }

    // A wrong token is a secret too.
    let wrong = "wp-wrong-token-5be0a9d1c3";
    let bad = ctx(&server.url(), "wrong", wrong);
    said.push(render(
        &plugin
            .query_data(bad.clone(), all_queries(&["acme/api"], T0, RANGE_END))
            .await,
    ));
    said.push(format!("{:?}", plugin.check_health(bad.clone()).await));
    said.push(format!(
        "{:?}",
        resource(&plugin, bad, "repos", "GET").await
    ));

    // Servers that echo the request (Authorization header and all) in
    // their body: as a non-JSON 200, as a 4xx, and as broken JSON.
    for (status, prefix) in [(200, ""), (418, ""), (200, "[")] {
        let url = echo_server(status, prefix).await;
        let c = ctx(&url, &format!("echo-{status}-{prefix}"), FAKE_TOKEN);
        said.push(render(
            &plugin
                .query_data(c.clone(), all_queries(&["acme/api"], T0, RANGE_END))
                .await,
        ));
        said.push(format!("{:?}", plugin.check_health(c.clone()).await));
        said.push(format!(
            "{:?}",
            resource(&plugin, c, "environments?repos=acme/api", "GET").await
        ));
    }

    // The token pasted into the URL as a password.
    let in_url = ctx(
        &format!("http://user:{FAKE_TOKEN}@{}", server.addr),
        "userinfo",
        FAKE_TOKEN,
    );
    said.push(render(
        &plugin
            .query_data(in_url.clone(), all_queries(&["acme/api"], T0, RANGE_END))
            .await,
    ));
    said.push(format!("{:?}", plugin.check_health(in_url).await));

    // Give stderr a moment to be read, then scan everything.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let logs = plugin.logs();
    assert!(
        logs.len() > 100 && logs.iter().any(|l| l.contains("\"@level\":\"TRACE\"")),
        "trace logging is on ({} lines)",
        logs.len()
    );
    let everything = format!("{}\n{}", said.join("\n"), logs.join("\n"));
    // The echo servers really did receive the token...
    assert!(server
        .requests()
        .iter()
        .any(|r| r.authorization.as_deref() == Some(&format!("Bearer {FAKE_TOKEN}"))));
    // ...and the scrubbed echoes are visible, so the scan covers them.
    assert!(
        everything.contains("[redacted]"),
        "scrubbed echoes are in the output"
    );
    for secret in [FAKE_TOKEN, wrong, &FAKE_TOKEN[8..24]] {
        if let Some(at) = everything.find(secret) {
            let from = at.saturating_sub(300);
            panic!(
                "secret found: …{}…",
                &everything[from..(at + 100).min(everything.len())]
            );
        }
    }
}

#[test]
fn debug_and_display_never_show_the_token() {
    let secret = "wp-debug-secret-0c1d2e3f";
    let settings = DataSourceInstanceSettings {
        url: "https://ci.example.com".into(),
        json_data: br#"{"windowDays": 3}"#.to_vec(),
        decrypted_secure_json_data: [("token".to_string(), secret.to_string())].into(),
        ..Default::default()
    };
    let config = DataSourceConfig::parse(&settings).unwrap();
    let client_cfg = ClientConfig::new("https://ci.example.com", Some(Token::new(secret)));
    let client = WoodpeckerClient::new(client_cfg.clone()).unwrap();
    let token = Token::new(secret);
    let bad_url = WoodpeckerClient::new(ClientConfig::new(
        format!("https://me:{secret}@ci.example.com"),
        Some(Token::new(secret)),
    ))
    .unwrap_err();
    let bad_token = WoodpeckerClient::new(ClientConfig::new(
        "https://ci.example.com",
        Some(Token::new(format!("{secret}\nx"))),
    ))
    .unwrap_err();
    let shown = [
        format!("{config:?}"),
        format!("{config:#?}"),
        format!("{client_cfg:?}"),
        format!("{client:?}"),
        format!("{token:?} {token}"),
        format!("{bad_url:?} {bad_url}"),
        format!("{bad_token:?} {bad_token}"),
    ];
    for s in &shown {
        assert!(!s.contains(secret), "{s}");
        assert!(!s.contains(&secret[3..15]), "{s}");
    }
    assert!(shown[0].contains("[redacted]"));
}

#[tokio::test]
async fn health_warns_about_a_token_over_plain_http_to_another_host() {
    let server = fixture_server(FakeConfig::default()).await;
    let plugin = PluginProcess::start().await;
    let warning = "the token is sent over plain http to";
    let details =
        |h: &CheckHealthResponse| -> Value { serde_json::from_slice(&h.json_details).unwrap() };

    // Loopback over http: fine, no warning.
    let h = plugin
        .check_health(context(&server.url(), json!({}), Some(FAKE_TOKEN)))
        .await;
    assert_eq!(h.status, HealthStatus::Ok as i32, "{}", h.message);
    assert!(!h.message.contains(warning), "{}", h.message);
    assert_eq!(details(&h)["warnings"], json!([]));

    // Another host over http with a token: the warning, even though the
    // host cannot be reached (a non-routable address, a short timeout).
    let mut c = context(
        "http://10.255.255.1:8000",
        json!({"timeoutSeconds": 1}),
        Some(FAKE_TOKEN),
    );
    c.data_source_instance_settings.as_mut().unwrap().uid = "remote-http".into();
    let h = plugin.check_health(c).await;
    assert_eq!(h.status, HealthStatus::Error as i32);
    assert!(
        h.message.contains(&format!("{warning} 10.255.255.1")),
        "{}",
        h.message
    );
    assert!(h.message.contains("use https"), "{}", h.message);
    let w = details(&h)["warnings"].to_string();
    assert!(w.contains(warning), "{w}");

    // Same host over https, or no token at all: no warning.
    for (url, token) in [
        ("https://10.255.255.1:8443", Some(FAKE_TOKEN)),
        ("http://10.255.255.1:8000", None),
    ] {
        let mut c = context(url, json!({"timeoutSeconds": 1}), token);
        c.data_source_instance_settings.as_mut().unwrap().uid =
            format!("{url}-{}", token.is_some());
        let h = plugin.check_health(c).await;
        assert!(!h.message.contains(warning), "{url}: {}", h.message);
    }
}

// ---------------------------------------------------------- team metrics

/// Words and values that would mean a person's data got through.
const PERSON: [&str; 9] = [
    "author",
    "committer",
    "sender",
    "reviewe", // reviewer, reviewed_by
    "email",
    "avatar",
    "alice",
    "@example.com",
    "login",
];

fn assert_no_person_data(what: &str, text: &str) {
    let lower = text.to_lowercase();
    for word in PERSON {
        if let Some(at) = lower.find(word) {
            let from = at.saturating_sub(200);
            panic!(
                "{what}: person data {word:?} in …{}…",
                &text[from..(at + 100).min(text.len())]
            );
        }
    }
    // No e-mail address of any kind: nothing like x@y.z in any value.
    for token in text.split(|c: char| c.is_whitespace() || "\"',;()[]{}<>".contains(c)) {
        if let Some((user, domain)) = token.split_once('@') {
            assert!(
                user.is_empty() || !domain.contains('.'),
                "{what}: an address {token:?}"
            );
        }
    }
}

#[tokio::test]
async fn no_output_of_the_demo_history_carries_person_data() {
    let plugin = PluginProcess::start().await;
    let now = chrono::Utc::now().timestamp();
    let r = plugin
        .query_data(demo_context(), all_queries(&[], now - 180 * 86_400, now))
        .await;
    for (id, resp) in &r {
        assert_eq!(resp.status, 200, "{id}: {}", resp.error);
    }
    assert_no_person_data("demo frames", &render(&r));
    for url in ["repos", "environments", "branches"] {
        let (code, body) = resource(&plugin, demo_context(), url, "GET").await;
        assert_eq!(code, 200, "{url}: {body}");
        assert_no_person_data(url, &body);
    }
    let h = plugin.check_health(demo_context()).await;
    assert_no_person_data(
        "health",
        &format!("{} {}", h.message, String::from_utf8_lossy(&h.json_details)),
    );
}

#[tokio::test]
async fn no_output_carries_the_person_fields_woodpecker_sends() {
    let server = fixture_server(FakeConfig::default()).await;
    let plugin = PluginProcess::start().await;
    let ctx = || {
        context(
            &server.url(),
            json!({"events": ["deployment", "push"]}),
            Some(FAKE_TOKEN),
        )
    };
    let r = plugin
        .query_data(ctx(), all_queries(&[], T0, RANGE_END))
        .await;
    for (id, resp) in &r {
        assert_eq!(resp.status, 200, "{id}: {}", resp.error);
    }
    let text = render(&r);
    assert!(text.contains("acme/api"), "the frames have content");
    assert_no_person_data("frames", &text);
    for url in [
        "repos",
        "environments",
        "branches",
        "branches?repos=acme/api",
    ] {
        let (code, body) = resource(&plugin, ctx(), url, "GET").await;
        assert_eq!(code, 200, "{url}: {body}");
        assert_no_person_data(url, &body);
    }
    // The frames came from the fake's JSON, which names people in every
    // pipeline (author, sender, emails, avatars).
    assert!(server.count(Match::Pipelines) > 0);
}
