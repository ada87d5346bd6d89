//! Deploys → delivered changes (lead time for changes).
//!
//! A change is a pipeline of a change event (`push` by default) that is not
//! a restart. Per (repo, environment), successful deploys in finish order
//! each deliver every change of their own branch not delivered there yet
//! whose number is at most the deploy's *source*: the pipeline it deploys.
//! Numbers are per repo and grow with creation, so "delivered" is a cursor
//! per (group, branch) that only moves forward; a rollback (a source below
//! the cursor) delivers nothing new.

// Seeded and fast: the engine hashes a name or commit per pipeline.
use foldhash::{HashMap, HashMapExt};
use std::sync::OnceLock;

use super::deploys::{Deploy, Deploys, GroupId};
use super::parts::map_parts;
use super::pipeline::{Commit, Event, Pipeline};
use super::settings::{DeployFilter, Outcome, TimeRange};

/// How far a parent chain is followed before it is taken as broken: real
/// chains are a deploy of a deploy of a push, a handful at most.
const MAX_CHAIN: usize = 64;

/// One change as it reaches one group: 48 bytes, names interned in the
/// [`Deploys`] it was computed from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Change {
    pub group: u32,
    branch: u32,
    pub number: u64,
    pub created: i64,
    /// Finish of the deploy that delivered it; 0 while it waits.
    pub delivered_at: i64,
    pub delivered_by: u64,
    /// Finish of the first held successful deploy of its branch to the
    /// group: from then on the branch is known to deliver there.
    pub branch_delivers_since: i64,
}

impl Change {
    pub(crate) fn delivered_in(&self, range: TimeRange) -> bool {
        self.delivered_at > 0 && range.contains(self.delivered_at)
    }

    /// Lead time in seconds, once delivered.
    pub(crate) fn lead_secs(&self) -> Option<i64> {
        (self.delivered_at > 0).then(|| (self.delivered_at - self.created).max(0))
    }

    /// Created in `range` on a branch that delivers to its group, and not
    /// delivered by the range's end. (Nothing after `now` is held, so a
    /// range ending later is the same as one ending now.)
    pub(crate) fn waiting_in(&self, range: TimeRange) -> bool {
        range.contains(self.created)
            && self.branch_delivers_since <= range.to
            && (self.delivered_at == 0 || self.delivered_at > range.to)
    }
}

/// Every change of the deploys' groups, by group, each group's delivered
/// changes in delivery order and then its waiting ones.
#[derive(Clone, Debug, Default)]
pub struct Changes {
    /// As computed, side by side: consecutive runs of groups. Joining them
    /// would copy (and page in) a second vector of millions.
    parts: Vec<Vec<Change>>,
}

/// A change as the plugin's "changes" table shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChangeRow<'a> {
    pub repo: &'a str,
    pub environment: &'a str,
    pub group: GroupId,
    pub branch: &'a str,
    pub number: u64,
    pub created: i64,
    pub delivered_at: Option<i64>,
    pub delivered_by: Option<u64>,
    pub lead_secs: Option<i64>,
}

impl Changes {
    pub fn len(&self) -> usize {
        self.parts.iter().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.parts.iter().all(Vec::is_empty)
    }

    pub(crate) fn items(&self) -> impl Iterator<Item = &Change> + '_ {
        self.parts.iter().flatten()
    }

    /// The changes delivered in `range` and those waiting at its end (not
    /// delivered as of then), with names from the deploys they were
    /// computed from.
    pub fn rows_in<'a>(
        &'a self,
        deploys: &'a Deploys,
        range: TimeRange,
    ) -> impl Iterator<Item = ChangeRow<'a>> + 'a {
        self.items()
            .filter(move |c| c.delivered_in(range) || c.waiting_in(range))
            .map(move |c| {
                let delivered = c.delivered_in(range);
                ChangeRow {
                    repo: deploys.repo(GroupId(c.group)),
                    environment: deploys.environment(GroupId(c.group)),
                    group: GroupId(c.group),
                    branch: deploys.name(c.branch),
                    number: c.number,
                    created: c.created,
                    delivered_at: delivered.then_some(c.delivered_at),
                    delivered_by: delivered.then_some(c.delivered_by),
                    lead_secs: c.lead_secs().filter(|_| delivered),
                }
            })
    }

    /// Bytes this value holds on the heap (for the memory budget).
    pub fn heap_bytes(&self) -> usize {
        self.parts.iter().map(Vec::capacity).sum::<usize>() * std::mem::size_of::<Change>()
    }
}

