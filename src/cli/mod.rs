//! The `report` command-line tool (same binary as the plugin).

pub mod args;
pub mod report;
