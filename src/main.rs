//! Started by Grafana with no arguments: the plugin. Started with a
//! subcommand: the `report` tool.

use std::io::Write;

use woodpecker_dora::cli::{args, report};
use woodpecker_dora::plugin::server::{serve, Backend};

#[tokio::main]
async fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.is_empty() {
        if let Err(e) = serve(Backend::from_env()).await {
            eprintln!("woodpecker-dora: {e}");
            std::process::exit(1);
        }
        return;
    }
    let code = match args::parse(&argv) {
        Ok(args::Command::Help) => {
            // Ignored: help piped into `head` is fine.
            let _ = std::io::stdout().write_all(args::USAGE.as_bytes());
            0
        }
        Ok(args::Command::Report(r)) => {
            let mut stdout = std::io::stdout().lock();
            match report::run(r, &mut stdout).await {
                Ok(()) => 0,
                Err(e) => {
                    let _ = writeln!(std::io::stderr(), "error: {e}");
                    1
                }
            }
        }
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: {e}");
            2
        }
    };
    std::process::exit(code);
}
