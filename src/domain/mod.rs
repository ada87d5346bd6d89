//! The recovery engine: pure code, no I/O, no Grafana or HTTP types.
//! Data flows pipelines → deploys → incidents → statistics.

pub mod band;
mod deploy_units;
pub mod deploys;
pub mod grouping;
mod labels;
pub mod lead_time;
pub mod lookback;
pub mod pairing;
pub(crate) mod parts;
pub mod pipeline;
pub mod repo_name;
pub mod series;
pub mod settings;
pub(crate) mod short_text;
pub mod stats;
pub mod summary;
pub mod words;

pub use band::Band;
pub use deploys::{collect_deploys, environment_of, trees_missing, DeployRow, Deploys, GroupId};
pub use grouping::{GroupBy, GroupLabel};
pub use lead_time::{collect_changes, deliver, ChangeLog, ChangeRow, Changes};
pub use lookback::lookback_satisfied;
pub use pairing::{pair, Incident, IncidentState, Incidents};
pub use pipeline::{Commit, Event, Pipeline, PipelineFields, Status, Step, Tree, Trees, Workflow};
pub use repo_name::{check_repo_name, RepoNameError};
pub use series::{series, Point, Series, SeriesSpec};
pub use settings::{DeployFilter, OpenIncidents, Outcome, RecoverySettings, TimeRange};
pub use stats::percentile_cont;
pub use summary::{summarise, summarise_by, Summary};
