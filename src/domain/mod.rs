//! The recovery engine: pure code, no I/O, no Grafana or HTTP types.
//! Data flows pipelines → deploys → incidents → statistics.

pub mod pipeline;

pub use pipeline::{Event, Pipeline, Status};
