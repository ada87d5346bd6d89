#![allow(dead_code)] // each test binary uses a different part of the support code
pub mod frames;
pub mod plugin_process;
