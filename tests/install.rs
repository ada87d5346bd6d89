//! What a Grafana admin installs: plugin.json, provisioning and compose
//! agree with each other and with Grafana's rules.

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
    let ds = read("provisioning/datasources/woodpecker.yaml");
    assert_eq!(
        ds.matches(&format!("type: {id}")).count(),
        2,
        "demo and real data sources"
    );
    assert!(ds.contains("token: $WOODPECKER_TOKEN") && ds.contains("url: $WOODPECKER_URL"));
    let compose = read("docker-compose.yaml");
    assert!(compose.contains(&format!("GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS: {id}")));
    assert!(compose.contains(&format!("./dist:/var/lib/grafana/plugins/{id}")));
    assert!(compose.contains("./provisioning:/etc/grafana/provisioning"));
    assert!(compose.contains("image: grafana/grafana:12."));
}
