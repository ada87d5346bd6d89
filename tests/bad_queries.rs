//! Bad queries: whatever JSON a panel (or a hand-edited dashboard, or a
//! template variable) sends, the parser never panics and every error names
//! the field; absurd ranges and buckets give a clear error, never a huge
//! allocation. See docs/reliability.md.

use std::sync::{Arc, OnceLock};

use grafana_plugin_sdk::pluginv2::{DataQuery, TimeRange};
use proptest::prelude::*;
use serde_json::{json, Map, Value};
use woodpecker_dora::input::duration::parse_duration;
use woodpecker_dora::plugin::data::query_data;
use woodpecker_dora::plugin::datasource::DataSourceConfig;
use woodpecker_dora::plugin::instances::Instance;
use woodpecker_dora::plugin::query::{QuerySpec, MAX_POINTS, MIN_BUCKET_SECS};
use woodpecker_dora::plugin::wire::DataResponse;
use woodpecker_dora::source::fixed::FixedSource;

/// Every name an error may carry: the query's fields, or `query` itself.
const FIELDS: [&str; 15] = [
    "query",
    "queryType",
    "repos",
    "bucket",
    "rolling",
    "groupBy",
    "includeSuperseded",
    "events",
    "branches",
    "environments",
    "failureStatuses",
    "windowDays",
    "flakyMinutes",
    "minSample",
    "openIncidents",
];

fn check_error_names_a_field(json: &[u8], fallback: &str) -> Result<(), TestCaseError> {
    if let Err(e) = QuerySpec::parse(json, fallback) {
        prop_assert!(
            FIELDS.contains(&e.field.as_str()),
            "error {:?} names no field of the query",
            e
        );
        prop_assert!(!e.message.trim().is_empty());
        let prefix = format!("`{}` ", e.field);
        prop_assert!(e.to_string().starts_with(&prefix), "{}", e);
    }
    Ok(())
}

fn interesting_string() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just(" ".to_string()),
        Just("1m".to_string()),
        Just("59s".to_string()),
        Just("0d".to_string()),
        Just("-1d".to_string()),
        Just("101y".to_string()),
        Just("99999999999999999999999d".to_string()),
        Just("1e3".to_string()),
        Just("NaN".to_string()),
        Just("inf".to_string()),
        Just("deployment".to_string()),
        Just("failure".to_string()),
        Just("success".to_string()),
        Just("repo".to_string()),
        Just("environment".to_string()),
        Just("censor".to_string()),
        Just("mttr".to_string()),
        Just("true".to_string()),
        "[0-9]{1,25}[smhdwy]?",
        "\\PC{0,16}",
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop_oneof![
            Just(1e308),
            Just(-1e308),
            Just(5e-324),
            Just(0.5),
            Just(-0.0)
        ]
        .prop_map(|f| json!(f)),
        interesting_string().prop_map(Value::String),
    ]
}

fn any_json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(("\\PC{0,8}", inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// A query object whose keys are mostly the real field names.
fn query_object() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        8 => prop::sample::select(&FIELDS[1..]).prop_map(str::to_string),
        1 => "\\PC{0,10}",
    ];
    prop::collection::vec((key, any_json()), 0..8).prop_map(|kv| {
        let m: Map<String, Value> = kv.into_iter().collect();
        Value::Object(m)
    })
}

