//! Durations: never panic; accepted ones are positive and at most 100 years.
#![no_main]

use libfuzzer_sys::fuzz_target;
use woodpecker_dora::input::duration::parse_duration;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        match parse_duration(s) {
            Ok(secs) => assert!(secs > 0 && secs <= 100 * 365 * 86_400),
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
});
