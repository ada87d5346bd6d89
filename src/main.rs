//! Started by Grafana with no arguments: the plugin. Started with a
//! subcommand: the command-line tool (`report`, `export`).

use woodpecker_dora::cli;
use woodpecker_dora::plugin::server::{serve, Backend};

#[tokio::main]
async fn main() {
    let argv: Vec<_> = std::env::args_os().skip(1).collect();
    if argv.is_empty() {
        if let Err(e) = serve(Backend::from_env()).await {
            eprintln!("woodpecker-dora: {e}");
            std::process::exit(1);
        }
        return;
    }
    std::process::exit(cli::run(argv).await);
}
