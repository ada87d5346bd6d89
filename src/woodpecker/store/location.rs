//! Where the store lives. Grafana does not tell a plugin its data path, so
//! it is the plugin setting `store_path` (grafana.ini
//! `[plugin.dorakit-woodpecker-datasource]`, passed as `GF_PLUGIN_STORE_PATH`;
//! `memory` turns the store off), else Grafana's data path
//! (`GF_PATHS_DATA`, set in Grafana's Docker image), else `/var/lib/grafana`,
//! else the user's cache directory: the first one writable.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::DiskStore;

pub const STORE_PATH_ENV: &str = "GF_PLUGIN_STORE_PATH";
/// Total megabytes of stored rows across data sources (default 1024).
pub const STORE_MAX_MB_ENV: &str = "GF_PLUGIN_STORE_MAX_MB";
const DEFAULT_MAX_MB: u64 = 1024;
/// The folder made under whichever base directory is chosen.
const SUBDIR: &str = "dorakit-woodpecker-datasource";

/// The store the plugin runs with, or why it runs from memory.
#[derive(Default)]
pub struct StoreChoice {
    pub store: Option<Arc<DiskStore>>,
    /// Why there is no store (for the health check and the log).
    pub memory_only: Option<String>,
}

fn candidates(var: impl Fn(&str) -> Option<String>) -> Vec<PathBuf> {
    let set = |k: &str| var(k).filter(|v| !v.trim().is_empty());
    if let Some(p) = set(STORE_PATH_ENV) {
        return vec![PathBuf::from(p)];
    }
    let mut dirs: Vec<PathBuf> = set("GF_PATHS_DATA")
        .map(PathBuf::from)
        .into_iter()
        .collect();
    dirs.push(PathBuf::from("/var/lib/grafana"));
    match (set("XDG_CACHE_HOME"), set("HOME")) {
        (Some(c), _) => dirs.push(PathBuf::from(c)),
        (None, Some(h)) => dirs.push(Path::new(&h).join(".cache")),
        (None, None) => {}
    }
    dirs
}

/// Opens the store the environment names (see the module docs).
pub fn open_from_env() -> StoreChoice {
    let var = |k: &str| std::env::var(k).ok();
    if var(STORE_PATH_ENV).is_some_and(|v| v.trim() == "memory") {
        return StoreChoice {
            store: None,
            memory_only: Some(format!("{STORE_PATH_ENV} is \"memory\"")),
        };
    }
    let max_mb = match var(STORE_MAX_MB_ENV) {
        None => DEFAULT_MAX_MB,
        Some(v) => v.trim().parse().unwrap_or_else(|_| {
            tracing::warn!(value = %v, "{STORE_MAX_MB_ENV} is not a whole number of megabytes; using the default");
            DEFAULT_MAX_MB
        }),
    };
    let mut why = Vec::new();
    for base in candidates(var) {
        match DiskStore::open(&base.join(SUBDIR), max_mb.saturating_mul(1 << 20)) {
            Ok(store) => {
                tracing::info!(path = %store.path().display(), max_mb, "pipeline store opened");
                return StoreChoice {
                    store: Some(Arc::new(store)),
                    memory_only: None,
                };
            }
            Err(e) => why.push(e),
        }
    }
    let reason = format!(
        "no writable directory for the pipeline store ({}); set {STORE_PATH_ENV}",
        why.join("; ")
    );
    tracing::warn!("{reason}: pipelines are held in memory only and fetched again after a restart");
    StoreChoice {
        store: None,
        memory_only: Some(reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn the_setting_wins_then_grafana_data_then_var_lib_then_the_cache_dir() {
        let all = [
            (STORE_PATH_ENV, "/srv/store"),
            ("GF_PATHS_DATA", "/data"),
            ("HOME", "/home/g"),
        ];
        assert_eq!(candidates(env(&all)), [PathBuf::from("/srv/store")]);
        assert_eq!(
            candidates(env(&all[1..])),
            ["/data", "/var/lib/grafana", "/home/g/.cache"].map(PathBuf::from)
        );
        assert_eq!(
            candidates(env(&[("XDG_CACHE_HOME", "/xdg"), ("HOME", "/home/g")])),
            ["/var/lib/grafana", "/xdg"].map(PathBuf::from)
        );
    }
}
