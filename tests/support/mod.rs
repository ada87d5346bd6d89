//! Shared test helpers. Include with `mod support;` from a test crate.
// Each test binary uses a different part of the support code.
#![allow(dead_code)]

pub mod export_gen;
pub mod fixture;
pub mod frames;
pub mod load;
pub mod plugin_process;
pub mod redis_server;
pub mod switch;
pub mod woodpecker_server;