/// One pipeline as lead time needs it: 32 bytes, kept inline so that
/// following parents touches contiguous memory.
#[derive(Clone, Copy)]
struct Row<'a> {
    number: u64,
    parent: u64,
    /// For the commit, read only when a deploy must be placed by it.
    pipeline: &'a Pipeline,
    /// Index into the repo's branch names.
    branch: u32,
    event: Event,
}

/// One repo's history, indexed for following parents and finding changes.
struct RepoLog<'a> {
    /// Ascending by number, one per number.
    rows: Vec<Row<'a>>,
    /// The repo's whole history is held: changes before its first deploy
    /// can be placed too.
    complete: bool,
    branch_ids: HashMap<&'a str, u32>,
    /// Per branch id, the changes' (number, created), ascending by number.
    changes: Vec<Vec<(u64, i64)>>,
    /// (branch, commit) → the earliest change with that commit; built on
    /// the first deploy that needs it.
    by_commit: OnceLock<HashMap<(u32, &'a Commit), u64>>,
    change_events: &'a [Event],
}

impl<'a> RepoLog<'a> {
    fn new(mut pipelines: Vec<&'a Pipeline>, complete: bool, change_events: &'a [Event]) -> Self {
        // Held histories come newest first: reversing is cheaper than sorting.
        if pipelines.windows(2).all(|w| w[0].number() >= w[1].number()) {
            pipelines.reverse();
        } else if !pipelines.windows(2).all(|w| w[0].number() <= w[1].number()) {
            pipelines.sort_by_key(|p| p.number());
        }
        pipelines.dedup_by_key(|p| p.number());
        let mut branch_ids: HashMap<&str, u32> = HashMap::new();
        // A branch's id by the pipeline's interned labels: its name is
        // hashed once per labels, not once per pipeline.
        let mut by_labels: HashMap<usize, u32> = HashMap::new();
        let mut changes: Vec<Vec<(u64, i64)>> = Vec::new();
        let rows = pipelines
            .into_iter()
            .map(|p| {
                let branch = *by_labels.entry(p.labels_identity()).or_insert_with(|| {
                    let next = branch_ids.len() as u32;
                    *branch_ids.entry(p.branch()).or_insert(next)
                });
                if branch as usize == changes.len() {
                    changes.push(Vec::new());
                }
                if is_change(p, change_events) {
                    changes[branch as usize].push((p.number(), p.created()));
                }
                Row {
                    number: p.number(),
                    parent: p.parent(),
                    pipeline: p,
                    branch,
                    event: p.event(),
                }
            })
            .collect();
        RepoLog {
            rows,
            complete,
            branch_ids,
            changes,
            by_commit: OnceLock::new(),
            change_events,
        }
    }

