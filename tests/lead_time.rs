//! Lead time for changes, seen from Grafana: the real plugin binary over
//! gRPC against the in-process fake Woodpecker (3.x and 2.x names), whose
//! deployments name what they ship through `parent` chains and commits.

mod support;

use serde_json::json;
use support::fixture::T0;
use support::frames::{decode, Decoded};
use support::plugin_process::{context_for, query, PluginProcess};
use support::woodpecker_server::{sha, FakeConfig, FakePipeline, FakeWoodpecker};

const H: i64 = 3_600;
const FROM: i64 = T0 - 86_400;
const TO: i64 = T0 + 10 * 86_400;

fn push(number: u64, branch: &str, created: i64) -> FakePipeline {
    let mut p = FakePipeline::finished(number, "success", "push", "", created);
    p.branch = branch.into();
    p
}

/// A deployment to production of pipeline `parent` (0: a forge deployment
/// carrying only a commit) that finishes at `finished`.
fn deployment(number: u64, parent: u64, commit: &str, finished: i64) -> FakePipeline {
    let mut p =
        FakePipeline::finished(number, "success", "deployment", "production", finished - 65);
    p.parent = parent;
    p.commit = commit.into();
    p
}

/// 1, 3: pushes to main, shipped by 4 (deploy button on 3). 2: a push to
/// `dev`, never deployed to production. 5: a redeploy of 4 (nothing new).
/// 6 fails and 7 restarts it: one change, shipped by 8 (deploy of 7).
/// 9 is shipped by 10, a forge deployment known only by its commit. 11
/// rolls back to 3: nothing new. 12 waits.
fn history() -> Vec<FakePipeline> {
    let mut failed = push(6, "main", T0 + 4 * H);
    failed.status = "failure".into();
    let mut restart = push(7, "main", T0 + 4 * H + 1_800);
    restart.parent = 6;
    vec![
        push(1, "main", T0),
        push(2, "dev", T0 + H / 2),
        push(3, "main", T0 + H),
        deployment(4, 3, &sha(3), T0 + 2 * H),
        deployment(5, 4, &sha(3), T0 + 3 * H),
        failed,
        restart,
        deployment(8, 7, &sha(6), T0 + 5 * H),
        push(9, "main", T0 + 6 * H),
        deployment(10, 0, &sha(9), T0 + 7 * H),
        deployment(11, 3, &sha(3), T0 + 8 * H),
        push(12, "main", T0 + 9 * H),
    ]
}

/// (pipeline, delivered_by, lead_time_seconds), newest change first.
fn change_rows(c: &Decoded) -> Vec<(i64, Option<i64>, Option<f64>)> {
    let (n, by, lead) = (
        c.i64s("pipeline"),
        c.i64s("delivered_by"),
        c.f64s("lead_time_seconds"),
    );
    (0..c.rows())
        .map(|i| (n[i].unwrap(), by[i], lead[i]))
        .collect()
}

#[tokio::test]
async fn deployments_deliver_through_parent_chains_and_commits_on_3x_and_2x() {
    let plugin = PluginProcess::start().await;
    for version in ["3.17.0", "2.8.3"] {
        let server = FakeWoodpecker::start(FakeConfig::default().version(version)).await;
        server.add_repo(1, "acme/api");
        server.set_pipelines(1, history());
        let ctx = context_for(&server.url(), version, json!({"minSample": 1}));
        let q = |id: &str, kind: &str| {
            query(
                id,
                json!({"queryType": kind, "repos": ["acme/api"]}),
                FROM,
                TO,
            )
        };
        let r = plugin
            .query_data(ctx, vec![q("C", "changes"), q("S", "summary")])
            .await;
        for id in ["C", "S"] {
            assert_eq!(r[id].status, 200, "{version} {id}: {}", r[id].error);
        }
        let c = decode(&r["C"].frames[0]);
        let lead = |created: i64, delivered: i64| Some((delivered - created) as f64);
        assert_eq!(
            change_rows(&c),
            [
                (12, None, None),
                (9, Some(10), lead(T0 + 6 * H, T0 + 7 * H)),
                (6, Some(8), lead(T0 + 4 * H, T0 + 5 * H)),
                (3, Some(4), lead(T0 + H, T0 + 2 * H)),
                (1, Some(4), lead(T0, T0 + 2 * H)),
            ],
            "{version}"
        );
        assert!(
            c.strings("environment")
                .iter()
                .all(|e| e.as_deref() == Some("production")),
            "{version}"
        );
        assert_eq!(
            c.strings("url")[0].as_deref(),
            Some(format!("{}/repos/1/pipeline/12", server.url()).as_str()),
            "{version}"
        );

        let s = decode(&r["S"].frames[0]);
        assert_eq!(s.i64s("changes"), [Some(4)], "{version}");
        assert_eq!(s.i64s("waiting_changes"), [Some(1)], "{version}");
        // Lead times 1h, 1h, 1h, 2h: the median is 1 hour.
        assert_eq!(
            s.f64s("lead_time_p50_seconds"),
            [Some(H as f64)],
            "{version}"
        );
        assert_eq!(
            s.strings("lead_time_band"),
            [Some("elite".into())],
            "{version}"
        );
        assert_eq!(
            s.f64s("oldest_waiting_seconds"),
            [Some((TO - (T0 + 9 * H)) as f64)],
            "{version}"
        );
    }
}
