//! A synthetic export: `n` finished pipelines across a few hundred repos,
//! written as `export` writes them (newest first per repo, 3.x names).
//! Seeded, so the same `n` and seed always give the same file. Used by
//! `examples/gen_export.rs` (the 1M-pipeline measurement in
//! docs/performance.md) and by tests/report_input.rs.

use std::io::{self, Write};

use woodpecker_dora::domain::{Event, Pipeline, PipelineFields, Status, Step, Tree, Workflow};
use woodpecker_dora::woodpecker::pipeline_json_line;

/// The end of the generated history: 2026-06-01T00:00:00Z.
pub const END: i64 = 1_780_272_000;
const SPAN: i64 = 365 * 86_400;

/// Writes `n` pipelines as JSON lines to `out`.
pub fn write_export(n: u64, seed: u64, out: &mut dyn Write) -> io::Result<()> {
    let mut rng = SplitMix(seed);
    let repos = (n / 3_000).clamp(3, 300);
    for r in 0..repos {
        // Spread the remainder so the counts sum to `n`.
        let count = n / repos + u64::from(r < n % repos);
        let name = format!("team-{}/service-{r:03}", r % 17);
        let mut history = repo_history(&mut rng, count);
        history.reverse();
        for (p, tree) in &history {
            out.write_all(pipeline_json_line(&name, p, tree.as_ref()).as_bytes())?;
            out.write_all(b"\n")?;
        }
    }
    Ok(())
}

/// One repo's pipelines, oldest first: pushes and pull requests make
/// commits; deploys ship the newest push's commit to an environment,
/// with that push as parent; some pipelines are restarts. Some have a
/// workflow tree.
fn repo_history(rng: &mut SplitMix, count: u64) -> Vec<(Pipeline, Option<Tree>)> {
    // An hour short of the span, so everything finished before END, as in
    // an export made then.
    let step = ((SPAN - 3_600) / count.max(1) as i64).max(1);
    let mut last_push: Option<(u64, String)> = None;
    let mut out = Vec::with_capacity(count as usize);
    for number in 1..=count {
        // Evenly spaced with jitter, so numbers and creation agree.
        let created = END - SPAN + (number as i64 - 1) * step + rng.below(step as u64) as i64;
        let started = created + rng.below(30) as i64;
        let finished = started + 30 + rng.below(900) as i64;
        let event = match rng.below(100) {
            0..=49 => Event::Push,
            50..=69 => Event::PullRequest,
            70..=89 => Event::Deployment,
            90..=92 => Event::Tag,
            93..=96 => Event::Cron,
            _ => Event::Manual,
        };
        let status = match rng.below(100) {
            0..=79 => Status::Success,
            80..=91 => Status::Failure,
            92..=93 => Status::Error,
            94..=95 => Status::Killed,
            96..=97 => Status::Canceled,
            _ => Status::Skipped,
        };
        let (branch, deploy_to, parent, commit) = match (event, &last_push) {
            (Event::Deployment, Some((push, commit))) => {
                let env = match rng.below(20) {
                    0..=9 => "production",
                    10..=16 => "staging",
                    _ => "canary",
                };
                ("main".to_string(), env.to_string(), *push, commit.clone())
            }
            (Event::PullRequest, _) => (
                format!("feature/change-{}", rng.below(500)),
                String::new(),
                0,
                rng.sha(),
            ),
            _ => {
                let branch = if rng.below(10) < 8 { "main" } else { "release" };
                // One in twenty is a restart of the pipeline before it.
                let parent = if rng.below(20) == 0 { number - 1 } else { 0 };
                (branch.to_string(), String::new(), parent, rng.sha())
            }
        };
        if event == Event::Push && branch == "main" {
            last_push = Some((number, commit.clone()));
        }
        let tree = (rng.below(10) < 3).then(|| tree(rng, event, status, started, finished));
        let p = Pipeline::from(PipelineFields {
            number,
            status,
            event,
            branch: &branch,
            deploy_to: &deploy_to,
            parent,
            commit: commit.as_str().into(),
            created,
            started,
            finished,
        });
        out.push((p, tree.map(Tree::new)));
    }
    out
}

/// A test workflow, and a deploy workflow for deploys; a failed pipeline
/// failed in its last workflow.
fn tree(
    rng: &mut SplitMix,
    event: Event,
    status: Status,
    started: i64,
    finished: i64,
) -> Vec<Workflow> {
    let mid = started + (finished - started) / 2;
    let step = |name: &str, state, from, to| Step {
        name: name.to_string(),
        state,
        started: from,
        finished: to,
    };
    let deploying = event == Event::Deployment;
    let test_state = if deploying || rng.below(2) == 0 {
        Status::Success
    } else {
        status
    };
    let mut ws = vec![Workflow {
        name: "test".into(),
        state: test_state,
        started,
        finished: mid,
        steps: vec![
            step("lint", Status::Success, started, started + 5),
            step("unit", test_state, started + 5, mid),
        ],
    }];
    if deploying {
        ws.push(Workflow {
            name: "deploy".into(),
            state: status,
            started: mid,
            finished,
            steps: vec![step("push", status, mid, finished)],
        });
    }
    ws
}

/// SplitMix64: tiny, seeded, and good enough for test data.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn sha(&mut self) -> String {
        let (a, b, c) = (self.next(), self.next(), self.next());
        format!("{a:016x}{b:016x}{:08x}", c >> 32)
    }
}
