//! A JSON-lines export: never panics; an error names the line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use woodpecker_dora::source::fixed::FixedSource;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(e) = FixedSource::from_json_lines(text.as_bytes(), "fuzz.jsonl", 1_800_000_000, &|_| true) {
            assert!(e.starts_with("fuzz.jsonl, line "), "{e}");
        }
    }
});
