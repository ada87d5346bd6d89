//! The built-in demo history: a deterministic, seeded Woodpecker history of
//! a few repos over the last 180 days, so every query type works with no
//! server. Same seed and `now` give the same pipelines.
//!
//! Every pipeline carries a workflow tree, so `deploySteps = ["deploy"]`
//! shows what deploys at workflow level look like (see [`workflows_of`]).

use crate::domain::{Commit, Event, Pipeline, PipelineFields, Status, Step, Tree, Trees, Workflow};

pub(crate) const DEMO_DAYS: i64 = 180;
const SEED: u64 = 0x5eed_d0a4;
const DAY: i64 = 86_400;

/// One demo repository: its pipelines, oldest first, and their workflow
/// trees.
#[derive(Clone, Debug)]
pub struct DemoRepo {
    pub id: i64,
    pub full_name: &'static str,
    pub pipelines: Vec<Pipeline>,
    pub trees: Trees,
}

/// How one repo deploys: which event, to which environments, how often.
struct Profile {
    full_name: &'static str,
    event: Event,
    /// (deploy_to, mean hours between deploys); `deploy_to` empty for
    /// push-to-main deploys.
    targets: &'static [(&'static str, f64)],
    failure_rate: f64,
    /// Non-deploy CI pipelines (push/pull_request) per day.
    ci_per_day: f64,
    /// Ends with an unrecovered failed deploy a day ago (an open incident).
    ends_open: bool,
    /// Has a deploy running right now.
    running_now: bool,
}

const PROFILES: [Profile; 5] = [
    Profile {
        full_name: "acme/api",
        event: Event::Deployment,
        targets: &[("production", 20.0), ("staging", 7.0)],
        failure_rate: 0.14,
        ci_per_day: 6.0,
        ends_open: false,
        running_now: true,
    },
    Profile {
        full_name: "acme/web",
        event: Event::Deployment,
        targets: &[("production", 30.0), ("staging", 10.0)],
        failure_rate: 0.10,
        ci_per_day: 4.0,
        ends_open: false,
        running_now: false,
    },
    Profile {
        full_name: "acme/payments",
        event: Event::Push,
        targets: &[("", 36.0)],
        failure_rate: 0.18,
        ci_per_day: 2.0,
        ends_open: false,
        running_now: false,
    },
    Profile {
        full_name: "acme/mobile-backend",
        event: Event::Deployment,
        targets: &[("production", 60.0)],
        failure_rate: 0.22,
        ci_per_day: 2.0,
        ends_open: true,
        running_now: false,
    },
    Profile {
        full_name: "acme/docs",
        event: Event::Push,
        targets: &[],
        failure_rate: 0.0,
        ci_per_day: 1.5,
        ends_open: false,
        running_now: false,
    },
];

/// The demo history as of `now` (Unix seconds).
pub(crate) fn demo_history(now: i64) -> Vec<DemoRepo> {
    let mut rng = SplitMix(SEED);
    PROFILES
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let pipelines = repo_pipelines(p, now, &mut rng);
            let push_deploys = p.event == Event::Push && !p.targets.is_empty();
            let trees = pipelines
                .iter()
                .map(|pl| (pl.number(), Tree::new(workflows_of(pl, push_deploys))))
                .collect();
            DemoRepo {
                id: i as i64 + 1,
                full_name: p.full_name,
                pipelines,
                trees,
            }
        })
        .collect()
}

/// A pipeline before it has its per-repo number.
struct Draft {
    status: Status,
    event: Event,
    branch: &'static str,
    deploy_to: &'static str,
    created: i64,
    duration: i64,
}

