//! Pipelines → deploys: selection (rule 1), outcome (rule 2) and order
//! (rule 3), stored compactly because a dashboard may hold millions.

// Seeded and fast: the engine hashes a name or commit per pipeline.
use foldhash::{HashMap, HashMapExt};
use std::ops::Range;

use super::deploy_units::{judge, TreeVerdict};
use super::pipeline::{Event, Pipeline, Status, Trees};
use super::settings::{DeployFilter, Outcome, RecoverySettings};

/// Index of a (repo, environment) group in a [`Deploys`]. Groups are numbered
/// in name order, so ids do not depend on the order of the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupId(pub u32);

/// One deploy as stored: 32 bytes, names interned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Deploy {
    pub finished: i64,
    pub number: u64,
    pub group: u32,
    branch: u32,
    pub status: Status,
    pub event: Event,
    pub outcome: Outcome,
}

#[derive(Clone, Debug)]
struct Group {
    repo: u32,
    environment: u32,
    /// This group's slice of `Deploys::items`.
    start: u32,
    end: u32,
}

/// All deploys, sorted by (group, finished, number).
#[derive(Clone, Debug, Default)]
pub struct Deploys {
    items: Vec<Deploy>,
    groups: Vec<Group>,
    names: Vec<Box<str>>,
}

/// A deploy as the plugin's "deploys" table shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeployRow<'a> {
    pub repo: &'a str,
    pub environment: &'a str,
    pub group: GroupId,
    pub finished: i64,
    pub status: Status,
    pub number: u64,
    pub event: Event,
    pub branch: &'a str,
}

impl Deploys {
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn group_count(&self) -> usize {
        self.groups.len()
    }

    pub fn repo(&self, group: GroupId) -> &str {
        &self.names[self.groups[group.0 as usize].repo as usize]
    }

    pub fn environment(&self, group: GroupId) -> &str {
        &self.names[self.groups[group.0 as usize].environment as usize]
    }

    /// Every deploy, ordered by repo, environment, finished, number.
    pub fn iter(&self) -> impl Iterator<Item = DeployRow<'_>> + '_ {
        self.items.iter().map(|d| DeployRow {
            repo: self.repo(GroupId(d.group)),
            environment: self.environment(GroupId(d.group)),
            group: GroupId(d.group),
            finished: d.finished,
            status: d.status,
            number: d.number,
            event: d.event,
            branch: &self.names[d.branch as usize],
        })
    }

    /// The interned name of a deploy's branch.
    pub(crate) fn branch_id(&self, d: &Deploy) -> u32 {
        d.branch
    }

    pub(crate) fn name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }

    pub(crate) fn items(&self) -> &[Deploy] {
        &self.items
    }

    /// Each group's deploys, in order.
    pub(crate) fn group_slices(&self) -> impl Iterator<Item = (GroupId, &[Deploy])> + '_ {
        self.groups.iter().enumerate().map(|(i, g)| {
            let r: Range<usize> = g.start as usize..g.end as usize;
            (GroupId(i as u32), &self.items[r])
        })
    }

    /// Every deploy with whether it is rework: an outcome that follows a
    /// failed deploy of its group (the later attempts of a failure chain
    /// and the success that ends it), counting deploys before any range.
    pub(crate) fn with_rework(&self) -> impl Iterator<Item = (&Deploy, bool)> + '_ {
        let mut last: Option<(u32, Outcome)> = None;
        self.items.iter().map(move |d| {
            let rework = d.outcome != Outcome::Ignored && last == Some((d.group, Outcome::Failure));
            if d.outcome != Outcome::Ignored {
                last = Some((d.group, d.outcome));
            }
            (d, rework)
        })
    }

    /// Bytes this value holds on the heap (for the memory budget).
    pub fn heap_bytes(&self) -> usize {
        self.items.capacity() * std::mem::size_of::<Deploy>()
            + self.groups.capacity() * std::mem::size_of::<Group>()
            + self.names.capacity() * std::mem::size_of::<Box<str>>()
            + self.names.iter().map(|n| n.len()).sum::<usize>()
    }
}

/// Interns strings so that each distinct name is stored once.
#[derive(Default)]
struct Interner {
    ids: HashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
}

impl Interner {
    fn intern(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(s.into());
        self.ids.insert(s.into(), id);
        id
    }
}

