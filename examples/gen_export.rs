//! Writes a synthetic export for `report --input` to standard output:
//!
//! ```text
//! cargo run --release --example gen_export -- 1000000 > /tmp/history-1m.jsonl
//! ```
//!
//! Arguments: the number of pipelines (default 1,000,000) and a seed
//! (default 1). Same arguments, same file.

#[path = "../tests/support/export_gen.rs"]
mod export_gen;

use std::io::{BufWriter, Write};

fn main() {
    let mut args = std::env::args().skip(1);
    let mut number = |default: u64| {
        args.next()
            .map(|a| a.parse().expect("a non-negative whole number"))
            .unwrap_or(default)
    };
    let (n, seed) = (number(1_000_000), number(1));
    let mut out = BufWriter::new(std::io::stdout().lock());
    export_gen::write_export(n, seed, &mut out)
        .and_then(|()| out.flush())
        .expect("write the export");
}
