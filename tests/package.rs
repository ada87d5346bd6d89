//! `make package`'s step, `scripts/package.py`, on a dist/ assembled from
//! small stand-ins (the real README, CHANGELOG, LICENSE, logo and
//! plugin.json as the build fills it in; a stub module.js and backend): the
//! zip unpacks to one folder named for the plugin id holding what Grafana
//! loads, the backend keeps its executable bit, and the .sha256 file checks.
//! The zip's central directory is read here, not by the tool that wrote it.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const ID: &str = "dorakit-woodpecker-datasource";
const BACKEND: &str = "gpx_woodpecker_dora_linux_amd64";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// A fresh scratch folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wd-package-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// dist/ as `make dist` leaves it, with stand-ins for the built parts.
fn stand_in_dist(dir: &Path) -> PathBuf {
    let dist = dir.join("dist");
    fs::create_dir_all(dist.join("img")).unwrap();
    let plugin_json = fs::read_to_string(root().join("plugin.json"))
        .unwrap()
        .replace("%VERSION%", version())
        .replace("%TODAY%", "2026-01-01");
    fs::write(dist.join("plugin.json"), plugin_json).unwrap();
    fs::write(
        dist.join("module.js"),
        "define([], function () { return {}; });\n",
    )
    .unwrap();
    fs::write(dist.join("module.js.map"), "{}\n").unwrap();
    for f in ["README.md", "CHANGELOG.md", "LICENSE"] {
        fs::copy(root().join(f), dist.join(f)).unwrap();
    }
    fs::copy(
        root().join("frontend/src/img/logo.svg"),
        dist.join("img/logo.svg"),
    )
    .unwrap();
    fs::write(dist.join(BACKEND), "#!/bin/sh\necho backend\n").unwrap();
    fs::set_permissions(dist.join(BACKEND), fs::Permissions::from_mode(0o755)).unwrap();
    dist
}

fn package(dist: &Path, out: &Path) -> Output {
    Command::new("python3")
        .arg(root().join("scripts/package.py"))
        .arg(dist)
        .arg(out)
        .output()
        .expect("python3 runs")
}

struct Entry {
    name: String,
    /// Unix mode from the external attributes (made on Unix).
    mode: u32,
    made_on_unix: bool,
}

