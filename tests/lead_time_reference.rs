//! Lead time for changes against a naive reference written from the rules
//! in docs/metrics.md: quadratic, no indexes, no cursors.

use proptest::prelude::*;
use woodpecker_dora::domain::*;

const STEP: i64 = 600;

fn arb_pipeline(number: u64) -> impl Strategy<Value = Pipeline> {
    let event = prop_oneof![
        5 => Just(Event::Push),
        4 => Just(Event::Deployment),
        1 => Just(Event::PullRequest),
        1 => Just(Event::Tag),
    ];
    let status = prop_oneof![7 => Just(Status::Success), 2 => Just(Status::Failure), 1 => Just(Status::Canceled)];
    let branch = prop_oneof![3 => Just("main"), 1 => Just("dev")];
    let deploy_to = prop_oneof![Just("prod"), Just("staging")];
    // Parents point back (0 is none); a few point at nothing held.
    let parent = prop_oneof![2 => Just(0u64), 3 => 0..number, 1 => Just(number + 1000)];
    let commit = prop_oneof![Just(""), Just("a"), Just("b"), Just("c")];
    // Durations long enough that finish order often differs from number order.
    let duration = 1i64..40;
    (
        event,
        status,
        branch,
        deploy_to,
        parent,
        commit,
        duration,
        0i64..STEP,
    )
        .prop_map(
            move |(event, status, branch, deploy_to, parent, commit, duration, jitter)| {
                Pipeline::from(PipelineFields {
                    number,
                    status,
                    event,
                    branch,
                    deploy_to: if event == Event::Deployment {
                        deploy_to
                    } else {
                        ""
                    },
                    parent: if event == Event::Push || event == Event::Deployment {
                        parent
                    } else {
                        0
                    },
                    commit: commit.into(),
                    created: number as i64 * STEP + jitter,
                    started: number as i64 * STEP + jitter + 1,
                    finished: number as i64 * STEP + jitter + duration * STEP,
                })
            },
        )
}

fn arb_repo() -> impl Strategy<Value = Vec<Pipeline>> {
    (0usize..40).prop_flat_map(|n| (1..=n as u64).map(arb_pipeline).collect::<Vec<_>>())
}

fn arb_filter() -> impl Strategy<Value = DeployFilter> {
    (any::<bool>(), any::<bool>()).prop_map(|(push_deploys, tags_change)| DeployFilter {
        events: if push_deploys {
            vec![Event::Deployment, Event::Push]
        } else {
            vec![Event::Deployment]
        },
        change_events: if tags_change {
            vec![Event::Push, Event::Tag]
        } else {
            vec![Event::Push]
        },
        ..DeployFilter::default()
    })
}

// ---------------------------------------------------------------- reference

#[derive(Clone, Debug, PartialEq)]
struct RefChange {
    repo: String,
    env: String,
    number: u64,
    created: i64,
    delivered: Option<(i64, u64)>,
    /// When its branch first delivered to the environment.
    since: i64,
}

fn find(ps: &[Pipeline], number: u64) -> Option<&Pipeline> {
    ps.iter().find(|p| p.number() == number)
}

fn is_change(p: &Pipeline, f: &DeployFilter) -> bool {
    p.parent() == 0 && f.change_events.contains(&p.event())
}

/// Restarts lead back to their original, through parents of the same event.
fn original<'a>(ps: &'a [Pipeline], mut p: &'a Pipeline) -> &'a Pipeline {
    for _ in 0..64 {
        match find(ps, p.parent()).filter(|q| p.parent() != 0 && q.event() == p.event()) {
            Some(q) => p = q,
            None => break,
        }
    }
    p
}

/// The change number a deploy ships, straight from the rules.
fn source(ps: &[Pipeline], d: &Pipeline, f: &DeployFilter) -> Option<u64> {
    if d.event() != Event::Deployment {
        return Some(original(ps, d).number());
    }
    let mut at = d;
    for _ in 0..64 {
        let Some(parent) = find(ps, at.parent()).filter(|_| at.parent() != 0) else {
            break;
        };
        if parent.event() == Event::Deployment {
            at = parent;
            continue;
        }
        let o = original(ps, parent);
        if is_change(o, f) && o.branch() == d.branch() {
            return Some(o.number());
        }
        break;
    }
    if d.commit().is_empty() {
        return None;
    }
    ps.iter()
        .filter(|c| is_change(c, f) && c.branch() == d.branch() && c.commit() == d.commit())
        .map(|c| c.number())
        .min()
}

fn env_of(p: &Pipeline) -> &str {
    if p.deploy_to().is_empty() {
        p.branch()
    } else {
        p.deploy_to()
    }
}

