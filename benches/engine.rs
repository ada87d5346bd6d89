//! Engine throughput and memory on generated histories: 10k, 100k and 1M
//! deploys over 1,000 (repo, environment) groups, each deploy shipping one
//! push (so as many changes as deploys).
//!
//! `cargo bench --bench engine` measures; `cargo test --all-targets` runs it
//! once at 10k only, so the default suite stays fast.

use std::hint::black_box;
use std::sync::atomic::Ordering;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput};
use woodpecker_dora::domain::*;

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::{LIVE, PEAK};

const REPOS: usize = 100;
const ENVIRONMENTS: usize = 10;
const YEAR: i64 = 365 * 86_400;
const START: i64 = 1_700_000_000;

/// Deterministic histories: each group deploys at random intervals over a
/// year; ~72% succeed, ~20% fail or error, ~8% are canceled/killed. Each
/// deploy follows a push to the group's own branch and deploys it.
fn histories(deploys: usize) -> Vec<(String, Vec<Pipeline>)> {
    let per_group = deploys / (REPOS * ENVIRONMENTS);
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let spacing = YEAR / per_group.max(1) as i64;
    (0..REPOS)
        .map(|r| {
            let mut ps = Vec::with_capacity(per_group * ENVIRONMENTS);
            for e in 0..ENVIRONMENTS {
                let mut t = START;
                for _ in 0..per_group {
                    t += 1 + (next() % (2 * spacing as u64)) as i64;
                    let status = match next() % 100 {
                        0..72 => Status::Success,
                        72..88 => Status::Failure,
                        88..92 => Status::Error,
                        92..96 => Status::Canceled,
                        _ => Status::Killed,
                    };
                    let branch = format!("branch-{e}");
                    let pushed = t - 600 - (next() % (4 * 3600)) as i64;
                    ps.push(Pipeline::from(PipelineFields {
                        number: ps.len() as u64 + 1,
                        status: Status::Success,
                        event: Event::Push,
                        branch: &branch,
                        created: pushed,
                        started: pushed + 5,
                        finished: pushed + 300,
                        ..PipelineFields::default()
                    }));
                    ps.push(Pipeline::from(PipelineFields {
                        number: ps.len() as u64 + 1,
                        status,
                        event: Event::Deployment,
                        branch: &branch,
                        deploy_to: &format!("env-{e}"),
                        parent: ps.len() as u64,
                        created: t - 120,
                        started: t - 100,
                        finished: t,
                        ..PipelineFields::default()
                    }));
                }
            }
            (format!("org/repo-{r}"), ps)
        })
        .collect()
}

fn collect(h: &[(String, Vec<Pipeline>)]) -> Deploys {
    let no_trees = Trees::new();
    collect_deploys(
        h.iter()
            .map(|(r, ps)| (r.as_str(), ps.as_slice(), &no_trees)),
        &DeployFilter::default(),
        &RecoverySettings::default(),
    )
}

fn log<'a>(h: &'a [(String, Vec<Pipeline>)], filter: &'a DeployFilter) -> ChangeLog<'a> {
    collect_changes(
        h.iter().map(|(r, ps)| (r.as_str(), ps.as_slice(), true)),
        filter,
    )
}

const RANGE: TimeRange = TimeRange {
    from: START,
    to: START + 2 * YEAR,
};
const NOW: i64 = START + 3 * YEAR;

/// Prints what the engine holds per deploy, measured two ways.
fn report_memory(h: &[(String, Vec<Pipeline>)]) {
    let settings = RecoverySettings::default();
    let before = LIVE.load(Ordering::Relaxed);
    let deploys = collect(h);
    let after_collect = LIVE.load(Ordering::Relaxed);
    PEAK.store(after_collect, Ordering::Relaxed);
    let incidents = pair(&deploys, &settings, NOW);
    let filter = DeployFilter::default();
    let changelog = log(h, &filter);
    let delivered = deliver(&changelog, &deploys);
    drop(changelog);
    let after_pair = LIVE.load(Ordering::Relaxed);
    let summary = summarise(&deploys, &incidents, &delivered, RANGE, &settings);
    let peak = PEAK.load(Ordering::Relaxed);
    let n = deploys.len() as f64;
    let held = after_pair - before;
    println!(
        "memory: {} deploys, {} groups, {} incidents ({} qualifying), {} changes ({} delivered in range)",
        deploys.len(),
        deploys.group_count(),
        incidents.len(),
        summary.incidents,
        delivered.len(),
        summary.changes
    );
    println!(
        "memory: held by Deploys+Incidents+Changes (allocator) {} bytes = {:.1} B/deploy; heap_bytes() {:.1} B/deploy",
        held,
        held as f64 / n,
        (deploys.heap_bytes() + incidents.heap_bytes() + delivered.heap_bytes()) as f64 / n
    );
    println!(
        "memory: transient peak above held Deploys during pair+deliver+summarise {:.1} B/deploy",
        (peak - after_collect) as f64 / n
    );
}

fn bench(c: &mut Criterion, sizes: &[usize]) {
    let settings = RecoverySettings::default();
    let mut group = c.benchmark_group("engine");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(4))
        .warm_up_time(Duration::from_secs(1));
    for &n in sizes {
        let h = histories(n);
        report_memory(&h);
        let deploys = collect(&h);
        let incidents = pair(&deploys, &settings, NOW);
        let filter = DeployFilter::default();
        let changelog = log(&h, &filter);
        let delivered = deliver(&changelog, &deploys);
        group.throughput(Throughput::Elements(deploys.len() as u64));
        group.bench_with_input(BenchmarkId::new("collect_deploys", n), &h, |b, h| {
            b.iter(|| collect(black_box(h)))
        });
        group.bench_with_input(BenchmarkId::new("collect_changes", n), &h, |b, h| {
            b.iter(|| log(black_box(h), &filter))
        });
        group.bench_with_input(
            BenchmarkId::new("pair+deliver+summarise", n),
            &deploys,
            |b, d| {
                b.iter(|| {
                    let i = pair(black_box(d), &settings, NOW);
                    let c = deliver(&changelog, d);
                    summarise(d, &i, &c, RANGE, &settings)
                })
            },
        );
        let by = GroupBy {
            repo: true,
            environment: true,
        };
        group.bench_with_input(BenchmarkId::new("summarise_by", n), &deploys, |b, d| {
            b.iter(|| summarise_by(black_box(d), &incidents, &delivered, RANGE, &settings, by))
        });
        let spec = SeriesSpec {
            bucket_secs: 7 * 86_400,
            rolling_secs: Some(30 * 86_400),
            group_by: GroupBy::default(),
        };
        group.bench_with_input(
            BenchmarkId::new("series_weekly_30d", n),
            &deploys,
            |b, d| {
                b.iter(|| {
                    series(
                        black_box(d),
                        &incidents,
                        &delivered,
                        RANGE,
                        &spec,
                        &settings,
                    )
                })
            },
        );
    }
    group.finish();
}

fn main() {
    // Without `--bench` (cargo test --all-targets) run once, small.
    let measuring = std::env::args().any(|a| a == "--bench");
    let sizes: &[usize] = if measuring {
        &[10_000, 100_000, 1_000_000]
    } else {
        &[10_000]
    };
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c, sizes);
    c.final_summary();
}