/// A valid query, then bytes flipped, inserted or cut.
fn mutated_bytes() -> impl Strategy<Value = Vec<u8>> {
    let base = br#"{"queryType":"mttr","repos":["acme/api"],"bucket":"1d","rolling":"30d","groupBy":["repo"],"windowDays":7,"minSample":5,"events":["deployment"],"openIncidents":"censor"}"#;
    prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8).prop_map(
        move |edits| {
            let mut b = base.to_vec();
            for (at, byte, op) in edits {
                if b.is_empty() {
                    break;
                }
                let i = at.index(b.len());
                match op {
                    0 => b[i] = byte,
                    1 => b.insert(i, byte),
                    _ => {
                        b.remove(i);
                    }
                }
            }
            b
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_query_objects_never_panic_and_errors_name_a_field(
        v in query_object(),
        fallback in prop_oneof![Just(""), Just("mttr"), Just("bogus")],
    ) {
        check_error_names_a_field(v.to_string().as_bytes(), fallback)?;
    }

    #[test]
    fn any_json_document_never_panics(v in any_json()) {
        check_error_names_a_field(v.to_string().as_bytes(), "")?;
    }

    #[test]
    fn mutated_query_bytes_never_panic(b in mutated_bytes()) {
        check_error_names_a_field(&b, "")?;
    }

    #[test]
    fn raw_bytes_never_panic(b in prop::collection::vec(any::<u8>(), 0..64)) {
        check_error_names_a_field(&b, "")?;
    }

    #[test]
    fn durations_never_panic_and_stay_in_bounds(s in prop_oneof![
        "\\PC{0,24}",
        "[ \t]*[+-]?[0-9]{0,30}[smhdwyµ日]{0,2}[ \t]*",
    ]) {
        match parse_duration(&s) {
            Ok(secs) => prop_assert!(secs > 0 && secs <= 100 * 365 * 86_400, "{s:?} -> {secs}"),
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
        // The same string as a bucket or rolling window: an error names it.
        for key in ["bucket", "rolling"] {
            let q = json!({ key: s.clone() }).to_string();
            match QuerySpec::parse(q.as_bytes(), "mttr") {
                Ok(_) => {}
                Err(e) => prop_assert_eq!(e.field.as_str(), key),
            }
        }
    }

    /// Any accepted bucket over any range Grafana can send gives at most
    /// `MAX_POINTS` buckets of at least a minute, or an error naming `bucket`.
    #[test]
    fn buckets_are_bounded_for_every_range(
        bucket in prop::option::of(60i64..=100 * 365 * 86_400),
        from_ms in any::<i64>(),
        to_ms in any::<i64>(),
        interval_ms in any::<i64>(),
    ) {
        let q = QuerySpec { bucket_secs: bucket, ..QuerySpec::parse(b"{}", "mttr").unwrap() };
        let (from, to) = (from_ms.div_euclid(1000).min(to_ms.div_euclid(1000)), from_ms.div_euclid(1000).max(to_ms.div_euclid(1000)));
        match q.bucket_for(from, to, interval_ms) {
            Ok(b) => {
                prop_assert!(b >= MIN_BUCKET_SECS);
                prop_assert!((to - from).max(1) / b <= MAX_POINTS);
            }
            Err(e) => prop_assert_eq!(e.field.as_str(), "bucket"),
        }
    }
}

#[test]
fn explicit_bad_values_name_their_field() {
    let cases: &[(Value, &str)] = &[
        // Wrong types.
        (json!({"queryType": 3}), "queryType"),
        (json!({"repos": {"a": 1}}), "repos"),
        (json!({"repos": [null]}), "repos"),
        (json!({"bucket": 60}), "bucket"),
        (json!({"rolling": ["30d"]}), "rolling"),
        (json!({"groupBy": "author"}), "groupBy"),
        (json!({"includeSuperseded": "yes"}), "includeSuperseded"),
        (json!({"windowDays": true}), "windowDays"),
        (json!({"minSample": [5]}), "minSample"),
        (json!({"events": 1}), "events"),
        (json!({"openIncidents": false}), "openIncidents"),
        (json!("summary"), "query"),
        (json!(42), "query"),
        // Huge numbers.
        (json!({"windowDays": 1e308}), "windowDays"),
        (json!({"flakyMinutes": 1e20}), "flakyMinutes"),
        (json!({"minSample": 18446744073709551615u64}), "minSample"),
        (json!({"minSample": "1e400"}), "minSample"),
        (json!({"bucket": "99999999999999999999999w"}), "bucket"),
        (json!({"rolling": "101y"}), "rolling"),
        // Negative and zero windows.
        (json!({"windowDays": 0}), "windowDays"),
        (json!({"windowDays": -7}), "windowDays"),
        (json!({"windowDays": "-0.5"}), "windowDays"),
        (json!({"rolling": "0d"}), "rolling"),
        (json!({"rolling": "-30d"}), "rolling"),
        (json!({"bucket": "0m"}), "bucket"),
        (json!({"flakyMinutes": -1}), "flakyMinutes"),
        (json!({"minSample": 0}), "minSample"),
        // Finer than a minute.
        (json!({"bucket": "59s"}), "bucket"),
        (json!({"bucket": "1s"}), "bucket"),
    ];
    for (v, field) in cases {
        let e = QuerySpec::parse(v.to_string().as_bytes(), "mttr")
            .expect_err(&format!("{v} should be refused"));
        assert_eq!(e.field, *field, "{v}: {e}");
        assert!(
            e.to_string().starts_with(&format!("`{field}` ")),
            "{v}: {e}"
        );
    }
    // NaN and infinity cannot be written in JSON; as strings they are refused.
    for s in ["NaN", "inf", "-inf", "Infinity"] {
        let e = QuerySpec::parse(json!({"windowDays": s}).to_string().as_bytes(), "").unwrap_err();
        assert_eq!(e.field, "windowDays", "{s}");
    }
}

#[test]
fn a_bucket_giving_more_than_max_points_is_refused_with_the_count() {
    let q = QuerySpec::parse(br#"{"bucket":"1m"}"#, "mttr").unwrap();
    let week = 7 * 86_400;
    let e = q.bucket_for(0, week, 0).unwrap_err();
    assert_eq!(e.field, "bucket");
    assert!(e.message.contains("10080 points"), "{e}");
    assert!(e.message.contains("10000"), "{e}");
    // Exactly MAX_POINTS is fine.
    assert_eq!(q.bucket_for(0, MAX_POINTS * 60, 0), Ok(60));
}

// ---- The same through the plugin's QueryData handling (in-process) ----

fn demo_instance() -> Arc<Instance> {
    static DEMO: OnceLock<Arc<Instance>> = OnceLock::new();
    DEMO.get_or_init(|| {
        Arc::new(Instance {
            config: DataSourceConfig {
                demo: true,
                ..DataSourceConfig::default()
            },
            source: Arc::new(FixedSource::demo(chrono::Utc::now().timestamp())),
        })
    })
    .clone()
}

fn data_query(ref_id: &str, json: &[u8], from_ms: i64, to_ms: i64, interval_ms: i64) -> DataQuery {
    DataQuery {
        ref_id: ref_id.into(),
        max_data_points: 1000,
        interval_ms,
        time_range: Some(TimeRange {
            from_epoch_ms: from_ms,
            to_epoch_ms: to_ms,
        }),
        json: json.to_vec(),
        query_type: String::new(),
    }
}

fn run(queries: Vec<DataQuery>) -> std::collections::HashMap<String, DataResponse> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(query_data(Ok(demo_instance()), queries))
        .responses
}

#[test]
fn absurd_ranges_and_buckets_answer_clearly_without_huge_frames() {
    let now_ms = chrono::Utc::now().timestamp_millis();
    let year_ms = 365 * 86_400 * 1000;
    let r = run(vec![
        // A minute bucket over a year: refused before any work.
        data_query(
            "A",
            br#"{"queryType":"mttr","bucket":"1m"}"#,
            now_ms - year_ms,
            now_ms,
            0,
        ),
        // No bucket, a 1 ms interval over the widest range Grafana can
        // send: the bucket grows so that there are at most MAX_POINTS.
        data_query("B", br#"{"queryType":"mttr"}"#, i64::MIN, i64::MAX, 1),
        // Every other type over the widest range.
        data_query("C", br#"{"queryType":"incidents"}"#, i64::MIN, i64::MAX, 1),
        data_query("D", br#"{"queryType":"deploys"}"#, i64::MIN, i64::MAX, 1),
        data_query(
            "E",
            br#"{"groupBy":["repo","environment"]}"#,
            i64::MIN,
            i64::MAX,
            1,
        ),
        // A range that ends before it starts.
        data_query("F", b"{}", now_ms, now_ms - year_ms, 0),
        // A rolling window of 100 years.
        data_query(
            "G",
            br#"{"queryType":"mttr","bucket":"1y","rolling":"100y"}"#,
            now_ms - year_ms,
            now_ms,
            0,
        ),
        // Zero-width range.
        data_query("H", br#"{"queryType":"mttr"}"#, now_ms, now_ms, 0),
    ]);
    assert_eq!(r["A"].status, 400);
    assert!(
        r["A"].error.starts_with("`bucket` gives "),
        "{}",
        r["A"].error
    );
    assert_eq!(r["F"].status, 400);
    assert!(r["F"].error.contains("time range"), "{}", r["F"].error);
    for id in ["B", "C", "D", "E", "G", "H"] {
        assert_eq!(r[id].status, 200, "{id}: {}", r[id].error);
        let bytes: usize = r[id].frames.iter().map(Vec::len).sum();
        // 5 repos × 10,001 points × 5 columns × 8 bytes is about 2 MB.
        assert!(bytes < 4 << 20, "{id}: {bytes} bytes of frames");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Random queries and time ranges through `query_data` over the demo
    /// history: every query gets an answer of its own, and none is the
    /// "internal error" a caught panic produces.
    #[test]
    fn query_data_never_hits_a_panic(
        v in query_object(),
        from_ms in prop_oneof![any::<i64>(), Just(0i64), (1_600_000_000_000i64..1_900_000_000_000)],
        span_ms in prop_oneof![any::<i64>(), 0i64..(400 * 86_400_000)],
        interval_ms in any::<i64>(),
    ) {
        let to_ms = from_ms.saturating_add(span_ms);
        let r = run(vec![data_query("Q", v.to_string().as_bytes(), from_ms, to_ms, interval_ms)]);
        let q = &r["Q"];
        prop_assert!(q.status == 200 || q.status == 400, "{} {}", q.status, q.error);
        if q.status == 400 {
            let named = FIELDS.iter().any(|f| q.error.starts_with(&format!("`{}` ", f)))
                || q.error.contains("time range");
            prop_assert!(named, "{}", q.error);
        }
    }
}
