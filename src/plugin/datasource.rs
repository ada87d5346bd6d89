//! A data source's settings: where Woodpecker is, the token, and the
//! defaults every query inherits.

use grafana_plugin_sdk::pluginv2::DataSourceInstanceSettings;
use serde_json::Value;

use crate::input::json_fields::{Bounds, FieldError, JsonObject};
use std::time::Duration;

use crate::input::options::RecoveryOptions;
use crate::source::woodpecker::Connection;
use crate::source::Origin;
use crate::woodpecker::store::{Namespace, SharedStore, StoreChoice};
use crate::woodpecker::{Deadline, SharedSlot, StoreSlot, Token};

const fn whole(key: &'static str, min: u64, max: u64, unit: Option<&'static str>) -> Bounds {
    Bounds {
        key,
        min: min as f64,
        max: max as f64,
        whole: true,
        unit,
    }
}

const SECONDS: Option<&str> = Some("second");
pub const MAX_CONCURRENCY: Bounds = whole("maxConcurrency", 1, 64, None);
pub const TIMEOUT_SECONDS: Bounds = whole("timeoutSeconds", 1, 600, SECONDS);
pub const QUERY_TIMEOUT_SECONDS: Bounds = whole("queryTimeoutSeconds", 1, 3_600, SECONDS);
pub const FAILURE_BACKOFF_SECONDS: Bounds = whole("failureBackoffSeconds", 0, 600, SECONDS);
pub const MAX_CACHED_PIPELINES: Bounds = whole("maxCachedPipelines", 1_000, 100_000_000, None);
pub const MAX_PIPELINES_PER_REPO: Bounds = whole("maxPipelinesPerRepo", 100, 100_000_000, None);
/// Every numeric connection setting, for the config editor.
pub const SETTING_BOUNDS: [Bounds; 6] = [
    MAX_CONCURRENCY,
    TIMEOUT_SECONDS,
    QUERY_TIMEOUT_SECONDS,
    FAILURE_BACKOFF_SECONDS,
    MAX_CACHED_PIPELINES,
    MAX_PIPELINES_PER_REPO,
];

/// `Debug` is safe to log: the token prints as `[redacted]`.
#[derive(Debug)]
pub struct DataSourceConfig {
    pub url: String,
    pub token: Option<Token>,
    pub demo: bool,
    pub defaults: RecoveryOptions,
    pub max_concurrency: usize,
    /// Per request to Woodpecker.
    pub timeout_secs: u64,
    /// Per query, all requests together; under the 30 s that Grafana's
    /// alert evaluation allows.
    pub query_timeout_secs: u64,
    /// How long a failed refresh is shared before Woodpecker is asked again.
    pub failure_backoff_secs: u64,
    pub max_cached_pipelines: usize,
    pub max_pipelines_per_repo: usize,
    /// Learn from the user feed which repos changed (one request for all).
    pub user_feed: bool,
    /// The store replicas share (Redis), if any.
    pub shared: Option<SharedSettings>,
}

/// Where the shared store is (`redisUrl`, `redisUser`, secure
/// `redisPassword`). `Debug` never shows the password.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedSettings {
    /// `redis://host:port/db`, without credentials.
    pub url: String,
    pub user: Option<String>,
    pub password: Option<Token>,
}

/// Each call to the shared store; short, so a Redis that is down or slow
/// costs little (and once per failure backoff).
const SHARED_TIMEOUT: Duration = Duration::from_millis(300);

impl SharedSettings {
    fn read(
        o: &JsonObject,
        settings: &DataSourceInstanceSettings,
    ) -> Result<Option<SharedSettings>, FieldError> {
        let Some(url) = o
            .opt_str("redisUrl")?
            .map(str::trim)
            .filter(|u| !u.is_empty())
        else {
            return Ok(None);
        };
        let bad = |why: &str| {
            FieldError::new(
                "redisUrl",
                format!("{why}; use an address such as redis://10.0.0.5:6379/0"),
            )
        };
        let scheme = url.split_once("://").map(|(s, _)| s);
        if !matches!(scheme, Some("redis" | "valkey")) {
            return Err(bad(
                "must start with redis:// or valkey:// (TLS is not supported)",
            ));
        }
        let info = redis::IntoConnectionInfo::into_connection_info(url)
            .map_err(|_| bad("is not a Redis address"))?;
        let r = info.redis_settings();
        if r.username().is_some() || r.password().is_some() {
            return Err(bad("must not hold credentials: put the user in redisUser and the password in redisPassword"));
        }
        Ok(Some(SharedSettings {
            url: url.to_string(),
            user: o
                .opt_str("redisUser")?
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .map(String::from),
            password: settings
                .decrypted_secure_json_data
                .get("redisPassword")
                .map(|p| Token::new(p.as_str()))
                .filter(|p| !p.is_empty()),
        }))
    }

