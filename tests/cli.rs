//! The command-line tool (`report`, `export`), run as a user runs it.

mod support;

use std::process::{Command, Output, Stdio};

use support::woodpecker_server::{gen_pipelines, FakeConfig, FakeWoodpecker, FAKE_TOKEN};

const NOW: &str = "2026-06-01T00:00:00Z";

fn report(args: &[&str]) -> Output {
    run(&[&["report"], args].concat(), None)
}

/// The binary with `args`, WOODPECKER_TOKEN set to `token` or unset.
fn run(args: &[&str], token: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gpx_woodpecker_dora"));
    cmd.args(args).env_remove("WOODPECKER_TOKEN");
    if let Some(t) = token {
        cmd.env("WOODPECKER_TOKEN", t);
    }
    cmd.output().expect("run the binary")
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("wdora-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn demo_report_prints_the_summary_and_the_incidents() {
    let o = report(&["--demo", "--now", NOW]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for needle in [
        "P50 recovery",
        "P90 recovery",
        "change failure rate",
        "recovery band",
        "P50 lead time",
        "Incidents (",
        "acme/api",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in\n{out}");
    }
    assert!(
        stderr(&o).contains("read 5 repositories"),
        "progress on stderr"
    );
}

#[test]
fn pinned_clock_gives_the_same_json_every_time() {
    let a = report(&["--demo", "--now", NOW, "--format", "json"]);
    let b = report(&["--demo", "--now", NOW, "--format", "json"]);
    assert!(a.status.success(), "{}", stderr(&a));
    assert_eq!(a.stdout, b.stdout);
    let doc: serde_json::Value = serde_json::from_slice(&a.stdout).unwrap();
    assert!(doc["summary"]["p50_seconds"].as_f64().unwrap() > 0.0);
    assert!(!doc["incidents"].as_array().unwrap().is_empty());
    assert!(["elite", "high", "medium", "low"].contains(&doc["summary"]["band"].as_str().unwrap()));
}

#[test]
fn csv_has_a_summary_and_an_incidents_table() {
    let o = report(&[
        "--demo",
        "--now",
        NOW,
        "--format",
        "csv",
        "--env",
        "production",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let (summary, incidents) = out.split_once("\n\n").expect("two tables");
    assert!(summary.starts_with("statistic,value\n"));
    let mut lines = incidents.lines();
    assert_eq!(
        lines.next().unwrap(),
        "repo,environment,status,failed_at,recovered_at,recovery_seconds,flaky,chain_failures,pipeline,recovered_by,url"
    );
    assert!(lines.all(|l| l.split(',').nth(1) == Some("production")));
}

#[test]
fn input_file_with_both_field_generations() {
    let dir = std::env::temp_dir().join(format!("wdora-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("history.jsonl");
    let t = 1_780_000_000i64;
    let mut lines = Vec::new();
    for k in 0..6i64 {
        let base = t + k * 86_400;
        lines.push(format!(r#"{{"repo":"acme/api","number":{},"event":"deployment","status":"failure","deploy_to":"prod","branch":"main","created":{},"finished":{},"author":"alice"}}"#, 2 * k + 1, base - 60, base));
        lines.push(format!(r#"{{"repo":"acme/api","number":{},"event":"deployment","status":"success","deploy_to":"prod","branch":"main","created_at":{},"finished_at":{}}}"#, 2 * k + 2, base + 1_740, base + 1_800 * (k + 1)));
    }
    std::fs::write(&path, lines.join("\n")).unwrap();
    let now = (t + 10 * 86_400).to_string();
    let o = report(&[
        "--input",
        path.to_str().unwrap(),
        "--now",
        &now,
        "--since",
        "30d",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["summary"]["incidents"], 6);
    // Recoveries of 30, 60, ..., 180 minutes: the median is 105 minutes.
    assert_eq!(doc["summary"]["p50_seconds"], 6_300.0);
    assert!(
        !stdout(&o).contains("alice"),
        "no person data in the report"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// An export from the detail endpoint carries workflow trees: with
/// `--deploy-step`, a failed test before a skipped deploy is no failed
/// deploy, and a candidate exported without its tree is left out, said so.
#[test]
fn input_file_with_workflow_trees_and_deploy_steps() {
    let dir = std::env::temp_dir().join(format!("wdora-cli-steps-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("history.jsonl");
    let t = 1_780_000_000i64;
    let line = |n: i64, status: &str, workflows: &str| {
        let c = t + n * 3_600;
        format!(
            r#"{{"repo":"acme/shop","number":{n},"event":"push","status":"{status}","branch":"main","created":{c},"finished":{}{workflows}}}"#,
            c + 300
        )
    };
    let tree = |n: i64, test: &str, deploy: &str| {
        let c = t + n * 3_600;
        format!(
            r#","workflows":[{{"name":"test","state":"{test}","started":{},"finished":{}}},{{"name":"deploy","state":"{deploy}","started":{},"finished":{}}}]"#,
            c + 10,
            c + 100,
            c + 110,
            c + 200
        )
    };
    let text = [
        line(1, "success", &tree(1, "success", "success")),
        line(2, "failure", &tree(2, "failure", "skipped")),
        line(3, "failure", &tree(3, "success", "failure")),
        line(4, "success", &tree(4, "success", "success")),
        line(5, "success", ""),
    ];
    std::fs::write(&path, text.join("\n")).unwrap();
    let now = (t + 86_400).to_string();
    let args = |steps: &[&str]| {
        let mut a = vec![
            "--input",
            path.to_str().unwrap(),
            "--now",
            &now,
            "--event",
            "push",
        ];
        for s in steps {
            a.extend(["--deploy-step", s]);
        }
        a.extend(["--since", "7d", "--format", "json"]);
        report(&a)
    };
    let o = args(&[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (
            &doc["summary"]["deploys"],
            &doc["summary"]["failed_deploys"]
        ),
        (&5.into(), &2.into())
    );
    let o = args(&["deploy"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (
            &doc["summary"]["deploys"],
            &doc["summary"]["failed_deploys"]
        ),
        (&3.into(), &1.into())
    );
    // The one incident is the failed deploy, not the failed test before it.
    assert_eq!(doc["incidents"].as_array().unwrap().len(), 1);
    assert_eq!(
        (
            &doc["incidents"][0]["pipeline"],
            &doc["incidents"][0]["recovered_by"]
        ),
        (&3.into(), &4.into())
    );
    let notices = doc["notices"].to_string();
    assert!(
        notices.contains("acme/shop: 1 pipeline that may be a deploy is left out"),
        "{notices}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A pinned `--now` cuts the data too: a recovery that finished after it
/// had not happened yet, so the incident is open.
#[test]
fn a_pinned_now_sees_nothing_that_finished_later() {
    let dir = std::env::temp_dir().join(format!("wdora-cli-now-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("history.jsonl");
    let t = 1_780_000_000i64;
    let line = |n: u64, status: &str, finished: i64| {
        format!(
            r#"{{"repo":"acme/api","number":{n},"event":"deployment","status":"{status}","deploy_to":"prod","branch":"main","created":{},"finished":{finished}}}"#,
            finished - 60
        )
    };
    let text = [
        line(1, "success", t),
        line(2, "failure", t + 3_600),
        line(3, "success", t + 7_200),
    ]
    .join("\n");
    std::fs::write(&path, text).unwrap();
    let json = |now: i64| -> serde_json::Value {
        let o = report(&[
            "--input",
            path.to_str().unwrap(),
            "--now",
            &now.to_string(),
            "--since",
            "1d",
            "--format",
            "json",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let before = json(t + 5_400);
    let incident = &before["incidents"][0];
    assert_eq!(incident["status"], "open", "{before}");
    assert!(incident["recovered_at"].is_null());
    assert_eq!(
        before["summary"]["deploys"], 2,
        "the later success is not seen"
    );
    let after = json(t + 9_000);
    assert_eq!(after["incidents"][0]["status"], "resolved", "{after}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Usage and validation errors exit 2, as clap's own do; failures of the
/// work exit 1. Either way the message names what to fix, and nothing panics.
#[test]
fn mistakes_get_clear_messages_exit_codes_and_no_panic() {
    for (args, code, needle) in [
        (&["--window-days", "-2", "--demo"][..], 2, "--window-days"),
        (
            &["--demo", "--window-days", "0"],
            2,
            "--window-days must be",
        ),
        (
            &["--demo", "--open-incidents", "foo"],
            2,
            "--open-incidents must be",
        ),
        (
            &["--demo", "--event", "deploy"],
            2,
            "--event has an unknown event",
        ),
        (&["--demo", "--format", "xml"], 2, "--format"),
        (&["--demo", "--since", "soon"], 2, "--since"),
        (&["--demo", "--now", "yesterday"], 2, "--now"),
        (&["--demo", "--evnt", "push"], 2, "--event"),
        (
            &["--url", "ftp://ci.example.com"],
            2,
            "--url \"ftp://ci.example.com\" is not valid",
        ),
        (&["--url="], 2, "--url"),
        (&["--demo", "--token", "abc"], 2, "WOODPECKER_TOKEN"),
        (&["--demo", "--input", "x"], 2, "cannot be used with"),
        (&[], 2, "--demo"),
        (
            &["--input", "/nonexistent/history.jsonl"],
            1,
            "cannot read /nonexistent/history.jsonl",
        ),
    ] {
        let o = report(args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(code), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    let o = report(&["--demo", "--token", "s3cret-value"]);
    assert!(
        !stderr(&o).contains("s3cret-value"),
        "a token is never echoed"
    );
}

#[test]
fn version_prints_the_crate_version() {
    for flag in ["--version", "-V"] {
        let o = run(&[flag], None);
        assert!(o.status.success(), "{flag}");
        assert_eq!(
            stdout(&o).trim(),
            format!("gpx_woodpecker_dora {}", env!("CARGO_PKG_VERSION"))
        );
    }
}

/// Filters that match nothing say so, with what the history holds, instead
/// of only printing zeros.
#[test]
fn an_empty_report_says_what_there_is() {
    let o = report(&["--demo", "--now", NOW, "--env", "prod", "--event", "tag"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("no deploys match the filters"), "{err}");
    for needle in [
        "deployment, pull_request, push",
        "production, staging",
        "develop",
    ] {
        assert!(err.contains(needle), "missing {needle:?} in {err}");
    }
    assert!(stdout(&o).contains("deploys / failed            0 / 0"));
    let o = report(&["--demo", "--now", NOW]);
    assert!(!stderr(&o).contains("no deploys"), "{}", stderr(&o));
}

/// `export --demo` writes the demo history as JSON lines, and `report
/// --input` of them (a file, or standard input) is the demo's report.
#[test]
fn demo_export_reads_back_to_the_demo_report() {
    let dir = temp_dir("demo-export");
    let path = dir.join("demo.jsonl");
    let file = path.to_str().unwrap();
    let o = run(&["export", "--demo", "--now", NOW, "--output", file], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&path).unwrap();
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    for field in [
        "repo",
        "number",
        "status",
        "event",
        "branch",
        "deploy_to",
        "parent",
        "commit",
        "created",
        "started",
        "finished",
    ] {
        assert!(first.get(field).is_some(), "{field} in {first}");
    }
    assert!(
        text.contains("\"workflows\":[{"),
        "the demo's trees are written"
    );
    let json = ["--now", NOW, "--format", "json"];
    let demo = report(&[&["--demo"][..], &json].concat());
    let from_file = report(&[&["--input", file][..], &json].concat());
    assert!(from_file.status.success(), "{}", stderr(&from_file));
    assert_eq!(summary(&demo), summary(&from_file));
    let mut child = Command::new(env!("CARGO_BIN_EXE_gpx_woodpecker_dora"))
        .args([&["report", "--input", "-"][..], &json].concat())
        .stdin(std::fs::File::open(&path).unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdin.take());
    let piped = child.wait_with_output().unwrap();
    assert!(piped.status.success(), "{}", stderr(&piped));
    assert_eq!(summary(&demo), summary(&piped));
    let bad = Command::new(env!("CARGO_BIN_EXE_gpx_woodpecker_dora"))
        .args(["report", "--input", "-"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        bad.status.success(),
        "empty input is an empty history: {}",
        stderr(&bad)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

fn summary(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", stderr(o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(doc["summary"]["deploys"].as_u64().unwrap() > 0, "{doc}");
    doc["summary"].clone()
}

/// The in-process fake Woodpecker with two repos of generated history,
/// ending a day before `NOW`.
async fn fake_server() -> FakeWoodpecker {
    let server = FakeWoodpecker::start(FakeConfig::default()).await;
    let start = chrono::DateTime::parse_from_rfc3339(NOW)
        .unwrap()
        .timestamp()
        - 5 * 86_400;
    server.add_repo(1, "acme/api");
    server.set_pipelines(1, gen_pipelines(400, start));
    server.add_repo(2, "acme/web");
    server.set_pipelines(2, gen_pipelines(150, start + 3_000));
    server
}

/// `export --url` writes what `report --input` reads back to the same
/// summary as `report --url`, with no person fields on the way.
#[tokio::test(flavor = "multi_thread")]
async fn server_export_reads_back_to_the_server_report() {
    let server = fake_server().await;
    let url = server.url();
    let dir = temp_dir("server-export");
    let path = dir.join("history.jsonl");
    let file = path.to_str().unwrap();
    let o = run(
        &[
            "export", "--url", &url, "--since", "30d", "--now", NOW, "-o", file,
        ],
        Some(FAKE_TOKEN),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("wrote 550 pipelines of 2 repositories"),
        "{}",
        stderr(&o)
    );
    let text = std::fs::read_to_string(&path).unwrap();
    for person in ["author", "email", "avatar", "sender", "alice"] {
        assert!(!text.contains(person), "{person} in the export");
    }
    let q = [
        "--since",
        "7d",
        "--now",
        NOW,
        "--min-sample",
        "1",
        "--format",
        "json",
    ];
    let live = run(
        &[&["report", "--url", &url][..], &q].concat(),
        Some(FAKE_TOKEN),
    );
    let offline = report(&[&["--input", file][..], &q].concat());
    assert_eq!(summary(&live), summary(&offline));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Server failures exit 1 and say what to do in the terminal's terms.
#[tokio::test(flavor = "multi_thread")]
async fn server_errors_name_the_flag_or_the_variable() {
    let server = fake_server().await;
    let url = server.url();
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    for (args, token, needle) in [
        (vec!["report", "--url", &url], None, "set WOODPECKER_TOKEN"),
        (
            vec!["report", "--url", &url, "--repo", "acme/api"],
            Some("wrong"),
            "refused the token in WOODPECKER_TOKEN",
        ),
        (
            vec!["export", "--url", &url],
            Some("wrong"),
            "refused the token in WOODPECKER_TOKEN",
        ),
        (
            vec!["report", "--url", &closed, "--repo", "acme/api"],
            Some(FAKE_TOKEN),
            "check --url and that the server is reachable from this machine",
        ),
    ] {
        let o = run(&args, token);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        for plugin_word in ["Grafana", "data source"] {
            assert!(!err.contains(plugin_word), "{args:?}: {err}");
        }
    }
    assert!(
        stderr(&run(&["report", "--url", &closed, "--repo", "a/b"], None))
            .contains(closed.trim_start_matches("http://"))
    );
}

#[test]
fn help_documents_every_flag() {
    let help = |args: &[&str]| {
        let o = run(args, None);
        assert!(o.status.success(), "{args:?}");
        stdout(&o)
    };
    let top = help(&["--help"]);
    for needle in [
        "report",
        "export",
        "--version",
        "WOODPECKER_TOKEN",
        "Exit codes",
    ] {
        assert!(top.contains(needle), "--help lacks {needle}");
    }
    let report = help(&["report", "--help"]);
    for flag in [
        "--demo",
        "--url",
        "--input",
        "--repo",
        "--env",
        "--branch",
        "--event",
        "--change-event",
        "--deploy-step",
        "--failure-status",
        "--since",
        "--window-days",
        "--flaky-minutes",
        "--min-sample",
        "--open-incidents",
        "--now",
        "--format",
        "WOODPECKER_TOKEN",
    ] {
        assert!(report.contains(flag), "report --help lacks {flag}");
    }
    let export = help(&["export", "--help"]);
    for flag in [
        "--demo",
        "--url",
        "--repo",
        "--since",
        "--workflows",
        "--output",
        "WOODPECKER_TOKEN",
    ] {
        assert!(export.contains(flag), "export --help lacks {flag}");
    }
}

/// `report … | head` (and `2>&1 | head`): a reader that stops reading ends
/// the report quietly, with exit code 0 and no panic.
#[test]
fn a_reader_that_stops_early_ends_the_report_quietly() {
    for close_stderr in [false, true] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_gpx_woodpecker_dora"))
            .args([
                "report", "--demo", "--now", NOW, "--since", "180d", "--format", "json",
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let stderr = if close_stderr {
            drop(child.stderr.take());
            String::new()
        } else {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut text).unwrap();
            text
        };
        let status = child.wait().unwrap();
        assert_eq!(
            status.code(),
            Some(0),
            "closed stderr too: {close_stderr}; {stderr}"
        );
        assert!(
            !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
            "{stderr}"
        );
    }
}