fn repo_pipelines(p: &Profile, now: i64, rng: &mut SplitMix) -> Vec<Pipeline> {
    let start = now - DEMO_DAYS * DAY;
    let mut drafts = Vec::new();
    for &(target, mean_hours) in p.targets {
        deploys(p, target, mean_hours, start, now, rng, &mut drafts);
    }
    ci_pipelines(p, start, now, rng, &mut drafts);
    drafts.sort_by_key(|d| d.created);
    let mut pipelines: Vec<PipelineFields> = drafts
        .into_iter()
        .enumerate()
        .map(|(i, d)| {
            let started = d.created + 5 + rng.below(40) as i64;
            let unfinished = matches!(d.status, Status::Running | Status::Pending);
            PipelineFields {
                number: i as u64 + 1,
                status: d.status,
                event: d.event,
                branch: d.branch,
                deploy_to: d.deploy_to,
                created: d.created,
                started: if d.status == Status::Pending {
                    0
                } else {
                    started
                },
                finished: if unfinished { 0 } else { started + d.duration },
                ..PipelineFields::default()
            }
        })
        .collect();
    // A pipeline can't finish in the future: the newest ones are still running.
    for pl in pipelines.iter_mut().filter(|pl| pl.finished > now) {
        pl.status = Status::Running;
        pl.finished = 0;
    }
    link_commits(p.full_name, &mut pipelines);
    pipelines.into_iter().map(Pipeline::from).collect()
}