fn reference(
    repos: &[(String, Vec<Pipeline>)],
    f: &DeployFilter,
    complete: bool,
) -> Vec<RefChange> {
    let mut out = Vec::new();
    for (repo, ps) in repos {
        let mut envs: Vec<&str> = ps.iter().map(env_of).collect();
        envs.sort_unstable();
        envs.dedup();
        for env in envs {
            let mut deploys: Vec<&Pipeline> = ps
                .iter()
                .filter(|p| {
                    f.events.contains(&p.event())
                        && env_of(p) == env
                        && p.status() == Status::Success
                })
                .collect();
            deploys.sort_by_key(|p| (p.finished(), p.number()));
            let mut branches: Vec<&str> = deploys.iter().map(|d| d.branch()).collect();
            branches.sort_unstable();
            branches.dedup();
            for branch in branches {
                let mine: Vec<&&Pipeline> =
                    deploys.iter().filter(|d| d.branch() == branch).collect();
                let since = mine[0].finished();
                let changes: Vec<&Pipeline> = ps
                    .iter()
                    .filter(|c| is_change(c, f) && c.branch() == branch)
                    .collect();
                // Without the whole history the first deploy with a known
                // source only marks what was delivered before.
                let mut floor = None;
                let mut delivered: Vec<(u64, (i64, u64))> = Vec::new();
                let mut started = complete;
                for d in &mine {
                    let Some(src) = source(ps, d, f) else {
                        continue;
                    };
                    if !started {
                        floor = Some(src);
                        started = true;
                        continue;
                    }
                    for c in &changes {
                        let done = delivered.iter().any(|(n, _)| *n == c.number())
                            || floor.is_some_and(|fl| c.number() <= fl);
                        if !done && c.number() <= src {
                            delivered.push((c.number(), (d.finished(), d.number())));
                        }
                    }
                }
                if !started {
                    continue;
                }
                for c in &changes {
                    if floor.is_some_and(|fl| c.number() <= fl) {
                        continue;
                    }
                    out.push(RefChange {
                        repo: repo.clone(),
                        env: env.to_string(),
                        number: c.number(),
                        created: c.created(),
                        delivered: delivered
                            .iter()
                            .find(|(n, _)| *n == c.number())
                            .map(|x| x.1),
                        since,
                    });
                }
            }
        }
    }
    out
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let h = p * (sorted.len() - 1) as f64;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (h - lo as f64)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn lead_time_matches_naive_reference(
        repos in proptest::collection::vec(arb_repo(), 1..3),
        filter in arb_filter(),
        complete in any::<bool>(),
        min_sample in 1usize..4,
        from in 0i64..30,
        len in 0i64..40,
    ) {
        let repos: Vec<(String, Vec<Pipeline>)> =
            repos.into_iter().enumerate().map(|(i, ps)| (format!("o/r{i}"), ps)).collect();
        let settings = RecoverySettings { min_sample, ..RecoverySettings::default() };
        let range = TimeRange { from: from * STEP * 2, to: (from + len) * STEP * 2 };
        let no_trees = Trees::new();
        let deploys = collect_deploys(repos.iter().map(|(r, ps)| (r.as_str(), ps.as_slice(), &no_trees)), &filter, &settings);
        let incidents = pair(&deploys, &settings, i64::MAX);
        let log = collect_changes(repos.iter().map(|(r, ps)| (r.as_str(), ps.as_slice(), complete)), &filter);
        let changes = deliver(&log, &deploys);
        let want = reference(&repos, &filter, complete);

        // Rows: delivered in range, or waiting at its end.
        let mut got: Vec<(String, String, u64, Option<u64>)> = changes
            .rows_in(&deploys, range)
            .map(|r| (r.repo.to_string(), r.environment.to_string(), r.number, r.delivered_by))
            .collect();
        got.sort();
        let delivered_in = |c: &RefChange| c.delivered.is_some_and(|(at, _)| range.contains(at));
        let waiting = |c: &RefChange| {
            range.contains(c.created)
                && c.since <= range.to
                && c.delivered.is_none_or(|(at, _)| at > range.to)
        };
        let mut expected: Vec<(String, String, u64, Option<u64>)> = want
            .iter()
            .filter(|c| delivered_in(c) || waiting(c))
            .map(|c| (c.repo.clone(), c.env.clone(), c.number, c.delivered.filter(|_| delivered_in(c)).map(|d| d.1)))
            .collect();
        expected.sort();
        prop_assert_eq!(got, expected);

        // Statistics.
        let s = summarise(&deploys, &incidents, &changes, range, &settings);
        let mut leads: Vec<f64> = want
            .iter()
            .filter(|c| delivered_in(c))
            .map(|c| (c.delivered.unwrap().0 - c.created).max(0) as f64)
            .collect();
        leads.sort_by(f64::total_cmp);
        prop_assert_eq!(s.changes, leads.len());
        let enough = !leads.is_empty() && leads.len() >= min_sample;
        let close = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => (a - b).abs() < 1e-6,
            (a, b) => a == b,
        };
        prop_assert!(close(s.lead_time_p50, enough.then(|| percentile(&leads, 0.5))));
        prop_assert!(close(s.lead_time_p90, enough.then(|| percentile(&leads, 0.9))));
        let waiting_now: Vec<&RefChange> = want.iter().filter(|c| waiting(c)).collect();
        prop_assert_eq!(s.waiting_changes, waiting_now.len());
        prop_assert_eq!(
            s.oldest_waiting_secs,
            waiting_now.iter().map(|c| (range.to - c.created).max(0)).max()
        );
    }
}