    fn get(&self, number: u64) -> Option<&Row<'a>> {
        // Numbers are usually dense: try the row where it would be first.
        let first = self.rows.first()?.number;
        if let Some(row) = number
            .checked_sub(first)
            .and_then(|i| self.rows.get(i as usize))
            .filter(|r| r.number == number)
        {
            return Some(row);
        }
        let i = self.rows.binary_search_by_key(&number, |r| r.number).ok()?;
        Some(&self.rows[i])
    }

    fn is_change(&self, row: &Row) -> bool {
        row.parent == 0 && self.change_events.contains(&row.event)
    }

    /// The change a deploy pipeline ships, by number; `None` when it cannot
    /// be told (nothing is then delivered).
    fn source(&self, deploy: &Row<'a>) -> Option<u64> {
        if deploy.event != Event::Deployment {
            // A restarted push ships its original's change.
            return Some(self.original(deploy).number);
        }
        let mut at = deploy;
        for _ in 0..MAX_CHAIN {
            let Some(parent) = (at.parent != 0).then(|| self.get(at.parent)).flatten() else {
                break;
            };
            if parent.event == Event::Deployment {
                at = parent;
                continue;
            }
            let original = self.original(parent);
            if self.is_change(original) && original.branch == deploy.branch {
                return Some(original.number);
            }
            break;
        }
        // A forge deployment (parent 0), a deployed pull request, or a
        // parent no longer held: the commit tells which change it ships.
        let commit = deploy.pipeline.commit();
        if commit.is_empty() {
            return None;
        }
        self.by_commit
            .get_or_init(|| {
                let mut m = HashMap::new();
                for r in self.rows.iter().filter(|r| self.is_change(r)) {
                    let c = r.pipeline.commit();
                    if !c.is_empty() {
                        m.entry((r.branch, c)).or_insert(r.number);
                    }
                }
                m
            })
            .get(&(deploy.branch, commit))
            .copied()
    }

    /// A restart's original (the same change, counted once), following
    /// parents of the same event.
    fn original<'r>(&'r self, row: &'r Row<'a>) -> &'r Row<'a> {
        let mut at = row;
        for _ in 0..MAX_CHAIN {
            match (at.parent != 0).then(|| self.get(at.parent)).flatten() {
                Some(parent) if parent.event == at.event => at = parent,
                _ => break,
            }
        }
        at
    }
}

/// A change pipeline: a change event, and not a restart of another.
fn is_change(p: &Pipeline, change_events: &[Event]) -> bool {
    p.parent() == 0 && change_events.contains(&p.event())
}

/// Every repo's pipelines, indexed for lead time: built once per query
/// from the histories, as [`collect_deploys`](super::collect_deploys) is.
pub struct ChangeLog<'a> {
    repos: HashMap<&'a str, RepoLog<'a>>,
}

/// Indexes `histories`: each repo's held pipelines (any order, any event)
/// with whether the repo's whole history is held. A repo may appear more
/// than once; a pipeline listed twice counts once.
pub fn collect_changes<'a>(
    histories: impl IntoIterator<Item = (&'a str, &'a [Pipeline], bool)>,
    filter: &'a DeployFilter,
) -> ChangeLog<'a> {
    let mut repos: HashMap<&str, (Vec<&Pipeline>, bool)> = HashMap::new();
    for (name, pipelines, complete) in histories {
        let entry = repos.entry(name).or_insert_with(|| (Vec::new(), true));
        entry.0.extend(pipelines.iter());
        entry.1 &= complete;
    }
    let logs = map_parts(
        repos.into_iter().collect(),
        |(_, (ps, _))| ps.len(),
        |part| {
            part.into_iter()
                .map(|(name, (ps, complete))| {
                    (name, RepoLog::new(ps, complete, &filter.change_events))
                })
                .collect::<Vec<_>>()
        },
    );
    ChangeLog {
        repos: logs.into_iter().flatten().collect(),
    }
}

/// Where one (group, branch) stands.
struct Cursor {
    /// The branch's id in its repo's log, if it has any pipeline there.
    branch: Option<u32>,
    /// Changes of the branch's list delivered so far (a prefix).
    delivered: usize,
    /// When the branch first delivered to the group.
    since: i64,
    /// The prefix is known: false until a deploy whose source is known
    /// when the repo's whole history is not held.
    marked: bool,
}

/// Which changes each group's successful deploys delivered, and which wait.
/// `deploys` were collected from the same histories as `log`. Without the
/// whole history, a (group, branch)'s first held successful deploy only
/// marks what was delivered before the history held: the changes it
/// shipped may have waited for an earlier deploy not held.
pub fn deliver(log: &ChangeLog, deploys: &Deploys) -> Changes {
    let groups: Vec<(GroupId, &[Deploy])> = deploys.group_slices().collect();
    // Groups are independent: side by side, weighed by their repo's size.
    let parts = map_parts(
        groups,
        |(group, _)| {
            log.repos
                .get(deploys.repo(*group))
                .map_or(0, |r| r.rows.len())
        },
        |part| deliver_groups(log, deploys, part),
    );
    Changes { parts }
}

