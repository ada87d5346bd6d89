//! The command-line tool (same binary as the plugin): `report` prints the
//! DORA metrics, `export` writes a history that `report --input` reads.

mod args;
mod export;
mod report;

use std::ffi::OsString;
use std::io::Write;
use std::sync::Arc;

use clap::{CommandFactory, Parser};

use crate::source::fixed::FixedSource;
use crate::source::woodpecker::Connection;
use crate::source::{KeepTree, Origin, PipelineSource, SourceErrorKind};
use crate::woodpecker::Token;
use args::{Cli, Command};

/// Why a command failed, which decides its exit code.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The command line asks for something impossible: exit 2, as clap's
    /// own errors do.
    Usage(String),
    /// The work failed (server, token, file): exit 1.
    Runtime(String),
}

/// Runs the command line `argv` (without the program name); the exit code.
pub async fn run(argv: Vec<OsString>) -> i32 {
    let program = OsString::from("gpx_woodpecker_dora");
    let cli = match Cli::try_parse_from(std::iter::once(program).chain(argv)) {
        Ok(cli) => cli,
        Err(e) => {
            // Help and --version too; a closed stdout (`| head`) is fine.
            let _ = e.print();
            return e.exit_code();
        }
    };
    let (name, result) = match cli.command {
        Command::Report(a) => (
            "report",
            report::run(a, &mut std::io::stdout().lock()).await,
        ),
        Command::Export(a) => ("export", export::run(a).await),
    };
    match result {
        Ok(()) => 0,
        Err(Failure::Usage(m)) => {
            let mut cmd = Cli::command();
            cmd.build();
            let cmd = cmd.find_subcommand_mut(name).expect("a subcommand");
            let _ = cmd
                .error(clap::error::ErrorKind::ValueValidation, for_cli(&m))
                .print();
            2
        }
        Err(Failure::Runtime(m)) => {
            let _ = writeln!(std::io::stderr(), "error: {}", for_cli(&m));
            1
        }
    }
}

/// Where a command reads pipelines from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    Demo,
    Url(String),
    /// A JSON-lines file; `-` is standard input.
    Input(String),
}

/// Opens `source` as of `now`; an export's pipelines keep their workflow
/// tree only where `keep_tree` says. A bad `--url` is a usage error; a file
/// that cannot be read or parsed is a runtime failure.
fn open(
    source: &Source,
    now: i64,
    keep_tree: KeepTree,
) -> Result<Arc<dyn PipelineSource>, Failure> {
    let origin = match source {
        Source::Demo => Origin::Demo,
        Source::Input(path) => {
            // Blocking is fine: nothing else runs before the input is read.
            let fixed = if path == "-" {
                FixedSource::from_json_lines(
                    std::io::stdin().lock(),
                    "standard input",
                    now,
                    keep_tree,
                )
            } else {
                std::fs::File::open(path)
                    .map_err(|e| format!("cannot read {path}: {e}"))
                    .and_then(|file| FixedSource::from_json_lines(file, path, now, keep_tree))
            };
            return Ok(Arc::new(fixed.map_err(Failure::Runtime)?));
        }
        Source::Url(url) => Origin::Server(Connection::new(
            url.clone(),
            std::env::var("WOODPECKER_TOKEN")
                .ok()
                .filter(|t| !t.is_empty())
                .map(Token::new),
        )),
    };
    crate::source::open(origin, now).map_err(|e| match (source, e.kind) {
        (Source::Url(_), SourceErrorKind::BadConfig) => Failure::Usage(e.message),
        _ => Failure::Runtime(e.message),
    })
}

