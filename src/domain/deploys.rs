//! Pipelines → deploys: selection by the filter, outcome by status, and a
//! compact, sorted, columnar layout the pairing pass walks linearly.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use super::pipeline::{Event, Pipeline, Status};
use super::settings::{DeployFilter, RecoverySettings};

/// The environment a pipeline deploys to: `deploy_to`, or its branch for
/// teams that deploy from push or tag pipelines.
pub fn environment_of(p: &Pipeline) -> &str {
    if p.deploy_to.is_empty() {
        &p.branch
    } else {
        &p.deploy_to
    }
}

/// A deploy either fixed things or broke them; other statuses are ignored.
fn outcome(status: Status, settings: &RecoverySettings) -> Option<bool> {
    if status == Status::Success {
        Some(false)
    } else if settings.failure_statuses.contains(&status) {
        Some(true)
    } else {
        None
    }
}

/// Whether a pipeline is a deploy under `filter`, and if so its
/// environment and whether it failed.
pub fn as_deploy<'p>(
    p: &'p Pipeline,
    filter: &DeployFilter,
    settings: &RecoverySettings,
) -> Option<(&'p str, bool)> {
    if !p.is_finished() || !filter.events.contains(&p.event) {
        return None;
    }
    if !filter.branches.is_empty() && !filter.branches.contains(&p.branch) {
        return None;
    }
    let env = environment_of(p);
    if !filter.environments.is_empty() && !filter.environments.iter().any(|e| e == env) {
        return None;
    }
    Some((env, outcome(p.status, settings)?))
}

/// One (repo, environment) and where its deploys sit in the columns.
#[derive(Clone, Debug)]
pub struct Group {
    pub repo: Arc<str>,
    pub environment: Arc<str>,
    pub range: Range<usize>,
}

/// All deploys, grouped by (repo, environment) and ordered within a group
/// by `finished`, ties by pipeline number. Stored as columns so a million
/// deploys cost about 26 bytes each.
#[derive(Clone, Debug, Default)]
pub struct Deploys {
    pub(crate) groups: Vec<Group>,
    pub(crate) finished: Vec<i64>,
    pub(crate) number: Vec<u64>,
    pub(crate) failed: Vec<bool>,
    pub(crate) status: Vec<Status>,
    pub(crate) event: Vec<Event>,
    pub(crate) branch: Vec<u32>,
    pub(crate) branches: Vec<Arc<str>>,
}

/// One deploy, borrowed from [`Deploys`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeployView<'a> {
    pub repo: &'a str,
    pub environment: &'a str,
    pub finished: i64,
    pub number: u64,
    pub failed: bool,
    pub status: Status,
    pub event: Event,
    pub branch: &'a str,
}

/// Builds the deploys of many repos. Unfinished pipelines, other events,
/// filtered-out branches or environments and ignored statuses are dropped.
pub fn collect_deploys<'a>(
    histories: impl IntoIterator<Item = (&'a str, &'a [Pipeline])>,
    filter: &DeployFilter,
    settings: &RecoverySettings,
) -> Deploys {
    struct Row {
        group: u32,
        finished: i64,
        number: u64,
        failed: bool,
        status: Status,
        event: Event,
        branch: u32,
    }
    let mut group_ids: HashMap<(Arc<str>, Arc<str>), u32> = HashMap::new();
    let mut group_names: Vec<(Arc<str>, Arc<str>)> = Vec::new();
    let mut branch_ids: HashMap<Arc<str>, u32> = HashMap::new();
    let mut branches: Vec<Arc<str>> = Vec::new();
    let mut rows: Vec<Row> = Vec::new();
    for (repo, pipelines) in histories {
        let repo: Arc<str> = Arc::from(repo);
        for p in pipelines {
            let Some((env, failed)) = as_deploy(p, filter, settings) else {
                continue;
            };
            let key = (repo.clone(), Arc::<str>::from(env));
            let group = *group_ids.entry(key.clone()).or_insert_with(|| {
                group_names.push(key);
                group_names.len() as u32 - 1
            });
            let branch = match branch_ids.get(p.branch.as_str()) {
                Some(&id) => id,
                None => {
                    let b: Arc<str> = Arc::from(p.branch.as_str());
                    branches.push(b.clone());
                    branch_ids.insert(b, branches.len() as u32 - 1);
                    branches.len() as u32 - 1
                }
            };
            rows.push(Row {
                group,
                finished: p.finished,
                number: p.number,
                failed,
                status: p.status,
                event: p.event,
                branch,
            });
        }
    }
    // Order groups by name so output never depends on input order.
    let mut order: Vec<u32> = (0..group_names.len() as u32).collect();
    order.sort_by(|&a, &b| group_names[a as usize].cmp(&group_names[b as usize]));
    let mut rank = vec![0u32; order.len()];
    for (r, &g) in order.iter().enumerate() {
        rank[g as usize] = r as u32;
    }
    rows.sort_unstable_by_key(|r| (rank[r.group as usize], r.finished, r.number));
    let mut d = Deploys {
        groups: Vec::with_capacity(order.len()),
        finished: Vec::with_capacity(rows.len()),
        number: Vec::with_capacity(rows.len()),
        failed: Vec::with_capacity(rows.len()),
        status: Vec::with_capacity(rows.len()),
        event: Vec::with_capacity(rows.len()),
        branch: Vec::with_capacity(rows.len()),
        branches,
    };
    let mut start = 0;
    for (i, r) in rows.iter().enumerate() {
        let last_of_group = rows.get(i + 1).is_none_or(|n| n.group != r.group);
        d.finished.push(r.finished);
        d.number.push(r.number);
        d.failed.push(r.failed);
        d.status.push(r.status);
        d.event.push(r.event);
        d.branch.push(r.branch);
        if last_of_group {
            let (repo, environment) = group_names[r.group as usize].clone();
            d.groups.push(Group {
                repo,
                environment,
                range: start..i + 1,
            });
            start = i + 1;
        }
    }
    d
}

impl Deploys {
    pub fn len(&self) -> usize {
        self.finished.len()
    }

    pub fn is_empty(&self) -> bool {
        self.finished.is_empty()
    }

    pub fn groups(&self) -> &[Group] {
        &self.groups
    }

    pub fn get<'a>(&'a self, i: usize, group: &'a Group) -> DeployView<'a> {
        DeployView {
            repo: &group.repo,
            environment: &group.environment,
            finished: self.finished[i],
            number: self.number[i],
            failed: self.failed[i],
            status: self.status[i],
            event: self.event[i],
            branch: &self.branches[self.branch[i] as usize],
        }
    }

    /// Every deploy, group by group, each group in time order.
    pub fn iter(&self) -> impl Iterator<Item = DeployView<'_>> + '_ {
        self.groups
            .iter()
            .flat_map(move |g| g.range.clone().map(move |i| self.get(i, g)))
    }

    /// Heap bytes held, for the memory budget (strings are shared).
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        self.groups.capacity() * size_of::<Group>()
            + self.finished.capacity() * size_of::<i64>()
            + self.number.capacity() * size_of::<u64>()
            + self.failed.capacity() * size_of::<bool>()
            + self.status.capacity() * size_of::<Status>()
            + self.event.capacity() * size_of::<Event>()
            + self.branch.capacity() * size_of::<u32>()
            + self.branches.capacity() * size_of::<Arc<str>>()
            + self
                .groups
                .iter()
                .map(|g| g.environment.len())
                .sum::<usize>()
            + self.branches.iter().map(|b| b.len()).sum::<usize>()
    }
}
