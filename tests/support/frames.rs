//! Decodes Grafana frames from Arrow IPC bytes with arrow-rs, and checks
//! that arrow2 (the SDK's independent Arrow implementation) reads the same.

use std::io::Cursor;

use arrow_array::{
    cast::AsArray,
    types::{Float64Type, Int64Type, TimestampNanosecondType},
    Array, RecordBatch,
};
use arrow_ipc::reader::FileReader;
use arrow_schema::DataType;
use grafana_plugin_sdk::arrow2::io::ipc::read as arrow2_read;
use serde_json::{json, Value};

pub struct Decoded {
    pub name: String,
    pub ref_id: String,
    pub meta: Option<Value>,
    pub batch: RecordBatch,
}

pub fn decode(bytes: &[u8]) -> Decoded {
    assert_eq!(
        &bytes[..6],
        b"ARROW1",
        "an Arrow IPC file, as Grafana reads"
    );
    let reader = FileReader::try_new(Cursor::new(bytes.to_vec()), None).expect("arrow-rs reads it");
    let schema = reader.schema();
    let batches: Vec<RecordBatch> = reader.map(|b| b.unwrap()).collect();
    let batch = arrow_select_concat(&schema, &batches);

    let mut cursor = Cursor::new(bytes.to_vec());
    let md = arrow2_read::read_file_metadata(&mut cursor).expect("arrow2 reads the footer");
    let a2_fields: Vec<_> = md.schema.fields.clone();
    let a2_schema_md = md.schema.metadata.clone();
    let rows: usize = arrow2_read::FileReader::new(cursor, md, None, None)
        .map(|c| c.expect("arrow2 reads the batch").len())
        .sum();
    assert_eq!(rows, batch.num_rows(), "arrow2 and arrow-rs agree on rows");
    assert_eq!(a2_fields.len(), schema.fields().len());
    for (a2, a) in a2_fields.iter().zip(schema.fields()) {
        assert_eq!(&a2.name, a.name());
        assert_eq!(a2.is_nullable, a.is_nullable());
        assert_eq!(
            a2.metadata
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<Vec<_>>(),
            {
                let mut m: Vec<_> = a
                    .metadata()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                m.sort();
                m
            },
            "field {} metadata",
            a.name()
        );
    }
    assert_eq!(a2_schema_md.get("name"), schema.metadata().get("name"));

    let md = schema.metadata();
    Decoded {
        name: md.get("name").cloned().expect("schema metadata `name`"),
        ref_id: md.get("refId").cloned().expect("schema metadata `refId`"),
        meta: md
            .get("meta")
            .map(|m| serde_json::from_str(m).expect("meta is JSON")),
        batch,
    }
}

fn arrow_select_concat(
    schema: &std::sync::Arc<arrow_schema::Schema>,
    batches: &[RecordBatch],
) -> RecordBatch {
    match batches {
        [one] => one.clone(),
        [] => RecordBatch::new_empty(schema.clone()),
        _ => panic!("expected one record batch per frame, got {}", batches.len()),
    }
}

impl Decoded {
    fn column(&self, name: &str) -> &dyn Array {
        let idx = self
            .batch
            .schema()
            .index_of(name)
            .unwrap_or_else(|_| panic!("frame {} has no field {name}", self.name));
        self.batch.column(idx).as_ref()
    }

    pub fn field_names(&self) -> Vec<String> {
        self.batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }

    pub fn rows(&self) -> usize {
        self.batch.num_rows()
    }

    /// A field's metadata entry (`labels` or `config`) parsed as JSON.
    pub fn field_meta(&self, name: &str, key: &str) -> Option<Value> {
        let schema = self.batch.schema();
        let field = schema.field_with_name(name).unwrap();
        field
            .metadata()
            .get(key)
            .map(|v| serde_json::from_str(v).expect("field metadata is JSON"))
    }

    pub fn data_type(&self, name: &str) -> DataType {
        self.column(name).data_type().clone()
    }

    pub fn strings(&self, name: &str) -> Vec<Option<String>> {
        let a = self.column(name).as_string::<i32>();
        (0..a.len())
            .map(|i| a.is_valid(i).then(|| a.value(i).to_string()))
            .collect()
    }

    pub fn f64s(&self, name: &str) -> Vec<Option<f64>> {
        let a = self.column(name).as_primitive::<Float64Type>();
        (0..a.len())
            .map(|i| a.is_valid(i).then(|| a.value(i)))
            .collect()
    }

    pub fn i64s(&self, name: &str) -> Vec<Option<i64>> {
        let a = self.column(name).as_primitive::<Int64Type>();
        (0..a.len())
            .map(|i| a.is_valid(i).then(|| a.value(i)))
            .collect()
    }

    /// Times in Unix seconds (the wire carries nanoseconds).
    pub fn times(&self, name: &str) -> Vec<Option<i64>> {
        let a = self.column(name).as_primitive::<TimestampNanosecondType>();
        (0..a.len())
            .map(|i| {
                a.is_valid(i).then(|| {
                    assert_eq!(a.value(i) % 1_000_000_000, 0, "whole seconds in ns");
                    a.value(i) / 1_000_000_000
                })
            })
            .collect()
    }

    pub fn bools(&self, name: &str) -> Vec<Option<bool>> {
        let a = self.column(name).as_boolean();
        (0..a.len())
            .map(|i| a.is_valid(i).then(|| a.value(i)))
            .collect()
    }

    /// The whole frame as JSON, for golden files.
    pub fn to_json(&self) -> Value {
        let schema = self.batch.schema();
        let fields: Vec<Value> = schema
            .fields()
            .iter()
            .map(|f| {
                let name = f.name();
                let values: Vec<Value> = match f.data_type() {
                    DataType::Utf8 => self.strings(name).into_iter().map(|v| json!(v)).collect(),
                    DataType::Float64 => self.f64s(name).into_iter().map(|v| json!(v)).collect(),
                    DataType::Int64 => self.i64s(name).into_iter().map(|v| json!(v)).collect(),
                    DataType::Boolean => self.bools(name).into_iter().map(|v| json!(v)).collect(),
                    DataType::Timestamp(_, _) => {
                        self.times(name).into_iter().map(|v| json!(v)).collect()
                    }
                    other => panic!("unexpected type {other:?}"),
                };
                json!({
                    "name": name,
                    "type": format!("{:?}", f.data_type()),
                    "nullable": f.is_nullable(),
                    "labels": self.field_meta(name, "labels"),
                    "config": self.field_meta(name, "config"),
                    "values": values,
                })
            })
            .collect();
        json!({"name": self.name, "refId": self.ref_id, "meta": self.meta, "fields": fields})
    }
}
