//! One live instance per data source, rebuilt when its settings change, so
//! edits apply without a restart. Grafana bumps `lastUpdatedMS` on every
//! save; we also compare the settings themselves, so a provisioned
//! data source edited without a version bump is picked up too.
//!
//! Grafana never says that a data source was deleted, so an instance
//! unused for `idle` is released (with its cache); the next query of that
//! data source starts it afresh. An instance whose uid now has newer
//! settings is released at once.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use grafana_plugin_sdk::pluginv2::{DataSourceInstanceSettings, PluginContext};

use super::datasource::DataSourceConfig;
use crate::source::PipelineSource;
use crate::woodpecker::store::StoreChoice;

pub struct Instance {
    pub config: DataSourceConfig,
    pub source: Arc<dyn PipelineSource>,
}

/// How long an unused instance is kept by default: an hour, so dashboards
/// opened now and then stay warm, while deleted data sources go.
pub(crate) const DEFAULT_IDLE: Duration = Duration::from_secs(3_600);

/// The plugin setting (`[plugin.dorakit-woodpecker-datasource]
/// instance_idle_seconds` in grafana.ini, which Grafana passes as this
/// variable) that overrides [`DEFAULT_IDLE`].
pub(crate) const IDLE_ENV: &str = "GF_PLUGIN_INSTANCE_IDLE_SECONDS";

pub struct Instances {
    live: Mutex<HashMap<String, Live>>,
    idle: Duration,
    /// The process's one pipeline store, shared by its data sources.
    store: StoreChoice,
}

struct Live {
    version: u64,
    instance: Arc<Instance>,
    used: Instant,
}

impl Default for Instances {
    fn default() -> Self {
        Instances::with_idle(DEFAULT_IDLE)
    }
}

impl Instances {
    /// Instances without an on-disk store.
    pub(crate) fn with_idle(idle: Duration) -> Self {
        Instances::with(idle, StoreChoice::default())
    }

    fn with(idle: Duration, store: StoreChoice) -> Self {
        Instances {
            live: Mutex::default(),
            idle,
            store,
        }
    }

    /// Instances released after the idle time `IDLE_ENV` names (seconds),
    /// else [`DEFAULT_IDLE`]; an unreadable value is logged and ignored.
    /// Their pipelines are kept in the store the environment names.
    pub fn from_env() -> Self {
        let idle = match std::env::var(IDLE_ENV) {
            Err(_) => DEFAULT_IDLE,
            Ok(v) => v.trim().parse::<u64>().map(Duration::from_secs).unwrap_or_else(|_| {
                tracing::warn!(value = %v, "{IDLE_ENV} is not a whole number of seconds; using the default");
                DEFAULT_IDLE
            }),
        };
        Instances::with(idle, crate::woodpecker::store::open_from_env())
    }

    /// The instance for a request, or a message saying why there is none.
    pub fn get(&self, ctx: Option<&PluginContext>) -> Result<Arc<Instance>, String> {
        let settings = ctx
            .and_then(|c| c.data_source_instance_settings.as_ref())
            .ok_or("the request carries no data source settings")?;
        let key = instance_key(settings);
        let version = fingerprint(settings);
        let mut live = self.lock();
        self.release_idle(&mut live);
        if let Some(l) = live.get_mut(&key).filter(|l| l.version == version) {
            l.used = Instant::now();
            return Ok(l.instance.clone());
        }
        // Built under the lock (it does no I/O): queries arriving together
        // share one instance and its cache instead of each starting cold.
        let instance = Arc::new(self.build(settings)?);
        // Replaces (and so releases) an instance of older settings.
        live.insert(
            key,
            Live {
                version,
                instance: instance.clone(),
                used: Instant::now(),
            },
        );
        Ok(instance)
    }

    fn release_idle(&self, live: &mut HashMap<String, Live>) {
        live.retain(|key, l| {
            let keep = l.used.elapsed() < self.idle;
            if !keep {
                tracing::debug!(%key, "released an idle data-source instance");
            }
            keep
        });
    }

    /// Every live instance with its key (`uid:…`), for metrics.
    pub fn all(&self) -> Vec<(String, Arc<Instance>)> {
        let mut live = self.lock();
        self.release_idle(&mut live);
        let mut all: Vec<_> = live
            .iter()
            .map(|(k, l)| (k.clone(), l.instance.clone()))
            .collect();
        drop(live);
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    fn build(&self, settings: &DataSourceInstanceSettings) -> Result<Instance, String> {
        let config =
            DataSourceConfig::parse(settings).map_err(|e| format!("data source settings: {e}"))?;
        let origin = config.origin(&self.store, &settings.uid);
        let source =
            crate::source::open(origin, chrono::Utc::now().timestamp()).map_err(|e| e.message)?;
        Ok(Instance { config, source })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Live>> {
        // A poisoned map only means a panic elsewhere; its entries are whole.
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn instance_key(s: &DataSourceInstanceSettings) -> String {
    if s.uid.is_empty() {
        format!("id:{}", s.id)
    } else {
        format!("uid:{}", s.uid)
    }
}

/// Identifies one version of a data source's settings.
fn fingerprint(s: &DataSourceInstanceSettings) -> u64 {
    let mut h = DefaultHasher::new();
    s.last_updated_ms.hash(&mut h);
    s.url.hash(&mut h);
    s.json_data.hash(&mut h);
    // Sorted, because map order is not stable.
    let secure: BTreeMap<_, _> = s.decrypted_secure_json_data.iter().collect();
    secure.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Many first queries at once share one instance (and so one cache);
    /// each building its own would start cold and fetch everything again.
    #[test]
    fn concurrent_first_queries_share_one_instance() {
        let instances = Arc::new(Instances::default());
        let ctx = PluginContext {
            data_source_instance_settings: Some(DataSourceInstanceSettings {
                uid: "shared".into(),
                url: "https://ci.example.com".into(),
                json_data: b"{}".to_vec(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let got: Vec<Arc<Instance>> = std::thread::scope(|s| {
            let calls: Vec<_> = (0..16)
                .map(|_| s.spawn(|| instances.get(Some(&ctx)).unwrap()))
                .collect();
            calls.into_iter().map(|c| c.join().unwrap()).collect()
        });
        assert!(got.iter().all(|i| Arc::ptr_eq(i, &got[0])));
    }
}
