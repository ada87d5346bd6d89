//! The engine against a deliberately naive reference (O(n²), written straight
//! from the rules in docs/metrics.md), plus invariants, on random histories.

use proptest::prelude::*;
use woodpecker_dora::domain::*;

const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

// ---------------------------------------------------------------- reference

#[derive(Clone, Debug)]
struct RefDeploy {
    repo: String,
    env: String,
    number: u64,
    finished: i64,
    outcome: Outcome,
}

type Key = (String, String, u64); // repo, environment, number

#[derive(Clone, Debug, PartialEq)]
struct RefIncident {
    key: Key,
    failed_at: i64,
    state: IncidentState,
}

fn ref_deploys(
    histories: &[(String, Vec<Pipeline>)],
    filter: &DeployFilter,
    settings: &RecoverySettings,
) -> Vec<RefDeploy> {
    let mut out = Vec::new();
    for (repo, ps) in histories {
        for p in ps {
            let env = if p.deploy_to().is_empty() {
                p.branch().to_string()
            } else {
                p.deploy_to().to_string()
            };
            let selected = p.finished() > 0
                && filter.events.contains(&p.event())
                && (filter.branches.is_empty() || filter.branches.iter().any(|b| b == p.branch()))
                && (filter.environments.is_empty() || filter.environments.contains(&env));
            if !selected {
                continue;
            }
            let outcome = if p.status() == Status::Success {
                Outcome::Success
            } else if settings.failure_statuses.contains(&p.status()) {
                Outcome::Failure
            } else {
                Outcome::Ignored
            };
            out.push(RefDeploy {
                repo: repo.clone(),
                env,
                number: p.number(),
                finished: p.finished(),
                outcome,
            });
        }
    }
    out
}

fn before(a: &RefDeploy, b: &RefDeploy) -> bool {
    (a.finished, a.number) < (b.finished, b.number)
}

fn ref_pair(deploys: &[RefDeploy], settings: &RecoverySettings, now: i64) -> Vec<RefIncident> {
    let same = |a: &RefDeploy, b: &RefDeploy| a.repo == b.repo && a.env == b.env;
    let mut out = Vec::new();
    for f in deploys.iter().filter(|d| d.outcome == Outcome::Failure) {
        let group: Vec<&RefDeploy> = deploys.iter().filter(|d| same(d, f)).collect();
        let successes = || group.iter().filter(|d| d.outcome == Outcome::Success);
        let failures = || group.iter().filter(|d| d.outcome == Outcome::Failure);
        // The last success before f bounds f's chain from below.
        let prev = successes()
            .filter(|s| before(s, f))
            .max_by_key(|s| (s.finished, s.number));
        let anchor = failures()
            .filter(|c| prev.is_none_or(|p| before(p, c)) && !before(f, c))
            .min_by_key(|c| (c.finished, c.number))
            .expect("f itself qualifies");
        let state = if anchor.number != f.number {
            IncidentState::Superseded { by: anchor.number }
        } else {
            let next = successes()
                .filter(|s| before(f, s))
                .min_by_key(|s| (s.finished, s.number));
            let chain_failures = failures()
                .filter(|c| !before(c, f) && next.is_none_or(|n| before(c, n)))
                .count() as u32;
            match next {
                Some(n) if n.finished - f.finished <= settings.window_secs => {
                    IncidentState::Resolved {
                        chain_failures,
                        recovered_at: n.finished,
                        recovered_by: n.number,
                        recovery_secs: n.finished - f.finished,
                        flaky: n.finished - f.finished < settings.flaky_secs,
                    }
                }
                _ => IncidentState::Open {
                    chain_failures,
                    expired: next.is_some() || now - f.finished > settings.window_secs,
                },
            }
        };
        out.push(RefIncident {
            key: (f.repo.clone(), f.env.clone(), f.number),
            failed_at: f.finished,
            state,
        });
    }
    out.sort_by(|a, b| {
        (&a.key.0, &a.key.1, a.failed_at, a.key.2).cmp(&(&b.key.0, &b.key.1, b.failed_at, b.key.2))
    });
    out
}

