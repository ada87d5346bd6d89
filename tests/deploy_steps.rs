//! Deploys at workflow level (`deploySteps`), seen from Grafana: the real
//! plugin binary over gRPC against the in-process fake Woodpecker, whose
//! detail endpoint serves each pipeline's workflow tree.
//!
//! The repo deploys on push to `main`: each pipeline runs `test`, then
//! `deploy` (skipped when the test failed), then `notify`, so the pipeline
//! finishes after its deploy did.

mod support;

use grafana_plugin_sdk::pluginv2::{DataResponse, PluginContext};
use serde_json::{json, Value};
use support::fixture::T0;
use support::frames::{decode, Decoded};
use support::plugin_process::{context_for, query, PluginProcess};
use support::woodpecker_server::{
    FakeConfig, FakePipeline, FakeWoodpecker, FakeWorkflow, Fault, Match,
};

const H: i64 = 3_600;
const FROM: i64 = T0 - 2 * 86_400;
const TO: i64 = T0 + 10 * 86_400;

/// A push to `main` created at `created`: `test` ends in `test`; `deploy`
/// (`None`: no deploy workflow) runs after a passing test and is skipped
/// after a failing one; `notify` always runs last.
fn push(number: u64, created: i64, test: &str, deploy: Option<&str>) -> FakePipeline {
    let mut workflows = vec![FakeWorkflow::new("test", test, created + 10, created + 100)
        .step("clone", "success", created + 10, created + 15)
        .step("unit", test, created + 15, created + 100)];
    let mut failed = test == "failure";
    if let Some(deploy) = deploy {
        workflows.push(if test == "success" {
            failed |= deploy == "failure";
            FakeWorkflow::new("deploy", deploy, created + 110, deploy_finish(created)).step(
                "rollout",
                deploy,
                created + 115,
                deploy_finish(created),
            )
        } else {
            FakeWorkflow::new("deploy", "skipped", 0, 0)
        });
    }
    workflows.push(FakeWorkflow::new(
        "notify",
        "success",
        created + 210,
        created + 300,
    ));
    let status = if failed { "failure" } else { "success" };
    let mut p =
        FakePipeline::finished(number, status, "push", "", created).with_workflows(workflows);
    p.finished = created + 300;
    p
}

fn deploy_finish(created: i64) -> i64 {
    created + 200
}

/// Pipelines 1–7: a deploy; a failed test (deploy skipped); a failed
/// deploy; its fix 3 hours later; a pull request; a push with no deploy
/// workflow (CI only); another failed test.
fn shop_history() -> Vec<FakePipeline> {
    let mut pr = push(5, T0 + 6 * H, "failure", None);
    pr.event = "pull_request".into();
    pr.branch = "feature".into();
    vec![
        push(1, T0 - 86_400, "success", Some("success")),
        push(2, T0 + H, "failure", Some("success")),
        push(3, T0 + 2 * H, "success", Some("failure")),
        push(4, T0 + 5 * H, "success", Some("success")),
        pr,
        push(6, T0 + 7 * H, "success", None),
        push(7, T0 + 8 * H, "failure", Some("success")),
    ]
}

/// Push-to-main pipelines, the candidates whose trees are read.
const CANDIDATES: usize = 6;

async fn shop_server(version: &str) -> FakeWoodpecker {
    let server = FakeWoodpecker::start(FakeConfig::default().version(version)).await;
    server.add_repo(1, "acme/shop");
    server.set_pipelines(1, shop_history());
    server
}

fn ctx(server: &FakeWoodpecker, uid: &str, json_data: Value) -> PluginContext {
    context_for(&server.url(), uid, json_data)
}

fn frame(r: &DataResponse) -> Decoded {
    assert_eq!(r.status, 200, "error: {}", r.error);
    decode(&r.frames[0])
}

fn notices(f: &Decoded) -> String {
    f.meta.as_ref().unwrap()["notices"].to_string()
}

/// Deploys, summary and incidents of acme/shop, with `extra` query fields.
async fn ask(plugin: &PluginProcess, ctx: PluginContext, extra: Value) -> [Decoded; 3] {
    let q = |id: &str, kind: &str| {
        let mut j = json!({"queryType": kind, "repos": ["acme/shop"]});
        j.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        query(id, j, FROM, TO)
    };
    let r = plugin
        .query_data(
            ctx,
            vec![q("D", "deploys"), q("S", "summary"), q("I", "incidents")],
        )
        .await;
    [frame(&r["D"]), frame(&r["S"]), frame(&r["I"])]
}

/// (pipeline, status, finished_at), newest first.
fn deploy_rows(d: &Decoded) -> Vec<(i64, String, i64)> {
    let (n, s, t) = (
        d.i64s("pipeline"),
        d.strings("status"),
        d.times("finished_at"),
    );
    (0..d.rows())
        .map(|i| (n[i].unwrap(), s[i].clone().unwrap(), t[i].unwrap()))
        .collect()
}

