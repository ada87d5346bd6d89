//! Deploys at workflow or step level (`deploySteps`): which units of a
//! pipeline's workflow tree are its deploy, and what they say about it.
//!
//! A workflow whose name matches a pattern is one unit (its steps are not
//! matched separately); in a workflow whose name does not match, each step
//! whose name matches is a unit. A unit *ran* when its state is `success`
//! or a failure status; the others (skipped, blocked, canceled…) deployed
//! nothing.

use super::pipeline::{Pipeline, Status, Tree};
use super::settings::RecoverySettings;

/// What a candidate's workflow tree says about it as a deploy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TreeVerdict {
    /// The tree is not held (not fetched yet, or its request failed): the
    /// pipeline cannot be judged, so it is left out rather than guessed.
    Unknown,
    /// No workflow or step matches: a CI-only pipeline, not a deploy and
    /// not listed.
    NoUnit,
    /// Listed with this status and time. The status is the first failing
    /// unit's, else `success` when a unit succeeded, else the first matched
    /// unit's (a status the metrics ignore: nothing was deployed).
    Listed { status: Status, finished: i64 },
}

/// Judges one pipeline by the units matching `patterns` in its workflow
/// tree (`None` when not held). The time is the latest finish of the
/// matched units, or the pipeline's finish when no unit ran or none
/// carries a finish time.
pub(crate) fn judge(
    p: &Pipeline,
    tree: Option<&Tree>,
    patterns: &[String],
    settings: &RecoverySettings,
) -> TreeVerdict {
    let Some(workflows) = tree else {
        return TreeVerdict::Unknown;
    };
    let matches = |name: &str| patterns.iter().any(|pat| glob_matches(pat, name));
    let units: Vec<(Status, i64)> = workflows
        .iter()
        .flat_map(|w| {
            if matches(&w.name) {
                vec![(w.state, w.finished)]
            } else {
                w.steps
                    .iter()
                    .filter(|s| matches(&s.name))
                    .map(|s| (s.state, s.finished))
                    .collect()
            }
        })
        .collect();
    let Some(&(first, _)) = units.first() else {
        return TreeVerdict::NoUnit;
    };
    let failed = units
        .iter()
        .find(|(state, _)| settings.failure_statuses.contains(state));
    let status = match failed {
        Some(&(state, _)) => state,
        None if units.iter().any(|(state, _)| *state == Status::Success) => Status::Success,
        None => {
            return TreeVerdict::Listed {
                status: first,
                finished: p.finished(),
            }
        }
    };
    let latest = units.iter().map(|(_, f)| *f).max().unwrap_or(0);
    TreeVerdict::Listed {
        status,
        finished: if latest > 0 { latest } else { p.finished() },
    }
}

