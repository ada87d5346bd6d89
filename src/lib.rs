//! Woodpecker CI → DORA recovery metrics, as a Grafana data-source plugin.

pub mod domain;
pub mod woodpecker;
