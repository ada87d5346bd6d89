//! A query's JSON: parsing never panics, every error names a field, and an
//! accepted query's bucket stays within the point limit for any range.
#![no_main]

use libfuzzer_sys::fuzz_target;
use woodpecker_dora::plugin::query::{QuerySpec, MAX_POINTS, MIN_BUCKET_SECS};

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

fuzz_target!(|data: &[u8]| {
    // The first byte picks the protocol's queryType fallback.
    let (fallback, json) = match data.split_first() {
        Some((b, rest)) => (["", "summary", "mttr", "nonsense"][*b as usize % 4], rest),
        None => ("", data),
    };
    match QuerySpec::parse(json, fallback) {
        Err(e) => {
            assert!(FIELDS.contains(&e.field.as_str()), "unnamed field {e:?}");
            assert!(!e.message.is_empty());
        }
        Ok(q) => {
            // A year's range at one-second resolution, from the fuzzer's bytes.
            let span = (json.len() as i64 + 1) * 31_536_000;
            for interval_ms in [0, 1, 60_000, i64::MAX / 2] {
                if let Ok(b) = q.bucket_for(0, span, interval_ms) {
                    assert!(b >= MIN_BUCKET_SECS);
                    assert!(span / b <= MAX_POINTS);
                }
            }
        }
    }
});