#[derive(Debug, PartialEq)]
struct RefStats {
    count: usize,
    p50: Option<f64>,
    p90: Option<f64>,
    mean: Option<f64>,
    min: Option<f64>,
    max: Option<f64>,
    band: Option<Band>,
}

/// Statistics over the anchors with `failed_at` in `[lo, hi]`.
fn ref_stats(incidents: &[RefIncident], lo: i64, hi: i64, settings: &RecoverySettings) -> RefStats {
    let censor = settings.open_incidents == OpenIncidents::Censor;
    let mut v: Vec<f64> = Vec::new();
    for i in incidents
        .iter()
        .filter(|i| lo <= i.failed_at && i.failed_at <= hi)
    {
        match i.state {
            IncidentState::Resolved {
                recovery_secs,
                flaky: false,
                ..
            } => v.push(recovery_secs as f64),
            IncidentState::Open { expired: true, .. } if censor => v.push(f64::INFINITY),
            _ => {}
        }
    }
    let n = v.len();
    if n == 0 || n < settings.min_sample {
        return RefStats {
            count: n,
            p50: None,
            p90: None,
            mean: None,
            min: None,
            max: None,
            band: None,
        };
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let finite = |x: f64| x.is_finite().then_some(x);
    let pct = |v: &[f64], p: f64| {
        let h = p * (n - 1) as f64;
        let (l, frac) = (h.floor() as usize, h - h.floor());
        if frac == 0.0 {
            v[l]
        } else {
            v[l] + (v[l + 1] - v[l]) * frac
        }
    };
    let p50 = finite(pct(&v, 0.5));
    let capped: Vec<f64> = v
        .iter()
        .map(|&x| x.min(settings.window_secs as f64))
        .collect();
    let band = match p50 {
        Some(m) => Some(Band::of_recovery_secs(m)),
        None if pct(&capped, 0.5) >= 7.0 * DAY as f64 => Some(Band::Low),
        None => None,
    };
    RefStats {
        count: n,
        p50,
        p90: finite(pct(&v, 0.9)),
        mean: finite(v.iter().sum::<f64>() / n as f64),
        min: finite(v[0]),
        max: finite(v[n - 1]),
        band,
    }
}

// ---------------------------------------------------------------- generators

fn arb_pipeline(number: u64) -> impl Strategy<Value = Pipeline> {
    let status = prop_oneof![
        4 => Just(Status::Success),
        3 => Just(Status::Failure),
        1 => Just(Status::Error),
        1 => Just(Status::Killed),
        1 => Just(Status::Canceled),
        1 => Just(Status::Running),
    ];
    let event = prop_oneof![4 => Just(Event::Deployment), 1 => Just(Event::Push)];
    let deploy_to = prop_oneof![Just("prod"), Just("staging"), Just("")];
    let branch = prop_oneof![Just("main"), Just("dev")];
    // Coarse times (10-minute steps over ~5.5 days) make ties and exact
    // window/flaky edges common; 1 in 20 is unfinished.
    let finished = prop_oneof![1 => Just(0i64), 19 => (1i64..800).prop_map(|k| k * STEP)];
    (status, event, deploy_to, branch, finished).prop_map(
        move |(status, event, deploy_to, branch, finished)| {
            Pipeline::from(PipelineFields {
                number,
                status,
                event,
                branch,
                deploy_to,
                created: 0,
                started: 0,
                finished,
                ..PipelineFields::default()
            })
        },
    )
}

fn arb_repo() -> impl Strategy<Value = Vec<Pipeline>> {
    (0usize..50).prop_flat_map(|n| (1..=n as u64).map(arb_pipeline).collect::<Vec<_>>())
}

fn arb_histories() -> impl Strategy<Value = Vec<(String, Vec<Pipeline>)>> {
    prop::collection::vec(arb_repo(), 1..4).prop_map(|repos| {
        repos
            .into_iter()
            .enumerate()
            .map(|(i, ps)| (format!("org/repo{i}"), ps))
            .collect()
    })
}

fn arb_settings() -> impl Strategy<Value = (DeployFilter, RecoverySettings)> {
    (
        prop::bool::ANY,
        prop::bool::ANY,
        prop::bool::ANY,
        prop::bool::ANY,
        prop_oneof![Just(HOUR), Just(6 * HOUR), Just(DAY), Just(7 * DAY)],
        prop_oneof![Just(0i64), Just(600), Just(3 * HOUR)],
        1usize..6,
        prop::bool::ANY,
    )
        .prop_map(
            |(push, main_only, prod_only, killed, window, flaky, min_sample, censor)| {
                let filter = DeployFilter {
                    events: if push {
                        vec![Event::Deployment, Event::Push]
                    } else {
                        vec![Event::Deployment]
                    },
                    branches: if main_only {
                        vec!["main".into()]
                    } else {
                        vec![]
                    },
                    environments: if prod_only {
                        vec!["prod".into(), "main".into()]
                    } else {
                        vec![]
                    },
                    ..DeployFilter::default()
                };
                let mut failure_statuses = vec![Status::Failure, Status::Error];
                if killed {
                    failure_statuses.push(Status::Killed);
                }
                let settings = RecoverySettings {
                    failure_statuses,
                    window_secs: window,
                    flaky_secs: flaky,
                    min_sample,
                    open_incidents: if censor {
                        OpenIncidents::Censor
                    } else {
                        OpenIncidents::Exclude
                    },
                };
                (filter, settings)
            },
        )
}

// ---------------------------------------------------------------- helpers

const STEP: i64 = 600;

/// "Now" is at or after every generated pipeline.
fn arb_now() -> impl Strategy<Value = i64> {
    (800i64..1100).prop_map(|k| k * STEP)
}

fn collect(h: &[(String, Vec<Pipeline>)], f: &DeployFilter, s: &RecoverySettings) -> Deploys {
    let no_trees = Trees::new();
    collect_deploys(
        h.iter()
            .map(|(r, ps)| (r.as_str(), ps.as_slice(), &no_trees)),
        f,
        s,
    )
}

fn as_ref(deploys: &Deploys, incidents: &Incidents) -> Vec<RefIncident> {
    incidents
        .iter()
        .map(|i| RefIncident {
            key: (
                deploys.repo(i.group).into(),
                deploys.environment(i.group).into(),
                i.number,
            ),
            failed_at: i.failed_at,
            state: i.state,
        })
        .collect()
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => (x - y).abs() <= 1e-6 * x.abs().max(1.0),
        (None, None) => true,
        _ => false,
    }
}

