//! Wire types: only the fields the client needs. Person fields (author,
//! sender, emails, avatars) are deliberately not declared, so serde skips
//! them. Both the 3.x (`created`) and the 2.x (`created_at`) time names are
//! declared as separate optional fields, so a payload carrying both never
//! trips serde's duplicate-field check.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer};

use super::text;

use crate::domain::pipeline::MAX_NUMBER;
use crate::domain::{Commit, Event, Pipeline, PipelineFields, Status, Step, Tree, Workflow};

/// A repository as the cache and the plugin see it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Repo {
    /// Woodpecker's repo id (used in every `/api/repos/{id}` URL).
    pub id: i64,
    pub full_name: String,
}

#[derive(Deserialize)]
pub(crate) struct WireRepo {
    pub id: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub full_name: String,
}

impl From<WireRepo> for Repo {
    fn from(w: WireRepo) -> Repo {
        Repo {
            id: w.id,
            full_name: w.full_name,
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct WireVersion {
    pub version: String,
}

/// `/api/user`: an object proves the token; nothing in it is read (it
/// names a person).
#[derive(Deserialize)]
pub(crate) struct WireUser {}

/// A repo's newest pipeline as the user feed shows it: enough to tell that
/// something is new (another number) or finished (another status).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeedMark {
    /// 0 for a repo without pipelines.
    pub number: u64,
    pub status: Status,
}

/// One row of `GET /api/user/feed?latest=true`. Every version names these
/// three alike; the rest (times, commit, people) is not read.
#[derive(Deserialize)]
pub(crate) struct WireFeedItem {
    pub repo_id: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub number: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub status: String,
}

impl WireFeedItem {
    pub(crate) fn mark(&self) -> FeedMark {
        FeedMark {
            number: u64::try_from(self.number).unwrap_or(0),
            status: Status::parse(&self.status),
        }
    }
}

/// One element of `GET /api/repos/{id}/pipelines`, or one line of an
/// export. Strings borrow from the input when they have no escapes, so a
/// big export parses without a copy per field.
#[derive(Deserialize, Default)]
pub(crate) struct WirePipeline<'a> {
    /// Exports name the repository here; the API does not. Anything but a
    /// string reads as none, so no server's field can break the client.
    #[serde(borrow, default, deserialize_with = "text::string_or_none")]
    pub repo: Option<Cow<'a, str>>,
    pub number: i64,
    #[serde(borrow, default, deserialize_with = "text::null_empty")]
    pub status: Cow<'a, str>,
    #[serde(borrow, default, deserialize_with = "text::null_empty")]
    pub event: Cow<'a, str>,
    #[serde(borrow, default, deserialize_with = "text::null_empty")]
    pub branch: Cow<'a, str>,
    #[serde(borrow, default, deserialize_with = "text::null_empty")]
    pub deploy_to: Cow<'a, str>,
    #[serde(default, deserialize_with = "null_default")]
    pub created: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub created_at: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub started: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub started_at: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub finished: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub finished_at: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub parent: i64,
    #[serde(borrow, default, deserialize_with = "text::null_empty")]
    pub commit: Cow<'a, str>,
    /// Only the detail endpoint (and exports made from it) carry the tree.
    #[serde(borrow, default)]
    pub workflows: Option<Vec<WireWorkflow<'a>>>,
}

/// A workflow of the detail endpoint: `state`, not `status`, in every
/// version; times `started`/`finished` on 3.x, `start_time`/`end_time` on
/// 2.x (declared here rather than flattened: flatten buffers every field).
#[derive(Deserialize, Default)]
pub(crate) struct WireWorkflow<'a> {
    #[serde(borrow, default, deserialize_with = "text::null_empty")]
    pub name: Cow<'a, str>,
    #[serde(borrow, default, deserialize_with = "text::null_empty")]
    pub state: Cow<'a, str>,
    #[serde(default, deserialize_with = "null_default")]
    pub started: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub start_time: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub finished: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub end_time: i64,
    #[serde(borrow, default, deserialize_with = "null_default")]
    pub children: Vec<WireStep<'a>>,
}

#[derive(Deserialize, Default)]
pub(crate) struct WireStep<'a> {
    #[serde(borrow, default, deserialize_with = "text::null_empty")]
    pub name: Cow<'a, str>,
    #[serde(borrow, default, deserialize_with = "text::null_empty")]
    pub state: Cow<'a, str>,
    #[serde(default, deserialize_with = "null_default")]
    pub started: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub start_time: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub finished: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub end_time: i64,
}

/// Start and end, whichever generation's names carry them.
fn times(started: i64, start_time: i64, finished: i64, end_time: i64) -> (i64, i64) {
    (
        pick(started, start_time).max(0),
        pick(finished, end_time).max(0),
    )
}

impl From<WireWorkflow<'_>> for Workflow {
    fn from(w: WireWorkflow<'_>) -> Workflow {
        let (started, finished) = times(w.started, w.start_time, w.finished, w.end_time);
        Workflow {
            name: w.name.into_owned(),
            state: Status::parse(&w.state),
            started,
            finished,
            steps: w
                .children
                .into_iter()
                .map(|s| {
                    let (started, finished) =
                        times(s.started, s.start_time, s.finished, s.end_time);
                    Step {
                        name: s.name.into_owned(),
                        state: Status::parse(&s.state),
                        started,
                        finished,
                    }
                })
                .collect(),
        }
    }
}

fn pick(v3: i64, v2: i64) -> i64 {
    if v3 != 0 {
        v3
    } else {
        v2
    }
}