/// The changes `groups` (of `deploys`) delivered and those that wait, group
/// by group.
fn deliver_groups(
    log: &ChangeLog,
    deploys: &Deploys,
    groups: Vec<(GroupId, &[Deploy])>,
) -> Vec<Change> {
    // Most changes reach one environment: reserving one per change of the
    // groups' repos saves the copies of growing a vector of millions.
    let mut repos: Vec<&str> = groups.iter().map(|(g, _)| deploys.repo(*g)).collect();
    repos.dedup();
    let held: usize = repos
        .iter()
        .filter_map(|r| log.repos.get(r))
        .flat_map(|r| r.changes.iter().map(Vec::len))
        .sum();
    let mut items = Vec::with_capacity(held);
    for (group, slice) in groups {
        let Some(repo) = log.repos.get(deploys.repo(group)) else {
            continue;
        };
        // `delivered`: (finish, number) of the delivering deploy; (0, 0)
        // while waiting.
        let change = |(number, created): (u64, i64), branch, since, delivered: (i64, u64)| Change {
            group: group.0,
            branch,
            number,
            created,
            delivered_at: delivered.0,
            delivered_by: delivered.1,
            branch_delivers_since: since,
        };
        // A group deploys from a branch or two: a list beats a map.
        let mut cursors: Vec<(u32, Cursor)> = Vec::new();
        for d in slice.iter().filter(|d| d.outcome == Outcome::Success) {
            let branch = deploys.branch_id(d);
            let at = match cursors.iter().position(|(b, _)| *b == branch) {
                Some(at) => at,
                None => {
                    cursors.push((
                        branch,
                        Cursor {
                            branch: repo.branch_ids.get(deploys.name(branch)).copied(),
                            delivered: 0,
                            since: d.finished,
                            marked: repo.complete,
                        },
                    ));
                    cursors.len() - 1
                }
            };
            let cursor = &mut cursors[at].1;
            let Some(list) = cursor.branch.map(|b| &repo.changes[b as usize]) else {
                continue;
            };
            let Some(source) = repo.get(d.number).and_then(|row| repo.source(row)) else {
                continue;
            };
            let end = list.partition_point(|&(n, _)| n <= source);
            if cursor.marked && end > cursor.delivered {
                let delivered = (d.finished, d.number);
                items.extend(
                    list[cursor.delivered..end]
                        .iter()
                        .map(|&c| change(c, branch, cursor.since, delivered)),
                );
            }
            cursor.delivered = cursor.delivered.max(end);
            cursor.marked = true;
        }
        for (branch, cursor) in cursors.into_iter().filter(|(_, c)| c.marked) {
            let Some(list) = cursor.branch.map(|b| &repo.changes[b as usize]) else {
                continue;
            };
            items.extend(
                list[cursor.delivered..]
                    .iter()
                    .map(|&c| change(c, branch, cursor.since, (0, 0))),
            );
        }
    }
    if items.capacity() > items.len() + items.len() / 4 {
        items.shrink_to_fit();
    }
    items
}

/// P50 and P90 of lead times, both `None` below the minimum sample.
/// Reorders `secs`: each percentile is two selections, not a sort, since
/// a dashboard asks for them over a million changes.
pub(crate) fn percentiles(secs: &mut [i64], min_sample: usize) -> (Option<f64>, Option<f64>) {
    if secs.is_empty() || secs.len() < min_sample {
        return (None, None);
    }
    (
        Some(percentile_unsorted(secs, 0.5)),
        Some(percentile_unsorted(secs, 0.9)),
    )
}

/// `percentile_cont` (rule 7) of a non-empty, unsorted slice.
fn percentile_unsorted(v: &mut [i64], p: f64) -> f64 {
    let h = p * (v.len() - 1) as f64;
    let lo = h.floor() as usize;
    let (_, &mut below, above) = v.select_nth_unstable(lo);
    let frac = h - lo as f64;
    match above.iter().min() {
        Some(&next) if frac > 0.0 => below as f64 + (next - below) as f64 * frac,
        _ => below as f64,
    }
}

