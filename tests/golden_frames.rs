//! Golden frames: every query type over the fixed fixture history, decoded
//! from the plugin's Arrow bytes and compared with checked-in JSON.
//! `UPDATE_GOLDEN=1 cargo test --test golden_frames` rewrites the files.

mod support;

use serde_json::{json, Value};
use support::fixture::{fixture_server, RANGE_END, T0};
use support::frames::decode;
use support::plugin_process::{context, query, PluginProcess};
use support::woodpecker_server::{FakeConfig, FAKE_TOKEN};

const CASES: [(&str, &str); 8] = [
    (
        "summary",
        r#"{"queryType": "summary", "repos": ["acme/api"]}"#,
    ),
    (
        "summary_by_environment",
        r#"{"queryType": "summary", "events": ["deployment", "push"], "groupBy": ["repo", "environment"]}"#,
    ),
    (
        "incidents",
        r#"{"queryType": "incidents", "repos": ["acme/api"], "includeSuperseded": true}"#,
    ),
    (
        "mttr",
        r#"{"queryType": "mttr", "repos": ["acme/api"], "bucket": "1w", "groupBy": ["environment"]}"#,
    ),
    (
        "mttr_rolling",
        r#"{"queryType": "mttr", "repos": ["acme/api"], "bucket": "1w", "rolling": "30d", "minSample": 1}"#,
    ),
    (
        "trends",
        r#"{"queryType": "trends", "repos": ["acme/api"], "bucket": "1w", "groupBy": ["environment"]}"#,
    ),
    (
        "deploys",
        r#"{"queryType": "deploys", "events": ["deployment", "push"]}"#,
    ),
    (
        "changes",
        r#"{"queryType": "changes", "events": ["deployment", "push"]}"#,
    ),
];

#[tokio::test]
async fn frames_match_the_golden_files() {
    let server = fixture_server(FakeConfig::default()).await;
    let plugin = PluginProcess::start().await;
    let queries = CASES
        .iter()
        .map(|(name, q)| query(name, serde_json::from_str(q).unwrap(), T0, RANGE_END))
        .collect();
    let ctx = context(&server.url(), json!({}), Some(FAKE_TOKEN));
    let responses = plugin.query_data(ctx, queries).await;
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    for (name, _) in CASES {
        let r = &responses[name];
        assert_eq!(r.status, 200, "{name}: {}", r.error);
        let frames: Vec<Value> = r.frames.iter().map(|f| decode(f).to_json()).collect();
        // The fake server's port changes every run.
        let actual = serde_json::to_string_pretty(&frames)
            .unwrap()
            .replace(&server.url(), "http://woodpecker.test");
        let path = format!("{}/tests/golden/{name}.json", env!("CARGO_MANIFEST_DIR"));
        if update {
            std::fs::write(&path, format!("{actual}\n")).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&path)
            .unwrap_or_else(|_| panic!("{path} missing: run with UPDATE_GOLDEN=1"));
        assert_eq!(actual.trim(), expected.trim(), "{name} differs from {path}");
    }
}
