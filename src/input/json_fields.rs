//! Typed, field-by-field reading of loosely shaped JSON (query models and
//! `jsonData`), so that every error names the field that is wrong.

use std::fmt;

use serde_json::{Map, Value};

/// An input error that names the offending field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.to_string(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` {}", self.field, self.message)
    }
}

impl std::error::Error for FieldError {}

/// The range a numeric field accepts. One constant per field is both what
/// its reader checks and what the editors are told (`tests/contract.rs`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bounds {
    pub key: &'static str,
    pub min: f64,
    pub max: f64,
    /// Whole numbers only.
    pub whole: bool,
}

/// A JSON object read field by field; `null` and missing fields are absent.
pub struct JsonObject<'a> {
    map: Option<&'a Map<String, Value>>,
}

impl<'a> JsonObject<'a> {
    /// `what` names the whole document in the error (e.g. `query`).
    pub fn new(value: &'a Value, what: &str) -> Result<JsonObject<'a>, FieldError> {
        match value {
            Value::Object(map) => Ok(JsonObject { map: Some(map) }),
            Value::Null => Ok(JsonObject { map: None }),
            other => Err(FieldError::new(
                what,
                format!("must be a JSON object, got {}", kind(other)),
            )),
        }
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map?.get(key).filter(|v| !v.is_null())
    }

    pub(crate) fn opt_str(&self, key: &str) -> Result<Option<&'a str>, FieldError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim())),
            Some(other) => Err(FieldError::new(
                key,
                format!("must be a string, got {}", kind(other)),
            )),
        }
    }

    /// A list of strings; a lone string counts as a one-element list.
    /// Blank entries are dropped and duplicates removed, order kept.
    pub fn strings(&self, key: &str) -> Result<Vec<String>, FieldError> {
        let items: Vec<&Value> = match self.get(key) {
            None => return Ok(Vec::new()),
            Some(Value::Array(items)) => items.iter().collect(),
            Some(v @ Value::String(_)) => vec![v],
            Some(other) => {
                return Err(FieldError::new(
                    key,
                    format!("must be a list of strings, got {}", kind(other)),
                ))
            }
        };
        let mut out: Vec<String> = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            let Value::String(s) = item else {
                return Err(FieldError::new(
                    key,
                    format!("item {i} must be a string, got {}", kind(item)),
                ));
            };
            let s = s.trim();
            if !s.is_empty() && !out.iter().any(|o| o == s) {
                out.push(s.to_string());
            }
        }
        Ok(out)
    }

    /// A list of repository names (`owner/name`), each checked so that none
    /// can leave its request path; the first bad one fails the field.
    pub(crate) fn repo_names(&self, key: &str) -> Result<Vec<String>, FieldError> {
        let names = self.strings(key)?;
        for n in &names {
            crate::domain::check_repo_name(n).map_err(|e| FieldError::new(key, e.to_string()))?;
        }
        Ok(names)
    }

    /// A number within `[min, max]`; numeric strings are accepted because
    /// Grafana's template interpolation produces strings.
    pub(crate) fn opt_number(
        &self,
        key: &str,
        min: f64,
        max: f64,
    ) -> Result<Option<f64>, FieldError> {
        let n = match self.get(key) {
            None => return Ok(None),
            Some(Value::Number(n)) => n.as_f64(),
            Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
            Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
            Some(other) => {
                return Err(FieldError::new(
                    key,
                    format!("must be a number, got {}", kind(other)),
                ))
            }
        };
        match n {
            Some(n) if n.is_finite() && (min..=max).contains(&n) => Ok(Some(n)),
            Some(n) if n.is_finite() => Err(FieldError::new(
                key,
                format!("must be between {min} and {max}, got {n}"),
            )),
            _ => Err(FieldError::new(key, "must be a finite number")),
        }
    }

    /// A number within `bounds` (whole where they say so).
    pub(crate) fn bounded(&self, bounds: &Bounds) -> Result<Option<f64>, FieldError> {
        if bounds.whole {
            let whole = self.opt_whole(bounds.key, bounds.min as u64, bounds.max as u64)?;
            Ok(whole.map(|n| n as f64))
        } else {
            self.opt_number(bounds.key, bounds.min, bounds.max)
        }
    }

    /// A whole number within `[min, max]`.
    pub(crate) fn opt_whole(
        &self,
        key: &str,
        min: u64,
        max: u64,
    ) -> Result<Option<u64>, FieldError> {
        match self.opt_number(key, min as f64, max as f64)? {
            None => Ok(None),
            Some(n) if n.fract() == 0.0 => Ok(Some(n as u64)),
            Some(n) => Err(FieldError::new(
                key,
                format!("must be a whole number, got {n}"),
            )),
        }
    }

    pub(crate) fn opt_bool(&self, key: &str) -> Result<Option<bool>, FieldError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s == "true" => Ok(Some(true)),
            Some(Value::String(s)) if s == "false" => Ok(Some(false)),
            Some(other) => Err(FieldError::new(
                key,
                format!("must be true or false, got {}", kind(other)),
            )),
        }
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_accept_a_lone_string_and_drop_blanks_and_duplicates() {
        let v = json!({"repos": ["a/b", " ", "a/b", "c/d"], "one": "x/y"});
        let o = JsonObject::new(&v, "query").unwrap();
        assert_eq!(o.strings("repos").unwrap(), ["a/b", "c/d"]);
        assert_eq!(o.strings("one").unwrap(), ["x/y"]);
        assert!(o.strings("missing").unwrap().is_empty());
    }

    #[test]
    fn errors_name_the_field() {
        let v = json!({"repos": [1], "windowDays": -1, "minSample": 2.5, "demo": "yes"});
        let o = JsonObject::new(&v, "query").unwrap();
        assert_eq!(
            o.strings("repos").unwrap_err().to_string(),
            "`repos` item 0 must be a string, got a number"
        );
        let e = o.opt_number("windowDays", 0.001, 365.0).unwrap_err();
        assert_eq!(e.field, "windowDays");
        assert_eq!(
            o.opt_whole("minSample", 1, 100).unwrap_err().field,
            "minSample"
        );
        assert_eq!(o.opt_bool("demo").unwrap_err().field, "demo");
        let not_object = json!([1]);
        assert_eq!(
            JsonObject::new(&not_object, "query")
                .err()
                .unwrap()
                .to_string(),
            "`query` must be a JSON object, got a list"
        );
    }

    #[test]
    fn numeric_strings_from_template_variables_are_numbers() {
        let v = json!({"windowDays": "14", "flakyMinutes": ""});
        let o = JsonObject::new(&v, "query").unwrap();
        assert_eq!(o.opt_number("windowDays", 0.0, 365.0).unwrap(), Some(14.0));
        assert_eq!(o.opt_number("flakyMinutes", 0.0, 60.0).unwrap(), None);
    }
}
