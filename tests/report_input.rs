//! `report --input` over generated exports (tests/support/export_gen.rs,
//! the generator of the 1M-pipeline measurement): the report is the one
//! the tree-per-line parser gave (the goldens were written by the binary
//! before the direct parser), from a file or standard input, and a bad line
//! deep in a big file is named by its number.

mod support;

use std::process::{Command, Output, Stdio};

use support::export_gen::{write_export, END};

fn export(name: &str, n: u64) -> (std::path::PathBuf, Vec<u8>) {
    let mut text = Vec::new();
    write_export(n, 1, &mut text).unwrap();
    let dir = std::env::temp_dir().join(format!("wdora-input-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    (dir.join("history.jsonl"), text)
}

fn report(input: &str, stdin: Option<&[u8]>, args: &[&str]) -> Output {
    let now = END.to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gpx_woodpecker_dora"))
        .args([
            "report", "--input", input, "--now", &now, "--format", "json",
        ])
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(bytes) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        let bytes = bytes.to_vec();
        std::thread::spawn(move || std::io::Write::write_all(&mut pipe, &bytes).unwrap());
    }
    child.wait_with_output().unwrap()
}

fn json(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn golden(name: &str) -> serde_json::Value {
    let path = format!("{}/tests/golden/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn a_generated_export_reports_as_before() {
    let (path, text) = export("golden", 2_000);
    std::fs::write(&path, &text).unwrap();
    let file = path.to_str().unwrap();
    let deploy_steps = [
        "--since",
        "365d",
        "--deploy-step",
        "deploy",
        "--env",
        "production",
        "--env",
        "staging",
    ];
    for (args, name) in [
        (&[][..], "report_input_2k.json"),
        (&deploy_steps[..], "report_input_2k_deploy_steps.json"),
    ] {
        let want = golden(name);
        assert_eq!(
            json(&report(file, None, args)),
            want,
            "{name} from the file"
        );
        assert_eq!(
            json(&report("-", Some(&text), args)),
            want,
            "{name} from standard input"
        );
    }
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
}

/// 40,000 lines are more than one block of reading and more than one
/// chunk per block: the first bad line is still the one named.
#[test]
fn a_bad_line_deep_in_a_big_file_is_named() {
    let (path, text) = export("bad", 40_000);
    let mut lines: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
    let tail = lines.split_off(30_000);
    let mut bad = lines.join(&b'\n');
    bad.extend_from_slice(b"\n{\"repo\":\"a/b\",\"number\":\"x\"}\n");
    bad.extend_from_slice(&tail.join(&b'\n'));
    bad.extend_from_slice(b"\n{oops\n");
    std::fs::write(&path, &bad).unwrap();
    let o = report(path.to_str().unwrap(), None, &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("history.jsonl, line 30001: not a Woodpecker pipeline"),
        "{err}"
    );
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
}
