//! Reading one pipeline object outside an HTTP response (exported
//! histories), with the same wire rules as the client.

use super::model::WirePipeline;
use crate::domain::Pipeline;

/// Parses one Woodpecker pipeline object (3.x or 2.x field names).
pub fn parse_pipeline_json(value: serde_json::Value) -> Result<Pipeline, String> {
    let wire: WirePipeline =
        serde_json::from_value(value).map_err(|e| format!("not a Woodpecker pipeline ({e})"))?;
    wire.into_domain()
        .ok_or_else(|| "the pipeline has no positive \"number\"".to_string())
}