#[tokio::test]
async fn a_failed_test_is_not_a_failed_deploy_on_3x_and_2x_servers() {
    let plugin = PluginProcess::start().await;
    for version in ["3.17.0", "2.8.3"] {
        let server = shop_server(version).await;
        let settings = json!({"events": ["push"], "deploySteps": ["deploy"]});
        let [d, s, i] = ask(&plugin, ctx(&server, version, settings.clone()), json!({})).await;
        assert_eq!(notices(&d), "null", "{version}");
        // The CI-only push (6) and the pull request (5) are not listed; a
        // skipped deploy is listed as such; times are the deploy's finish.
        assert_eq!(
            deploy_rows(&d),
            [
                (7, "skipped".into(), T0 + 8 * H + 300),
                (4, "success".into(), deploy_finish(T0 + 5 * H)),
                (3, "failure".into(), deploy_finish(T0 + 2 * H)),
                (2, "skipped".into(), T0 + H + 300),
                (1, "success".into(), deploy_finish(T0 - 86_400)),
            ],
            "{version}"
        );
        assert_eq!(s.i64s("deploys"), [Some(3)], "{version}");
        assert_eq!(s.i64s("failed_deploys"), [Some(1)], "{version}");
        assert_eq!(
            s.f64s("change_failure_rate"),
            [Some(1.0 / 3.0)],
            "{version}"
        );
        assert_eq!(i.i64s("pipeline"), [Some(3)], "{version}");
        assert_eq!(i.i64s("recovered_by"), [Some(4)], "{version}");
        assert_eq!(
            i.f64s("recovery_seconds"),
            [Some((3 * H) as f64)],
            "{version}"
        );
        assert_eq!(server.count(Match::PipelineDetail), CANDIDATES, "{version}");

        // Finished pipelines never change: a second query reads no tree.
        let [d2, ..] = ask(&plugin, ctx(&server, version, settings), json!({})).await;
        assert_eq!(deploy_rows(&d2), deploy_rows(&d), "{version}");
        assert_eq!(server.count(Match::PipelineDetail), CANDIDATES, "{version}");
    }
}

#[tokio::test]
async fn without_deploy_steps_no_tree_is_read_and_a_query_may_ask_for_them() {
    let server = shop_server("3.17.0").await;
    let plugin = PluginProcess::start().await;
    let settings = json!({"events": ["push"]});
    let [d, s, i] = ask(&plugin, ctx(&server, "plain", settings.clone()), json!({})).await;
    assert_eq!(server.count(Match::PipelineDetail), 0);
    // Every push to main is a deploy, its time the pipeline's finish.
    assert_eq!(d.rows(), CANDIDATES);
    assert_eq!(deploy_rows(&d)[3], (3, "failure".into(), T0 + 2 * H + 300));
    assert_eq!(s.i64s("failed_deploys"), [Some(3)]);
    assert_eq!(i.i64s("pipeline"), [Some(7), Some(2)]);

    let [d, s, _] = ask(
        &plugin,
        ctx(&server, "plain", settings),
        json!({"deploySteps": ["deploy"]}),
    )
    .await;
    assert_eq!(d.rows(), 5);
    assert_eq!(s.i64s("failed_deploys"), [Some(1)]);
    assert_eq!(server.count(Match::PipelineDetail), CANDIDATES);
}

#[tokio::test]
async fn a_failing_detail_endpoint_gives_a_notice_and_the_next_query_retries() {
    let server = shop_server("3.17.0").await;
    let plugin = PluginProcess::start().await;
    let settings =
        json!({"events": ["push"], "deploySteps": ["deploy"], "failureBackoffSeconds": 0});
    server.fail_next(Match::PipelineDetail, Fault::Status(500), 1_000);
    let [d, s, _] = ask(
        &plugin,
        ctx(&server, "failing", settings.clone()),
        json!({}),
    )
    .await;
    let n = notices(&d);
    assert!(
        n.contains("acme/shop: 6 pipelines that may be deploys are left out")
            && n.contains("HTTP 500")
            && n.contains("the next query tries again")
            && n.contains("warning"),
        "{n}"
    );
    assert!(notices(&s).contains("left out"), "every frame says so");
    assert_eq!(d.rows(), 0, "left out, not counted as 'not a deploy'");
    let asked = server.count(Match::PipelineDetail);
    assert!(asked >= CANDIDATES, "{asked}");

    server.clear_faults();
    let [d, s, _] = ask(&plugin, ctx(&server, "failing", settings), json!({})).await;
    assert_eq!(notices(&d), "null");
    assert_eq!(d.rows(), 5);
    assert_eq!(s.i64s("failed_deploys"), [Some(1)]);
    assert_eq!(server.count(Match::PipelineDetail), asked + CANDIDATES);
}
