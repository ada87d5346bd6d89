//! One Woodpecker pipeline object: never panics; a parsed pipeline has a
//! positive number and no negative times.
#![no_main]

use libfuzzer_sys::fuzz_target;
use woodpecker_dora::woodpecker::parse_pipeline_json;

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        if let Ok((p, _)) = parse_pipeline_json(value) {
            assert!(p.number() > 0);
            assert!(p.created() >= 0 && p.started() >= 0 && p.finished() >= 0);
        }
    }
});
