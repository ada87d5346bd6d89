//! The command line, parsed by clap. Recovery options are only collected
//! here: they become the JSON a Grafana query carries and are validated by
//! the plugin's own query parsing, so the CLI and the plugin cannot drift.

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::{Map, Value};

use super::{Failure, Source};
use crate::domain::{DeployFilter, RecoverySettings};
use crate::input::json_fields::JsonObject;
use crate::input::options::RecoveryOptions;

const AFTER_HELP: &str = "\
Started with no arguments (as Grafana does) it runs as the Grafana plugin.

The token for --url is read from the WOODPECKER_TOKEN environment variable, never from a
flag (a flag shows in the process list and the shell history).

Exit codes: 0 done, 1 the report could not be made (server, token, file), 2 a usage error.";

#[derive(Parser, Debug)]
#[command(
    name = "gpx_woodpecker_dora",
    version,
    about = "DORA metrics (deploy frequency, lead time, change failure rate, recovery time) from Woodpecker CI",
    after_help = AFTER_HELP
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per run: the size of a variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// The DORA summary and the incidents, from a server, an export or the demo history
    #[command(after_help = AFTER_HELP)]
    Report(ReportArgs),
    /// Write a server's finished pipelines as the JSON lines that `report --input` reads
    #[command(after_help = AFTER_HELP)]
    Export(ExportArgs),
}

#[derive(Args, Debug)]
pub(crate) struct ReportArgs {
    #[command(flatten)]
    pub source: ReportSource,
    #[arg(long = "repo", value_name = "OWNER/NAME", value_parser = repo_name)]
    /// A repository to report on (repeatable; default: every one the token sees)
    pub repos: Vec<String>,
    #[command(flatten)]
    pub options: QueryOptions,
    /// Report on this much history, e.g. 30d, 12w
    #[arg(long, value_name = "DURATION", default_value = "90d", value_parser = duration, help_heading = "Range and output")]
    pub since: i64,
    /// Pin the clock (RFC 3339 or Unix seconds) for reproducible output
    #[arg(long, value_name = "TIME", value_parser = parse_now, help_heading = "Range and output")]
    pub now: Option<i64>,
    /// How to print the report
    #[arg(long, value_enum, default_value_t = Format::Table, help_heading = "Range and output")]
    pub format: Format,
    #[command(flatten)]
    pub token: TokenGuard,
}

#[derive(Args, Debug)]
#[group(required = true, multiple = false)]
pub(crate) struct ReportSource {
    /// The built-in demo history (no server needed)
    #[arg(long, help_heading = "Source (exactly one)")]
    pub demo: bool,
    /// A Woodpecker server (token: WOODPECKER_TOKEN)
    #[arg(long, value_name = "URL", value_parser = non_empty, help_heading = "Source (exactly one)")]
    pub url: Option<String>,
    /// JSON lines as `export` writes them (`-`: standard input); 3.x or 2.x field names plus `repo`
    #[arg(long, value_name = "FILE", help_heading = "Source (exactly one)")]
    pub input: Option<String>,
}

impl ReportSource {
    pub(crate) fn source(&self) -> Source {
        match (&self.url, &self.input) {
            (Some(url), _) => Source::Url(url.clone()),
            (_, Some(path)) => Source::Input(path.clone()),
            _ => Source::Demo,
        }
    }
}

#[derive(Args, Debug)]
pub(crate) struct ExportArgs {
    #[command(flatten)]
    pub source: ExportSource,
    /// A repository to export (repeatable; default: every one the token sees)
    #[arg(long = "repo", value_name = "OWNER/NAME", value_parser = repo_name)]
    pub repos: Vec<String>,
    /// Export the pipelines created in this much history; export more than you report on, since a
    /// report looks back before its range for each environment's last successful deploy
    #[arg(long, value_name = "DURATION", default_value = "365d", value_parser = duration)]
    pub since: i64,
    /// Also read each pipeline's workflow tree (one more request per pipeline), which
    /// `report --deploy-step` needs
    #[arg(long)]
    pub workflows: bool,
    /// Pin the clock (RFC 3339 or Unix seconds): the demo history's end, and what has finished
    #[arg(long, value_name = "TIME", value_parser = parse_now)]
    pub now: Option<i64>,
    /// Where to write (`-`: standard output)
    #[arg(long, short, value_name = "FILE", default_value = "-")]
    pub output: String,
    #[command(flatten)]
    pub token: TokenGuard,
}

