//! `report`: the summary and the incidents table in a terminal, as JSON or
//! as CSV, from the demo history, a JSON-lines export or a live server.

use std::io::Write;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{json, Value};

use super::args::{Format, ReportArgs, SourceArg};
use crate::analysis::{
    self, incident_columns, Answered, Ask, Column, IncidentRow, Scope, Values, SUMMARY_COLUMNS,
};
use crate::domain::{words, GroupBy, Summary, TimeRange};
use crate::input::duration::parse_duration;
use crate::input::json_fields::JsonObject;
use crate::input::options::RecoveryOptions;
use crate::source::woodpecker::Connection;
use crate::source::Origin;
use crate::woodpecker::{Deadline, Token};

/// Runs the report; `Err` is a message for stderr.
pub async fn run(args: ReportArgs, out: &mut dyn Write) -> Result<(), String> {
    let now = match &args.now {
        None => Utc::now().timestamp(),
        Some(s) => parse_now(s)?,
    };
    let since = parse_duration(&args.since).map_err(|e| format!("--since {e}"))?;
    let options =
        RecoveryOptions::read(&JsonObject::new(&args.options, "options").map_err(flag_error)?)
            .map_err(flag_error)?;
    let (filter, settings) = options.resolve();
    let origin = match &args.source {
        SourceArg::Demo => Origin::Demo,
        SourceArg::Input(path) => Origin::File(path.clone()),
        SourceArg::Url(url) => Origin::Server(Connection::new(
            url.clone(),
            std::env::var("WOODPECKER_TOKEN").ok().map(Token::new),
        )),
    };
    let source = crate::source::open(origin, now).map_err(|e| e.message)?;
    let range = TimeRange {
        from: now - since,
        to: now,
    };
    let scope = Scope {
        repos: args.repos.clone(),
        filter,
        settings,
        range,
        now,
        deadline: Deadline::NONE,
    };
    progress(&format!(
        "reading {} …",
        if scope.repos.is_empty() {
            "every repository".to_string()
        } else {
            format!("{} repositories", scope.repos.len())
        }
    ));
    let asks = [
        Ask::Summary {
            group_by: GroupBy::default(),
        },
        Ask::Incidents {
            include_superseded: false,
        },
    ];
    let answer = analysis::answer(source.as_ref(), &scope, &asks)
        .await
        .map_err(|e| e.message)?;
    progress(&format!("read {} repositories", answer.repos_read));
    let report = match answer.answers.as_slice() {
        [Answered::Summary(groups), Answered::Incidents(incidents)] => Report {
            summary: &groups[0].1,
            incidents,
            notices: answer.notices.iter().map(|n| n.text()).collect(),
            range,
        },
        _ => unreachable!("one answer per ask, in order"),
    };
    let written = match args.format {
        Format::Table => write_table(out, &report),
        Format::Json => write_json(out, &report),
        Format::Csv => write_csv(out, &report),
    };
    match written {
        // The reader (`| head`) has what it wanted: not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(|e| format!("cannot write the report: {e}")),
    }
}

/// A progress line on stderr; a closed stderr is no reason to fail.
fn progress(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Maps a query-model field name back to the flag that set it.
fn flag_error(e: crate::input::json_fields::FieldError) -> String {
    let flag = match e.field.as_str() {
        "environments" => "--env",
        "branches" => "--branch",
        "events" => "--event",
        "failureStatuses" => "--failure-status",
        "windowDays" => "--window-days",
        "flakyMinutes" => "--flaky-minutes",
        "minSample" => "--min-sample",
        "openIncidents" => "--open-incidents",
        other => other,
    };
    format!("{flag} {}", e.message)
}

fn parse_now(s: &str) -> Result<i64, String> {
    if let Ok(secs) = s.parse::<i64>() {
        return Ok(secs);
    }
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.timestamp())
        .map_err(|_| {
            format!("--now {s:?} is neither RFC 3339 (2026-01-31T12:00:00Z) nor Unix seconds")
        })
}

