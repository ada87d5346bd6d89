//! The Grafana layer: translates between Grafana's plugin protocol and the
//! engine. No recovery logic lives here.

pub mod duration;
pub mod frame;
pub mod json_fields;
pub mod options;
pub mod query;
