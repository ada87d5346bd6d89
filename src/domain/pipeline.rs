//! The engine's view of one Woodpecker pipeline.
//!
//! Deliberately carries no person (author, committer, sender, reviewer,
//! email, avatar): the product reports team metrics only.

use std::fmt;
use std::sync::Arc;

/// A pipeline's status. Unknown strings map to `Other` so that a newer
/// server's statuses never break parsing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    Success,
    Failure,
    Error,
    Killed,
    Canceled,
    Skipped,
    Declined,
    Blocked,
    Pending,
    Running,
    Created,
    #[default]
    Other,
}

impl Status {
    pub(crate) const ALL: [Status; 11] = [
        Status::Success,
        Status::Failure,
        Status::Error,
        Status::Killed,
        Status::Canceled,
        Status::Skipped,
        Status::Declined,
        Status::Blocked,
        Status::Pending,
        Status::Running,
        Status::Created,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Success => "success",
            Status::Failure => "failure",
            Status::Error => "error",
            Status::Killed => "killed",
            Status::Canceled => "canceled",
            Status::Skipped => "skipped",
            Status::Declined => "declined",
            Status::Blocked => "blocked",
            Status::Pending => "pending",
            Status::Running => "running",
            Status::Created => "created",
            Status::Other => "other",
        }
    }

    /// Parses a Woodpecker status; anything unknown is `Other`.
    pub fn parse(s: &str) -> Status {
        Status::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .unwrap_or(Status::Other)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A pipeline's trigger event. Unknown strings map to `Other`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Event {
    Push,
    PullRequest,
    PullRequestClosed,
    PullRequestMetadata,
    Tag,
    Release,
    Deployment,
    Cron,
    Manual,
    #[default]
    Other,
}

impl Event {
    pub(crate) const ALL: [Event; 9] = [
        Event::Push,
        Event::PullRequest,
        Event::PullRequestClosed,
        Event::PullRequestMetadata,
        Event::Tag,
        Event::Release,
        Event::Deployment,
        Event::Cron,
        Event::Manual,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Event::Push => "push",
            Event::PullRequest => "pull_request",
            Event::PullRequestClosed => "pull_request_closed",
            Event::PullRequestMetadata => "pull_request_metadata",
            Event::Tag => "tag",
            Event::Release => "release",
            Event::Deployment => "deployment",
            Event::Cron => "cron",
            Event::Manual => "manual",
            Event::Other => "other",
        }
    }

    /// Parses a Woodpecker event; anything unknown is `Other`.
    pub fn parse(s: &str) -> Event {
        Event::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .unwrap_or(Event::Other)
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One pipeline of one repository, as the engine sees it. Times are Unix
/// seconds; 0 means unset (a pipeline is finished when `finished > 0`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pipeline {
    /// Per-repo sequence number (what Woodpecker URLs use).
    pub number: u64,
    pub status: Status,
    pub event: Event,
    pub branch: String,
    /// Deployment target; empty unless the event is `deployment`.
    pub deploy_to: String,
    /// The pipeline this one was created from (a restart, or a deploy of
    /// an earlier pipeline); 0 for none.
    pub parent: u64,
    /// The commit sha it ran on (lowercase hex as the forge sent it).
    pub commit: String,
    pub created: i64,
    pub started: i64,
    pub finished: i64,
    /// The workflow tree, when it was fetched (the pipeline list does not
    /// carry it; only deploy candidates are asked for it when deploy steps
    /// are configured).
    pub workflows: Option<Arc<[Workflow]>>,
}

/// A workflow of a pipeline (one file under `.woodpecker/`) and its steps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workflow {
    pub name: String,
    pub state: Status,
    pub started: i64,
    pub finished: i64,
    pub steps: Vec<Step>,
}

/// One step of a workflow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub name: String,
    pub state: Status,
    pub started: i64,
    pub finished: i64,
}

impl Pipeline {
    pub fn is_finished(&self) -> bool {
        self.finished > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_and_unknown_is_other() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), s);
        }
        assert_eq!(Status::parse("exploded"), Status::Other);
    }

    #[test]
    fn events_round_trip_and_unknown_is_other() {
        for e in Event::ALL {
            assert_eq!(Event::parse(e.as_str()), e);
        }
        assert_eq!(Event::parse("merge_group"), Event::Other);
    }

    /// Rule 11: team metrics only. Fails as soon as the engine's input type
    /// gains a field naming a person.
    #[test]
    fn pipeline_carries_no_person() {
        let p = Pipeline::default();
        let debug = format!("{p:?}");
        let body = debug.trim_start_matches("Pipeline {").trim_end_matches('}');
        let fields: Vec<&str> = body
            .split(',')
            .filter_map(|kv| kv.split(':').next())
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .collect();
        assert!(fields.contains(&"deploy_to"), "parsed {fields:?}");
        for field in &fields {
            for person in [
                "author",
                "committer",
                "sender",
                "reviewer",
                "email",
                "avatar",
            ] {
                assert!(
                    !field.to_lowercase().contains(person),
                    "Pipeline.{field} names a person; the engine reports team metrics only"
                );
            }
        }
    }
}