    /// The store these settings name, for the data source `namespace`.
    fn open(&self, namespace: Namespace, backoff: Duration) -> SharedSlot {
        let mut info = redis::IntoConnectionInfo::into_connection_info(self.url.as_str())
            .expect("checked when read");
        let mut r = info.redis_settings().clone();
        if let Some(user) = &self.user {
            r = r.set_username(user);
        }
        if let Some(password) = &self.password {
            r = r.set_password(password.expose());
        }
        info = info.set_redis_settings(r);
        SharedSlot {
            store: std::sync::Arc::new(SharedStore::new(info, SHARED_TIMEOUT, backoff)),
            namespace,
        }
    }
}

/// The connection defaults (recovery defaults live with the engine's
/// settings, fetching defaults with the client and cache): no server, 8
/// repos fetched at once, 30 s per request, 25 s per query.
impl Default for DataSourceConfig {
    fn default() -> Self {
        let c = Connection::new("", None);
        DataSourceConfig {
            url: String::new(),
            token: None,
            demo: false,
            defaults: RecoveryOptions::default(),
            max_concurrency: c.concurrency,
            timeout_secs: c.timeout.as_secs(),
            query_timeout_secs: 25,
            failure_backoff_secs: c.failure_backoff.as_secs(),
            max_cached_pipelines: c.max_pipelines,
            max_pipelines_per_repo: c.max_rows_per_repo,
            user_feed: c.use_feed,
            shared: None,
        }
    }
}

impl DataSourceConfig {
    pub fn parse(settings: &DataSourceInstanceSettings) -> Result<DataSourceConfig, FieldError> {
        let json: Value = if settings.json_data.iter().all(u8::is_ascii_whitespace) {
            Value::Null
        } else {
            serde_json::from_slice(&settings.json_data)
                .map_err(|e| FieldError::new("jsonData", format!("is not valid JSON: {e}")))?
        };
        let o = JsonObject::new(&json, "jsonData")?;
        let url = match settings.url.trim() {
            "" => o.opt_str("url")?.unwrap_or_default().to_string(),
            url => url.to_string(),
        };
        let token = settings
            .decrypted_secure_json_data
            .get("token")
            .map(|t| Token::new(t.as_str()))
            .filter(|t| !t.is_empty());
        let fallback = DataSourceConfig::default();
        Ok(DataSourceConfig {
            url,
            token,
            demo: o.opt_bool("demo")?.unwrap_or(false),
            defaults: RecoveryOptions::read(&o)?,
            max_concurrency: o
                .bounded(&MAX_CONCURRENCY)?
                .map_or(fallback.max_concurrency, |n| n as usize),
            timeout_secs: o
                .bounded(&TIMEOUT_SECONDS)?
                .map_or(fallback.timeout_secs, |n| n as u64),
            query_timeout_secs: o
                .bounded(&QUERY_TIMEOUT_SECONDS)?
                .map_or(fallback.query_timeout_secs, |n| n as u64),
            failure_backoff_secs: o
                .bounded(&FAILURE_BACKOFF_SECONDS)?
                .map_or(fallback.failure_backoff_secs, |n| n as u64),
            max_cached_pipelines: o
                .bounded(&MAX_CACHED_PIPELINES)?
                .map_or(fallback.max_cached_pipelines, |n| n as usize),
            max_pipelines_per_repo: o
                .bounded(&MAX_PIPELINES_PER_REPO)?
                .map_or(fallback.max_pipelines_per_repo, |n| n as usize),
            user_feed: o.opt_bool("userFeed")?.unwrap_or(fallback.user_feed),
            shared: SharedSettings::read(&o, settings)?,
        })
    }

    /// Where this data source reads pipelines from; a server's finished
    /// pipelines are kept in `store` (and the shared store) under this data
    /// source's uid, URL and token.
    pub(crate) fn origin(&self, store: &StoreChoice, uid: &str) -> Origin {
        if self.demo {
            return Origin::Demo;
        }
        let token = self.token.as_ref().map(Token::expose);
        let namespace = Namespace::of(uid, &self.url, token);
        let backoff = Duration::from_secs(self.failure_backoff_secs);
        Origin::Server(Connection {
            store: store
                .store
                .clone()
                .map(|store| StoreSlot { store, namespace }),
            memory_only: store.memory_only.clone(),
            shared: self.shared.as_ref().map(|s| s.open(namespace, backoff)),
            ..self.connection()
        })
    }