/// Gives every pipeline a commit, and every deployment the newest
/// successful push of its branch as parent (what Woodpecker's deploy
/// button and `woodpecker-cli pipeline deploy` do), with its commit.
fn link_commits(repo: &str, pipelines: &mut [PipelineFields]) {
    let seed = repo.bytes().fold(SEED, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let mut newest_ok: Option<(u64, Commit)> = None;
    for pl in pipelines.iter_mut() {
        if pl.event == Event::Deployment {
            if let Some((number, commit)) = &newest_ok {
                pl.parent = *number;
                pl.commit = commit.clone();
            }
            continue;
        }
        pl.commit = Commit::parse(&format!(
            "{:016x}{:016x}",
            SplitMix(seed ^ pl.number).next(),
            pl.number
        ));
        if pl.event == Event::Push && pl.branch == "main" && pl.status == Status::Success {
            newest_ok = Some((pl.number, pl.commit.clone()));
        }
    }
}

/// The workflow tree of a demo pipeline, derived from it alone (no random
/// draw, so the pipelines themselves stay as they were):
/// * a `deployment` pipeline is one `deploy` workflow in its status, so
///   `deploySteps = ["deploy"]` leaves those repos' deploys unchanged;
/// * a push-deploying repo's pipelines on `main` run `test`, then `deploy`;
///   every third failure is a test failure, and its deploy is skipped;
/// * every other pipeline runs `test` only: CI, never a deploy.
fn workflows_of(p: &Pipeline, push_deploys: bool) -> Vec<Workflow> {
    let (start, end) = (p.started(), p.finished());
    if p.event() == Event::Deployment {
        return vec![workflow("deploy", p.status(), start, end)];
    }
    if !(push_deploys && p.event() == Event::Push && p.branch() == "main") {
        return vec![workflow("test", p.status(), start, end)];
    }
    let failed = matches!(p.status(), Status::Failure | Status::Error);
    if failed && p.number().is_multiple_of(3) {
        return vec![
            workflow("test", p.status(), start, end),
            workflow("deploy", Status::Skipped, 0, 0),
        ];
    }
    let (test, mid) = match p.status() {
        Status::Pending => (Status::Pending, 0),
        _ if end == 0 => (Status::Success, start + 30),
        _ => (Status::Success, start + (end - start) / 2),
    };
    vec![
        workflow("test", test, start, mid),
        workflow("deploy", p.status(), mid, end),
    ]
}

/// A workflow of two steps: `clone`, then the one named after its job
/// (`unit` for tests, `rollout` for deploys), which ends in its state.
fn workflow(name: &str, state: Status, started: i64, finished: i64) -> Workflow {
    let ran = started > 0;
    let cloned = if ran { started + 5 } else { 0 };
    let main_step = if name == "deploy" { "rollout" } else { "unit" };
    Workflow {
        name: name.into(),
        state,
        started,
        finished,
        steps: vec![
            Step {
                name: "clone".into(),
                state: if ran { Status::Success } else { state },
                started,
                finished: cloned,
            },
            Step {
                name: main_step.into(),
                state,
                started: cloned,
                finished,
            },
        ],
    }
}

/// Deploys to one target: mostly successes, with failure chains that
/// recover after minutes to days (a long tail), flaky re-runs, and a few
/// killed or cancelled runs. The most recent chain of the riskiest target
/// is left open.
#[allow(clippy::too_many_arguments)]
fn deploys(
    p: &Profile,
    target: &'static str,
    mean_hours: f64,
    start: i64,
    now: i64,
    rng: &mut SplitMix,
    out: &mut Vec<Draft>,
) {
    let event = p.event;
    let branch = "main";
    let mut t = start + rng.below(DAY as u64) as i64;
    let push = |out: &mut Vec<Draft>, status, created, duration| {
        out.push(Draft {
            status,
            event,
            branch,
            deploy_to: target,
            created,
            duration,
        })
    };
    let end = if p.ends_open { now - 2 * DAY } else { now };
    while t < end {
        let duration = 60 + rng.below(600) as i64;
        let roll = rng.unit();
        if roll < p.failure_rate {
            // A failure chain: 1–4 failures, then a fix after a recovery time.
            let chain = 1 + (rng.unit() * rng.unit() * 4.0) as i64;
            let mut at = t;
            for _ in 0..chain {
                push(out, fail_status(rng), at, duration);
                at += duration + recovery_secs(rng) / chain;
            }
            push(out, Status::Success, at, 60 + rng.below(300) as i64);
            t = at;
        } else if roll < p.failure_rate + 0.02 {
            push(out, Status::Killed, t, duration / 2);
        } else if roll < p.failure_rate + 0.04 {
            push(out, Status::Canceled, t, 5);
        } else {
            push(out, Status::Success, t, duration);
        }
        t += (rng.exponential(mean_hours) * 3_600.0) as i64 + 600;
    }
    if p.ends_open {
        push(out, Status::Failure, now - DAY, 300);
        push(out, Status::Error, now - DAY / 2, 240);
    }
    if p.running_now {
        push(out, Status::Running, now - 120, 0);
    }
}

fn fail_status(rng: &mut SplitMix) -> Status {
    if rng.unit() < 0.85 {
        Status::Failure
    } else {
        Status::Error
    }
}

/// Recovery times with the shape real teams see: some flaky re-runs
/// (under five minutes), most within hours, a tail of days, and a few
/// beyond the seven-day window.
fn recovery_secs(rng: &mut SplitMix) -> i64 {
    let r = rng.unit();
    let minutes = if r < 0.15 {
        1.0 + rng.unit() * 3.5
    } else if r < 0.65 {
        10.0 + rng.exponential(60.0)
    } else if r < 0.93 {
        180.0 + rng.exponential(900.0)
    } else {
        2.0 * 1440.0 + rng.unit() * 8.0 * 1440.0
    };
    (minutes * 60.0) as i64
}

fn ci_pipelines(p: &Profile, start: i64, now: i64, rng: &mut SplitMix, out: &mut Vec<Draft>) {
    let mut t = start;
    loop {
        t += (rng.exponential(24.0 / p.ci_per_day) * 3_600.0) as i64 + 60;
        if t >= now {
            break;
        }
        let (event, branch) = if rng.unit() < 0.55 {
            (Event::PullRequest, "feature")
        } else {
            (Event::Push, "main")
        };
        let status = match rng.unit() {
            r if r < 0.80 => Status::Success,
            r if r < 0.93 => Status::Failure,
            r if r < 0.97 => Status::Canceled,
            _ => Status::Skipped,
        };
        // Push-to-main pipelines of a push-deploying repo are its deploys;
        // extra CI runs go to other branches so they don't count as deploys.
        let branch = if p.event == Event::Push && !p.targets.is_empty() {
            "develop"
        } else {
            branch
        };
        out.push(Draft {
            status,
            event,
            branch,
            deploy_to: "",
            created: t,
            duration: 120 + rng.below(900) as i64,
        });
    }
}

/// splitmix64: tiny, fast and good enough for demo data.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn exponential(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.unit()).ln()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{collect_deploys, DeployFilter, RecoverySettings};

    const NOW: i64 = 1_790_000_000;

    #[test]
    fn same_now_same_history() {
        let a = demo_history(NOW);
        let b = demo_history(NOW);
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.pipelines, y.pipelines);
        }
    }

    #[test]
    fn history_is_rich_enough_to_exercise_every_rule() {
        let repos = demo_history(NOW);
        let all: Vec<&Pipeline> = repos.iter().flat_map(|r| &r.pipelines).collect();
        assert!(all
            .iter()
            .all(|p| p.created() >= NOW - DEMO_DAYS * DAY - DAY));
        assert!(all.iter().all(|p| p.finished() <= NOW));
        let count = |f: &dyn Fn(&Pipeline) -> bool| all.iter().filter(|p| f(p)).count();
        assert!(count(&|p| p.event() == Event::Deployment) > 200);
        assert!(count(&|p| p.event() == Event::Push && p.branch() == "main") > 50);
        assert!(count(&|p| p.status() == Status::Killed) > 0);
        assert!(count(&|p| p.status() == Status::Error) > 0);
        assert!(count(&|p| p.status() == Status::Running && p.finished() == 0) > 0);
        let mobile = &repos[3].pipelines;
        let last_deploys: Vec<Status> = mobile
            .iter()
            .rev()
            .filter(|p| p.event() == Event::Deployment)
            .take(2)
            .map(|p| p.status())
            .collect();
        assert_eq!(last_deploys, [Status::Error, Status::Failure]);
        for r in &repos {
            assert!(
                r.pipelines
                    .iter()
                    .all(|p| r.trees.contains_key(&p.number())),
                "every pipeline has a tree"
            );
            let numbers: Vec<u64> = r.pipelines.iter().map(|p| p.number()).collect();
            assert!(
                numbers.windows(2).all(|w| w[1] == w[0] + 1),
                "{}",
                r.full_name
            );
        }
    }

    fn deploys_of(
        repos: &[DemoRepo],
        events: &[Event],
        deploy_steps: &[&str],
    ) -> Vec<(String, u64, Status, i64)> {
        let filter = DeployFilter {
            events: events.to_vec(),
            deploy_steps: deploy_steps.iter().map(|s| s.to_string()).collect(),
            ..DeployFilter::default()
        };
        let histories = repos
            .iter()
            .map(|r| (r.full_name, &r.pipelines[..], &r.trees));
        collect_deploys(histories, &filter, &RecoverySettings::default())
            .iter()
            .map(|d| {
                (
                    format!("{}/{}", d.repo, d.environment),
                    d.number,
                    d.status,
                    d.finished,
                )
            })
            .collect()
    }

    #[test]
    fn deploy_steps_keep_deployment_repos_and_judge_push_deploys_by_their_deploy_workflow() {
        let repos = demo_history(NOW);
        let whole = deploys_of(&repos, &[Event::Deployment], &[]);
        assert_eq!(deploys_of(&repos, &[Event::Deployment], &["deploy"]), whole);
        assert_eq!(
            deploys_of(&repos, &[Event::Deployment], &["rollout"]),
            whole,
            "steps match too"
        );

        let push = |steps: &[&str]| -> Vec<_> {
            deploys_of(&repos, &[Event::Push], steps)
                .into_iter()
                .filter(|d| d.0 == "acme/payments/main")
                .collect()
        };
        let (pipelines, units) = (push(&[]), push(&["deploy"]));
        assert_eq!(
            pipelines.len(),
            units.len(),
            "every push to main has a deploy workflow"
        );
        let failed = |ds: &[(String, u64, Status, i64)]| {
            ds.iter()
                .filter(|d| d.2 == Status::Failure || d.2 == Status::Error)
                .count()
        };
        let skipped = units.iter().filter(|d| d.2 == Status::Skipped).count();
        assert!(skipped > 0 && failed(&units) + skipped == failed(&pipelines));
        // Other pushes (to main elsewhere, to develop here) are CI only.
        let others = deploys_of(&repos, &[Event::Push], &["deploy"]);
        assert!(others.iter().all(|d| d.0 == "acme/payments/main"));
    }
}
