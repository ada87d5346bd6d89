//! How far back the data layer must fetch (rule 10).
//!
//! An incident at or after `from` is classified by its chain, which starts
//! after the previous success of its (repo, environment). History is long
//! enough once, in every environment with a failure at or after `from`, a
//! success precedes the first such failure. Forward, an anchor needs
//! pipelines up to `failed_at + window` (so `to + window`, capped at now).
//! Lead time needs, in every environment with a successful deploy at or
//! after `from`, the last success before it: the first deploy in range
//! delivers the changes made since that one.

use super::deploys::collect_deploys;
use super::pipeline::{Pipeline, Trees};
use super::settings::{DeployFilter, Outcome, RecoverySettings};

/// Given one repo's fetched pipelines (any order; a contiguous stretch of
/// its history up to now) and their workflow trees, is it enough to classify every incident at or
/// after `from` exactly? Environments with no failed deploy at or after
/// `from` need nothing earlier. A repo whose history is exhausted needs no
/// more either; the caller knows that, not this function.
pub fn lookback_satisfied(
    pipelines: &[Pipeline],
    trees: &Trees,
    from: i64,
    filter: &DeployFilter,
    settings: &RecoverySettings,
) -> bool {
    let deploys = collect_deploys([("", pipelines, trees)], filter, settings);
    let satisfied = deploys.group_slices().all(|(_, slice)| {
        let first = |outcome: Outcome| {
            slice
                .iter()
                .position(|d| d.finished >= from && d.outcome == outcome)
        };
        [first(Outcome::Failure), first(Outcome::Success)]
            .into_iter()
            .flatten()
            .all(|i| slice[..i].iter().any(|d| d.outcome == Outcome::Success))
    });
    satisfied
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::deploys::tests::pipeline;
    use crate::domain::pipeline::Status::{Canceled, Failure as F, Skipped, Success as S};
    use crate::domain::PipelineFields;

    fn ok(ps: &[Pipeline], from: i64) -> bool {
        lookback_satisfied(
            ps,
            &Trees::new(),
            from,
            &DeployFilter::default(),
            &RecoverySettings::default(),
        )
    }

    #[test]
    fn no_deploys_in_range_need_nothing() {
        assert!(ok(&[], 100));
        assert!(ok(&[pipeline(2, F, "prod", 50)], 100));
    }

    #[test]
    fn a_success_in_range_needs_the_last_success_before_it() {
        let cut = [pipeline(2, F, "prod", 50), pipeline(3, S, "prod", 200)];
        assert!(!ok(&cut, 100));
        let whole = [
            pipeline(1, S, "prod", 10),
            pipeline(2, F, "prod", 50),
            pipeline(3, S, "prod", 200),
        ];
        assert!(ok(&whole, 100));
    }

    #[test]
    fn a_failure_in_range_needs_an_earlier_success() {
        let cut = [pipeline(2, F, "prod", 90), pipeline(3, F, "prod", 150)];
        assert!(!ok(&cut, 100));
        let whole = [
            pipeline(1, S, "prod", 10),
            pipeline(2, F, "prod", 90),
            pipeline(3, F, "prod", 150),
        ];
        assert!(ok(&whole, 100));
        // A success inside the range bounds later chains just as well, but
        // needs an earlier success itself.
        let inside = [
            pipeline(1, S, "prod", 10),
            pipeline(4, S, "prod", 120),
            pipeline(5, F, "prod", 150),
        ];
        assert!(ok(&inside, 100));
    }

    #[test]
    fn ignored_statuses_do_not_bound_a_chain() {
        let ps = [
            pipeline(1, Canceled, "prod", 10),
            pipeline(2, F, "prod", 150),
        ];
        assert!(!ok(&ps, 100));
    }

    #[test]
    fn with_deploy_steps_only_deploy_units_start_a_chain() {
        use crate::domain::{Event, Tree, Workflow};
        let push = |number, finished, test, deploy| {
            let tree = [("test", test), ("deploy", deploy)].map(|(name, state)| Workflow {
                name: name.into(),
                state,
                started: finished - 20,
                finished: finished - 10,
                steps: Vec::new(),
            });
            let p = Pipeline::from(PipelineFields {
                event: Event::Push,
                ..pipeline(number, F, "", finished).fields()
            });
            let trees = Trees::from([(number, Tree::new(tree.into()))]);
            ([p], trees)
        };
        let filter = DeployFilter {
            events: vec![Event::Push],
            deploy_steps: vec!["deploy".into()],
            ..DeployFilter::default()
        };
        let settings = RecoverySettings::default();
        // A failed test with a skipped deploy is no failed deploy.
        let (ps, trees) = push(1, 150, F, Skipped);
        assert!(lookback_satisfied(&ps, &trees, 100, &filter, &settings));
        let (ps, trees) = push(1, 150, S, F);
        assert!(!lookback_satisfied(&ps, &trees, 100, &filter, &settings));
    }

    #[test]
    fn every_environment_must_be_satisfied() {
        let ps = [
            pipeline(1, S, "prod", 10),
            pipeline(2, F, "prod", 150),
            pipeline(3, F, "staging", 150),
        ];
        assert!(!ok(&ps, 100));
    }
}