fn time(t: i64) -> String {
    Utc.timestamp_opt(t, 0)
        .single()
        .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

fn opt_duration(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_string(), words::duration)
}

/// What the report shows, whatever the format.
struct Report<'a> {
    summary: &'a Summary,
    incidents: &'a [IncidentRow],
    notices: Vec<&'a str>,
    range: TimeRange,
}

fn write_table(out: &mut dyn Write, r: &Report) -> std::io::Result<()> {
    let s = r.summary;
    writeln!(
        out,
        "DORA metrics, {} to {} UTC",
        time(r.range.from),
        time(r.range.to)
    )?;
    let lines = [
        ("incidents counted", s.incidents.to_string()),
        ("P50 recovery", opt_duration(s.p50)),
        ("P90 recovery", opt_duration(s.p90)),
        ("mean recovery", opt_duration(s.mean)),
        (
            "open / superseded / flaky",
            format!("{} / {} / {}", s.open, s.superseded, s.flaky),
        ),
        (
            "deploys / failed",
            format!("{} / {}", s.deploys, s.failed_deploys),
        ),
        (
            "change failure rate",
            s.change_failure_rate
                .map_or("–".into(), |r| format!("{:.1}%", r * 100.0)),
        ),
        (
            "deploy frequency",
            format!("{:.2} per day", s.deploys_per_day),
        ),
        (
            "recovery band",
            s.band.map_or("–", |b| b.as_str()).to_string(),
        ),
        (
            "deploy frequency band",
            s.deploy_frequency_band
                .map_or("–", |b| b.as_str())
                .to_string(),
        ),
        (
            "change failure band",
            s.change_failure_band
                .map_or("–", |b| b.as_str())
                .to_string(),
        ),
        (
            "rework deploys",
            match s.rework_rate {
                Some(r) => format!("{} ({:.1}%)", s.rework_deploys, r * 100.0),
                None => "–".into(),
            },
        ),
        (
            "oldest open incident",
            s.oldest_open_secs
                .map_or("–".into(), |a| words::duration(a as f64)),
        ),
        ("changes delivered", s.changes.to_string()),
        ("P50 lead time", opt_duration(s.lead_time_p50)),
        ("P90 lead time", opt_duration(s.lead_time_p90)),
        (
            "lead time band",
            s.lead_time_band.map_or("–", |b| b.as_str()).to_string(),
        ),
        (
            "changes waiting (oldest)",
            match s.oldest_waiting_secs {
                Some(a) => format!("{} ({})", s.waiting_changes, words::duration(a as f64)),
                None => s.waiting_changes.to_string(),
            },
        ),
    ];
    for (k, v) in lines {
        writeln!(out, "  {k:<27} {v}")?;
    }
    for n in &r.notices {
        writeln!(out, "  note: {n}")?;
    }
    let rows = r.incidents;
    writeln!(out, "\nIncidents ({})", rows.len())?;
    let header = [
        "REPO",
        "ENVIRONMENT",
        "STATUS",
        "FAILED AT",
        "RECOVERED AT",
        "RECOVERY",
        "FLAKY",
        "CHAIN",
        "PIPELINE",
    ];
    let cells: Vec<[String; 9]> = rows
        .iter()
        .map(|r| {
            [
                r.repo.clone(),
                r.environment.clone(),
                r.status.as_str().to_string(),
                time(r.failed_at),
                r.recovered_at.map(time).unwrap_or_default(),
                r.recovery_secs
                    .map(|s| words::duration(s as f64))
                    .unwrap_or_default(),
                if r.flaky { "yes".into() } else { String::new() },
                r.chain_failures.map(|c| c.to_string()).unwrap_or_default(),
                format!("#{}", r.pipeline),
            ]
        })
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            cells
                .iter()
                .map(|r| r[c].chars().count())
                .chain([header[c].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cols: Vec<&str>| {
        cols.iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    writeln!(out, "{}", line(header.to_vec()))?;
    for r in &cells {
        writeln!(out, "{}", line(r.iter().map(String::as_str).collect()))?;
    }
    Ok(())
}

/// One cell as JSON: times as Unix seconds, missing values as null.
fn json_cell(v: &Values, i: usize) -> Value {
    match v {
        Values::Time(v) | Values::I64(v) => json!(v[i]),
        Values::OptTime(v) | Values::OptI64(v) => json!(v[i]),
        Values::Str(v) => json!(v[i]),
        Values::OptStr(v) => json!(v[i]),
        Values::F64(v) => json!(v[i]),
        Values::OptF64(v) => json!(v[i]),
        Values::Bool(v) => json!(v[i]),
    }
}

/// One cell as CSV: times as RFC 3339, missing values empty.
fn csv_cell(v: &Values, i: usize) -> String {
    let iso = |t: i64| {
        Utc.timestamp_opt(t, 0)
            .single()
            .map(|d| d.to_rfc3339())
            .unwrap_or_default()
    };
    let opt = |o: Option<String>| o.unwrap_or_default();
    match v {
        Values::Time(v) => iso(v[i]),
        Values::OptTime(v) => opt(v[i].map(iso)),
        Values::I64(v) => v[i].to_string(),
        Values::OptI64(v) => opt(v[i].map(|n| n.to_string())),
        Values::Str(v) => csv(&v[i]),
        Values::OptStr(v) => opt(v[i].as_deref().map(csv)),
        Values::F64(v) => v[i].to_string(),
        Values::OptF64(v) => opt(v[i].map(|n| n.to_string())),
        Values::Bool(v) => v[i].to_string(),
    }
}

/// A table as its columns' names and values.
fn table<R>(
    rows: &[R],
    columns: impl IntoIterator<Item = &'static Column<R>>,
) -> Vec<(&'static str, Values)>
where
    R: 'static,
{
    columns
        .into_iter()
        .map(|c| (c.name, (c.values)(rows)))
        .collect()
}

fn summary_table(s: &Summary) -> Vec<(&'static str, Values)> {
    table(std::slice::from_ref(s), SUMMARY_COLUMNS)
}

fn incident_table(rows: &[IncidentRow]) -> Vec<(&'static str, Values)> {
    table(rows, incident_columns(false))
}

fn write_json(out: &mut dyn Write, report: &Report) -> std::io::Result<()> {
    let object = |table: &[(&str, Values)], i: usize| -> Value {
        Value::Object(
            table
                .iter()
                .map(|(name, v)| (name.to_string(), json_cell(v, i)))
                .collect(),
        )
    };
    let incidents = incident_table(report.incidents);
    let doc = json!({
        "range": {"from": report.range.from, "to": report.range.to},
        "summary": object(&summary_table(report.summary), 0),
        "notices": report.notices,
        "incidents": (0..report.incidents.len()).map(|i| object(&incidents, i)).collect::<Vec<_>>(),
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

fn write_csv(out: &mut dyn Write, report: &Report) -> std::io::Result<()> {
    // Two tables separated by a blank line: the summary as name,value rows,
    // then the incidents.
    writeln!(out, "statistic,value")?;
    for (name, v) in summary_table(report.summary) {
        writeln!(out, "{name},{}", csv_cell(&v, 0))?;
    }
    writeln!(out)?;
    let incidents = incident_table(report.incidents);
    let names: Vec<&str> = incidents.iter().map(|(n, _)| *n).collect();
    writeln!(out, "{}", names.join(","))?;
    for i in 0..report.incidents.len() {
        let cells: Vec<String> = incidents.iter().map(|(_, v)| csv_cell(v, i)).collect();
        writeln!(out, "{}", cells.join(","))?;
    }
    Ok(())
}

fn csv(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_accepts_rfc3339_and_unix_seconds() {
        assert_eq!(parse_now("1700000000"), Ok(1_700_000_000));
        assert_eq!(parse_now("2023-11-14T22:13:20Z"), Ok(1_700_000_000));
        assert!(parse_now("yesterday").unwrap_err().contains("--now"));
    }
}
