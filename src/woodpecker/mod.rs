//! Woodpecker CI REST client and per-data-source pipeline cache.
//! No Grafana types here.

mod cache;
mod client;
mod config;
mod counters;
mod deadline;
mod error;
mod export;
mod feed;
mod line_scan;
mod model;
mod paging;
mod retry;
pub mod store;
mod text;
mod version;

pub use cache::{Histories, HistoryNeed, PipelineCache, RepoHistory};
pub use client::{PageQuery, PipelinePage, WoodpeckerClient, PER_PAGE};
pub use config::{CacheConfig, ClientConfig, SharedSlot, StoreSlot, Token};
pub use counters::Counters;
pub use deadline::Deadline;
pub use error::Error;
pub(crate) use export::{parse_export_line, parse_exported_line};
pub use export::{parse_pipeline_json, pipeline_json_line};
pub use model::{FeedMark, Repo};
pub use version::ServerVersion;