/// The source's messages speak to a Grafana user (the data source's
/// settings, reachable from Grafana); a terminal user sets a flag or
/// WOODPECKER_TOKEN instead. Reworded here, phrase by phrase, so the plugin
/// keeps its wording; a test holds every server error to this.
const CLI_WORDS: [(&str, &str); 13] = [
    ("the Woodpecker URL ", "--url "),
    (
        "put the token in the token field",
        "set WOODPECKER_TOKEN instead",
    ),
    (
        "the API token contains characters",
        "WOODPECKER_TOKEN contains characters",
    ),
    (
        "check the URL and that the server is reachable from Grafana",
        "check --url and that the server is reachable from this machine",
    ),
    (", or raise the timeout", "; try again later"),
    (
        "Woodpecker rejected the API token on",
        "Woodpecker refused the token in WOODPECKER_TOKEN on",
    ),
    (
        "and save it in the data source",
        "and export it as WOODPECKER_TOKEN",
    ),
    (
        "add a personal access token to the data source",
        "set WOODPECKER_TOKEN to a personal access token (Woodpecker: user settings → CLI & API)",
    ),
    (" or lower the concurrency", ""),
    ("check that the URL points at", "check that --url points at"),
    (
        "check the URL and the token's permissions",
        "check --url and the permissions of the token in WOODPECKER_TOKEN",
    ),
    (
        "the workflow tree that deploySteps needs",
        "the workflow tree that --deploy-step needs",
    ),
    (
        "which deploySteps needs",
        "which --deploy-step needs (export with --workflows to include them)",
    ),
];

pub(crate) fn for_cli(message: &str) -> String {
    CLI_WORDS
        .iter()
        .fold(message.to_string(), |m, (from, to)| m.replace(from, to))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::woodpecker::{ClientConfig, Error, WoodpeckerClient};
    use std::time::Duration;

    /// Every error a report against a server can end with, reworded, says
    /// nothing about Grafana or the data source's settings.
    #[test]
    fn server_errors_speak_cli() {
        let endpoint = || "GET /api/user".to_string();
        let with_password =
            WoodpeckerClient::new(ClientConfig::new("https://u:p@ci.example/", None)).unwrap_err();
        let errors = [
            with_password,
            Error::InvalidToken,
            Error::Unreachable {
                host: "ci.example:443".into(),
                detail: "connection refused".into(),
            },
            Error::Tls {
                host: "ci.example:443".into(),
                detail: "bad certificate".into(),
            },
            Error::Timeout {
                endpoint: endpoint(),
                after: Duration::from_secs(30),
            },
            Error::Unauthorized {
                endpoint: endpoint(),
                token_configured: true,
            },
            Error::Unauthorized {
                endpoint: endpoint(),
                token_configured: false,
            },
            Error::Forbidden {
                endpoint: endpoint(),
            },
            Error::RepoNotFound {
                repo: "acme/api".into(),
            },
            Error::NotFound {
                endpoint: endpoint(),
            },
            Error::RateLimited {
                endpoint: endpoint(),
                attempts: 3,
            },
            Error::Server {
                status: 502,
                endpoint: endpoint(),
                attempts: 3,
            },
            Error::Rejected {
                status: 400,
                endpoint: endpoint(),
                found: "plain text",
            },
            Error::NotWoodpecker {
                endpoint: endpoint(),
                found: "an HTML page".into(),
            },
            Error::Malformed {
                endpoint: endpoint(),
                detail: "it ends early".into(),
            },
            Error::Paging {
                repo: "acme/api".into(),
                detail: "page 2 repeats page 1".into(),
            },
            Error::Interrupted {
                endpoint: endpoint(),
                detail: "reset".into(),
            },
        ];
        for e in errors {
            let m = for_cli(&e.to_string());
            for plugin_word in [
                "Grafana",
                "data source",
                "token field",
                "the URL",
                "the API token",
                "raise the timeout",
                "concurrency",
            ] {
                assert!(!m.contains(plugin_word), "{plugin_word:?} in {m}");
            }
        }
    }

    #[test]
    fn token_errors_name_the_variable() {
        let refused = Error::Unauthorized {
            endpoint: "GET /api/user".into(),
            token_configured: true,
        };
        assert!(for_cli(&refused.to_string()).contains("refused the token in WOODPECKER_TOKEN"));
        let missing = Error::Unauthorized {
            endpoint: "GET /api/user".into(),
            token_configured: false,
        };
        assert!(for_cli(&missing.to_string()).contains("set WOODPECKER_TOKEN"));
    }
}
