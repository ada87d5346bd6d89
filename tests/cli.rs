//! The `report` tool, run as a user runs it.

use std::process::{Command, Output};

const NOW: &str = "2026-06-01T00:00:00Z";

fn report(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gpx_woodpecker_dora"))
        .arg("report")
        .args(args)
        .env_remove("WOODPECKER_TOKEN")
        .output()
        .expect("run the binary")
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

#[test]
fn mistakes_get_clear_messages_and_no_panic() {
    for (args, needle) in [
        (&["--window-days", "-2", "--demo"][..], "--window-days"),
        (&["--demo", "--since", "soon"], "--since"),
        (&["--demo", "--now", "yesterday"], "--now"),
        (
            &["--input", "/nonexistent/history.jsonl"],
            "cannot read /nonexistent/history.jsonl",
        ),
        (&["--url", "ftp://ci.example.com"], "not valid"),
        (&["--demo", "--token", "abc"], "WOODPECKER_TOKEN"),
        (&[], "choose a source"),
    ] {
        let o = report(args);
        assert!(!o.status.success(), "{args:?} should fail");
        let err = stderr(&o);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn help_documents_every_flag() {
    let o = Command::new(env!("CARGO_BIN_EXE_gpx_woodpecker_dora"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(o.status.success());
    let out = stdout(&o);
    for flag in [
        "--demo",
        "--url",
        "--input",
        "--repo",
        "--env",
        "--branch",
        "--event",
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
        assert!(out.contains(flag), "--help lacks {flag}");
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
