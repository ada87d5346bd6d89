//! Pipeline objects outside an HTTP response (exported histories): read
//! with the same wire rules as the client, written in Woodpecker 3.x field
//! names so that what is written reads back the same.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::line_scan::{exported_prefix, read_tree, scan_line, Scanned};
use super::model::{tree, WirePipeline};
use crate::domain::{Commit, Pipeline, Step, Tree, Workflow};

/// Parses one Woodpecker pipeline object (3.x or 2.x field names), and
/// its workflow tree when it carries one.
pub fn parse_pipeline_json(value: serde_json::Value) -> Result<(Pipeline, Option<Tree>), String> {
    let mut wire = WirePipeline::deserialize(&value)
        .map_err(|e| format!("not a Woodpecker pipeline ({e})"))?;
    let workflows = wire.workflows.take();
    let p = wire
        .into_domain()
        .ok_or_else(|| "the pipeline has no positive \"number\"".to_string())?;
    Ok((p, workflows.map(tree)))
}

/// A line of an export read: the repository it names, the pipeline and
/// its workflow tree when kept.
pub(crate) type ExportLine<'a> = (Cow<'a, str>, Pipeline, Option<Tree>);

/// One line of an export: the repository it names (trimmed), the pipeline,
/// and its workflow tree only when `keep_tree` says the
/// pipeline needs it (a report without deploy steps reads none). A line
/// in the export's own plain shape is scanned directly; any other is
/// parsed by serde into the wire model, borrowing its strings; only a line
/// that fails so is parsed again as a JSON tree, which says what is wrong
/// in the order a user fixes it (not JSON, then no repo, then a bad field)
/// and reads an odd but valid line (a repeated key: the last one counts)
/// as it always has. A tree is checked whether it is kept or not.
pub(crate) fn parse_export_line<'a>(
    line: &'a str,
    keep_tree: &dyn Fn(&Pipeline) -> bool,
) -> Result<ExportLine<'a>, String> {
    let scanned = scan_line(line).or_else(|| {
        let wire = serde_json::from_str::<WirePipeline>(line).ok()?;
        Some(Scanned {
            wire,
            tree_text: None,
        })
    });
    if let Some(read) = scanned.and_then(|s| from_scanned(s, keep_tree)) {
        return Ok(read);
    }
    let (repo, p, tree) = parse_tree_line(line)?;
    let tree = tree.filter(|_| keep_tree(&p));
    Ok((repo, p, tree))
}

/// The first line of `text` and its length, when it is a line exactly as
/// `export` writes it (ended by a line feed or by `text`): read in place,
/// without a search for its end first. `None` leaves the line to
/// [`parse_export_line`].
pub(crate) fn parse_exported_line<'a>(
    text: &'a str,
    keep_tree: &dyn Fn(&Pipeline) -> bool,
) -> Option<(ExportLine<'a>, usize)> {
    let (scanned, len) = exported_prefix(text)?;
    if !matches!(text.as_bytes().get(len), None | Some(b'\n')) {
        return None;
    }
    Some((from_scanned(scanned, keep_tree)?, len))
}

/// A scanned line's repository (trimmed), pipeline and kept tree; `None`
/// when it names no repository or no valid number.
fn from_scanned<'a>(
    scanned: Scanned<'a>,
    keep_tree: &dyn Fn(&Pipeline) -> bool,
) -> Option<ExportLine<'a>> {
    let Scanned {
        mut wire,
        tree_text,
    } = scanned;
    let repo = wire.repo.take().map(trimmed).filter(|r| !r.is_empty())?;
    let workflows = wire.workflows.take();
    let p = wire.into_domain()?;
    let tree = keep_tree(&p)
        .then(|| workflows.or_else(|| tree_text.map(read_tree)))
        .flatten()
        .map(tree);
    Some((repo, p, tree))
}

