//! The engine's view of one Woodpecker pipeline.
//!
//! Deliberately carries no person (author, committer, sender, reviewer,
//! email, avatar): the product reports team metrics only.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use super::labels::Labels;

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
        // A match, not a search of ALL: every pipeline read passes here.
        match s {
            "success" => Status::Success,
            "failure" => Status::Failure,
            "error" => Status::Error,
            "killed" => Status::Killed,
            "canceled" => Status::Canceled,
            "skipped" => Status::Skipped,
            "declined" => Status::Declined,
            "blocked" => Status::Blocked,
            "pending" => Status::Pending,
            "running" => Status::Running,
            "created" => Status::Created,
            _ => Status::Other,
        }
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
        match s {
            "push" => Event::Push,
            "pull_request" => Event::PullRequest,
            "pull_request_closed" => Event::PullRequestClosed,
            "pull_request_metadata" => Event::PullRequestMetadata,
            "tag" => Event::Tag,
            "release" => Event::Release,
            "deployment" => Event::Deployment,
            "cron" => Event::Cron,
            "manual" => Event::Manual,
            _ => Event::Other,
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A commit sha: a lowercase 40-hex SHA-1 is held as its 20 bytes, anything
/// else (a SHA-256 repo, another forge's form) as the text sent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum Commit {
    #[default]
    None,
    Sha1([u8; 20]),
    Text(Arc<str>),
}

impl Commit {
    pub fn parse(s: &str) -> Commit {
        if s.is_empty() {
            return Commit::None;
        }
        match sha1_bytes(s.as_bytes()) {
            Some(bytes) => Commit::Sha1(bytes),
            None => Commit::Text(s.into()),
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == Commit::None
    }
}

impl From<&str> for Commit {
    fn from(s: &str) -> Commit {
        Commit::parse(s)
    }
}

impl fmt::Display for Commit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Commit::None => Ok(()),
            Commit::Sha1(bytes) => bytes.iter().try_for_each(|b| write!(f, "{b:02x}")),
            Commit::Text(s) => f.write_str(s),
        }
    }
}

/// The 20 bytes of a lowercase 40-hex SHA-1; `None` for anything else.
fn sha1_bytes(hex: &[u8]) -> Option<[u8; 20]> {
    // Every pipeline read passes here: a table, not a match per nibble.
    const NIBBLE: [u8; 256] = {
        let mut t = [0xff; 256];
        let mut i = 0;
        while i < 10 {
            t[b'0' as usize + i] = i as u8;
            i += 1;
        }
        let mut i = 0;
        while i < 6 {
            t[b'a' as usize + i] = 10 + i as u8;
            i += 1;
        }
        t
    };
    let hex: &[u8; 40] = hex.try_into().ok()?;
    let mut bytes = [0u8; 20];
    let mut bad = 0u8;
    for (out, pair) in bytes.iter_mut().zip(hex.chunks_exact(2)) {
        let (hi, lo) = (NIBBLE[pair[0] as usize], NIBBLE[pair[1] as usize]);
        // An invalid digit has its high bit set; checked once at the end.
        bad |= hi | lo;
        *out = hi << 4 | lo;
    }
    (bad & 0x80 == 0).then_some(bytes)
}

/// A pipeline's workflow tree, shared by the histories that hold it.
pub type Tree = Arc<Vec<Workflow>>;

/// The workflow trees read for one repo's pipelines, by pipeline number.
/// Kept apart from the rows: only the deploys that deploy steps judge have
/// one, so a pointer in every row would be mostly empty.
pub type Trees = HashMap<u64, Tree>;

/// One pipeline of one repository, as the engine sees it. Times are Unix
/// seconds; 0 means unset (a pipeline is finished when `finished > 0`).
///
/// Held compactly (56 bytes; a cache holds millions): numbers and times as
/// `u32` (numbers past 4 billion and times past 2106 saturate), branch and
/// target as one interned pair, the sha as bytes; the workflow tree is not
/// here but in [`Trees`], beside the rows.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Pipeline {
    commit: Commit,
    labels: Labels,
    number: u32,
    parent: u32,
    created: u32,
    started: u32,
    finished: u32,
    status: Status,
    event: Event,
}