fn u16_at(b: &[u8], at: usize) -> usize {
    u16::from_le_bytes([b[at], b[at + 1]]) as usize
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// The entries of a zip, from its end of central directory record and
/// central directory (no zip64: the plugin is far below 4 GiB).
fn entries(zip: &[u8]) -> Vec<Entry> {
    let eocd = (0..=zip.len() - 22)
        .rev()
        .find(|&i| u32_at(zip, i) == 0x0605_4b50)
        .expect("an end of central directory record");
    let count = u16_at(zip, eocd + 10);
    let mut at = u32_at(zip, eocd + 16) as usize;
    let mut out = Vec::new();
    for _ in 0..count {
        assert_eq!(u32_at(zip, at), 0x0201_4b50, "central directory header");
        let made_by = u16_at(zip, at + 4);
        let name_len = u16_at(zip, at + 28);
        let extra_len = u16_at(zip, at + 30);
        let comment_len = u16_at(zip, at + 32);
        let external = u32_at(zip, at + 38);
        let name = String::from_utf8(zip[at + 46..at + 46 + name_len].to_vec()).unwrap();
        out.push(Entry {
            name,
            mode: external >> 16,
            made_on_unix: made_by >> 8 == 3,
        });
        at += 46 + name_len + extra_len + comment_len;
    }
    out
}

#[test]
fn the_zip_unpacks_to_the_plugin_folder_grafana_loads() {
    let dir = scratch("ok");
    let dist = stand_in_dist(&dir);
    let out = dir.join("dist-pkg");
    let run = package(&dist, &out);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );

    let zip_name = format!("{ID}-{}.zip", version());
    let zip = fs::read(out.join(&zip_name)).expect("the zip is named <id>-<version>.zip");
    let entries = entries(&zip);
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    assert!(
        names.iter().all(|n| n.starts_with(&format!("{ID}/"))),
        "one top-level folder, the plugin id: {names:?}"
    );
    for want in [
        "plugin.json",
        "module.js",
        BACKEND,
        "README.md",
        "CHANGELOG.md",
        "LICENSE",
        "img/",
        "img/logo.svg",
    ] {
        assert!(
            names.contains(&format!("{ID}/{want}").as_str()),
            "{want} in {names:?}"
        );
    }
    for e in &entries {
        assert!(e.made_on_unix, "{} carries a Unix mode", e.name);
        let want = if e.name.ends_with('/') {
            0o040755
        } else if e.name.ends_with(BACKEND) {
            0o100755
        } else {
            0o100644
        };
        assert_eq!(e.mode, want, "{}: {:o}", e.name, e.mode);
    }

    // Unpacked, plugin.json names the plugin, its version and its backend.
    let unpacked = dir.join("plugins");
    let unzip = Command::new("python3")
        .args(["-m", "zipfile", "-e"])
        .arg(out.join(&zip_name))
        .arg(&unpacked)
        .output()
        .unwrap();
    assert!(unzip.status.success());
    let p: Value =
        serde_json::from_str(&fs::read_to_string(unpacked.join(ID).join("plugin.json")).unwrap())
            .unwrap();
    assert_eq!(p["id"], ID);
    assert_eq!(p["info"]["version"], version());
    assert_eq!(p["executable"], "gpx_woodpecker_dora");
    assert_eq!(
        format!("{}_linux_amd64", p["executable"].as_str().unwrap()),
        BACKEND
    );

    // The checksum file is sha256sum's format and checks.
    let sums = fs::read_to_string(out.join(format!("{zip_name}.sha256"))).unwrap();
    let (hash, name) = sums.trim_end().split_once("  ").unwrap();
    assert_eq!(hash.len(), 64);
    assert!(hash.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(name, zip_name);
    let check = Command::new("sha256sum")
        .args(["-c", &format!("{zip_name}.sha256")])
        .current_dir(&out)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );

    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_unfinished_dist_is_refused_with_the_step_to_run() {
    let dir = scratch("refused");
    let out = dir.join("dist-pkg");
    let refused = |dist: &Path, says: &str| {
        let run = package(dist, &out);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(!run.status.success(), "refused: {says}");
        assert!(stderr.contains(says), "{stderr}");
        assert!(
            !out.join(format!("{ID}-{}.zip", version())).exists(),
            "no zip for an unfinished dist"
        );
    };

    refused(&dir.join("nothing"), "run `make dist` first");

    let dist = stand_in_dist(&dir);
    let plugin_json = dist.join("plugin.json");
    let built = fs::read_to_string(&plugin_json).unwrap();
    let unfilled = fs::read_to_string(root().join("plugin.json")).unwrap();
    fs::write(&plugin_json, unfilled).unwrap();
    refused(&dist, "no version filled in");
    fs::write(
        &plugin_json,
        built.replace(
            &format!("\"version\": \"{}\"", version()),
            "\"version\": \"0.0.1\"",
        ),
    )
    .unwrap();
    refused(&dist, "Cargo.toml");
    fs::write(&plugin_json, &built).unwrap();

    fs::set_permissions(dist.join(BACKEND), fs::Permissions::from_mode(0o644)).unwrap();
    refused(&dist, "is not executable");
    fs::remove_file(dist.join(BACKEND)).unwrap();
    refused(&dist, &format!("{BACKEND} is missing"));

    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn make_package_builds_dist_then_runs_the_script() {
    let makefile = fs::read_to_string(root().join("Makefile")).unwrap();
    assert!(makefile.contains("package: dist\n\tpython3 scripts/package.py dist dist-pkg\n"));
    let gitignore = fs::read_to_string(root().join(".gitignore")).unwrap();
    assert!(gitignore.lines().any(|l| l == "/dist-pkg"));
}