/// The environment a deploy targets: `deploy_to`, else its branch (teams that
/// deploy from `push`/`tag` pipelines on `main` leave `deploy_to` empty).
pub fn environment_of(p: &Pipeline) -> &str {
    if p.deploy_to().is_empty() {
        p.branch()
    } else {
        p.deploy_to()
    }
}

/// The status and time `p` is listed with as a deploy: its own, or with
/// deploy steps, its matched units' in its tree from `trees` (looked up
/// only then: most pipelines are no candidate). `None` when it is not
/// listed: not a candidate, no matching unit, or its tree is not held (see
/// [`trees_missing`]).
fn listed_as(
    p: &Pipeline,
    trees: &Trees,
    filter: &DeployFilter,
    settings: &RecoverySettings,
) -> Option<(Status, i64)> {
    if !filter.admits(p) {
        return None;
    }
    if filter.deploy_steps.is_empty() {
        return Some((p.status(), p.finished()));
    }
    match judge(p, trees.get(&p.number()), &filter.deploy_steps, settings) {
        TreeVerdict::Listed { status, finished } => Some((status, finished)),
        TreeVerdict::NoUnit | TreeVerdict::Unknown => None,
    }
}

/// Candidates of one repo's history that deploy steps would judge but
/// whose workflow tree is not in `trees`, so they are left out of the
/// deploys.
pub fn trees_missing(pipelines: &[Pipeline], trees: &Trees, filter: &DeployFilter) -> usize {
    pipelines
        .iter()
        .filter(|p| filter.needs_tree(p) && !trees.contains_key(&p.number()))
        .count()
}

