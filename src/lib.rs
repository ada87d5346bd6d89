//! Woodpecker CI → DORA recovery metrics, as a Grafana data-source plugin.

pub mod demo;
pub mod domain;
pub mod plugin;
pub mod woodpecker;