/// Lead-time statistics of the changes of one label over one range.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct LeadTimes {
    /// Lead times (seconds) of the changes delivered in range.
    pub secs: Vec<i64>,
    pub waiting: usize,
    /// `created` of the oldest waiting change.
    pub oldest_waiting_created: Option<i64>,
}

impl LeadTimes {
    pub(crate) fn add(&mut self, c: &Change, range: TimeRange) {
        if c.delivered_in(range) {
            self.secs.extend(c.lead_secs());
        }
        if c.waiting_in(range) {
            self.waiting += 1;
            self.oldest_waiting_created = Some(
                self.oldest_waiting_created
                    .map_or(c.created, |t| t.min(c.created)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::pipeline::Status;
    use crate::domain::settings::RecoverySettings;
    use crate::domain::PipelineFields;
    use crate::domain::{collect_deploys, Trees};

    fn p(number: u64, event: Event, branch: &str, created: i64, finished: i64) -> Pipeline {
        Pipeline::from(PipelineFields {
            number,
            status: Status::Success,
            event,
            branch,
            deploy_to: if event == Event::Deployment {
                "prod"
            } else {
                ""
            },
            commit: format!("c{number}").as_str().into(),
            created,
            started: created,
            finished,
            ..PipelineFields::default()
        })
    }

    const EVER: TimeRange = TimeRange {
        from: i64::MIN,
        to: i64::MAX,
    };

    fn push(number: u64, created: i64) -> Pipeline {
        p(number, Event::Push, "main", created, created + 60)
    }

    fn deploy(number: u64, parent: u64, finished: i64) -> Pipeline {
        Pipeline::from(PipelineFields {
            parent,
            commit: Commit::None,
            ..p(number, Event::Deployment, "main", finished - 100, finished).fields()
        })
    }

    /// (number, delivered_by) of every change, in order.
    fn delivered(ps: &[Pipeline], complete: bool) -> Vec<(u64, Option<u64>)> {
        let filter = DeployFilter::default();
        let d = collect_deploys(
            [("o/r", ps, &Trees::new())],
            &filter,
            &RecoverySettings::default(),
        );
        let c = deliver(&collect_changes([("o/r", ps, complete)], &filter), &d);
        c.rows_in(&d, EVER)
            .map(|r| (r.number, r.delivered_by))
            .collect()
    }

    #[test]
    fn a_deployment_delivers_every_change_up_to_its_parent() {
        let ps = [
            push(1, 100),
            push(2, 200),
            push(3, 300),
            deploy(4, 2, 1000),
            push(5, 1100),
        ];
        assert_eq!(
            delivered(&ps, true),
            vec![(1, Some(4)), (2, Some(4)), (3, None), (5, None)]
        );
    }

    #[test]
    fn lead_time_runs_from_the_change_created_to_the_deploy_finish() {
        let ps = [push(1, 100), deploy(2, 1, 1000)];
        let filter = DeployFilter::default();
        let d = collect_deploys(
            [("o/r", &ps[..], &Trees::new())],
            &filter,
            &RecoverySettings::default(),
        );
        let c = deliver(&collect_changes([("o/r", &ps[..], true)], &filter), &d);
        assert_eq!(c.rows_in(&d, EVER).next().unwrap().lead_secs, Some(900));
    }

    #[test]
    fn deploys_of_deploys_follow_the_chain_and_rollbacks_deliver_nothing() {
        let ps = [
            push(1, 100),
            push(2, 200),
            deploy(3, 1, 1000),
            deploy(4, 3, 1100), // redeploy of 3: still change 1
            deploy(5, 2, 1200),
            deploy(6, 1, 1300), // rollback to 1
            push(7, 1400),
            deploy(8, 7, 1500),
        ];
        assert_eq!(
            delivered(&ps, true),
            vec![(1, Some(3)), (2, Some(5)), (7, Some(8))]
        );
    }

    #[test]
    fn restarts_are_the_same_change() {
        let mut restart = push(2, 200);
        restart = Pipeline::from(PipelineFields {
            parent: 1,
            ..restart.fields()
        });
        let ps = [push(1, 100), restart, deploy(3, 2, 1000)];
        assert_eq!(delivered(&ps, true), vec![(1, Some(3))]);
    }

    #[test]
    fn a_forge_deployment_is_placed_by_its_commit() {
        let mut forge = deploy(3, 0, 1000);
        forge = Pipeline::from(PipelineFields {
            commit: "c2".into(),
            ..forge.fields()
        });
        let mut unknown = deploy(4, 0, 1100);
        unknown = Pipeline::from(PipelineFields {
            commit: "feedface".into(),
            ..unknown.fields()
        });
        let ps = [push(1, 100), push(2, 200), forge, unknown];
        assert_eq!(delivered(&ps, true), vec![(1, Some(3)), (2, Some(3))]);
    }

    #[test]
    fn a_pull_request_parent_falls_back_to_the_commit() {
        let pr = p(2, Event::PullRequest, "main", 200, 260);
        let mut d = deploy(3, 2, 1000);
        d = Pipeline::from(PipelineFields {
            commit: "c1".into(),
            ..d.fields()
        });
        let ps = [push(1, 100), pr, d];
        assert_eq!(delivered(&ps, true), vec![(1, Some(3))]);
    }

    #[test]
    fn only_the_deploys_own_branch_is_delivered() {
        let dev = p(2, Event::Push, "dev", 200, 260);
        let ps = [push(1, 100), dev, push(3, 300), deploy(4, 3, 1000)];
        assert_eq!(delivered(&ps, true), vec![(1, Some(4)), (3, Some(4))]);
    }

    #[test]
    fn without_the_whole_history_the_first_deploy_only_sets_the_mark() {
        let ps = [
            push(1, 100),
            deploy(2, 1, 1000),
            push(3, 1100),
            deploy(4, 3, 2000),
        ];
        assert_eq!(delivered(&ps, false), vec![(3, Some(4))]);
        assert_eq!(delivered(&ps, true), vec![(1, Some(2)), (3, Some(4))]);
    }

    #[test]
    fn push_deploys_deliver_their_own_change() {
        let filter = DeployFilter {
            events: vec![Event::Push],
            ..DeployFilter::default()
        };
        let mut failed = push(2, 200);
        failed = Pipeline::from(PipelineFields {
            status: Status::Failure,
            ..failed.fields()
        });
        let ps = [push(1, 100), failed, push(3, 300)];
        let d = collect_deploys(
            [("o/r", &ps[..], &Trees::new())],
            &filter,
            &RecoverySettings::default(),
        );
        let c = deliver(&collect_changes([("o/r", &ps[..], true)], &filter), &d);
        let rows: Vec<_> = c
            .rows_in(&d, EVER)
            .map(|r| (r.number, r.delivered_by))
            .collect();
        // The failed push is delivered by the next success, with it.
        assert_eq!(rows, vec![(1, Some(1)), (2, Some(3)), (3, Some(3))]);
    }

    #[test]
    fn waiting_needs_a_branch_that_delivers_and_ends_at_delivery() {
        let c = Change {
            group: 0,
            branch: 0,
            number: 5,
            created: 100,
            delivered_at: 500,
            delivered_by: 6,
            branch_delivers_since: 50,
        };
        let range = |from, to| TimeRange { from, to };
        assert!(c.waiting_in(range(0, 400)));
        assert!(!c.waiting_in(range(0, 600)));
        assert!(!c.waiting_in(range(150, 400)), "created before");
        let new_branch = Change {
            branch_delivers_since: 450,
            ..c
        };
        assert!(!new_branch.waiting_in(range(0, 400)));
    }

    #[test]
    fn a_change_is_48_bytes() {
        assert_eq!(std::mem::size_of::<Change>(), 48);
    }
}