/// What a pipeline is made from; strings are borrowed (a page being parsed).
#[derive(Clone, Debug, Default)]
pub struct PipelineFields<'a> {
    /// Per-repo sequence number (what Woodpecker URLs use).
    pub number: u64,
    pub status: Status,
    pub event: Event,
    pub branch: &'a str,
    /// Deployment target; empty unless the event is `deployment`.
    pub deploy_to: &'a str,
    /// The pipeline this one was created from (a restart, or a deploy of
    /// an earlier pipeline); 0 for none.
    pub parent: u64,
    pub commit: Commit,
    pub created: i64,
    pub started: i64,
    pub finished: i64,
}

/// The largest pipeline number held exactly.
pub const MAX_NUMBER: u64 = u32::MAX as u64;

fn secs(t: i64) -> u32 {
    t.clamp(0, i64::from(u32::MAX)) as u32
}

fn number(n: u64) -> u32 {
    n.min(MAX_NUMBER) as u32
}

impl From<PipelineFields<'_>> for Pipeline {
    fn from(f: PipelineFields<'_>) -> Pipeline {
        Pipeline {
            commit: f.commit,
            labels: Labels::new(f.branch, f.deploy_to),
            number: number(f.number),
            parent: number(f.parent),
            created: secs(f.created),
            started: secs(f.started),
            finished: secs(f.finished),
            status: f.status,
            event: f.event,
        }
    }
}

impl Pipeline {
    /// Per-repo sequence number (what Woodpecker URLs use).
    pub fn number(&self) -> u64 {
        u64::from(self.number)
    }

    pub fn status(&self) -> Status {
        self.status
    }

    pub fn event(&self) -> Event {
        self.event
    }

    pub fn branch(&self) -> &str {
        self.labels.branch()
    }

    /// The same for pipelines of one (branch, target) pair, mostly: see
    /// [`Labels::identity`].
    pub(crate) fn labels_identity(&self) -> usize {
        self.labels.identity()
    }

    /// Deployment target; empty unless the event is `deployment`.
    pub fn deploy_to(&self) -> &str {
        self.labels.deploy_to()
    }

    /// The pipeline this one was created from (a restart, or a deploy of
    /// an earlier pipeline); 0 for none.
    pub fn parent(&self) -> u64 {
        u64::from(self.parent)
    }

    pub fn commit(&self) -> &Commit {
        &self.commit
    }

    pub fn created(&self) -> i64 {
        i64::from(self.created)
    }

    pub fn started(&self) -> i64 {
        i64::from(self.started)
    }

    pub fn finished(&self) -> i64 {
        i64::from(self.finished)
    }

    /// The fields it is made of (to make a changed copy).
    pub fn fields(&self) -> PipelineFields<'_> {
        PipelineFields {
            number: self.number(),
            status: self.status,
            event: self.event,
            branch: self.branch(),
            deploy_to: self.deploy_to(),
            parent: self.parent(),
            commit: self.commit.clone(),
            created: self.created(),
            started: self.started(),
            finished: self.finished(),
        }
    }
}

impl fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pipeline")
            .field("number", &self.number)
            .field("status", &self.status)
            .field("event", &self.event)
            .field("branch", &self.branch())
            .field("deploy_to", &self.deploy_to())
            .field("parent", &self.parent)
            .field("commit", &format_args!("{}", self.commit))
            .field("created", &self.created)
            .field("started", &self.started)
            .field("finished", &self.finished)
            .finish()
    }
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

    /// The cache holds millions of these (issue 13: ≤ 64 bytes each).
    #[test]
    fn a_pipeline_is_56_bytes() {
        assert_eq!(std::mem::size_of::<Pipeline>(), 56);
    }

    #[test]
    fn commits_keep_what_was_sent() {
        let sha = "0123456789abcdef0123456789abcdef01234567";
        assert!(matches!(Commit::parse(sha), Commit::Sha1(_)));
        for text in [
            sha,
            "",
            "ab12",
            &sha.to_uppercase(),
            &format!("{sha}{sha}")[..64],
        ] {
            assert_eq!(Commit::parse(text).to_string(), text);
        }
        assert_eq!(Commit::parse(""), Commit::None);
    }

    #[test]
    fn numbers_and_times_saturate() {
        let p = Pipeline::from(PipelineFields {
            number: u64::MAX,
            created: -5,
            finished: i64::MAX,
            ..PipelineFields::default()
        });
        assert_eq!(
            (p.number(), p.created(), p.finished()),
            (MAX_NUMBER, 0, i64::from(u32::MAX))
        );
    }

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