fn parse_tree_line(line: &str) -> Result<ExportLine<'_>, String> {
    let value: serde_json::Value =
        serde_json::from_str(line).map_err(|e| format!("not JSON ({e})"))?;
    let repo = value
        .get("repo")
        .and_then(|r| r.as_str())
        .filter(|r| !r.trim().is_empty())
        .ok_or("needs a \"repo\" field with the repository's full name")?
        .trim()
        .to_string();
    let (p, tree) = parse_pipeline_json(value)?;
    Ok((Cow::Owned(repo), p, tree))
}

fn trimmed(s: Cow<'_, str>) -> Cow<'_, str> {
    match s {
        Cow::Borrowed(b) => Cow::Borrowed(b.trim()),
        Cow::Owned(o) => Cow::Owned(o.trim().to_string()),
    }
}

/// One line of an export: `p` as a Woodpecker 3.x pipeline object with a
/// `repo` field, and its workflow tree when one was read. Written from the
/// domain pipeline, which holds no person, so no author, email, avatar or
/// sender can reach the file.
pub fn pipeline_json_line(repo: &str, p: &Pipeline, tree: Option<&Tree>) -> String {
    let line = LinePipeline {
        repo,
        number: p.number(),
        status: p.status().as_str(),
        event: p.event().as_str(),
        branch: p.branch(),
        deploy_to: p.deploy_to(),
        parent: p.parent(),
        commit: p.commit(),
        created: p.created(),
        started: p.started(),
        finished: p.finished(),
        workflows: tree.map(|ws| ws.iter().map(LineWorkflow::from).collect()),
    };
    serde_json::to_string(&line).expect("plain fields always serialise")
}

#[derive(Serialize)]
struct LinePipeline<'a> {
    repo: &'a str,
    number: u64,
    status: &'static str,
    event: &'static str,
    branch: &'a str,
    deploy_to: &'a str,
    parent: u64,
    #[serde(serialize_with = "as_text")]
    commit: &'a Commit,
    created: i64,
    started: i64,
    finished: i64,
    /// Absent, not empty, when the tree was not read: a reader must not
    /// take "not read" for "no workflows".
    #[serde(skip_serializing_if = "Option::is_none")]
    workflows: Option<Vec<LineWorkflow<'a>>>,
}

fn as_text<S: serde::Serializer>(commit: &&Commit, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(commit)
}

/// A workflow as the detail endpoint has it: `state`, steps as `children`.
#[derive(Serialize)]
struct LineWorkflow<'a> {
    name: &'a str,
    state: &'static str,
    started: i64,
    finished: i64,
    children: Vec<LineStep<'a>>,
}

#[derive(Serialize)]
struct LineStep<'a> {
    name: &'a str,
    state: &'static str,
    started: i64,
    finished: i64,
}

impl<'a> From<&'a Workflow> for LineWorkflow<'a> {
    fn from(w: &'a Workflow) -> Self {
        LineWorkflow {
            name: &w.name,
            state: w.state.as_str(),
            started: w.started,
            finished: w.finished,
            children: w.steps.iter().map(LineStep::from).collect(),
        }
    }
}