impl WirePipeline<'_> {
    /// `None` for a row without a usable number (never seen in practice).
    /// The workflow tree is not part of the row: a caller that wants it
    /// takes `workflows` first (see [`tree`]).
    pub(crate) fn into_domain(self) -> Option<Pipeline> {
        let number = u64::try_from(self.number)
            .ok()
            .filter(|n| (1..=MAX_NUMBER).contains(n))?;
        Some(Pipeline::from(PipelineFields {
            number,
            status: Status::parse(&self.status),
            event: Event::parse(&self.event),
            branch: &self.branch,
            deploy_to: &self.deploy_to,
            parent: u64::try_from(self.parent).unwrap_or(0),
            commit: Commit::parse(&self.commit),
            created: pick(self.created, self.created_at).max(0),
            started: pick(self.started, self.started_at).max(0),
            finished: pick(self.finished, self.finished_at).max(0),
        }))
    }
}

/// The domain's workflow tree of a wire one.
pub(crate) fn tree(workflows: Vec<WireWorkflow<'_>>) -> Tree {
    Tree::new(workflows.into_iter().map(Workflow::from).collect())
}

/// Treats JSON `null` like a missing field.
fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_v3_and_v2_names_nulls_and_unknowns() {
        let v3 = r#"[{"id":1,"number":318,"author":"alice","author_email":"a@x","event":"deployment",
            "event_reason":null,"status":"failure","errors":null,"created":10,"updated":12,
            "started":11,"finished":13,"deploy_to":"production","branch":"main","brand_new":{"x":1}}]"#;
        let v2 = r#"[{"id":1,"number":7,"event":"push","status":"success","created_at":10,
            "started_at":11,"finished_at":13,"deploy_to":"","branch":"dev","error":""}]"#;
        let odd = r#"[{"id":1,"number":8,"event":"merge_group","status":"exploded","branch":null,
            "created":5,"created_at":6,"finished":0}]"#;
        let p: Vec<WirePipeline> = serde_json::from_str(v3).unwrap();
        let p = p.into_iter().next().unwrap().into_domain().unwrap();
        assert_eq!(
            (p.number(), p.event(), p.status()),
            (318, Event::Deployment, Status::Failure)
        );
        assert_eq!((p.created(), p.started(), p.finished()), (10, 11, 13));
        assert_eq!(p.deploy_to(), "production");
        let p: Vec<WirePipeline> = serde_json::from_str(v2).unwrap();
        let p = p.into_iter().next().unwrap().into_domain().unwrap();
        assert_eq!((p.created(), p.started(), p.finished()), (10, 11, 13));
        let p: Vec<WirePipeline> = serde_json::from_str(odd).unwrap();
        let p = p.into_iter().next().unwrap().into_domain().unwrap();
        assert_eq!(
            (p.event(), p.status(), p.created()),
            (Event::Other, Status::Other, 5)
        );
        assert!(!p.is_finished());
        assert_eq!(p.branch(), "");
    }

    #[test]
    fn reads_parent_commit_and_workflow_trees_in_both_namings() {
        let v3 = r#"{"number":9,"parent":4,"commit":"ab12","event":"deployment","workflows":[
            {"id":1,"name":"test","state":"failure","started":10,"finished":20,"children":[
                {"id":2,"name":"unit","state":"failure","started":11,"finished":19,"exit_code":1}]},
            {"id":3,"name":"deploy","state":"skipped","started":0,"finished":0,"children":null}]}"#;
        let v2 = r#"{"number":9,"workflows":[{"name":"deploy","state":"success","start_time":30,
            "end_time":40,"children":[{"name":"push","state":"success","start_time":31,"end_time":39}]}]}"#;
        let mut wire = serde_json::from_str::<WirePipeline>(v3).unwrap();
        let ws = tree(wire.workflows.take().unwrap());
        let p = wire.into_domain().unwrap();
        assert_eq!((p.parent(), p.commit().to_string().as_str()), (4, "ab12"));
        assert_eq!(
            (ws[0].name.as_str(), ws[0].state, ws[0].finished),
            ("test", Status::Failure, 20)
        );
        assert_eq!(
            (ws[0].steps[0].name.as_str(), ws[0].steps[0].finished),
            ("unit", 19)
        );
        assert_eq!((ws[1].state, ws[1].steps.len()), (Status::Skipped, 0));
        let wire = serde_json::from_str::<WirePipeline>(v2).unwrap();
        let ws = tree(wire.workflows.unwrap());
        assert_eq!((ws[0].started, ws[0].finished), (30, 40));
        assert_eq!((ws[0].steps[0].started, ws[0].steps[0].finished), (31, 39));
        let list = serde_json::from_str::<WirePipeline>(r#"{"number":3}"#).unwrap();
        assert!(list.workflows.is_none());
    }

    #[test]
    fn feed_rows_keep_repo_number_and_status_only() {
        let rows: Vec<WireFeedItem> = serde_json::from_str(
            r#"[{"repo_id":3,"id":99,"number":41,"event":"push","status":"running","created_at":5,
                "author":"alice","author_email":"a@x","commit":"pipelines.commit"},{"repo_id":4}]"#,
        )
        .unwrap();
        assert_eq!(
            rows.iter()
                .map(|r| (r.repo_id, r.mark()))
                .collect::<Vec<_>>(),
            [
                (
                    3,
                    FeedMark {
                        number: 41,
                        status: Status::Running
                    }
                ),
                (
                    4,
                    FeedMark {
                        number: 0,
                        status: Status::Other
                    }
                )
            ]
        );
    }

    #[test]
    fn repo_ignores_everything_but_id_and_name() {
        let r: WireRepo = serde_json::from_str(
            r#"{"id":42,"owner":"acme","name":"api","full_name":"acme/api","trusted":true,"avatar_url":"x"}"#,
        )
        .unwrap();
        assert_eq!(
            Repo::from(r),
            Repo {
                id: 42,
                full_name: "acme/api".into()
            }
        );
    }
}
