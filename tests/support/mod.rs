//! Shared test helpers. Include with `mod support;` from a test crate.
#![allow(dead_code)]

pub mod woodpecker_server;
