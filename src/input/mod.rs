//! User input shared by the plugin and the CLI: loosely typed JSON read
//! field by field, recovery options, durations. Every error names its field.

pub mod duration;
pub mod json_fields;
pub mod options;
