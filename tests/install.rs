//! What a Grafana admin installs: plugin.json, provisioning and compose
//! agree with each other and with Grafana's rules.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn plugin_json_declares_a_backend_data_source_grafana_accepts() {
    let p: Value = serde_json::from_str(&read("plugin.json")).unwrap();
    let id = p["id"].as_str().unwrap();
    // Grafana's rule: <org>-<name>-datasource, lowercase letters and digits.
    let parts: Vec<&str> = id.split('-').collect();
    assert_eq!(parts.len(), 3, "{id}");
    assert_eq!(parts[2], "datasource");
    assert!(parts.iter().all(|s| !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())));
    assert_eq!(p["type"], "datasource");
    for flag in ["backend", "alerting", "annotations", "metrics"] {
        assert_eq!(p[flag], true, "{flag}");
    }
    assert_eq!(
        p["executable"], "gpx_woodpecker_dora",
        "matches the [[bin]] name and make dist"
    );
    assert!(p["dependencies"]["grafanaDependency"]
        .as_str()
        .unwrap()
        .starts_with(">=12"));
    assert!(!p["info"]["links"].as_array().unwrap().is_empty());
    assert!(read("Cargo.toml").contains("name = \"gpx_woodpecker_dora\""));
    assert!(read("Makefile").contains("dist/$(EXE)_linux_$(GOARCH)"));
}

#[test]
fn provisioning_and_compose_use_the_plugin_id() {
    let id = "dorakit-woodpecker-datasource";
    let demo = read("provisioning/datasources/demo.yaml");
    let real = read("provisioning/optional/woodpecker.yaml");
    assert!(demo.contains(&format!("type: {id}")) && demo.contains("uid: woodpecker-demo"));
    assert!(real.contains(&format!("type: {id}")) && real.contains("uid: woodpecker\n"));
    assert!(real.contains("token: $WOODPECKER_TOKEN") && real.contains("url: $WOODPECKER_URL"));
    let compose = read("docker-compose.yaml");
    assert!(compose.contains(&format!("GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS: {id}")));
    assert!(compose.contains(&format!("./dist:/var/lib/grafana/plugins/{id}")));
    assert!(compose.contains("./provisioning:/etc/grafana/provisioning:ro"));
    assert!(compose.contains("image: grafana/grafana:12."));
}

/// Every provisioning file Grafana reads as it stands in the repository
/// (what `./provisioning` gives a Grafana that mounts it directly).
fn provisioned_files(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for kind in ["datasources", "dashboards", "alerting"] {
        let Ok(files) = std::fs::read_dir(dir.join(kind)) else {
            continue;
        };
        for f in files {
            let path = f.unwrap().path();
            let name = format!("{kind}/{}", path.file_name().unwrap().to_string_lossy());
            out.push((name, std::fs::read_to_string(&path).unwrap()));
        }
    }
    out.sort();
    out
}

#[test]
fn no_provisioned_file_reads_woodpecker_url_by_default() {
    let files = provisioned_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("provisioning"));
    assert!(files.iter().any(|(n, _)| n == "datasources/demo.yaml"));
    for (name, text) in &files {
        assert!(
            !text.contains("$WOODPECKER_URL"),
            "{name} reads $WOODPECKER_URL"
        );
    }
}

/// The compose service starts through docker/grafana-entrypoint.sh, which
/// hands Grafana a copy of provisioning/ in GF_PATHS_PROVISIONING.
#[test]
fn compose_starts_grafana_through_the_entrypoint() {
    let compose = read("docker-compose.yaml");
    for line in [
        "entrypoint: [\"/bin/sh\", \"/usr/local/bin/grafana-entrypoint.sh\"]",
        "command: [\"/run.sh\"]",
        "GF_PATHS_PROVISIONING: /tmp/grafana-provisioning",
        "PROVISIONING_SOURCE: /etc/grafana/provisioning",
        "WOODPECKER_URL: ${WOODPECKER_URL:-}",
        "- ./docker/grafana-entrypoint.sh:/usr/local/bin/grafana-entrypoint.sh:ro",
    ] {
        assert!(compose.contains(line), "docker-compose.yaml has {line}");
    }
    // The dashboards provider and the home dashboard read the mounted copy.
    assert!(read("provisioning/dashboards/provider.yaml")
        .contains("path: /etc/grafana/provisioning/dashboards"));
}

