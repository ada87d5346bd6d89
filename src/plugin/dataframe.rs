//! Grafana data frames, written as Arrow IPC files with the `arrow` crate.
//!
//! We write frames ourselves instead of through the SDK's `data` module
//! because SDK 0.5.0 drops a field's labels when the field also has a
//! config; MTTR series need both (labels per group, unit `s`).

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow_array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray,
    TimestampNanosecondArray,
};
use arrow_ipc::writer::FileWriter;
use arrow_schema::{ArrowError, DataType, Field as ArrowField, Schema, TimeUnit};
use serde::Serialize;

pub use crate::analysis::Values;

/// How a column is written in Arrow. Times are Unix seconds in [`Values`]
/// and nanoseconds on the wire, as Grafana's reader expects.
fn data_type(v: &Values) -> DataType {
    match v {
        Values::Time(_) | Values::OptTime(_) => DataType::Timestamp(TimeUnit::Nanosecond, None),
        Values::Str(_) | Values::OptStr(_) => DataType::Utf8,
        Values::F64(_) | Values::OptF64(_) => DataType::Float64,
        Values::I64(_) | Values::OptI64(_) => DataType::Int64,
        Values::Bool(_) => DataType::Boolean,
    }
}

fn nullable(v: &Values) -> bool {
    matches!(
        v,
        Values::OptTime(_) | Values::OptStr(_) | Values::OptF64(_) | Values::OptI64(_)
    )
}

fn to_array(v: &Values) -> ArrayRef {
    const NS: i64 = 1_000_000_000;
    match v {
        Values::Time(v) => Arc::new(TimestampNanosecondArray::from_iter_values(
            v.iter().map(|s| s.saturating_mul(NS)),
        )),
        Values::OptTime(v) => Arc::new(TimestampNanosecondArray::from_iter(
            v.iter().map(|s| s.map(|s| s.saturating_mul(NS))),
        )),
        Values::Str(v) => Arc::new(StringArray::from_iter_values(v)),
        Values::OptStr(v) => Arc::new(StringArray::from_iter(v)),
        Values::F64(v) => Arc::new(Float64Array::from(v.clone())),
        Values::OptF64(v) => Arc::new(Float64Array::from(v.clone())),
        Values::I64(v) => Arc::new(Int64Array::from(v.clone())),
        Values::OptI64(v) => Arc::new(Int64Array::from(v.clone())),
        Values::Bool(v) => Arc::new(BooleanArray::from(v.clone())),
    }
}

/// Grafana's per-field display config; only what this plugin sets.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name_from_ds: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decimals: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<DataLink>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DataLink {
    pub title: String,
    pub url: String,
    pub target_blank: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub name: String,
    pub values: Values,
    pub labels: BTreeMap<String, String>,
    pub config: Option<FieldConfig>,
}

impl Field {
    pub fn new(name: &str, values: Values) -> Field {
        Field {
            name: name.to_string(),
            values,
            labels: BTreeMap::new(),
            config: None,
        }
    }

    pub(crate) fn with_labels(mut self, labels: BTreeMap<String, String>) -> Field {
        self.labels = labels;
        self
    }

    pub(crate) fn with_config(mut self, config: FieldConfig) -> Field {
        self.config = Some(config);
        self
    }