#[derive(Args, Debug)]
#[group(required = true, multiple = false)]
pub(crate) struct ExportSource {
    /// The built-in demo history, to see the format without a server
    #[arg(long, help_heading = "Source (exactly one)")]
    pub demo: bool,
    /// A Woodpecker server (token: WOODPECKER_TOKEN)
    #[arg(long, value_name = "URL", value_parser = non_empty, help_heading = "Source (exactly one)")]
    pub url: Option<String>,
}

impl ExportSource {
    pub(crate) fn source(&self) -> Source {
        match &self.url {
            Some(url) => Source::Url(url.clone()),
            None => Source::Demo,
        }
    }
}

/// A `--token` flag is refused after parsing, not by a value parser: that
/// one's error would echo the token.
#[derive(Args, Debug)]
pub(crate) struct TokenGuard {
    #[arg(long, hide = true, value_name = "TOKEN")]
    token: Option<String>,
}

impl TokenGuard {
    pub(crate) fn check(&self) -> Result<(), Failure> {
        match self.token {
            None => Ok(()),
            Some(_) => Err(Failure::Usage(
                "the token is never a flag (it would show in the process list and shell history); set WOODPECKER_TOKEN".into(),
            )),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    Table,
    Json,
    Csv,
}

/// The options a Grafana query also carries. Values stay text: the query
/// parsing judges them, as it judges a query's template-interpolated text.
#[derive(Args, Debug)]
#[command(next_help_heading = "Deploys and incidents")]
pub(crate) struct QueryOptions {
    /// Only this deploy environment: `deploy_to`, else the branch (repeatable)
    #[arg(long = "env", value_name = "NAME")]
    environments: Vec<String>,
    /// Only deploys from this branch (repeatable)
    #[arg(long = "branch", value_name = "NAME")]
    branches: Vec<String>,
    /// An event whose pipelines are deploys (repeatable; default: deployment)
    #[arg(long = "event", value_name = "NAME")]
    events: Vec<String>,
    /// An event whose pipelines are changes, for lead time (repeatable; default: push)
    #[arg(long = "change-event", value_name = "NAME")]
    change_events: Vec<String>,
    /// Workflow or step names that are the deploy (repeatable, `*` and `?`; default: the pipeline)
    #[arg(long = "deploy-step", value_name = "GLOB")]
    deploy_steps: Vec<String>,
    /// A status that means a failed deploy (repeatable; default: failure, error)
    #[arg(long = "failure-status", value_name = "NAME")]
    failure_statuses: Vec<String>,
    /// A recovery must land within N days [default: 7]
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    window_days: Option<String>,
    /// Recoveries faster than N minutes are flaky [default: 5]
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    flaky_minutes: Option<String>,
    /// Fewest incidents for a statistic [default: 5]
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    min_sample: Option<String>,
    /// Open incidents in the statistics: exclude or censor [default: exclude]
    #[arg(long, value_name = "MODE")]
    open_incidents: Option<String>,
}

impl QueryOptions {
    /// Each option's flag, query field and value: one table builds the
    /// query and names the flag in its errors.
    fn fields(&self) -> [(&'static str, &'static str, Option<Value>); 10] {
        let list = |v: &Vec<String>| (!v.is_empty()).then(|| Value::from(v.clone()));
        let one = |v: &Option<String>| v.clone().map(Value::String);
        [
            ("--env", "environments", list(&self.environments)),
            ("--branch", "branches", list(&self.branches)),
            ("--event", "events", list(&self.events)),
            ("--change-event", "changeEvents", list(&self.change_events)),
            ("--deploy-step", "deploySteps", list(&self.deploy_steps)),
            (
                "--failure-status",
                "failureStatuses",
                list(&self.failure_statuses),
            ),
            ("--window-days", "windowDays", one(&self.window_days)),
            ("--flaky-minutes", "flakyMinutes", one(&self.flaky_minutes)),
            ("--min-sample", "minSample", one(&self.min_sample)),
            (
                "--open-incidents",
                "openIncidents",
                one(&self.open_incidents),
            ),
        ]
    }

    /// The options as a Grafana query's JSON.
    fn query(&self) -> Value {
        let fields = self.fields().into_iter();
        Value::Object(
            fields
                .filter_map(|(_, field, v)| Some((field.to_string(), v?)))
                .collect::<Map<_, _>>(),
        )
    }

    /// Validated by the plugin's query parsing; an error names the flag.
    pub(crate) fn resolve(&self) -> Result<(DeployFilter, RecoverySettings), Failure> {
        let query = self.query();
        let object = JsonObject::new(&query, "options").expect("an object");
        let options = RecoveryOptions::read(&object).map_err(|e| {
            let fields = self.fields();
            let flag = fields
                .iter()
                .find(|(_, field, _)| *field == e.field)
                .map_or(e.field.as_str(), |(flag, _, _)| flag);
            Failure::Usage(format!("{flag} {}", e.message))
        })?;
        Ok(options.resolve())
    }
}

fn repo_name(s: &str) -> Result<String, String> {
    crate::domain::check_repo_name(s).map_err(|e| e.to_string())?;
    Ok(s.to_string())
}

fn non_empty(s: &str) -> Result<String, String> {
    match s.trim() {
        "" => Err("is empty; give the server's address, e.g. https://ci.example.com".into()),
        s => Ok(s.to_string()),
    }
}

fn duration(s: &str) -> Result<i64, String> {
    crate::input::duration::parse_duration(s).map_err(|e| e.to_string())
}

fn parse_now(s: &str) -> Result<i64, String> {
    if let Ok(secs) = s.parse::<i64>() {
        return Ok(secs);
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.timestamp())
        .map_err(|_| "is neither RFC 3339 (2026-01-31T12:00:00Z) nor Unix seconds".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use serde_json::json;

    fn parse(line: &str) -> Result<Command, clap::Error> {
        Cli::try_parse_from(line.split_whitespace()).map(|c| c.command)
    }

    fn report(line: &str) -> ReportArgs {
        match parse(&format!("gpx_woodpecker_dora report {line}")).unwrap() {
            Command::Report(r) => r,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn options_become_the_query_json() {
        let r = report(
            "--demo --env production --env staging --deploy-step deploy-* --change-event tag --window-days 3 --format csv",
        );
        assert_eq!(r.source.source(), Source::Demo);
        assert_eq!(r.format, Format::Csv);
        assert_eq!(
            r.options.query(),
            json!({"environments": ["production", "staging"], "deploySteps": ["deploy-*"], "changeEvents": ["tag"], "windowDays": "3"})
        );
        assert_eq!(r.since, 90 * 86_400);
        let (filter, settings) = r.options.resolve().unwrap();
        assert_eq!(filter.change_events, [crate::domain::Event::Tag]);
        assert_eq!(settings.window_secs, 3 * 86_400);
    }

    #[test]
    fn query_errors_name_the_flag() {
        for (line, start) in [
            ("--demo --open-incidents foo", "--open-incidents must be"),
            ("--demo --window-days 0", "--window-days must be between"),
            ("--demo --min-sample -2", "--min-sample must be between"),
            ("--demo --event deploy", "--event has an unknown event"),
            (
                "--demo --change-event nope",
                "--change-event has an unknown",
            ),
            ("--demo --failure-status success", "--failure-status has"),
        ] {
            match report(line).options.resolve() {
                Err(Failure::Usage(m)) => assert!(m.starts_with(start), "{line}: {m}"),
                other => panic!("{line}: {other:?}"),
            }
        }
    }

    #[test]
    fn the_flag_table_names_real_flags() {
        let cmd = Cli::command();
        let report = cmd.find_subcommand("report").unwrap();
        for (flag, _, _) in self::report("--demo").options.fields() {
            let long = flag.trim_start_matches("--");
            assert!(
                report.get_arguments().any(|a| a.get_long() == Some(long)),
                "{flag}"
            );
        }
    }

    #[test]
    fn clap_refuses_bad_usage() {
        for line in [
            "report",
            "report --demo --url http://x",
            "report --demo --repo",
            "report --demo --repo ../x",
            "report --demo --format xml",
            "report --demo --since soon",
            "report --demo --now yesterday",
            "report --url=",
            "report --input x --demo",
            "export --input x",
            "serve",
        ] {
            let e = parse(&format!("gpx_woodpecker_dora {line}")).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{line}: {e}");
        }
    }

    #[test]
    fn a_token_flag_is_refused_without_echoing_it() {
        let r = report("--demo --token s3cret");
        match r.token.check() {
            Err(Failure::Usage(m)) => {
                assert!(m.contains("WOODPECKER_TOKEN") && !m.contains("s3cret"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn clock_and_durations() {
        assert_eq!(parse_now("1700000000"), Ok(1_700_000_000));
        assert_eq!(parse_now("2023-11-14T22:13:20Z"), Ok(1_700_000_000));
        assert!(parse_now("yesterday").is_err());
        assert_eq!(report("--demo --since 2w").since, 14 * 86_400);
        assert_eq!(report("--demo --now 5").now, Some(5));
    }

    #[test]
    fn command_is_well_formed() {
        Cli::command().debug_assert();
    }
}
