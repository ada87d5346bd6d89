//! Command-line arguments of the `report` tool, parsed by hand to keep the
//! binary small. Recovery options become the same JSON a Grafana query
//! carries, so the CLI and the plugin validate them with one code path.

use serde_json::{Map, Value};

pub const USAGE: &str = "\
woodpecker-dora: DORA recovery metrics (MTTR) from Woodpecker CI

Started with no arguments (as Grafana does) it runs as the Grafana plugin.

USAGE:
    gpx_woodpecker_dora report --demo [OPTIONS]
    gpx_woodpecker_dora report --url URL [--repo OWNER/NAME ...] [OPTIONS]
    gpx_woodpecker_dora report --input FILE.jsonl [OPTIONS]

SOURCES (exactly one):
    --demo                 the built-in demo history (no server needed)
    --url URL              a Woodpecker server; the token is read from the
                           WOODPECKER_TOKEN environment variable (never a flag)
    --input FILE           JSON lines: one Woodpecker pipeline object per line
                           (3.x or 2.x field names) plus a \"repo\" field

OPTIONS:
    --repo OWNER/NAME      a repository to report on (repeatable; default: all)
    --env NAME             only this deploy environment (repeatable)
    --branch NAME          only deploys from this branch (repeatable)
    --event NAME           deploy events (repeatable; default: deployment)
    --deploy-step GLOB     workflow or step names that are the deploy
                           (repeatable, `*` and `?`; default: the pipeline)
    --failure-status NAME  statuses that mean a failed deploy
                           (repeatable; default: failure, error)
    --since DURATION       report on this much history, e.g. 30d, 12w (default 90d)
    --window-days N        a recovery must land within N days (default 7)
    --flaky-minutes N      recoveries faster than this are flaky (default 5)
    --min-sample N         fewest incidents for a statistic (default 5)
    --open-incidents MODE  exclude (default) or censor
    --now TIME             pin the clock (RFC 3339 or Unix seconds) for
                           reproducible output
    --format FORMAT        table (default), json or csv
    -h, --help             this help
";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceArg {
    Demo,
    Url(String),
    Input(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Csv,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ReportArgs {
    pub source: SourceArg,
    pub repos: Vec<String>,
    /// Recovery options as query JSON (see module docs).
    pub options: Value,
    pub since: String,
    pub now: Option<String>,
    pub format: Format,
}

#[derive(Debug, PartialEq)]
pub enum Command {
    Help,
    Report(ReportArgs),
}

/// Parses `args` (without the program name).
pub fn parse(args: &[String]) -> Result<Command, String> {
    let mut it = args.iter();
    match it.next().map(String::as_str) {
        None | Some("-h" | "--help" | "help") => return Ok(Command::Help),
        Some("report") => {}
        Some(other) => return Err(format!("unknown command {other:?}; try --help")),
    }
    let mut sources = Vec::new();
    let mut repos = Vec::new();
    let mut options = Map::new();
    let mut since = "90d".to_string();
    let mut now = None;
    let mut format = Format::Table;
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value; try --help"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--demo" => sources.push(SourceArg::Demo),
            "--url" => sources.push(SourceArg::Url(value()?)),
            "--input" => sources.push(SourceArg::Input(value()?)),
            "--repo" => {
                let name = value()?;
                crate::domain::check_repo_name(&name).map_err(|e| format!("--repo {e}"))?;
                repos.push(name)
            }
            "--env" => push(&mut options, "environments", value()?),
            "--branch" => push(&mut options, "branches", value()?),
            "--event" => push(&mut options, "events", value()?),
            "--deploy-step" => push(&mut options, "deploySteps", value()?),
            "--failure-status" => push(&mut options, "failureStatuses", value()?),
            "--window-days" => set(&mut options, "windowDays", value()?),
            "--flaky-minutes" => set(&mut options, "flakyMinutes", value()?),
            "--min-sample" => set(&mut options, "minSample", value()?),
            "--open-incidents" => set(&mut options, "openIncidents", value()?),
            "--since" => since = value()?,
            "--now" => now = Some(value()?),
            "--format" => {
                format = match value()?.as_str() {
                    "table" => Format::Table,
                    "json" => Format::Json,
                    "csv" => Format::Csv,
                    other => {
                        return Err(format!(
                            "--format must be table, json or csv, got {other:?}"
                        ))
                    }
                }
            }
            "--token" => {
                return Err(
                    "the token is never a flag (it would show in the process list and shell history); set WOODPECKER_TOKEN".into(),
                )
            }
            other => return Err(format!("unknown option {other:?}; try --help")),
        }
    }
    let source = match sources.as_slice() {
        [one] => one.clone(),
        [] => return Err("choose a source: --demo, --url URL or --input FILE".into()),
        _ => return Err("choose only one of --demo, --url and --input".into()),
    };
    Ok(Command::Report(ReportArgs {
        source,
        repos,
        options: Value::Object(options),
        since,
        now,
        format,
    }))
}

fn push(options: &mut Map<String, Value>, key: &str, value: String) {
    let list = options
        .entry(key)
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(items) = list {
        items.push(Value::String(value));
    }
}

fn set(options: &mut Map<String, Value>, key: &str, value: String) {
    options.insert(key.to_string(), Value::String(value));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn demo_report_with_options() {
        let Command::Report(r) = parse(&args(
            "report --demo --env production --env staging --deploy-step deploy-* --window-days 3 --format csv",
        ))
        .unwrap() else {
            panic!()
        };
        assert_eq!(r.source, SourceArg::Demo);
        assert_eq!(r.format, Format::Csv);
        assert_eq!(
            r.options,
            json!({"environments": ["production", "staging"], "deploySteps": ["deploy-*"], "windowDays": "3"})
        );
        assert_eq!(r.since, "90d");
    }

    #[test]
    fn no_arguments_or_help_prints_usage() {
        assert_eq!(parse(&[]).unwrap(), Command::Help);
        assert_eq!(parse(&args("report --demo --help")).unwrap(), Command::Help);
    }

    #[test]
    fn mistakes_are_explained() {
        assert!(parse(&args("report"))
            .unwrap_err()
            .contains("choose a source"));
        assert!(parse(&args("report --demo --url x"))
            .unwrap_err()
            .contains("only one"));
        assert!(parse(&args("report --demo --repo"))
            .unwrap_err()
            .contains("--repo needs a value"));
        assert!(parse(&args("report --demo --token abc"))
            .unwrap_err()
            .contains("WOODPECKER_TOKEN"));
        assert!(parse(&args("report --demo --format xml"))
            .unwrap_err()
            .contains("--format"));
        assert!(parse(&args("serve"))
            .unwrap_err()
            .contains("unknown command"));
    }
}
