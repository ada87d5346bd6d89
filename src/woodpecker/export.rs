//! Pipeline objects outside an HTTP response (exported histories): read
//! with the same wire rules as the client, written in Woodpecker 3.x field
//! names so that what is written reads back the same.

use serde::Serialize;

use super::model::WirePipeline;
use crate::domain::{Pipeline, Step, Workflow};

/// Parses one Woodpecker pipeline object (3.x or 2.x field names).
pub fn parse_pipeline_json(value: serde_json::Value) -> Result<Pipeline, String> {
    let wire: WirePipeline =
        serde_json::from_value(value).map_err(|e| format!("not a Woodpecker pipeline ({e})"))?;
    wire.into_domain()
        .ok_or_else(|| "the pipeline has no positive \"number\"".to_string())
}

/// One line of an export: `p` as a Woodpecker 3.x pipeline object with a
/// `repo` field. Written from the domain pipeline, which holds no person,
/// so no author, email, avatar or sender can reach the file.
pub fn pipeline_json_line(repo: &str, p: &Pipeline) -> String {
    let line = LinePipeline {
        repo,
        number: p.number,
        status: p.status.as_str(),
        event: p.event.as_str(),
        branch: &p.branch,
        deploy_to: &p.deploy_to,
        parent: p.parent,
        commit: &p.commit,
        created: p.created,
        started: p.started,
        finished: p.finished,
        workflows: p
            .workflows
            .as_ref()
            .map(|ws| ws.iter().map(LineWorkflow::from).collect()),
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
    commit: &'a str,
    created: i64,
    started: i64,
    finished: i64,
    /// Absent, not empty, when the tree was not read: a reader must not
    /// take "not read" for "no workflows".
    #[serde(skip_serializing_if = "Option::is_none")]
    workflows: Option<Vec<LineWorkflow<'a>>>,
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
    use crate::domain::{Event, Status};

    #[test]
    fn a_written_line_reads_back_the_same() {
        let p = Pipeline {
            number: 12,
            status: Status::Failure,
            event: Event::Deployment,
            branch: "main".into(),
            deploy_to: "production".into(),
            parent: 9,
            commit: "ab12".into(),
            created: 100,
            started: 105,
            finished: 160,
            workflows: Some(
                vec![Workflow {
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
                }]
                .into(),
            ),
        };
        let without_tree = Pipeline {
            workflows: None,
            ..p.clone()
        };
        for p in [p, without_tree] {
            let line = pipeline_json_line("acme/api", &p);
            let value: serde_json::Value = serde_json::from_str(&line).unwrap();
            assert_eq!(value["repo"], "acme/api");
            assert_eq!(value.get("workflows").is_some(), p.workflows.is_some());
            assert_eq!(parse_pipeline_json(value).unwrap(), p, "{line}");
        }
    }
}