    /// A duration column in seconds, shown by Grafana as a duration.
    pub fn seconds(name: &str, values: Vec<Option<f64>>) -> Field {
        Field::new(name, Values::OptF64(values)).with_config(FieldConfig {
            unit: Some("s".into()),
            ..FieldConfig::default()
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Notice {
    pub severity: Severity,
    pub text: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Visualisation {
    Graph,
    Table,
}

/// Frame metadata, serialised as Grafana's `FrameMeta` JSON.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub executed_query_string: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_visualisation_type: Option<Visualisation>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<Notice>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Frame {
    pub name: String,
    pub fields: Vec<Field>,
    pub meta: Meta,
}

impl Frame {
    pub fn new(name: &str, fields: Vec<Field>) -> Frame {
        Frame {
            name: name.to_string(),
            fields,
            meta: Meta::default(),
        }
    }

    pub(crate) fn with_meta(mut self, meta: Meta) -> Frame {
        self.meta = meta;
        self
    }

    pub fn rows(&self) -> usize {
        self.fields.first().map_or(0, |f| f.values.len())
    }

    /// Encodes the frame as an Arrow IPC file, the bytes Grafana expects in
    /// `DataResponse.frames`.
    pub(crate) fn to_arrow(&self, ref_id: &str) -> Result<Vec<u8>, ArrowError> {
        let rows = self.rows();
        if let Some(bad) = self.fields.iter().find(|f| f.values.len() != rows) {
            return Err(ArrowError::InvalidArgumentError(format!(
                "frame {}: field {} has {} rows, expected {rows}",
                self.name,
                bad.name,
                bad.values.len()
            )));
        }
        let fields: Vec<ArrowField> = self.fields.iter().map(arrow_field).collect();
        let mut metadata = std::collections::HashMap::from([
            ("name".to_string(), self.name.clone()),
            ("refId".to_string(), ref_id.to_string()),
        ]);
        if self.meta != Meta::default() {
            metadata.insert("meta".to_string(), to_json(&self.meta));
        }
        let schema = Arc::new(Schema::new_with_metadata(fields, metadata));
        let columns: Vec<ArrayRef> = self.fields.iter().map(|f| to_array(&f.values)).collect();
        let batch = RecordBatch::try_new(schema.clone(), columns)?;
        let mut writer = FileWriter::try_new(Vec::new(), &schema)?;
        writer.write(&batch)?;
        writer.finish()?;
        writer.into_inner()
    }
}

fn arrow_field(f: &Field) -> ArrowField {
    let mut metadata = std::collections::HashMap::new();
    if !f.labels.is_empty() {
        metadata.insert("labels".to_string(), to_json(&f.labels));
    }
    if let Some(config) = &f.config {
        metadata.insert("config".to_string(), to_json(config));
    }
    ArrowField::new(&f.name, data_type(&f.values), nullable(&f.values)).with_metadata(metadata)
}

fn to_json<T: Serialize>(v: &T) -> String {
    // Serialising these plain structs and maps cannot fail.
    serde_json::to_string(v).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::Array;
    use arrow_ipc::reader::FileReader;

    #[test]
    fn labels_and_config_both_survive_on_one_field() {
        let labels = BTreeMap::from([("repo".to_string(), "org/app".to_string())]);
        let frame = Frame::new(
            "mttr",
            vec![
                Field::new("time", Values::Time(vec![60])),
                Field::seconds("p50_seconds", vec![None]).with_labels(labels),
            ],
        );
        let bytes = frame.to_arrow("A").unwrap();
        assert_eq!(&bytes[..6], b"ARROW1");
        let reader = FileReader::try_new(std::io::Cursor::new(bytes), None).unwrap();
        let schema = reader.schema();
        assert_eq!(schema.metadata()["name"], "mttr");
        assert_eq!(schema.metadata()["refId"], "A");
        let md = schema.field(1).metadata();
        assert_eq!(md["labels"], r#"{"repo":"org/app"}"#);
        assert_eq!(md["config"], r#"{"unit":"s"}"#);
        let batch = reader.into_iter().next().unwrap().unwrap();
        let time = batch
            .column(0)
            .as_any()
            .downcast_ref::<TimestampNanosecondArray>()
            .unwrap();
        assert_eq!(time.value(0), 60_000_000_000);
        assert!(batch.column(1).is_null(0));
    }

    #[test]
    fn ragged_frame_is_an_error_not_a_panic() {
        let frame = Frame::new(
            "bad",
            vec![
                Field::new("a", Values::I64(vec![1, 2])),
                Field::new("b", Values::I64(vec![1])),
            ],
        );
        let err = frame.to_arrow("A").unwrap_err().to_string();
        assert!(err.contains("field b"), "{err}");
    }
}