/// Runs the entrypoint as compose does, on a scratch folder, with
/// WOODPECKER_URL as given (compose passes an empty string when unset);
/// the provisioning files Grafana would read and what the command printed.
fn entrypoint(woodpecker_url: Option<&str>, name: &str) -> (Vec<(String, String)>, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dst = std::env::temp_dir().join(format!("wd-entrypoint-{}-{name}", std::process::id()));
    let mut cmd = Command::new("sh");
    cmd.arg(root.join("docker/grafana-entrypoint.sh"))
        .args(["echo", "grafana started"])
        .env("PROVISIONING_SOURCE", root.join("provisioning"))
        .env("GF_PATHS_PROVISIONING", &dst)
        .env_remove("WOODPECKER_URL");
    if let Some(url) = woodpecker_url {
        cmd.env("WOODPECKER_URL", url);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!dst.join("optional").exists(), "optional/ is not copied");
    let files = provisioned_files(&dst);
    std::fs::remove_dir_all(&dst).unwrap();
    (files, String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn without_woodpecker_url_only_the_demo_data_source_is_provisioned() {
    let repo = provisioned_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("provisioning"));
    for (case, url) in [("unset", None), ("empty", Some(""))] {
        let (files, stdout) = entrypoint(url, case);
        assert_eq!(stdout, "grafana started\n", "{case}: the command runs");
        assert_eq!(files, repo, "{case}: provisioning/ as it is");
        let datasources: Vec<&str> = files
            .iter()
            .filter(|(n, _)| n.starts_with("datasources/"))
            .map(|(n, _)| n.as_str())
            .collect();
        assert_eq!(datasources, ["datasources/demo.yaml"], "{case}");
    }
}

#[test]
fn with_woodpecker_url_the_real_data_source_is_added() {
    let (files, stdout) = entrypoint(Some("https://ci.example.com"), "set");
    assert_eq!(stdout, "grafana started\n");
    let real = files
        .iter()
        .find(|(n, _)| n == "datasources/woodpecker.yaml")
        .expect("the real data source");
    assert_eq!(real.1, read("provisioning/optional/woodpecker.yaml"));
    assert!(files.iter().any(|(n, _)| n == "datasources/demo.yaml"));
    assert!(files
        .iter()
        .any(|(n, _)| n == "dashboards/dora-recovery.json"));
    assert!(files.iter().any(|(n, _)| n == "alerting/dora-alerts.yaml"));
}

/// One version: Cargo.toml's, which frontend/package.json repeats (the build
/// writes it into plugin.json's %VERSION%) and CHANGELOG.md's newest
/// heading names; `make package` names the zip with it.
#[test]
fn the_versions_agree() {
    let version = env!("CARGO_PKG_VERSION");
    let package: Value = serde_json::from_str(&read("frontend/package.json")).unwrap();
    assert_eq!(package["version"], version, "frontend/package.json");
    let plugin: Value = serde_json::from_str(&read("plugin.json")).unwrap();
    assert_eq!(
        plugin["info"]["version"], "%VERSION%",
        "filled in by the build"
    );
    let changelog = read("CHANGELOG.md");
    let newest = changelog
        .lines()
        .find(|l| l.starts_with("## "))
        .expect("a version heading");
    assert!(
        newest.starts_with(&format!("## {version} ")) || newest == format!("## {version}"),
        "CHANGELOG.md's newest heading is {newest:?}"
    );
}