fn assert_stats(got: &Summary, want: &RefStats) -> Result<(), TestCaseError> {
    prop_assert_eq!(got.incidents, want.count);
    prop_assert!(close(got.p50, want.p50), "p50 {:?} {:?}", got.p50, want.p50);
    prop_assert!(close(got.p90, want.p90), "p90 {:?} {:?}", got.p90, want.p90);
    prop_assert!(
        close(got.mean, want.mean),
        "mean {:?} {:?}",
        got.mean,
        want.mean
    );
    prop_assert_eq!(got.min, want.min);
    prop_assert_eq!(got.max, want.max);
    prop_assert_eq!(got.band, want.band);
    Ok(())
}

fn arb_range() -> impl Strategy<Value = TimeRange> {
    (0i64..700_000, 0i64..700_000).prop_map(|(a, b)| TimeRange {
        from: a.min(b),
        to: a.max(b),
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(160))]

    #[test]
    fn engine_matches_naive_reference(
        histories in arb_histories(),
        (filter, settings) in arb_settings(),
        range in arb_range(),
        now in arb_now(),
    ) {
        let deploys = collect(&histories, &filter, &settings);
        let incidents = pair(&deploys, &settings, now);
        let changes = deliver(&collect_changes(histories.iter().map(|(r, ps)| (r.as_str(), ps.as_slice(), true)), &filter), &deploys);
        let reference_deploys = ref_deploys(&histories, &filter, &settings);
        let reference = ref_pair(&reference_deploys, &settings, now);
        prop_assert_eq!(as_ref(&deploys, &incidents), reference.clone());

        let s = summarise(&deploys, &incidents, &changes, range, &settings);
        assert_stats(&s, &ref_stats(&reference, range.from, range.to, &settings))?;
        let in_range = |d: &&RefDeploy| range.contains(d.finished);
        let counted = reference_deploys.iter().filter(in_range).filter(|d| d.outcome != Outcome::Ignored).count();
        let failed = reference_deploys.iter().filter(in_range).filter(|d| d.outcome == Outcome::Failure).count();
        let succeeded = counted - failed;
        prop_assert_eq!((s.deploys, s.failed_deploys), (counted, failed));
        prop_assert_eq!(s.change_failure_rate, (counted > 0).then(|| failed as f64 / counted as f64));
        prop_assert!((s.deploys_per_day - succeeded as f64 / range.days()).abs() < 1e-9);
        let inr: Vec<&RefIncident> = reference.iter().filter(|i| range.contains(i.failed_at)).collect();
        let open = inr.iter().filter(|i| matches!(i.state, IncidentState::Open { .. })).count();
        let sup = inr.iter().filter(|i| matches!(i.state, IncidentState::Superseded { .. })).count();
        let flaky = inr.iter().filter(|i| matches!(i.state, IncidentState::Resolved { flaky: true, .. })).count();
        prop_assert_eq!((s.open, s.superseded, s.flaky), (open, sup, flaky));

        // Rework: a deploy with an outcome whose previous deploy with an
        // outcome, in its group, failed (before the range too).
        let mut rework = 0;
        for d in reference_deploys.iter().filter(in_range).filter(|d| d.outcome != Outcome::Ignored) {
            let previous = reference_deploys
                .iter()
                .filter(|p| p.repo == d.repo && p.env == d.env && p.outcome != Outcome::Ignored && before(p, d))
                .max_by_key(|p| (p.finished, p.number));
            rework += usize::from(previous.is_some_and(|p| p.outcome == Outcome::Failure));
        }
        prop_assert_eq!(s.rework_deploys, rework);
        prop_assert_eq!(s.rework_rate, (counted > 0).then(|| rework as f64 / counted as f64));
        let oldest_open = inr
            .iter()
            .filter(|i| matches!(i.state, IncidentState::Open { .. }))
            .map(|i| range.to - i.failed_at)
            .max();
        prop_assert_eq!(s.oldest_open_secs, oldest_open.map(|a| a.max(0)));

        // Per-environment summaries agree with the reference restricted to that environment.
        let by_env = GroupBy { repo: false, environment: true };
        for (label, got) in summarise_by(&deploys, &incidents, &changes, range, &settings, by_env) {
            let env = label.environment.clone().unwrap();
            let mine: Vec<RefIncident> = reference.iter().filter(|i| i.key.1 == env).cloned().collect();
            assert_stats(&got, &ref_stats(&mine, range.from, range.to, &settings))?;
        }

        // Daily series points agree with the reference over each bucket.
        let spec = SeriesSpec { bucket_secs: DAY, rolling_secs: None, group_by: GroupBy::default() };
        for sr in series(&deploys, &incidents, &changes, range, &spec, &settings) {
            for p in sr.points {
                let want = ref_stats(&reference, p.time, p.time + DAY - 1, &settings);
                prop_assert_eq!(p.incidents, want.count);
                prop_assert!(close(p.p50, want.p50) && close(p.p90, want.p90) && close(p.mean, want.mean));
                // The deploy-side keys of a point are the summary of its bucket.
                let bucket = summarise(&deploys, &incidents, &changes, TimeRange { from: p.time, to: p.time + DAY - 1 }, &settings);
                prop_assert_eq!((p.changes, p.lead_time_p50, p.lead_time_p90), (bucket.changes, bucket.lead_time_p50, bucket.lead_time_p90));
                prop_assert_eq!((p.deploys, p.failed_deploys, p.rework_deploys), (bucket.deploys, bucket.failed_deploys, bucket.rework_deploys));
                prop_assert_eq!((p.change_failure_rate, p.rework_rate), (bucket.change_failure_rate, bucket.rework_rate));
                prop_assert!((p.deploys_per_day - bucket.deploys_per_day).abs() < 1e-9);
            }
        }
    }

    #[test]
    fn invariants_hold(
        histories in arb_histories(),
        (filter, settings) in arb_settings(),
        seed in any::<u64>(),
        now in arb_now(),
    ) {
        let deploys = collect(&histories, &filter, &settings);
        let incidents = pair(&deploys, &settings, now);
        let rows: Vec<DeployRow> = deploys.iter().collect();
        let key = |r: &DeployRow| (r.finished, r.number);

        // Every failed deploy is classified exactly once.
        let mut failed: Vec<(GroupId, u64)> = rows
            .iter()
            .filter(|r| settings.outcome(r.status) == Outcome::Failure)
            .map(|r| (r.group, r.number))
            .collect();
        let mut classified: Vec<(GroupId, u64)> = incidents.iter().map(|i| (i.group, i.number)).collect();
        failed.sort();
        classified.sort();
        prop_assert_eq!(failed, classified);

        for i in &incidents {
            let me = rows.iter().find(|r| r.group == i.group && r.number == i.number).unwrap();
            match i.state {
                IncidentState::Resolved { recovered_at, recovered_by, recovery_secs, flaky, .. } => {
                    let s = rows.iter().find(|r| r.group == i.group && r.number == recovered_by).unwrap();
                    prop_assert_eq!(s.status, Status::Success);
                    prop_assert!(key(s) > key(me));
                    prop_assert_eq!(s.finished, recovered_at);
                    prop_assert_eq!(recovery_secs, recovered_at - i.failed_at);
                    prop_assert!(recovery_secs <= settings.window_secs);
                    prop_assert_eq!(flaky, recovery_secs < settings.flaky_secs);
                }
                IncidentState::Superseded { by } => {
                    let a = incidents.iter().find(|a| a.group == i.group && a.number == by).unwrap();
                    prop_assert!(a.is_anchor());
                    let anchor = rows.iter().find(|r| r.group == i.group && r.number == by).unwrap();
                    prop_assert!(key(anchor) < key(me));
                    let success_between = rows.iter().any(|r| {
                        r.group == i.group && r.status == Status::Success
                            && key(r) > key(anchor) && key(r) < key(me)
                    });
                    prop_assert!(!success_between);
                }
                IncidentState::Open { chain_failures, .. } => prop_assert!(chain_failures >= 1),
            }
        }

        // Idempotent.
        prop_assert_eq!(&pair(&deploys, &settings, now), &incidents);
        let again = collect(&histories, &filter, &settings);
        prop_assert_eq!(rows.clone(), again.iter().collect::<Vec<_>>());

        // Shuffling repos and pipelines changes nothing.
        let mut shuffled = histories.clone();
        let mut state = seed | 1;
        let mut next = move |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        for (_, ps) in shuffled.iter_mut() {
            for k in (1..ps.len()).rev() {
                ps.swap(k, next(k + 1));
            }
        }
        shuffled.reverse();
        let d2 = collect(&shuffled, &filter, &settings);
        prop_assert_eq!(rows, d2.iter().collect::<Vec<_>>());
        prop_assert_eq!(&pair(&d2, &settings, now), &incidents);
    }
}