/// Selects the deploys of each repo's history (rule 1; with deploy steps,
/// judged by the matched workflows and steps, rule 1a) and orders them
/// (rule 3). Each history comes with its repo's workflow trees, by number.
/// A repo may appear more than once; a pipeline listed twice counts once.
pub fn collect_deploys<'a>(
    histories: impl IntoIterator<Item = (&'a str, &'a [Pipeline], &'a Trees)>,
    filter: &DeployFilter,
    settings: &RecoverySettings,
) -> Deploys {
    let mut names = Interner::default();
    let mut group_ids: HashMap<(u32, u32), u32> = HashMap::new();
    let mut group_keys: Vec<(u32, u32)> = Vec::new();
    let mut items = Vec::new();
    for (repo, pipelines, trees) in histories {
        let repo = names.intern(repo);
        for p in pipelines {
            let Some((status, finished)) = listed_as(p, trees, filter, settings) else {
                continue;
            };
            let key = (repo, names.intern(environment_of(p)));
            let group = *group_ids.entry(key).or_insert_with(|| {
                group_keys.push(key);
                group_keys.len() as u32 - 1
            });
            items.push(Deploy {
                finished,
                number: p.number(),
                group,
                branch: names.intern(p.branch()),
                status,
                event: p.event(),
                outcome: settings.outcome(status),
            });
        }
    }

    // Renumber groups in name order so results do not depend on input order.
    let names = names.names;
    let mut order: Vec<u32> = (0..group_keys.len() as u32).collect();
    order.sort_unstable_by(|&a, &b| {
        let (ra, ea) = group_keys[a as usize];
        let (rb, eb) = group_keys[b as usize];
        (&names[ra as usize], &names[ea as usize]).cmp(&(&names[rb as usize], &names[eb as usize]))
    });
    let mut renumber = vec![0u32; order.len()];
    for (new, &old) in order.iter().enumerate() {
        renumber[old as usize] = new as u32;
    }
    for d in &mut items {
        d.group = renumber[d.group as usize];
    }

    items.sort_unstable_by_key(|d| (d.group, d.finished, d.number, d.status, d.event, d.branch));
    items.dedup();
    items.shrink_to_fit();

    let mut groups: Vec<Group> = order
        .iter()
        .map(|&old| {
            let (repo, environment) = group_keys[old as usize];
            Group {
                repo,
                environment,
                start: 0,
                end: 0,
            }
        })
        .collect();
    let mut start = 0;
    for (g, group) in groups.iter_mut().enumerate() {
        let len = items[start..].partition_point(|d| d.group as usize == g);
        group.start = start as u32;
        group.end = (start + len) as u32;
        start += len;
    }
    Deploys {
        items,
        groups,
        names,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::PipelineFields;
    use crate::domain::Tree;

    pub fn pipeline(number: u64, status: Status, deploy_to: &str, finished: i64) -> Pipeline {
        Pipeline::from(PipelineFields {
            number,
            status,
            event: Event::Deployment,
            branch: "main",
            deploy_to,
            created: finished.saturating_sub(60),
            started: finished.saturating_sub(50),
            finished,
            ..PipelineFields::default()
        })
    }

    fn numbers(d: &Deploys) -> Vec<(String, String, u64)> {
        d.iter()
            .map(|r| (r.repo.into(), r.environment.into(), r.number))
            .collect()
    }

    #[test]
    fn empty_input_gives_no_deploys() {
        let d = collect_deploys([], &DeployFilter::default(), &RecoverySettings::default());
        assert!(d.is_empty());
        assert_eq!(d.group_count(), 0);
    }

    #[test]
    fn only_finished_deploy_events_are_deploys() {
        let mut push = pipeline(2, Status::Success, "", 20);
        push = Pipeline::from(PipelineFields {
            event: Event::Push,
            ..push.fields()
        });
        let running = pipeline(3, Status::Running, "prod", 0);
        let ps = [pipeline(1, Status::Success, "prod", 10), push, running];
        let d = collect_deploys(
            [("o/r", &ps[..], &Trees::new())],
            &DeployFilter::default(),
            &RecoverySettings::default(),
        );
        assert_eq!(numbers(&d), vec![("o/r".into(), "prod".into(), 1)]);
    }

    #[test]
    fn environment_is_deploy_to_else_branch() {
        let mut push = pipeline(2, Status::Success, "", 20);
        push = Pipeline::from(PipelineFields {
            event: Event::Push,
            ..push.fields()
        });
        let ps = [pipeline(1, Status::Success, "prod", 10), push];
        let filter = DeployFilter {
            events: vec![Event::Deployment, Event::Push],
            ..DeployFilter::default()
        };
        let d = collect_deploys(
            [("o/r", &ps[..], &Trees::new())],
            &filter,
            &RecoverySettings::default(),
        );
        assert_eq!(
            numbers(&d),
            vec![
                ("o/r".into(), "main".into(), 2),
                ("o/r".into(), "prod".into(), 1)
            ]
        );
    }

    #[test]
    fn branch_and_environment_filters() {
        let mut other = pipeline(2, Status::Success, "prod", 20);
        other = Pipeline::from(PipelineFields {
            branch: "release",
            ..other.fields()
        });
        let ps = [
            pipeline(1, Status::Success, "prod", 10),
            other,
            pipeline(3, Status::Success, "staging", 30),
        ];
        let filter = DeployFilter {
            branches: vec!["main".into()],
            environments: vec!["prod".into()],
            ..DeployFilter::default()
        };
        let d = collect_deploys(
            [("o/r", &ps[..], &Trees::new())],
            &filter,
            &RecoverySettings::default(),
        );
        assert_eq!(numbers(&d), vec![("o/r".into(), "prod".into(), 1)]);
    }

    #[test]
    fn ordered_by_finished_then_number_within_group() {
        let ps = [
            pipeline(5, Status::Success, "prod", 30),
            pipeline(4, Status::Failure, "prod", 10),
            pipeline(3, Status::Failure, "prod", 10),
        ];
        let d = collect_deploys(
            [("o/r", &ps[..], &Trees::new())],
            &DeployFilter::default(),
            &RecoverySettings::default(),
        );
        let n: Vec<u64> = d.iter().map(|r| r.number).collect();
        assert_eq!(n, vec![3, 4, 5]);
    }

    #[test]
    fn groups_numbered_by_name_and_duplicates_dropped() {
        let a = [pipeline(1, Status::Success, "prod", 10)];
        let b = [
            pipeline(7, Status::Failure, "prod", 5),
            pipeline(7, Status::Failure, "prod", 5),
        ];
        let s = RecoverySettings::default();
        let f = DeployFilter::default();
        let d1 = collect_deploys(
            [
                ("z/z", &a[..], &Trees::new()),
                ("a/a", &b[..], &Trees::new()),
            ],
            &f,
            &s,
        );
        let d2 = collect_deploys(
            [
                ("a/a", &b[..], &Trees::new()),
                ("z/z", &a[..], &Trees::new()),
            ],
            &f,
            &s,
        );
        assert_eq!(d1.len(), 2);
        assert_eq!(d1.repo(GroupId(0)), "a/a");
        assert_eq!(d1.iter().collect::<Vec<_>>(), d2.iter().collect::<Vec<_>>());
    }

    /// A push, and its tree added to `trees` when given.
    fn push_with(
        trees: &mut Trees,
        number: u64,
        finished: i64,
        tree: Option<&[(&str, Status, i64)]>,
    ) -> Pipeline {
        if let Some(t) = tree {
            let workflows = t
                .iter()
                .map(|&(name, state, finished)| crate::domain::Workflow {
                    name: name.into(),
                    state,
                    started: finished.saturating_sub(30),
                    finished,
                    steps: Vec::new(),
                })
                .collect();
            trees.insert(number, Tree::new(workflows));
        }
        let p = pipeline(number, Status::Failure, "", finished);
        Pipeline::from(PipelineFields {
            event: Event::Push,
            ..p.fields()
        })
    }

    #[test]
    fn deploy_steps_judge_candidates_by_their_matched_units() {
        let mut trees = Trees::new();
        let t = &mut trees;
        let ps = [
            push_with(
                t,
                1,
                100,
                Some(&[
                    ("test", Status::Success, 50),
                    ("deploy", Status::Success, 90),
                ]),
            ),
            push_with(
                t,
                2,
                200,
                Some(&[
                    ("test", Status::Failure, 150),
                    ("deploy", Status::Skipped, 0),
                ]),
            ),
            push_with(t, 3, 300, Some(&[("test", Status::Failure, 250)])),
            push_with(t, 4, 400, None),
            push_with(
                t,
                5,
                500,
                Some(&[
                    ("test", Status::Success, 450),
                    ("deploy", Status::Error, 480),
                ]),
            ),
        ];
        let filter = DeployFilter {
            events: vec![Event::Push],
            deploy_steps: vec!["deploy".into()],
            ..DeployFilter::default()
        };
        let d = collect_deploys(
            [("o/r", &ps[..], &trees)],
            &filter,
            &RecoverySettings::default(),
        );
        let listed: Vec<(u64, Status, i64)> =
            d.iter().map(|r| (r.number, r.status, r.finished)).collect();
        // 3 has no deploy unit (CI only), 4 has no tree: neither is listed.
        assert_eq!(
            listed,
            vec![
                (1, Status::Success, 90),
                (2, Status::Skipped, 200),
                (5, Status::Error, 480)
            ]
        );
        let outcomes: Vec<Outcome> = d.items().iter().map(|x| x.outcome).collect();
        assert_eq!(
            outcomes,
            [Outcome::Success, Outcome::Ignored, Outcome::Failure]
        );
        assert_eq!(trees_missing(&ps, &trees, &filter), 1);
        // Without deploy steps the pipeline is the deploy and no tree is needed.
        let whole = DeployFilter {
            deploy_steps: Vec::new(),
            ..filter
        };
        assert_eq!(
            collect_deploys(
                [("o/r", &ps[..], &trees)],
                &whole,
                &RecoverySettings::default()
            )
            .len(),
            5
        );
        assert_eq!(trees_missing(&ps, &trees, &whole), 0);
    }

    #[test]
    fn only_candidates_need_a_tree() {
        let filter = DeployFilter {
            events: vec![Event::Push],
            branches: vec!["main".into()],
            deploy_steps: vec!["deploy".into()],
            ..DeployFilter::default()
        };
        let t = &mut Trees::new();
        let candidate = push_with(t, 1, 100, None);
        let running = push_with(t, 2, 0, None);
        let other_branch = Pipeline::from(PipelineFields {
            branch: "feature",
            ..push_with(t, 3, 100, None).fields()
        });
        let other_event = pipeline(4, Status::Success, "prod", 100);
        assert!(filter.needs_tree(&candidate));
        for p in [running, other_branch, other_event] {
            assert!(!filter.needs_tree(&p), "{}", p.number());
        }
    }

    #[test]
    fn a_deploy_is_32_bytes() {
        assert_eq!(std::mem::size_of::<Deploy>(), 32);
    }
}
