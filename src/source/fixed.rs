//! Histories held in memory: the built-in demo history and JSON-lines
//! exports read from a file. Served through the same interface as a real
//! server, so every query, resource and the health check work on them.

use std::sync::Arc;

use tonic::async_trait;

use super::demo::{demo_history, DEMO_DAYS};
use super::json_lines::{read_json_lines, KeepTree};
use super::{
    Deadline, HealthReport, Histories, History, HistoryRequest, PipelineSource, Repo, SourceError,
    SourceErrorKind,
};
use crate::domain::{Pipeline, Trees};

pub struct FixedSource {
    repos: Vec<Held>,
    /// Says where the history came from, for the health check.
    origin: String,
    loaded_at: i64,
}

/// One repo's finished pipelines and the workflow trees read for them.
struct Held {
    repo: Repo,
    pipelines: Arc<Vec<Pipeline>>,
    trees: Arc<Trees>,
}

impl FixedSource {
    /// The demo history as of `now`.
    pub fn demo(now: i64) -> FixedSource {
        let repos = demo_history(now)
            .into_iter()
            .map(|r| {
                let repo = Repo {
                    id: r.id,
                    full_name: r.full_name.to_string(),
                };
                (repo, r.pipelines, r.trees)
            })
            .collect::<Vec<_>>();
        FixedSource::new(
            repos,
            format!("the built-in demo history (last {DEMO_DAYS} days; no Woodpecker server is contacted)"),
            now,
        )
    }

    /// A JSON-lines export: one Woodpecker pipeline object per line (3.x or
    /// 2.x field names) with a `repo` field naming its repository; only the
    /// pipelines `keep_tree` names keep their workflow tree. An error names
    /// `origin`: "cannot read …", or the first bad line.
    pub fn from_json_lines(
        input: impl std::io::Read,
        origin: &str,
        now: i64,
        keep_tree: KeepTree,
    ) -> Result<FixedSource, String> {
        let repos = read_json_lines(input, origin, keep_tree)?
            .into_iter()
            .enumerate()
            .map(|(i, (name, pipelines, trees))| {
                let repo = Repo {
                    id: i as i64 + 1,
                    full_name: name,
                };
                (repo, pipelines, trees)
            })
            .collect();
        Ok(FixedSource::new(repos, origin.to_string(), now))
    }

    fn new(
        repos: Vec<(Repo, Vec<Pipeline>, Trees)>,
        origin: String,
        loaded_at: i64,
    ) -> FixedSource {
        // Like the cache, hold finished pipelines only, and their trees.
        let repos = repos
            .into_iter()
            .map(|(repo, pipelines, mut trees)| {
                for p in pipelines.iter().filter(|p| !p.is_finished()) {
                    trees.remove(&p.number());
                }
                // Filtered in place: no second copy of a big repo's rows.
                let finished = pipelines.into_iter().filter(Pipeline::is_finished);
                Held {
                    repo,
                    pipelines: Arc::new(finished.collect()),
                    trees: Arc::new(trees),
                }
            })
            .collect();
        FixedSource {
            repos,
            origin,
            loaded_at,
        }
    }

    fn find(&self, name: &str) -> Option<&Held> {
        self.repos
            .iter()
            .find(|h| h.repo.full_name.eq_ignore_ascii_case(name))
    }
}

#[async_trait]
impl PipelineSource for FixedSource {
    async fn check_health(&self) -> HealthReport {
        HealthReport {
            ok: true,
            message: format!("Using {}: {} repositories", self.origin, self.repos.len()),
            warnings: Vec::new(),
        }
    }

    async fn repos(&self, _deadline: Deadline) -> Result<Vec<Repo>, SourceError> {
        Ok(self.repos.iter().map(|h| h.repo.clone()).collect())
    }

    async fn histories(&self, repos: &[String], _request: &HistoryRequest<'_>) -> Histories {
        let repos = repos
            .iter()
            .map(|name| {
                let result = match self.find(name) {
                    Some(held) => Ok(History {
                        repo: held.repo.clone(),
                        pipelines: held.pipelines.clone(),
                        trees: held.trees.clone(),
                        capped: false,
                        truncated: false,
                        complete: true,
                        fetched_at: self.loaded_at,
                        stale: None,
                        tree_error: None,
                    }),
                    None => Err(SourceError {
                        kind: SourceErrorKind::NotFound,
                        message: format!("repository {name} is not in {}", self.origin),
                    }),
                };
                (name.clone(), result)
            })
            .collect();
        Histories {
            repos,
            ..Histories::default()
        }
    }

    fn pipeline_url(&self, _repo: &Repo, _number: u64) -> Option<String> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn json_lines_with_both_field_generations() {
        let text = concat!(
            r#"{"repo":"acme/api","number":2,"event":"deployment","status":"success","deploy_to":"prod","branch":"main","created":10,"started":11,"finished":20,"author":"alice"}"#,
            "\n\n",
            r#"{"repo":"acme/api","number":1,"event":"deployment","status":"failure","deploy_to":"prod","branch":"main","created_at":1,"started_at":2,"finished_at":5}"#,
            "\n",
            r#"{"repo":"acme/web","number":1,"event":"push","status":"running","branch":"main","created":3,"finished":0}"#,
        );
        let s =
            FixedSource::from_json_lines(text.as_bytes(), "history.jsonl", 100, &|_| true).unwrap();
        let repos = s.repos(Deadline::NONE).await.unwrap();
        assert_eq!(repos.len(), 2);
        let h = s
            .histories(
                &["ACME/API".into()],
                &HistoryRequest {
                    since: 0,
                    covered: &|_, _| true,
                    events: &[],
                    needs_tree: None,
                    deadline: Deadline::NONE,
                },
            )
            .await
            .repos;
        let pipelines = &h[0].1.as_ref().unwrap().pipelines;
        assert_eq!(pipelines.len(), 2);
        assert!(
            pipelines.iter().any(|p| p.finished() == 5),
            "2.x names parse"
        );
        let web = s
            .histories(
                &["acme/web".into()],
                &HistoryRequest {
                    since: 0,
                    covered: &|_, _| true,
                    events: &[],
                    needs_tree: None,
                    deadline: Deadline::NONE,
                },
            )
            .await
            .repos;
        assert!(
            web[0].1.as_ref().unwrap().pipelines.is_empty(),
            "running pipelines are not held"
        );
    }

    #[test]
    fn bad_lines_are_named() {
        let e = FixedSource::from_json_lines(&b"{\"number\":1}"[..], "h.jsonl", 0, &|_| true)
            .err()
            .unwrap();
        assert!(e.contains("h.jsonl, line 1") && e.contains("repo"), "{e}");
        let e = FixedSource::from_json_lines(&b"\n{oops"[..], "h.jsonl", 0, &|_| true)
            .err()
            .unwrap();
        assert!(e.contains("line 2") && e.contains("not JSON"), "{e}");
        let e = FixedSource::from_json_lines(
            &br#"{"repo":"a/b","number":"x"}"#[..],
            "h.jsonl",
            0,
            &|_| true,
        )
        .err()
        .unwrap();
        assert!(e.contains("line 1"), "{e}");
    }
}
