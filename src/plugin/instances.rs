//! One live instance per data source, rebuilt when its settings change, so
//! edits apply without a restart. Grafana bumps `lastUpdatedMS` on every
//! save; we also compare the settings themselves, so a provisioned
//! data source edited without a version bump is picked up too.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use grafana_plugin_sdk::pluginv2::{DataSourceInstanceSettings, PluginContext};

use super::datasource::DataSourceConfig;
use crate::source::woodpecker::WoodpeckerSource;
use crate::source::{fixed::FixedSource, PipelineSource};

pub struct Instance {
    pub config: DataSourceConfig,
    pub source: Arc<dyn PipelineSource>,
}

#[derive(Default)]
pub struct Instances {
    live: Mutex<HashMap<String, (u64, Arc<Instance>)>>,
}

impl Instances {
    /// The instance for a request, or a message saying why there is none.
    pub fn get(&self, ctx: Option<&PluginContext>) -> Result<Arc<Instance>, String> {
        let settings = ctx
            .and_then(|c| c.data_source_instance_settings.as_ref())
            .ok_or("the request carries no data source settings")?;
        let key = instance_key(settings);
        let version = fingerprint(settings);
        if let Some((v, inst)) = self.lock().get(&key) {
            if *v == version {
                return Ok(inst.clone());
            }
        }
        let inst = Arc::new(self.build(settings)?);
        self.lock().insert(key, (version, inst.clone()));
        Ok(inst)
    }

    /// Every live instance with its key (`uid:…`), for metrics.
    pub fn all(&self) -> Vec<(String, Arc<Instance>)> {
        let mut all: Vec<_> = self
            .lock()
            .iter()
            .map(|(k, (_, inst))| (k.clone(), inst.clone()))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    fn build(&self, settings: &DataSourceInstanceSettings) -> Result<Instance, String> {
        let config =
            DataSourceConfig::parse(settings).map_err(|e| format!("data source settings: {e}"))?;
        let source: Arc<dyn PipelineSource> = if config.demo {
            Arc::new(FixedSource::demo(chrono::Utc::now().timestamp()))
        } else {
            Arc::new(WoodpeckerSource::connect(config.connection()).map_err(|e| e.message)?)
        };
        Ok(Instance { config, source })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (u64, Arc<Instance>)>> {
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
