//! Woodpecker CI → DORA recovery metrics, as a Grafana data-source plugin.

pub mod analysis;
pub mod cli;
pub mod domain;
pub mod input;
pub mod plugin;
pub mod source;
pub mod woodpecker;
