//! A small fixed Woodpecker history with one of everything the rules
//! distinguish, served by the fake server. Times are fixed, so frames
//! built from it are stable (golden files).

use super::woodpecker_server::{sha, FakeConfig, FakePipeline, FakeWoodpecker};

/// 2025-10-09T12:00:00Z; the fixture range is 30 days from here.
pub const T0: i64 = 1_760_011_200;
pub const RANGE_END: i64 = T0 + 30 * 86_400;
const H: i64 = 3_600;
const M: i64 = 60;

fn at(number: u64, status: &str, event: &str, env: &str, finished: i64) -> FakePipeline {
    FakePipeline {
        number,
        status: status.into(),
        event: event.into(),
        branch: "main".into(),
        deploy_to: env.into(),
        created: finished - 120,
        started: finished - 100,
        finished,
        parent: 0,
        commit: sha(number),
        workflows: Vec::new(),
    }
}

/// A deploy of pipeline `parent`, as Woodpecker's deploy button makes it.
fn deploying(parent: u64, p: FakePipeline) -> FakePipeline {
    FakePipeline { parent, ..p }
}

/// acme/api: production has a resolved chain of three failures, a flaky
/// recovery, one at exactly the window edge and one a second past it;
/// staging interleaves an open incident. acme/web: a push-to-main repo
/// (no `deploy_to`) with a resolved incident. Changes: api's push #2 is
/// delivered to production by #8; web's pushes deliver themselves.
pub fn api_history() -> Vec<FakePipeline> {
    let d = 86_400;
    vec![
        at(1, "success", "deployment", "production", T0 - 2 * d),
        at(2, "success", "push", "", T0 - d),
        // Chain: 3 failures, fixed 2h after the first.
        at(3, "failure", "deployment", "production", T0 + H),
        at(4, "error", "deployment", "production", T0 + H + 20 * M),
        at(5, "failure", "deployment", "staging", T0 + H + 30 * M),
        at(6, "killed", "deployment", "production", T0 + H + 40 * M),
        at(7, "failure", "deployment", "production", T0 + 2 * H),
        // The fix ships push #2: lead time from its creation to here.
        deploying(2, at(8, "success", "deployment", "production", T0 + 3 * H)),
        // Flaky: fixed after 3 minutes.
        at(9, "failure", "deployment", "production", T0 + d),
        at(10, "success", "deployment", "production", T0 + d + 3 * M),
        // Exactly the 7-day window: resolved.
        at(11, "failure", "deployment", "production", T0 + 2 * d),
        at(12, "success", "deployment", "production", T0 + 9 * d),
        // One second past the window: stays open.
        at(13, "failure", "deployment", "production", T0 + 10 * d),
        at(14, "success", "deployment", "production", T0 + 17 * d + 1),
        at(15, "success", "deployment", "production", T0 + 18 * d),
        at(16, "failure", "pull_request", "", T0 + 19 * d),
        // Five quick-but-not-flaky incidents so statistics have a sample.
        at(17, "failure", "deployment", "production", T0 + 20 * d),
        at(
            18,
            "success",
            "deployment",
            "production",
            T0 + 20 * d + 10 * M,
        ),
        at(19, "failure", "deployment", "production", T0 + 21 * d),
        at(
            20,
            "success",
            "deployment",
            "production",
            T0 + 21 * d + 30 * M,
        ),
        at(21, "failure", "deployment", "production", T0 + 22 * d),
        at(
            22,
            "success",
            "deployment",
            "production",
            T0 + 22 * d + 45 * M,
        ),
    ]
}

pub fn web_history() -> Vec<FakePipeline> {
    vec![
        at(1, "success", "push", "", T0 - 86_400),
        at(2, "failure", "push", "", T0 + 5 * H),
        at(3, "success", "push", "", T0 + 6 * H + 30 * M),
    ]
}

pub async fn fixture_server(cfg: FakeConfig) -> FakeWoodpecker {
    let server = FakeWoodpecker::start(cfg).await;
    server.add_repo(1, "acme/api");
    server.add_repo(2, "acme/web");
    server.set_pipelines(1, api_history());
    server.set_pipelines(2, web_history());
    server
}
