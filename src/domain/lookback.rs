//! How far back the data layer must read so that no failure chain crossing
//! the range start is cut (the forward need is always "up to now").

use std::collections::HashMap;

use super::deploys::as_deploy;
use super::pipeline::Pipeline;
use super::settings::{DeployFilter, RecoverySettings};

/// True when, for every environment of this repo whose first deploy at or
/// after `from` is a failure, the pipelines also hold a successful deploy
/// before `from`: then that failure's chain start is known.
pub fn lookback_satisfied(
    pipelines: &[Pipeline],
    from: i64,
    filter: &DeployFilter,
    settings: &RecoverySettings,
) -> bool {
    #[derive(Default)]
    struct Env {
        /// (finished, number, failed) of the first deploy at or after `from`.
        first_in_range: Option<(i64, u64, bool)>,
        success_before: bool,
    }
    let mut envs: HashMap<&str, Env> = HashMap::new();
    for p in pipelines {
        let Some((env, failed)) = as_deploy(p, filter, settings) else {
            continue;
        };
        let e = envs.entry(env).or_default();
        if p.finished < from {
            e.success_before |= !failed;
        } else if e
            .first_in_range
            .is_none_or(|(f, n, _)| (p.finished, p.number) < (f, n))
        {
            e.first_in_range = Some((p.finished, p.number, failed));
        }
    }
    envs.values()
        .all(|e| e.success_before || !matches!(e.first_in_range, Some((_, _, true))))
}
