//! `report`: the summary and the incidents table in a terminal, as JSON or
//! as CSV, from the demo history, a JSON-lines export or a live server.

use std::io::Write;

use chrono::{TimeZone, Utc};
use serde::{Serialize, Serializer};
use serde_json::{json, Value};

use super::args::{Format, ReportArgs};
use super::{for_cli, Failure};
use crate::analysis::{
    self, incident_columns, Answered, Ask, Column, IncidentRow, Scope, Seen, Values,
    SUMMARY_COLUMNS,
};
use crate::domain::{words, GroupBy, Summary, TimeRange};
use crate::woodpecker::Deadline;

pub(crate) async fn run(args: ReportArgs, out: &mut dyn Write) -> Result<(), Failure> {
    args.token.check()?;
    let (filter, settings) = args.options.resolve()?;
    let now = args.now.unwrap_or_else(|| Utc::now().timestamp());
    // Only the deploys that deploy steps judge need their workflow tree.
    let keep_tree = |p: &crate::domain::Pipeline| filter.needs_tree(p);
    let source = super::open(&args.source.source(), now, &keep_tree)?;
    let range = TimeRange {
        from: now - args.since,
        to: now,
    };
    let scope = Scope {
        repos: args.repos,
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
        .map_err(|e| Failure::Runtime(e.message))?;
    // The process ends after the report: freeing a big history pipeline by
    // pipeline (a tenth of `report --input` over 1M) would buy nothing.
    std::mem::forget(source);
    progress(&format!("read {} repositories", answer.repos_read));
    let report = match answer.answers.as_slice() {
        [Answered::Summary(groups), Answered::Incidents(incidents)] => Report {
            summary: &groups[0].1,
            incidents,
            notices: answer.notices.iter().map(|n| for_cli(n.text())).collect(),
            range,
        },
        _ => unreachable!("one answer per ask, in order"),
    };
    // Buffered: standard output is line-buffered, and a big report's
    // thousands of lines each cost a write.
    let mut out = std::io::BufWriter::new(out);
    let written = match args.format {
        Format::Table => write_table(&mut out, &report),
        Format::Json => write_json(&mut out, &report),
        Format::Csv => write_csv(&mut out, &report),
    }
    .and_then(|()| out.flush());
    match written {
        // The reader (`| head`) has what it wanted: not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
        other => other.map_err(|e| Failure::Runtime(format!("cannot write the report: {e}")))?,
    }
    if let Some(seen) = &answer.seen {
        progress(&nothing_matched(seen));
    }
    Ok(())
}

/// A progress line on stderr; a closed stderr is no reason to fail.
fn progress(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Why every number is zero, and what the filters could say instead.
fn nothing_matched(seen: &Seen) -> String {
    if seen.pipelines == 0 {
        return "no deploys: no pipeline of the history read finished in this range; try a longer --since (or a later --now)".into();
    }
    let list = |items: &[String]| {
        const SHOWN: usize = 12;
        let mut text = items[..items.len().min(SHOWN)].join(", ");
        if items.len() > SHOWN {
            text.push_str(&format!(" and {} more", items.len() - SHOWN));
        }
        if text.is_empty() {
            text.push('–');
        }
        text
    };
    format!(
        "no deploys match the filters in this range. The {} pipelines that finished in it have\n  \
         events:       {}  (--event; default deployment)\n  \
         environments: {}  (--env)\n  \
         branches:     {}  (--branch)",
        seen.pipelines,
        list(&seen.events),
        list(&seen.environments),
        list(&seen.branches),
    )
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
    notices: Vec<String>,
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
    // Fields in name order, as the report has always written them.
    #[derive(Serialize)]
    struct Doc<'a> {
        incidents: Rows<'a>,
        notices: &'a [String],
        range: Range,
        summary: Row<'a>,
    }
    #[derive(Serialize)]
    struct Range {
        from: i64,
        to: i64,
    }
    let (incidents, summary) = (
        by_name(incident_table(report.incidents)),
        by_name(summary_table(report.summary)),
    );
    let doc = Doc {
        incidents: Rows(&incidents, report.incidents.len()),
        notices: &report.notices,
        range: Range {
            from: report.range.from,
            to: report.range.to,
        },
        summary: Row(&summary, 0),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// A table's columns sorted by name: a row's keys are written in order.
fn by_name(mut table: Vec<(&'static str, Values)>) -> Vec<(&'static str, Values)> {
    table.sort_unstable_by_key(|(name, _)| *name);
    table
}

/// Row `.1` of a table as a JSON object, written as it is serialised
/// rather than built first (a report may hold thousands of incidents).
struct Row<'a>(&'a [(&'static str, Values)], usize);

impl Serialize for Row<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(name, v)| (name, json_cell(v, self.1))))
    }
}

/// The first `.1` rows of a table.
struct Rows<'a>(&'a [(&'static str, Values)], usize);

impl Serialize for Rows<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq((0..self.1).map(|i| Row(self.0, i)))
    }
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
    fn an_empty_report_says_what_there_is() {
        let seen = Seen {
            pipelines: 3,
            events: vec!["push".into(), "tag".into()],
            environments: vec!["main".into()],
            branches: vec!["main".into()],
        };
        let text = nothing_matched(&seen);
        assert!(text.contains("The 3 pipelines"), "{text}");
        assert!(text.contains("events:       push, tag"), "{text}");
        assert!(text.contains("environments: main  (--env)"), "{text}");
        let none = nothing_matched(&Seen::default());
        assert!(none.contains("--since"), "{none}");
    }
}
