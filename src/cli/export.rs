//! `export`: a server's (or the demo's) finished pipelines as JSON lines,
//! one pipeline object per line with its `repo`, which `report --input`
//! reads back to the same report.

use std::io::Write;

use chrono::Utc;

use super::args::ExportArgs;
use super::{for_cli, Failure};
use crate::source::{all_repo_names, HistoryRequest};
use crate::woodpecker::{pipeline_json_line, Deadline};

pub(crate) async fn run(args: ExportArgs) -> Result<(), Failure> {
    args.token.check()?;
    let now = args.now.unwrap_or_else(|| Utc::now().timestamp());
    // `export` reads no export, so no tree is left out.
    let source = super::open(&args.source.source(), now, &|_| true)?;
    let runtime = |e: crate::source::SourceError| Failure::Runtime(e.message);
    let names = if args.repos.is_empty() {
        all_repo_names(source.as_ref(), Deadline::NONE)
            .await
            .map_err(runtime)?
    } else {
        args.repos
    };
    let from = now - args.since;
    let every_tree = |_: &crate::domain::Pipeline| true;
    let request = HistoryRequest {
        since: from,
        covered: &|_, _| true,
        // Every event: which ones are deploys is the report's choice.
        events: &[],
        needs_tree: args.workflows.then_some(&every_tree as _),
        deadline: Deadline::NONE,
    };
    note(&format!("reading {} repositories …", names.len()));
    // Everything is read before anything is written: a failed export
    // leaves no half-written file behind.
    let mut lines = Vec::new();
    for (name, history) in source.histories(&names, &request).await.repos {
        let history = history.map_err(|e| Failure::Runtime(format!("{name}: {e}")))?;
        if history.truncated {
            note(&format!("{name}: reading stopped at the most pipelines one repository may hold; older history is left out"));
        }
        if let Some(e) = &history.tree_error {
            note(&format!(
                "{name}: some workflow trees could not be read: {e}"
            ));
        }
        let (repo, trees) = (history.repo.full_name.as_str(), &history.trees);
        lines.extend(
            history
                .pipelines
                .iter()
                .filter(|p| p.created() >= from && p.finished() <= now)
                .map(|p| pipeline_json_line(repo, p, trees.get(&p.number()))),
        );
    }
    let written = if args.output == "-" {
        write_lines(&mut std::io::stdout().lock(), &lines)
    } else {
        std::fs::File::create(&args.output)
            .and_then(|f| write_lines(&mut std::io::BufWriter::new(f), &lines))
    };
    match written {
        // The reader (`| head`) has what it wanted: not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure::Runtime(format!(
            "cannot write {}: {e}",
            args.output
        ))),
        Ok(()) => {
            note(&format!(
                "wrote {} pipelines of {} repositories",
                lines.len(),
                names.len()
            ));
            Ok(())
        }
    }
}

fn write_lines(out: &mut dyn Write, lines: &[String]) -> std::io::Result<()> {
    for line in lines {
        writeln!(out, "{line}")?;
    }
    out.flush()
}

/// A line on stderr; a closed stderr is no reason to fail.
fn note(line: &str) {
    let _ = writeln!(std::io::stderr(), "{}", for_cli(line));
}
