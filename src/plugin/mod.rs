//! The Grafana layer: translates between Grafana's plugin protocol and the
//! engine. No recovery logic lives here.

pub mod data;
pub mod dataframe;
pub mod datasource;
pub mod failure;
pub mod health;
pub mod instances;
pub mod metrics;
pub mod query;
pub mod render;
pub mod resources;
pub mod run;
pub mod server;
pub mod wire;
