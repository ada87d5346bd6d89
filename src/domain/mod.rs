//! The recovery engine: pure code, no I/O, no Grafana or HTTP types.
//! Data flows pipelines → deploys → incidents → statistics.

pub mod deploys;
pub mod lookback;
pub mod pairing;
pub mod pipeline;
pub mod series;
pub mod settings;
pub mod stats;
pub mod summary;

pub use deploys::{collect_deploys, environment_of, DeployView, Deploys, Group};
pub use lookback::lookback_satisfied;
pub use pairing::{pair, Incident, IncidentState, Incidents};
pub use pipeline::{Event, Pipeline, Status};
pub use series::{series, Point, Series, SeriesSpec};
pub use settings::{DeployFilter, GroupBy, GroupLabel, OpenIncidents, RecoverySettings, TimeRange};
pub use stats::{percentile_cont, recovery_stats, Band, RecoveryStats};
pub use summary::{summarise, summarise_by, Summary};