impl<'a> From<&'a Step> for LineStep<'a> {
    fn from(s: &'a Step) -> Self {
        LineStep {
            name: &s.name,
            state: s.state.as_str(),
            started: s.started,
            finished: s.finished,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::PipelineFields;
    use crate::domain::{Event, Status};

    #[test]
    fn a_written_line_reads_back_the_same() {
        let p = Pipeline::from(PipelineFields {
            number: 12,
            status: Status::Failure,
            event: Event::Deployment,
            branch: "main",
            deploy_to: "production",
            parent: 9,
            commit: "ab12".into(),
            created: 100,
            started: 105,
            finished: 160,
        });
        let tree = Tree::new(vec![Workflow {
            name: "deploy".into(),
            state: Status::Failure,
            started: 106,
            finished: 150,
            steps: vec![Step {
                name: "push".into(),
                state: Status::Failure,
                started: 107,
                finished: 149,
            }],
        }]);
        for tree in [Some(tree), None] {
            let line = pipeline_json_line("acme/api", &p, tree.as_ref());
            let value: serde_json::Value = serde_json::from_str(&line).unwrap();
            assert_eq!(value["repo"], "acme/api");
            assert_eq!(value.get("workflows").is_some(), tree.is_some());
            assert_eq!(
                parse_pipeline_json(value).unwrap(),
                (p.clone(), tree),
                "{line}"
            );
        }
    }

    /// A tree no deploy step judges is not kept, but it is still checked:
    /// a malformed one is named whether the report needs it or not.
    #[test]
    fn trees_are_kept_only_where_asked_and_always_checked() {
        let good = r#"{"repo":"a/b","number":1,"event":"deployment","finished":9,"workflows":[{"name":"deploy","state":"success","children":[]}]}"#;
        let odd = r#"{"repo":"a\/b","number":1,"event":"deployment","finished":9,"workflows":[{"name":"deploy","state":"success","children":null}]}"#;
        let bad = r#"{"repo":"a/b","number":1,"workflows":[{"name":"deploy","started":"soon"}]}"#;
        for line in [good, odd] {
            let (_, kept, tree) = parse_export_line(line, &|_| true).unwrap();
            assert_eq!(tree.map(|t| t.len()), Some(1), "{line}");
            let (_, dropped, tree) = parse_export_line(line, &|_| false).unwrap();
            assert!(tree.is_none(), "{line}");
            assert_eq!(dropped, kept);
        }
        for keep in [true, false] {
            let e = parse_export_line(bad, &|_| keep).unwrap_err();
            assert!(e.contains("not a Woodpecker pipeline"), "{e}");
        }
    }

    /// The direct parse reads every line as the JSON tree does, odd ones
    /// too, and fails the same lines with the same words.
    #[test]
    fn direct_and_tree_parses_agree() {
        let lines = [
            r#"{"repo":"acme/api","number":2,"event":"deployment","status":"success","deploy_to":"prod","branch":"main","created":10,"started":11,"finished":20,"author":"alice","sender":{"login":"a"}}"#,
            r#"{"repo":" acme/api ","number":1,"event":"deployment","status":"failure","deploy_to":"prod","created_at":1,"started_at":2,"finished_at":5}"#,
            r#"{"repo":"acme\/w\u00e9b","number":3,"branch":"f\u00fc\"r","commit":null,"status":null,"event":"merge_group","parent":null,"workflows":null}"#,
            r#"{"repo":"a/b","number":4,"status":"exploded","workflows":[{"name":"d\u0065ploy","state":"success","start_time":3,"end_time":4,"children":[{"name":"push","state":"killed","started":3,"finished":4}]},{"name":"x","children":null}]}"#,
            r#"{"repo":"a/b","number":5,"repo":"c/d","number":6,"finished":9}"#,
            r#"{"number":7,"repo":"a/b","created":5,"created_at":6,"finished":0,"deploy_to":"","extra":[1,{"repo":2}]}"#,
            r#"{"repo":"a/b","number":8,"status":5}"#,
            r#"{"repo":"a/b","number":0}"#,
            r#"{"repo":"a/b","number":-3}"#,
            r#"{"repo":"a/b"}"#,
            r#"{"repo":5,"number":1}"#,
            r#"{"repo":"  ","number":1}"#,
            r#"{"repo":null,"number":"x"}"#,
            r#"{"repo":"a/b","number":"x", oops"#,
            r#"{"repo":"a/b","number":1}x"#,
            r#"[{"repo":"a/b","number":1}]"#,
            r#"{"repo":"a/b","number":1,"workflows":[{"name":"w","started":"soon"}]}"#,
            "\"repo\"",
        ];
        for line in lines {
            assert_eq!(
                parse_export_line(line, &|_| true),
                parse_tree_line(line),
                "{line}"
            );
        }
        let (repo, p, _) = parse_export_line(lines[2], &|_| true).unwrap();
        assert_eq!((&*repo, p.branch()), ("acme/wéb", "fü\"r"));
        let (repo, p, _) = parse_export_line(lines[4], &|_| true).unwrap();
        assert_eq!(
            (&*repo, p.number()),
            ("c/d", 6),
            "a repeated key: the last counts"
        );
    }
}
