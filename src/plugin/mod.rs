//! The Grafana layer: translates between Grafana's plugin protocol and the
//! engine. No recovery logic lives here.

pub mod frame;
pub mod query;
pub mod datasource;
pub mod instances;
pub mod server;
pub mod health;
pub mod data;
pub mod run;
pub mod resources;
pub mod frames;
