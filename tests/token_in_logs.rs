//! The token never leaks: not into errors, debug output or logs.
//!
//! Alone in its test binary: tracing caches each log line's interest
//! process-wide, and another test's thread reaching the same line while
//! this test sets its subscriber can cache "not wanted", so the captured
//! log missed lines (a CI run failed so). With no other test here, no
//! other thread logs.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use support::woodpecker_server::*;
use woodpecker_dora::woodpecker::*;

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Capture {
        self.clone()
    }
}

#[tokio::test]
async fn token_never_appears_in_errors_or_logs() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(capture.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let s = FakeWoodpecker::start(FakeConfig::default()).await;
    s.add_repo(1, "acme/api");
    s.set_pipelines(1, gen_pipelines(120, 1_700_000_000));
    let cfg = ClientConfig {
        retry_base: Duration::from_millis(10),
        failure_backoff: Duration::ZERO,
        ..ClientConfig::new(s.url(), s.token().map(Token::new))
    };
    let mut texts = vec![
        format!("{cfg:?}"),
        format!("{:?}", cfg.token),
        format!("{}", cfg.token.clone().unwrap()),
    ];
    let c = WoodpeckerClient::new(cfg.clone()).unwrap();
    texts.push(format!("{c:?}"));
    let cache = PipelineCache::new(
        c.clone(),
        CacheConfig {
            use_feed: false,
            ..CacheConfig::default()
        },
    );
    cache
        .history("acme/api", &HistoryNeed::since(0, &[]))
        .await
        .unwrap();
    let mut errors = Vec::new();
    for fault in [
        Fault::Status(500),
        Fault::RateLimited(Some("0".into())),
        Fault::Html(200),
        Fault::Truncated,
        Fault::Disconnect,
        Fault::Status(403),
        Fault::Status(400),
    ] {
        s.fail_next(Match::Any, fault, 10);
        errors.push(c.current_user().await.unwrap_err());
        s.clear_faults();
    }
    errors.push(
        cache
            .history("acme/gone", &HistoryNeed::since(0, &[]))
            .await
            .unwrap_err(),
    );
    let bad = WoodpeckerClient::new(ClientConfig {
        token: Some(Token::new("x-wrong")),
        ..cfg.clone()
    })
    .unwrap();
    errors.push(bad.current_user().await.unwrap_err());
    let dead = WoodpeckerClient::new(ClientConfig {
        base_url: "http://127.0.0.1:9".into(),
        max_retries: 0,
        ..cfg.clone()
    })
    .unwrap();
    errors.push(dead.version().await.unwrap_err());
    assert!(errors.len() >= 10);
    for e in &errors {
        texts.push(e.to_string());
        texts.push(format!("{e:?}"));
    }
    drop(_guard);
    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("woodpecker response"), "tracing was captured");
    assert!(logs.contains("retrying woodpecker request"));
    for t in texts.iter().chain(std::iter::once(&logs)) {
        assert!(!t.contains(FAKE_TOKEN), "token leaked: {t}");
        assert!(
            !t.contains(&FAKE_TOKEN[8..20]),
            "token fragment leaked: {t}"
        );
    }
}