    /// How to reach the server these settings name.
    fn connection(&self) -> Connection {
        Connection {
            url: self.url.clone(),
            token: self.token.clone(),
            timeout: Duration::from_secs(self.timeout_secs),
            concurrency: self.max_concurrency,
            failure_backoff: Duration::from_secs(self.failure_backoff_secs),
            max_pipelines: self.max_cached_pipelines,
            max_rows_per_repo: self.max_pipelines_per_repo,
            use_feed: self.user_feed,
            store: None,
            memory_only: None,
            shared: None,
        }
    }

    /// The deadline of a query or resource call starting now.
    pub fn deadline(&self) -> Deadline {
        Deadline::after(Duration::from_secs(self.query_timeout_secs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(json: &str, token: Option<&str>) -> DataSourceInstanceSettings {
        DataSourceInstanceSettings {
            url: "https://ci.example.com".into(),
            json_data: json.as_bytes().to_vec(),
            decrypted_secure_json_data: token
                .map(|t| [("token".to_string(), t.to_string())].into())
                .unwrap_or_default(),
            ..Default::default()
        }
    }

    #[test]
    fn empty_json_data_means_defaults() {
        let c = DataSourceConfig::parse(&settings("", None)).unwrap();
        assert_eq!(c.url, "https://ci.example.com");
        assert!(!c.demo && c.token.is_none());
        assert_eq!(c.max_concurrency, 8);
        assert_eq!(c.timeout_secs, 30);
        assert_eq!(c.defaults, RecoveryOptions::default());
    }

    #[test]
    fn debug_never_shows_the_token() {
        let c =
            DataSourceConfig::parse(&settings(r#"{"demo":false}"#, Some("s3cr3t-pat"))).unwrap();
        assert_eq!(c.token.as_ref().map(Token::expose), Some("s3cr3t-pat"));
        assert!(!format!("{c:?}").contains("s3cr3t"));
    }

    #[test]
    fn the_shared_store_is_read_checked_and_its_password_never_shown() {
        let mut s = settings(
            r#"{"redisUrl": " redis://10.0.0.5:6379/2 ", "redisUser": "grafana"}"#,
            Some("pat"),
        );
        s.decrypted_secure_json_data
            .insert("redisPassword".into(), "r3dis-s3cret".into());
        let c = DataSourceConfig::parse(&s).unwrap();
        let shared = c.shared.as_ref().unwrap();
        assert_eq!(shared.url, "redis://10.0.0.5:6379/2");
        assert_eq!(shared.user.as_deref(), Some("grafana"));
        assert_eq!(
            shared.password.as_ref().map(Token::expose),
            Some("r3dis-s3cret")
        );
        assert!(!format!("{c:?}").contains("r3dis"));
        let slot = shared.open(Namespace::of("u", &c.url, None), Duration::ZERO);
        assert!(!format!("{slot:?}").contains("r3dis"));
        assert!(
            DataSourceConfig::parse(&settings(r#"{"redisUrl": ""}"#, None))
                .unwrap()
                .shared
                .is_none()
        );
        for bad in [
            "10.0.0.5:6379",
            "http://10.0.0.5:6379",
            "rediss://10.0.0.5:6379",
            "redis://:pw@10.0.0.5:6379",
            "redis://",
        ] {
            let json = serde_json::json!({ "redisUrl": bad }).to_string();
            let e = DataSourceConfig::parse(&settings(&json, None)).unwrap_err();
            assert_eq!(e.field, "redisUrl", "{bad}");
            assert!(
                e.message.contains("redis://10.0.0.5:6379/0"),
                "{bad}: {}",
                e.message
            );
            assert!(!e.message.contains("pw"), "{}", e.message);
        }
    }

    #[test]
    fn bad_json_data_names_the_field() {
        let e = DataSourceConfig::parse(&settings(r#"{"maxConcurrency": 0}"#, None)).unwrap_err();
        assert_eq!(e.field, "maxConcurrency");
        let e = DataSourceConfig::parse(&settings("{", None)).unwrap_err();
        assert_eq!(e.field, "jsonData");
    }
}