/// Whole-name glob match: `*` is any run of characters (none too), `?` is
/// exactly one, everything else matches itself, case-sensitively.
pub(crate) fn glob_matches(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni) = (0, 0);
    // Where the last `*` was, and the name position it has swallowed up to;
    // on a mismatch it swallows one more character and matching resumes.
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ni));
                pi += 1;
            }
            Some(&c) if c == '?' || c == n[ni] => {
                pi += 1;
                ni += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    star = Some((sp, sn + 1));
                    pi = sp + 1;
                    ni = sn + 1;
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::pipeline::{Step, Workflow};
    use crate::domain::PipelineFields;
    use Status::{Blocked, Canceled, Error, Failure, Killed, Skipped, Success};

    #[test]
    fn globs_match_whole_names_with_star_and_question_mark_only() {
        for (pat, name) in [
            ("deploy", "deploy"),
            ("deploy-*", "deploy-prod"),
            ("deploy-*", "deploy-"),
            ("*deploy*", "pre-deploy-eu"),
            ("d?ploy", "deploy"),
            ("*", ""),
            ("a*b*c", "axxbyyc"),
            ("[x]", "[x]"),
        ] {
            assert!(glob_matches(pat, name), "{pat} should match {name}");
        }
        for (pat, name) in [
            ("deploy", "deploy-prod"),
            ("deploy", "pre-deploy"),
            ("deploy", "Deploy"),
            ("deploy-*", "deploy"),
            ("d?ploy", "dploy"),
            ("a*b*c", "axxbyy"),
            ("[x]", "x"),
        ] {
            assert!(!glob_matches(pat, name), "{pat} should not match {name}");
        }
    }

    fn unit(name: &str, state: Status, finished: i64, steps: Vec<Step>) -> Workflow {
        Workflow {
            name: name.into(),
            state,
            started: finished.saturating_sub(30),
            finished,
            steps,
        }
    }

    fn step(name: &str, state: Status, finished: i64) -> Step {
        Step {
            name: name.into(),
            state,
            started: finished.saturating_sub(10),
            finished,
        }
    }

    /// A pipeline and the tree it is judged by.
    fn with(workflows: Vec<Workflow>) -> (Pipeline, Option<Tree>) {
        let p = Pipeline::from(PipelineFields {
            number: 1,
            finished: 1_000,
            ..PipelineFields::default()
        });
        (p, Some(Tree::new(workflows)))
    }

    fn verdict((p, tree): &(Pipeline, Option<Tree>), patterns: &[&str]) -> TreeVerdict {
        let patterns: Vec<String> = patterns.iter().map(|s| s.to_string()).collect();
        judge(p, tree.as_ref(), &patterns, &RecoverySettings::default())
    }

    fn listed(status: Status, finished: i64) -> TreeVerdict {
        TreeVerdict::Listed { status, finished }
    }

    #[test]
    fn without_a_tree_the_pipeline_is_unknown_not_judged() {
        let p = Pipeline::from(PipelineFields {
            finished: 1_000,
            ..PipelineFields::default()
        });
        assert_eq!(verdict(&(p, None), &["deploy"]), TreeVerdict::Unknown);
    }

    #[test]
    fn a_failed_test_workflow_is_not_a_failed_deploy() {
        let p = with(vec![
            unit("test", Failure, 500, vec![]),
            unit("deploy", Skipped, 0, vec![]),
        ]);
        assert_eq!(verdict(&p, &["deploy"]), listed(Skipped, 1_000));
        let ci_only = with(vec![unit("test", Failure, 500, vec![])]);
        assert_eq!(verdict(&ci_only, &["deploy"]), TreeVerdict::NoUnit);
    }

    #[test]
    fn outcome_and_time_come_from_the_matched_units() {
        let ok = with(vec![
            unit("test", Success, 500, vec![]),
            unit("deploy", Success, 900, vec![]),
        ]);
        assert_eq!(verdict(&ok, &["deploy"]), listed(Success, 900));
        let failed = with(vec![
            unit("deploy-eu", Success, 700, vec![]),
            unit("deploy-us", Error, 800, vec![]),
        ]);
        assert_eq!(verdict(&failed, &["deploy-*"]), listed(Error, 800));
        // Any failure fails the deploy, even beside successes and skips.
        let mixed = with(vec![
            unit("deploy-eu", Skipped, 0, vec![]),
            unit("deploy-us", Success, 950, vec![]),
            unit("deploy-ap", Failure, 600, vec![]),
        ]);
        assert_eq!(verdict(&mixed, &["deploy-*"]), listed(Failure, 950));
        // A success beside units that did not run is a success.
        let partial = with(vec![
            unit("deploy-eu", Canceled, 0, vec![]),
            unit("deploy-us", Success, 950, vec![]),
        ]);
        assert_eq!(verdict(&partial, &["deploy-*"]), listed(Success, 950));
        // A unit without a finish time falls back to the pipeline's.
        let untimed = with(vec![unit("deploy", Success, 0, vec![])]);
        assert_eq!(verdict(&untimed, &["deploy"]), listed(Success, 1_000));
    }

    #[test]
    fn units_that_did_not_run_deployed_nothing() {
        for state in [Skipped, Blocked, Canceled, Status::Pending, Killed] {
            let p = with(vec![unit("deploy", state, 0, vec![])]);
            assert_eq!(verdict(&p, &["deploy"]), listed(state, 1_000), "{state}");
        }
        // The first matched unit's state is shown.
        let p = with(vec![
            unit("deploy-a", Blocked, 0, vec![]),
            unit("deploy-b", Skipped, 0, vec![]),
        ]);
        assert_eq!(verdict(&p, &["deploy-*"]), listed(Blocked, 1_000));
    }

    #[test]
    fn killed_is_a_failure_when_configured() {
        let (p, tree) = with(vec![unit("deploy", Killed, 800, vec![])]);
        let settings = RecoverySettings {
            failure_statuses: vec![Failure, Error, Killed],
            ..RecoverySettings::default()
        };
        assert_eq!(
            judge(&p, tree.as_ref(), &["deploy".to_string()], &settings),
            listed(Killed, 800)
        );
    }

    #[test]
    fn a_matching_workflow_is_one_unit_else_its_matching_steps_are() {
        // The workflow matches: its own state counts, not its steps'.
        let p = with(vec![unit(
            "deploy",
            Success,
            900,
            vec![step("deploy", Failure, 850)],
        )]);
        assert_eq!(verdict(&p, &["deploy"]), listed(Success, 900));
        // The workflow does not match: its matching steps are the units.
        let p = with(vec![unit(
            "release",
            Failure,
            990,
            vec![
                step("build", Success, 700),
                step("deploy", Success, 800),
                step("smoke", Failure, 990),
            ],
        )]);
        assert_eq!(verdict(&p, &["deploy"]), listed(Success, 800));
        let p = with(vec![unit(
            "release",
            Failure,
            990,
            vec![step("build", Failure, 700), step("deploy", Skipped, 0)],
        )]);
        assert_eq!(verdict(&p, &["deploy"]), listed(Skipped, 1_000));
    }

    #[test]
    fn any_pattern_may_match() {
        let p = with(vec![
            unit("ship", Success, 700, vec![]),
            unit("test", Failure, 800, vec![]),
        ]);
        assert_eq!(verdict(&p, &["deploy", "ship"]), listed(Success, 700));
    }
}