/// Cases of `range_cuts_never_change_an_incident_inside`.
const CUT_CASES: u32 = 160;

/// Cutting history as a data layer does never change an incident in range.
#[test]
fn range_cuts_never_change_an_incident_inside() {
    let checked = std::cell::Cell::new((0usize, 0usize));
    let strategy = (
        arb_histories(),
        arb_settings(),
        arb_range(),
        0i64..400_000,
        0i64..700_000,
        arb_now(),
    );
    // A fixed seed, so the counts asserted below do not vary between runs.
    let mut runner = proptest::test_runner::TestRunner::new_with_rng(
        ProptestConfig::with_cases(CUT_CASES),
        proptest::test_runner::TestRng::deterministic_rng(
            proptest::test_runner::RngAlgorithm::ChaCha,
        ),
    );
    let result = runner.run(
        &strategy,
        |(histories, (filter, settings), range, back, split, now)| {
            let full = collect(&histories, &filter, &settings);
            let incidents = pair(&full, &settings, now);
            // A chain's length needs history until the chain ends; everything
            // else only up to `to + window`. So lengths are compared separately.
            let inside = |d: &Deploys, i: &Incidents| -> Vec<RefIncident> {
                as_ref(d, i)
                    .into_iter()
                    .filter(|i| range.contains(i.failed_at))
                    .map(|mut i| {
                        match &mut i.state {
                            IncidentState::Resolved { chain_failures, .. }
                            | IncidentState::Open { chain_failures, .. } => *chain_failures = 0,
                            IncidentState::Superseded { .. } => {}
                        }
                        i
                    })
                    .collect()
            };

            // Fetch only [from - back, to + window], as a data layer would.
            let lo = range.from - back;
            let hi = range.to + settings.window_secs;
            let cut: Vec<(String, Vec<Pipeline>)> = histories
                .iter()
                .map(|(r, ps)| {
                    (
                        r.clone(),
                        ps.iter()
                            .filter(|p| p.finished() >= lo && p.finished() <= hi)
                            .cloned()
                            .collect(),
                    )
                })
                .collect();
            // Enough when the look-back is satisfied or, as a pager that
            // reaches a repo's first pipeline knows, nothing older exists.
            let enough = cut.iter().zip(&histories).all(|((_, ps), (_, whole))| {
                lookback_satisfied(ps, &Trees::new(), range.from, &filter, &settings)
                    || whole
                        .iter()
                        .all(|p| p.finished() == 0 || p.finished() >= lo)
            });
            if enough {
                let part = collect(&cut, &filter, &settings);
                let part_incidents = pair(&part, &settings, now);
                let want = inside(&full, &incidents);
                let (n, with_incidents) = checked.get();
                checked.set((n + 1, with_incidents + usize::from(!want.is_empty())));
                prop_assert_eq!(inside(&part, &part_incidents), want);
                prop_assert_eq!(
                    summarise(
                        &part,
                        &part_incidents,
                        &Changes::default(),
                        range,
                        &settings
                    )
                    .incidents,
                    summarise(&full, &incidents, &Changes::default(), range, &settings).incidents
                );
            }
            // Splitting a range splits its counts.
            if range.from <= split && split < range.to {
                let a = TimeRange {
                    from: range.from,
                    to: split,
                };
                let b = TimeRange {
                    from: split + 1,
                    to: range.to,
                };
                let (sa, sb) = (
                    summarise(&full, &incidents, &Changes::default(), a, &settings),
                    summarise(&full, &incidents, &Changes::default(), b, &settings),
                );
                let s = summarise(&full, &incidents, &Changes::default(), range, &settings);
                prop_assert_eq!(s.incidents, sa.incidents + sb.incidents);
                prop_assert_eq!(
                    s.open + s.superseded + s.flaky,
                    sa.open + sa.superseded + sa.flaky + sb.open + sb.superseded + sb.flaky
                );
                prop_assert_eq!(s.deploys, sa.deploys + sb.deploys);
            }
            Ok(())
        },
    );
    if let Err(e) = result {
        panic!("{e}");
    }
    // The comparison runs only when the cut holds enough history: make sure
    // it ran in a good share of the cases, and that many held incidents.
    let (n, with_incidents) = checked.get();
    eprintln!("range cuts: {n} of {CUT_CASES} cases compared, {with_incidents} with incidents");
    assert!(
        n >= CUT_CASES as usize / 4,
        "only {n} of {CUT_CASES} cases compared"
    );
    assert!(
        with_incidents >= CUT_CASES as usize / 10,
        "only {with_incidents} cases had incidents"
    );
}
